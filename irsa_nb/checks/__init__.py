"""The IRSA checks. Importing this package registers every check."""

from . import (
    discovery,
    in_pod,
    namespaces,
    oidc,
    pod,
    precedence,
    probe,
    role,
    sdk,
    service_account,
    sts,
    trust_scope,
    webhook,
)
from .registry import (
    REGISTRY,
    RESULT_COLUMNS,
    SEVERITIES,
    STATUS_ORDER,
    STATUSES,
    Check,
    Finding,
    register,
)
from .runner import TargetNotFound, run_checks

# Each module's checks: its functions named like a <check_id>.yaml beside it.
MODULES = (discovery, in_pod, namespaces, oidc, pod, precedence, probe, role, sdk)
MODULES += (service_account, sts, trust_scope, webhook)
for _module in MODULES:
    register(_module)

__all__ = [
    "REGISTRY",
    "RESULT_COLUMNS",
    "SEVERITIES",
    "STATUSES",
    "STATUS_ORDER",
    "Check",
    "Finding",
    "TargetNotFound",
    "run_checks",
]
