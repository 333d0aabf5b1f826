"""What really happened: the opt-in live STS probe (``--probe``), CloudTrail's record of the
role's web-identity calls (``--cloudtrail``) and IAM's policy simulation (``--action``).

The probe itself runs during live collection (:mod:`irsa_nb.live.sts_probe`) and stores its
outcome under ``probe/`` (no secrets); these checks read it through the inventory
(``Inventory.probe_run``, ``Inventory.probe_outcome``), like every other check.
Without a probe in the inventory they return no rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..error_catalogue import Reading, causes, confirmed_by, params_for, read
from ..iam.arn import is_valid_role_arn
from ..inventory import Gap, ProbeOutcome
from ..text import Msg
from .registry import REGISTRY, Context, Finding, Subject, from_gap, needs_role_annotation

_NOT_PROBED_REASONS = ("limit", "invalid_name")


def _outcome(ctx: Context, target: Subject) -> tuple[Finding | None, ProbeOutcome | None]:
    """``(finding, None)`` when there is nothing to read, else ``(None, outcome)``.

    No finding and no outcome: the inventory holds no probe at all (no rows).
    """
    run = ctx.inventory.probe_run()
    if run is None:
        return None, None
    skip = needs_role_annotation(target)
    if skip:
        return skip, None
    outcome = ctx.inventory.probe_outcome(target.namespace, target.name)
    if isinstance(outcome, Gap):
        return from_gap(outcome, "the probe's outcome"), None
    if outcome is None:
        reason = run.not_probed_reason(target.namespace, target.name)
        key = reason if reason in _NOT_PROBED_REASONS else "not_requested"
        params = {"probed": run.probed, "limit": run.max_targets}
        return Finding("SKIP", f"not_probed_{key}", params), None
    return None, outcome


def _diagnosis(ctx: Context, target: Subject, text: str) -> dict[str, Any]:
    """The error catalogue's best cause for an STS error, checked against this service
    account: the causes' checks are asked through the runner (``ctx.statuses_for``), so a
    cause they confirm ranks first, as :func:`irsa_nb.diagnose` would rank it."""
    key = ("sts_probe_diagnosis", target.namespace, target.name, text)
    if key not in ctx.cache:
        ctx.cache[key] = _best_cause(ctx, target, read(text))
    return ctx.cache[key]


def _best_cause(ctx: Context, target: Subject, reading: Reading) -> dict[str, Any]:
    none: dict[str, Any] = {"cause": "", "check_ids": [], "fix": "", "confirmed": None}
    if not reading.recognised:
        return none
    confirm = None
    if ctx.statuses_for is not None:
        statuses = ctx.statuses_for(reading.check_ids, target.namespace, target.name)

        def confirm(ids: tuple[str, ...]) -> bool | None:
            return confirmed_by(frozenset().union(*(statuses.get(i, ()) for i in ids)))

    params = params_for(reading.fields, ctx.inventory.cluster, target.namespace, target.name)
    rows = causes(reading, params, known=REGISTRY, confirm=confirm)
    if not rows:
        return none
    top = rows[0]
    return {
        "cause": top["cause"],
        "check_ids": list(top["check_ids"]),
        "fix": top["fix"],
        "confirmed": top["confirmed"],
        "error": top["error"],
        "causes": [
            {"cause": r["cause"], "check_ids": list(r["check_ids"]), "confirmed": r["confirmed"]}
            for r in rows
        ],
    }


def sts_probe_assume_role(ctx: Context, target: Subject) -> Iterator[Finding]:
    finding, outcome = _outcome(ctx, target)
    if finding is not None:
        yield finding
    if outcome is None:
        return
    doc, token, assume = outcome.document, outcome.token, outcome.assume
    params: dict[str, Any] = {
        "audience": outcome.audience,
        "endpoint": outcome.endpoint,
        "probed_role": outcome.role_arn or target.role_arn or "",
    }
    status = assume.get("status")
    if not token.get("minted") and status in (None, "not_attempted"):
        params["message"] = str(token.get("error") or "no token")
        yield Finding("ERROR", "token_failed", params, doc)
        return
    if status == "assumed":
        params["assumed_arn"] = str(assume.get("caller_arn") or assume.get("assumed_role_arn"))
        if assume.get("identity_error"):
            params["message"] = str(assume["identity_error"])
            yield Finding("WARN", "assumed_unverified", params, doc)
        else:
            yield Finding("PASS", "pass", params, doc)
        return
    if status == "unreachable":
        params["message"] = str(assume.get("message") or "")
        yield Finding("ERROR", "unreachable", params, doc)
        return
    if status not in ("rejected", "error") or not assume.get("code"):
        params["message"] = str(assume.get("message") or "the probe recorded no outcome")
        yield Finding("ERROR", "probe_failed", params, doc)
        return
    code, message = str(assume["code"]), str(assume.get("message") or "").rstrip(". ")
    text = str(assume.get("error") or "") or (
        f"An error occurred ({code}) when calling the AssumeRoleWithWebIdentity operation: "
        f"{message}"
    )
    # The names STS leaves out, so that the causes and fixes name the real role and account.
    context = (
        f"RoleArn {params['probed_role']}, system:serviceaccount:{target.namespace}:{target.name}"
    )
    diag = _diagnosis(ctx, target, f"{text} ({context})")
    params.update(code=code, message=message)
    if diag["cause"]:
        params.update(
            cause=diag["cause"],
            checks=", ".join(diag["check_ids"]) or "-",
            fix=diag["fix"],
        )
    evidence = {**doc, "diagnosis": diag}
    if status == "error":
        key = "sts_error" if diag["cause"] else "sts_error_unknown"
        yield Finding("ERROR", key, params, evidence)
        return
    yield Finding("FAIL", "rejected" if diag["cause"] else "rejected_unknown", params, evidence)


def sts_probe_permissions(ctx: Context, target: Subject) -> Iterator[Finding]:
    run = ctx.inventory.probe_run()
    if run is not None and run.actions is False:
        return  # the probe ran without --action: nothing to simulate
    finding, outcome = _outcome(ctx, target)
    if finding is not None:
        yield finding
    if outcome is None:
        return
    role = outcome.role_arn or target.role_arn or ""
    if not is_valid_role_arn(role):
        yield Finding("SKIP", "_invalid_role_arn", {"annotation": role})
        return
    perms = outcome.permissions
    if perms.get("status") != "simulated":
        message = str(perms.get("error") or "the probe recorded no simulation")
        yield Finding("ERROR", "simulation_failed", {"message": message}, perms or None)
        return
    for r in perms.get("results") or []:
        if not isinstance(r, dict):
            continue
        params = {
            "action": str(r.get("action", "")),
            "resource": str(r.get("resource", "")),
            "statements": ", ".join(str(s) for s in r.get("matched_statements") or []) or "-",
            "context_keys": ", ".join(str(k) for k in r.get("missing_context") or []),
        }
        decision = str(r.get("decision", ""))
        if decision == "allowed":
            yield Finding("PASS", "allowed", params, r)
        elif params["context_keys"]:
            yield Finding("WARN", "needs_context", {**params, "decision": decision}, r)
        elif decision == "explicitDeny":
            yield Finding("FAIL", "explicit_deny", params, r)
        else:
            yield Finding("FAIL", "implicit_deny", {**params, "decision": decision}, r)


# --- what really happened: CloudTrail's calls and the policy simulation (--cloudtrail, --action)


def _short_time(t: str) -> str:
    return t.replace("T", " ").removesuffix("Z")[:19] if t else "?"


def sts_recent_calls(ctx: Context, target: Subject) -> Iterator[Finding]:
    """FAIL when the role's latest web-identity calls in CloudTrail failed (one row per error
    code, with its diagnosis), PASS when the latest succeeded, INFO when there were none;
    SKIP when CloudTrail was not read (``--cloudtrail``)."""
    inv = ctx.inventory
    role = target.role_arn or ""
    skip = needs_role_annotation(target)
    if skip:
        yield skip
        return
    calls = inv.web_identity_calls(role)
    if calls is None:
        yield Finding("SKIP", "not_read", {}, {"role_arn": role})
        return
    if isinstance(calls, Gap):
        yield from_gap(calls, "CloudTrail's AssumeRoleWithWebIdentity events")
        return
    partial = inv.web_identity_lookup_partial
    base: dict[str, Any] = {"partial": Msg("_trail.partial") if partial else ""}
    if not calls:
        yield Finding("INFO", "no_calls", base, {"role_arn": role, "partial": partial})
        return
    latest = calls[0]
    ok = [c for c in calls if not c.failed]
    if not latest.failed:
        failed = len(calls) - len(ok)
        params = {
            **base,
            "count": len(ok),
            "last": _short_time(latest.time),
            "subject": latest.subject or "?",
            "failed": failed,
            "user_agent": latest.user_agent or "?",
        }
        ev = {"calls": [c.as_dict() for c in calls[:20]], "partial": partial}
        yield Finding("PASS", "pass" if not failed else "pass_after_failures", params, ev)
        return
    # the latest call failed: one row per error code among the failures since the last success
    since = []
    for c in calls:
        if not c.failed:
            break
        since.append(c)
    by_code: dict[str, list[Any]] = {}
    for c in since:
        by_code.setdefault(c.error_code, []).append(c)
    for code, group in by_code.items():
        last = group[0]
        message = last.error_message.rstrip(". ")
        text = (
            f"An error occurred ({code}) when calling the AssumeRoleWithWebIdentity operation: "
            f"{message} (RoleArn {role}, {last.subject or target.namespace})"
        )
        diag = _diagnosis(ctx, target, text)
        params = {
            **base,
            "code": code,
            "message": message or "-",
            "count": len(group),
            "last": _short_time(last.time),
            "subject": last.subject or "?",
            "audience": last.audience or "?",
            "user_agent": last.user_agent or "?",
            "succeeded": len(ok),
        }
        params["role"] = role.rsplit("/", 1)[-1]
        if diag["cause"]:
            params.update(cause=diag["cause"], checks=", ".join(diag["check_ids"]) or "-")
            params["fix"] = diag["fix"]
        ev = {
            "error_code": code,
            "calls": [c.as_dict() for c in group[:20]],
            "partial": partial,
            "diagnosis": diag,
        }
        yield Finding("FAIL", "failed" if diag["cause"] else "failed_unknown", params, ev)


def role_allows_actions(ctx: Context, target: Subject) -> Iterator[Finding]:
    """What IAM's policy simulator decided for the actions given with ``--action`` (no rows
    when no simulation was collected for the role)."""
    role = target.role_arn or ""
    if not is_valid_role_arn(role):
        return
    results = ctx.inventory.simulation(role.rsplit("/", 1)[-1])
    if results is None:
        return
    skip = needs_role_annotation(target)
    if skip:
        yield skip
        return
    if isinstance(results, Gap):
        params = {"message": results.message}
        yield Finding("ERROR", "simulation_failed", params, {"path": results.path})
        return
    for r in results:
        params = {
            "action": r.action,
            "resource": r.resource,
            "decision": r.decision,
            "statements": ", ".join(r.matched_statements) or "-",
            "context_keys": ", ".join(r.missing_context),
            "boundary": _allowed_text(r.boundary_allowed),
            "organizations": _allowed_text(r.organizations_allowed),
        }
        ev = r.as_dict()
        if r.decision == "allowed":
            yield Finding("PASS", "allowed", params, ev)
        elif r.missing_context:
            yield Finding("WARN", "needs_context", params, ev)
        elif r.decision == "explicitDeny":
            yield Finding("FAIL", "explicit_deny", params, ev)
        else:
            yield Finding("FAIL", "implicit_deny", params, ev)


def _allowed_text(value: bool | None) -> str:
    """IAM's AllowedByPermissionsBoundary / AllowedByOrganizations as returned, "-" if absent."""
    return "-" if value is None else str(value).lower()
