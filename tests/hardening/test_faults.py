"""Injected faults on the live path: the collection finishes, the rows the fault touches are
ERROR naming the cause (with a fix that fits it), and every other row equals a clean run's.

What tests/live/test_resilience.py already covers (paging, 410, retried 5xx/429, a list
failing past its retries, 403 fallback, AWS throttling with a weaker comparison) is not
repeated; these are the combinations it leaves out.
"""

from __future__ import annotations

import pandas as pd
import pytest

import irsa_nb
from irsa_nb import bundle
from irsa_nb.bundle import CallFailed
from irsa_nb.live import aws as live_aws
from irsa_nb.live import kube as live_kube

from .helpers import KEY, assert_clean_rows, run_cli

pytestmark = pytest.mark.slow

ROLE_CHECKS = ("role_exists", "role_has_policies", "trust_policy_allows_service_account")
CLUSTER_CHECKS = (
    "oidc_provider_exists",
    "trust_policy_allows_service_account",
    "provider_audience_matches",
    "provider_thumbprint_matches",
    "partition_consistent",
)


def _collect(lv, **kw):
    return irsa_nb.collect(lv.cluster, progress=False, **kw)


def _failures(inv) -> dict[str, str]:
    return {p: d.message for p, d in inv.documents.items() if isinstance(d, CallFailed)}


def _equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


@pytest.fixture
def proxied(live, throttle_proxy, fast_retries):
    """A live cluster whose AWS calls go through a fault-injecting proxy (no faults yet)."""

    def make(**knobs):
        lv = live(**knobs)
        proxy = throttle_proxy()
        lv.aws.use_endpoint(proxy.url)
        return lv, proxy

    return make


def test_faults_at_once_leave_every_other_row_as_a_clean_run(
    proxied, namespace_faults, monkeypatch, tmp_path
):
    """403 on one namespace, a read timeout on another's pod page, ONE role among many
    throttled past the retry budget (only its service accounts' rows change), and 503s and
    connection resets that the retries absorb."""
    lv, proxy = proxied()
    clean = irsa_nb.run_checks(before := _collect(lv, max_workers=1))

    monkeypatch.setattr(live_kube, "REQUEST_TIMEOUT", (5, 0.5))
    namespace_faults.update({("team-payments", "pods"): "timeout", "seconds": 2.0})
    lv.kube.forbidden_cluster_wide = {"pods"}
    lv.kube.forbidden_namespaces = {"team-orders"}
    proxy.add("GetRole", *["throttle"] * live_aws.DEFAULT_MAX_ATTEMPTS)
    proxy.add("ListRolePolicies", "503", "503")
    proxy.add("GetOpenIDConnectProvider", "reset", "500")
    lv.kube.reset_records()
    inv = _collect(lv, max_workers=1)

    assert proxy.pending() == {}  # every planned fault was served
    new = {p: m for p, m in _failures(inv).items() if p not in _failures(before)}
    role_path = next(p for p in new if p.startswith("aws/iam/get-role/"))
    assert set(new) == {
        role_path,
        "k8s/namespaces/team-orders/pods.json",
        "k8s/namespaces/team-payments/pods.json",
    }
    assert "Forbidden" in new["k8s/namespaces/team-orders/pods.json"]
    assert "timed out" in new["k8s/namespaces/team-payments/pods.json"]
    timed_out = [r for r in lv.kube.requests if r.path == "/api/v1/namespaces/team-payments/pods"]
    assert len(timed_out) == live_kube.MAX_ATTEMPTS  # retried, then given up

    df = irsa_nb.run_checks(inv)
    unread = df[df.check_id == "namespaces_readable"].set_index("namespace")
    assert set(unread.index) == {"team-orders", "team-payments"}
    assert set(unread.status) == {"ERROR"}
    assert "kubectl auth can-i list pods -n team-orders" in unread.loc["team-orders", "remediation"]
    assert "collect the namespace again later" in unread.loc["team-payments", "remediation"]

    # the throttled role: only the rows of the service accounts annotated with it change
    role = role_path.rsplit("/", 1)[-1].removesuffix(".json")
    assert "Throttling" in new[role_path] and len(inv.role_names()) > 5
    hit = df.role_arn.str.endswith("/" + role)
    exists = df[hit & (df.check_id == "role_exists")]
    assert len(exists) and set(exists.status) == {"ERROR"}
    assert exists.detail.str.contains("even after retries").all()
    assert exists.remediation.str.contains("collect again later").all()
    assert not (df[hit & df.check_id.isin(ROLE_CHECKS)].status == "PASS").any()

    def others(frame: pd.DataFrame) -> pd.DataFrame:
        keep = (
            ~frame.namespace.isin(["team-orders", "team-payments"])
            & (frame.check_id != "namespaces_readable")
            & ~frame.role_arn.str.endswith("/" + role)
        )
        return frame[keep]

    assert len(others(df)) > 50
    _equal(others(df), others(clean))

    # the bundle keeps each failure, marked as such, and checks the same
    out = bundle.write_documents(inv.documents, tmp_path / "faulty-bundle")
    timeout_txt = out / "k8s/namespaces/team-payments/pods.error.txt"
    assert "timed out" in timeout_txt.read_text()
    assert (out / role_path.replace(".json", ".error.txt")).is_file()
    _equal(irsa_nb.run_checks(irsa_nb.load_bundle(out)), df)


