"""Seed steps 6, 7, 9, 10, 13: what the pod spec shows about IRSA."""

from __future__ import annotations

from collections.abc import Iterator

from ..exec_facts import ExecFacts, can_read, effective_pod, facts_for
from ..inventory import Cluster, Gap
from ..k8s import IRSA_ENV_VARS, TOKEN_DIR, Container, Pod
from ..sdk_endpoints import StsCall, calls_for
from ..text import Msg, join
from .helpers import mutable_containers, restart_command, shape_error, skipped_containers
from .registry import Context, Finding, Subject, annotated_service_accounts, from_gap


def pod_identity_injected(containers: list[Container]) -> bool:
    """Whether EKS Pod Identity credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI) were injected
    into ``containers``: then the association, not IRSA, decides (pod_identity_precedence)."""
    return any(c.env_value("AWS_CONTAINER_CREDENTIALS_FULL_URI") for c in containers)


def pod_uses_service_account(ctx: Context, target: Subject, pod: Pod) -> Iterator[Finding]:
    inv = ctx.inventory
    params = {"used": pod.service_account, "expected": target.name}
    if pod.service_account != target.name:
        yield Finding("FAIL", "other", params, {"serviceAccountName": pod.service_account})
        return
    if isinstance(inv.service_accounts, Gap):
        yield from_gap(inv.service_accounts, "the service account list")
        return
    ev = {"serviceAccountName": pod.service_account}
    params["annotated"] = annotated_service_accounts(ctx, pod.namespace)
    if target.sa is None and pod.namespace in inv.namespace_errors:
        unread = {"message": inv.namespace_errors[pod.namespace]}
        yield Finding("ERROR", "_namespace_unreadable", {**params, **unread}, ev)
    elif target.sa is None:
        yield Finding("FAIL", "missing", params, ev)
    elif not target.sa.role_arn:
        status = "WARN" if ctx.namespace_scope and not ctx.pod_requested else "FAIL"
        yield Finding(status, "not_annotated", params, ev)
    else:
        yield Finding("PASS", "pass", params, ev)


def pod_has_irsa_env(ctx: Context, target: Subject, pod: Pod) -> Iterator[Finding]:
    facts = facts_for(ctx.inventory.exec_facts, pod)  # in-pod evidence (--exec), if any
    pod, sources = effective_pod(ctx.inventory.exec_facts, pod)
    containers = mutable_containers(pod)
    ev = {
        c.name: {v: c.env_value(v) for v in (*IRSA_ENV_VARS, "AWS_REGION", "AWS_DEFAULT_REGION")}
        | {"token_mount": TOKEN_DIR in c.mounts, "source": sources[c.name]}
        | ({"os": "windows"} if pod.windows else {})
        | _token_seen(facts.get(c.name))
        for c in containers
    }
    seen = "_exec" if any(sources[c.name] == "exec" for c in containers) else ""
    params = {"restart": restart_command(pod), "skipped": sorted(skipped_containers(pod))}
    has_env = any(c.env_value(v) for c in containers for v in IRSA_ENV_VARS)
    if isinstance(ctx.inventory.service_accounts, Gap) and not has_env:
        yield from_gap(ctx.inventory.service_accounts, "the service account list")
        return
    if target.sa is not None and not target.role_arn and not has_env and not ctx.pod_requested:
        yield Finding("SKIP", "_no_role_annotation", params, ev)
        return
    if not containers:
        yield Finding("SKIP", "all_skipped", params, ev)
        return
    if not has_env and pod_identity_injected(containers):
        yield Finding("SKIP", "pod_identity_injected", params, ev)
        return
    problems = []
    for c in containers:
        missing = [v for v in IRSA_ENV_VARS if c.env_value(v) is None]
        token = facts[c.name].token if c.name in facts else None
        if token is not None and token.exists is not None:  # seen inside the container
            if not token.exists:
                missing.append(f"the token file {token.path} (inside the container)")
        else:
            if pod.token_mount(c) is None:
                missing.append(f"volumeMount {TOKEN_DIR}")
        if missing:
            where = ", seen inside the container" if sources[c.name] == "exec" else ""
            problems.append(f"{c.name} (missing {', '.join(missing)}{where})")
    if not problems:
        yield Finding("PASS", "pass" + seen, params, ev)
    elif not has_env:
        yield Finding("FAIL", "not_injected" + seen, params, ev)
    else:
        yield Finding("FAIL", "partial" + seen, {**params, "problems": problems}, ev)


