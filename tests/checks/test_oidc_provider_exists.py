"""oidc_provider_exists: an IAM OIDC provider exists for the cluster's issuer."""

from __future__ import annotations

from irsa_nb.bundle import CallFailed
from tests.checks.helpers import ISSUER, PROVIDER, demo_docs, only, outcome, results, zh_outcome


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


def test_a_cluster_without_an_oidc_issuer_fails_and_the_issuer_checks_skip():
    # Without identity.oidc.issuer (DescribeCluster's Identity.Oidc.Issuer, EKS API
    # reference) there is nothing an IAM OIDC provider could be created for: IRSA cannot work.
    docs = demo_docs()
    del docs["aws/eks/describe-cluster.json"]["cluster"]["identity"]
    df = results(docs)
    row = outcome(
        only(df, "oidc_provider_exists"),
        "FAIL",
        "no_issuer",
        "Cluster shop-prod reports no OIDC issuer (identity.oidc.issuer is empty).",
        {},
    )
    assert row.remediation == (
        "Check the cluster with:\n  aws eks describe-cluster --name shop-prod --region "
        "us-west-2 --query cluster.identity.oidc.issuer"
    )
    zh = zh_outcome(docs, "oidc_provider_exists", "no_issuer")
    assert zh.detail == "集群 shop-prod 未报告 OIDC 颁发者(identity.oidc.issuer 为空)。"
    outcome(only(df, "provider_thumbprint_matches"), "SKIP", "no_provider")
    outcome(only(df, "issuer_discovery_reachable"), "SKIP", "no_issuer")
    row = only(df, "trust_policy_allows_service_account", service_account="checkout")
    assert (row.status, row.detail) == (
        "SKIP",
        "The cluster has no OIDC issuer, so no trust policy can match.",
    )


def test_the_pass_and_missing_outcomes_whole(demo):
    issuer = f"https://{ISSUER}"
    outcome(
        only(demo, "oidc_provider_exists"),
        "PASS",
        "pass",
        f"IAM OIDC provider {PROVIDER} exists for issuer {issuer}.",
        {
            "issuer": issuer,
            "providers": [
                PROVIDER,
                "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
            ],
        },
    )
    other = "https://oidc.eks.eu-west-1.amazonaws.com/id/A1B2C3D4E5F60718293A4B5C6D7E8F90"
    outcome(
        only(results(demo_docs("no-oidc")), "oidc_provider_exists"),
        "FAIL",
        "missing",
        f"No IAM OIDC provider in account 111122223333 matches issuer {other}.",
        {"issuer": other, "providers": []},
    )
