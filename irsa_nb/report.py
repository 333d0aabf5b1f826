"""The runbook report: header, styled summary and one section per seed step, as escaped HTML.

The runbook notebook (``notebooks/irsa_runbook.ipynb``) only calls :meth:`Runbook.run` and
displays what the methods return; everything shown is built here, so it is testable
without a kernel. Every string that comes from a cluster, a bundle or a parameter is
HTML-escaped: hostile names and annotations render as text. Prose comes from the
``_runbook`` section of the text catalogue (``en``/``zh``).

Examples
--------
>>> from irsa_nb.report import Runbook
>>> rb = Runbook.run(bundle="demo", namespace="shop", service_account="cart")
>>> rb.verdict
'FAIL'
>>> [s.step for s in rb.sections()][:3]
[1, 2, 3]
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import text
from .checks import REGISTRY, RESULT_COLUMNS, STATUSES, run_checks
from .checks.registry import ordered_checks
from .evidence import RESULTS_CSV, RESULTS_JSON
from .inventory import Cluster, Inventory

log = logging.getLogger(__name__)

#: MIME type of the run facts the header cell emits (read back into manifest.json).
RUN_MIME = "application/vnd.irsa-nb.run+json"

#: (text colour, background) per status; inline styles, so they survive HTML export.
STATUS_COLOURS = {
    "PASS": ("#1b5e20", "#e8f5e9"),
    "FAIL": ("#b71c1c", "#ffcdd2"),
    "WARN": ("#8a4b00", "#ffe0b2"),
    "INFO": ("#0d47a1", "#e3f2fd"),
    "SKIP": ("#555555", "#eeeeee"),
    "ERROR": ("#4a148c", "#e1bee7"),
    "EMPTY": ("#555555", "#eeeeee"),
}
PRE_STYLE = "white-space:pre-wrap;background:#f6f8fa;border:1px solid #ddd;padding:6px;margin:4px 0"
CELL_STYLE = "border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top"


class ChecksFailed(Exception):
    """Raised by the runbook's last cell when a check is FAIL (papermill then exits 1)."""


def esc(value: Any) -> str:
    """HTML-escape ``value`` (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def prose(lang: str, key: str, **params: Any) -> str:
    """The ``_runbook.<key>`` text of the catalogue, filled with ``params`` (not escaped)."""
    return text.render(lang, ("_runbook", *key.split(".")), params)


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


def status_counts(results: pd.DataFrame) -> dict[str, int]:
    """Rows per status, every status present as a key (zero when absent)."""
    counts = results["status"].value_counts() if len(results) else {}
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def counts_line(results: pd.DataFrame, lang: str = "en") -> str:
    """``"14 results: 11 PASS, 1 FAIL, 2 SKIP"``."""
    counts = status_counts(results)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "-"
    return prose(lang, "counts", total=len(results), summary=summary)


def _target_text(lang: str, target: Mapping[str, str]) -> str:
    ns = target.get("namespace") or ""
    if target.get("pod"):
        return prose(lang, "target_pod", namespace=ns or "*", pod=target["pod"])
    if target.get("service_account"):
        return prose(
            lang,
            "target_service_account",
            namespace=ns or "*",
            service_account=target["service_account"],
        )
    if ns:
        return prose(lang, "target_namespace", namespace=ns)
    return prose(lang, "target_all")


def _status_badge(status: str) -> str:
    fg, bg = STATUS_COLOURS.get(status, ("#000", "#fff"))
    return (
        f'<span style="color:{fg};background:{bg};font-weight:bold;padding:1px 6px;'
        f'border-radius:3px">{esc(status)}</span>'
    )


def where(row: Mapping[str, Any]) -> str:
    """``ns/pod``, ``ns/service-account`` or ``(cluster)`` for a result row.

    >>> where({"namespace": "shop", "service_account": "cart", "pod": ""})
    'shop/cart'
    """
    ns = row.get("namespace") or ""
    name = row.get("pod") or row.get("service_account") or ""
    return "/".join(str(x) for x in (ns, name) if x) or "(cluster)"


def step_of(check_id: str) -> int | None:
    """The seed-article step a check belongs to (None: beyond the article or unknown)."""
    chk = REGISTRY.get(check_id)
    return chk.seed_step if chk else None


@dataclass(repr=False)
class Section:
    """One step of the article (or "beyond the article") with its checks' rows."""

    step: int | None
    title: str
    check_ids: list[str]
    rows: pd.DataFrame
    lang: str = "en"

    def html(self) -> str:
        return section_html(self, self.lang)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self.html(), "text/plain": self.title}


