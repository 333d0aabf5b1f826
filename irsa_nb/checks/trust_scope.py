"""Beyond the article: a trust policy that admits more than the intended service account."""

from __future__ import annotations

from collections.abc import Iterator

from ..iam.arn import issuer_host_path
from ..iam.trust import PolicyError, overbroad_findings
from .registry import Context, Finding, Target, check
from .role import trust_inputs

_DOC = "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html"
# overbroad_findings() phrases a namespace-wide pattern this way; it is a deliberate, documented
# choice (webhook README, EKS User Guide), so it warns instead of failing.
_NAMESPACE_WIDE = "which matches every service account in namespace"


@check(
    "trust_policy_not_overbroad",
    scope="service_account",
    severity="high",
    seed_step=None,
    doc_url=_DOC,
)
def trust_policy_not_overbroad(ctx: Context, target: Target) -> Iterator[Finding]:
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
        findings = overbroad_findings(role.trust_policy, cl.issuer)
    except PolicyError as exc:
        yield Finding("ERROR", "invalid_policy", {**params, "reason": str(exc)})
        return
    ev = {"findings": findings}
    if not findings:
        yield Finding("PASS", "pass", params, ev)
    elif all(_NAMESPACE_WIDE in f for f in findings):
        yield Finding("WARN", "namespace_wide", {**params, "findings": " ".join(findings)}, ev)
    else:
        yield Finding("FAIL", "overbroad", {**params, "findings": " ".join(findings)}, ev)
