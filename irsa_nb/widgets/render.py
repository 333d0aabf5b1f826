"""HTML for the Explorer: results, findings, messages, diagnosis and evidence link.

Every value is escaped (strings from a cluster or a bundle are untrusted and must show as
text) and secrets in it are masked; links are only emitted for http(s) URLs and relative
paths built by the app.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..checks import STATUS_ORDER, STATUSES
from ..redact import mask_text
from ..report import where

STATUS_COLOURS = {
    "PASS": "#1a7f37",
    "FAIL": "#cf222e",
    "WARN": "#9a6700",
    "INFO": "#0969da",
    "SKIP": "#6e7781",
    "ERROR": "#8250df",
}
MESSAGE_COLOURS = {"error": "#cf222e", "warning": "#9a6700", "info": "#57606a"}
PROBLEMS = ("FAIL", "ERROR", "WARN", "INFO")  # statuses explained under the table
OPEN_BY_DEFAULT = ("FAIL", "ERROR")

_CELL = "padding:3px 8px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top"
_TABLE = "border-collapse:collapse;font-size:13px;width:100%"
_LINK = "color:#0969da;text-decoration:underline"
_PRE = "white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere"


def esc(value: Any) -> str:
    """Escaped text of ``value`` with secrets masked; None and NaN become ``""``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(mask_text(str(value))[0], quote=True)


def badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#57606a")
    return (
        f'<span class="irsa-badge irsa-badge-{esc(status).lower()}" style="background:{colour};'
        'color:#fff;border-radius:3px;padding:0 6px;font-weight:600;font-family:monospace">'
        f"{esc(status)}</span>"
    )


def link(url: Any, text: str) -> str:
    """An anchor for an http(s) URL (new tab), or the escaped text alone."""
    u = str(url or "")
    if not u.lower().startswith(("https://", "http://")):
        return esc(text)
    return (
        f'<a href="{esc(u)}" target="_blank" rel="noopener noreferrer" style="{_LINK}">'
        f"{esc(text)}</a>"
    )


