"""What really happened: web-identity calls recorded by CloudTrail, and IAM's policy simulation.

Model layer: pure readers of two bundle documents, shared by live collection and bundles so
both give the same rows.

* ``aws cloudtrail lookup-events --lookup-attributes
  AttributeKey=EventName,AttributeValue=AssumeRoleWithWebIdentity`` (its ``Events``, each
  with the record as a JSON string in ``CloudTrailEvent``): :func:`reduce_event` keeps the
  time, role ARN, error code and message, the token's subject and audience, source IP and
  user agent. CloudTrail records a web-identity caller as ``userIdentity.type``
  ``WebIdentityUser`` with ``principalId`` ``ISSUER:AUDIENCE:SUBJECT`` and ``userName`` the
  subject (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html#STS-API-SAML-WIF);
  a successful call's ``responseElements`` also carry ``subjectFromWebIdentityToken`` and
  ``audience``. CloudTrail does not log the token; every kept string still goes through
  :func:`irsa_nb.redact.mask_text`.
* ``aws iam simulate-principal-policy`` (``EvaluationResults``): :func:`simulation_results`.

>>> call = reduce_event({"CloudTrailEvent": '{"eventTime": "2024-05-01T10:00:00Z", '
...     '"errorCode": "InvalidIdentityToken", "requestParameters": {"roleArn": '
...     '"arn:aws:iam::111122223333:role/app"}, "userIdentity": {"type": "WebIdentityUser", '
...     '"principalId": "oidc.eks.us-west-2.amazonaws.com/id/AB:sts.amazonaws.com:'
...     'system:serviceaccount:shop:cart", "userName": "system:serviceaccount:shop:cart"}}'})
>>> call.error_code, call.audience, call.subject
('InvalidIdentityToken', 'sts.amazonaws.com', 'system:serviceaccount:shop:cart')
>>> sdk_from_user_agent("Boto3/1.26.5 Python/3.11.4 Linux/5.10 Botocore/1.29.5")
('boto3', '1.26.5')
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .redact import mask_text

EVENT_NAME = "AssumeRoleWithWebIdentity"


@dataclass(frozen=True)
class WebIdentityCall:
    """One ``AssumeRoleWithWebIdentity`` call as CloudTrail recorded it (no secrets)."""

    time: str
    role_arn: str
    error_code: str  # "" when the call succeeded
    error_message: str
    subject: str
    audience: str
    issuer: str
    source_ip: str
    user_agent: str
    event_id: str

    @property
    def failed(self) -> bool:
        return bool(self.error_code)

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class SimulationResult:
    """One action/resource pair as ``iam:SimulatePrincipalPolicy`` decided it."""

    action: str
    resource: str
    decision: str  # allowed, explicitDeny, implicitDeny
    matched_statements: tuple[str, ...]
    missing_context: tuple[str, ...]
    boundary_allowed: bool | None  # PermissionsBoundaryDecisionDetail, None when absent
    organizations_allowed: bool | None  # OrganizationsDecisionDetail (SCPs), None when absent

    def as_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["matched_statements"], d["missing_context"] = (
            list(self.matched_statements),
            list(self.missing_context),
        )
        return d


def _s(value: Any) -> str:
    return mask_text(str(value))[0] if isinstance(value, str | int | float) else ""


def _record(event: Mapping[str, Any]) -> dict[str, Any]:
    raw = event.get("CloudTrailEvent")
    if isinstance(raw, dict):
        return raw
    try:
        rec = json.loads(raw) if isinstance(raw, str) else {}
    except (ValueError, RecursionError):
        rec = {}
    return rec if isinstance(rec, dict) else {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def reduce_event(event: Mapping[str, Any]) -> WebIdentityCall | None:
    """The call one ``lookup-events`` entry records; None for an entry that is not one."""
    if not isinstance(event, Mapping):
        return None
    rec = _record(event)
    role = _dict(rec.get("requestParameters")).get("roleArn")
    if not isinstance(role, str) or not role:
        role = next(
            (
                r.get("ResourceName")
                for r in event.get("Resources") or []
                if isinstance(r, dict) and r.get("ResourceType") == "AWS::IAM::Role"
            ),
            "",
        )
    ident = _dict(rec.get("userIdentity"))
    issuer, audience, subject = _principal(ident)
    resp = _dict(rec.get("responseElements"))
    subject = str(resp.get("subjectFromWebIdentityToken") or subject)
    audience = str(resp.get("audience") or audience)
    time = rec.get("eventTime") or event.get("EventTime") or ""
    return WebIdentityCall(
        time=_s(time),
        role_arn=_s(role),
        error_code=_s(rec.get("errorCode") or ""),
        error_message=_s(rec.get("errorMessage") or ""),
        subject=_s(subject),
        audience=_s(audience),
        issuer=_s(issuer),
        source_ip=_s(rec.get("sourceIPAddress") or ""),
        user_agent=_s(rec.get("userAgent") or ""),
        event_id=_s(rec.get("eventID") or event.get("EventId") or ""),
    )


def _principal(ident: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(identity provider, audience, subject)`` of a ``WebIdentityUser``: ``principalId`` is
    ``PROVIDER:AUDIENCE:SUBJECT``, where the provider (an IAM OIDC provider ARN for EKS, or a
    host that may carry a port) and the subject (``system:serviceaccount:NS:SA``) hold colons
    themselves; ``identityProvider`` and ``userName`` say where they end."""
    principal = ident.get("principalId")
    principal = principal if isinstance(principal, str) else ""
    idp = ident.get("identityProvider")
    idp = idp if isinstance(idp, str) else ""
    sub = ident.get("userName")
    sub = sub if isinstance(sub, str) else ""
    rest = principal
    if idp and rest.startswith(idp + ":"):
        rest = rest[len(idp) + 1 :]
    elif rest.startswith("arn:") and rest.count(":") >= 7:  # arn:PARTITION:iam::ACCOUNT:...
        head = rest.split(":", 6)
        idp, rest = ":".join(head[:6]), head[6]
    elif rest.count(":") >= 2 and not idp:
        idp, rest = rest.split(":", 1)
    if sub and rest.endswith(":" + sub):
        return idp, rest[: -len(sub) - 1], sub
    audience, _, subject = rest.partition(":")
    return idp, audience, sub or subject


