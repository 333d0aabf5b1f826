"""provider_audience_matches: the provider's ClientIDList contains the token audience."""

from __future__ import annotations

from irsa_nb.bundle import provider_path
from tests.checks.helpers import PROVIDER, demo_docs, only, results


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
