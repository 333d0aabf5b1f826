"""Explorer state: source, inventory, selection, results and messages, with no widgets.

The widget layer (:mod:`irsa_nb.widgets.app`) only copies values in and out of an
:class:`ExplorerState`; everything that can go wrong happens here and ends up in
:attr:`ExplorerState.messages`, so the logic is testable without a browser or a kernel.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import pandas as pd

from ..checks import run_checks
from ..checks.registry import ordered_checks
from ..demo import demo_names
from ..inventory import Cluster, Gap, Inventory
from ..live import discover as live
from ..pipeline import Options, Source, Target, status_counts

if TYPE_CHECKING:
    from ..k8s import Pod, ServiceAccount
    from ..live.kube import KubeContext

log = logging.getLogger(__name__)

ALL = ""  # selection value meaning "every service account / pod in scope"
Level = Literal["error", "warning", "info"]
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Message:
    """One line shown to the user; ``level`` is ``error``, ``warning`` or ``info``."""

    level: Level
    text: str


@dataclass
class ExplorerState:
    """Everything the Explorer shows, and the actions that change it.

    Each action (:meth:`load`, :meth:`run`, :meth:`save_evidence`, :meth:`explain`, ...)
    replaces :attr:`messages` with what the user should read; none of them raises for bad
    input, missing credentials or API failures.

    Examples
    --------
    >>> st = ExplorerState()
    >>> st.load(Source.demo())
    True
    >>> st.select_namespace("shop"); st.select_service_account("cart")
    >>> int((st.run()["status"] == "FAIL").sum())
    1
    """

    lang: str = "en"
    evidence_dir: str = "evidence"
    timeout: float = 600
    source: Source | None = None
    inventory: Inventory | None = None
    namespace: str | None = None
    service_account: str = ALL
    pod: str = ALL
    sdk_name: str = ""
    sdk_version: str = ""
    results: pd.DataFrame | None = None
    results_for: str = ""
    evidence: Any = None  # irsa_nb.runbook.RunbookResult of the last save
    diagnosis: pd.DataFrame | None = None
    error_text: str = ""  # the error the application reported (Explain; evidence header)
    messages: list[Message] = field(default_factory=list)
    kube_contexts: list[KubeContext] = field(default_factory=list)
    kube_context: str | None = None
    clusters: list[str] = field(default_factory=list)
    #: Live only, opt-in: CloudTrail's web-identity calls of the last so many hours, and the
    #: actions to simulate for the roles (``--cloudtrail``, ``--action``).
    cloudtrail_hours: int | None = None
    actions: tuple[str, ...] = ()

    # -- messages ---------------------------------------------------------------------------

    def _say(self, level: Level, text: str) -> None:
        self.messages.append(Message(level, text))

    def _fail(self, what: str, exc: BaseException) -> None:
        """Record an exception as one readable line (no traceback in the app)."""
        known = isinstance(exc, ValueError | OSError | KeyError | live.LiveError)
        text = _first_line(exc)
        if not known:
            log.warning("%s", what, exc_info=exc)
            text = f"{type(exc).__name__}: {text}"
        self._say("error", f"{what}: {text}")

    @property
    def errors(self) -> list[str]:
        return [m.text for m in self.messages if m.level == "error"]

    # -- sources ----------------------------------------------------------------------------

    @staticmethod
    def demo_choices() -> list[tuple[str, str]]:
        """``(label, name)`` for every shipped demo bundle, ``demo`` first."""
        names = sorted(demo_names(), key=lambda n: (n != "demo", n))
        return [(n if n == "demo" else f"demo:{n}", n) for n in names]

    def load(self, source: Source) -> bool:
        """Open ``source``; on success select a first target, else say why and unload."""
        self.messages = []
        try:
            inv = source.open(options=self._live_options() if source.is_live else None)
        except Exception as exc:
            self.inventory = self.source = None
            self._reset_outputs()
            self.namespace, self.service_account, self.pod = None, ALL, ALL
            self._fail(f"Could not load {source.label}", exc)
            return False
        self.source, self.inventory = source, inv
        self._reset_outputs()
        self._report_gaps(inv)
        # start where most service accounts carry an IAM role
        spaces = sorted(self.namespaces(), key=lambda ns: -self._annotated(ns))
        self.select_namespace(spaces[0] if spaces else None)
        self._say("info", f"Loaded {source.label}: {self.inventory_summary()}.")
        return True

    def inventory_summary(self) -> str:
        inv = self.inventory
        if inv is None:
            return "nothing loaded"
        cl = inv.cluster
        head = f"cluster {cl.name} ({cl.region})" if isinstance(cl, Cluster) else "cluster unknown"
        sas = self._service_accounts()
        annotated = sum(1 for sa in sas.values() if sa.role_arn)
        return (
            f"{head}, {len(sas)} service accounts ({annotated} with an IAM role), "
            f"{len(self._pods())} pods"
        )

    def _report_gaps(self, inv: Inventory) -> None:
        if isinstance(inv.cluster, Gap):
            self._say("warning", f"Cluster description unavailable: {inv.cluster.message}")
        for what, value in (("Service accounts", inv.service_accounts), ("Pods", inv.pods)):
            if isinstance(value, Gap):
                self._say(
                    "warning", f"{what} unavailable: {value.message} (collect: {value.command})"
                )
        for ns, message in sorted(inv.namespace_errors.items()):
            self._say("warning", f"Namespace {ns} could not be read: {message}")

    def _reset_outputs(self) -> None:
        self.results, self.results_for = None, ""
        self.evidence = self.diagnosis = None

    # -- live helpers -----------------------------------------------------------------------

    def refresh_kube_contexts(self, config_file: str | None = None) -> list[KubeContext]:
        """Read the contexts of the kubeconfig; no kubeconfig is a warning, not an error."""
        self.messages = []
        try:
            self.kube_contexts, self.kube_context = live.kube_contexts(config_file)
        except live.LiveError as exc:
            self.kube_contexts, self.kube_context = [], None
            self._say("warning", str(exc))
        return self.kube_contexts

    def list_clusters(self, region: str | None, profile: str | None = None) -> list[str]:
        """EKS clusters of ``region`` (``eks list-clusters``); failures become messages."""
        self.messages = []
        try:
            self.clusters = live.eks_clusters(region, profile)
        except live.LiveError as exc:
            self.clusters = []
            self._say("error", str(exc))
            return []
        if not self.clusters:
            self._say("warning", f"No EKS clusters in {region}.")
        return self.clusters

    # -- selection --------------------------------------------------------------------------

    def _service_accounts(self) -> dict[tuple[str, str], ServiceAccount]:
        sas = self.inventory.service_accounts if self.inventory else {}
        return {} if isinstance(sas, Gap) else sas

    def _pods(self) -> tuple[Pod, ...]:
        pods = self.inventory.pods if self.inventory else ()
        return () if isinstance(pods, Gap) else pods

    def _annotated(self, namespace: str) -> int:
        sas = self._service_accounts().items()
        return sum(1 for (ns, _), sa in sas if ns == namespace and sa.role_arn)

    def namespaces(self) -> list[str]:
        """Namespaces holding service accounts or pods."""
        spaces = {ns for ns, _ in self._service_accounts()} | {p.namespace for p in self._pods()}
        return sorted(spaces)

    def service_account_choices(self, namespace: str | None = None) -> list[tuple[str, str]]:
        """``(label, name)`` for the namespace: service accounts with an IAM role first (role
        in the label), then names pods use that do not exist, then the rest, then
        :data:`ALL` (every IRSA service account and pod of the namespace)."""
        ns = self.namespace if namespace is None else namespace
        if ns is None:
            return []
        sas = {name: sa for (n, name), sa in self._service_accounts().items() if n == ns}
        used: dict[str, int] = {}
        for p in self._pods():
            if p.namespace == ns:
                used[p.service_account] = used.get(p.service_account, 0) + 1
        annotated, missing, plain = [], [], []
        for name in sorted(sas):
            arn = sas[name].role_arn
            if arn:
                annotated.append((f"{name} → {_role_label(arn)}", name))
            else:
                plain.append((f"{name} (no IAM role)", name))
        collected = self.inventory is not None and not isinstance(
            self.inventory.service_accounts, Gap
        )
        for name in sorted(n for n in set(used) - set(sas) if n):
            pods = f"{used[name]} pod{'s' * (used[name] != 1)}"
            missing.append((f"{name} ({'missing, ' * collected}used by {pods})", name))
        return [*annotated, *missing, *plain, (f"(every IRSA service account in {ns})", ALL)]

    def pod_choices(
        self, namespace: str | None = None, service_account: str | None = None
    ) -> list[tuple[str, str]]:
        """``(label, name)``: :data:`ALL` first, then the pods of the service account (of the
        namespace when the service account is :data:`ALL`)."""
        ns = self.namespace if namespace is None else namespace
        sa = self.service_account if service_account is None else service_account
        if ns is None:
            return []
        pods = sorted(
            (p for p in self._pods() if p.namespace == ns and sa in (ALL, p.service_account)),
            key=lambda p: p.name,
        )
        first = f"(every pod of {sa})" if sa else f"(every pod in {ns})"
        return [(first, ALL)] + [
            (f"{p.name} ({p.phase})" if p.phase else p.name, p.name) for p in pods
        ]

    def select_namespace(self, namespace: str | None) -> None:
        """Select a namespace and its first service account (and every pod of it)."""
        self.namespace = namespace
        choices = self.service_account_choices(namespace) if namespace is not None else []
        self.select_service_account(choices[0][1] if choices else ALL)

    def select_service_account(self, name: str | None) -> None:
        self.service_account = name or ALL
        self.pod = ALL

    def select_pod(self, name: str | None) -> None:
        self.pod = name or ALL

    @property
    def target_label(self) -> str:
        """``shop/cart``, ``shop/cart-5f6d...`` or ``every IRSA service account in shop``."""
        if self.namespace is None:
            return "nothing selected"
        if self.pod:
            return f"pod {self.namespace}/{self.pod}"
        if self.service_account:
            return f"service account {self.namespace}/{self.service_account}"
        return f"every IRSA service account in {self.namespace}"

    def _target(self) -> dict[str, Any]:
        """The selection as ``run_checks`` / ``diagnose`` keyword arguments."""
        return dict(
            namespace=self.namespace,
            service_account=self.service_account or None,
            pod=self.pod or None,
        )

    # -- SDK --------------------------------------------------------------------------------

    @staticmethod
    def sdk_choices() -> list[tuple[str, str]]:
        """``(label, key)`` for :data:`irsa_nb.checks.sdk.SDK_MINIMUMS`, plus "not given"."""
        from ..sdks import SDK_MINIMUMS

        out = [("(not given)", "")]
        for key, row in SDK_MINIMUMS.items():
            if isinstance(row, dict):
                label = " / ".join(r.label for r in row.values())
            else:
                label = row.label
            out.append((f"{label} ({key})", key))
        return out

    def sdk(self) -> dict[str, str] | None:
        """The SDK mapping for :func:`irsa_nb.run_checks`; raises ValueError when half-given."""
        name, version = self.sdk_name.strip(), self.sdk_version.strip()
        if not name and not version:
            return None
        if not name:
            raise ValueError(f"choose which SDK version {version} belongs to")
        if not version:
            raise ValueError(f"type the version of the {name} SDK (e.g. 1.9.220) or clear it")
        return {name: version}

    # -- actions ----------------------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> pd.DataFrame | None:
        """Run the checks for the selection, one check at a time (``progress(done, total,
        check_id)`` after each). Returns the results, or None with an error message."""
        self.messages = []
        self.results, self.results_for = None, ""
        if self.inventory is None:
            self._say("error", "Load a source first (a demo, a bundle or a live cluster).")
            return None
        target = self._target()
        try:
            sdk = self.sdk()
            # no checks: validates the target, SDK and language before anything runs
            run_checks(self.inventory, **target, sdk=sdk, checks=[], lang=self.lang)
        except Exception as exc:
            self._fail(f"Cannot check {self.target_label}", exc)
            return None
        order = ordered_checks()
        frames = []
        for done, chk in enumerate(order):
            if progress:
                progress(done, len(order), chk.id)
            # run_checks turns a crashing check into an ERROR row; the others still run
            frames.append(
                run_checks(self.inventory, **target, sdk=sdk, checks=[chk.id], lang=self.lang)
            )
        if progress:
            progress(len(order), len(order), "")
        nonempty = [f for f in frames if not f.empty]
        self.results = pd.concat(nonempty, ignore_index=True) if nonempty else frames[0]
        self.results_for = self.target_label
        counts = status_counts(self.results)
        if not len(self.results):
            self._say("warning", f"Nothing to check for {self.target_label}.")
        elif counts.get("FAIL") or counts.get("ERROR"):
            self._say("info", f"Checked {self.target_label}: see the rows marked FAIL or ERROR.")
        else:
            self._say("info", f"Checked {self.target_label}: no failures.")
        return self.results

    def _live_options(self) -> Options:
        """The opt-in live evidence the Explorer collects (CloudTrail, simulated actions)."""
        return Options(lang=self.lang, cloudtrail_hours=self.cloudtrail_hours, actions=self.actions)

    def what_happened(self) -> str:
        """HTML of what really happened to the picked service account: CloudTrail's calls and
        the simulated actions (``""`` when the source holds neither)."""
        from ..report import what_happened_html

        return "" if self.results is None else what_happened_html(self.results, self.lang)

    def runbook_request(self) -> tuple[Source, Target, Options]:
        """What :func:`irsa_nb.runbook.run_runbook` runs for the loaded source and the
        selection (redacted, with the pasted error message when there is one)."""
        if self.source is None:
            raise ValueError("load a source first")
        target = Target(self.namespace, self.service_account or None, self.pod or None)
        live = self.source.is_live
        options = Options(
            sdk=self.sdk() or {},
            lang=self.lang,
            redact=True,
            error_message=self.error_text.strip() or None,
            cloudtrail_hours=self.cloudtrail_hours if live else None,
            actions=self.actions if live else (),
        )
        return self.source, target, options

    def save_evidence(self, out_dir: str | os.PathLike[str] | None = None) -> Any:
        """Run the runbook for the selection into ``out_dir`` (default :attr:`evidence_dir`);
        returns its ``RunbookResult`` or None with an error message."""
        from ..runbook import run_runbook

        self.messages = []
        self.evidence = None
        if self.inventory is None or self.source is None:
            self._say("error", "Load a source first; evidence is saved for the loaded selection.")
            return None
        try:
            source, target, options = self.runbook_request()
            base = Path(out_dir if out_dir is not None else self.evidence_dir or "evidence")
            folder = base / self.evidence_folder_name()
            result = run_runbook(folder, source, target, options, timeout=self.timeout)
        except Exception as exc:
            self._fail("Could not save evidence", exc)
            return None
        self.evidence = result
        verdict = getattr(result, "verdict", None) or "unknown"
        if getattr(result, "error", None):
            self._say("error", f"The runbook did not finish ({result.status}): {result.error}")
        else:
            self._say("info", f"Evidence saved for {self.target_label}: verdict {verdict}.")
        if base.is_absolute() or ".." in base.parts or "evidence" not in base.parts:
            self._say(
                "warning",
                f"Voila serves reports only from an evidence/ folder below the notebook "
                f"(binder/voila.json): its link may not open; the files are in {base}.",
            )
        return result

    def evidence_folder_name(self, now: dt.datetime | None = None) -> str:
        """``shop-cart-20260102T030405Z``: target and UTC time, safe as a folder name."""
        stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
        parts = [self.namespace or "all", self.pod or self.service_account or "all", stamp]
        return "-".join(re.sub(r"[^A-Za-z0-9._]+", "_", p).strip("._") or "_" for p in parts)

    def evidence_href(
        self, cwd: str | os.PathLike[str] | None = None, which: str = "html"
    ) -> str | None:
        """URL of the saved HTML (``which``: ``html`` or ``html_full``) relative to ``cwd``
        (the notebook's folder in JupyterLab and Voila), or None when there is none."""
        html = getattr(self.evidence, which, None)
        if not html or not Path(html).is_file():
            return None
        rel = os.path.relpath(Path(html).resolve(), Path(cwd or os.getcwd()).resolve())
        return quote(Path(rel).as_posix())

    def explain(self, text: str) -> pd.DataFrame | None:
        """Likely causes of a pasted error message (:func:`irsa_nb.diagnose`); with a loaded
        source, the causes are checked against the selected service account or pod."""
        from ..diagnose import diagnose

        self.messages = []
        self.diagnosis = None
        self.error_text = text or ""
        if not text or not text.strip():
            self._say("error", "Paste an error message first (e.g. from your pod's logs).")
            return None
        target: dict[str, Any] = {}
        if self.inventory is not None and (self.service_account or self.pod):
            target = self._target()
        try:
            sdk = self.sdk()
            if sdk:
                target["sdk"] = sdk
            df = diagnose(text, inventory=self.inventory, **target, lang=self.lang)
        except Exception as exc:
            self._fail("Could not explain the message", exc)
            return None
        self.diagnosis = df
        if df is None or not len(df) or df.attrs.get("recognised") is False:
            self._say("warning", "This is not an error irsa-nb recognises (see below).")
        elif target:
            self._say("info", f"Causes checked against {self.target_label}.")
        return df


def _role_label(arn: str) -> str:
    from ..iam.arn import is_valid_role_arn, role_name

    return f"role {role_name(arn)}" if is_valid_role_arn(arn) else f"invalid role ARN {arn}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        text = str(exc.args[0])
    return text.splitlines()[0] if text else type(exc).__name__
