"""The live STS probe against the fake Kubernetes API, moto and a fake STS that checks tokens."""

from __future__ import annotations

import json
import logging
import tarfile

import pandas as pd
import pytest

import irsa_nb
from irsa_nb import bundle
from irsa_nb.bundle import write_documents
from irsa_nb.cli import main
from irsa_nb.live.sts_probe import ProbeOptions, parse_action
from tests.live.probe.conftest import BUCKET, NS, closed_port_url

pytestmark = pytest.mark.slow

PROBE_CHECKS = ["sts_probe_assume_role", "sts_probe_permissions"]
ACTIONS = [
    parse_action(f"s3:GetObject={BUCKET}/reports/q1.csv"),
    parse_action("s3:DeleteObject"),
    parse_action("sqs:SendMessage"),
]


def _rows(inv, **target) -> pd.DataFrame:
    return irsa_nb.run_checks(inv, **target, checks=PROBE_CHECKS)


def _assume_row(df: pd.DataFrame, sa: str) -> pd.Series:
    rows = df[(df.check_id == "sts_probe_assume_role") & (df.service_account == sa)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.fixture
def probed(probe_cluster):
    """One collection probing every annotated service account of namespace ``probe``."""
    pc = probe_cluster()
    inv = irsa_nb.collect(
        pc.cluster, progress=False, probe=ProbeOptions(namespace=NS, actions=ACTIONS)
    )
    return pc, inv


def test_a_fresh_token_assumes_the_role_and_names_the_caller(probed):
    pc, inv = probed
    row = _assume_row(_rows(inv, namespace=NS), "ok")
    assert row.status == "PASS"
    ev = json.loads(row.evidence)
    caller = ev["assume"]["caller_arn"]
    assert caller.startswith(f"arn:aws:sts::{pc.account}:assumed-role/probe-ok/irsa-nb-probe-")
    assert caller in row.detail and pc.role_arn("probe-ok") in row.detail
    assert ev["assume"]["subject"] == f"system:serviceaccount:{NS}:ok"
    assert pc.front.operations.count("GetCallerIdentity") == 1  # only for the assumed role
    assert pc.front.assume_signed and not any(pc.front.assume_signed)  # unsigned, like a pod


def test_tokens_come_from_token_request_with_the_pods_audience(probed):
    pc, _ = probed
    made = {(r["namespace"], r["name"]): r for r in pc.lv.kube.token_requests}
    assert set(made) == {(NS, sa) for sa in ("ok", "wrong-ns", "aud-typo", "bad-arn", "gone")}
    assert {r["expiration_seconds"] for r in made.values()} == {600}
    assert made[(NS, "aud-typo")]["audiences"] == ["sts.amazon.com"]
    assert made[(NS, "ok")]["audiences"] == ["sts.amazonaws.com"]
    creates = [c for c in pc.lv.kube.api_calls() if c[0] not in ("get", "list")]
    assert {c[:2] for c in creates} == {("create", "serviceaccounts/token")}
    assert pc.front.operations.count("AssumeRoleWithWebIdentity") == 5


@pytest.mark.parametrize(
    ("sa", "code", "message", "check_id"),
    [
        (
            "wrong-ns",
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            "trust_policy_allows_service_account",
        ),
        (
            "aud-typo",
            "InvalidIdentityToken",
            "Incorrect token audience",
            "provider_audience_matches",
        ),
        ("bad-arn", "ValidationError", "Request ARN is invalid", "service_account_role_annotation"),
        ("gone", "AccessDenied", "Not authorized to perform", "role_exists"),
    ],
)
def test_sts_refusals_fail_with_the_code_and_the_confirmed_cause(
    probed, sa, code, message, check_id
):
    _, inv = probed
    row = _assume_row(_rows(inv, namespace=NS), sa)
    assert row.status == "FAIL"
    assert f"{code}: {message}" in row.detail
    diag = json.loads(row.evidence)["diagnosis"]
    assert diag["check_ids"][0] == check_id  # the best cause is the one the checks confirm
    assert diag["confirmed"] is True
    assert diag["cause"] in row.detail and check_id in row.remediation
    if sa != "bad-arn":  # (a malformed ARN has no role name to fill in)
        assert "ROLE_NAME" not in row.detail + row.remediation  # the real role is named


def test_missing_oidc_provider_is_diagnosed(probe_cluster):
    pc = probe_cluster(provider=False)
    inv = irsa_nb.collect(pc.cluster, progress=False, probe=ProbeOptions(NS, "ok"))
    row = _assume_row(_rows(inv, namespace=NS, service_account="ok"), "ok")
    assert row.status == "FAIL"
    issuer = pc.lv.issuer.issuer
    assert (
        f"InvalidIdentityToken: No OpenIDConnect provider found in your account for {issuer}"
        in (row.detail)
    )
    diag = json.loads(row.evidence)["diagnosis"]
    assert diag["check_ids"][0] == "oidc_provider_exists" and diag["confirmed"] is True


def test_expired_token_is_diagnosed(probe_cluster):
    pc = probe_cluster(clock_skew=3600)  # STS's clock is an hour ahead of the API server's
    inv = irsa_nb.collect(pc.cluster, progress=False, probe=ProbeOptions(NS, "ok"))
    row = _assume_row(_rows(inv, namespace=NS, service_account="ok"), "ok")
    assert row.status == "FAIL"
    assert "ExpiredTokenException: Token expired: current date/time" in row.detail
    diag = json.loads(row.evidence)["diagnosis"]
    assert diag["error"].startswith("E7 ")
    assert any("clock" in c["cause"] for c in diag["causes"])


def test_unreachable_sts_is_an_error_and_the_collection_is_complete(probe_cluster, fast_retries):
    pc = probe_cluster(sts_url=closed_port_url())
    inv = irsa_nb.collect(pc.cluster, progress=False, probe=ProbeOptions(NS, "ok"))
    row = _assume_row(_rows(inv, namespace=NS, service_account="ok"), "ok")
    assert row.status == "ERROR"
    assert "could not be reached" in row.detail and "Could not connect" in row.detail
    assert len(pc.lv.kube.token_requests) == 1  # the token was minted, then STS failed
    assert len(inv.pods) == len(pc.lv.data["pods"])
    df = irsa_nb.run_checks(inv, namespace=NS, service_account="ok")
    assert df.set_index("check_id").loc["role_exists", "status"] == "PASS"


def test_forbidden_token_request_is_an_error_and_nothing_else_is_lost(probe_cluster):
    pc = probe_cluster(forbidden={("create", "serviceaccounts/token")})
    plain = irsa_nb.collect(pc.cluster, progress=False)
    inv = irsa_nb.collect(pc.cluster, progress=False, probe=ProbeOptions(namespace=NS))
    df = _rows(inv, namespace=NS)
    assumed = df[df.check_id == "sts_probe_assume_role"]
    assert len(assumed) == 5 and set(assumed.status) == {"ERROR"}
    row = _assume_row(df, "ok")
    assert "TokenRequest" in row.detail and "Forbidden" in row.detail
    assert "serviceaccounts/token" in row.remediation
    assert "AssumeRoleWithWebIdentity" not in pc.front.operations  # STS never called
    # everything a collection without the probe gets is still there, unchanged
    others = {p: d for p, d in inv.documents.items() if not p.startswith("probe/")}
    assert others.keys() == plain.documents.keys()
    cols = ["check_id", "status", "namespace", "service_account", "pod"]
    with_probe = irsa_nb.run_checks(inv)
    with_probe = with_probe[~with_probe.check_id.isin(PROBE_CHECKS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(irsa_nb.run_checks(plain)[cols], with_probe[cols])


def test_a_token_answer_nested_too_deeply_is_an_error_and_nothing_else_is_lost(
    probe_cluster, monkeypatch
):
    from irsa_nb.live import kube as live_kube

    pc = probe_cluster()
    real = live_kube.request
    deep = ('{"status": {"token": ' + "[" * 100_000 + "]" * 100_000 + "}}").encode()

    def hostile(api, method, path, query=None, body=None):
        answer = real(api, method, path, query, body)
        return deep if path.endswith("/token") else answer

    monkeypatch.setattr(live_kube, "request", hostile)
    inv = irsa_nb.collect(pc.cluster, progress=False, probe=ProbeOptions(namespace=NS))
    assumed = _rows(inv, namespace=NS)
    assumed = assumed[assumed.check_id == "sts_probe_assume_role"]
    assert len(assumed) == 5 and set(assumed.status) == {"ERROR"}
    assert "no status.token" in _assume_row(assumed, "ok").detail
    assert "AssumeRoleWithWebIdentity" not in pc.front.operations  # STS never called
    assert len(inv.service_accounts) == len(pc.lv.data["service_accounts"])


def test_policy_simulation_reports_each_action(probed):
    _, inv = probed
    df = _rows(inv, namespace=NS, service_account="ok")
    perms = df[df.check_id == "sts_probe_permissions"].set_index(
        df[df.check_id == "sts_probe_permissions"].evidence.map(lambda e: json.loads(e)["action"])
    )
    assert perms.loc["s3:GetObject", "status"] == "PASS"
    assert f"{BUCKET}/reports/q1.csv" in perms.loc["s3:GetObject", "detail"]
    assert perms.loc["s3:DeleteObject", "status"] == "FAIL"
    assert "Deny" in perms.loc["s3:DeleteObject", "detail"]
    assert perms.loc["sqs:SendMessage", "status"] == "WARN"  # depends on aws:SourceVpc
    assert "aws:SourceVpc" in perms.loc["sqs:SendMessage", "detail"]
    df = _rows(inv, namespace=NS, service_account="wrong-ns")
    wrong = df[df.check_id == "sts_probe_permissions"]
    assert set(wrong.status) == {"FAIL"} and wrong.detail.str.contains("implicitDeny").all()


def test_simulation_denied_to_the_caller_is_an_error(probe_cluster):
    pc = probe_cluster(simulate_denied=True)
    opts = ProbeOptions(NS, "ok", actions=ACTIONS[:1])
    inv = irsa_nb.collect(pc.cluster, progress=False, probe=opts)
    df = _rows(inv, namespace=NS, service_account="ok")
    row = df[df.check_id == "sts_probe_permissions"].iloc[0]
    assert row.status == "ERROR" and "AccessDenied" in row.detail
    assert "iam:SimulatePrincipalPolicy" in row.remediation
    assert _assume_row(df, "ok").status == "PASS"


def test_the_number_of_probed_service_accounts_is_capped(probe_cluster):
    pc = probe_cluster()
    inv = irsa_nb.collect(pc.cluster, progress=False, probe=ProbeOptions(NS, max_targets=2))
    assert len(pc.lv.kube.token_requests) == 2
    df = _rows(inv, namespace=NS)
    assumed = df[df.check_id == "sts_probe_assume_role"]
    assert (assumed.status != "SKIP").sum() == 2
    skipped = assumed[assumed.status == "SKIP"]
    assert len(skipped) == 3 and skipped.detail.str.contains("--probe-max 2").all()
    assert not (df.check_id == "sts_probe_permissions").any()  # no --action: no rows


def test_without_a_probe_there_are_no_probe_rows(probe_cluster):
    pc = probe_cluster()
    inv = irsa_nb.collect(pc.cluster, progress=False)
    assert _rows(inv).empty and not pc.lv.kube.token_requests
    assert _rows(irsa_nb.load_bundle("demo")).empty


def test_a_written_bundle_carries_the_outcome(probed, tmp_path):
    _, inv = probed
    out = write_documents(inv.documents, tmp_path / "probed.tar.gz")
    again = irsa_nb.load_bundle(out)
    pd.testing.assert_frame_equal(_rows(again, namespace=NS), _rows(inv, namespace=NS))
    assert bundle.command_for(bundle.probe_path(NS, "ok"), "prod").startswith(
        "irsa-nb collect --cluster prod --probe -n probe -s ok"
    )


def test_no_token_or_credential_reaches_output_bundle_or_logs(
    probe_cluster, tmp_path, capsys, caplog
):
    caplog.set_level(logging.DEBUG)
    pc = probe_cluster()
    args = ["--cluster", pc.cluster, "--probe", "-n", NS]
    for action in ACTIONS:
        args += ["--action", "=".join(action)]
    code = main(["check", *args, "--format", "json"])
    assert code in (0, 1)
    out = tmp_path / "b.tar.gz"
    assert main(["collect", *args, "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr()
    rows = json.loads(printed.out)
    assert {r["status"] for r in rows if r["check_id"] == "sts_probe_assume_role"} >= {
        "PASS",
        "FAIL",
    }

    secrets = pc.secrets()
    assert len(pc.lv.kube.token_requests) == 10 and len(pc.front.issued) == 2
    with tarfile.open(out) as tar:
        files = b"".join(tar.extractfile(m).read() for m in tar if m.isfile())
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert any(r.name.startswith("botocore") for r in caplog.records)  # DEBUG logs were on
    assert "Making request for OperationModel(name=DescribeCluster)" in logged
    for secret in secrets:
        assert secret not in printed.out and secret not in printed.err
        assert secret.encode() not in files
        assert secret not in logged
    assert "eyJ" not in printed.out and b"eyJ" not in files  # no JWT at all


def test_probe_with_a_bundle_is_a_usage_error(capsys):
    assert main(["check", "--bundle", "demo", "--probe"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--probe needs a live cluster" in err
    assert main(["check", "--bundle", "demo", "--action", "s3:GetObject"]) == 2
    assert main(["check", "--cluster", "x", "--probe", "--action", "GetObject"]) == 2
    assert main(["check", "--cluster", "x", "--probe", "--probe-max", "0"]) == 2
    err = capsys.readouterr().err
    assert "SERVICE:ACTION" in err and "positive" in err and "Traceback" not in err
    with pytest.raises(ValueError, match="live cluster"):
        irsa_nb.Source(bundle="demo").open(options=irsa_nb.Options(probe=True))
