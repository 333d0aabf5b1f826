"""The check registry: each check is metadata plus a small pure function.

A check function takes a :class:`Context` and, by scope, a target service account
and/or pod, and yields :class:`Finding` objects. Titles, details and remediation
come from the text catalogue (:mod:`irsa_nb.text`) keyed by check id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..inventory import Gap, Inventory
from ..k8s import Pod, ServiceAccount

RESULT_COLUMNS = [
    "check_id",
    "title",
    "status",
    "severity",
    "namespace",
    "service_account",
    "pod",
    "role_arn",
    "detail",
    "remediation",
    "doc_url",
    "evidence",
]
STATUSES = ("PASS", "FAIL", "WARN", "INFO", "SKIP", "ERROR")
#: The statuses worst first: how rows are ranked (problems first) and which one a group shows.
STATUS_ORDER = ("FAIL", "ERROR", "WARN", "INFO", "SKIP", "PASS")
SEVERITIES = ("critical", "high", "medium", "low", "info")

Scope = Literal["cluster", "service_account", "pod"]


@dataclass
class Target:
    """A service account under check and the pods in scope that use it."""

    namespace: str
    name: str
    sa: ServiceAccount | None
    pods: list[Pod]
    requested: bool = False  # named explicitly by the user

    @property
    def role_arn(self) -> str | None:
        return self.sa.role_arn if self.sa else None


@dataclass(frozen=True)
class Finding:
    """One result of a check: status, catalogue key for the text, and its parameters."""

    status: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] | None = None
    target: Target | None = None  # set by cluster-scope checks that report per target
    pod: Pod | None = None


#: ``(check_ids, namespace, service_account) -> {check_id: statuses}``: what other checks
#: say about one service account, checked on its own (see :attr:`Context.statuses_for`).
StatusesFor = Callable[[Iterable[str], str, str], dict[str, frozenset[str]]]


@dataclass
class Context:
    """What every check can read: the inventory, the caller's inputs and a shared cache.

    ``statuses_for`` is set by the runner: a check that explains a recorded error (the STS
    probe's) asks it which statuses the checks a cause names give the service account,
    without importing them; it is None where no runner is there to ask.
    """

    inventory: Inventory
    sdk: dict[str, str] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    pod_requested: bool = False
    namespace_scope: bool = False
    cache: dict[Any, Any] = field(default_factory=dict)
    statuses_for: StatusesFor | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Check:
    id: str
    scope: Scope
    severity: str
    seed_step: int | None  # section of the AWS article this check covers (1-13), None if new
    doc_url: str
    func: Callable[..., Iterable[Finding]]


REGISTRY: dict[str, Check] = {}


def check(
    id: str, *, scope: Scope, severity: str, seed_step: int | None, doc_url: str
) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    """Register a check function under ``id``."""
    if severity not in SEVERITIES:
        raise ValueError(f"{id}: unknown severity {severity}")

    def register(func: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        if id in REGISTRY:
            raise ValueError(f"check {id} registered twice")
        REGISTRY[id] = Check(id, scope, severity, seed_step, doc_url, func)
        return func

    return register


def ordered_checks() -> list[Check]:
    """Every registered check in run order: by seed step (new checks last), then id."""
    return sorted(REGISTRY.values(), key=lambda c: (c.seed_step or 99, c.id))


def annotated_service_accounts(ctx: Context, namespace: str) -> list[str]:
    """Names of the service accounts in ``namespace`` that carry a role annotation."""
    if "annotated" not in ctx.cache:
        sas = ctx.inventory.service_accounts
        by_ns: dict[str, list[str]] = {}
        for (ns, name), sa in sorted(({} if isinstance(sas, Gap) else sas).items()):
            if sa.role_arn:
                by_ns.setdefault(ns, []).append(name)
        ctx.cache["annotated"] = by_ns
    return ctx.cache["annotated"].get(namespace, [])


def needs_role_annotation(target: Target) -> Finding | None:
    """The SKIP finding for a target without a service account or role annotation."""
    if target.sa is None:
        return Finding("SKIP", "_no_service_account")
    if not target.role_arn:
        return Finding("SKIP", "_no_role_annotation")
    return None


# Failed calls whose fix is not "grant read access": expired credentials, and calls that
# failed after their retries for a transient reason (throttling, 5xx, timeouts, resets).
_EXPIRED = re.compile(
    r"ExpiredToken|RequestExpired|token[^.]{0,40}\bis expired|\(Unauthorized\)", re.IGNORECASE
)
_TRANSIENT = re.compile(
    r"Throttl|TooManyRequests|Rate exceeded|reached max retries|ServiceUnavailable|"
    r"InternalError|ServerException|ServiceFailure|\bHTTP 50\d\b|\((?:50\d|429)\)|"
    r"timed out|timeout|Connection (?:reset|aborted)|RemoteDisconnected",
    re.IGNORECASE,
)
_UNREACHABLE = re.compile(
    r"Connection refused|Unable to connect to the server|Could not connect to the endpoint|"
    r"Name or service not known|Temporary failure in name resolution|No route to host|"
    r"Network is unreachable",
    re.IGNORECASE,
)


def failure_kind(message: str) -> Literal["expired", "transient", "unreachable", "failed"]:
    """Why a call failed, for the remediation: ``expired`` credentials, ``transient``
    (throttled, 5xx, timed out or reset after the retries), an ``unreachable`` endpoint
    (refused, unknown name, no route), or ``failed`` (e.g. denied)."""
    if _EXPIRED.search(message):
        return "expired"
    if _TRANSIENT.search(message):
        return "transient"
    if _UNREACHABLE.search(message):
        return "unreachable"
    return "failed"


def from_gap(gap: Gap, what: str) -> Finding:
    """The standard finding for evidence that is unavailable.

    Not collected → SKIP naming the command; failed or unreadable → ERROR with the
    message, and a remediation that fits the failure (grant access, refresh expired
    credentials, or collect again after a transient failure); "does not exist" is left to
    the caller (it is usually a finding).
    """
    params = {"what": what, "path": gap.path, "command": gap.command, "message": gap.message}
    if gap.kind == "absent":
        return Finding("SKIP", "_not_collected", params)
    if gap.kind == "invalid":
        return Finding("ERROR", "_invalid", params)
    return Finding("ERROR", f"_call_{failure_kind(gap.message)}", params)
