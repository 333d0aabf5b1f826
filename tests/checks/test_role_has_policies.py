"""role_has_policies: the role has attached or inline policies."""

from __future__ import annotations

from irsa_nb.bundle import CallFailed, role_path
from tests.checks.helpers import demo_docs, only, results


def test_role_has_policies_lists_attached_and_inline(demo):
    row = only(demo, "role_has_policies", service_account="checkout")
    assert row.status == "PASS"
    assert "AmazonSQSFullAccess" in row.detail and "checkout-dynamodb" in row.detail
    row = only(demo, "role_has_policies", service_account="search")
    assert row.status == "FAIL"
    assert "attach-role-policy --role-name irsa-search" in row.remediation


def test_role_policy_lists_unreadable_is_error():
    docs = demo_docs()
    denied = CallFailed("An error occurred (AccessDenied) when calling the ListRolePolicies")
    docs[role_path("list-attached-role-policies", "irsa-search")] = denied
    docs[role_path("list-role-policies", "irsa-search")] = denied
    row = only(results(docs, namespace="shop", service_account="search"), "role_has_policies")
    assert row.status == "ERROR"
