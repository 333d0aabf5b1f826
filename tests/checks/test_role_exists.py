"""role_exists: the annotated role exists (NoSuchEntity → FAIL)."""

from __future__ import annotations

import pytest

from irsa_nb.bundle import CallFailed, role_path
from tests.checks.helpers import (
    demo_docs,
    no_role_annotation,
    no_service_account,
    only,
    outcome,
    results,
    sa_doc,
)


def test_role_exists_pass_and_nosuchentity_fail(demo):
    assert only(demo, "role_exists", service_account="checkout").status == "PASS"
    row = only(demo, "role_exists", service_account="payments")
    assert row.status == "FAIL"
    assert "irsa-payments" in row.detail and "aws iam create-role" in row.remediation


def test_role_access_denied_is_error_not_fail():
    docs = demo_docs()
    docs[role_path("get-role", "irsa-checkout")] = CallFailed(
        "An error occurred (AccessDenied) when calling the GetRole operation: denied"
    )
    df = results(docs, namespace="shop", service_account="checkout")
    assert only(df, "role_exists").status == "ERROR"
    assert only(df, "trust_policy_allows_service_account").status == "SKIP"


def test_role_not_collected_is_skip_with_get_role_command():
    docs = demo_docs()
    del docs[role_path("get-role", "irsa-checkout")]
    row = only(results(docs, namespace="shop", service_account="checkout"), "role_exists")
    assert row.status == "SKIP"
    assert "aws iam get-role --role-name irsa-checkout" in row.remediation


def test_role_from_another_account_is_reported_not_confused():
    docs = demo_docs()
    sa_doc(docs, "shop", "checkout")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = (
        "arn:aws:iam::444455556666:role/irsa-checkout"
    )
    row = only(results(docs, namespace="shop", service_account="checkout"), "role_exists")
    assert row.status == "ERROR"
    assert "444455556666" in row.detail


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "pass",
        "IAM role AmazonEKS_CNI_Role exists.",
        {"arn": "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role"},
    ),
    (
        {"namespace": "shop", "service_account": "inventory"},
        "SKIP",
        "_invalid_role_arn",
        "The role annotation 'arn:aws:iam:::111122223333:role/irsa-inventory' is not a valid IAM "
        "role ARN, so the role cannot be looked up (see service_account_role_annotation).",
        {},
    ),
    (
        {"namespace": "shop", "service_account": "mirror"},
        "FAIL",
        "missing",
        "IAM role irsa-mirror named by shop/mirror does not exist (NoSuchEntity).",
        {
            "error": (
                "An error occurred (NoSuchEntity) when calling the GetRole operation: The role "
                "with name irsa-mirror cannot be found."
            )
        },
    ),
    no_service_account("shop", "order"),
    no_role_annotation("shop", "reports"),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "role_exists", **where), status, key, detail, ev)
