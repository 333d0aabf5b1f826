"""A batch where one target's kernel is killed and another times out: the others finish, the
failed targets' evidence is written and marked, and ``irsa-nb batch --resume`` runs only those.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from irsa_nb import run_batch
from irsa_nb.batch import batch_exit_code
from irsa_nb.evidence import read_manifest

from .helpers import run_cli

pytestmark = pytest.mark.kernel

# Fails only on its first run per service account (a marker file remembers it): the kernel of
# "cart" is killed, "search" hangs past the timeout; any other target runs the checks.
FAULTY_ONCE = """import os
import pathlib
import time

marker = pathlib.Path(os.environ["IRSA_NB_HARDENING_MARKERS"]) / service_account
if service_account in ("cart", "search") and not marker.exists():
    marker.touch()
    if service_account == "cart":
        os.kill(os.getpid(), 9)
    time.sleep(600)

from irsa_nb import Options, Source, Target, run
from irsa_nb.report import Report

rb = Report(run(Source(bundle=bundle), Target(namespace, service_account), Options(lang=lang)))
rb.save(results_dir)
rb.header()"""


@pytest.fixture
def faulty_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from irsa_nb.runbook import notebook_path

    runbook = nbformat.read(notebook_path(), as_version=4)
    params = next(c for c in runbook.cells if "parameters" in c.metadata.get("tags", []))
    nb = nbformat.v4.new_notebook()
    nb.cells = [copy.deepcopy(params), nbformat.v4.new_code_cell(FAULTY_ONCE)]
    nb.metadata["kernelspec"] = runbook.metadata["kernelspec"]
    path = tmp_path / "faulty-once.ipynb"
    nbformat.write(nb, path)
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv("IRSA_NB_HARDENING_MARKERS", str(markers))  # the kernels inherit it
    return path


def test_killed_and_timed_out_targets_are_recorded_and_resume_runs_only_them(
    faulty_once: Path, tmp_path: Path
) -> None:
    names = ["checkout", "cart", "search"]
    targets = pd.DataFrame({"target": names, "namespace": "shop", "service_account": names})
    out = tmp_path / "batch"
    first = run_batch(targets, out, workers=2, timeout=12, notebook=faulty_once, progress=False)

    by = first.set_index("target")
    assert by.status.to_dict() == {"checkout": "ok", "cart": "kernel died", "search": "timed out"}
    assert batch_exit_code(first) == 2
    for name, status in (("cart", "kernel died"), ("search", "timed out")):
        folder = out / name
        manifest = read_manifest(folder)
        assert manifest["status"] == status and manifest["verdict"] == "UNKNOWN"
        nb = nbformat.read(folder / "runbook.ipynb", as_version=4)
        assert nb.metadata.irsa_nb.status == status
        assert nb.cells[0].get("id") == "irsa-nb-status-banner"  # a red banner on top
        assert (folder / "runbook.html").is_file() and not (folder / "results.json").exists()
        assert by.loc[name, "error"]
    run_ids = {n: read_manifest(out / n)["run_id"] for n in names}

    csv = tmp_path / "targets.csv"
    targets.to_csv(csv, index=False)
    run = run_cli(
        ["batch", "--targets", str(csv), "--out", str(out), "--resume", "--workers", "2"],
        timeout=300,
    )
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stderr  # every target ran; cart's trust policy FAILs
    index = pd.read_csv(out / "index.csv", keep_default_na=False).set_index("target")
    assert (index.status == "ok").all()
    assert index.loc["cart", "verdict"] == "FAIL"
    after = {n: read_manifest(out / n)["run_id"] for n in names}
    assert after["checkout"] == run_ids["checkout"]  # finished targets are not run again
    assert after["cart"] != run_ids["cart"] and after["search"] != run_ids["search"]
    results = json.loads((out / "search" / "results.json").read_text())
    assert {r["service_account"] for r in results} <= {"search", ""}