def sections(results: pd.DataFrame, lang: str = "en") -> list[Section]:
    """One :class:`Section` per seed step that has a registered check (in the article's
    order), then "Beyond the article" for checks with no seed step (new checks appear
    there automatically)."""
    by_step: dict[int | None, list[str]] = {}
    for chk in ordered_checks():
        by_step.setdefault(chk.seed_step, []).append(chk.id)
    for check_id in dict.fromkeys(results["check_id"]):
        if check_id not in REGISTRY:
            by_step.setdefault(None, []).append(check_id)
    out = []
    for step in sorted(by_step, key=lambda s: (s is None, s or 0)):
        ids = by_step[step]
        if step is None:
            title = prose(lang, "beyond")
        else:
            name = text.lookup(lang, "_runbook", "steps", str(step)) or f"#{step}"
            title = prose(lang, "step_heading", step=step, title=name)
        rows = results[results["check_id"].isin(ids)]
        out.append(Section(step, title, ids, rows, lang))
    return out


def section_html(section: Section, lang: str = "en") -> str:
    """HTML of one section: heading, and per check its explanation, rows, facts and fixes."""
    anchor = f"step-{section.step}" if section.step is not None else "beyond"
    parts = [f'<section id="irsa-{anchor}">', f"<h2>{esc(section.title)}</h2>"]
    if section.step is None:
        parts.append(f"<p><em>{esc(prose(lang, 'beyond_explain'))}</em></p>")
    for check_id in section.check_ids:
        rows = section.rows[section.rows["check_id"] == check_id]
        title = text.lookup(lang, check_id, "title") or check_id
        explain = text.lookup(lang, check_id, "explain") or ""
        parts.append(f"<h3>{esc(title)} <code>{esc(check_id)}</code></h3>")
        if explain:
            parts.append(f"<p>{esc(' '.join(str(explain).split()))}</p>")
        if rows.empty:
            parts.append(f"<p><em>{esc(prose(lang, 'no_rows'))}</em></p>")
            continue
        parts.append(_rows_table(rows, lang))
        parts.append(_facts(rows, lang))
        parts.append(_fixes(rows, lang))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _rows_table(rows: pd.DataFrame, lang: str) -> str:
    head = "".join(
        f'<th style="{CELL_STYLE}">{esc(prose(lang, k))}</th>'
        for k in ("col_status", "col_target", "col_detail")
    )
    body = []
    for r in rows.to_dict("records"):
        body.append(
            f'<tr><td style="{CELL_STYLE}">{_status_badge(r["status"])}</td>'
            f'<td style="{CELL_STYLE}">{esc(where(r))}</td>'
            f'<td style="{CELL_STYLE}">{esc(r["detail"])}</td></tr>'
        )
    return (
        f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _facts(rows: pd.DataFrame, lang: str) -> str:
    seen: dict[str, list[str]] = {}
    worst: dict[str, str] = {}
    for r in rows.to_dict("records"):
        if not r["evidence"]:
            continue
        try:
            pretty = json.dumps(json.loads(r["evidence"]), indent=2, ensure_ascii=False)
        except ValueError:
            pretty = str(r["evidence"])
        seen.setdefault(pretty, []).append(where(r))
        if r["status"] != "PASS":
            worst[pretty] = r["status"]
    if not seen:
        return ""
    label = esc(prose(lang, "facts"))
    parts = []
    for pretty, targets in seen.items():
        is_open = " open" if pretty in worst else ""
        parts.append(
            f"<details{is_open}><summary>{label}: {esc(', '.join(dict.fromkeys(targets)))}"
            f'</summary><pre style="{PRE_STYLE}">{esc(pretty)}</pre></details>'
        )
    return "\n".join(parts)


def _fixes(rows: pd.DataFrame, lang: str) -> str:
    fixes: dict[str, list[str]] = {}
    for r in rows.to_dict("records"):
        if r["status"] != "PASS" and r["remediation"]:
            fixes.setdefault(r["remediation"], []).append(where(r))
    if not fixes:
        return ""
    parts = [f"<h4>{esc(prose(lang, 'fix'))}</h4>"]
    for fix, targets in fixes.items():
        parts.append(f"<p><strong>{esc(', '.join(dict.fromkeys(targets)))}</strong></p>")
        parts.append(f'<pre style="{PRE_STYLE}">{esc(fix)}</pre>')
    return "\n".join(parts)


def summary_styler(results: pd.DataFrame, lang: str = "en"):
    """The summary table (step, check, target, status, severity) as a pandas Styler whose
    status cells are coloured inline (the colours survive nbconvert's HTML export) and
    whose text is HTML-escaped."""
    cols = {k: prose(lang, f"col_{k}") for k in ("step", "check", "target", "status", "severity")}
    table = pd.DataFrame(
        {
            cols["step"]: [
                str(step_of(c)) if step_of(c) is not None else "+" for c in results["check_id"]
            ],
            cols["check"]: list(results["title"]),
            cols["target"]: [where(r) for r in results.to_dict("records")],
            cols["status"]: list(results["status"]),
            cols["severity"]: list(results["severity"]),
        },
        columns=list(cols.values()),
        dtype=object,
    )

    def colour(status: Any) -> str:
        fg, bg = STATUS_COLOURS.get(str(status), ("#000", "#fff"))
        return f"color:{fg};background-color:{bg};font-weight:bold"

    return (
        table.style.format(escape="html")
        .map(colour, subset=[cols["status"]])
        .hide(axis="index")
        .set_table_styles(
            [
                {"selector": "th, td", "props": CELL_STYLE},
                {"selector": "", "props": "border-collapse:collapse"},
            ]
        )
    )


def summary_html(results: pd.DataFrame, lang: str = "en") -> str:
    """Heading plus the rendered :func:`summary_styler` table."""
    return f"<h2>{esc(prose(lang, 'summary'))}</h2>\n" + summary_styler(results, lang).to_html()


def header_html(
    facts: Mapping[str, Any], results: pd.DataFrame, lang: str = "en", title_key: str = "title"
) -> str:
    """What was checked, when (UTC), against what (source, cluster, issuer) and the verdict."""
    v = verdict(results)
    fg, bg = STATUS_COLOURS[v]
    rows: list[tuple[str, str]] = [
        (prose(lang, "checked"), _target_text(lang, facts.get("target", {}))),
        (prose(lang, "when"), facts.get("when", "")),
        (prose(lang, "source"), facts.get("source", "")),
        (prose(lang, "cluster"), facts.get("cluster_text", "")),
        (
            prose(lang, "account"),
            " / ".join(x for x in (facts.get("account"), facts.get("region")) if x),
        ),
        (prose(lang, "issuer"), facts.get("issuer", "")),
        (prose(lang, "kubernetes"), facts.get("kubernetes_version", "")),
    ]
    if facts.get("caller_identity"):
        ci = facts["caller_identity"]
        rows.append((prose(lang, "caller"), ci.get("Arn") or ci.get("error", "")))
    if facts.get("sdk"):
        rows.append((prose(lang, "sdk"), ", ".join(f"{k}={v}" for k, v in facts["sdk"].items())))
    if facts.get("error_message"):
        rows.append((prose(lang, "reported_error"), facts["error_message"]))
    if facts.get("redacted"):
        rows.append((prose(lang, "redacted"), str(facts["redacted"])))
    body = "".join(
        f'<tr><th style="{CELL_STYLE}">{esc(k)}</th><td style="{CELL_STYLE}">{esc(v)}</td></tr>'
        for k, v in rows
        if v
    )
    title = prose(lang, title_key, target=_target_text(lang, facts.get("target", {})))
    return (
        f"<h1>{esc(title)}</h1>\n"
        f'<table style="border-collapse:collapse">{body}</table>\n'
        f'<p style="color:{fg};background:{bg};font-size:1.3em;font-weight:bold;padding:6px">'
        f"{esc(prose(lang, 'verdict'))}: {esc(prose(lang, 'verdicts.' + v))}</p>\n"
        f"<p>{esc(counts_line(results, lang))}</p>"
    )


def failures(results: pd.DataFrame, lang: str = "en") -> str:
    """The gate message when any row is FAIL, else ``""``."""
    failed = results[results["status"] == "FAIL"]
    if failed.empty:
        return ""
    checks = ", ".join(f"{r.check_id} ({where(r._asdict())})" for r in failed.itertuples())
    return prose(lang, "gate", count=len(failed), checks=checks)


def save_results(results: pd.DataFrame, results_dir: str | Path) -> list[Path]:
    """Write ``results.json`` (list of records) and ``results.csv`` into ``results_dir``."""
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    records = results[RESULT_COLUMNS].to_dict("records")
    paths = [folder / RESULTS_JSON, folder / RESULTS_CSV]
    paths[0].write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", "utf-8")
    results[RESULT_COLUMNS].to_csv(paths[1], index=False)
    return paths


class Html:
    """An HTML fragment Jupyter displays as-is, optionally with machine-readable data."""

    def __init__(self, markup: str, data: Mapping[str, Any] | None = None, plain: str = ""):
        self.markup, self.data, self.plain = markup, data, plain

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/html": self.markup, "text/plain": self.plain or "(html)"}
        if self.data is not None:
            bundle[RUN_MIME] = dict(self.data)
        return bundle


@dataclass
class Runbook:
    """One runbook run: the inventory's facts, the (redacted) results and the language."""

    results: pd.DataFrame
    facts: dict[str, Any]
    lang: str = "en"
    inventory: Inventory | None = field(default=None, repr=False)

    @classmethod
    def run(
        cls,
        bundle: str = "demo",
        cluster_name: str = "",
        region: str = "",
        profile: str = "",
        context: str = "",
        namespace: str = "",
        service_account: str = "",
        pod_name: str = "",
        sdk: Mapping[str, str] | None = None,
        redact: bool = True,
        lang: str = "en",
        error_message: str = "",
        probe: bool = False,
    ) -> Runbook:
        """Open the source (a live cluster when ``cluster_name`` is set, else ``bundle``),
        run every check for the target and mask secrets when ``redact``. ``probe`` (live
        only) runs the opt-in STS probe for the target (:mod:`irsa_nb.live.sts_probe`)."""
        from .evidence import caller_identity, redact_results
        from .redact import mask_data, mask_text
        from .sources import open_inventory

        live = bool(cluster_name)
        text.catalogue(lang)
        inv = open_inventory(
            bundle=None if live else (bundle or None),
            cluster=cluster_name or None,
            region=region or None,
            profile=profile or None,
            context=context or None,
            namespaces=[namespace] if (live and namespace) else None,
            probe=_probe_options(namespace, service_account, pod_name) if probe else None,
        )
        results = run_checks(
            inv,
            namespace=namespace or None,
            service_account=service_account or None,
            pod=pod_name or None,
            sdk=dict(sdk or {}),
            lang=lang,
        )
        masked = 0
        if redact:
            results, masked = redact_results(results)
        facts = inventory_facts(inv, lang)
        facts.update(
            when=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            live=live,
            bundle="" if live else bundle,
            source=prose(lang, "source_bundle", bundle=bundle)
            if not live
            else prose(
                lang,
                "source_live",
                cluster=cluster_name,
                region=region or "-",
                profile=profile or "-",
                context=context or "-",
            ),
            target={
                "namespace": namespace,
                "service_account": service_account,
                "pod": pod_name,
            },
            sdk=dict(sdk or {}),
            error_message=error_message,
            caller_identity=caller_identity(profile or None, region or None) if live else None,
        )
        if redact:
            facts, n = mask_data(facts)
            masked += n
            facts["error_message"] = mask_text(facts["error_message"] or "")[0]
        facts["redacted"] = masked
        facts["verdict"] = verdict(results)
        facts["counts"] = status_counts(results)
        return cls(results, facts, lang, inv)

    @property
    def verdict(self) -> str:
        return verdict(self.results)

    def diagnosis(self) -> Html:
        """Likely causes of the reported ``error_message`` (empty when none was given),
        confirmed or ruled out by this run's checks (see :func:`irsa_nb.diagnose`)."""
        message = str(self.facts.get("error_message") or "")
        if not message.strip() or self.inventory is None:
            return Html("", plain="")
        from .diagnose import diagnose, render_html

        target = self.facts.get("target", {})
        df = diagnose(
            message,
            self.inventory,
            namespace=target.get("namespace") or None,
            service_account=target.get("service_account") or None,
            pod=target.get("pod") or None,
            sdk=self.facts.get("sdk") or None,
            lang=self.lang,
        )
        heading = f"<h2>{esc(prose(self.lang, 'diagnosis'))}</h2>\n"
        return Html(heading + render_html(df), plain=prose(self.lang, "diagnosis"))

    def header(self) -> Html:
        """Header fragment; also carries :attr:`facts` as :data:`RUN_MIME` data."""
        return Html(
            header_html(self.facts, self.results, self.lang), self.facts, counts_line(self.results)
        )

    def summary(self) -> Html:
        return Html(summary_html(self.results, self.lang), plain=counts_line(self.results))

    def sections(self) -> list[Section]:
        return sections(self.results, self.lang)

    def save(self, results_dir: str | Path) -> list[Path]:
        """Write results.json/csv into ``results_dir`` (nothing when it is ``""``)."""
        return save_results(self.results, results_dir) if str(results_dir) else []

    def failures(self) -> str:
        """The gate message when any check is FAIL, else ``""``."""
        return failures(self.results, self.lang)


def inventory_facts(inv: Inventory, lang: str = "en") -> dict[str, Any]:
    """Cluster name, ARN, account, region, issuer and Kubernetes version of ``inv``."""
    cl = inv.cluster
    if isinstance(cl, Cluster):
        return {
            "cluster": cl.name,
            "cluster_arn": cl.arn,
            "cluster_text": f"{cl.name} ({cl.arn})",
            "account": cl.account,
            "region": cl.region,
            "issuer": cl.issuer,
            "kubernetes_version": inv.kubernetes_version,
        }
    return {
        "cluster": "",
        "cluster_arn": "",
        "cluster_text": prose(lang, "unknown", message=cl.message),
        "account": "",
        "region": "",
        "issuer": "",
        "kubernetes_version": inv.kubernetes_version,
    }


def _probe_options(namespace: str, service_account: str, pod_name: str) -> Any:
    """The STS probe for the runbook's target (live sources only)."""
    from .live.sts_probe import ProbeOptions

    return ProbeOptions(namespace or None, service_account or None, pod_name or None)