def problems_first(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in :data:`irsa_nb.checks.STATUS_ORDER` (FAIL first); check order kept within a
    status."""
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    order = df["status"].map(lambda s: rank.get(s, len(rank)))
    return df.assign(_rank=order).sort_values("_rank", kind="stable").drop(columns="_rank")


def summary_html(counts: Mapping[str, int], target: str) -> str:
    """``14 results for shop/cart: FAIL 1 · PASS 10 · SKIP 3`` with coloured statuses."""
    total = sum(counts.values())
    parts = " · ".join(f"{badge(s)} {counts[s]}" for s in STATUSES if counts.get(s))
    return (
        f'<div class="irsa-summary-line" style="margin:6px 0"><b>{total} result'
        f"{'s' * (total != 1)}</b> for {esc(target)}: {parts or 'nothing to check'}</div>"
    )


def results_table_html(df: pd.DataFrame | None) -> str:
    """One row per result: status, check, target, detail (problems first)."""
    if df is None:
        return ""
    if df.empty:
        return '<p class="irsa-results">No results.</p>'
    head = "".join(f'<th style="{_CELL}">{h}</th>' for h in ("Status", "Check", "Target", "Detail"))
    rows = []
    for row in problems_first(df).to_dict("records"):
        rows.append(
            f'<tr class="irsa-row" data-status="{esc(row["status"])}" '
            f'data-check="{esc(row["check_id"])}">'
            f'<td style="{_CELL}">{badge(row["status"])}</td>'
            f'<td style="{_CELL}" title="{esc(row["check_id"])}">{esc(row["title"])}</td>'
            f'<td style="{_CELL};font-family:monospace">{esc(where(row))}</td>'
            f'<td style="{_CELL}">{esc(row["detail"])}</td></tr>'
        )
    return (
        f'<table class="irsa-results" style="{_TABLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def findings_html(df: pd.DataFrame | None) -> str:
    """Expandable detail and remediation for every FAIL/ERROR (open) and WARN/INFO row."""
    if df is None or df.empty:
        return ""
    shown = problems_first(df[df["status"].isin(PROBLEMS)])
    if shown.empty:
        return ""
    blocks = []
    for row in shown.to_dict("records"):
        status = str(row["status"])
        fix = (
            '<div style="margin:4px 0 0"><b>How to fix</b></div>'
            f'<pre class="irsa-remediation" style="{_PRE};margin:2px 0;background:#f6f8fa;'
            f'padding:6px;border-radius:4px">{esc(row["remediation"])}</pre>'
            if row.get("remediation")
            else ""
        )
        doc = (
            f'<div style="margin:2px 0">{link(row.get("doc_url"), "AWS documentation")}</div>'
            if row.get("doc_url")
            else ""
        )
        blocks.append(
            f'<details class="irsa-finding" data-status="{esc(status)}" '
            f'data-check="{esc(row["check_id"])}"{" open" * (status in OPEN_BY_DEFAULT)} '
            'style="margin:4px 0;padding:4px 8px;border:1px solid #d0d7de;border-radius:4px">'
            f"<summary>{badge(status)} <b>{esc(row['title'])}</b> "
            f'<span style="font-family:monospace">{esc(where(row))}</span> '
            f'<span style="color:#6e7781">({esc(row["check_id"])})</span></summary>'
            f'<p style="margin:4px 0">{esc(row["detail"])}</p>{fix}{doc}</details>'
        )
    head = '<h4 style="margin:8px 0 4px">Findings</h4>'
    return f'<div class="irsa-findings-list">{head}{"".join(blocks)}</div>'


def messages_html(messages: Iterable[Any]) -> str:
    """Messages (objects with ``level`` and ``text``) as coloured lines."""
    lines = []
    for m in messages:
        colour = MESSAGE_COLOURS.get(m.level, "#57606a")
        lines.append(
            f'<div class="irsa-message irsa-message-{esc(m.level)}" style="color:{colour};'
            f'margin:2px 0"><b>{esc(m.level.capitalize())}:</b> {esc(m.text)}</div>'
        )
    return "".join(lines)


def progress_html(done: int, total: int, check_id: str) -> str:
    if not check_id:
        return f'<span class="irsa-progress-text">Ran {total} checks.</span>'
    return (
        f'<span class="irsa-progress-text">Running check {done + 1} of {total}: '
        f"<code>{esc(check_id)}</code>…</span>"
    )


def diagnosis_html(df: pd.DataFrame | None) -> str:
    """The likely causes from :func:`irsa_nb.diagnose`, best first."""
    if df is None or df.empty:
        return ""
    one_error = "error" in df.columns and df["error"].nunique() == 1
    wanted = ("rank", "cause", "check_ids", "fix", "confirmed")
    cols = [c for c in (wanted if one_error else ("error", *wanted)) if c in df.columns]
    head = "".join(
        f'<th style="{_CELL}">{esc(c.replace("_", " ").capitalize())}</th>' for c in cols
    )
    rows = []
    for row in df.to_dict("records"):
        cells = []
        for c in cols:
            value = row[c]
            if c == "check_ids" and isinstance(value, list | tuple | set):
                value = ", ".join(map(str, value))
            if c == "fix":
                cell = f'<pre style="{_PRE};margin:0;min-width:20em">{esc(value)}</pre>'
            elif c == "confirmed":
                cell = _confirmed(value)
            else:
                cell = esc(value)
            cells.append(f'<td style="{_CELL}">{cell}</td>')
        rows.append(f'<tr class="irsa-cause">{"".join(cells)}</tr>')
    title = (
        f'<p style="margin:4px 0">Error: <code>{esc(df["error"].iloc[0])}</code></p>'
        if one_error
        else ""
    )
    return (
        f'<div class="irsa-causes">{title}<table style="{_TABLE}"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _confirmed(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not known"
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy booleans too
        return "yes: a check shows it" if value else "no: the checks passed"
    return esc(value)


def evidence_html(result: Any, href: str | None, href_full: str | None = None) -> str:
    """Verdict of a saved runbook and links to its HTML reports (relative URLs) and folder."""
    if result is None:
        return ""
    verdict = getattr(result, "verdict", None)
    parts = []
    if verdict:
        parts.append(f"Verdict {badge(str(verdict)) if verdict in STATUSES else esc(verdict)}")
    for url, text, cls in ((href, "Open the HTML report", ""), (href_full, "with code", "-full")):
        if url:
            parts.append(
                f'<a class="irsa-evidence-link{cls}" href="{esc(url)}" target="_blank" '
                f'rel="noopener" style="{_LINK}">{text}</a>'
            )
    folder = getattr(result, "folder", None)
    if folder:
        parts.append(f"saved in <code>{esc(folder)}</code>")
    return f'<div class="irsa-evidence-info">{" · ".join(parts)}</div>'
