"""The `irsa-nb check` command: formats, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from irsa_nb import RESULT_COLUMNS
from irsa_nb.cli import main

# Every failure the demo bundles were built to show, by check id and target.
DEMO_FAILURES = {
    ("role_exists", "shop", "payments", ""),
    ("role_has_policies", "shop", "search", ""),
    ("trust_policy_allows_service_account", "shop", "cart", ""),
    ("service_account_exists", "shop", "order", ""),
    ("service_account_role_annotation", "shop", "inventory", ""),
    ("service_account_role_annotation", "shop", "reports", ""),
    ("pod_uses_service_account", "shop", "order", "orders-api-7b6c5d4f3-h8j9k"),
    ("pod_uses_service_account", "shop", "reports", "reports-4b3a2f1e0-w5e6r"),
    ("pod_has_irsa_env", "shop", "notifications", "notifications-9f8e7d6c5-a1b2c"),
    ("pod_has_irsa_env", "shop", "emailer", "emailer-5c4b3a2f1-e3r4t"),
    ("pod_has_irsa_env", "shop", "order", "orders-api-7b6c5d4f3-h8j9k"),
    ("pod_matches_annotation", "shop", "notifications", "notifications-9f8e7d6c5-a1b2c"),
    ("pod_matches_annotation", "shop", "recommender", "recommender-6d5c4b3a2-p0o9i"),
    ("pod_matches_annotation", "shop", "reports", "reports-4b3a2f1e0-w5e6r"),
    ("provider_audience_matches", "shop", "analytics", ""),
    # beyond the article
    ("containers_skipped", "shop", "exporter", "exporter-1a0f9e8d7-k9l0z"),
    ("no_credentials_override", "shop", "ledger", "ledger-6a5b4c3d2-g7h8j"),
    ("partition_consistent", "shop", "mirror", ""),
    # fulfillment's pod has Pod Identity credentials: only the precedence check FAILs (its
    # pod checks SKIP and point to it; recreating the pod would inject Pod Identity again)
    ("pod_identity_precedence", "shop", "fulfillment", ""),
    ("role_exists", "shop", "mirror", ""),
    ("token_expiration_valid", "shop", "batch", ""),
    ("trust_policy_not_overbroad", "shop", "audit", ""),
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_reports_every_demo_failure_under_its_check_id(capsys):
    code, out, err = run(capsys, "check", "--bundle", "demo", "--format", "json")
    rows = json.loads(out)
    assert code == 1 and err == ""
    assert all(list(r) == RESULT_COLUMNS for r in rows)
    fails = {
        (r["check_id"], r["namespace"], r["service_account"], r["pod"])
        for r in rows
        if r["status"] == "FAIL"
    }
    assert fails == DEMO_FAILURES
    healthy = [r for r in rows if r["service_account"] == "checkout"]
    assert healthy and not [r for r in healthy if r["status"] in ("FAIL", "ERROR", "WARN")]


@pytest.mark.parametrize(
    ("bundle", "check_id", "status"),
    [
        ("demo:no-oidc", "oidc_provider_exists", "FAIL"),
        ("demo:k8s-118", "pod_can_read_token", "FAIL"),
        ("demo:k8s-118", "provider_thumbprint_matches", "WARN"),
        ("demo:china", "china_region_env", "FAIL"),
    ],
)
def test_small_demo_clusters_show_the_cluster_wide_failures(capsys, bundle, check_id, status):
    code, out, _ = run(capsys, "check", "--bundle", bundle, "--format", "json")
    rows = json.loads(out)
    assert status in {r["status"] for r in rows if r["check_id"] == check_id}
    assert code == (1 if any(r["status"] == "FAIL" for r in rows) else 0)


def test_healthy_target_exits_zero_and_csv_has_the_columns(capsys):
    code, out, _ = run(
        capsys,
        "check",
        "--bundle",
        "demo",
        "-n",
        "shop",
        "-s",
        "checkout",
        "--sdk",
        "boto3=1.34.0",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert list(rows[0]) == RESULT_COLUMNS
    sdk = [r for r in rows if r["check_id"] == "sdk_version_supported"]
    assert [r["status"] for r in sdk] == ["PASS"]


def test_table_lists_failures_with_the_fix(capsys):
    code, out, _ = run(capsys, "check", "--bundle", "demo", "-n", "shop", "-s", "cart")
    assert code == 1
    assert "FAIL  trust_policy_allows_service_account  shop/cart" in out
    assert "aws iam update-assume-role-policy --role-name irsa-cart" in out
    assert "PASS/SKIP rows not shown" in out


def test_old_sdk_fails_the_run(capsys):
    code, out, _ = run(
        capsys,
        "check",
        "--bundle",
        "demo",
        "-n",
        "shop",
        "-s",
        "checkout",
        "--sdk",
        "boto3=1.9.100",
        "--format",
        "json",
    )
    assert code == 1
    assert {r["status"] for r in json.loads(out) if r["check_id"] == "sdk_version_supported"} == {
        "FAIL"
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--bundle", "/nonexistent/bundle"], "bundle not found"),
        (["check"], "choose a source"),
        (["check", "--bundle", "demo", "--sdk", "boto3"], "NAME=VERSION"),
        (["check", "--bundle", "demo", "--sdk", "cobol=1"], "unknown SDK"),
        (["check", "--bundle", "demo", "-n", "shop", "-p", "ghost"], "pod ghost not found"),
        (["check", "--bundle", "demo", "-n", "nosuchns"], "namespace nosuchns not found"),
        (["check", "--bundle", "demo", "--sdk", "boto3"], "irsa-nb: --sdk expects"),
        (["diagnose", "--sdk", "foo=1", "InvalidIdentityToken"], "unknown SDK 'foo'"),
        (["check", "--cluster", "c", "--probe", "--probe-max", "0"], "positive number of targets"),
        (
            ["check", "--cluster", "c", "--exec", "--exec-timeout", "inf"],
            "--exec-timeout: must be a finite",
        ),
        (
            ["check", "--cluster", "c", "--exec", "--exec-timeout", "nan"],
            "--exec-timeout: must be a finite",
        ),
        (
            ["run", "--bundle", "demo", "--out", "x", "--timeout", "inf"],
            "--timeout: must be a finite",
        ),
        (
            ["batch", "--targets", "t.csv", "--out", "x", "--timeout", "0"],
            "--timeout: must be a finite",
        ),
        (["check", "--bundle", "demo:nope"], "unknown demo bundle"),
        (["check", "--bundle", "demo", "--format", "xml"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_unsafe_archive_is_refused_by_the_cli(capsys, tmp_path: Path):
    import tarfile

    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/x")
        info.size = 0
        tar.addfile(info, io.BytesIO(b""))
    code, _, err = run(capsys, "check", "--bundle", str(archive))
    assert code == 2 and "unsafe path" in err


def test_table_shows_control_characters_as_escapes():
    from irsa_nb.cli import printable

    assert printable("role/x\x1b[31mRED\x1b]0;pwned\x07\r\nFAKE\tz") == (
        "role/x\\x1b[31mRED\\x1b]0;pwned\\x07\\x0d\nFAKE\\x09z"
    )


def test_output_piped_into_head_stops_quietly():
    exe = Path(sys.executable).with_name("irsa-nb")
    proc = subprocess.run(
        f"'{exe}' check --bundle demo --all --format csv | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        executable="/bin/bash",
    )
    assert proc.stdout == "check_id,t" and proc.stderr == ""


def test_console_script_runs_as_installed():
    exe = Path(sys.executable).with_name("irsa-nb")
    proc = subprocess.run(
        [str(exe), "check", "--bundle", "demo:china", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert any(
        r["check_id"] == "china_region_env" and r["status"] == "FAIL"
        for r in json.loads(proc.stdout)
    )


def test_table_speaks_the_chosen_language(capsys):
    code, out, _ = run(
        capsys, "check", "--bundle", "demo", "-n", "shop", "-s", "cart", "--lang", "zh"
    )
    assert code == 1
    assert out.startswith("24 条结果:") and "修复:" in out and "未显示 23 条" in out
    assert "results" not in out and "Fix:" not in out


def test_a_spec_only_pass_says_so_in_the_table_and_the_json(capsys):
    """Without --exec the PASS of no_credentials_override rests on the pod spec alone: the
    table (--all) shows the detail and the JSON evidence the certainty (issue 15, item 7)."""
    base = ("check", "--bundle", "demo", "-n", "shop", "-s", "checkout")
    _, out, _ = run(capsys, *base, "--all")
    block = out[out.index("PASS  no_credentials_override") :]
    assert "from the spec only" in " ".join(block.split()[:60]) and "--exec" in block
    _, out, _ = run(capsys, *base, "--format", "json")
    row = next(r for r in json.loads(out) if r["check_id"] == "no_credentials_override")
    preds = [p for ps in json.loads(row["evidence"]).values() for p in ps]
    assert {p["certainty"] for p in preds} == {"spec-only"}


# --- exit status a script can trust (issue 15 item 6) ------------------------------------------


def _broken(tmp_path: Path, document: str, base: str = "demo") -> Path:
    """A copy of demo bundle ``base`` whose ``document`` is broken JSON."""
    import shutil

    from irsa_nb.demo import demo_bundle

    bundle = tmp_path / "bundle"
    shutil.copytree(demo_bundle(base), bundle)
    (bundle / document).write_text('{"items": [', encoding="utf-8")
    return bundle


def test_a_bundle_whose_one_document_is_broken_json_exits_3(capsys, tmp_path):
    bundle = tmp_path / "only"
    (bundle / "k8s").mkdir(parents=True)
    (bundle / "k8s" / "pods.json").write_text('{"items": [', encoding="utf-8")
    code, out, _ = run(capsys, "check", "--bundle", str(bundle), "--format", "json")
    rows = json.loads(out)
    assert {r["status"] for r in rows} <= {"SKIP", "ERROR"} and "ERROR" in {
        r["status"] for r in rows
    }
    assert code == 3


def test_error_rows_without_a_fail_exit_3_and_a_fail_outranks_them(capsys, tmp_path):
    bundle = _broken(tmp_path, "aws/eks/describe-cluster.json")
    target = ("-n", "shop", "-s", "checkout", "--sdk", "boto3=1.34.0", "--format", "json")
    code, out, _ = run(capsys, "check", "--bundle", str(bundle), *target)
    statuses = {r["status"] for r in json.loads(out)}
    assert "ERROR" in statuses and "FAIL" not in statuses and code == 3
    # the same bundle, a target that FAILs on evidence still readable: FAIL (1) wins over 3
    code, out, _ = run(
        capsys, "check", "--bundle", str(bundle), "-n", "shop", "-s", "payments", "--format", "json"
    )
    statuses = {r["status"] for r in json.loads(out)}
    assert {"ERROR", "FAIL"} <= statuses and code == 1


def test_help_documents_the_exit_statuses(capsys):
    for command in ("check", "run", "batch"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "exit status" in out and "3" in out and "could not check" in out


def test_exit_code_is_one_function_for_every_face():
    """check, run (RunbookResult.exit_code) and batch (batch_exit_code) share the rule."""
    import pandas as pd

    from irsa_nb.batch import batch_exit_code
    from irsa_nb.pipeline import EXIT_PRECEDENCE, exit_code

    assert EXIT_PRECEDENCE == (2, 1, 3, 0)
    assert [exit_code(v) for v in ("PASS", "WARN", "SKIP", "EMPTY", "ERROR", "FAIL")] == [
        0,
        0,
        0,
        0,
        3,
        1,
    ]
    index = pd.DataFrame({"status": ["ok", "ok"], "verdict": ["ERROR", "PASS"]})
    assert batch_exit_code(index) == 3
    assert batch_exit_code(index.assign(verdict=["ERROR", "FAIL"])) == 1
    assert batch_exit_code(index.assign(status=["ok", "timed out"])) == 2
