"""Beyond the article: the pod identity webhook's configuration and the annotations it honours.

Semantics follow amazon-eks-pod-identity-webhook (its handler:
https://github.com/aws/amazon-eks-pod-identity-webhook/blob/master/pkg/handler/handler.go):
it mutates pods on CREATE only, parses ``eks.amazonaws.com/token-expiration`` with
``strconv.ParseInt`` (an unparsable value is ignored, values below 600 are raised to 600)
and reads ``eks.amazonaws.com/skip-containers`` with Go's ``encoding/csv`` (a parse error
skips nothing; names are not trimmed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..credentials import ACCESS_KEY, CONTAINER_URIS, ROLE_ARN, SECRET_KEY, TOKEN_FILE
from ..inventory import Gap
from ..k8s import TOKEN_VOLUME, Container, Pod, _d, _l
from .helpers import (
    SKIP_CONTAINERS_ANNOTATION,
    restart_command,
    webhook_mutated,
    webhook_skip_names,
)
from .registry import Context, Finding, Subject, from_gap, needs_role_annotation

TOKEN_EXPIRATION_ANNOTATION = "eks.amazonaws.com/token-expiration"
MIN_TOKEN_EXPIRATION = 600
MAX_TOKEN_EXPIRATION = 86400
WEBHOOK_NAMES = ("iam-for-pods.amazonaws.com", "pod-identity-webhook.amazonaws.com")
_SHOWN_CHARS = 40  # of an annotation value in a detail
_INT64 = re.compile(r"([+-]?)0*([0-9]{1,19})")  # Go accepts leading zeros; int64 has 19 digits


# --- webhook_configured ----------------------------------------------------------------


def is_pod_identity_webhook(config_name: str, webhook_name: str) -> bool:
    """Whether a MutatingWebhookConfiguration entry is the (EKS or self-managed) IRSA webhook."""
    return (
        "pod-identity-webhook" in config_name
        or "pod-identity-webhook" in webhook_name
        or webhook_name in WEBHOOK_NAMES
    )


def _covers_pod_create(rules: Any) -> bool:
    for rule in rules if isinstance(rules, list) else ():
        if not isinstance(rule, dict):
            continue
        ops = _l(rule.get("operations"))
        res = _l(rule.get("resources"))
        groups = _l(rule.get("apiGroups"))
        if (
            ("CREATE" in ops or "*" in ops)
            and ("pods" in res or "*" in res)
            and ("" in groups or "*" in groups)
        ):
            return True
    return False


def selector_matches(
    selector: Any, labels: Mapping[str, str], known: set[str] | None
) -> bool | None:
    """Evaluate a Kubernetes LabelSelector; None when it reads labels that are unknown.

    ``known`` is the set of label keys whose presence is known (None: all of ``labels`` is
    the complete label set).
    """
    if not isinstance(selector, dict) or not selector:
        return True
    clauses: list[tuple[str, str, list[str]]] = [
        (str(k), "In", [v]) for k, v in _d(selector.get("matchLabels")).items()
    ]
    for expr in _l(selector.get("matchExpressions")):
        if isinstance(expr, dict):
            clauses.append(
                (str(expr.get("key", "")), str(expr.get("operator", "")), _l(expr.get("values")))
            )
    result: bool | None = True
    for key, op, values in clauses:
        if known is not None and key not in known:
            result = None
            continue
        present = key in labels
        if op == "In":
            ok = present and labels[key] in values
        elif op == "NotIn":
            ok = not present or labels[key] not in values
        elif op == "Exists":
            ok = present
        elif op == "DoesNotExist":
            ok = not present
        else:
            return None
        if not ok:
            return False
    return result


def _opt_out_only(selector: Any) -> bool:
    """True for selectors that only exclude labelled objects (DoesNotExist / NotIn)."""
    if not isinstance(selector, dict) or selector.get("matchLabels"):
        return False
    exprs = _l(selector.get("matchExpressions"))
    return bool(exprs) and all(
        isinstance(e, dict) and e.get("operator") in ("DoesNotExist", "NotIn") for e in exprs
    )


def webhook_configured(ctx: Context) -> Iterator[Finding]:
    """The pod identity webhook is registered for pod CREATE and would mutate the targets."""
    configs = ctx.inventory.webhook_configurations()
    if isinstance(configs, Gap):
        yield from_gap(configs, "the mutating webhook configurations")
        return
    hooks = [
        hook
        for cfg in configs
        for hook in cfg.webhooks
        if is_pod_identity_webhook(cfg.name, hook.name)
    ]
    names = sorted(cfg.name for cfg in configs)
    if not hooks:
        yield Finding("FAIL", "missing", {"configurations": names}, {"configurations": names})
        return
    problems: list[str] = []
    unknown: list[str] = []
    excluded: list[str] = []
    labels = ctx.inventory.pod_labels()
    ev: list[dict] = []
    for hook in hooks:
        where = f"{hook.configuration}/{hook.name}"
        ev.append(
            {
                "webhook": where,
                "failurePolicy": hook.failure_policy,
                "rules": hook.rules,
                "caBundle_set": hook.ca_bundle_set,
                "objectSelector": hook.object_selector,
                "namespaceSelector": hook.namespace_selector,
            }
        )
        if not _covers_pod_create(hook.rules):
            problems.append(f"{where} has no rule for CREATE of pods")
        if not hook.ca_bundle_set:
            problems.append(f"{where} has an empty clientConfig.caBundle")
        for target in ctx.targets:
            for p in target.pods:
                ns_ok = selector_matches(
                    hook.namespace_selector,
                    {"kubernetes.io/metadata.name": p.namespace},
                    {"kubernetes.io/metadata.name"},
                )
                obj_sel = hook.object_selector
                if not isinstance(labels, Gap):
                    obj_ok = selector_matches(obj_sel, labels.of(p.namespace, p.name), None)
                elif _opt_out_only(obj_sel):
                    obj_ok = True  # excludes only pods that opted out with a label
                else:
                    obj_ok = selector_matches(obj_sel, {}, set())
                if ns_ok is False or obj_ok is False:
                    excluded.append(f"{p.namespace}/{p.name}")
                elif ns_ok is None or obj_ok is None:
                    unknown.append(f"{p.namespace}/{p.name}")
    policies = sorted({str(h.failure_policy or "Fail") for h in hooks})
    params = {
        "webhooks": [f"{h.configuration}/{h.name}" for h in hooks],
        "failure_policy": policies,
        "problems": "; ".join(problems),
        "excluded": sorted(set(excluded)),
        "unknown": sorted(set(unknown)),
        "selectors": [
            {"objectSelector": h.object_selector, "namespaceSelector": h.namespace_selector}
            for h in hooks
        ],
    }
    evidence = {"webhooks": ev, "pod_labels_collected": not isinstance(labels, Gap)}
    if problems:
        yield Finding("FAIL", "broken", params, evidence)
    elif excluded:
        yield Finding("FAIL", "excluded", params, evidence)
    elif unknown:
        yield Finding("WARN", "selector_unknown", params, evidence)
    elif "Ignore" in policies:
        yield Finding("PASS", "pass_ignore", params, evidence)
    else:
        yield Finding("PASS", "pass", params, evidence)


# --- token_expiration_valid ---------------------------------------------------------------


def parse_go_int64(value: str) -> int | None:
    """``strconv.ParseInt(value, 10, 64)``: None when Go would fail."""
    m = _INT64.fullmatch(value)
    if not m:
        return None
    n = int(m.group(1) + m.group(2))
    return n if -(2**63) <= n < 2**63 else None


def token_expiration_valid(ctx: Context, target: Subject) -> Iterator[Finding]:
    """``eks.amazonaws.com/token-expiration`` on the SA or its pods is honoured as written."""
    skip = needs_role_annotation(target)
    if skip:
        yield skip
        return
    assert target.sa is not None
    entries = []
    if TOKEN_EXPIRATION_ANNOTATION in target.sa.annotations:
        where = f"service account {target.namespace}/{target.name}"
        entries.append((where, target.sa.annotations[TOKEN_EXPIRATION_ANNOTATION]))
    for p in target.pods:
        if TOKEN_EXPIRATION_ANNOTATION in p.annotations:
            entries.append((f"pod {p.name}", p.annotations[TOKEN_EXPIRATION_ANNOTATION]))
    if not entries:
        yield Finding("PASS", "not_set")
        return
    invalid, short, long_ = [], [], []
    for where, raw in entries:
        n = parse_go_int64(raw)
        shown = f"{where}: {raw[:_SHOWN_CHARS]!r}"
        if len(raw) > _SHOWN_CHARS:
            shown += f"... ({len(raw)} characters)"
        if n is None:
            invalid.append(shown)
        elif n < MIN_TOKEN_EXPIRATION:
            short.append(shown)
        elif n > MAX_TOKEN_EXPIRATION:
            long_.append(shown)
    stale = _not_applied(target)
    bare = sorted(p.name for p in target.pods if TOKEN_VOLUME not in p.token_volumes)
    ev = {
        "annotations": dict(entries),
        "projected_expiration_seconds": {
            p.name: (
                p.token_volumes.get(TOKEN_VOLUME).expiration_seconds
                if TOKEN_VOLUME in p.token_volumes
                else None
            )
            for p in target.pods
        },
    }
    params = {
        "value": entries[0][1],
        "annotations": [f"{w}: {v!r}" for w, v in entries],
        "restart": restart_command(target.pods[0]) if target.pods else "recreate the pods",
    }
    if invalid:
        yield Finding("FAIL", "invalid", {**params, "entries": "; ".join(invalid)}, ev)
    elif short:
        yield Finding("WARN", "too_short", {**params, "entries": "; ".join(short)}, ev)
    elif long_:
        yield Finding("WARN", "too_long", {**params, "entries": "; ".join(long_)}, ev)
    elif stale:
        yield Finding("WARN", "not_applied", {**params, "entries": "; ".join(stale)}, ev)
    elif bare:  # the webhook did not mutate these pods: no token, so no lifetime, to judge
        yield Finding("INFO", "not_in_effect", {**params, "pods": bare}, ev)
    elif not target.pods:
        yield Finding("PASS", "pass_no_pods", params, ev)
    else:
        yield Finding("PASS", "pass", params, ev)


def _effective_expiration(target: Subject, pod: Pod) -> int | None:
    """The expirationSeconds the webhook would set now (None: flag default, unknown)."""
    for raw in (
        pod.annotations.get(TOKEN_EXPIRATION_ANNOTATION),
        target.sa.annotations.get(TOKEN_EXPIRATION_ANNOTATION) if target.sa else None,
    ):
        n = parse_go_int64(raw) if raw is not None else None
        if n is not None:
            return max(n, MIN_TOKEN_EXPIRATION)
    return None


def _not_applied(target: Subject) -> list[str]:
    out = []
    for p in target.pods:
        want = _effective_expiration(target, p)
        vol = p.token_volumes.get(TOKEN_VOLUME)
        if want is not None and vol is not None and vol.expiration_seconds not in (None, want):
            out.append(f"pod {p.name} has expirationSeconds {vol.expiration_seconds}, not {want}")
    return out


# --- containers_skipped ------------------------------------------------------------------


def _own_credentials(c: Container) -> bool:
    return (
        (ACCESS_KEY in c.env and SECRET_KEY in c.env)
        or any(c.env_value(v) for v in CONTAINER_URIS)
        or (c.env_value(ROLE_ARN) is not None and c.env_value(TOKEN_FILE) is not None)
        or any(v in c.env for v in ("AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"))
        or any(ref.startswith("secretRef:") for ref in c.env_from)
    )


def containers_skipped(ctx: Context, target: Subject, pod: Pod) -> Iterator[Finding]:
    """Containers left alone by ``eks.amazonaws.com/skip-containers`` don't need AWS.

    FAIL when a skipped container carries other ``AWS_*`` variables (so it talks to AWS)
    but no credentials of its own: it falls back to the node role. INFO lists the skipped
    containers otherwise; WARN when a listed name matches no container or the value does
    not parse (the webhook then skips nothing).
    """
    skip = needs_role_annotation(target)
    if skip:
        yield skip
        return
    raw = pod.annotations.get(SKIP_CONTAINERS_ANNOTATION)
    if raw is None and not webhook_mutated(pod):
        yield Finding("SKIP", "none_not_mutated")
        return
    if raw is None:
        yield Finding("PASS", "none")
        return
    names = webhook_skip_names(raw)
    params: dict[str, Any] = {"annotation": raw, "restart": restart_command(pod)}
    if names is None:
        yield Finding("WARN", "unparsable", params, {"annotation": raw})
        return
    by_name = {c.name: c for c in pod.all_containers}
    skipped = [by_name[n] for n in names if n in by_name]
    unknown = [n for n in names if n not in by_name]
    needs_aws = [
        c.name
        for c in skipped
        if any(k.startswith("AWS_") for k in c.env) and not _own_credentials(c)
    ]
    ev = {
        "annotation": raw,
        "skipped": [c.name for c in skipped],
        "unknown": unknown,
        "aws_env": {c.name: sorted(k for k in c.env if k.startswith("AWS_")) for c in skipped},
    }
    params.update(
        skipped=[c.name for c in skipped],
        unknown=[repr(n) for n in unknown],
        needs_aws=needs_aws,
        containers=sorted(by_name),
    )
    if needs_aws:
        yield Finding("FAIL", "needs_aws", params, ev)
    elif unknown:
        yield Finding("WARN", "unknown", params, ev)
    else:
        yield Finding("INFO", "skipped", params, ev)
