"""sts_endpoint_config: the pod calls an STS endpoint that works where it runs (regional vs global;
private clusters, opt-in regions, partitions; SDK defaults with `--sdk`)."""

from __future__ import annotations

import pytest

from irsa_nb.checks.sts import OPT_IN_REGIONS, parse_go_bool, sdk_sts_default
from tests.builders import k8s_objects as k8s
from tests.checks.helpers import add_pod, add_sa, demo_docs, env, evidence, irsa_pod, one, results


def _private(docs):
    docs["aws/eks/describe-cluster.json"]["cluster"]["resourcesVpcConfig"][
        "endpointPublicAccess"
    ] = False
    return docs


def _pod(docs, name="billing", sts=True, region=True, extra_env=(), sa_annotations=None):
    add_sa(docs, "shop", name, f"irsa-{name}", sa_annotations)
    c = k8s.container("app", env=list(extra_env))
    add_pod(
        docs,
        irsa_pod(
            "shop",
            f"{name}-5d4c3b2a1-q1w2e",
            name,
            f"irsa-{name}",
            containers=[c],
            sts_regional_endpoints=sts,
            inject_region=region,
        ),
    )
    return docs


def _row(docs, name="billing", **kw):
    return one(results(docs, "sts_endpoint_config", namespace="shop", service_account=name, **kw))


def test_regional_endpoint_passes_for_the_demo():
    df = results(demo_docs(), "sts_endpoint_config")
    row = one(df, pod="checkout-7d4b9c6f5-k2x9p")
    assert row.status == "PASS" and "sts.us-west-2.amazonaws.com" in row.detail
    assert one(df, pod="notifications-9f8e7d6c5-a1b2c").status == "SKIP"


def test_no_region_in_a_private_cluster_fails():
    row = _row(_pod(_private(demo_docs()), region=False))
    assert row.status == "FAIL"
    assert "sts.amazonaws.com" in row.detail and "private" in row.detail
    assert "com.amazonaws.us-west-2.sts" in row.remediation


def test_no_region_in_an_opt_in_region_fails():
    df = results(demo_docs("opt-in"), "sts_endpoint_config")
    row = one(df, service_account="transcoder")
    assert row.status == "FAIL" and "opt-in region af-south-1" in row.detail
    assert one(df, service_account="thumbnailer").status == "PASS"
    assert {
        "af-south-1",
        "ap-east-1",
        "me-south-1",
        "eu-south-1",
        "ap-southeast-3",
    } <= OPT_IN_REGIONS


def test_legacy_mode_in_a_legacy_region_of_a_private_cluster_fails():
    docs = _pod(
        _private(demo_docs()), sts=False, extra_env=[env("AWS_STS_REGIONAL_ENDPOINTS", "legacy")]
    )
    row = _row(docs)
    assert row.status == "FAIL" and "legacy" in row.detail
    assert "eks.amazonaws.com/sts-regional-endpoints=true" in row.remediation


def test_legacy_mode_in_a_public_cluster_is_info():
    docs = _pod(demo_docs(), sts=False, extra_env=[env("AWS_STS_REGIONAL_ENDPOINTS", "legacy")])
    assert _row(docs).status == "INFO"


def test_sdk_default_decides_when_the_variable_is_absent_in_a_private_cluster():
    docs = _pod(_private(demo_docs()), sts=False)
    assert _row(docs).status == "WARN"  # SDK unknown
    assert _row(docs, sdk={"boto3": "1.39.9"}).status == "FAIL"  # legacy default
    assert _row(docs, sdk={"boto3": "1.40.0"}).status == "PASS"  # regional default
    assert _row(docs, sdk={"go2": "1.30.0"}).status == "PASS"
    assert _row(docs, sdk={"js": "2.1500.0"}).status == "FAIL"


def test_public_cluster_without_the_variable_passes_on_the_sdk_default():
    row = _row(_pod(demo_docs(), sts=False))
    assert row.status == "PASS" and "SDK default" in row.detail


def test_invalid_variable_value_fails():
    docs = _pod(demo_docs(), sts=False, extra_env=[env("AWS_STS_REGIONAL_ENDPOINTS", "Regional ")])
    assert _row(docs).status == "FAIL"