def test_a_namespace_page_reset_past_the_retries_is_one_error_row(live, namespace_faults):
    namespace_faults[("team-orders", "pods")] = "reset"
    lv = live(forbidden_cluster_wide={"pods"})
    inv = _collect(lv)
    doc = inv.documents["k8s/namespaces/team-orders/pods.json"]
    assert isinstance(doc, CallFailed)
    requests = [r for r in lv.kube.requests if r.path == "/api/v1/namespaces/team-orders/pods"]
    assert len(requests) == live_kube.MAX_ATTEMPTS
    df = irsa_nb.run_checks(inv)
    (row,) = df[df.check_id == "namespaces_readable"].itertuples()
    assert (row.status, row.namespace) == ("ERROR", "team-orders")
    assert "collect the namespace again later" in row.remediation
    assert not any(p.namespace == "team-orders" for p in inv.pods)
    assert {p.namespace for p in inv.pods} >= {"team-payments", "default", "kube-system"}


def test_expired_credentials_on_describe_cluster_are_error_rows(proxied):
    lv, proxy = proxied()
    clean = irsa_nb.run_checks(_collect(lv, context="cluster-ctx"))
    proxy.add("DescribeCluster", *["expired_token"] * 20)
    inv = _collect(lv, context="cluster-ctx")
    doc = inv.documents[bundle.DESCRIBE_CLUSTER]
    assert isinstance(doc, CallFailed) and "ExpiredTokenException" in doc.message

    df = irsa_nb.run_checks(inv)
    (oidc,) = df[df.check_id == "oidc_provider_exists"].itertuples()
    assert oidc.status == "ERROR"
    assert "rejected as expired" in oidc.detail and "security token" in oidc.detail
    assert oidc.remediation.startswith("Refresh the credentials")
    assert not (df[df.check_id.isin(CLUSTER_CHECKS)].status == "PASS").any()
    trust = df[df.check_id == "trust_policy_allows_service_account"]
    assert len(trust) and set(trust.status) == {"ERROR"}
    # what does not need the cluster description is as in a clean run (fixes then name
    # ACCOUNT_ID instead of the account, which only the description says)
    same = [
        "service_account_exists",
        "role_exists",
        "role_has_policies",
        "pod_uses_service_account",
    ]
    cols = [*KEY, "detail", "evidence"]
    _equal(df[df.check_id.isin(same)][cols], clean[clean.check_id.isin(same)][cols])

    # the CLI: ERROR rows, and the exit status follows the FAIL rule (0 none, 1 any)
    run = run_cli(
        ["check", "--cluster", lv.cluster, "--context", "cluster-ctx", "--format", "json"],
        env=lv.env(),
    )
    rows = assert_clean_rows(run)
    pd.testing.assert_frame_equal(rows[KEY].astype(str), df[KEY].astype(str))
    assert proxy.operations.count("DescribeCluster") >= 3  # clean, faulty, and the CLI's


def test_an_unreachable_api_server_says_to_fix_access_not_to_retry(live, quiet_kube_retries):
    lv = live()
    lv.kube.stop()  # connection refused
    inv = _collect(lv, context="cluster-ctx")
    df = irsa_nb.run_checks(inv)
    errors = df[df.status == "ERROR"]
    assert len(errors) and all("could not be reached" in d for d in errors.detail)
    assert all(r.startswith("The endpoint could not be reached") for r in errors.remediation)
