"""Fleet scans of evidence folders, and views that stay bounded on large result sets."""

from __future__ import annotations

import json
import re

import nbformat
import pandas as pd
import papermill as pm
import pytest

from irsa_nb import RESULT_COLUMNS, Options, Source, Target, read_evidence, run
from irsa_nb.evidence import write_manifest
from irsa_nb.fleet import FleetScan, pivot, worst_first
from irsa_nb.pipeline import Run
from irsa_nb.report import save_results
from irsa_nb.runbook import notebook_path


@pytest.fixture(scope="module")
def demo_run():
    return run(Source(bundle="demo"))


def write_evidence(folder, results, cluster, when="2026-01-02T03:04:05Z"):
    """An evidence folder as a run writes it: results.json/.csv and a manifest."""
    save_results(results, folder)
    write_manifest(folder, {"status": "ok", "target": {"cluster": cluster, "when": when}})


def many_accounts(n, failing=()):
    """One ``role_exists`` row per service account ``ns/sa-000``...; ``failing`` ones FAIL."""
    rows = [
        {
            **dict.fromkeys(RESULT_COLUMNS, ""),
            "check_id": "role_exists",
            "title": "The role exists",
            "status": "FAIL" if i in failing else "PASS",
            "namespace": "ns",
            "service_account": f"sa-{i:03d}",
            "remediation": "fix it" if i in failing else "",
        }
        for i in range(n)
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def scan_of(results):
    return FleetScan(Run(Source(bundle="x"), Target(), Options(), results, {"target": {}}, None))


def test_read_evidence_gives_the_rows_of_each_folder_in_folder_order(demo_run, tmp_path):
    shop = demo_run.results[demo_run.results.namespace == "shop"]
    write_evidence(tmp_path / "a", demo_run.results, "one")
    write_evidence(tmp_path / "b", shop, "two")
    write_evidence(tmp_path / "c", shop.iloc[:0], "three")  # a run that produced no rows
    df = read_evidence(tmp_path)
    expected = pd.concat(
        [
            pd.DataFrame(json.loads((tmp_path / f / "results.json").read_text()))
            .reindex(columns=RESULT_COLUMNS)
            .assign(run=str(tmp_path / f))
            for f in ("a", "b")
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(df, expected)
    # string columns even when a folder without rows is among them
    assert all(pd.api.types.is_string_dtype(df[c]) for c in df.columns)
    empty = read_evidence(tmp_path / "c")
    assert empty.empty and list(empty.columns) == [*RESULT_COLUMNS, "run"]
    assert pd.api.types.is_string_dtype(empty["run"])


def test_read_evidence_rejects_results_that_are_not_a_list_of_rows(tmp_path):
    (tmp_path / "results.json").write_text('{"check_id": "x"}')
    with pytest.raises(ValueError, match="not a list of result rows"):
        read_evidence(tmp_path)


def test_pivot_view_of_many_service_accounts_shows_the_worst_and_says_how_many_are_hidden():
    scan = scan_of(many_accounts(250, failing={7, 200}))
    view = scan.pivot(max_rows=100)
    markup = view._repr_mimebundle_()["text/html"]
    body_rows = re.findall(r"<tr>\s*<th id=\"T_\w+_level0_row\d+\"", markup)
    assert len(body_rows) == 100
    assert "100 of 250 service accounts shown, the worst first" in markup
    assert "ns/sa-007" in markup and "ns/sa-200" in markup  # the FAILs are among those shown
    assert "100 of 250" in view.plain and len(view.plain.splitlines()) == 1 + 1 + 100
    assert len(scan.pivot_table()) == 250  # the DataFrame stays whole


def test_pivot_view_that_fits_keeps_every_row_in_order_without_a_note(demo_run):
    scan = FleetScan(demo_run)
    table = scan.pivot_table()
    assert worst_first(table, len(table)) is table
    markup = scan.pivot()._repr_mimebundle_()["text/html"]
    assert "service accounts shown" not in markup


def test_top_failures_view_names_at_most_twenty_service_accounts_and_counts_the_rest():
    scan = scan_of(many_accounts(50, failing=set(range(30))))
    markup = scan.top_failures()._repr_mimebundle_()["text/html"]
    assert "ns/sa-019" in markup and "ns/sa-020" not in markup
    assert "… and 10 more" in markup
    zh = Run(Source(bundle="x"), Target(), Options(lang="zh"), scan.results, {"target": {}}, None)
    assert "……另有 10 个" in FleetScan(zh).top_failures()._repr_mimebundle_()["text/html"]


def test_fleet_scan_of_evidence_keeps_each_run_and_its_cluster(demo_run, tmp_path):
    write_evidence(tmp_path / "prod", demo_run.results, "prod", "2026-01-02T03:04:05Z")
    write_evidence(tmp_path / "test", demo_run.results, "test", "2026-01-03T03:04:05Z")
    scan = FleetScan.from_evidence(tmp_path)
    table = scan.table()
    assert list(table.columns) == [*RESULT_COLUMNS, "run", "cluster", "scanned_utc"]
    assert table.groupby("cluster")["run"].unique().map(len).to_dict() == {"prod": 1, "test": 1}
    assert set(table.loc[table.cluster == "test", "scanned_utc"]) == {"2026-01-03T03:04:05Z"}
    # two clusters: a service account of one is not merged with its namesake of the other
    keys = set(scan.pivot_table().index)
    assert {"prod: shop/cart", "test: shop/cart", "prod: (cluster)"} <= keys
    one = pivot(demo_run.results)
    assert len(keys) == 2 * len(one)
    header = scan.header()._repr_mimebundle_()["text/html"]
    n_sas = len([k for k in one.index if k != "(cluster)"])
    assert f"{2 * n_sas} service accounts checked" in header
    assert "prod, test" in header and "2026-01-02T03:04:05Z – 2026-01-03T03:04:05Z" in header


def test_fleet_scan_of_one_cluster_keeps_plain_keys(demo_run, tmp_path):
    write_evidence(tmp_path / "a", demo_run.results, "prod")
    write_evidence(tmp_path / "b", demo_run.results.iloc[:5], "prod")
    scan = FleetScan.from_evidence(tmp_path)
    assert "shop/cart" in scan.pivot_table().index
    with pytest.raises(FileNotFoundError):
        FleetScan.from_evidence(tmp_path / "nothing")


@pytest.mark.kernel
def test_fleet_notebook_scans_evidence_folders(demo_run, tmp_path):
    write_evidence(tmp_path / "ev" / "prod", demo_run.results, "prod")
    write_evidence(tmp_path / "ev" / "test", demo_run.results, "test")
    out = tmp_path / "scan.ipynb"
    pm.execute_notebook(
        str(notebook_path("irsa_fleet_scan.ipynb")),
        str(out),
        parameters={
            "evidence": str(tmp_path / "ev"),
            "max_rows": 3,
            "output_dir": str(tmp_path / "table"),
        },
        kernel_name="python3",
        progress_bar=False,
    )
    table = pd.read_parquet(tmp_path / "table" / "fleet.parquet")
    assert len(table) == 2 * len(demo_run.results)
    assert set(table["cluster"]) == {"prod", "test"}
    html = "\n".join(
        o["data"].get("text/html", "")
        for c in nbformat.read(out, as_version=4).cells
        for o in c.get("outputs", [])
        if "data" in o
    )
    total = 2 * len(pivot(demo_run.results))
    assert f"3 of {total} service accounts shown" in html
