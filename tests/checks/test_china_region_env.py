"""china_region_env: pods in `cn-*` regions set `AWS_DEFAULT_REGION`."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, only, results


def test_china_region_env_fail_pass_and_skip_elsewhere(demo):
    assert only(demo, "china_region_env").status == "SKIP"
    df = results(demo_docs("china"))
    row = only(df, "china_region_env", pod="pricing-6b5a4f3e2-r4t5y")
    assert row.status == "FAIL"
    assert 'value: "cn-north-1"' in row.remediation
    assert only(df, "china_region_env", pod="catalog-7c6b5a4f3-q2w3e").status == "PASS"
