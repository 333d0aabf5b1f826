"""CloudTrail and simulation documents for the check tests, shaped as the AWS CLI prints them
(``aws cloudtrail lookup-events``, ``aws iam simulate-principal-policy``)."""

from __future__ import annotations

import json
from typing import Any

from tests.checks.helpers import ACCOUNT, ISSUER, PROVIDER

TRAIL = "aws/cloudtrail/lookup-events/AssumeRoleWithWebIdentity.json"


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def event(
    role_arn: str,
    when: str,
    *,
    code: str = "",
    message: str = "",
    sub: str = "system:serviceaccount:shop:cart",
    aud: str = "sts.amazonaws.com",
    agent: str = "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux Python/3.11.4",
) -> dict[str, Any]:
    """One ``Events`` entry: the record as CloudTrail keeps it, in ``CloudTrailEvent``."""
    rec: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "WebIdentityUser",
            "principalId": f"{PROVIDER}:{aud}:{sub}",
            "userName": sub,
            "identityProvider": PROVIDER,
        },
        "eventTime": when,
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoleWithWebIdentity",
        "sourceIPAddress": "10.0.3.7",
        "userAgent": agent,
        "requestParameters": {"roleArn": role_arn, "roleSessionName": "s"},
        "eventID": f"e-{when}",
    }
    if code:
        rec.update(errorCode=code, errorMessage=message)
    else:
        rec["responseElements"] = {"subjectFromWebIdentityToken": sub, "audience": aud}
    return {
        "EventId": rec["eventID"],
        "EventName": "AssumeRoleWithWebIdentity",
        "EventTime": when,
        "Username": sub,
        "Resources": [{"ResourceType": "AWS::IAM::Role", "ResourceName": role_arn}],
        "CloudTrailEvent": json.dumps(rec),
    }


def trail(*events: dict[str, Any], next_token: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"Events": list(events)}
    if next_token:
        doc["NextToken"] = next_token
    return doc


def result(action: str, resource: str, decision: str, *statements: str, **extra: Any) -> dict:
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "MatchedStatements": [
            {"SourcePolicyId": s, "SourcePolicyType": "IAM Policy"} for s in statements
        ],
        "MissingContextValues": extra.pop("missing", []),
        **extra,
    }


__all__ = ["ISSUER", "TRAIL", "event", "result", "role", "trail"]
