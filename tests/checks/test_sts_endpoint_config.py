"""sts_endpoint_config: the pod calls an STS endpoint that works where it runs (regional vs global;
private clusters, opt-in regions, partitions; SDK defaults with `--sdk`)."""

from __future__ import annotations

import pytest

from irsa_nb.checks.sts import OPT_IN_REGIONS, parse_go_bool, sdk_sts_default
from tests.builders import k8s_objects as k8s
from tests.checks.helpers import (
    add_pod,
    add_sa,
    demo_docs,
    env,
    evidence,
    irsa_pod,
    one,
    outcome,
    results,
    zh_outcome,
)


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
        # each remaining branch of sdk_sts_default, and the boundaries of the version rules
        ("ruby", "3.0.0", "regional"),
        ("php", "3.300.0", "legacy"),
        ("awscli", "1.42.0", "regional"),
        ("boto3", "1.40.0", "regional"),
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


# --------------------------------------------------------------------------- whole outcomes
POD = "shop/billing-5d4c3b2a1-q1w2e"
GLOBAL, REGIONAL = "sts.amazonaws.com", "sts.us-west-2.amazonaws.com"
# The SDK families of irsa_nb.sdk_endpoints, as the details list them.
NO_REGION_GLOBAL = "boto3 <1.40, boto3 1.40+, AWS CLI v2, Go SDK v1, JavaScript SDK v2"
LEGACY_DEFAULT = "boto3 <1.40, Go SDK v1, Java SDK v1, JavaScript SDK v2, .NET SDK v3, PHP SDK"
EVERY_SDK = (
    "boto3 <1.40, boto3 1.40+, AWS CLI v2, Go SDK v1, Java SDK v1, Java SDK v2, "
    "JavaScript SDK v2, .NET SDK v3, .NET SDK v4, Ruby SDK, PHP SDK"
)


def _ev(sts, endpoint, mode, region="us-west-2", annotation=None, private=False):
    app = {"AWS_STS_REGIONAL_ENDPOINTS": sts, "region_env": region}
    if endpoint is not None:
        app |= {"endpoint": endpoint, "mode": mode}
    return {"annotation": annotation, "cluster_private": private, "containers": {"app": app}}


_LEGACY = [env("AWS_STS_REGIONAL_ENDPOINTS", "legacy")]
_ANNOTATED = {"eks.amazonaws.com/sts-regional-endpoints": "true"}


