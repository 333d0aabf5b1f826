"""``iam:SimulatePrincipalPolicy`` for a role: the one code path of ``--action`` and the probe.

:func:`simulate` asks IAM's policy simulator whether ``role_arn`` may perform each
``(action, resource)`` pair (one call per distinct resource, so that an action is never
evaluated against another action's resource) and returns what ``aws iam
simulate-principal-policy --output json`` prints, the pages and calls merged: the bundle
document ``aws/iam/simulate-principal-policy/<ROLE>.json``. Permission boundaries and SCPs
(``PermissionsBoundaryDecisionDetail``, ``OrganizationsDecisionDetail``) are kept as IAM
returns them. https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..bundle import CallFailed
from . import aws

#: The AWS operation this module calls (docs/permissions.md).
OPERATIONS = ("iam:SimulatePrincipalPolicy",)


def simulate(
    iam: Any, role_arn: str, actions: Sequence[tuple[str, str]]
) -> dict[str, Any] | CallFailed:
    """The simulator's decisions for ``role_arn`` and ``actions`` (``(action, resource)``
    pairs, resource ``"*"`` for none), or the first failure."""
    by_resource: dict[str, list[str]] = {}
    for action, resource in actions:
        names = by_resource.setdefault(resource, [])
        if action not in names:
            names.append(action)
    results: list[Any] = []
    for resource, names in by_resource.items():
        try:
            got = aws.paginate(
                iam,
                "simulate_principal_policy",
                PolicySourceArn=role_arn,
                ActionNames=names,
                **({} if resource == "*" else {"ResourceArns": [resource]}),
            )
        except aws.AwsConfigError as exc:
            got = CallFailed(str(exc))
        if isinstance(got, CallFailed):
            return got
        results += got.get("EvaluationResults") or []
    return {"EvaluationResults": results}
