"""provider_audience_matches: the provider's ClientIDList contains the token audience."""

from __future__ import annotations

import pytest

from irsa_nb.bundle import provider_path
from tests.checks.helpers import (
    PROVIDER,
    demo_docs,
    no_role_annotation,
    no_service_account,
    only,
    outcome,
    results,
)


def test_audience_pass_and_typo_fail(demo):
    assert only(demo, "provider_audience_matches", service_account="checkout").status == "PASS"
    row = only(demo, "provider_audience_matches", service_account="analytics")
    assert row.status == "FAIL"
    assert "sts.amazon.com" in row.detail
    assert "add-client-id-to-open-id-connect-provider" in row.remediation


def test_audience_provider_details_not_collected_is_skip():
    docs = demo_docs()
    del docs[provider_path(PROVIDER)]
    row = only(
        results(docs, namespace="shop", service_account="checkout"), "provider_audience_matches"
    )
    assert row.status == "SKIP"
    assert f"--open-id-connect-provider-arn {PROVIDER}" in row.remediation


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "pass",
        "Provider "
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C "  # noqa: E501
        "accepts audience sts.amazonaws.com (ClientIDList: sts.amazonaws.com).",
        {"audiences": ["sts.amazonaws.com"], "client_id_list": ["sts.amazonaws.com"]},
    ),
    (
        {"namespace": "shop", "service_account": "analytics"},
        "FAIL",
        "mismatch",
        "Provider "
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C "  # noqa: E501
        "does not accept audience sts.amazon.com (ClientIDList: sts.amazonaws.com).",
        {"audiences": ["sts.amazon.com"], "client_id_list": ["sts.amazonaws.com"]},
    ),
    no_service_account("shop", "order"),
    no_role_annotation("shop", "reports"),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "provider_audience_matches", **where), status, key, detail, ev)
