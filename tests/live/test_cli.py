"""``irsa-nb collect`` and ``irsa-nb check --cluster`` against the local live cluster."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import irsa_nb
from irsa_nb.cli import main

pytestmark = pytest.mark.slow


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_collect_writes_a_tar_gz_that_checks_like_the_live_cluster(live, capsys, tmp_path):
    lv = live()
    out = tmp_path / "evidence.tar.gz"
    code, stdout, err = run(capsys, "collect", "--cluster", lv.cluster, "--out", str(out), "-q")
    assert (code, stdout, err) == (0, "", "")
    from_bundle = irsa_nb.run_checks(irsa_nb.load_bundle(out))
    live_df = irsa_nb.run_checks(irsa_nb.collect(lv.cluster, progress=False))
    pd.testing.assert_frame_equal(from_bundle, live_df)

    code, stdout, _ = run(capsys, "check", "--cluster", lv.cluster, "--format", "json")
    assert code == 1  # the synthetic cluster has FAILs
    assert pd.DataFrame(json.loads(stdout)).equals(
        pd.DataFrame(json.loads(live_df.to_json(orient="records")))
    )


def test_collect_reports_what_failed(live, capsys, tmp_path):
    lv = live()
    code, _, err = run(capsys, "collect", "--cluster", lv.cluster, "--out", str(tmp_path / "b"))
    assert code == 0
    assert "wrote " in err and str(tmp_path / "b") in err
    # moto does not implement ListPodIdentityAssociations: recorded, not fatal
    assert "failed: aws/eks/list-pod-identity-associations.json" in err
    assert (tmp_path / "b/aws/eks/list-pod-identity-associations.error.txt").exists()


def test_collect_never_mixes_into_an_existing_bundle_directory(live, capsys, tmp_path):
    lv = live()
    out = tmp_path / "b"
    assert run(capsys, "collect", "--cluster", lv.cluster, "--out", str(out), "-q")[0] == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    lv.kube.reset_records()
    code, stdout, err = run(capsys, "collect", "--cluster", lv.cluster, "--out", str(out))
    assert code == 2 and stdout == "" and len(err.strip().splitlines()) == 1
    assert f"{out} is not empty: choose a new output directory" in err
    assert lv.kube.api_calls() == []  # refused before collecting anything
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    # an empty directory is fine
    (tmp_path / "empty").mkdir()
    assert run(capsys, "collect", "--cluster", lv.cluster, "--out", str(tmp_path / "empty"))[0] == 0


def test_check_with_a_namespace_collects_only_that_namespace(live, capsys):
    lv = live()
    code, out, _ = run(
        capsys, "check", "--cluster", lv.cluster, "-n", "team-payments", "--format", "csv"
    )
    assert code in (0, 1)
    namespaces = {ns for _, _, ns in lv.kube.api_calls() if ns}
    assert namespaces == {"team-payments"}
    assert "team-payments" in out


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["check", "--bundle", "demo", "--cluster", "x"], {}, "choose one source"),
        (["collect", "--cluster", "x"], {}, "--out"),
        (["check", "--cluster", "x"], {"KUBECONFIG": "/nonexistent/kubeconfig"}, "kubeconfig"),
        (["check", "--cluster", "x", "--profile", "nope"], {}, "nope"),
        (["check", "--cluster", "x", "--context", "nope"], {}, "context 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(live, capsys, monkeypatch, argv, env, message):
    live()
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("variable", "text", "message"),
    [
        ("KUBECONFIG", "clusters: [oops\n", "cannot read kubeconfig {bad}: "),
        # a user error, not a bug ("internal error")
        ("AWS_CONFIG_FILE", "[default\nregion = x\n", "Unable to parse config file: {bad}: fix"),
    ],
)
def test_damaged_config_file_is_one_line_and_exit_2(
    live, capsys, monkeypatch, tmp_path, variable, text, message
):
    live()
    bad = tmp_path / "config"
    bad.write_text(text)
    monkeypatch.setenv(variable, str(bad))
    code, out, err = run(capsys, "check", "--cluster", "x")
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and message.format(bad=bad) in err


def test_missing_region_is_one_line_and_exit_2(live, capsys, monkeypatch):
    live()
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code, _, err = run(capsys, "check", "--cluster", "x")
    assert code == 2 and "no AWS region: pass --region" in err


def test_aws_region_is_honoured_like_the_aws_cli(live, capsys, monkeypatch):
    lv = live()
    region = irsa_nb.collect(lv.cluster, progress=False).cluster.region
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", region)
    assert irsa_nb.collect(lv.cluster, progress=False).cluster.region == region


def test_one_namespace_may_be_named_as_a_string(live):
    lv = live()
    inv = irsa_nb.collect(lv.cluster, namespaces="team-payments", progress=False)
    assert {ns for _, _, ns in lv.kube.api_calls() if ns} == {"team-payments"}
    assert inv.pods and {p.namespace for p in inv.pods} == {"team-payments"}


def test_progress_bar_on_request_and_silence_by_default(live, capsys):
    lv = live()
    irsa_nb.collect(lv.cluster)  # stderr is not a terminal under pytest: no bar
    assert capsys.readouterr().err == ""
    irsa_nb.collect(lv.cluster, progress=True)
    err = capsys.readouterr().err
    assert "collect" in err and "obj" in err


def test_a_failing_credential_plugin_never_prints_its_secrets(live, tmp_path):
    lv = live()
    token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6abcdefghijklmnop"
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(f"#!/bin/sh\necho 'ExpiredToken aws_session_token={token}' >&2\nexit 1\n")
    plugin.chmod(0o755)
    cfg = yaml.safe_load(Path(lv.kubeconfig).read_text())
    for user in cfg["users"]:
        user["user"] = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": str(plugin),
                "interactiveMode": "Never",
            }
        }
    (tmp_path / "kc").write_text(yaml.safe_dump(cfg))
    env = {**lv.env(), "KUBECONFIG": str(tmp_path / "kc")}
    argv = [sys.executable, "-m", "irsa_nb.cli", "check", "--cluster", lv.cluster]
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert "ExpiredToken" in run.stderr  # what went wrong is shown ...
    assert token[:20] not in run.stderr + run.stdout  # ... without the secret


def _credential_process_profile(tmp_path, monkeypatch, script: str) -> None:
    """An AWS profile ``cp`` whose credentials come from ``script`` (a credential_process)."""
    command = tmp_path / "credentials.sh"
    command.write_text("#!/bin/sh\n" + script)
    command.chmod(0o755)
    cfg = tmp_path / "aws-config-cp"
    cfg.write_text(f"[profile cp]\ncredential_process = {command}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")


def test_credentials_from_a_credential_process_work(live, tmp_path, monkeypatch):
    lv = live()
    key, secret = lv.seeded.credentials  # moto keeps one account per access key
    creds = {"Version": 1, "AccessKeyId": key, "SecretAccessKey": secret}
    _credential_process_profile(tmp_path, monkeypatch, f"echo '{json.dumps(creds)}'\n")
    inv = irsa_nb.collect(lv.cluster, profile="cp", progress=False)
    assert inv.cluster.name == lv.cluster and len(inv.role_names()) > 0


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (
            "echo 'the SSO session has expired' >&2\necho AKIAIOSFODNN7EXAMPLE >&2\nexit 1\n",
            "the SSO session has expired",
        ),
        ("sleep 5 &\nexec sleep 5\n", "gave no credentials within 0.5 s"),
    ],
)
def test_a_failing_or_hanging_credential_process_is_one_line_and_exit_2(
    live, capsys, tmp_path, monkeypatch, script, words
):
    from irsa_nb.live import aws as live_aws

    lv = live()
    _credential_process_profile(tmp_path, monkeypatch, script)
    real = live_aws.make_session
    monkeypatch.setattr(live_aws, "make_session", lambda *a: real(*a, process_timeout=0.5))
    code, stdout, err = run(capsys, "check", "--cluster", lv.cluster, "--profile", "cp")
    assert code == 2 and stdout == "" and len(err.strip().splitlines()) == 1
    assert words in err and "configure credentials" in err  # on the one line
    assert "AKIAIOSFODNN7EXAMPLE" not in err
    assert lv.kube.api_calls() == []
