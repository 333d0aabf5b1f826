"""sdk_version_supported: the SDK versions given with `--sdk` meet the minimums (article's table;
WARN where AWS has raised one)."""

from __future__ import annotations

import pytest

from tests.checks.helpers import demo_docs, only, outcome, results


def test_sdk_not_given_is_skip_with_how_to_find_it(demo):
    row = only(demo, "sdk_version_supported", service_account="checkout")
    assert row.status == "SKIP"
    assert "pip show boto3" in row.remediation and "checkout-7d4b9c6f5-k2x9p" in row.remediation


@pytest.mark.parametrize(
    ("sdk", "status"),
    [
        ({"boto3": "1.9.100"}, "FAIL"),
        ({"boto3": "1.9.220"}, "PASS"),
        ({"Python": "1.34.0"}, "PASS"),
        ({"botocore": "1.12.199"}, "FAIL"),
        ({"AWSCLI": "1.16.232"}, "PASS"),
        ({"java2": "2.10.10"}, "FAIL"),
        ({"java": "1.11.800"}, "WARN"),  # article's minimum met, AWS now lists 1.12.782
        ({"java": "1.12.782"}, "PASS"),
        ({"go": "1.23.9"}, "FAIL"),  # numeric, not string comparison
        ({"go": "1.100.0"}, "PASS"),
        ({"node": "2.524.0"}, "FAIL"),
        ({"js": "3.20.0"}, "WARN"),
        ({"ruby": "3.10.0"}, "WARN"),
        ({".NET": "3.3.659.1"}, "PASS"),
        ({"cpp": "1.7.9"}, "FAIL"),
        ({"php": "v3.110.7"}, "PASS"),
    ],
)
def test_sdk_versions_compare_numerically(sdk, status):
    df = results(demo_docs(), namespace="shop", service_account="checkout", sdk=sdk)
    assert only(df, "sdk_version_supported").status == status


def test_unknown_sdk_or_version_raises_value_error():
    with pytest.raises(ValueError, match="unknown SDK"):
        results(demo_docs(), sdk={"cobol": "1.0"})
    with pytest.raises(ValueError, match="SDK version"):
        results(demo_docs(), sdk={"boto3": "latest"})


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"namespace": "kube-system", "service_account": "aws-node"},
        "SKIP",
        "not_given",
        "The application's SDK version was not given.",
        {},
    )
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "sdk_version_supported", **where), status, key, detail, ev)
