"""``irsa-nb run`` / ``irsa-nb batch`` exit codes and reading evidence back."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from irsa_nb import RESULT_COLUMNS, read_evidence
from irsa_nb.cli import main

pytestmark = pytest.mark.kernel


def test_run_exits_0_without_fail_and_prints_where_the_evidence_is(tmp_path, capsys):
    out = tmp_path / "checkout"
    rc = main(["run", "--bundle", "demo", "-n", "shop", "-s", "checkout", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert f"Verdict PASS; evidence in {out}" in captured.out
    assert (out / "runbook.html").is_file() and (out / "manifest.json").is_file()


def test_run_exits_1_on_a_fail_verdict(tmp_path, capsys):
    rc = main(["run", "--bundle", "demo", "-n", "shop", "-s", "cart", "--out", str(tmp_path / "c")])
    assert rc == 1
    out = capsys.readouterr().out
    assert "Verdict FAIL" in out
    assert "FAIL  trust_policy_allows_service_account  shop/cart" in out
    assert "aws iam update-assume-role-policy --role-name irsa-cart" in out


def test_run_with_a_missing_bundle_exits_2_with_one_line(tmp_path, capsys):
    rc = main(["run", "--bundle", str(tmp_path / "nope.tar.gz"), "--out", str(tmp_path / "e")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "bundle not found" in err and "Traceback" not in err
    assert not (tmp_path / "e").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--out", "x"], "choose a source"),
        (["run", "--bundle", "demo", "--cluster", "c", "--out", "x"], "not both"),
        (["run", "--bundle", "demo:nothing", "--out", "x"], "unknown demo bundle"),
        (["run", "--bundle", "demo", "--out", "x", "--timeout", "0"], "--timeout"),
        (["run", "--bundle", "demo"], "--out"),
    ],
)
def test_run_usage_errors_exit_2_before_running(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_run_that_cannot_complete_exits_2_and_keeps_the_evidence(tmp_path, capsys):
    out = tmp_path / "missing-pod"
    rc = main(["run", "--bundle", "demo", "-n", "shop", "-p", "no-such-pod", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "TargetNotFound" in err and str(out) in err
    manifest = pd.read_json(out / "manifest.json", typ="series")
    assert manifest["status"] == "failed" and manifest["verdict"] == "UNKNOWN"
    assert "An Exception was encountered" in (out / "runbook.html").read_text("utf-8")


def test_read_evidence_reads_many_folders_by_glob(run_once, cart_run, tmp_path):
    checkout = run_once("checkout", bundle="demo", namespace="shop", service_account="checkout")
    for name, res in (("a-cart", cart_run), ("b-checkout", checkout)):
        shutil.copytree(res.folder, tmp_path / "ev" / name)
    df = read_evidence(str(tmp_path / "ev" / "*"))
    assert list(df.columns) == [*RESULT_COLUMNS, "run"]
    assert sorted(set(df["run"])) == [
        str(tmp_path / "ev" / "a-cart"),
        str(tmp_path / "ev" / "b-checkout"),
    ]
    assert len(df) == len(cart_run.results) + len(checkout.results)
    fails = df[df.status == "FAIL"]
    assert fails["run"].tolist() == [str(tmp_path / "ev" / "a-cart")]
    # a single folder and a batch root (folder of folders) work too
    assert len(read_evidence(tmp_path / "ev" / "a-cart")) == len(cart_run.results)
    assert len(read_evidence(tmp_path / "ev")) == len(df)
    with pytest.raises(FileNotFoundError):
        read_evidence(str(tmp_path / "nothing" / "*"))


def test_batch_cli_runs_every_target_and_writes_an_index(tmp_path, capsys):
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "target,bundle,namespace,service_account,sdk\n"
        "cart,demo,shop,cart,boto3=1.34.0\n"
        "checkout,demo,shop,checkout,\n"
    )
    out = tmp_path / "out"
    rc = main(["batch", "--targets", str(targets), "--out", str(out), "--workers", "2"])
    captured = capsys.readouterr()
    assert rc == 1, captured.err  # cart FAILs
    index = pd.read_csv(out / "index.csv", keep_default_na=False)
    assert index["target"].tolist() == ["cart", "checkout"]
    assert index["status"].tolist() == ["ok", "ok"]
    assert index["verdict"].tolist()[0] == "FAIL" and index["FAIL"].tolist()[1] == 0
    assert "2 targets" in captured.out
    sdk_rows = read_evidence(out / "cart")
    assert "boto3 1.34.0" in " ".join(
        sdk_rows.loc[sdk_rows.check_id == "sdk_version_supported", "detail"]
    )


def test_batch_cli_rejects_unknown_columns_with_one_line(tmp_path, capsys):
    targets = tmp_path / "targets.csv"
    targets.write_text("namespace,serviceaccount\nshop,cart\n")
    assert main(["batch", "--targets", str(targets), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "unknown target column(s) serviceaccount" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
