"""Seed steps 2 and 3: the IAM role, its policies and its trust relationship."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from ..exec_facts import facts_for
from ..iam.arn import ArnError, issuer_host_path, oidc_provider_arn, parse_arn
from ..iam.arn import role_name as arn_role_name
from ..iam.trust import PolicyError, WebIdentityRequest, evaluate_trust
from ..inventory import Cluster, Gap, Role
from ..sdk_endpoints import GLOBAL_ENDPOINT, calls_for
from ..text import Msg
from .helpers import annotated_role, restart_command, trust_inputs
from .registry import Context, Finding, Subject, from_gap


def role_exists(ctx: Context, target: Subject) -> Iterator[Finding]:
    role = annotated_role(ctx, target)
    if isinstance(role, Finding):
        yield role
    elif isinstance(role, Role):
        yield Finding("PASS", "pass", {"role": role.name}, {"arn": role.arn})
    elif role.kind == "not_found":
        yield Finding(
            "FAIL",
            "missing",
            {"role": arn_role_name(target.role_arn or "")},
            {"error": role.message},
        )
    else:
        yield from_gap(role, "the IAM role")


def role_has_policies(ctx: Context, target: Subject) -> Iterator[Finding]:
    role = annotated_role(ctx, target)
    if isinstance(role, Finding):
        yield role
        return
    if isinstance(role, Gap):
        yield Finding("SKIP", "_role_unavailable")
        return
    lists = [x for x in (role.attached, role.inline) if not isinstance(x, Gap)]
    if not lists:
        assert isinstance(role.attached, Gap)
        yield from_gap(role.attached, "the role's policy lists")
        return
    names = [n for lst in lists for n in lst]
    ev = {
        "attached": None if isinstance(role.attached, Gap) else list(role.attached),
        "inline": None if isinstance(role.inline, Gap) else list(role.inline),
    }
    params = {"role": role.name, "policies": [n.rsplit("/", 1)[-1] for n in names]}
    if names:
        yield Finding("PASS", "pass", params, ev)
    elif len(lists) == 2:
        yield Finding("FAIL", "none", params, ev)
    else:
        gap = role.attached if isinstance(role.attached, Gap) else role.inline
        assert isinstance(gap, Gap)
        yield from_gap(gap, "one of the role's policy lists")


def trust_policy_allows_service_account(ctx: Context, target: Subject) -> Iterator[Finding]:
    inputs = trust_inputs(ctx, target)
    if isinstance(inputs, Finding):
        yield inputs
        return
    cl, role = inputs
    assert target.sa is not None
    try:
        account = parse_arn(role.arn).account
    except ArnError:
        account = cl.account
    request = WebIdentityRequest(
        provider_arn=oidc_provider_arn(cl.partition, account, cl.issuer),
        issuer=issuer_host_path(cl.issuer),
        sub=f"system:serviceaccount:{target.namespace}:{target.name}",
        aud=target.sa.audience,
    )
    region = requested_region(cl, target, ctx.sdk)
    key = (role.name, request, region)
    if key not in ctx.cache:
        try:
            ctx.cache[key] = evaluate_trust(role.trust(), request, requested_region=region)
        except PolicyError as exc:
            ctx.cache[key] = exc
    decision = ctx.cache[key]
    params = {
        "role": role.name,
        "sub": request.sub,
        "aud": request.aud,
        "provider_arn": request.provider_arn,
        "issuer": request.issuer,
    }
    ev = {"trust_policy": _as_json(role), "request": vars(request)}
    if isinstance(decision, PolicyError):
        yield Finding("ERROR", "invalid_policy", {**params, "reason": decision.message}, ev)
    elif decision.allowed:
        yield Finding("PASS", "pass", {**params, "statement": decision.allowed_by}, ev)
    elif decision.undecided:
        ev["undecided"] = list(decision.undecided)
        ev["requested_region"] = region
        keys = sorted({c.split(" ", 1)[1] for c in decision.undecided})
        yield Finding("WARN", "undecided", {**params, "reason": decision.reason, "keys": keys}, ev)
    else:
        fix = {"trust_json": _suggested_trust(request)}  # the denied remediation's only
        yield Finding("FAIL", "denied", {**params, "reason": decision.reason, **fix}, ev)
    yield from _real_tokens(ctx, target, role, request, account, cl.partition, params, region)


def requested_region(cl: Cluster, target: Subject, sdk: dict[str, str]) -> str | None:
    """The Region the pods' SDKs send AssumeRoleWithWebIdentity to (``aws:RequestedRegion``),
    from :mod:`irsa_nb.sdk_endpoints` for the SDKs given (else every SDK family); the cluster's
    Region when no mutated container is seen. ``None`` (unknown) when the calls disagree or
    one goes to the global endpoint, whose requests are served in the Region they come from
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_region-endpoints.html
    #reference_sts_global_endpoint_changes)."""
    regions: set[str | None] = set()
    for pod in target.pods:
        for c in pod.containers:
            if c.env_value("AWS_ROLE_ARN") is None:
                continue
            env = {name: var.value for name, var in c.env.items()}
            for call in calls_for(env, sdk, cl.region):
                if call.endpoint is not None:
                    regions.add(None if call.endpoint == GLOBAL_ENDPOINT else call.region)
    if not regions:
        return cl.region
    return regions.pop() if len(regions) == 1 else None


