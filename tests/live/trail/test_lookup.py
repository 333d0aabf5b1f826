"""The CloudTrail lookup against the fake CloudTrail (JSON 1.1 over HTTP, reached through
AWS_ENDPOINT_URL_CLOUDTRAIL): paging, the rate limit, throttling, Ctrl-C, masking."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from irsa_nb.bundle import CallFailed
from irsa_nb.inventory import build_inventory
from irsa_nb.live import aws, cloudtrail
from tests.servers.fake_cloudtrail import FakeCloudTrail

ROLE = "arn:aws:iam::123456789012:role/app"
OTHER = "arn:aws:iam::123456789012:role/other"
ISS = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
SUB = "system:serviceaccount:shop:cart"


@pytest.fixture
def trail(aws_env, monkeypatch) -> Iterator[FakeCloudTrail]:
    with FakeCloudTrail(aws_env.server.url) as t:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", t.url)
        yield t


def _client():
    return aws.AwsCollector(aws.make_session(region="us-west-2")).cloudtrail()


def _fill(t: FakeCloudTrail, n: int, role: str = ROLE, **kw) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for i in range(n):
        t.record_web_identity(
            role,
            issuer=ISS,
            audience="sts.amazonaws.com",
            subject=SUB,
            when=now - dt.timedelta(minutes=i + 1),
            **kw,
        )


def test_pages_are_followed_and_only_the_targets_roles_kept(trail):
    _fill(trail, 70, error_code="AccessDenied", error_message="Not authorized")
    _fill(trail, 40, OTHER)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)
    trail.record_web_identity(ROLE, issuer=ISS, audience="a", subject=SUB, when=old)
    doc = cloudtrail.lookup_web_identity(_client(), 24, [ROLE])
    assert isinstance(doc, dict) and "NextToken" not in doc
    assert len(doc["Events"]) == 70  # the one 30 hours old is outside the window
    # 110 events in pages of 50 (a request the fake's 2-per-second limit throttled is retried)
    assert trail.operations == ["LookupEvents"] * (3 + trail.throttled)
    inv = build_inventory({"aws/cloudtrail/lookup-events/AssumeRoleWithWebIdentity.json": doc})
    calls = inv.web_identity_calls(ROLE)
    assert len(calls) == 70 and {c.error_code for c in calls} == {"AccessDenied"}
    assert calls[0].subject == SUB and calls[0].audience == "sts.amazonaws.com"
    assert calls[0].issuer.endswith("oidc-provider/" + ISS.removeprefix("https://"))
    assert calls[0].time > calls[-1].time  # newest first
    assert inv.web_identity_calls(OTHER) == ()


def test_throttling_is_retried_by_botocore(trail):
    _fill(trail, 60)
    trail.throttle(2)  # botocore's own backoff (standard mode) spaces the retries
    doc = cloudtrail.lookup_web_identity(_client(), 24, [ROLE])
    assert len(doc["Events"]) == 60
    assert trail.throttled >= 2
    assert trail.operations == ["LookupEvents"] * (2 + trail.throttled)  # 2 pages


def test_throttling_beyond_the_retries_is_a_failure_not_a_crash(trail, fast_retries, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    _fill(trail, 3)
    trail.throttle(10)
    doc = cloudtrail.lookup_web_identity(_client(), 24, [ROLE])
    assert isinstance(doc, CallFailed) and "ThrottlingException" in doc.message


def test_ctrl_c_keeps_the_pages_read(trail, monkeypatch):
    _fill(trail, 120)
    waits = []

    def wait(self) -> None:
        waits.append(1)
        if len(waits) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cloudtrail.Pacer, "wait", wait)
    doc = cloudtrail.lookup_web_identity(_client(), 24, [ROLE])
    assert len(doc["Events"]) == 50 and doc["NextToken"]
    inv = build_inventory({"aws/cloudtrail/lookup-events/AssumeRoleWithWebIdentity.json": doc})
    assert inv.web_identity_lookup_partial
    waits.clear()
    monkeypatch.setattr(
        cloudtrail.Pacer, "wait", lambda self: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    assert isinstance(cloudtrail.lookup_web_identity(_client(), 24, [ROLE]), CallFailed)


def test_the_pacer_keeps_two_calls_a_second(monkeypatch):
    now = [100.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    monkeypatch.setattr(cloudtrail.time, "sleep", sleep)
    pacer = cloudtrail.Pacer(0.5, clock=lambda: now[0])
    for _ in range(5):
        pacer.wait()
    assert sleeps == [0.5, 0.5, 0.5, 0.5]  # the first goes at once
    now[0] += 10
    pacer.wait()
    assert len(sleeps) == 4  # after a pause, no wait


def test_records_are_masked_and_hold_no_token(trail):
    _fill(trail, 1)  # a successful call: responseElements carry the session's access key id
    doc = cloudtrail.lookup_web_identity(_client(), 24, [ROLE])
    text = json.dumps(doc)
    assert "ASIAXXXXXXXXXXXXXXXX" not in text
    assert "webIdentityToken" not in text.lower().replace("webidentitytokenfile", "")


@pytest.mark.parametrize("bad", ["0", "-1", "2161", "1.5", "x", ""])
def test_hours_are_validated(bad):
    with pytest.raises(ValueError, match="whole number of hours"):
        cloudtrail.check_hours(bad)