def _token_seen(facts: ExecFacts | None) -> dict:
    """Evidence of the token file as the container sees it (``--exec``)."""
    tok = facts.token if facts else None
    if tok is None:
        return {}
    return {"token_file": tok.path, "token_file_exists": tok.exists}


def pod_can_read_token(ctx: Context, target: Subject, pod: Pod) -> Iterator[Finding]:
    inv = ctx.inventory
    version = inv.kubernetes_version
    vt = tuple(int(x) for x in version.split(".")) if version else None
    users = {
        c.name: (c.run_as_user if c.run_as_user is not None else pod.run_as_user)
        for c in mutable_containers(pod)
        if pod.token_mount(c) is not None
    }
    ev = {"kubernetes_version": version, "fs_group": pod.fs_group, "run_as_user": users}
    params = {"version": version or "unknown"}
    # In-pod evidence (--exec): the real uid/gid and the token file's owner and mode decide.
    facts = facts_for(inv.exec_facts, pod)
    mutable = {c.name for c in mutable_containers(pod)}
    judged = {n: (f, can_read(f)) for n, f in facts.items() if n in mutable}
    judged = {n: fr for n, fr in judged.items() if fr[1] is not None}
    if judged:
        ev["source"] = "exec"
        ev["seen_inside"] = {n: _read_facts(f, ok) for n, (f, ok) in judged.items()}
        seen = [_read_text(n, f) for n, (f, ok) in sorted(judged.items())]
        denied = [_read_text(n, f) for n, (f, ok) in sorted(judged.items()) if not ok]
        if denied:
            yield Finding("FAIL", "unreadable_exec", {**params, "containers": denied}, ev)
            return
        users = {n: uid for n, uid in users.items() if n not in judged}
        if not users:
            yield Finding("PASS", "pass_exec", {**params, "containers": seen}, ev)
            return
    if not users:
        yield Finding("SKIP", "no_token", params, ev)
    elif pod.windows:
        # No uid/gid/fsGroup on Windows: the kubelet leaves projected files to the default
        # ACL, which lets BUILTIN\Users read them, so every container user can read the token
        # (https://kubernetes.io/docs/concepts/storage/projected-volumes/#windows).
        yield Finding("PASS", "pass_windows", params, {**ev, "os": "windows"})
    elif vt is None:
        yield Finding("SKIP", "no_version", params, ev)
    elif vt >= (1, 19):
        yield Finding("PASS", "pass_new", params, ev)
    elif pod.fs_group is not None:
        yield Finding("PASS", "pass_fsgroup", {**params, "fs_group": pod.fs_group}, ev)
    else:
        non_root = sorted(n for n, uid in users.items() if uid not in (None, 0))
        unknown = sorted(n for n, uid in users.items() if uid is None)
        forced = [
            n
            for n in unknown
            if next(c for c in pod.all_containers if c.name == n).run_as_non_root
            or pod.run_as_non_root
        ]
        if non_root or forced:
            yield Finding("FAIL", "non_root", {**params, "containers": non_root + forced}, ev)
        elif unknown:
            yield Finding("WARN", "user_unknown", {**params, "containers": unknown}, ev)
        else:
            yield Finding("PASS", "pass_root", params, ev)


def _read_facts(f: ExecFacts, readable: bool | None) -> dict:
    tok = f.token
    assert tok is not None
    return {
        "uid": f.uid,
        "gid": f.gid,
        "groups": list(f.groups),
        "token_file": tok.path,
        "owner": tok.uid,
        "group": tok.gid,
        "mode": tok.mode_text,
        "readable": readable,
    }


def _read_text(name: str, f: ExecFacts) -> str:
    """``app (uid 1000 gid 1000; token 0:0 600)`` for the detail text."""
    tok = f.token
    assert tok is not None
    owner = f"{tok.uid}:{tok.gid} {tok.mode_text}" if tok.uid is not None else "owner unknown"
    user = f"uid {f.uid} gid {f.gid}" if f.uid is not None else "user unknown"
    return f"{name} ({user}; token {owner})"