def web_identity_calls(document: Any) -> tuple[WebIdentityCall, ...]:
    """Every call a ``lookup-events`` document holds, newest first."""
    events = document.get("Events") if isinstance(document, dict) else None
    calls = [c for c in map(reduce_event, events or []) if c is not None]
    return tuple(sorted(calls, key=lambda c: c.time, reverse=True))


def simulation_results(document: Any) -> tuple[SimulationResult, ...]:
    """The ``EvaluationResults`` of a ``simulate-principal-policy`` document."""
    results = document.get("EvaluationResults") if isinstance(document, dict) else None
    out = []
    for r in results or []:
        if not isinstance(r, dict):
            continue
        boundary = _dict(r.get("PermissionsBoundaryDecisionDetail")).get(
            "AllowedByPermissionsBoundary"
        )
        orgs = _dict(r.get("OrganizationsDecisionDetail")).get("AllowedByOrganizations")
        out.append(
            SimulationResult(
                action=_s(r.get("EvalActionName", "")),
                resource=_s(r.get("EvalResourceName", "*")),
                decision=_s(r.get("EvalDecision", "")),
                matched_statements=tuple(
                    _s(m.get("SourcePolicyId", ""))
                    for m in r.get("MatchedStatements") or []
                    if isinstance(m, dict)
                ),
                missing_context=tuple(_s(k) for k in r.get("MissingContextValues") or []),
                boundary_allowed=boundary if isinstance(boundary, bool) else None,
                organizations_allowed=orgs if isinstance(orgs, bool) else None,
            )
        )
    return tuple(out)


# --- the SDK in a user agent ---------------------------------------------------------------

# (pattern, SDK key of irsa_nb.sdks) in the order tried; the SDKs' own user-agent prefixes.
_AGENTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), key)
    for p, key in (
        (r"\bBoto3/(\d[\w.]*)", "boto3"),
        (r"\baws-cli/(\d[\w.]*)", "awscli"),
        (r"\bBotocore/(\d[\w.]*)", "botocore"),
        (r"\baws-sdk-go-v2/(\d[\w.]*)", "go2"),
        (r"\baws-sdk-go/(\d[\w.]*)", "go"),
        (r"\baws-sdk-java/(2\.[\w.]*)", "java2"),
        (r"\baws-sdk-java/(1\.[\w.]*)", "java"),
        (r"\baws-sdk-js/(\d[\w.]*)", "node"),
        (r"\baws-sdk-nodejs/(\d[\w.]*)", "node"),
        (r"\baws-sdk-ruby\d?/(\d[\w.]*)", "ruby"),
        (r"\baws-sdk-php/(\d[\w.]*)", "php"),
        (r"\baws-sdk-dotnet[\w-]*/(\d[\w.]*)", "dotnet"),
        (r"\baws-sdk-cpp/(\d[\w.]*)", "cpp"),
    )
)


def sdk_from_user_agent(user_agent: str) -> tuple[str, str] | None:
    """``(sdk key, version)`` of the AWS SDK that sent a request, from its user agent."""
    for pattern, key in _AGENTS:
        m = pattern.search(user_agent or "")
        if m:
            return key, m.group(1).rstrip(".")
    return None
