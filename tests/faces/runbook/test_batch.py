"""Batch runs: failures, timeouts and dead kernels are recorded; resume; executors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from irsa_nb import Options, Source, Target, read_evidence, run_batch
from irsa_nb.batch import batch_exit_code, normalize_targets, target_name
from irsa_nb.evidence import read_manifest
from tests.runs import run_runbook

pytestmark = pytest.mark.kernel


def _targets(*service_accounts: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "target": list(service_accounts),
            "namespace": ["shop"] * len(service_accounts),
            "service_account": list(service_accounts),
        }
    )


def test_a_failing_timing_out_or_crashing_target_never_loses_the_others(
    behaviour_notebook, tmp_path
):
    targets = _targets("cart", "boom", "slow", "crash", "checkout")
    index = run_batch(
        targets, tmp_path, workers=2, timeout=12, notebook=behaviour_notebook, progress=False
    )
    by = index.set_index("target")
    assert index["target"].tolist() == targets["target"].tolist()
    assert by.loc["cart", "status"] == "ok" and by.loc["cart", "verdict"] == "FAIL"
    assert by.loc["checkout", "status"] == "ok" and by.loc["checkout", "verdict"] in {
        "PASS",
        "WARN",
    }
    assert by.loc["boom", "status"] == "failed" and "boom: a cell failed" in by.loc["boom", "error"]
    assert by.loc["slow", "status"] == "timed out"
    assert by.loc["crash", "status"] == "kernel died"
    assert by.loc["cart", "FAIL"] == 1
    assert batch_exit_code(index) == 2
    assert pd.read_csv(tmp_path / "index.csv", keep_default_na=False)["status"].tolist() == (
        index["status"].tolist()
    )
    for name in ("boom", "slow", "crash"):
        folder = tmp_path / name
        assert read_manifest(folder)["status"] == by.loc[name, "status"]
        nb = nbformat.read(folder / "runbook.ipynb", as_version=4)
        assert nb.metadata.irsa_nb.status == by.loc[name, "status"]
        assert (folder / "runbook.html").is_file()
    slow = nbformat.read(tmp_path / "slow" / "runbook.ipynb", as_version=4)
    assert "timed out after 12 s" in slow.cells[0].source  # our banner: papermill adds none
    statuses = [c.metadata.get("papermill", {}).get("status") for c in slow.cells[1:]]
    assert "failed" in statuses
    crash = (tmp_path / "crash" / "runbook.html").read_text("utf-8")
    assert "The kernel died" in crash
    assert set(read_evidence(tmp_path)["run"]) == {
        str(tmp_path / "cart"),
        str(tmp_path / "checkout"),
    }


def test_resume_skips_finished_targets_and_reruns_failed_ones(behaviour_notebook, tmp_path):
    targets = _targets("checkout", "boom")
    first = run_batch(targets, tmp_path, workers=2, notebook=behaviour_notebook, progress=False)
    assert first["status"].tolist() == ["ok", "failed"]
    run_ids = {t: read_manifest(tmp_path / t)["run_id"] for t in ("checkout", "boom")}
    again = run_batch(
        targets, tmp_path, workers=2, resume=True, notebook=behaviour_notebook, progress=False
    )
    assert again["status"].tolist() == ["ok", "failed"]
    assert read_manifest(tmp_path / "checkout")["run_id"] == run_ids["checkout"]  # skipped
    assert read_manifest(tmp_path / "boom")["run_id"] != run_ids["boom"]  # ran again
    assert again.loc[0, "verdict"] == first.loc[0, "verdict"]


def test_dask_executor_runs_the_batch(tmp_path):
    distributed = pytest.importorskip("distributed")
    # The caller's context remembers an event loop, as after any papermill run in this
    # thread; in-process dask tasks copy that context, so both runs would get that loop.
    from jupyter_core.utils import ensure_event_loop

    ensure_event_loop()
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        index = run_batch(
            _targets("cart", "checkout"),
            tmp_path,
            executor=client.get_executor(),
            progress=False,
        )
    assert index["status"].tolist() == ["ok", "ok"], index["error"].tolist()
    assert index["verdict"].tolist()[0] == "FAIL"
    assert (tmp_path / "checkout" / "runbook.html").is_file()


def test_kernel_that_dies_on_start_is_started_once_more(tmp_path, monkeypatch, behaviour_notebook):
    """A kernel dying before kernel_info (the ZMQ port race) gets one retry."""
    kernels = tmp_path / "jupyter" / "kernels" / "flaky"
    kernels.mkdir(parents=True)
    launcher = tmp_path / "flaky.py"
    launcher.write_text(
        "import os, sys\n"
        "state = os.environ['IRSA_NB_TEST_FLAKY_STATE']\n"
        "if not os.path.exists(state):\n"
        "    open(state, 'w').close()\n"
        "    sys.exit(1)\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', *sys.argv[1:]])\n"
    )
    spec = {
        "argv": [sys.executable, str(launcher), "-f", "{connection_file}"],
        "display_name": "flaky",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("IRSA_NB_TEST_FLAKY_STATE", str(tmp_path / "started-once"))
    res = run_runbook(
        tmp_path / "ev",
        namespace="shop",
        service_account="checkout",
        notebook=behaviour_notebook,
        kernel_name="flaky",
    )
    assert (tmp_path / "started-once").exists()
    assert res.status == "ok", res.error


def test_targets_are_validated_and_named_stably():
    rows = normalize_targets(
        pd.DataFrame(
            {
                "bundle": ["demo", "demo"],
                "namespace": ["shop", "shop"],
                "service_account": ["cart", "cart"],
                "sdk": ["boto3=1.9.100; botocore=1.12.0", '{"boto3": "1.34.0"}'],
                "redact": ["", "false"],
            }
        )
    )
    assert rows[0].options.sdk == {"boto3": "1.9.100", "botocore": "1.12.0"}
    assert rows[1].options.sdk == {"boto3": "1.34.0"} and rows[1].options.redact is False
    assert rows[0].target == Target("shop", "cart") and rows[0].source == Source(bundle="demo")
    assert rows[0].name.startswith("demo-shop-cart-") and rows[0].name != rows[1].name
    # stable, so resume finds it
    assert target_name(rows[0].source, rows[0].target, rows[0].options) == rows[0].name
    assert normalize_targets([{}])[0].source == Source(bundle="demo")
    live = normalize_targets([{"cluster": "prod", "region": "eu-west-1", "pod": "p-1"}])[0]
    assert live.source == Source(cluster="prod", region="eu-west-1")
    assert live.target == Target(pod="p-1")
    with pytest.raises(ValueError, match="unknown target column"):
        normalize_targets(pd.DataFrame({"sa": ["x"]}))
    with pytest.raises(ValueError, match="duplicate target"):
        normalize_targets(pd.DataFrame({"target": ["a", "a"]}))
    with pytest.raises(ValueError, match="NAME=VERSION"):
        normalize_targets(pd.DataFrame({"sdk": ["boto3"]}))
    with pytest.raises(ValueError, match="redact"):
        normalize_targets(pd.DataFrame({"redact": ["maybe"]}))
    with pytest.raises(ValueError, match="target row 2: lang must be one of en, zh, got 'fr'"):
        normalize_targets(pd.DataFrame({"lang": ["zh", "fr"]}))


def test_batch_lang_flag_fills_empty_lang_cells(tmp_path, capsys):
    from irsa_nb.cli import main

    csv = tmp_path / "t.csv"
    csv.write_text(
        "target,namespace,service_account,lang\nen-row,shop,cart,en\nzh-row,shop,cart,\n"
    )
    code = main(["batch", "--targets", str(csv), "--out", str(tmp_path / "out"), "--lang", "zh"])
    assert code == 1  # cart FAILs
    index = pd.read_csv(tmp_path / "out" / "index.csv", keep_default_na=False)
    assert [Path(p).is_absolute() for p in index["path"]] == [True, True]
    manifests = {
        t: json.loads((tmp_path / "out" / t / "manifest.json").read_text()) for t in index.target
    }
    langs = {t: m["parameters"]["lang"] for t, m in manifests.items()}
    assert langs == {"en-row": "en", "zh-row": "zh"}
    name = target_name(Source(bundle="demo"), Target(), Options(), "../../etc/passwd")
    assert "/" not in name and Path(name).name == name


def test_run_and_batch_exit_3_when_a_broken_document_leaves_error_rows_and_no_fail(tmp_path):
    """The exit rule of irsa-nb check (irsa_nb.pipeline.exit_code) holds for run and batch."""
    import shutil

    from irsa_nb.cli import main
    from irsa_nb.demo import demo_bundle

    bundle = tmp_path / "bundle"
    shutil.copytree(demo_bundle("demo"), bundle)
    (bundle / "aws/eks/describe-cluster.json").write_text('{"cluster": ', encoding="utf-8")
    target = ["-n", "shop", "-s", "checkout", "--sdk", "boto3=1.34.0"]
    assert main(["run", "--bundle", str(bundle), *target, "--out", str(tmp_path / "run")]) == 3
    csv = tmp_path / "t.csv"
    csv.write_text(
        "target,bundle,namespace,service_account,sdk\n"
        f"broken,{bundle},shop,checkout,boto3=1.34.0\n"
        "healthy,demo,shop,checkout,boto3=1.34.0\n"
    )
    assert main(["batch", "--targets", str(csv), "--out", str(tmp_path / "b")]) == 3
    index = pd.read_csv(tmp_path / "b" / "index.csv", keep_default_na=False)
    assert dict(zip(index.target, index.verdict, strict=True)) == {
        "broken": "ERROR",
        "healthy": "PASS",
    }
