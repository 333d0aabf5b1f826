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


def test_a_region_variable_of_another_partition_is_a_mismatch():
    """A region copied from a commercial cluster sends the SDK to that partition's STS
    (https://github.com/aws/aws-sdk-go-v2/blob/main/config/env_config.go regionEnvKeys)."""
    from tests.builders import k8s_objects as k8s
    from tests.checks.helpers import add_pod, add_sa, demo_docs, env, irsa_pod, one, results

    docs = demo_docs("china")
    add_sa(docs, "shop", "billing", "arn:aws-cn:iam::111122223333:role/irsa-billing")
    c = k8s.container(
        "app", env=[env("AWS_REGION", "us-west-2"), env("AWS_DEFAULT_REGION", "us-west-2")]
    )
    add_pod(
        docs,
        irsa_pod(
            "shop",
            "billing-5d4c3b2a1-q1w2e",
            "billing",
            "arn:aws-cn:iam::111122223333:role/irsa-billing",
            containers=[c],
            inject_region=False,
        ),
    )
    row = one(results(docs, "partition_consistent", namespace="shop", service_account="billing"))
    assert row.status == "FAIL" and "sts.us-west-2.amazonaws.com (partition aws)" in row.detail