def pod_matches_annotation(ctx: Context, target: Subject, pod: Pod) -> Iterator[Finding]:
    sa = ctx.inventory.service_account(pod.namespace, pod.service_account)
    injected = sorted(
        {c.env_value("AWS_ROLE_ARN") for c in mutable_containers(pod)} - {None}  # type: ignore[arg-type]
    )
    wanted = sa.role_arn if sa else None
    params = {
        "restart": restart_command(pod),
        "annotation": wanted or "-",
        "injected": injected,
        "service_account": pod.service_account,
        "created": pod.created or "?",
    }
    ev = {"annotation": wanted, "pod_AWS_ROLE_ARN": injected, "created": pod.created}
    if sa is None:
        yield Finding("SKIP", "_no_service_account", params, ev)
    elif not wanted and not injected:
        yield Finding("SKIP", "_no_role_annotation", params, ev)
    elif not injected and pod_identity_injected(mutable_containers(pod)):
        # recreating the pod would inject Pod Identity again: pod_identity_precedence decides
        yield Finding("SKIP", "pod_identity_injected", params, ev)
    elif not injected:
        yield Finding("FAIL", "not_injected", params, ev)
    elif injected != [wanted]:
        yield Finding("FAIL", "stale", params, ev)
    else:
        yield Finding("PASS", "pass", params, ev)


def china_region_env(ctx: Context) -> Iterator[Finding]:
    cl = ctx.inventory.cluster
    if isinstance(cl, Gap):
        yield from_gap(cl, "the cluster description")
        return
    assert isinstance(cl, Cluster)
    if not cl.region.startswith("cn-"):
        yield Finding("SKIP", "not_china", {"region": cl.region})
        return
    for target in ctx.targets:
        for pod in target.pods:
            bad = shape_error(pod)
            if bad:
                yield Finding(bad.status, bad.key, bad.params, bad.evidence, target, pod)
                continue
            yield _china_pod(cl, mutable_containers(pod), ctx.sdk, target, pod)


_REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")


def _china_pod(
    cl: Cluster, containers: list[Container], sdk: dict[str, str], target: Subject, pod: Pod
) -> Finding:
    """Each container's STS call in a China region (:mod:`irsa_nb.sdk_endpoints`): FAIL when
    the SDK given (or, unknown, every SDK reading a variable) leaves the aws-cn partition or
    finds no region; WARN when the SDK is unknown and only some SDKs would."""
    bad: dict[str, list[StsCall]] = {}
    good: list[StsCall] = []
    ev: dict[str, dict] = {}
    endpoints: list[str] = []
    for c in containers:
        env = {name: var.value for name, var in c.env.items()}
        calls = calls_for(env, sdk, cl.region)
        wrong = [x for x in calls if x.partition != "aws-cn"]
        ev[c.name] = {v: env.get(v) for v in _REGION_VARS} | {
            "calls": {x.sdk: x.endpoint for x in calls}
        }
        endpoints += [x.endpoint for x in calls if x.partition == "aws-cn" and x.endpoint]
        if wrong:
            bad[c.name] = wrong
            good += [x for x in calls if x.partition == "aws-cn"]
    unset = sorted({v for c in containers for v in _REGION_VARS if not c.env_value(v)})
    params = {
        "region": cl.region,
        "containers": sorted(bad),
        "endpoint": ", ".join(dict.fromkeys(endpoints)) or "-",
        "unset": ", ".join(unset) or "-",
    }
    if not bad:
        return Finding("PASS", "pass", params, ev, target=target, pod=pod)
    wrong = [x for calls in bad.values() for x in calls]
    global_sdks = ", ".join(dict.fromkeys(x.sdk for x in wrong if x.endpoint))
    failing_sdks = ", ".join(dict.fromkeys(x.sdk for x in wrong if not x.endpoint))
    params["wrong"] = join(
        [Msg("_region.global", sdks=global_sdks)] * bool(global_sdks)
        + [Msg("_region.no_region", sdks=failing_sdks)] * bool(failing_sdks)
    )
    # SDK unknown and a region variable the container sets works for some SDKs: say which fail
    some = not sdk and any(x.source_is_env for x in good)
    status, key = ("WARN", "some_sdks") if some else ("FAIL", "missing")
    return Finding(status, key, params, ev, target=target, pod=pod)
