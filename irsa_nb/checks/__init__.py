"""The IRSA checks. Importing this package registers every check."""

from . import (  # noqa: F401  (registration)
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
)
from .runner import TargetNotFound, run_checks

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
