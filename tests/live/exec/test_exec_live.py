"""``--exec`` end to end: moto + the fake API server's exec websocket + scripted containers."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

import irsa_nb
from irsa_nb.bundle import CallFailed, read_documents, write_documents
from irsa_nb.cli import main
from irsa_nb.live.exec import ExecTarget
from irsa_nb.live.exec_probe import FALLBACK_COMMANDS, PROBE_COMMAND
from tests.builders import k8s_objects as k8s

from .conftest import (
    MULTILINE_ENV,
    MULTILINE_FRAGMENTS,
    SECRET_VALUES,
    Box,
    add_app,
    base_data,
    evidence,
    needs_root,
    now,
    texts,
)

pytestmark = pytest.mark.slow

POD = "cart-7d4b9c-x2k4p"
TARGET = {"namespace": "shop", "pod": POD}


def _one(df: pd.DataFrame, check: str, **where: str) -> pd.Series:
    rows = df[df.check_id == check]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, rows[["check_id", "status", "pod", "detail"]]
    return rows.iloc[0]


def _app(data: dict, containers: list | None = None) -> None:
    add_app(data, "shop", "cart", {POD: containers or [k8s.container("app")]})


def _checks(lv, exec_=TARGET, **kw) -> tuple[irsa_nb.Inventory, pd.DataFrame]:
    inv = irsa_nb.collect(lv.cluster, progress=False, exec=exec_, **kw)
    return inv, irsa_nb.run_checks(inv, namespace="shop", pod=POD)


def test_image_env_keys_override_irsa_and_no_secret_is_written(exec_live, tmp_path):
    data = base_data()
    _app(data)
    keys = {"AWS_ACCESS_KEY_ID": SECRET_VALUES[0], "AWS_SECRET_ACCESS_KEY": SECRET_VALUES[1]}
    box = Box(env={**keys, "DATABASE_URL": f"postgres://u:{SECRET_VALUES[2]}@db/x"})
    lv, _ = exec_live(data, {("shop", POD, "app"): box})

    spec_only = irsa_nb.run_checks(irsa_nb.collect(lv.cluster, progress=False), pod=POD)
    assert _one(spec_only, "no_credentials_override").status == "PASS"  # the spec looks fine

    inv, df = _checks(lv)
    row = _one(df, "no_credentials_override")
    assert row.status == "FAIL"
    assert "AWS_ACCESS_KEY_ID (image ENV or envFrom, seen inside the container)" in row.detail
    assert "Dockerfile ENV" in row.remediation
    assert {p["env"] for preds in evidence(row).values() for p in preds} == {"exec"}
    env_row = _one(df, "pod_has_irsa_env")
    assert env_row.status == "PASS" and evidence(env_row)["app"]["source"] == "exec"
    assert _one(df, "in_pod_evidence").status == "PASS"

    write_documents(inv.documents, tmp_path / "b")
    written = texts(tmp_path / "b" / "k8s" / "exec")
    assert "AWS_ACCESS_KEY_ID=***" in written
    assert not any(s in written for s in SECRET_VALUES)
    assert not any(s in df.to_json() for s in SECRET_VALUES)


@needs_root
def test_non_root_image_on_1_18_cannot_read_a_root_only_token(exec_live):
    data = base_data()
    data["version"]["serverVersion"] = k8s.version_info("1", "18+", "v1.18.20-eks-c9f1ce")
    _app(data)
    lv, _ = exec_live(data, {("shop", POD, "app"): Box(uid=1000, token_mode=0o600)})

    spec_only = irsa_nb.run_checks(irsa_nb.collect(lv.cluster, progress=False), pod=POD)
    assert _one(spec_only, "pod_can_read_token").status == "WARN"  # image user unknown

    _, df = _checks(lv)
    row = _one(df, "pod_can_read_token")
    assert row.status == "FAIL", row.detail
    assert "app (uid 1000 gid 1000; token 0:0 600)" in row.detail
    ev = evidence(row)
    assert ev["source"] == "exec" and ev["seen_inside"]["app"]["readable"] is False
    assert "fsGroup" in row.remediation


def test_java_image_without_the_sts_jar(exec_live):
    data = base_data()
    _app(data, [k8s.container("app"), k8s.container("py")])
    boxes = {
        ("shop", POD, "app"): Box(files={"app/lib/sdk-core-2.20.0.jar": "x"}),
        ("shop", POD, "py"): Box(python={"boto3": "1.34.0"}),
    }
    lv, _ = exec_live(data, boxes)
    _, df = _checks(lv)
    rows = df[df.check_id == "sdk_version_supported"].set_index("status")
    assert set(rows.index) == {"FAIL", "PASS"}
    assert "Java SDK v2 2.20.0" in rows.loc["FAIL", "detail"]
    assert "no STS module" in rows.loc["FAIL", "detail"]
    assert evidence(rows.loc["FAIL"])["sts_module"] is False
    passed = rows.loc["PASS", "detail"]
    assert f"{POD}/py" in passed and "boto3 1.34.0" in passed
    # --sdk still wins over what was found
    given = irsa_nb.run_checks(
        irsa_nb.collect(lv.cluster, progress=False, exec=TARGET), pod=POD, sdk={"java2": "2.9.0"}
    )
    assert list(given[given.check_id == "sdk_version_supported"].status) == ["FAIL"]


def test_expired_and_foreign_tokens_fail_the_trust_check(exec_live):
    data = base_data()
    add_app(data, "shop", "cart", {POD: [k8s.container("app")], "cart-7d4b9c-zz9yy": ["app"]})
    boxes = {
        ("shop", POD, "app"): Box(claims={"exp": now() - 600, "iat": now() - 4200}),
        ("shop", "cart-7d4b9c-zz9yy", "app"): Box(
            claims={"sub": "system:serviceaccount:shop:legacy"}
        ),
    }
    lv, _ = exec_live(data, boxes)
    inv = irsa_nb.collect(lv.cluster, progress=False, exec={"service_account": "cart"})
    df = irsa_nb.run_checks(inv, namespace="shop", service_account="cart")
    trust = df[df.check_id == "trust_policy_allows_service_account"]
    assert list(trust.status) == ["PASS", "FAIL", "FAIL"]  # the role trusts shop/cart ...
    expired, denied = trust.iloc[1], trust.iloc[2]
    assert f"inside pod {POD} (app) expired at" in expired.detail
    assert evidence(expired)["source"] == "exec"
    assert "sub system:serviceaccount:shop:legacy (expected system:serviceaccount:shop:cart)" in (
        denied.detail
    )
    assert "denies it" in denied.detail


def test_distroless_container_is_a_skip_and_the_spec_still_decides(exec_live):
    data = base_data()
    _app(data, [k8s.container("app"), k8s.container("tools")])
    lv, _ = exec_live(data, {("shop", POD, "app"): Box(shell=False)})
    inv, df = _checks(lv)
    rows = df[df.check_id == "in_pod_evidence"].set_index("status")
    assert set(rows.index) == {"SKIP", "PASS"}
    assert "app has no shell (distroless or scratch image)" in rows.loc["SKIP", "detail"]
    assert "executable file not found" in rows.loc["SKIP", "detail"]
    env_row = _one(df, "pod_has_irsa_env")
    assert env_row.status == "PASS"
    assert evidence(env_row)["app"]["source"] == "spec"
    assert evidence(env_row)["tools"]["source"] == "exec"
    assert not [p for p in inv.documents if p.startswith(f"k8s/exec/shop/{POD}/app/env")]
    calls = [c for c in lv.kube.exec_calls if c[2] == "app"]
    fallback = [["env", "-0"], ["env"], ["id"]]
    assert [c[3] for c in calls] == [list(PROBE_COMMAND), *fallback]  # then the fallback


def test_multi_line_values_fake_no_variable_through_the_probe_or_the_no_shell_fallback(
    exec_live, tmp_path
):
    """A PEM key and a value embedding ``AWS_ACCESS_KEY_ID=AKIA...``/``AWS_REGION=...`` lines:
    through the probe (dash) and through ``env -0`` in a container without sh they stay one
    masked variable each, so no_credentials_override passes; an env without ``-0`` (plain
    ``env``, line-based) keeps no value of a name seen twice."""
    data = base_data()
    other = "cart-7d4b9c-oldenv"
    add_app(data, "shop", "cart", {POD: ["app", "bare"], other: ["old"]})
    image = {**MULTILINE_ENV, "AWS_DEFAULT_REGION": "eu-central-1"}
    boxes = {
        ("shop", POD, "app"): Box(env=image),
        ("shop", POD, "bare"): Box(env=image, shell=False, bare_tools=("env", "id")),
        ("shop", other, "old"): Box(
            env={"DB_URL": MULTILINE_ENV["DB_URL"]},
            shell=False,
            bare_tools=("env", "id"),
            env_nul=False,
        ),
    }
    lv, _ = exec_live(data, boxes)
    inv = irsa_nb.collect(lv.cluster, progress=False, exec={"service_account": "cart"})
    df = irsa_nb.run_checks(inv, namespace="shop", service_account="cart")
    calls = {c[2]: c[3] for c in lv.kube.exec_calls if c[2] != "app"}
    assert calls == {"bare": ["id"], "old": ["id"]}  # the last of each
    assert [c[3] for c in lv.kube.exec_calls if c[2] == "bare"][1:] == [["env", "-0"], ["id"]]
    assert [c[3] for c in lv.kube.exec_calls if c[2] == "old"][1:] == [
        ["env", "-0"], ["env"], ["id"],
    ]  # fmt: skip
    for c in ("app", "bare"):
        f = inv.exec_facts[("shop", POD, c)]
        assert f.status == ("ok" if c == "app" else "no_shell")
        assert f.env["TLS_KEY"] == f.env["DB_URL"] == f.env["AWS_ROLE_SESSION_NAME"] == "***"
        assert f.env["AWS_REGION"] == "us-west-2" and f.env["AWS_DEFAULT_REGION"] == "us-west-2"
        assert f.env["AWS_ROLE_ARN"].startswith("arn:aws:iam::")
        assert not {"AWS_ACCESS_KEY_ID", "PASSWORD", "SecretTailAbc123"} & set(f.env), f.env
    row = _one(df, "no_credentials_override", pod=POD)
    assert row.status == "PASS", row.detail  # no fake AWS_ACCESS_KEY_ID from inside DB_URL
    old = inv.exec_facts[("shop", other, "old")]
    assert old.status == "no_shell" and old.env["AWS_REGION"] == "***"  # seen twice
    assert old.env["DB_URL"] == "***" and old.env["AWS_ROLE_ARN"].startswith("arn:aws:iam::")
    write_documents(inv.documents, tmp_path / "b")
    written = texts(tmp_path / "b" / "k8s" / "exec")
    assert not any(x in written for x in MULTILINE_FRAGMENTS)
    assert "SecretTailAbc123" not in texts(tmp_path / "b" / "k8s" / "exec" / "shop" / POD)
    assert not any(x in df.to_json() for x in MULTILINE_FRAGMENTS)


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("-inf"), float("nan"), True, "30"])
def test_the_exec_timeout_must_be_a_finite_positive_number(bad):
    from irsa_nb.live import exec as live_exec
    from irsa_nb.live.collect import collect_documents

    with pytest.raises(ValueError, match="finite positive number of seconds"):
        live_exec.probe_container(None, "shop", POD, "app", timeout=bad)
    with pytest.raises(ValueError, match="finite positive number of seconds"):
        live_exec.collect_exec(None, {}, {}, ExecTarget(all=True), timeout=bad)
    with pytest.raises(ValueError, match="finite positive number of seconds"):
        live_exec.run_command(None, "shop", POD, "app", ["id"], timeout=bad)
    with pytest.raises(ValueError, match="finite positive number of seconds"):
        collect_documents("prod", exec=True, exec_timeout=bad)
    assert live_exec.check_timeout(0.5) == 0.5


def test_a_hanging_exec_is_cut_off_and_the_rest_is_collected(exec_live):
    data = base_data()
    _app(data, [k8s.container("app"), k8s.container("sidecar")])
    lv, _ = exec_live(data, {("shop", POD, "app"): Box(hang=True)})
    inv, df = _checks(lv, exec_timeout=2)
    rows = df[df.check_id == "in_pod_evidence"].set_index("status")
    assert set(rows.index) == {"ERROR", "PASS"}
    assert "cut off after 2 s" in rows.loc["ERROR", "detail"]
    assert "--exec-timeout" in rows.loc["ERROR", "remediation"]
    assert rows.loc["PASS", "detail"].startswith("Read inside sidecar")
    assert not isinstance(inv.documents["k8s/pods.json"], CallFailed)
    assert _one(df, "role_exists").status == "PASS"


def test_forbidden_exec_is_an_error_row_naming_the_permission(exec_live):
    data = base_data()
    _app(data)
    lv, _ = exec_live(data, forbidden={("create", "pods/exec")})
    _, df = _checks(lv)
    row = _one(df, "in_pod_evidence")
    assert row.status == "ERROR" and "Forbidden" in row.detail and "pods/exec" in row.detail
    assert "kubectl auth can-i create pods/exec -n shop" in row.remediation
    assert _one(df, "pod_has_irsa_env").status == "PASS"  # from the spec


def test_bundle_round_trip_gives_the_same_results(exec_live, tmp_path):
    data = base_data()
    _app(data, [k8s.container("app"), k8s.container("side")])
    boxes = {
        ("shop", POD, "app"): Box(python={"boto3": "1.9.100"}, env={"AWS_PROFILE": "ops"}),
        ("shop", POD, "side"): Box(shell=False),
    }
    lv, _ = exec_live(data, boxes)
    inv = irsa_nb.collect(lv.cluster, progress=False, exec=True)
    live_df = irsa_nb.run_checks(inv)
    assert (live_df.check_id == "in_pod_evidence").sum() >= 2
    for out in (tmp_path / "dir", tmp_path / "b.tar.gz", tmp_path / "b.zip"):
        write_documents(inv.documents, out)
        pd.testing.assert_frame_equal(irsa_nb.run_checks(irsa_nb.load_bundle(out)), live_df)
    assert read_documents(tmp_path / "b.zip") == read_documents(tmp_path / "dir")
    loaded = irsa_nb.load_bundle(tmp_path / "dir")
    assert loaded.exec_facts == inv.exec_facts


def test_only_fixed_commands_are_sent_and_only_irsa_pods_are_entered(exec_live):
    data = base_data()
    _app(data)
    lv, _ = exec_live(data, {("shop", POD, "app"): Box(shell=False)})
    irsa_nb.collect(lv.cluster, progress=False, exec="all")
    allowed = [list(PROBE_COMMAND), *(list(argv) for _, argv in FALLBACK_COMMANDS)]
    assert lv.kube.exec_calls and all(c[3] in allowed for c in lv.kube.exec_calls)
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in data["pods"]}
    for ns, pod, container, _ in lv.kube.exec_calls:
        spec = pods[(ns, pod)]
        assert spec["status"]["phase"] == "Running"
        assert any(v.get("name") == "aws-iam-token" for v in spec["spec"].get("volumes", []))
        assert container in {c["name"] for c in spec["spec"]["containers"]}
    ops = {(v, r) for v, r, _ in lv.kube.api_calls()}
    assert {r.method for r in lv.kube.requests} == {"GET"}  # websocket upgrades are GETs
    assert {v for v, r in ops if r != "pods/exec"} <= {"get", "list"}
    assert ("create", "pods/exec") in ops


def test_targets_pick_the_pods(exec_live):
    data = base_data()
    add_app(data, "shop", "cart", {POD: ["app"], "cart-7d4b9c-aaaaa": ["app"]})
    data["pods"][-1]["status"]["phase"] = "Pending"
    lv, _ = exec_live(data)
    inv = irsa_nb.collect(lv.cluster, progress=False, exec=TARGET)
    assert {c[1] for c in lv.kube.exec_calls} == {POD}
    lv.kube.reset_records()
    inv = irsa_nb.collect(lv.cluster, progress=False, exec=ExecTarget(service_account="cart"))
    assert {c[1] for c in lv.kube.exec_calls} == {POD}  # the pending pod is reported, not entered
    df = irsa_nb.run_checks(inv, namespace="shop", service_account="cart")
    pending = _one(df, "in_pod_evidence", pod="cart-7d4b9c-aaaaa")
    assert pending.status == "SKIP" and "pod phase is Pending" in pending.detail
    with pytest.raises(ValueError, match="exec must be"):
        irsa_nb.collect(lv.cluster, progress=False, exec=42)


def test_cli_check_and_collect_with_exec(exec_live, tmp_path, capsys):
    data = base_data()
    _app(data)
    lv, _ = exec_live(data, {("shop", POD, "app"): Box(python={"boto3": "1.9.100"})})
    code = main(["check", "--cluster", lv.cluster, "-n", "shop", "-p", POD, "--exec", "--all"])
    out = capsys.readouterr().out
    assert code == 1  # boto3 1.9.100 is too old
    assert "in_pod_evidence" in out and "found inside" in out
    out_dir = str(tmp_path / "b")
    assert main(["collect", "--cluster", lv.cluster, "--exec", "--out", out_dir, "-q"]) == 0
    assert (tmp_path / "b" / "k8s" / "exec" / "shop" / POD / "app" / "token-claims.json").exists()
    capsys.readouterr()
    assert main(["check", "--bundle", "demo", "--exec"]) == 2
    assert "--exec needs a live cluster" in capsys.readouterr().err
    assert main(["check", "--cluster", lv.cluster, "--exec-timeout", "3"]) == 2
    assert "--exec-timeout needs --exec" in capsys.readouterr().err


def test_a_foreign_token_that_only_an_ip_bound_statement_admits_is_a_warning(exec_live):
    """IAM User Guide, "AWS global condition context keys", aws:SourceIp: "This key is included
    in the request context, except when the requester uses a VPC endpoint"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
    the token read in the pod is admitted only by a statement bound to a source range no
    evidence shows, so the row is a WARN naming aws:SourceIp, not a FAIL."""
    data = base_data()
    arn = add_app(data, "shop", "cart", {"cart-7d4b9c-zz9yy": ["app"]})
    doc = data["roles"][arn.rsplit("/", 1)[1]]["get_role"]["Role"]["AssumeRolePolicyDocument"]
    legacy = copy.deepcopy(doc["Statement"][0])
    for key in legacy["Condition"]["StringEquals"]:
        if key.endswith(":sub"):
            legacy["Condition"]["StringEquals"][key] = "system:serviceaccount:shop:legacy"
    legacy["Condition"]["IpAddress"] = {"aws:SourceIp": "10.0.0.0/8"}
    doc["Statement"].append(legacy)
    boxes = {
        ("shop", "cart-7d4b9c-zz9yy", "app"): Box(
            claims={"sub": "system:serviceaccount:shop:legacy"}
        )
    }
    lv, _ = exec_live(data, boxes)
    inv = irsa_nb.collect(lv.cluster, progress=False, exec={"service_account": "cart"})
    df = irsa_nb.run_checks(inv, namespace="shop", service_account="cart")
    trust = df[df.check_id == "trust_policy_allows_service_account"]
    assert list(trust.status) == ["PASS", "WARN"]
    warn = trust.iloc[1]
    assert "cannot be decided from the evidence" in warn.detail and "aws:SourceIp" in warn.detail
