"""Beyond the article: which STS endpoint the pod calls, and partition consistency.

Which region and STS host each SDK takes from a container's environment is decided in one
place, :mod:`irsa_nb.sdk_endpoints` (botocore reads ``AWS_DEFAULT_REGION``, the other SDKs
``AWS_REGION``; "legacy" mode sends the 16 legacy regions to ``sts.amazonaws.com``). The
global endpoint is not reachable through an STS VPC endpoint (private clusters), issues
session tokens that opt-in regions reject, and belongs to the ``aws`` partition only.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..iam.arn import ArnError, parse_arn
from ..iam.trust import PolicyError
from ..inventory import Cluster, Gap, Role
from ..k8s import IRSA_ENV_VARS, Container, Pod
from ..sdk_endpoints import (
    GLOBAL_ENDPOINT,
    OPT_IN_REGIONS,
    STS_ENV,
    StsCall,
    calls_for,
    sdk_sts_default,
    sts_host,
)
from ..text import Msg, join
from .helpers import annotated_role, mutable_containers, restart_command
from .registry import Context, Finding, Subject, from_gap, needs_role_annotation

STS_ANNOTATION = "eks.amazonaws.com/sts-regional-endpoints"
_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_go_bool(value: str) -> bool | None:
    """``strconv.ParseBool`` as the webhook uses it; None when it would fail (ignored)."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    return None


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
        "regional_endpoint": sts_host(cl.region),
        "private": cl.endpoint_public_access is False,
    }
    if not containers:
        yield Finding("SKIP", "no_irsa_env", params)
        return
    findings: list[tuple[str, str, list[str]]] = []  # (status, key, containers)
    ev: dict[str, dict] = {}
    extras: dict[str, dict[str, str]] = {}
    for c in containers:
        status, key, info, extra = _judge_container(cl, c, ctx.sdk)
        ev[c.name] = info
        extras[c.name] = extra
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
    extra = extras.get(names[0], {}) if names else {}
    params = {**params, "containers": names, **_mode(ev, names), **extra}
    yield Finding(worst[0], worst[1], params, ev_all)


def _region_of(c: Container) -> str | None:
    return c.env_value("AWS_REGION") or c.env_value("AWS_DEFAULT_REGION") or None


def container_env(c: Container) -> dict[str, str]:
    """The container's environment as its SDK reads it (name -> value)."""
    return {name: var.value for name, var in c.env.items()}


def _mode(ev: dict[str, dict], names: list[str]) -> dict[str, str]:
    info = ev.get(names[0], {}) if names else {}
    return {"mode": info.get("mode") or "unset", "endpoint": info.get("endpoint") or "-"}


def _labels(calls: list[StsCall]) -> str:
    return ", ".join(dict.fromkeys(c.sdk for c in calls))


