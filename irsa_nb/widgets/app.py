"""The Explorer: a thin ipywidgets shell over :class:`~irsa_nb.widgets.state.ExplorerState`.

Pattern of the voila-gallery apps: widgets built in ``__init__``, one handler per
control, ``self.container`` displayed by the notebook. Handlers copy widget values into
the state, call one state action, and render the state back; nothing else happens here.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as w

from ..demo import is_demo_name
from ..live import discover as live
from ..pipeline import Source, status_counts
from . import render
from .state import ExplorerState, Message

log = logging.getLogger(__name__)

_WIDE = w.Layout(width="520px")
_STYLE = {"description_width": "120px"}


def _section(title: str) -> w.HTML:
    return w.HTML(f'<h4 style="margin:12px 0 4px">{render.esc(title)}</h4>')


def _guarded(messages_attr: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Show an unexpected exception of a handler in its section instead of losing it (ipywidgets
    callbacks otherwise fail silently in JupyterLab and Voila)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(self: Explorer, *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            except Exception as exc:
                log.warning("explorer: %s failed", fn.__name__, exc_info=exc)
                text = f"Unexpected error: {type(exc).__name__}: {exc}"
                getattr(self, messages_attr).value = render.messages_html([Message("error", text)])
                return None

        return wrapper

    return deco


class Explorer:
    """Point-and-click IRSA checks for JupyterLab and Voila.

    Choose a source (a demo bundle, a bundle path or a live cluster), a namespace, a service
    account and optionally a pod and the application's SDK; run the checks; save evidence;
    paste an error message to get its likely causes.

    Parameters
    ----------
    source
        ``"demo"``/``"demo:NAME"`` (loaded at once), a bundle path (loaded at once) or
        ``"live"`` (kube contexts and AWS profiles offered; nothing is contacted until asked).
    evidence_dir
        Where "Save evidence" writes, relative to the notebook's folder.
    lang
        Language of the check texts.
    timeout
        Seconds the evidence runbook may take.

    Examples
    --------
    >>> from irsa_nb.widgets import Explorer
    >>> app = Explorer("demo")
    >>> app.namespace.value, app.service_account.value = "shop", "cart"
    >>> app.run_button.click()
    >>> app.state.results.query("status == 'FAIL'").check_id.tolist()
    ['trust_policy_allows_service_account']
    """

    def __init__(
        self,
        source: str = "demo",
        *,
        evidence_dir: str = "evidence",
        lang: str = "en",
        timeout: float = 600,
        state: ExplorerState | None = None,
    ) -> None:
        self.state = state or ExplorerState(lang=lang, evidence_dir=evidence_dir, timeout=timeout)
        self._refreshing = False
        self._live_ready = False
        self._build()
        self._wire()
        self.container = w.VBox(
            [
                _section("1. Source"),
                self.source_kind,
                self.source_panel,
                self.source_info,
                self.source_messages,
                _section("2. What to check"),
                self.namespace,
                self.service_account,
                self.pod,
                w.HBox([self.sdk_name, self.sdk_version]),
                w.HBox([self.run_button, self.progress, self.status]),
                self.check_messages,
                self.summary,
                self.findings,
                self.table,
                _section("3. Save evidence"),
                w.HBox([self.evidence_dir, self.save_button]),
                self.evidence_messages,
                self.evidence,
                _section("4. Explain an error"),
                self.error_text,
                self.explain_button,
                self.explain_messages,
                self.diagnosis,
            ]
        )
        self.container.add_class("irsa-explorer")
        self._start(source)

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        st = self.state
        self.source_kind = w.ToggleButtons(
            options=[("Demo", "demo"), ("Bundle", "bundle"), ("Live cluster", "live")],
            value="demo",
        )
        self.demo = w.Dropdown(
            options=st.demo_choices(), description="Demo bundle", style=_STYLE, layout=_WIDE
        )
        self.bundle_path = w.Text(
            description="Bundle path",
            placeholder="folder, .tar.gz or .zip (relative to this notebook)",
            style=_STYLE,
            layout=_WIDE,
        )
        self.load_bundle_button = w.Button(description="Load bundle", icon="folder-open")
        self.context = w.Dropdown(description="kube context", style=_STYLE, layout=_WIDE)
        self.profile = w.Combobox(
            description="AWS profile", placeholder="default", style=_STYLE, layout=_WIDE
        )
        self.region = w.Combobox(
            description="Region", placeholder="e.g. us-west-2", style=_STYLE, layout=_WIDE
        )
        self.cluster = w.Combobox(
            description="EKS cluster", placeholder="type or list", style=_STYLE, layout=_WIDE
        )
        self.list_clusters_button = w.Button(description="List clusters", icon="list")
        self.connect_button = w.Button(description="Connect", icon="plug")
        self.cloudtrail_hours = w.Text(
            description="CloudTrail h",
            placeholder="opt-in: hours of web-identity calls to read, e.g. 24",
            style=_STYLE,
            layout=_WIDE,
        )
        self.actions = w.Text(
            description="Actions",
            placeholder="opt-in: simulate, e.g. s3:GetObject=arn:aws:s3:::bucket/*",
            style=_STYLE,
            layout=_WIDE,
        )
        self._panels = {
            "demo": w.VBox([self.demo]),
            "bundle": w.HBox([self.bundle_path, self.load_bundle_button]),
            "live": w.VBox(
                [
                    self.context,
                    self.profile,
                    self.region,
                    w.HBox([self.cluster, self.list_clusters_button]),
                    self.cloudtrail_hours,
                    self.actions,
                    self.connect_button,
                ]
            ),
        }
        self.source_panel = w.Box([self._panels["demo"]])
        self.source_info = w.HTML()
        self.source_messages = w.HTML()

        self.namespace = w.Dropdown(description="Namespace", style=_STYLE, layout=_WIDE)
        self.service_account = w.Dropdown(description="Service account", style=_STYLE, layout=_WIDE)
        self.pod = w.Dropdown(description="Pod", style=_STYLE, layout=_WIDE)
        self.sdk_name = w.Dropdown(
            options=st.sdk_choices(),
            value="",
            description="App SDK",
            style=_STYLE,
            layout=w.Layout(width="360px"),
        )
        self.sdk_version = w.Text(
            description="version",
            placeholder="e.g. 1.9.220",
            style={"description_width": "60px"},
            layout=w.Layout(width="220px"),
        )
        self.run_button = w.Button(description="Run checks", button_style="primary", icon="play")
        self.progress = w.IntProgress(
            min=0, max=1, value=0, layout=w.Layout(width="200px", visibility="hidden")
        )
        self.status = w.HTML()
        self.check_messages = w.HTML()
        self.summary = w.HTML()
        self.table = w.HTML()
        self.findings = w.HTML()

        self.evidence_dir = w.Text(
            value=st.evidence_dir, description="Output folder", style=_STYLE, layout=_WIDE
        )
        self.save_button = w.Button(description="Save evidence", icon="save")
        self.evidence_messages = w.HTML()
        self.evidence = w.HTML()

        self.error_text = w.Textarea(
            placeholder=(
                "Paste an error message, e.g. An error occurred (AccessDenied) when calling "
                "the AssumeRoleWithWebIdentity operation: Not authorized to perform "
                "sts:AssumeRoleWithWebIdentity"
            ),
            layout=w.Layout(width="640px", height="80px"),
        )
        self.explain_button = w.Button(description="Explain", icon="question")
        self.explain_messages = w.HTML()
        self.diagnosis = w.HTML()

        for name, widget in vars(self).items():  # CSS hooks: .irsa-run-button, .irsa-pod, ...
            if isinstance(widget, w.DOMWidget) and not name.startswith("_"):
                widget.add_class("irsa-" + name.replace("_", "-"))

    def _wire(self) -> None:
        self.source_kind.observe(self._on_source_kind, names="value")
        self.demo.observe(self._on_demo, names="value")
        self.load_bundle_button.on_click(self._on_load_bundle)
        self.context.observe(self._on_context, names="value")
        self.list_clusters_button.on_click(self._on_list_clusters)
        self.connect_button.on_click(self._on_connect)
        self.namespace.observe(self._on_namespace, names="value")
        self.service_account.observe(self._on_service_account, names="value")
        self.pod.observe(self._on_pod, names="value")
        self.run_button.on_click(self._on_run)
        self.save_button.on_click(self._on_save)
        self.explain_button.on_click(self._on_explain)

    def _start(self, source: str) -> None:
        if source == "live":
            self.source_kind.value = "live"
        elif is_demo_name(source) or source in dict(self.state.demo_choices()).values():
            name = source.split(":", 1)[1] if ":" in source else source
            self._refreshing = True
            self.demo.value = name
            self._refreshing = False
            self.load(Source.demo(name))
        else:
            self._refreshing = True
            self.source_kind.value = "bundle"
            self._show_panel("bundle")
            self._refreshing = False
            self.bundle_path.value = source
            self.load(Source.from_path(source))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.container._repr_mimebundle_(**kwargs)

    # -- public actions (also what the buttons do) ------------------------------------------

    def load(self, source: Source) -> bool:
        """Load ``source`` and refresh the target choices."""
        with self._busy(f"Loading {source.label}…", self.source_info):
            ok = self.state.load(source)
        self.source_info.value = (
            f"<b>Loaded:</b> {render.esc(source.label)} — "
            f"{render.esc(self.state.inventory_summary())}"
            if ok
            else ""
        )
        self.source_messages.value = render.messages_html(
            m for m in self.state.messages if m.level != "info"
        )
        for out in (self.check_messages, self.evidence_messages, self.explain_messages):
            out.value = ""
        self._show_results()
        self.evidence.value = self.diagnosis.value = ""
        self._sync_targets()
        return ok

    def run(self) -> Any:
        """Run the checks for the selection; returns the results DataFrame (or None)."""
        st = self.state
        st.sdk_name, st.sdk_version = self.sdk_name.value or "", self.sdk_version.value or ""
        self.progress.layout.visibility = "visible"
        self.progress.bar_style = ""
        self.progress.value = 0
        with self._busy("Running checks…", self.status):
            df = st.run(progress=self._on_progress)
        self.status.value = "" if df is None else render.progress_html(0, self.progress.max, "")
        counts = {} if df is None else status_counts(df)
        self.progress.bar_style = (
            "danger" if counts.get("FAIL") or counts.get("ERROR") else "success"
        )
        self.check_messages.value = render.messages_html(st.messages)
        self._show_results()
        return df

    def save_evidence(self) -> Any:
        """Run the evidence runbook for the selection and link its HTML report."""
        st = self.state
        st.sdk_name, st.sdk_version = self.sdk_name.value or "", self.sdk_version.value or ""
        st.evidence_dir = self.evidence_dir.value.strip() or "evidence"
        st.error_text = self.error_text.value
        self.evidence_messages.value = ""
        with self._busy("Running the evidence runbook (this takes a few seconds)…", self.evidence):
            result = st.save_evidence()
        self.evidence_messages.value = render.messages_html(st.messages)
        cwd = os.getcwd()  # the notebook's folder, in JupyterLab and in Voila
        self.evidence.value = render.evidence_html(
            result, st.evidence_href(cwd), st.evidence_href(cwd, "html_full")
        )
        return result

    def explain(self, text: str | None = None) -> Any:
        """Likely causes of an error message (the text area's when ``text`` is None)."""
        if text is not None:
            self.error_text.value = text
        with self._busy("Looking up the error…", self.diagnosis):
            df = self.state.explain(self.error_text.value)
        self.explain_messages.value = render.messages_html(self.state.messages)
        self.diagnosis.value = render.diagnosis_html(df)
        return df

    # -- handlers ---------------------------------------------------------------------------

    @_guarded("source_messages")
    def _on_source_kind(self, change: dict) -> None:
        if self._refreshing:
            return
        kind = change["new"]
        self._show_panel(kind)
        if kind == "demo":
            self.load(Source.demo(self.demo.value))
        elif kind == "live" and not self._live_ready:
            self._prepare_live()

    @_guarded("source_messages")
    def _on_demo(self, change: dict) -> None:
        if not self._refreshing and change["new"]:
            self.load(Source.demo(change["new"]))

    @_guarded("source_messages")
    def _on_load_bundle(self, _: Any = None) -> None:
        self.load(Source.from_path(self.bundle_path.value))

    @_guarded("source_messages")
    def _on_context(self, change: dict) -> None:
        if self._refreshing:
            return
        ctx = next((c for c in self.state.kube_contexts if c.name == change["new"]), None)
        eks = live.eks_cluster(ctx) if ctx else None
        if eks:
            self.cluster.value, self.region.value = eks

    @_guarded("source_messages")
    def _on_list_clusters(self, _: Any = None) -> None:
        region = self.region.value or "?"
        with self._busy(f"Listing EKS clusters in {region}…", self.source_messages):
            names = self.state.list_clusters(self.region.value.strip(), self.profile.value.strip())
        self.cluster.options = tuple(names)
        if names and self.cluster.value not in names:
            self.cluster.value = names[0]
        self.source_messages.value = render.messages_html(self.state.messages)

    @_guarded("source_messages")
    def _on_connect(self, _: Any = None) -> None:
        hours = self.cloudtrail_hours.value.strip()
        self.state.cloudtrail_hours = int(hours) if hours.isdigit() and int(hours) > 0 else None
        self.state.actions = tuple(self.actions.value.replace(",", " ").split())
        self.load(
            Source.live(
                self.cluster.value,
                region=self.region.value,
                profile=self.profile.value,
                context=self.context.value or None,
            )
        )

    @_guarded("check_messages")
    def _on_namespace(self, change: dict) -> None:
        if not self._refreshing:
            self.state.select_namespace(change["new"])
            self._sync_targets()

    @_guarded("check_messages")
    def _on_service_account(self, change: dict) -> None:
        if not self._refreshing:
            self.state.select_service_account(change["new"])
            self._sync_targets()

    @_guarded("check_messages")
    def _on_pod(self, change: dict) -> None:
        if not self._refreshing:
            self.state.select_pod(change["new"])

    @_guarded("check_messages")
    def _on_run(self, _: Any = None) -> None:
        self.run()

    @_guarded("evidence_messages")
    def _on_save(self, _: Any = None) -> None:
        self.save_evidence()

    @_guarded("explain_messages")
    def _on_explain(self, _: Any = None) -> None:
        self.explain()

    def _on_progress(self, done: int, total: int, check_id: str) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.status.value = render.progress_html(done, total, check_id)

    # -- rendering --------------------------------------------------------------------------

    def _show_panel(self, kind: str) -> None:
        self.source_panel.children = (self._panels[kind],)

    def _prepare_live(self) -> None:
        """Offer kube contexts, AWS profiles and regions (local files only, no network)."""
        st = self.state
        contexts = st.refresh_kube_contexts()
        self.source_messages.value = render.messages_html(st.messages)
        self._refreshing = True
        try:
            self.context.options = [("(current context)", "")] + [
                (c.name, c.name) for c in contexts
            ]
            self.context.value = ""
            self.profile.options = tuple(live.aws_profiles())
            self.region.options = tuple(live.eks_regions())
            current = next((c for c in contexts if c.name == st.kube_context), None)
            eks = live.eks_cluster(current) if current else None
            if eks:
                self.cluster.value, self.region.value = eks
            elif not self.region.value:
                self.region.value = live.default_region()
        finally:
            self._refreshing = False
        self._live_ready = True

    def _sync_targets(self) -> None:
        """Copy the state's choices and selection into the three target dropdowns."""
        st = self.state
        self._refreshing = True
        try:
            self.namespace.options = st.namespaces()
            self.namespace.value = st.namespace
            self.service_account.options = st.service_account_choices()
            self.service_account.value = st.service_account if st.namespace else None
            self.pod.options = st.pod_choices()
            self.pod.value = st.pod if st.namespace else None
        finally:
            self._refreshing = False
        for dd in (self.namespace, self.service_account, self.pod):
            dd.disabled = not dd.options
        self.run_button.disabled = self.save_button.disabled = st.inventory is None

    def _show_results(self) -> None:
        st = self.state
        df = st.results
        self.summary.value = (
            "" if df is None else render.summary_html(status_counts(df), st.results_for)
        )
        self.table.value = render.results_table_html(df)
        self.findings.value = render.findings_html(df) + st.what_happened()

    @property
    def _buttons(self) -> list[w.Button]:
        return [
            self.run_button,
            self.save_button,
            self.explain_button,
            self.load_bundle_button,
            self.connect_button,
            self.list_clusters_button,
        ]

    @contextmanager
    def _busy(self, text: str, where: w.HTML) -> Iterator[None]:
        """Disable the buttons and show ``text`` while an action runs."""
        before = [b.disabled for b in self._buttons]
        for b in self._buttons:
            b.disabled = True
        busy = f'<span class="irsa-busy">{render.esc(text)}</span>'
        where.value = busy
        try:
            yield
        finally:
            if where.value == busy:
                where.value = ""
            for b, was in zip(self._buttons, before, strict=True):
                b.disabled = was