def _when(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if epoch else "?"


def _real_tokens(
    ctx: Context,
    target: Subject,
    role: Role,
    expected: WebIdentityRequest,
    account: str,
    partition: str,
    base: dict,
    region: str | None,
) -> Iterator[Finding]:
    """One row per pod whose projected token was read inside it (``--exec``): its real
    ``iss``/``sub``/``aud`` against the ones checked above, judged by the trust policy, and
    whether it had expired when it was read."""
    for pod in target.pods:
        f = next((f for f in facts_for(ctx.inventory.exec_facts, pod).values() if f.claims), None)
        if f is None or f.claims is None:
            continue
        tok = f.claims
        params = {
            **base,
            "pod": pod.name,
            "container": f.container,
            "restart": restart_command(pod),
            "token_sub": tok.sub or "-",
            "token_aud": list(tok.aud),
            "token_iss": tok.iss or "-",
        }
        ev = {
            "source": "exec",
            "pod": pod.name,
            "container": f.container,
            "claims": {"iss": tok.iss, "sub": tok.sub, "aud": list(tok.aud)},
            "exp": _when(tok.exp),
            "iat": _when(tok.iat),
            "checked_at": _when(tok.checked_at),
            "expected": {"issuer": expected.issuer, "sub": expected.sub, "aud": expected.aud},
        }
        if tok.expired:
            times = {"exp": _when(tok.exp), "checked_at": _when(tok.checked_at)}
            yield Finding("FAIL", "token_expired", {**params, **times}, ev, pod=pod)
        try:
            issuer = issuer_host_path(tok.iss) if tok.iss else ""
        except ValueError:
            issuer = tok.iss
        diffs = []
        if issuer != expected.issuer:
            diffs.append(Msg("_token.iss", actual=tok.iss or "-", expected=expected.issuer))
        if tok.sub != expected.sub:
            diffs.append(Msg("_token.sub", actual=tok.sub or "-", expected=expected.sub))
        if expected.aud not in tok.aud:
            aud = ", ".join(tok.aud) or "-"
            diffs.append(Msg("_token.aud", actual=aud, expected=expected.aud))
        if not diffs:
            if not tok.expired:
                yield Finding("PASS", "token_matches", params, ev, pod=pod)
            continue
        params["differences"] = diffs
        try:
            decisions = [
                evaluate_trust(
                    role.trust(),
                    WebIdentityRequest(
                        provider_arn=oidc_provider_arn(partition, account, tok.iss)
                        if tok.iss
                        else expected.provider_arn,
                        issuer=issuer,
                        sub=tok.sub,
                        aud=aud,
                    ),
                    requested_region=region,
                )
                for aud in tok.aud or ("",)
            ]
        except (PolicyError, ValueError):
            continue  # the policy itself is reported above
        allowed = next((d for d in decisions if d.allowed), None)
        undecided = next((d for d in decisions if d.undecided), None)
        if allowed is not None:
            yield Finding("WARN", "token_differs", params, ev, pod=pod)
        elif undecided is not None:
            reason = undecided.reason
            yield Finding("WARN", "token_undecided", {**params, "reason": reason}, ev, pod=pod)
        else:
            reason = decisions[0].reason
            yield Finding("FAIL", "token_denied", {**params, "reason": reason}, ev, pod=pod)


def _as_json(role: Role) -> object:
    """The role's trust policy for evidence: normalised, else as collected."""
    try:
        return role.trust()
    except PolicyError:
        return role.trust_policy


def _suggested_trust(req: WebIdentityRequest) -> str:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": req.provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{req.issuer}:sub": req.sub, f"{req.issuer}:aud": req.aud}
                },
            }
        ],
    }
    return json.dumps(doc, indent=2)
