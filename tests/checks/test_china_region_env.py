"""china_region_env: pods in `cn-*` regions give their SDK a China region.

botocore reads AWS_DEFAULT_REGION only
(https://github.com/boto/botocore/blob/1.40.0/botocore/configprovider.py#L56); aws-sdk-go v1
reads AWS_REGION, AWS_DEFAULT_REGION only with AWS_SDK_LOAD_CONFIG
(https://github.com/aws/aws-sdk-go/blob/v1.55.6/aws/session/env_config.go#L222-L224);
aws-sdk-go-v2 reads both (config/env_config.go regionEnvKeys).
"""

from __future__ import annotations

from tests.builders import k8s_objects as k8s
from tests.checks.helpers import (
    add_pod,
    add_sa,
    demo_docs,
    env,
    evidence,
    irsa_pod,
    one,
    only,
    outcome,
    pod_doc,
    results,
    zh_outcome,
)


def test_china_region_env_fail_pass_and_skip_elsewhere(demo):
    assert only(demo, "china_region_env").status == "SKIP"
    df = results(demo_docs("china"))
    row = only(df, "china_region_env", pod="pricing-6b5a4f3e2-r4t5y")
    assert row.status == "FAIL"
    assert 'value: "cn-north-1"' in row.remediation and "AWS_REGION" in row.remediation
    assert "sts.amazonaws.com" in row.detail and "boto3" in row.detail
    ok = only(df, "china_region_env", pod="catalog-7c6b5a4f3-q2w3e")
    assert ok.status == "PASS" and "sts.cn-north-1.amazonaws.com.cn" in ok.detail


def _china_pod(*variables: tuple[str, str]) -> dict:
    """A webhook-mutated pod whose webhook injects no region; ``variables`` set by hand."""
    docs = demo_docs("china")
    add_sa(docs, "shop", "billing", "irsa-billing")
    c = k8s.container("app", env=[env(n, v) for n, v in variables])
    pod = irsa_pod(
        "shop",
        "billing-5d4c3b2a1-q1w2e",
        "billing",
        "irsa-billing",
        containers=[c],
        inject_region=False,
    )
    add_pod(docs, pod)
    return docs


def _row(docs, **kw):
    df = results(docs, "china_region_env", **kw)
    return one(df, pod="billing-5d4c3b2a1-q1w2e")


def test_aws_region_alone_fails_botocore_only_and_the_sdk_decides():
    docs = _china_pod(("AWS_REGION", "cn-north-1"))
    row = _row(docs)
    assert row.status == "WARN" and "boto3" in row.detail and "--sdk" in row.detail
    assert "sts.cn-north-1.amazonaws.com.cn" in row.detail and "Go SDK v2" not in row.detail
    go2 = _row(docs, sdk={"go2": "1.30.0"})
    assert go2.status == "PASS" and "sts.cn-north-1.amazonaws.com.cn" in go2.detail
    boto = _row(docs, sdk={"boto3": "1.40.0"})
    assert boto.status == "FAIL" and "sts.amazonaws.com" in boto.detail
    assert evidence(boto)["app"]["calls"] == {"boto3 1.40.0": "sts.amazonaws.com"}


def test_aws_default_region_alone_fails_go_v1_but_not_boto3():
    docs = _china_pod(("AWS_DEFAULT_REGION", "cn-north-1"))
    assert _row(docs, sdk={"boto3": "1.34.0"}).status == "PASS"
    row = _row(docs, sdk={"go": "1.55.0"})
    assert row.status == "FAIL" and "Go SDK v1" in row.detail


CN = "sts.cn-north-1.amazonaws.com.cn"
ALL_CN = {
    sdk: CN
    for sdk in (
        ".NET SDK v3",
        ".NET SDK v4",
        "AWS CLI v2",
        "Go SDK v1",
        "Go SDK v2",
        "Java SDK v1",
        "Java SDK v2",
        "JavaScript SDK v2",
        "JavaScript SDK v3",
        "PHP SDK",
        "Ruby SDK",
    )
}


def test_aws_region_alone_warns_naming_the_sdks_that_leave_china():
    # boto3 reads the region from AWS_DEFAULT_REGION only (botocore/configprovider.py maps
    # 'region' to ('region', 'AWS_DEFAULT_REGION', None, None), github.com/boto/botocore;
    # AWS_REGION is read by other SDKs): with the SDK unknown, a container with AWS_REGION
    # but no AWS_DEFAULT_REGION fails boto3 only, and the row says so.
    docs = demo_docs("china")
    pod = pod_doc(docs, "catalog-")
    env = pod["spec"]["containers"][0]["env"]
    env[:] = [e for e in env if e["name"] != "AWS_DEFAULT_REGION"]
    assert {"name": "AWS_REGION", "value": "cn-north-1"} in env
    name = pod["metadata"]["name"]
    boto = {"boto3 1.40+": "sts.amazonaws.com", "boto3 <1.40": "sts.amazonaws.com"}
    row = outcome(
        only(results(docs, "china_region_env"), "china_region_env", pod=name),
        "WARN",
        "some_sdks",
        f"Containers app of shop/{name} leave AWS_DEFAULT_REGION unset: boto3 <1.40, boto3 "
        "1.40+ call the global endpoint sts.amazonaws.com of the aws partition, which rejects "
        f"the token; the other SDKs call {CN}. Give --sdk to decide.",
        {
            "app": {
                "AWS_DEFAULT_REGION": None,
                "AWS_REGION": "cn-north-1",
                "calls": ALL_CN | boto,
            }
        },
    )
    assert 'value: "cn-north-1"' in row.remediation
    zh_outcome(docs, "china_region_env", "some_sdks", pod=name)


def test_every_container_setting_it_passes_with_its_value_as_evidence():
    docs = demo_docs("china")
    name = pod_doc(docs, "catalog-")["metadata"]["name"]
    outcome(
        only(results(docs, "china_region_env"), "china_region_env", pod=name),
        "PASS",
        "pass",
        f"Containers of shop/{name} call STS in China at {CN}.",
        {
            "app": {
                "AWS_DEFAULT_REGION": "cn-north-1",
                "AWS_REGION": "cn-north-1",
                "calls": ALL_CN | {"boto3 1.40+": CN, "boto3 <1.40": CN},
            }
        },
    )
