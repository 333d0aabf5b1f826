"""The probe's live cluster (``tests/live/probe/conftest.py``) with an application that calls
STS the way a pod's SDK does: a token from the cluster, an unsigned AssumeRoleWithWebIdentity
(recorded by the fake CloudTrail)."""

from __future__ import annotations

from typing import Any

from tests.live.probe.conftest import NS, ProbeCluster, probe_cluster  # noqa: F401  (fixture)


def app_calls(pc: ProbeCluster, sa: str, role: str, audience: str, n: int = 1) -> list[str]:
    """``n`` AssumeRoleWithWebIdentity calls by service account ``NS/sa``'s application:
    the error codes (``""`` for success)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    sts = boto3.client(
        "sts",
        region_name="us-west-2",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )
    codes: list[str] = []
    for _ in range(n):
        token = pc.lv.kube.mint_token(NS, sa, [audience])
        try:
            sts.assume_role_with_web_identity(
                RoleArn=pc.role_arn(role), RoleSessionName="app", WebIdentityToken=token
            )
            codes.append("")
        except sts.exceptions.ClientError as exc:
            codes.append(str(exc.response["Error"]["Code"]))
    return codes


def rows(df: Any, check_id: str, sa: str) -> Any:
    return df[(df.check_id == check_id) & (df.service_account == sa)]
