"""The runbook report: header, styled summary and one section per seed step, as escaped HTML.

The runbook notebook (``notebooks/irsa_runbook.ipynb``) runs :func:`irsa_nb.run` and
displays what a :class:`Report` of it returns; everything shown is built here, so it is testable
without a kernel. Every string that comes from a cluster, a bundle or a parameter is
HTML-escaped: hostile names and annotations render as text. Prose comes from the
``_runbook`` section of the text catalogue (``en``/``zh``).

Examples
--------
>>> from irsa_nb import Source, Target, run
>>> from irsa_nb.report import Report
>>> rb = Report(run(Source(bundle="demo"), Target("shop", "cart")))
>>> rb.verdict
'FAIL'
>>> [s.step for s in rb.sections()][:3]
[1, 2, 3]
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import text
from .checks import REGISTRY, RESULT_COLUMNS
from .checks.registry import ordered_checks
from .evidence import RESULTS_CSV, RESULTS_JSON, RUN_MIME
from .pipeline import Run, status_counts, verdict

log = logging.getLogger(__name__)

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


# --- what really happened: CloudTrail's calls and the policy simulation ------------------------

WHAT_HAPPENED_CHECKS = ("sts_recent_calls", "role_allows_actions", "sts_probe_assume_role")


def _evidence(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("evidence")
    try:
        ev = json.loads(raw) if isinstance(raw, str) and raw else raw
    except ValueError:
        ev = None
    return ev if isinstance(ev, dict) else {}


def recent_calls(results: pd.DataFrame) -> pd.DataFrame:
    """The ``sts_recent_calls`` rows of what CloudTrail showed as a table: ``namespace,
    service_account, status, error_code, calls, last, subject, user_agent`` (one row per error
    code, or the outcome; none where CloudTrail was not read)."""
    cols = [
        "namespace",
        "service_account",
        "status",
        "error_code",
        "calls",
        "last",
        "subject",
        "user_agent",
    ]
    out = []
    read = (results["check_id"] == "sts_recent_calls") & (results["status"] != "SKIP")
    for r in results[read].to_dict("records"):
        ev = _evidence(r)
        calls = [c for c in ev.get("calls") or [] if isinstance(c, dict)]
        first = calls[0] if calls else {}
        out.append(
            {
                "namespace": r["namespace"],
                "service_account": r["service_account"],
                "status": r["status"],
                "error_code": str(ev.get("error_code") or ""),
                "calls": len(calls),
                "last": str(first.get("time", "")),
                "subject": str(first.get("subject", "")),
                "user_agent": str(first.get("user_agent", "")),
            }
        )
    return pd.DataFrame(out, columns=cols)


def simulations(results: pd.DataFrame) -> pd.DataFrame:
    """The ``role_allows_actions`` rows as a table: ``namespace, service_account, status,
    action, resource, decision, matched_statements``."""
    cols = ["namespace", "service_account", "status", "action", "resource", "decision"]
    cols.append("matched_statements")
    out = []
    for r in results[results["check_id"] == "role_allows_actions"].to_dict("records"):
        ev = _evidence(r)
        out.append(
            {
                "namespace": r["namespace"],
                "service_account": r["service_account"],
                "status": r["status"],
                "action": str(ev.get("action", "")),
                "resource": str(ev.get("resource", "")),
                "decision": str(ev.get("decision", "")),
                "matched_statements": ", ".join(map(str, ev.get("matched_statements") or [])),
            }
        )
    return pd.DataFrame(out, columns=cols)


def what_happened_html(results: pd.DataFrame, lang: str = "en") -> str:
    """The "What really happened" section: CloudTrail's recent calls and the simulation
    results (``--cloudtrail``, ``--action``); ``""`` when neither was collected."""
    rows = results[results["check_id"].isin(WHAT_HAPPENED_CHECKS) & (results["status"] != "SKIP")]
    if rows.empty:
        return ""
    parts = [
        '<section id="irsa-what-happened">',
        f"<h2>{esc(prose(lang, 'what_happened'))}</h2>",
        f"<p>{esc(prose(lang, 'what_happened_explain'))}</p>",
    ]
    for check_id, key in (
        ("sts_recent_calls", "what_happened_calls"),
        ("role_allows_actions", "what_happened_simulation"),
        ("sts_probe_assume_role", "what_happened_probe"),
    ):
        some = rows[rows["check_id"] == check_id]
        if not some.empty:
            parts += [f"<h3>{esc(prose(lang, key))}</h3>", _rows_table(some, lang)]
            parts.append(_fixes(some, lang))
    parts.append("</section>")
    return "\n".join(parts)


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
class Report:
    """Renders one :class:`~irsa_nb.pipeline.Run` for the runbook notebook: header, diagnosis,
    summary, one section per seed step, and the verdict gate."""

    run: Run

    @property
    def results(self) -> pd.DataFrame:
        return self.run.results

    @property
    def facts(self) -> dict[str, Any]:
        return self.run.facts

    @property
    def lang(self) -> str:
        return self.run.options.lang

    @property
    def verdict(self) -> str:
        return self.run.verdict

    def diagnosis(self) -> Html:
        """Likely causes of the reported error message (empty when none was given),
        confirmed or ruled out by this run's checks (see :func:`irsa_nb.diagnose`)."""
        if self.run.diagnosis is None:
            return Html("", plain="")
        from .diagnose import render_html

        heading = f"<h2>{esc(prose(self.lang, 'diagnosis'))}</h2>\n"
        return Html(heading + render_html(self.run.diagnosis), plain=prose(self.lang, "diagnosis"))

    def header(self) -> Html:
        """Header fragment; also carries :attr:`facts` as :data:`RUN_MIME` data."""
        return Html(
            header_html(self.facts, self.results, self.lang), self.facts, counts_line(self.results)
        )

    def summary(self) -> Html:
        return Html(summary_html(self.results, self.lang), plain=counts_line(self.results))

    def sections(self) -> list[Section]:
        return sections(self.results, self.lang)

    def what_happened(self) -> Html:
        """What really happened: CloudTrail's calls for the target's role and the policy
        simulation of its actions (empty unless collected with --cloudtrail / --action)."""
        markup = what_happened_html(self.results, self.lang)
        table = recent_calls(self.results)
        plain = table.to_string(index=False) if len(table) else ""
        return Html(markup, plain=plain)

    def save(self, results_dir: str | Path | None) -> list[Path]:
        """Write results.json/csv into ``results_dir`` (nothing when it is None or ``""``)."""
        return save_results(self.results, results_dir) if results_dir else []

    def failures(self) -> str:
        """The gate message when any check is FAIL, else ``""``."""
        return failures(self.results, self.lang)
