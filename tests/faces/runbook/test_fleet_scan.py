"""The fleet-scan notebook and its library (irsa_nb.fleet)."""

from __future__ import annotations

import nbformat
import pandas as pd
import papermill as pm
import pytest

from irsa_nb import RESULT_COLUMNS, Options, Source, Target, load_bundle, run, run_checks
from irsa_nb.fleet import FleetScan, counts_by_check, pivot, top_failures
from irsa_nb.runbook import notebook_path


@pytest.mark.kernel
def test_fleet_notebook_scans_every_service_account_and_writes_the_table(tmp_path):
    out = tmp_path / "scan.ipynb"
    pm.execute_notebook(
        str(notebook_path("irsa_fleet_scan.ipynb")),
        str(out),
        parameters={"bundle": "demo", "output_dir": str(tmp_path / "table")},
        kernel_name="python3",
        progress_bar=False,
    )
    table = pd.read_parquet(tmp_path / "table" / "fleet.parquet")
    assert list(table.columns) == [*RESULT_COLUMNS, "cluster", "scanned_utc"]
    assert set(table["cluster"]) == {"shop-prod"}
    expected = run_checks(load_bundle("demo"))
    assert len(table) == len(expected)
    sas = {f"{r.namespace}/{r.service_account}" for r in table.itertuples() if r.service_account}
    assert {"shop/cart", "shop/checkout", "shop/payments", "kube-system/aws-node"} <= sas
    csv = pd.read_csv(tmp_path / "table" / "fleet.csv", dtype=str, keep_default_na=False)
    assert len(csv) == len(table)

    nb = nbformat.read(out, as_version=4)
    html = "\n".join(
        o["data"].get("text/html", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if "data" in o
    )
    assert "IRSA fleet scan" in html and "Service account × check" in html
    assert "Most common failures" in html and "aws iam create-role --role-name" in html
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def test_pivot_shows_the_worst_status_per_service_account_and_check():
    results = pd.DataFrame(
        {
            "check_id": ["a", "a", "b", "a", "c", "c"],
            "status": ["PASS", "FAIL", "SKIP", "WARN", "PASS", "SKIP"],
            "namespace": ["ns"] * 6,
            "service_account": ["x", "x", "x", "y", "x", "x"],
            "pod": ["", "p1", "", "", "p1", "p2"],
        }
    )
    table = pivot(results)
    assert table.loc["ns/x", "a"] == "FAIL"
    assert table.loc["ns/x", "b"] == "SKIP"
    assert table.loc["ns/x", "c"] == "SKIP"  # a pod not checked outranks one that passed
    assert table.loc["ns/y", "a"] == "WARN" and table.loc["ns/y", "b"] == ""
    counts = counts_by_check(results)
    assert counts.loc["a", "FAIL"] == 1 and counts.loc["a", "PASS"] == 1
    assert list(counts.columns) == ["PASS", "FAIL", "WARN", "INFO", "SKIP", "ERROR"]


def test_top_failures_rank_checks_by_failing_rows_with_a_remediation():
    scan = FleetScan(run(Source(bundle="demo")))
    top = top_failures(scan.results, n=3)
    assert len(top) == 3
    assert top["count"].is_monotonic_decreasing
    assert all(top["remediation"].str.len() > 0)
    first = top.iloc[0]
    bad = scan.results[scan.results.status == first["status"]]
    assert first["count"] == (bad["check_id"] == first["check_id"]).sum()


def test_fleet_views_escape_hostile_names():
    results = pd.DataFrame(
        [
            {
                **dict.fromkeys(RESULT_COLUMNS, ""),
                "check_id": "role_exists",
                "title": "t<b>",
                "status": "FAIL",
                "namespace": "ns",
                "service_account": "<script>x</script>",
                "remediation": "kubectl <i>",
            }
        ],
        columns=RESULT_COLUMNS,
    )
    from irsa_nb.pipeline import Run

    scan = FleetScan(Run(Source(bundle="x"), Target(), Options(), results, {"target": {}}, None))
    for fragment in (scan.pivot(), scan.top_failures(), scan.counts()):
        markup = fragment._repr_mimebundle_()["text/html"]
        assert "<script>" not in markup and "<i>" not in markup and "t<b>" not in markup
    assert "&lt;script&gt;x&lt;/script&gt;" in scan.pivot()._repr_mimebundle_()["text/html"]


def test_zh_chart_uses_a_cjk_font_or_english_labels_never_missing_glyphs(monkeypatch, recwarn):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from irsa_nb import fleet

    scan = FleetScan(run(Source(bundle="demo"), options=Options(lang="zh")))
    monkeypatch.setattr(fleet, "_cjk_font", lambda: None)  # a machine without CJK fonts
    fig = scan.chart()
    FigureCanvasAgg(fig).draw()
    assert fig.axes[0].get_title() == "Results per check"
    assert not [w for w in recwarn if "missing from font" in str(w.message)]
    monkeypatch.setattr(fleet, "_cjk_font", lambda: "DejaVu Sans")  # stands in for Noto CJK
    title = scan.chart().axes[0].title
    assert not title.get_text().isascii() and title.get_fontfamily() == ["DejaVu Sans"]
