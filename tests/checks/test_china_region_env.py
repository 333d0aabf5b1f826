"""china_region_env: pods in `cn-*` regions set `AWS_DEFAULT_REGION`."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, only, outcome, pod_doc, results, zh_outcome


def test_china_region_env_fail_pass_and_skip_elsewhere(demo):
    assert only(demo, "china_region_env").status == "SKIP"
    df = results(demo_docs("china"))
    row = only(df, "china_region_env", pod="pricing-6b5a4f3e2-r4t5y")
    assert row.status == "FAIL"
    assert 'value: "cn-north-1"' in row.remediation
    assert only(df, "china_region_env", pod="catalog-7c6b5a4f3-q2w3e").status == "PASS"


def test_aws_region_alone_does_not_count():
    # boto3 reads the region from AWS_DEFAULT_REGION only (botocore/configprovider.py maps
    # 'region' to ('region', 'AWS_DEFAULT_REGION', None, None), github.com/boto/botocore;
    # AWS_REGION is read by other SDKs), so a container with
    # AWS_REGION but no AWS_DEFAULT_REGION is still missing it.
    docs = demo_docs("china")
    pod = pod_doc(docs, "catalog-")
    env = pod["spec"]["containers"][0]["env"]
    env[:] = [e for e in env if e["name"] != "AWS_DEFAULT_REGION"]
    assert {"name": "AWS_REGION", "value": "cn-north-1"} in env
    name = pod["metadata"]["name"]
    row = outcome(
        only(results(docs, "china_region_env"), "china_region_env", pod=name),
        "FAIL",
        "missing",
        f"Containers app of shop/{name} do not set AWS_DEFAULT_REGION in China region cn-north-1.",
        {"app": None},
    )
    assert 'value: "cn-north-1"' in row.remediation
    zh_outcome(docs, "china_region_env", "missing", pod=name)


def test_every_container_setting_it_passes_with_its_value_as_evidence():
    docs = demo_docs("china")
    name = pod_doc(docs, "catalog-")["metadata"]["name"]
    outcome(
        only(results(docs, "china_region_env"), "china_region_env", pod=name),
        "PASS",
        "pass",
        f"Every container of shop/{name} sets AWS_DEFAULT_REGION.",
        {"app": "cn-north-1"},
    )
