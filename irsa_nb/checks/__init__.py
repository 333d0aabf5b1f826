"""The IRSA checks. Importing this package registers every check."""

from . import discovery, namespaces, oidc, pod, role, sdk, service_account  # noqa: F401
from .registry import REGISTRY, RESULT_COLUMNS, SEVERITIES, STATUSES, Check, Finding
from .runner import TargetNotFound, run_checks

__all__ = [
    "REGISTRY",
    "RESULT_COLUMNS",
    "SEVERITIES",
    "STATUSES",
    "Check",
    "Finding",
    "TargetNotFound",
    "run_checks",
]
