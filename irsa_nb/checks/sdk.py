"""Seed step 8: the application's AWS SDK is new enough to use web identity."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..exec_facts import DetectedSdk, facts_for
from ..sdks import SDK_MINIMUMS, SdkMinimum, version_tuple
from ..sdks import minimum as _minimum
from ..trail import sdk_from_user_agent
from .registry import Context, Finding, Subject


def sdk_version_supported(ctx: Context, target: Subject) -> Iterator[Finding]:
    pod = target.pods[0].name if target.pods else "POD_NAME"
    if not ctx.sdk:
        yield from _detected(ctx, target, pod)
        return
    for key, version in ctx.sdk.items():
        have = version_tuple(version)
        m = _minimum(key, have)
        ev = {"sdk": key, "version": version, "seed_minimum": m.seed, "aws_minimum": m.current}
        outcomes = (("FAIL", "too_old"), ("WARN", "raised"), ("PASS", "pass"))
        yield _judged(have, m, _params(m, version), ev, outcomes)


def _params(m: SdkMinimum, version: str, **more: Any) -> dict[str, Any]:
    """The text parameters of a version judged against minimum ``m``."""
    return {
        "sdk": m.label,
        "version": version,
        "minimum": m.seed,
        "current": m.current,
        "upgrade": m.upgrade,
        **more,
    }


def _judged(
    have: tuple[int, ...],
    m: SdkMinimum,
    params: dict[str, Any],
    ev: dict[str, Any],
    outcomes: tuple[tuple[str, str], ...],
) -> Finding:
    """The first of the three (status, key) ``outcomes`` when ``have`` is below the seed
    article's minimum, the second when below today's, else the third."""
    below = [have < version_tuple(m.seed), have < version_tuple(m.current), True]
    row = outcomes[below.index(True)]
    return Finding(row[0], row[1], params, ev)


def _detected(ctx: Context, target: Subject, example_pod: str) -> Iterator[Finding]:
    """Judge the SDKs found inside the target's containers (``--exec``) when none was given."""
    found: dict[tuple[str, str, bool | None], tuple[DetectedSdk, list[str]]] = {}
    searched, missing = [], set()
    for pod in target.pods:
        for name, f in facts_for(ctx.inventory.exec_facts, pod).items():
            if f.sdks is None:
                continue
            searched.append(f"{pod.name}/{name}")
            missing |= set(f.missing_tools)
            for d in f.sdks:
                key = (d.sdk, d.version, d.sts_module)
                found.setdefault(key, (d, []))[1].append(f"{pod.name}/{name}")
    if not found:
        agent = _from_user_agent(ctx, target)
        if agent is not None:
            yield agent
            return
    if not searched:
        yield Finding("SKIP", "not_given", {"example_pod": example_pod})
        return
    if not found:
        params = {"containers": searched, "missing": sorted(missing)}
        yield Finding("SKIP", "not_detected", params, {"source": "exec", "searched": searched})
        return
    for d, places in found.values():
        yield _judge_detected(d, places)


def _judge_detected(d: DetectedSdk, places: list[str]) -> Finding:
    row = SDK_MINIMUMS[d.sdk]
    have = version_tuple(d.version) if re.match(r"^\s*v?\d", d.version) else None
    m = _minimum(d.sdk, have or (max(row) if isinstance(row, dict) else 0,))
    params = _params(m, d.version or "?", containers=places, where=d.where)
    ev = {
        "source": "exec",
        "sdk": d.sdk,
        "version": d.version,
        "where": d.where,
        "containers": places,
        "sts_module": d.sts_module,
        "seed_minimum": m.seed,
        "aws_minimum": m.current,
    }
    if d.sts_module is False:
        return Finding("FAIL", "no_sts_module", params, ev)
    if have is None:
        return Finding("INFO", "version_unknown", params, ev)
    outcomes = (("FAIL", "too_old_exec"), ("WARN", "raised_exec"), ("PASS", "pass_exec"))
    return _judged(have, m, params, ev, outcomes)


def _from_user_agent(ctx: Context, target: Subject) -> Finding | None:
    """When neither ``--sdk`` nor ``--exec`` tells the SDK: the user agent CloudTrail recorded
    on the role's latest web-identity call (``--cloudtrail``) names the SDK that really
    called, and its version."""
    calls = ctx.inventory.web_identity_calls(target.role_arn) if target.role_arn else None
    if not calls or not isinstance(calls, tuple):
        return None
    for call in calls:  # newest first
        found = sdk_from_user_agent(call.user_agent)
        if found is None:
            continue
        key, version = found
        have = version_tuple(version)
        m = _minimum(key, have)
        params = _params(m, version, user_agent=call.user_agent, when=call.time)
        ev = {
            "source": "cloudtrail",
            "sdk": key,
            "version": version,
            "user_agent": call.user_agent,
            "time": call.time,
            "seed_minimum": m.seed,
            "aws_minimum": m.current,
        }
        outcomes = (("FAIL", "too_old_agent"), ("WARN", "raised_agent"), ("PASS", "pass_agent"))
        return _judged(have, m, params, ev, outcomes)
    return None
