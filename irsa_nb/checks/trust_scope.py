"""Beyond the article: a trust policy that admits more than the intended service account."""

from __future__ import annotations

from collections.abc import Iterator

from ..iam.arn import issuer_host_path
from ..iam.trust import PolicyError, overbroad_findings, unmatchable_statements
from ..text import join
from .helpers import trust_inputs
from .registry import Context, Finding, Subject

# A namespace-wide pattern is a deliberate, documented choice (webhook README, EKS User
# Guide), so it warns instead of failing.
_NAMESPACE_WIDE = "_trust.overbroad.namespace_wide"


def trust_policy_not_overbroad(ctx: Context, target: Subject) -> Iterator[Finding]:
    """The trust policy limits ``<issuer>:sub`` to named service accounts."""
    inputs = trust_inputs(ctx, target)
    if isinstance(inputs, Finding):
        yield inputs
        return
    cl, role = inputs
    issuer = issuer_host_path(cl.issuer)
    params = {
        "role": role.name,
        "issuer_host_path": issuer,
        "sub": f"system:serviceaccount:{target.namespace}:{target.name}",
    }
    try:
        findings = overbroad_findings(role.trust(), cl.issuer)
        unmatchable = unmatchable_statements(role.trust(), cl.issuer)
    except PolicyError as exc:
        yield Finding("ERROR", "invalid_policy", {**params, "reason": exc.message})
        return
    ev = {"findings": findings}
    if unmatchable:
        # Statements that admit nothing from this cluster (a condition on a key its tokens
        # lack): not over-broad; trust_policy_allows_service_account reports the denial.
        ev["unmatchable"] = {str(i): cond for i, cond in unmatchable.items()}
    text = {**params, "findings": join(findings, "space")}
    if not findings:
        if unmatchable:
            statements = {"statements": list(unmatchable), "conditions": list(unmatchable.values())}
            yield Finding("PASS", "pass_unmatchable", {**params, **statements}, ev)
        else:
            yield Finding("PASS", "pass", params, ev)
    elif all(getattr(f, "key", "") == _NAMESPACE_WIDE for f in findings):
        yield Finding("WARN", "namespace_wide", text, ev)
    else:
        yield Finding("FAIL", "overbroad", text, ev)
