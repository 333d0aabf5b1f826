"""--cloudtrail and --action on a live cluster (moto + fake STS, IAM simulator and CloudTrail,
reached through AWS_ENDPOINT_URL_*): the error code STS really returned, the diagnosis it
confirms, the simulator's decision, and the same rows from a bundle."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import irsa_nb
from irsa_nb.cli import main
from tests.live.probe.conftest import BUCKET, NS
from tests.live.trail.conftest import app_calls, rows

pytestmark = pytest.mark.slow


def _check(capsys, *args: str) -> pd.DataFrame:
    capsys.readouterr()
    code = main(["check", *args, "--format", "json", "--all"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    return pd.DataFrame(json.loads(out))


def test_failed_web_identity_calls_name_the_code_and_confirm_the_diagnosis(
    probe_cluster,
    capsys,
):
    pc = probe_cluster()
    assert (
        app_calls(pc, "aud-typo", "probe-aud", "sts.amazon.com", n=3)
        == ["InvalidIdentityToken"] * 3
    )
    assert app_calls(pc, "ok", "probe-ok", "sts.amazonaws.com") == [""]
    df = _check(capsys, "--cluster", pc.cluster, "-n", NS, "--cloudtrail")
    (fail,) = rows(df, "sts_recent_calls", "aud-typo").itertuples()
    assert fail.status == "FAIL"
    assert "InvalidIdentityToken" in fail.detail and "3 " in fail.detail
    assert "system:serviceaccount:probe:aud-typo" in fail.detail
    assert "audience sts.amazon.com" in fail.detail  # the token's aud, as STS saw it
    evidence = json.loads(fail.evidence)
    assert evidence["error_code"] == "InvalidIdentityToken"
    assert evidence["diagnosis"]["confirmed"] is True
    assert "provider_audience_matches" in evidence["diagnosis"]["check_ids"]
    (ok,) = rows(df, "sts_recent_calls", "ok").itertuples()
    assert ok.status == "PASS" and "Boto3/" in ok.detail
    (sdk,) = rows(df, "sdk_version_supported", "ok").itertuples()  # no --sdk, no --exec
    assert sdk.status == "PASS" and "user agent" in sdk.detail and "boto3" in sdk.detail
    (none,) = rows(df, "sts_recent_calls", "wrong-ns").itertuples()
    assert none.status == "INFO"
    # read-only, and only LookupEvents reached CloudTrail
    assert set(pc.trail.operations) == {"LookupEvents"}


def test_action_gives_the_simulators_decision_without_probe(probe_cluster, capsys):
    pc = probe_cluster()
    df = _check(
        capsys,
        "--cluster",
        pc.cluster,
        "-n",
        NS,
        "-s",
        "ok",
        "--action",
        f"s3:GetObject={BUCKET}/*",
        "--action",
        "s3:DeleteObject",
    )
    got = rows(df, "role_allows_actions", "ok")
    by_action = {json.loads(e)["action"]: s for e, s in zip(got.evidence, got.status, strict=True)}
    assert by_action == {"s3:GetObject": "PASS", "s3:DeleteObject": "FAIL"}
    assert "explicit" in got[got.status == "FAIL"].iloc[0].detail.lower() or "Deny" in (
        got[got.status == "FAIL"].iloc[0].detail
    )
    assert "AssumeRoleWithWebIdentity" not in pc.front.operations  # no probe was made
    assert "SimulatePrincipalPolicy" in pc.front.operations


def test_both_round_trip_through_a_bundle(probe_cluster, capsys, tmp_path):
    pc = probe_cluster()
    app_calls(pc, "aud-typo", "probe-aud", "sts.amazon.com", n=2)
    app_calls(pc, "wrong-ns", "probe-wrong-ns", "sts.amazonaws.com")
    app_calls(pc, "ok", "probe-ok", "sts.amazonaws.com")
    opts = ["--cloudtrail", "6", "--action", f"s3:GetObject={BUCKET}/*", "--action", "sqs:*"]
    live = _check(capsys, "--cluster", pc.cluster, "-n", NS, *opts)
    out = tmp_path / "bundle"
    assert main(["collect", "--cluster", pc.cluster, "-n", NS, "--out", str(out), "-q", *opts]) == 0
    assert (out / "aws/cloudtrail/lookup-events/AssumeRoleWithWebIdentity.json").is_file()
    assert (out / "aws/iam/simulate-principal-policy/probe-ok.json").is_file()
    offline = _check(capsys, "--bundle", str(out), "-n", NS)
    keep = ["sts_recent_calls", "role_allows_actions"]
    a = live[live.check_id.isin(keep)].reset_index(drop=True)
    b = offline[offline.check_id.isin(keep)].reset_index(drop=True)
    assert len(a) >= 8
    pd.testing.assert_frame_equal(a, b)
    assert set(a[a.check_id == "sts_recent_calls"].status) == {"FAIL", "PASS", "INFO"}
    text = "\n".join(p.read_text() for p in out.rglob("*.json"))
    for secret in pc.secrets():  # tokens minted by the app, credentials STS handed out
        assert secret not in text


def test_a_bundle_source_refuses_live_only_options(capsys):
    assert main(["check", "--bundle", "demo", "--cloudtrail"]) == 2
    assert "--cloudtrail needs a live cluster" in capsys.readouterr().err
    assert main(["check", "--bundle", "demo", "--action", "s3:GetObject"]) == 2
    assert main(["check", "--bundle", "demo", "--cloudtrail", "0"]) == 2


def test_collect_documents_without_the_options_reads_no_trail(probe_cluster):
    pc = probe_cluster()
    inv = irsa_nb.collect(pc.cluster, namespaces=[NS], progress=False)
    assert "aws/cloudtrail/lookup-events/AssumeRoleWithWebIdentity.json" not in inv.documents
    assert not pc.trail.operations


def test_the_collect_script_writes_both_with_the_same_rows(probe_cluster, capsys, tmp_path):
    from tests.live.conftest import run_collect_script

    pc = probe_cluster()
    app_calls(pc, "aud-typo", "probe-aud", "sts.amazon.com", n=2)
    app_calls(pc, "ok", "probe-ok", "sts.amazonaws.com")
    actions = f"s3:GetObject={BUCKET}/* s3:DeleteObject"
    out = tmp_path / "bundle"
    proc = run_collect_script(
        pc.lv, out, IRSA_NAMESPACES=NS, IRSA_CLOUDTRAIL_HOURS="6", IRSA_ACTIONS=actions
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "aws/cloudtrail/lookup-events/AssumeRoleWithWebIdentity.json").is_file()
    assert (out / "aws/iam/simulate-principal-policy/probe-ok.json").is_file()
    assert (out / "aws/iam/simulate-principal-policy/probe-gone.error.txt").is_file()
    flags = ["--cloudtrail", "6"] + [x for a in actions.split() for x in ("--action", a)]
    live = _check(capsys, "--cluster", pc.cluster, "-n", NS, *flags)
    offline = _check(capsys, "--bundle", str(out), "-n", NS)
    keep = ["sts_recent_calls", "role_allows_actions"]
    a = live[live.check_id.isin(keep)].drop(columns=["evidence"]).reset_index(drop=True)
    b = offline[offline.check_id.isin(keep)].drop(columns=["evidence"]).reset_index(drop=True)
    # the error rows name the failed command's message, which the CLI words alike
    pd.testing.assert_frame_equal(a, b)
    assert "FAIL" in set(a.status) and "PASS" in set(a.status)
    assert set(pc.trail.operations) == {"LookupEvents"}