def test_unparsable_annotation_and_annotation_added_after_pod_creation_warn():
    docs = _pod(demo_docs(), sa_annotations={"eks.amazonaws.com/sts-regional-endpoints": "yes"})
    row = _row(docs)
    assert row.status == "WARN" and "'yes'" in row.detail
    docs = _pod(
        demo_docs(), sts=False, sa_annotations={"eks.amazonaws.com/sts-regional-endpoints": "true"}
    )
    row = _row(docs)
    assert row.status == "WARN" and "created before the annotation" in row.detail
    assert evidence(row)["annotation"] == "true"


def test_cluster_description_missing_skips_naming_the_command():
    docs = demo_docs()
    del docs["aws/eks/describe-cluster.json"]
    df = results(docs, "sts_endpoint_config")
    assert set(df.status) == {"SKIP"}
    assert "aws eks describe-cluster" in df.iloc[0].remediation


@pytest.mark.parametrize(
    ("sdk", "version", "mode"),
    [
        ("boto3", "1.39.17", "legacy"),
        ("botocore", "1.40.0", "regional"),
        ("awscli", "2.15.0", "regional"),
        ("awscli", "1.41.9", "legacy"),
        ("go", "1.55.0", "legacy"),
        ("go2", "1.0.0", "regional"),
        ("java", "1.12.782", "legacy"),
        ("java2", "2.20.0", "regional"),
        ("node", "2.1500.0", "legacy"),
        ("node", "3.600.0", "regional"),
        ("dotnet", "3.7.0", "legacy"),
        ("dotnet", "4.0.0", "regional"),
        ("cpp", "1.11.0", None),
    ],
)
def test_sdk_sts_defaults(sdk, version, mode):
    assert sdk_sts_default(sdk, version) == mode


def test_go_parse_bool_semantics():
    assert parse_go_bool("t") is True and parse_go_bool("FALSE") is False
    assert parse_go_bool("yes") is None and parse_go_bool(" true") is None


def _china(*variables, sdk=None):
    """A China pod whose webhook injects no region (botocore reads AWS_DEFAULT_REGION only,
    https://github.com/boto/botocore/blob/1.40.0/botocore/configprovider.py#L56)."""
    docs = demo_docs("china")
    add_sa(docs, "shop", "billing", "irsa-billing")
    c = k8s.container("app", env=[env(n, v) for n, v in variables])
    add_pod(
        docs,
        irsa_pod(
            "shop",
            "billing-5d4c3b2a1-q1w2e",
            "billing",
            "irsa-billing",
            containers=[c],
            inject_region=False,
        ),
    )
    return _row(docs, sdk=sdk) if sdk else _row(docs)


def test_aws_region_alone_is_judged_per_sdk_like_china_region_env():
    """The two checks agree: AWS_REGION alone fails botocore, not Go v2
    (https://github.com/aws/aws-sdk-go-v2/blob/main/config/env_config.go regionEnvKeys)."""
    row = _china(("AWS_REGION", "cn-north-1"))
    assert row.status == "WARN" and "boto3" in row.detail and "AWS_REGION" in row.detail
    assert "sts.cn-north-1.amazonaws.com.cn" in row.detail
    boto = _china(("AWS_REGION", "cn-north-1"), sdk={"boto3": "1.40.0"})
    assert boto.status == "FAIL" and "sts.amazonaws.com" in boto.detail
    go2 = _china(("AWS_REGION", "cn-north-1"), sdk={"go2": "1.30.0"})
    assert go2.status == "PASS" and "sts.cn-north-1.amazonaws.com.cn" in go2.detail


def test_an_sdk_that_requires_a_region_fails_without_one():
    """aws-sdk-go-v2 aws/errors.go MissingRegionError: "an AWS region is required"."""
    row = _china(sdk={"go2": "1.30.0"})
    assert row.status == "FAIL" and "Go SDK v2" in row.detail and "required" in row.detail


def test_the_detail_names_the_containers_own_region_not_the_clusters():
    docs = _pod(
        demo_docs(),
        region=False,
        extra_env=[env("AWS_REGION", "eu-west-1"), env("AWS_DEFAULT_REGION", "eu-west-1")],
    )
    row = _row(docs)
    assert row.status == "PASS" and "sts.eu-west-1.amazonaws.com" in row.detail
    assert "us-west-2" not in row.detail
