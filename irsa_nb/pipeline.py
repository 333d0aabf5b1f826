"""The one flow every face runs: open a :class:`Source`, check a :class:`Target` with
:class:`Options`, and get a :class:`Run` back.

The CLI, the runbook and fleet notebooks, the Explorer and batch runs build these value
objects once and call :func:`run`; they render what it returns and orchestrate nothing.
One spelling per parameter everywhere (Python keyword, CLI flag, papermill parameter, batch
column); an absent value is ``None``.

Examples
--------
>>> from irsa_nb import Options, Source, Target, run
>>> r = run(Source(bundle="demo"), Target("shop", "cart"), Options(lang="en"))
>>> r.verdict, r.facts["cluster"]
('FAIL', 'shop-prod')
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import pandas as pd

from . import text
from .checks import STATUSES, run_checks
from .diagnose import diagnose
from .inventory import Cluster, Inventory
from .redact import mask_data, mask_results, mask_text


@dataclass(frozen=True)
class Source:
    """Where the evidence comes from: a bundle (a path, ``"demo"`` or ``"demo:NAME"``) or a
    live EKS cluster (with its region, AWS profile and kubeconfig context).

    A source with a ``cluster`` is live and ignores ``bundle``; a given but empty ``cluster``
    or ``bundle`` is an error when the source is opened, not a fallback to the demo.

    Examples
    --------
    >>> Source.demo("china").bundle
    'demo:china'
    >>> Source.live("shop-prod", region="us-west-2").label
    'live cluster shop-prod (us-west-2)'
    """

    bundle: str | None = None
    cluster: str | None = None
    region: str | None = None
    profile: str | None = None
    context: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                value = value.strip()
                if f.name in ("region", "profile", "context"):
                    value = value or None
                object.__setattr__(self, f.name, value)
        if self.cluster is not None:
            object.__setattr__(self, "bundle", None)

    @classmethod
    def demo(cls, name: str = "demo") -> Source:
        key = name.split(":", 1)[1] if name.startswith("demo:") else name
        return cls(bundle="demo" if key == "demo" else f"demo:{key}")

    @classmethod
    def from_path(cls, path: str | Any) -> Source:
        return cls(bundle=str(path))

    @classmethod
    def live(
        cls,
        cluster: str,
        region: str | None = None,
        profile: str | None = None,
        context: str | None = None,
    ) -> Source:
        return cls(cluster=cluster or "", region=region, profile=profile, context=context)

    @property
    def is_live(self) -> bool:
        return self.cluster is not None

    @property
    def is_demo(self) -> bool:
        from .demo import is_demo_name

        return not self.is_live and is_demo_name(self.bundle or "")

    @property
    def label(self) -> str:
        if self.is_live:
            where = f" ({self.region})" if self.region else ""
            return f"live cluster {self.cluster}{where}" if self.cluster else "live cluster"
        return f"demo bundle {self.bundle}" if self.is_demo else f"bundle {self.bundle}"

    def open(self, target: Target | None = None, options: Options | None = None) -> Inventory:
        """Load the bundle, or collect the live cluster (read-only) for ``target``: a live
        collection is scoped to the target's namespace and runs the opt-in probes of
        ``options`` (the STS probe, in-pod evidence)."""
        target, options = target or Target(), options or Options()
        self.validate(options)
        if self.is_live:
            if not self.cluster:
                raise ValueError("choose or type an EKS cluster name")
            return self._collect(target, options)
        if self.bundle is None:
            raise ValueError(
                "choose a source: a bundle (path, 'demo' or 'demo:NAME') or a cluster name"
            )
        if not self.bundle:
            raise ValueError("type the path of a bundle directory, .tar.gz or .zip")
        from .inventory import load_bundle

        return load_bundle(self.bundle)

    def validate(self, options: Options) -> None:
        """ValueError when ``options`` ask for a live probe and this source is not live."""
        if self.is_live:
            return
        if options.exec:
            raise ValueError(
                "--exec needs a live cluster (--cluster NAME), not a bundle; a bundle holds "
                "in-pod evidence only when it was collected with --exec"
            )
        if options.probe:
            raise ValueError(
                "--probe needs a live cluster (--cluster NAME), not a bundle; a bundle holds "
                "a probe's outcome only when it was collected with --probe"
            )
        if options.cloudtrail_hours is not None:
            raise ValueError(
                "--cloudtrail needs a live cluster (--cluster NAME), not a bundle; a bundle "
                "holds CloudTrail's calls only when it was collected with --cloudtrail"
            )
        if options.actions:
            raise ValueError(
                "--action needs a live cluster (--cluster NAME), not a bundle; a bundle holds "
                "the simulation only when it was collected with --action"
            )

    def _collect(self, target: Target, options: Options) -> Inventory:
        from .live.collect import collect  # boto3/kubernetes load only for live sources

        return collect(
            self.cluster or "",
            region=self.region,
            profile=self.profile,
            context=self.context,
            namespaces=[target.namespace] if target.namespace else None,
            probe=probe_options(target, options),
            exec=exec_target(target, options),
            **({"exec_timeout": options.exec_timeout} if options.exec_timeout else {}),
            cloudtrail_hours=options.cloudtrail_hours,
            actions=options.actions,
            service_account=target.service_account,
        )

    def caller_identity(self) -> dict[str, str] | None:
        """Who collected a live source (``sts:GetCallerIdentity``); None for a bundle."""
        if not self.is_live:
            return None
        from .live.aws import caller_identity

        return caller_identity(self.profile, self.region)


@dataclass(frozen=True)
class Target:
    """What to check: a namespace, a service account, a pod (``None``: all in scope)."""

    namespace: str | None = None
    service_account: str | None = None
    pod: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            object.__setattr__(self, f.name, (value or "").strip() or None)

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class Options:
    """How to check: the application's SDK versions, the language, redaction, the opt-in live
    evidence (STS ``probe``, in-pod ``exec``, ``actions`` simulated with IAM's policy
    simulator, ``cloudtrail_hours`` of CloudTrail's web-identity calls) and the error message
    the application reported (then the run carries its diagnosis)."""

    sdk: Mapping[str, str] = field(default_factory=dict)
    lang: str = "en"
    redact: bool = True
    probe: bool = False
    probe_max: int = 10
    actions: tuple[str, ...] = ()
    exec: str | None = None  # None, "target" or "all"
    exec_timeout: float | None = None
    error_message: str | None = None
    cloudtrail_hours: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sdk", dict(self.sdk or {}))
        actions = self.actions or ()
        if isinstance(actions, str):  # one action, or several separated by spaces/commas
            actions = [a for a in re.split(r"[\s,;]+", actions) if a]
        object.__setattr__(self, "actions", tuple(str(a).strip() for a in actions))
        hours = self.cloudtrail_hours
        if hours is not None and not (isinstance(hours, float) and math.isnan(hours)):
            if str(hours).strip() == "":
                hours = None
            else:
                try:
                    hours = int(float(str(hours).strip()))
                except ValueError:
                    raise ValueError(
                        f"cloudtrail_hours expects a whole number of hours, got {hours!r}"
                    ) from None
                if hours < 1:
                    raise ValueError(f"cloudtrail_hours must be at least 1, got {hours}")
        else:
            hours = None
        object.__setattr__(self, "cloudtrail_hours", hours)
        if not (self.error_message or "").strip():
            object.__setattr__(self, "error_message", None)
        text.catalogue(self.lang)  # ValueError naming the languages


@dataclass
class Run:
    """What one run produced: the result rows (masked when ``options.redact``), the facts
    about the source and target, the inventory, and the diagnosis of the error message."""

    source: Source
    target: Target
    options: Options
    results: pd.DataFrame
    facts: dict[str, Any]
    inventory: Inventory = field(repr=False)
    diagnosis: pd.DataFrame | None = None

    @property
    def verdict(self) -> str:
        return verdict(self.results)


def verdict(results: pd.DataFrame) -> str:
    """The worst status present: FAIL, ERROR, WARN or PASS. PASS needs a check that passed:
    SKIP when every row is SKIP/INFO (nothing could be checked), EMPTY when there are no rows.

    >>> import pandas as pd
    >>> verdict(pd.DataFrame({"status": ["PASS", "WARN", "SKIP"]}))
    'WARN'
    >>> verdict(pd.DataFrame({"status": ["SKIP", "INFO"]}))
    'SKIP'
    """
    present = set(results["status"]) if len(results) else set()
    for v in ("FAIL", "ERROR", "WARN", "PASS"):
        if v in present:
            return v
    return "SKIP" if present else "EMPTY"


#: Exit statuses of ``irsa-nb check``, ``run`` and ``batch`` (README, "Exit status"): 0 every
#: row PASS/INFO/SKIP/WARN; 1 a row is FAIL; 2 bad input or usage, or a run or batch target that
#: did not complete; 3 "could not check": ERROR rows and no FAIL (a document that could not be
#: read, an AccessDenied), so the verdict is incomplete.
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
#: Several targets (batch): the worst code wins, in this order. FAIL outranks "could not
#: check": a FAIL needs fixing whatever else could not be checked.
EXIT_PRECEDENCE = (EXIT_USAGE, EXIT_FAIL, EXIT_INCOMPLETE, EXIT_OK)


def exit_code(verdicts: str | Iterable[str], completed: bool = True) -> int:
    """The exit status for one verdict (see :func:`verdict`) or for the verdicts of several
    targets: :data:`EXIT_USAGE` when not ``completed``, else the worst of FAIL (1), ERROR (3)
    and anything else (0), by :data:`EXIT_PRECEDENCE`.

    >>> exit_code("ERROR"), exit_code(["ERROR", "FAIL", "PASS"]), exit_code("WARN")
    (3, 1, 0)
    """
    if not completed:
        return EXIT_USAGE
    items = [verdicts] if isinstance(verdicts, str) else list(verdicts)
    codes = {
        EXIT_FAIL if v == "FAIL" else EXIT_INCOMPLETE if v == "ERROR" else EXIT_OK for v in items
    }
    return next((c for c in EXIT_PRECEDENCE if c in codes), EXIT_OK)


def status_counts(results: pd.DataFrame) -> dict[str, int]:
    """Rows per status, every status present as a key (zero when absent)."""
    counts = results["status"].value_counts() if len(results) else {}
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def probe_options(target: Target, options: Options) -> Any:
    """The live STS probe ``options`` ask for, for ``target`` (None without ``probe``).

    ``options.actions`` are simulated by the collection itself (``aws/iam/
    simulate-principal-policy/``, check ``role_allows_actions``), probe or not."""
    if not options.probe:
        return None
    from .live.sts_probe import ProbeOptions

    return ProbeOptions(
        namespace=target.namespace,
        service_account=target.service_account,
        pod=target.pod,
        max_targets=options.probe_max,
    )


def exec_target(target: Target, options: Options) -> Any:
    """The containers the in-pod probe of ``options`` runs in (None without ``exec``)."""
    if not options.exec:
        return None
    from .live.exec import ExecTarget

    if options.exec == "all":
        return ExecTarget(all=True)
    return ExecTarget(
        namespace=target.namespace, service_account=target.service_account, pod=target.pod
    )


def run(source: Source, target: Target | None = None, options: Options | None = None) -> Run:
    """Open ``source``, run every check for ``target`` and, when ``options.error_message``
    is set, diagnose it against the results. Secrets are masked when ``options.redact``."""
    target, options = target or Target(), options or Options()
    inv = source.open(target, options)
    results = run_checks(inv, **target.as_dict(), sdk=options.sdk, lang=options.lang)
    masked = 0
    if options.redact:
        results, masked = mask_results(results)
    facts = _facts(source, target, options, inv)
    if options.redact:
        facts, n = mask_data(facts)
        facts["error_message"] = mask_text(facts["error_message"])[0]
        masked += n
    facts.update(redacted=masked, verdict=verdict(results), counts=status_counts(results))
    diagnosis = None
    if options.error_message:
        diagnosis = diagnose(
            options.error_message, inv, **target.as_dict(), sdk=options.sdk, lang=options.lang
        )
    return Run(source, target, options, results, facts, inv, diagnosis)


def _facts(source: Source, target: Target, options: Options, inv: Inventory) -> dict[str, Any]:
    """The facts a report's header and an evidence manifest show."""
    lang = options.lang
    facts = inventory_facts(inv, lang)
    say = text.render
    facts.update(
        when=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        live=source.is_live,
        bundle="" if source.is_live else source.bundle,
        source=say(lang, ("_runbook", "source_bundle"), {"bundle": source.bundle})
        if not source.is_live
        else say(
            lang,
            ("_runbook", "source_live"),
            {
                "cluster": source.cluster,
                "region": source.region or "-",
                "profile": source.profile or "-",
                "context": source.context or "-",
            },
        ),
        target={k: v or "" for k, v in target.as_dict().items()},
        sdk=dict(options.sdk),
        error_message=options.error_message or "",
        caller_identity=source.caller_identity(),
    )
    return facts


def inventory_facts(inv: Inventory, lang: str = "en") -> dict[str, Any]:
    """Cluster name, ARN, account, region, issuer and Kubernetes version of ``inv``."""
    cl = inv.cluster
    known = isinstance(cl, Cluster)
    return {
        "cluster": cl.name if known else "",
        "cluster_arn": cl.arn if known else "",
        "cluster_text": f"{cl.name} ({cl.arn})"
        if known
        else text.render(lang, ("_runbook", "unknown"), {"message": cl.message}),
        "account": cl.account if known else "",
        "region": cl.region if known else "",
        "issuer": cl.issuer if known else "",
        "kubernetes_version": inv.kubernetes_version,
        "iam_roles_read": inv.iam_roles_read(),
    }