def _judge_container(
    cl: Cluster, c: Container, sdk: dict[str, str]
) -> tuple[str, str, dict, dict[str, str]]:
    """(status, key, evidence, extra params) for one container with IRSA env, from the calls
    its SDK (or, unknown, every SDK family) makes (:mod:`irsa_nb.sdk_endpoints`)."""
    env = container_env(c)
    value = env.get(STS_ENV)
    info: dict = {STS_ENV: value, "region_env": _region_of(c)}
    defaults = {sdk_sts_default(k, v) for k, v in sdk.items()} or {None}
    modes = {value} if value else defaults
    info["mode"] = "/".join(sorted(m or "unknown" for m in modes))
    calls = calls_for(env, sdk, cl.region)
    reached = [x for x in calls if x.endpoint]
    info["endpoint"] = ", ".join(dict.fromkeys(x.endpoint for x in reached)) or "-"
    extra = {"endpoint": info["endpoint"], "sdks": ""}
    if value is not None and value not in ("regional", "legacy"):
        return "FAIL", "invalid_env", info, extra
    private = cl.endpoint_public_access is False
    no_region = [x for x in calls if x.scope == "no_region"]
    if sdk and no_region:
        info["calls"] = [x.as_dict() for x in calls]
        return "FAIL", "region_required", info, {**extra, "sdks": _labels(no_region)}
    glob = [x for x in calls if x.scope == "global"]
    regionless = [x for x in glob if x.region is None]
    env_regional = [x for x in calls if x.scope == "regional" and x.source_is_env]
    if regionless and env_regional and not sdk:
        # a region variable is set, but some SDKs do not read it (botocore: AWS_DEFAULT_REGION)
        info["calls"] = [x.as_dict() for x in calls]
        bad = private or cl.region in OPT_IN_REGIONS or cl.partition != "aws"
        extra = {
            "sdks": _labels(regionless),
            "endpoint": ", ".join(dict.fromkeys(x.endpoint for x in env_regional if x.endpoint)),
            "set": ", ".join(v for v in ("AWS_REGION", "AWS_DEFAULT_REGION") if env.get(v)),
        }
        if bad:
            return "WARN", "partial_region", info, extra
        return "INFO", "partial_region", info, extra
    if regionless and not env_regional:
        info["endpoint"] = GLOBAL_ENDPOINT
        extra = {"endpoint": GLOBAL_ENDPOINT, "sdks": _labels(regionless)}
        if private:
            return "FAIL", "no_region_private", info, extra
        if cl.region in OPT_IN_REGIONS:
            return "FAIL", "no_region_opt_in", info, extra
        if cl.partition != "aws":
            return "FAIL", "no_region_partition", info, extra
        return "INFO", "no_region", info, extra
    region = next((x.region for x in env_regional), None) or _region_of(c)
    legacy = [x for x in glob if x.region is not None]
    if legacy and (value == "legacy" or sdk):
        info["endpoint"] = GLOBAL_ENDPOINT
        extra = {"endpoint": GLOBAL_ENDPOINT, "sdks": _labels(legacy), "region": region}
        if private:
            return "FAIL", "legacy_private", info, extra
        return "INFO", "legacy_public", info, extra
    if legacy:
        info["endpoint"] = "SDK default"
        extra = {"sdks": _labels(legacy), "endpoint": sts_host(region)}
        return (
            ("WARN", "unknown_private", info, extra)
            if private
            else ("PASS", "pass_default", info, extra)
        )
    other = [x for x in reached if x.partition and x.partition != cl.partition]
    if other:
        info["calls"] = [x.as_dict() for x in calls]
        return "FAIL", "other_partition", info, {**extra, "sdks": _labels(other)}
    return "PASS", "pass", info, extra


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
            if value:
                what = Msg("_partition.pod_env", pod=p.name)
                if (what, value) not in arns:
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
    sts = _sts_mismatches(cl, target.pods, ctx.sdk)
    if sts:
        mismatches += [m for m, _ in sts]
        ev["sts_endpoints"] = [e for _, e in sts]
    params = {"mismatches": join(mismatches), "checked": len(checked)}
    if not checked and not sts:
        yield Finding("SKIP", "_invalid_role_arn", {"annotation": target.role_arn}, ev)
    elif mismatches:
        yield Finding("FAIL", "mismatch", params, ev)
    else:
        yield Finding("PASS", "pass", params, ev)


def _sts_mismatches(cl: Cluster, pods: list[Pod], sdk: dict[str, str]) -> list[tuple[str, dict]]:
    """STS endpoints in another partition that a region variable of a pod sends its SDK to
    (e.g. AWS_REGION=us-west-2 copied into a cn-north-1 cluster)."""
    out: list[tuple[str, dict]] = []
    for p in pods:
        for c in mutable_containers(p):
            if not all(c.env_value(v) for v in IRSA_ENV_VARS):
                continue
            calls = [x for x in calls_for(container_env(c), sdk, cl.region) if x.source_is_env]
            wrong = [x for x in calls if x.partition != cl.partition]
            for endpoint in dict.fromkeys(x.endpoint for x in wrong):
                same = [x for x in wrong if x.endpoint == endpoint]
                what = Msg(
                    "_partition.sts",
                    sdks=", ".join(x.sdk for x in same),
                    pod=p.name,
                    source=", ".join(dict.fromkeys(x.region_source for x in same)),
                )
                partition = same[0].partition or ""
                msg = Msg("_partition.mismatch", what=what, arn=endpoint, partition=partition)
                out.append((msg, {"pod": p.name, "endpoint": endpoint, "partition": partition}))
    return out


def _federated(role: Role) -> list[str]:
    try:
        doc = role.trust()
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
