"""A fake CloudTrail ``LookupEvents`` on 127.0.0.1 (moto does not implement it).

``FakeCloudTrail(moto_url)`` speaks the CloudTrail wire format, JSON 1.1 (``POST /``,
``X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents``,
``Content-Type: application/x-amz-json-1.1``;
https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):

* ``LookupAttributes`` (one attribute; ``EventName`` and ``Username`` are honoured),
  ``StartTime``/``EndTime`` (epoch seconds), ``MaxResults`` (1-50, default 50) and an opaque
  ``NextToken`` (a token this server did not hand out, or one for other parameters, is
  ``InvalidNextTokenException``), newest event first;
* the documented rate limit: more than :attr:`rate` requests in one second per account
  answer ``ThrottlingException`` (HTTP 400, as CloudTrail does), and ``throttle(n)`` makes the
  next ``n`` requests answer it too;
* ``Events`` entries as CloudTrail returns them: ``EventId``, ``EventName``, ``ReadOnly``,
  ``EventTime``, ``EventSource``, ``Username``, ``Resources`` and the record itself as a JSON
  string in ``CloudTrailEvent``.

Records are added with :meth:`add` or :meth:`record_web_identity` (the shape CloudTrail
gives an ``AssumeRoleWithWebIdentity`` call: ``userIdentity.type`` ``WebIdentityUser``,
``principalId`` ``ISSUER:AUDIENCE:SUBJECT``, ``userName`` the subject); the fake STS
(:class:`tests.servers.fake_sts.FakeAwsFront` with ``trail=``) records every call it
answers. Every other request is forwarded to moto. ``calls`` records the operations,
``request_times`` when each LookupEvents arrived.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import time
import uuid
from typing import Any

from tests.servers.aws import _ProxyHandler
from tests.servers.tls import BackgroundHTTPServer

TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."


class _Handler(_ProxyHandler):
    def _do(self) -> None:
        trail: FakeCloudTrail = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        op = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        trail.calls.append(("cloudtrail", op or f"{self.command} {self.path}"))
        if op != "LookupEvents":
            self._forward(trail, body)  # type: ignore[arg-type]
            return
        status, payload = trail.lookup(body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _do


class FakeCloudTrail(BackgroundHTTPServer):
    """See the module docstring."""

    def __init__(self, moto_url: str, *, rate: int = 2) -> None:
        super().__init__(_Handler)
        self.upstream_url = moto_url.rstrip("/")
        self.url = f"http://127.0.0.1:{self.port}"
        self.rate = rate
        self.records: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self.request_times: list[float] = []
        self.throttled = 0  # ThrottlingException answers given
        self._forced = 0
        self._lock = threading.Lock()

    def __enter__(self) -> FakeCloudTrail:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def operations(self) -> list[str]:
        return [op for _, op in self.calls]

    def throttle(self, n: int) -> None:
        """Answer the next ``n`` LookupEvents with ThrottlingException."""
        with self._lock:
            self._forced += n

    # ------------------------------------------------------------------ records
    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.records.append(record)

    def record_web_identity(
        self,
        role_arn: str,
        *,
        issuer: str = "",
        audience: str = "",
        subject: str = "",
        error_code: str = "",
        error_message: str = "",
        when: dt.datetime | None = None,
        source_ip: str = "10.0.12.34",
        user_agent: str = "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux Python/3.11.4",
        account: str = "123456789012",
    ) -> dict[str, Any]:
        """Add the record CloudTrail keeps of one ``AssumeRoleWithWebIdentity`` call."""
        when = when or dt.datetime.now(dt.UTC)
        host_path = issuer.removeprefix("https://").rstrip("/")
        provider = f"arn:aws:iam::{account}:oidc-provider/{host_path}" if host_path else ""
        session = f"botocore-session-{int(when.timestamp())}"
        rec: dict[str, Any] = {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "WebIdentityUser",
                "principalId": f"{provider}:{audience}:{subject}",
                "userName": subject,
                "identityProvider": provider,
            },
            "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRoleWithWebIdentity",
            "awsRegion": "us-west-2",
            "sourceIPAddress": source_ip,
            "userAgent": user_agent,
            # CloudTrail logs no WebIdentityToken: only the role and the session's settings.
            "requestParameters": {
                "roleArn": role_arn,
                "roleSessionName": session,
                "durationSeconds": 3600,
            },
            "responseElements": None,
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": True,
            "resources": [{"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}],
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "additionalEventData": {
                "identityProviderConnectionVerificationMethod": "IAMTrustStore"
            },
        }
        if error_code:
            rec["errorCode"], rec["errorMessage"] = error_code, error_message
        else:
            name = role_arn.rsplit("/", 1)[-1]
            rec["responseElements"] = {
                "credentials": {
                    "accessKeyId": "ASIA" + "X" * 16,
                    "expiration": (when + dt.timedelta(hours=1)).strftime("%b %d, %Y, %I:%M:%S %p"),
                },
                "subjectFromWebIdentityToken": subject,
                "assumedRoleUser": {
                    "assumedRoleId": f"AROAEXAMPLE:{session}",
                    "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
                },
                "provider": provider,
                "audience": audience,
            }
        self.add(rec)
        return rec

    # ------------------------------------------------------------------ LookupEvents
    def lookup(self, body: bytes) -> tuple[int, dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            self.request_times.append(now)
            recent = [t for t in self.request_times if now - t < 1.0]
            if self._forced or len(recent) > self.rate:
                self._forced = max(0, self._forced - 1)
                self.throttled += 1
                return 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
            records = list(self.records)
        try:
            req = json.loads(body or b"{}")
            attrs = req.get("LookupAttributes") or []
            if len(attrs) > 1:
                raise ValueError("You can specify only one lookup attribute.")
            limit = int(req.get("MaxResults") or 50)
            if not 1 <= limit <= 50:
                raise ValueError("MaxResults must be between 1 and 50.")
            start = float(req["StartTime"]) if "StartTime" in req else None
            end = float(req["EndTime"]) if "EndTime" in req else None
        except (ValueError, TypeError, KeyError) as exc:
            return 400, {"__type": "InvalidLookupAttributesException", "message": str(exc)}
        fingerprint = hashlib.sha256(
            json.dumps([attrs, start, end, limit], sort_keys=True).encode()
        ).hexdigest()[:16]
        offset = 0
        if req.get("NextToken"):
            try:
                fp, raw = base64.b64decode(req["NextToken"]).decode().split(":", 1)
                offset = int(raw)
                if fp != fingerprint:
                    raise ValueError
            except ValueError:
                return 400, {
                    "__type": "InvalidNextTokenException",
                    "message": "Invalid NextToken",
                }
        chosen = []
        for rec in records:
            t = dt.datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
            ts = t.timestamp()
            if (start is not None and ts < start) or (end is not None and ts > end):
                continue
            ok = all(
                (a.get("AttributeKey") == "EventName" and rec["eventName"] == a["AttributeValue"])
                or (
                    a.get("AttributeKey") == "Username"
                    and rec["userIdentity"].get("userName") == a["AttributeValue"]
                )
                for a in attrs
            )
            if ok:
                chosen.append((ts, rec))
        chosen.sort(key=lambda x: x[0], reverse=True)
        page = chosen[offset : offset + limit]
        out: dict[str, Any] = {"Events": [_event(ts, rec) for ts, rec in page]}
        if offset + limit < len(chosen):
            out["NextToken"] = base64.b64encode(f"{fingerprint}:{offset + limit}".encode()).decode()
        return 200, out


def _event(ts: float, rec: dict[str, Any]) -> dict[str, Any]:
    resources = [
        {"ResourceType": r["type"], "ResourceName": r["ARN"]} for r in rec.get("resources") or []
    ]
    return {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": "true",
        "EventTime": ts,
        "EventSource": rec["eventSource"],
        "Username": rec["userIdentity"].get("userName", ""),
        "Resources": resources,
        "CloudTrailEvent": json.dumps(rec),
    }
