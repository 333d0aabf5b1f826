"""The check registry: each check is metadata plus a small pure function.

A check function takes a :class:`Context` and, by scope, a target service account
and/or pod, and yields :class:`Finding` objects. Its metadata and its text (titles,
details and remediation in each language) live beside it in ``<check_id>.yaml``, and the
function is named as the check: :func:`register` finds a module's checks by those files,
and hands their text to the catalogue (:mod:`irsa_nb.text`), keyed by check id.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import yaml

from .. import text
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
class Subject:
    """What a check looks at: a service account and the pods in scope that use it."""

    namespace: str
    name: str
    sa: ServiceAccount | None
    pods: list[Pod]
    requested: bool = False  # named explicitly by the user

    @cached_property
    def role_arn(self) -> str | None:
        return self.sa.role_arn if self.sa else None


@dataclass(frozen=True)
class Finding:
    """One result of a check: status, catalogue key for the text, and its parameters."""

    status: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] | None = None
    target: Subject | None = None  # set by cluster-scope checks that report per target
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
    targets: list[Subject] = field(default_factory=list)
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
    summary: str = ""  # what it verifies, one line of Markdown (docs/reference/checks.md)


REGISTRY: dict[str, Check] = {}

#: libyaml's safe loader when PyYAML has it: the metadata is read as the checks register.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: What a check's ``<check_id>.yaml`` holds besides its text (``en``, ``zh``).
METADATA_KEYS = ("id", "scope", "severity", "seed_step", "doc_url", "summary")
SCOPES = ("cluster", "service_account", "pod")


def register(module: ModuleType) -> None:
    """Register the checks coded in ``module``: each of its functions that has a
    ``<function name>.yaml`` beside the module is a check of that id.

    The file holds its metadata and text: ``id``, ``scope`` (cluster, service_account or
    pod), ``severity``, ``seed_step`` (a section of the AWS article, or null), ``doc_url``,
    ``summary``, and per language (``en``, ``zh``) ``title``, ``explain``, ``detail.<key>``
    and ``remediation.<key>`` for each outcome key the check's findings use. The text joins
    the catalogue (:func:`irsa_nb.text.register`), so it is looked up by check id like any
    other. The functions stay plain (no decorator), so tools that rewrite functions, such as
    the mutation tester (``make mutation``), see them as they are.
    """
    folder = Path(inspect.getfile(module)).parent
    for name, func in vars(module).items():
        path = folder / f"{name}.yaml"
        if not inspect.isfunction(func) or func.__module__ != module.__name__:
            continue
        if not path.exists():
            continue
        if name in REGISTRY:
            raise ValueError(f"check {name} registered twice")
        meta = load_metadata(path)
        if meta["id"] != name:
            raise ValueError(f"{path.name} describes check {meta['id']}, not {name}")
        REGISTRY[name] = Check(
            name,
            meta["scope"],
            meta["severity"],
            meta["seed_step"],
            meta["doc_url"],
            func,
            meta.get("summary") or "",
        )
        text.register(name, {lang: meta[lang] for lang in text.LANGUAGES})


def load_metadata(path: Path) -> dict[str, Any]:
    """A check's ``<id>.yaml``, checked: the metadata keys, a known scope and severity, and a
    title and details in every language with the same outcome keys."""
    try:
        meta = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError:
        raise ValueError(f"no {path.name} beside {path.parent}: a check's metadata") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: not a mapping")
    missing = [k for k in (*METADATA_KEYS[:5], *text.LANGUAGES) if k not in meta]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    if meta["scope"] not in SCOPES:
        raise ValueError(f"{path}: unknown scope {meta['scope']}")
    if meta["severity"] not in SEVERITIES:
        raise ValueError(f"{path}: unknown severity {meta['severity']}")
    keys = {}
    for lang in text.LANGUAGES:
        entry = meta[lang]
        if not isinstance(entry, dict) or not entry.get("title") or not entry.get("detail"):
            raise ValueError(f"{path}: {lang} needs a title and details")
        keys[lang] = set(entry["detail"])
    if len({frozenset(k) for k in keys.values()}) > 1:
        raise ValueError(f"{path}: the outcome keys differ between languages: {keys}")
    return meta


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


def needs_role_annotation(target: Subject) -> Finding | None:
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
