"""partition_consistent: role and provider ARNs are in the cluster's partition (`aws`, `aws-cn`,
`aws-us-gov`)."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, one, results, role_arn


def test_partition_mismatch_fails_naming_the_arns():
    row = one(results(demo_docs(), "partition_consistent"), service_account="mirror")
    assert row.status == "FAIL"
    assert (
        "partition aws" in row.detail
        and "arn:aws-cn:iam::111122223333:role/irsa-mirror" in row.detail
    )
    assert "arn:aws:iam::111122223333:role/ROLE_NAME" in row.remediation


def test_partition_passes_in_china_with_aws_cn_arns():
    df = results(demo_docs("china"), "partition_consistent")
    assert set(df.status) == {"PASS"}
    assert "aws-cn" in df.iloc[0].detail


def test_trust_policy_federated_principal_of_another_partition_fails():
    docs = demo_docs()
    trust = docs["aws/iam/get-role/irsa-checkout.json"]["Role"]["AssumeRolePolicyDocument"]
    stmt = trust["Statement"][0]
    stmt["Principal"]["Federated"] = stmt["Principal"]["Federated"].replace(
        "arn:aws:", "arn:aws-us-gov:"
    )
    row = one(results(docs, "partition_consistent"), service_account="checkout")
    assert row.status == "FAIL" and "Federated principal arn:aws-us-gov:iam" in row.detail


def test_partition_skips_malformed_and_missing_annotations():
    df = results(demo_docs(), "partition_consistent", namespace="shop")
    assert one(df, service_account="inventory").status == "SKIP"  # malformed ARN
    assert one(df, service_account="reports").status == "SKIP"  # no annotation
    assert role_arn("x", "aws-cn").startswith("arn:aws-cn:")
