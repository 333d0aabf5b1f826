"""Beyond the article: which STS endpoint the pod calls, and partition consistency.

The SDK calls ``AssumeRoleWithWebIdentity`` on the global endpoint ``sts.amazonaws.com``
when it has no region, or in "legacy" mode for the 16 legacy regions. The global
endpoint is not reachable through an STS VPC endpoint (private clusters), issues session
tokens that opt-in regions reject, and belongs to the ``aws`` partition only.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..iam.arn import ArnError, parse_arn
from ..iam.trust import PolicyError, parse_policy
from ..inventory import Cluster, Gap, Role
from ..k8s import IRSA_ENV_VARS, Pod
from ..sdks import version_tuple
from ..text import Msg, join
from .helpers import annotated_role, mutable_containers, restart_command
from .registry import Context, Finding, Subject, from_gap, needs_role_annotation

STS_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"
STS_ENV = "AWS_STS_REGIONAL_ENDPOINTS"

#: Regions where "legacy" mode still means the global endpoint (botocore LEGACY_GLOBAL_STS_REGIONS).
LEGACY_GLOBAL_STS_REGIONS = frozenset(
    {
        "ap-northeast-1",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "aws-global",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
#: Regions launched after 20 March 2019, disabled by default ("opt-in"; AWS Account
#: Management guide, "Enable or disable AWS Regions in your account").
OPT_IN_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
    }
)
_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_go_bool(value: str) -> bool | None:
    """``strconv.ParseBool`` as the webhook uses it; None when it would fail (ignored)."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    return None


def sdk_sts_default(sdk: str, version: str) -> str | None:
    """``regional`` or ``legacy``: the SDK's default without AWS_STS_REGIONAL_ENDPOINTS.

    botocore/boto3 switched to regional in 1.40.0, the AWS CLI v1 in 1.42.0 (botocore
    1.40) and v2 always was; SDK majors released after July 2022 default to regional.
    None when unknown.
    """
    v = version_tuple(version)
    if sdk in ("boto3", "botocore"):
        return "regional" if v >= (1, 40) else "legacy"
    if sdk == "awscli":
        return "regional" if v[0] >= 2 or v >= (1, 42) else "legacy"
    if sdk in ("go2", "java2", "ruby"):
        return "regional"
    if sdk == "node":
        return "regional" if v[0] >= 3 else "legacy"
    if sdk == "dotnet":
        return "regional" if v[0] >= 4 else "legacy"
    if sdk in ("go", "java", "php"):
        return "legacy"
    return None


def sts_endpoint(region: str | None, partition: str = "aws") -> str:
    """Host name of the STS endpoint a call goes to (global when ``region`` is None)."""
    if not region:
        return "sts.amazonaws.com"
    suffix = ".amazonaws.com.cn" if partition == "aws-cn" else ".amazonaws.com"
    return f"sts.{region}{suffix}"


_RANK = {"FAIL": 4, "WARN": 3, "INFO": 2, "PASS": 1}


def sts_endpoint_config(ctx: Context, target: Subject, pod: Pod) -> Iterator[Finding]:
    """The pod's SDK calls an STS endpoint that works from where it runs."""
    cl = ctx.inventory.cluster
    if isinstance(cl, Gap):
        yield from_gap(cl, "the cluster description")
        return
    containers = [c for c in mutable_containers(pod) if all(c.env_value(v) for v in IRSA_ENV_VARS)]
    sa = ctx.inventory.service_account(pod.namespace, pod.service_account)
    annotation = sa.annotations.get(STS_ANNOTATION) if sa else None
    params = {
        "region": cl.region,
        "restart": restart_command(pod),
        "service_account": pod.service_account,
        "annotation": annotation if annotation is not None else "-",
        "regional_endpoint": sts_endpoint(cl.region, cl.partition),
        "private": cl.endpoint_public_access is False,
    }
    if not containers:
        yield Finding("SKIP", "no_irsa_env", params)
        return
    findings: list[tuple[str, str, list[str]]] = []  # (status, key, containers)
    ev: dict[str, dict] = {}
    for c in containers:
        status, key, info = _judge_container(cl, c.env_value(STS_ENV), _region_of(c), ctx.sdk)
        ev[c.name] = info
        findings.append((status, key, [c.name]))
    if annotation is not None and parse_go_bool(annotation) is None:
        findings.append(("WARN", "annotation_invalid", []))
    elif annotation is not None and parse_go_bool(annotation):
        lacking = [c.name for c in containers if c.env_value(STS_ENV) is None]
        if lacking:
            findings.append(("WARN", "annotation_not_applied", lacking))
    worst = max(findings, key=lambda f: _RANK[f[0]])
    names = sorted({n for s, k, cs in findings if (s, k) == worst[:2] for n in cs})
    ev_all = {"containers": ev, "annotation": annotation, "cluster_private": params["private"]}
    yield Finding(worst[0], worst[1], {**params, "containers": names, **_mode(ev, names)}, ev_all)


