"""partition_consistent: role and provider ARNs are in the cluster's partition (`aws`, `aws-cn`,
`aws-us-gov`)."""

from __future__ import annotations

import pytest

from tests.checks.helpers import (
    demo_docs,
    no_role_annotation,
    no_service_account,
    one,
    only,
    outcome,
    pod_doc,
    results,
    role_arn,
)


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


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "PASS",
        "pass",
        "All 3 ARNs for kube-system/aws-node are in partition aws.",
        {
            "arns": [
                {
                    "arn": "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role",
                    "partition": "aws",
                    "what": "the role annotation",
                },
                {
                    "arn": "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role",
                    "partition": "aws",
                    "what": "AWS_ROLE_ARN of pod aws-node-8xk2q",
                },
                {
                    "arn": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C",  # noqa: E501
                    "partition": "aws",
                    "what": "the trust policy's Federated principal",
                },
            ],
            "cluster_partition": "aws",
        },
    ),
    (
        {"namespace": "shop", "service_account": "inventory"},
        "SKIP",
        "_invalid_role_arn",
        "The role annotation 'arn:aws:iam:::111122223333:role/irsa-inventory' is not a valid IAM "
        "role ARN, so the role cannot be looked up (see service_account_role_annotation).",
        {"arns": [], "cluster_partition": "aws"},
    ),
    (
        {"namespace": "shop", "service_account": "mirror"},
        "FAIL",
        "mismatch",
        "Cluster shop-prod is in partition aws, but the role annotation "
        "arn:aws-cn:iam::111122223333:role/irsa-mirror (partition aws-cn); AWS_ROLE_ARN of pod "
        "mirror-9e8d7c6b5-b4n5m arn:aws-cn:iam::111122223333:role/irsa-mirror (partition aws-cn).",
        {
            "arns": [
                {
                    "arn": "arn:aws-cn:iam::111122223333:role/irsa-mirror",
                    "partition": "aws-cn",
                    "what": "the role annotation",
                },
                {
                    "arn": "arn:aws-cn:iam::111122223333:role/irsa-mirror",
                    "partition": "aws-cn",
                    "what": "AWS_ROLE_ARN of pod mirror-9e8d7c6b5-b4n5m",
                },
            ],
            "cluster_partition": "aws",
        },
    ),
    no_service_account("shop", "order"),
    no_role_annotation("shop", "reports"),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "partition_consistent", **where), status, key, detail, ev)


def test_a_malformed_annotation_does_not_hide_a_pod_arn_of_another_partition():
    """The annotation is checked first; a malformed one is skipped (service_account_role_annotation
    reports it), and the pod's AWS_ROLE_ARN after it is still judged."""
    docs = demo_docs()
    for sa in docs["k8s/serviceaccounts.json"]["items"]:
        if sa["metadata"]["namespace"] == "shop" and sa["metadata"]["name"] == "checkout":
            sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = "arn:aws:iam::role/x"
    cn = "arn:aws-cn:iam::111122223333:role/irsa-checkout"
    pod = pod_doc(docs, "checkout-")
    for c in pod["spec"]["containers"]:
        for e in c.get("env", []):
            if e["name"] == "AWS_ROLE_ARN":
                e["value"] = cn
    df = results(docs, "partition_consistent", namespace="shop", service_account="checkout")
    outcome(
        one(df),
        "FAIL",
        "mismatch",
        f"Cluster shop-prod is in partition aws, but AWS_ROLE_ARN of pod "
        f"{pod['metadata']['name']} {cn} (partition aws-cn).",
    )
