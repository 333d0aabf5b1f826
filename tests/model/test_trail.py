"""The model's reading of CloudTrail records and simulator results (irsa_nb.trail)."""

import json

import pytest

from irsa_nb.trail import reduce_event, sdk_from_user_agent, simulation_results, web_identity_calls
from tests.checks.trail_docs import event, result, role


def test_an_event_reduces_to_what_the_checks_need_and_nothing_secret():
    ev = event(
        role("app"),
        "2026-11-02T10:05:00Z",
        code="AccessDenied",
        message="Not authorized, key AKIAIOSFODNN7EXAMPLE",
    )
    call = reduce_event(ev)
    assert call.role_arn == role("app") and call.error_code == "AccessDenied"
    assert call.subject == "system:serviceaccount:shop:cart"
    assert call.audience == "sts.amazonaws.com" and call.issuer.startswith("arn:aws:iam::")
    assert call.source_ip == "10.0.3.7" and call.user_agent.startswith("Boto3/")
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps(call.as_dict())


def test_odd_entries_do_not_break_the_reading():
    doc = {"Events": [None, {"CloudTrailEvent": "{not json"}, {"CloudTrailEvent": "[]"}, 5]}
    calls = web_identity_calls(doc)
    assert all(c.role_arn == "" for c in calls)
    assert web_identity_calls("garbage") == ()
    assert (
        simulation_results({"EvaluationResults": [1, result("s3:GetObject", "*", "allowed")]})[
            0
        ].decision
        == "allowed"
    )


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("Boto3/1.9.100 Python/3.7.0 Linux/4.14 Botocore/1.12.100", ("boto3", "1.9.100")),
        ("aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64", ("awscli", "2.15.0")),
        ("aws-sdk-go/1.44.300 (go1.20.5; linux; amd64)", ("go", "1.44.300")),
        ("aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21.0", ("go2", "1.21.0")),
        ("aws-sdk-java/2.20.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17", ("java2", "2.20.0")),
        ("aws-sdk-java/1.12.500 Linux/5.10", ("java", "1.12.500")),
        ("aws-sdk-js/3.400.0 os/linux lang/js md/nodejs#18.17.0", ("node", "3.400.0")),
        ("aws-sdk-nodejs/2.1400.0 linux/v18.17.0", ("node", "2.1400.0")),
        ("kubectl/v1.29.0", None),
    ],
)
def test_the_sdk_in_a_user_agent(agent, expected):
    assert sdk_from_user_agent(agent) == expected