def _region_of(c) -> str | None:
    return c.env_value("AWS_REGION") or c.env_value("AWS_DEFAULT_REGION") or None


def _mode(ev: dict[str, dict], names: list[str]) -> dict[str, str]:
    info = ev.get(names[0], {}) if names else {}
    return {"mode": info.get("mode") or "unset", "endpoint": info.get("endpoint") or "-"}


def _judge_container(
    cl: Cluster, env: str | None, region: str | None, sdk: dict[str, str]
) -> tuple[str, str, dict]:
    """(status, key, evidence) for one container with IRSA env."""
    info: dict = {STS_ENV: env, "region_env": region}
    if env is not None and env not in ("regional", "legacy"):
        return "FAIL", "invalid_env", info
    defaults = {sdk_sts_default(k, v) for k, v in sdk.items()} or {None}
    modes = {env} if env else defaults
    info["mode"] = "/".join(sorted(m or "unknown" for m in modes))
    private = cl.endpoint_public_access is False
    if not region:
        info["endpoint"] = sts_endpoint(None)
        if private:
            return "FAIL", "no_region_private", info
        if cl.region in OPT_IN_REGIONS:
            return "FAIL", "no_region_opt_in", info
        if cl.partition != "aws":
            return "FAIL", "no_region_partition", info
        return "INFO", "no_region", info
    legacy_region = region in LEGACY_GLOBAL_STS_REGIONS
    if "legacy" in modes and legacy_region:
        info["endpoint"] = sts_endpoint(None)
        return ("FAIL", "legacy_private", info) if private else ("INFO", "legacy_public", info)
    info["endpoint"] = sts_endpoint(region, cl.partition)
    if None in modes and legacy_region:
        info["endpoint"] = "SDK default"
        if private:
            return "WARN", "unknown_private", info
        return "PASS", "pass_default", info
    return "PASS", "pass", info


def partition_consistent(ctx: Context, target: Subject) -> Iterator[Finding]:
    """Role and provider ARNs are in the cluster's partition (aws, aws-cn, aws-us-gov)."""
    cl = ctx.inventory.cluster
    if isinstance(cl, Gap):
        yield from_gap(cl, "the cluster description")
        return
    skip = needs_role_annotation(target)
    if skip:
        yield skip
        return
    arns: list[tuple[str, str]] = [(Msg("_partition.annotation"), target.role_arn or "")]
    for p in target.pods:
        for c in p.all_containers:
            value = c.env_value("AWS_ROLE_ARN")
            what = Msg("_partition.pod_env", pod=p.name)
            if value and (what, value) not in arns:
                arns.append((what, value))
    role = annotated_role(ctx, target)
    if isinstance(role, Role):
        federated = Msg("_partition.federated")
        arns += [(federated, a) for a in _federated(role)]
    mismatches, checked = [], []
    for what, arn in arns:
        try:
            partition = parse_arn(arn).partition
        except ArnError:
            continue  # malformed ARNs are reported by service_account_role_annotation
        checked.append({"what": what, "arn": arn, "partition": partition})
        if partition != cl.partition:
            mismatches.append(Msg("_partition.mismatch", what=what, arn=arn, partition=partition))
    ev = {"cluster_partition": cl.partition, "arns": checked}
    params = {"mismatches": join(mismatches), "checked": len(checked)}
    if not checked:
        yield Finding("SKIP", "_invalid_role_arn", {"annotation": target.role_arn}, ev)
    elif mismatches:
        yield Finding("FAIL", "mismatch", params, ev)
    else:
        yield Finding("PASS", "pass", params, ev)


def _federated(role: Role) -> list[str]:
    try:
        doc = parse_policy(role.trust_policy)
    except PolicyError:
        return []
    out: list[str] = []
    for stmt in doc["Statement"]:
        if stmt.get("Effect") != "Allow":
            continue
        for arn in (stmt.get("Principal") or {}).get("Federated", ()):
            if arn.startswith("arn:") and arn not in out:
                out.append(arn)
    return out
