"""Fleet scan: every check over every IRSA service account of a cluster or bundle.

Backs ``notebooks/irsa_fleet_scan.ipynb``: counts by check and status, a service account ×
check pivot of the worst status, the most common failures with a remediation, a chart, and
the full table as Parquet/CSV for further analysis, of a run or of the rows evidence folders
hold (:meth:`FleetScan.from_evidence`). All text shown is HTML-escaped; the views stay
bounded however many rows there are (column-wise work, the pivot's worst ``max_rows``).

Examples
--------
>>> from irsa_nb import Source, run
>>> from irsa_nb.fleet import FleetScan
>>> scan = FleetScan(run(Source(bundle="demo")))
>>> "shop/cart" in scan.pivot_table().index
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .checks import STATUS_ORDER, STATUSES
from .evidence import read_evidence, read_manifest
from .pipeline import Options, Run, Source, Target
from .report import (
    CELL_STYLE,
    PRE_STYLE,
    STATUS_COLOURS,
    Html,
    esc,
    header_html,
    prose,
    recent_calls,
)

log = logging.getLogger(__name__)

FLEET_PARQUET = "fleet.parquet"
FLEET_CSV = "fleet.csv"


def service_account_keys(results: pd.DataFrame) -> pd.Series:
    """``namespace/service_account`` of every row, ``(cluster)`` for cluster-wide rows,
    column-wise (no per-row Python). When the rows come from several clusters (a ``cluster``
    column with more than one value), each key starts with its cluster: ``prod: shop/cart``,
    ``prod: (cluster)``."""
    ns = results["namespace"].fillna("").astype(str)
    sa = results["service_account"].fillna("").astype(str)
    keys = (ns + "/" + sa).where(sa != "", "(cluster)")
    if "cluster" in results and results["cluster"].nunique() > 1:
        keys = results["cluster"].fillna("").astype(str) + ": " + keys
    return keys.astype(str)


#: A pivot cell shows the worst status of its rows: the first in STATUS_ORDER.
_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}


def counts_by_check(results: pd.DataFrame) -> pd.DataFrame:
    """Rows per check (index, in run order) and status (columns :data:`STATUSES`)."""
    order = list(dict.fromkeys(results["check_id"]))
    table = results.groupby(["check_id", "status"], sort=False).size().unstack(fill_value=0)
    table = table.reindex(index=order, columns=list(STATUSES), fill_value=0).astype("int64")
    table.index.name, table.columns.name = "check_id", "status"
    return table


def pivot(results: pd.DataFrame) -> pd.DataFrame:
    """Service account (``ns/name``) × check id → worst status (``""``: no row)."""
    if results.empty:
        return pd.DataFrame()
    # the worst status of each cell is the smallest rank: one groupby, no per-group Python
    ranks = pd.DataFrame(
        {
            "key": service_account_keys(results).to_numpy(),
            "check_id": results["check_id"].to_numpy(),
            "rank": results["status"].map(_RANK).to_numpy(),
        }
    )
    best = ranks.groupby(["key", "check_id"], sort=True)["rank"].min().unstack("check_id")
    names = pd.Series([*STATUS_ORDER, ""])
    columns = list(dict.fromkeys(results["check_id"]))
    table = pd.DataFrame(
        {
            c: names.to_numpy()[best[c].fillna(len(STATUS_ORDER)).astype(int).to_numpy()]
            if c in best
            else [""] * len(best)
            for c in columns
        },
        index=best.index,
        dtype="str",
    )
    table.index = table.index.astype("str")
    table.index.name = None
    table.columns.name = None
    return table


def top_failures(results: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The checks with the most FAIL/ERROR rows: ``check_id, title, status, count,
    service_accounts`` and one ``remediation`` (with the real names of its ``example``)."""
    bad = results[results["status"].isin(["FAIL", "ERROR"])]
    columns = ["check_id", "title", "status", "count", "service_accounts", "example", "remediation"]
    if bad.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (check_id, status), group in bad.groupby(["check_id", "status"], sort=False):
        keys = list(dict.fromkeys(service_account_keys(group)))
        first = group.iloc[0]
        example = "/".join(
            x for x in (first["namespace"], first["pod"] or first["service_account"]) if x
        )
        rows.append(
            {
                "check_id": check_id,
                "title": first["title"],
                "status": status,
                "count": len(group),
                "service_accounts": ", ".join(keys),
                "example": example or "(cluster)",
                "remediation": first["remediation"],
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("count", ascending=False, kind="stable").head(n).reset_index(drop=True)


def failing_roles_by_error_code(results: pd.DataFrame) -> pd.DataFrame:
    """From ``sts_recent_calls`` (``--cloudtrail``): per error code STS returned, how many
    roles fail with it, which, for which service accounts, and how many calls: ``error_code,
    roles, calls, role_arns, service_accounts``, most roles first."""
    columns = ["error_code", "roles", "calls", "role_arns", "service_accounts"]
    table = recent_calls(results)
    table = table[table["error_code"] != ""]
    if table.empty:
        return pd.DataFrame(columns=columns)
    roles = {
        (r["namespace"], r["service_account"]): r["role_arn"]
        for r in results[results["check_id"] == "sts_recent_calls"].to_dict("records")
    }
    rows = []
    for code, group in table.groupby("error_code", sort=True):
        keys = [
            (ns, sa) for ns, sa in zip(group["namespace"], group["service_account"], strict=True)
        ]
        arns = sorted({roles.get(k, "") for k in keys} - {""})
        rows.append(
            {
                "error_code": code,
                "roles": len(arns),
                "calls": int(group["calls"].sum()),
                "role_arns": ", ".join(arns),
                "service_accounts": ", ".join(f"{ns}/{sa}" for ns, sa in keys),
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["roles", "calls"], ascending=False, kind="stable").reset_index(
        drop=True
    )


def _colour(status: Any) -> str:
    fg, bg = STATUS_COLOURS.get(str(status), ("#000", "#fff"))
    return f"color:{fg};background-color:{bg};font-weight:bold" if status else ""


def _styled(table: pd.DataFrame, colour: bool = True) -> str:
    """``table`` as escaped HTML; with ``colour``, cells holding a status are coloured."""
    styler = table.style.format(escape="html").format_index(escape="html", axis=0)
    styler = styler.format_index(escape="html", axis=1)
    if colour:
        styler = styler.map(_colour)
    styler = styler.set_table_styles(
        [
            {"selector": "th, td", "props": CELL_STYLE},
            {"selector": "", "props": "border-collapse:collapse"},
        ]
    )
    return styler.to_html()


#: Font families with Chinese glyphs, in order of preference (Debian: fonts-noto-cjk,
#: fonts-wqy-zenhei; macOS; Windows).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
)


def _cjk_font() -> str | None:
    """The first installed font family of :data:`CJK_FONTS`, else None (labels in English)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


#: How many service accounts the pivot view shows, and names a failure lists, by default.
MAX_ROWS, MAX_NAMES = 100, 20


def not_shown(lang: str, key: str, **params: Any) -> str:
    """What a view says about the ``rows`` or ``names`` it does not show."""
    return prose(lang, f"not_shown.{key}", **params)


def worst_first(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """At most ``n`` rows of a :func:`pivot` table: all of them in their order when they fit,
    else the rows with the most FAIL cells, then ERROR, WARN, ... (ties by name)."""
    if len(table) <= n:
        return table
    counts = pd.DataFrame({s: (table == s).sum(axis=1) for s in STATUS_ORDER})
    order = counts.sort_values(list(STATUS_ORDER), ascending=False, kind="stable").index
    return table.loc[order[:n]]


def _names(joined: str, lang: str, n: int = MAX_NAMES) -> str:
    """The first ``n`` of a ``", "``-joined list of names, and how many more there are."""
    names = joined.split(", ") if joined else []
    if len(names) <= n:
        return joined
    return ", ".join(names[:n]) + " " + not_shown(lang, "names", more=len(names) - n)


@dataclass
class FleetScan:
    """The results of every check over every IRSA service account, and views of them."""

    run: Run

    @classmethod
    def from_evidence(cls, path_or_glob: str | Path, lang: str = "en") -> FleetScan:
        """The scan of what evidence folders already hold (a batch output folder, a folder,
        or a glob such as ``"evidence/*"``), read with :func:`irsa_nb.read_evidence`: no
        check runs again. Each row keeps its ``run`` and gains the ``cluster`` and
        ``scanned_utc`` its run's manifest records.

        Raises
        ------
        FileNotFoundError
            When no evidence folder matches.
        """
        results = read_evidence(path_or_glob)
        facts = {run: read_manifest(run).get("target", {}) for run in results["run"].unique()}
        cluster = {run: str(f.get("cluster") or "") for run, f in facts.items()}
        when = {run: str(f.get("when") or "") for run, f in facts.items()}
        results = results.assign(
            cluster=results["run"].map(cluster).astype("str"),
            scanned_utc=results["run"].map(when).astype("str"),
        )
        clusters = sorted(set(cluster.values()) - {""})
        times = sorted(set(when.values()) - {""})
        shown = ", ".join(clusters[:5]) + (f", … ({len(clusters)})" if len(clusters) > 5 else "")
        summary = {
            "source": str(path_or_glob),
            "cluster": clusters[0] if len(clusters) == 1 else "",
            "cluster_text": shown,
            "when": " – ".join(dict.fromkeys([times[0], times[-1]])) if times else "",
            "target": {},
            "runs": len(facts),
        }
        options = Options(lang=lang)
        return cls(Run(Source(), Target(), options, results, summary, None))  # type: ignore[arg-type]

    @property
    def results(self) -> pd.DataFrame:
        return self.run.results

    @property
    def lang(self) -> str:
        return self.run.options.lang

    def table(self) -> pd.DataFrame:
        """The full result table plus ``cluster`` and ``scanned_utc`` (for joins across scans)."""
        facts = self.run.facts
        if {"cluster", "scanned_utc"} <= set(self.results.columns):  # read from evidence
            return self.results
        return self.results.assign(
            cluster=facts.get("cluster", ""), scanned_utc=facts.get("when", "")
        )

    def pivot_table(self) -> pd.DataFrame:
        return pivot(self.results)

    def header(self) -> Html:
        facts, results = self.run.facts, self.results
        has_sa = results["service_account"].fillna("") != ""
        keys = service_account_keys(results)
        sas = keys[has_sa].nunique()
        failing = keys[has_sa & (results["status"] == "FAIL")].nunique()
        line = prose(self.lang, "fleet_service_accounts", count=sas, failing=failing)
        markup = header_html(facts, self.results, self.lang, title_key="fleet_title")
        return Html(markup + f"\n<p>{esc(line)}</p>", facts, line)

    def counts(self) -> Html:
        table = counts_by_check(self.results)
        title = f"<h2>{esc(prose(self.lang, 'fleet_counts'))}</h2>\n"
        return Html(title + _styled(table, colour=False), plain=table.to_string())

    def pivot(self, max_rows: int = MAX_ROWS) -> Html:
        """The pivot as a coloured table of at most ``max_rows`` service accounts (the worst
        first when there are more, with a note of how many are shown)."""
        table = self.pivot_table()
        shown = worst_first(table, max_rows)
        title = f"<h2>{esc(prose(self.lang, 'fleet_pivot'))}</h2>\n"
        note = ""
        if len(shown) < len(table):
            note = not_shown(self.lang, "rows", shown=len(shown), total=len(table))
        markup = title + (f"<p>{esc(note)}</p>\n" if note else "") + _styled(shown)
        return Html(markup, plain="\n".join(x for x in (note, shown.to_string()) if x))

    def top_failures(self, n: int = 10) -> Html:
        top = top_failures(self.results, n)
        parts = [f"<h2>{esc(prose(self.lang, 'fleet_top'))}</h2>"]
        if top.empty:
            parts.append(f"<p>{esc(prose(self.lang, 'fleet_none'))}</p>")
        for r in top.to_dict("records"):
            fg, bg = STATUS_COLOURS[r["status"]]
            parts.append(
                f'<h3><span style="color:{fg};background:{bg};padding:1px 6px">{esc(r["status"])}'
                f"</span> {esc(r['title'])} <code>{esc(r['check_id'])}</code>: {r['count']}</h3>"
            )
            parts.append(f"<p>{esc(_names(r['service_accounts'], self.lang))}</p>")
            if r["remediation"]:
                parts.append(
                    f"<p><strong>{esc(prose(self.lang, 'fix'))} ({esc(r['example'])})</strong></p>"
                    f'<pre style="{PRE_STYLE}">{esc(r["remediation"])}</pre>'
                )
        return Html("\n".join(parts), plain=top[["check_id", "status", "count"]].to_string())

    def error_codes(self) -> Html:
        """Failing roles counted by the error code CloudTrail shows STS returned."""
        table = failing_roles_by_error_code(self.results)
        title = f"<h2>{esc(prose(self.lang, 'fleet_error_codes'))}</h2>\n"
        if table.empty:
            none = prose(self.lang, "fleet_error_codes_none")
            return Html(title + f"<p>{esc(none)}</p>", plain=none)
        return Html(title + _styled(table, colour=False), plain=table.to_string(index=False))

    def chart(self):
        """A stacked horizontal bar chart of results per check and status (a matplotlib
        Figure; Jupyter shows it as a PNG)."""
        from matplotlib.figure import Figure

        table = counts_by_check(self.results)
        table = table.loc[:, (table != 0).any(axis=0)] if not table.empty else table
        fig = Figure(figsize=(8, 0.35 * max(len(table), 4) + 1))
        ax = fig.subplots()
        if not table.empty:
            colours = [STATUS_COLOURS[s][0] for s in table.columns]
            table.iloc[::-1].plot.barh(stacked=True, ax=ax, color=colours, width=0.8)
            ax.legend(loc="lower right", fontsize="small")
        lang, font = self.lang, {}
        if lang != "en":  # matplotlib's own fonts have no CJK glyphs: boxes, and a warning
            family = _cjk_font()
            lang, font = (lang, {"fontfamily": family}) if family else ("en", {})
        ax.set_title(prose(lang, "fleet_chart"), **font)
        ax.set_xlabel(prose(lang, "col_count"), **font)
        ax.set_ylabel("")
        fig.tight_layout()
        return fig

    def save(self, output_dir: str | Path | None) -> list[Path]:
        """Write the full table as ``fleet.parquet`` (when pyarrow or fastparquet is
        installed) and ``fleet.csv`` into ``output_dir``; nothing when it is None or ``""``."""
        if not output_dir:
            return []
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        table = self.table()
        paths = []
        try:
            table.to_parquet(folder / FLEET_PARQUET, index=False)
            paths.append(folder / FLEET_PARQUET)
        except ImportError as exc:
            log.warning("fleet.parquet not written: %s", exc)
        table.to_csv(folder / FLEET_CSV, index=False)
        paths.append(folder / FLEET_CSV)
        return paths

    def written(self, paths: list[Path]) -> Html:
        names = ", ".join(str(p) for p in paths)
        line = prose(self.lang, "fleet_written", paths=names) if paths else ""
        return Html(f"<p>{esc(line)}</p>" if line else "", plain=line)