@pytest.mark.parametrize(
    ("build", "kw", "status", "key", "detail", "ev"),
    [
        (
            lambda: _pod(demo_docs()),
            {},
            "PASS",
            "pass",
            f"Containers of {POD} call the regional endpoint {REGIONAL}.",
            _ev("regional", REGIONAL, "regional"),
        ),
        (
            lambda: _pod(_private(demo_docs()), region=False),
            {},
            "FAIL",
            "no_region_private",
            f"Containers app of {POD} set no region variable that {NO_REGION_GLOBAL} read, so they "
            f"call the global endpoint {GLOBAL}, which a private cluster cannot reach through an "
            "STS VPC endpoint (i/o timeout).",
            _ev("regional", GLOBAL, "regional", region=None, private=True),
        ),
        (
            lambda: _pod(demo_docs(), region=False),
            {},
            "INFO",
            "no_region",
            f"Containers app of {POD} set no region variable that {NO_REGION_GLOBAL} read, so they "
            f"call the global endpoint {GLOBAL}; it works from this public cluster, but AWS "
            "recommends the regional endpoint.",
            _ev("regional", GLOBAL, "regional", region=None),
        ),
        (
            lambda: _pod(_private(demo_docs()), sts=False, extra_env=_LEGACY),
            {},
            "FAIL",
            "legacy_private",
            f"Containers app of {POD} make {EVERY_SDK} use legacy STS endpoints (mode legacy) in "
            f"us-west-2, which means the global endpoint {GLOBAL}; this private cluster cannot "
            "reach it through an STS VPC endpoint.",
            _ev("legacy", GLOBAL, "legacy", private=True),
        ),
        (
            lambda: _pod(_private(demo_docs()), sts=False),
            {"sdk": {"boto3": "1.39.9"}},
            "FAIL",
            "legacy_private",
            f"Containers app of {POD} make boto3 1.39.9 use legacy STS endpoints (mode legacy) in "
            f"us-west-2, which means the global endpoint {GLOBAL}; this private cluster cannot "
            "reach it through an STS VPC endpoint.",
            _ev(None, GLOBAL, "legacy", private=True),
        ),
        (
            lambda: _pod(demo_docs(), sts=False, extra_env=_LEGACY),
            {},
            "INFO",
            "legacy_public",
            f"Containers app of {POD} make {EVERY_SDK} use legacy STS endpoints (mode legacy), "
            f"i.e. the global endpoint {GLOBAL}; it works from this public cluster, but AWS "
            "recommends the regional endpoint.",
            _ev("legacy", GLOBAL, "legacy"),
        ),
        (
            lambda: _pod(_private(demo_docs()), sts=False),
            {},
            "WARN",
            "unknown_private",
            f"Containers app of {POD} do not set AWS_STS_REGIONAL_ENDPOINTS in private cluster "
            f"shop-prod: SDKs that default to legacy ({LEGACY_DEFAULT}) call the global endpoint "
            f"{GLOBAL}, which is unreachable here; the others call {REGIONAL}.",
            _ev(None, "SDK default", "unknown", private=True),
        ),
        (
            lambda: _pod(demo_docs(), sts=False),
            {},
            "PASS",
            "pass_default",
            f"Containers app of {POD} do not set AWS_STS_REGIONAL_ENDPOINTS; the SDK default "
            f"decides ({LEGACY_DEFAULT} call {GLOBAL}, the others {REGIONAL}), and both endpoints "
            "are reachable from this public cluster.",
            _ev(None, "SDK default", "unknown"),
        ),
        (
            lambda: _pod(
                demo_docs(), sts=False, extra_env=[env("AWS_STS_REGIONAL_ENDPOINTS", "Regional ")]
            ),
            {},
            "FAIL",
            "invalid_env",
            f"Containers app of {POD} set AWS_STS_REGIONAL_ENDPOINTS to a value other than "
            "regional or legacy; boto3 refuses it (InvalidSTSRegionalEndpointsConfigError).",
            _ev("Regional ", REGIONAL, "Regional "),
        ),
        (
            lambda: _pod(
                demo_docs(), sa_annotations={"eks.amazonaws.com/sts-regional-endpoints": "yes"}
            ),
            {},
            "WARN",
            "annotation_invalid",
            "Service account shop/billing has eks.amazonaws.com/sts-regional-endpoints='yes', "
            "which the webhook cannot parse as a boolean and ignores.",
            _ev("regional", REGIONAL, "regional", annotation="yes"),
        ),
        (
            lambda: _pod(demo_docs(), sts=False, sa_annotations=_ANNOTATED),
            {},
            "WARN",
            "annotation_not_applied",
            "Service account shop/billing is annotated eks.amazonaws.com/sts-regional-endpoints="
            f"true, but containers app of {POD} lack AWS_STS_REGIONAL_ENDPOINTS: the pod was "
            "created before the annotation.",
            _ev(None, "SDK default", "unknown", annotation="true"),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and v.islower() and " " not in v else None,
)
def test_each_outcome_whole(build, kw, status, key, detail, ev):
    outcome(_row(build(), **kw), status, key, detail, ev)


def test_an_outcome_in_chinese():
    docs = _pod(_private(demo_docs()), region=False)
    zh_outcome(docs, "sts_endpoint_config", "no_region_private", service_account="billing")


def test_the_regional_endpoint_of_a_china_region_is_in_the_china_partition():
    # STS endpoints in the aws-cn partition end in amazonaws.com.cn (AWS General Reference,
    # "AWS Security Token Service endpoints and quotas").
    df = results(demo_docs("china"), "sts_endpoint_config")
    row = one(df, pod="catalog-7c6b5a4f3-q2w3e")
    outcome(
        row,
        "PASS",
        "pass",
        "Containers of shop/catalog-7c6b5a4f3-q2w3e call the regional endpoint "
        "sts.cn-north-1.amazonaws.com.cn.",
    )


def test_aws_default_region_alone_gives_botocore_its_region():
    # botocore reads the region from AWS_DEFAULT_REGION (botocore/configprovider.py); Go v1
    # reads it only with AWS_SDK_LOAD_CONFIG and JavaScript v2 not at all
    # (https://github.com/aws/aws-sdk-go/blob/v1.55.6/aws/session/env_config.go).
    docs = _pod(demo_docs(), region=False, extra_env=[env("AWS_DEFAULT_REGION", "us-west-2")])
    row = outcome(
        _row(docs),
        "INFO",
        "partial_region",
        f"Containers app of {POD} set only AWS_DEFAULT_REGION: Go SDK v1, JavaScript SDK v2 do "
        f"not read it and call the global endpoint {GLOBAL} (botocore reads AWS_DEFAULT_REGION, "
        f"most other SDKs AWS_REGION); the other SDKs call {REGIONAL}. Give --sdk to decide.",
    )
    calls = {c["sdk"]: c["endpoint"] for c in evidence(row)["containers"]["app"]["calls"]}
    assert calls["boto3 1.40+"] == REGIONAL and calls["Go SDK v1"] == GLOBAL
    boto = _row(docs, sdk={"boto3": "1.40.0"})
    assert boto.status == "PASS" and REGIONAL in boto.detail


def test_without_the_cluster_description_it_skips_naming_it():
    docs = demo_docs()
    del docs["aws/eks/describe-cluster.json"]
    df = results(docs, "sts_endpoint_config", namespace="shop", service_account="checkout")
    outcome(
        one(df, pod="checkout-7d4b9c6f5-k2x9p"),
        "SKIP",
        "_not_collected",
        "Not collected: the cluster description (aws/eks/describe-cluster.json); this could not "
        "be checked.",
    )
