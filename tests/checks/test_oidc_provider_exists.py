"""oidc_provider_exists: an IAM OIDC provider exists for the cluster's issuer."""

from __future__ import annotations

from irsa_nb.bundle import CallFailed
from tests.checks.helpers import PROVIDER, demo_docs, only, results


def test_oidc_provider_exists_passes_naming_the_provider(demo):
    row = only(demo, "oidc_provider_exists")
    assert row.status == "PASS"
    assert PROVIDER in row.detail


def test_oidc_provider_missing_fails_with_create_command():
    df = results(demo_docs("no-oidc"))
    row = only(df, "oidc_provider_exists")
    assert row.status == "FAIL"
    assert "A1B2C3D4E5F60718293A4B5C6D7E8F90" in row.detail
    assert "eksctl utils associate-iam-oidc-provider --cluster billing-staging" in row.remediation


def test_oidc_provider_for_an_old_issuer_suggests_recreated_cluster():
    docs = demo_docs()
    stale = PROVIDER.replace("5C6D1A7E", "00000000")
    docs["aws/iam/list-open-id-connect-providers.json"]["OpenIDConnectProviderList"] = [
        {"Arn": stale}
    ]
    row = only(results(docs), "oidc_provider_exists")
    assert row.status == "FAIL"
    assert "recreated" in row.detail and stale in row.detail


def test_oidc_provider_list_not_collected_is_skip_naming_the_command():
    docs = demo_docs()
    del docs["aws/iam/list-open-id-connect-providers.json"]
    row = only(results(docs), "oidc_provider_exists")
    assert row.status == "SKIP"
    assert "aws iam list-open-id-connect-providers" in row.remediation


def test_oidc_provider_list_access_denied_is_error():
    docs = demo_docs()
    docs["aws/iam/list-open-id-connect-providers.json"] = CallFailed(
        "An error occurred (AccessDenied) when calling the ListOpenIDConnectProviders operation: "
        "User: arn:aws:iam::111122223333:user/support is not authorized"
    )
    row = only(results(docs), "oidc_provider_exists")
    assert row.status == "ERROR"
    assert "AccessDenied" in row.detail
