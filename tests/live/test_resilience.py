"""Pagination, RBAC fallback, expired continue tokens, retries and failures that stay local."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import irsa_nb
from irsa_nb import bundle
from irsa_nb.bundle import CallFailed, write_documents
from irsa_nb.live import aws as live_aws
from irsa_nb.live import kube as live_kube
from tests.live.conftest import small_data

pytestmark = pytest.mark.slow


def _lists(kube, resource: str) -> list:
    return [r for r in kube.requests if r.path.endswith("/" + resource)]


def test_lists_page_with_limit_and_continue(live):
    lv = live(small_data(n_pods=1100))
    inv = irsa_nb.collect(lv.cluster, progress=False)
    pod_lists = _lists(lv.kube, "pods")
    assert len(pod_lists) == 3  # 500 + 500 + 100: one request per page
    assert all(r.query["limit"] == ["500"] for r in pod_lists)
    assert "continue" not in pod_lists[0].query
    assert all(r.query.get("continue") for r in pod_lists[1:])
    assert len(_lists(lv.kube, "serviceaccounts")) == 1
    names = [(p.namespace, p.name) for p in inv.pods]
    assert len(names) == len(set(names)) == 1100


def test_expired_continue_token_restarts_the_list(live):
    lv = live(small_data(n_pods=1100), expire_continue_once=True)
    inv = irsa_nb.collect(lv.cluster, progress=False)
    pod_lists = _lists(lv.kube, "pods")
    # page 1, page 2 -> 410 Gone, then page 1, 2, 3 again
    assert [bool(r.query.get("continue")) for r in pod_lists] == [False, True, False, True, True]
    names = [(p.namespace, p.name) for p in inv.pods]
    assert len(names) == len(set(names)) == 1100


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_throttling_are_retried(live, quiet_kube_retries, status):
    lv = live(fail_times={"pods": 2}, fail_status=status)
    inv = irsa_nb.collect(lv.cluster, progress=False)
    assert len(inv.pods) == len(lv.data["pods"])
    assert len(_lists(lv.kube, "pods")) == 3  # two failures, then the one page
    assert len(quiet_kube_retries) == 2
    if status in (503, 429):  # Retry-After: 1 is honoured
        assert all(s >= 1 for s in quiet_kube_retries)


def test_a_list_failing_past_the_retry_budget_is_an_error_row_and_the_rest_is_kept(
    live, quiet_kube_retries
):
    lv = live(fail_times={"pods": 50}, fail_status=503)
    inv = irsa_nb.collect(lv.cluster, progress=False)
    failed = inv.documents[bundle.PODS]
    assert isinstance(failed, CallFailed)
    assert failed.message.startswith("Error from server (")
    assert len(_lists(lv.kube, "pods")) == live_kube.MAX_ATTEMPTS
    assert len(inv.service_accounts) == len(lv.data["service_accounts"])
    df = irsa_nb.run_checks(inv)
    pod_rows = df[df.check_id == "pod_uses_service_account"]
    assert list(pod_rows.status) == ["ERROR"]
    assert "could not be read" in pod_rows.iloc[0].detail
    assert (df[df.check_id == "role_exists"].status == "PASS").sum() > 0


def test_forbidden_cluster_wide_lists_fall_back_to_namespaces(live, tmp_path):
    lv = live()
    full = irsa_nb.run_checks(irsa_nb.collect(lv.cluster, progress=False))
    lv.kube.forbidden_cluster_wide = {"pods", "serviceaccounts"}
    lv.kube.forbidden_namespaces = {"team-orders"}
    lv.kube.reset_records()
    inv = irsa_nb.collect(lv.cluster, progress=False)

    calls = lv.kube.api_calls()
    assert ("list", "namespaces", None) in calls
    assert ("list", "pods", "team-payments") in calls
    for kind in ("serviceaccounts", "pods"):
        doc = inv.documents[f"k8s/namespaces/team-orders/{kind}.json"]
        assert isinstance(doc, CallFailed) and "Forbidden" in doc.message
    assert "team-orders" in inv.namespace_errors

    df = irsa_nb.run_checks(inv)
    err = df[df.check_id == "namespaces_readable"]
    assert list(err.status) == ["ERROR"] and list(err.namespace) == ["team-orders"]
    assert "service accounts and pods" in err.iloc[0].detail

    def others(frame: pd.DataFrame) -> pd.DataFrame:
        keep = (frame.namespace != "team-orders") & (frame.check_id != "namespaces_readable")
        return frame[keep].reset_index(drop=True)

    pd.testing.assert_frame_equal(others(df), others(full))
    assert "team-orders" in set(full.namespace)
    # the bundle written from it (namespaces/team-orders/*.error.txt) checks the same
    for out in (tmp_path / "dir", tmp_path / "b.tar.gz"):
        write_documents(inv.documents, out)
        pd.testing.assert_frame_equal(irsa_nb.run_checks(irsa_nb.load_bundle(out)), df)
    assert (tmp_path / "dir/k8s/namespaces/team-orders/pods.error.txt").exists()


def test_namespaces_come_from_service_accounts_when_namespaces_cannot_be_listed(live):
    lv = live(forbidden_cluster_wide={"pods"}, forbidden={("list", "namespaces")})
    inv = irsa_nb.collect(lv.cluster, progress=False)
    assert len(inv.pods) == len(lv.data["pods"])
    spaces = {p["metadata"]["namespace"] for p in lv.data["pods"]}
    assert {ns for _, _, ns in lv.kube.api_calls() if ns} >= spaces
    assert not inv.namespace_errors


def test_service_accounts_listed_after_the_pods_still_get_their_roles(live):
    lv = live()
    full = irsa_nb.run_checks(irsa_nb.collect(lv.cluster, progress=False))
    # service accounts: cluster-wide forbidden, namespaces unknown until the pods are listed
    lv.kube.forbidden_cluster_wide = {"serviceaccounts"}
    lv.kube.forbidden = {("list", "namespaces")}
    inv = irsa_nb.collect(lv.cluster, progress=False)

    assert len(inv.service_accounts) == len(lv.data["service_accounts"])
    roles = {sa.role_arn.rsplit("/", 1)[1] for sa in inv.service_accounts.values() if sa.role_arn}
    assert roles and all(bundle.role_path("get-role", r) in inv.documents for r in roles)
    pd.testing.assert_frame_equal(irsa_nb.run_checks(inv), full)


def test_unreadable_service_accounts_give_error_not_fail_for_their_pods(live):
    lv = live(forbidden_cluster_wide={"serviceaccounts"}, forbidden_namespaces={"team-orders"})
    inv = irsa_nb.collect(lv.cluster, progress=False)
    assert any(p.namespace == "team-orders" for p in inv.pods)  # pods are listed cluster-wide
    df = irsa_nb.run_checks(inv)
    rows = df[
        (df.namespace == "team-orders")
        & df.check_id.isin(["service_account_exists", "pod_uses_service_account"])
    ]
    assert len(rows) and set(rows.status) == {"ERROR"}


@pytest.mark.parametrize("workers", [1, 4])
def test_aws_calls_overlap_up_to_the_pool_size(live, throttle_proxy, workers):
    lv = live()
    proxy = throttle_proxy(latency_seconds=0.05)  # as a distant endpoint
    lv.aws.use_endpoint(proxy.url)
    inv = irsa_nb.collect(lv.cluster, progress=False, max_workers=workers)
    assert proxy.operations.count("GetRole") == len(inv.role_names()) >= 2 * workers
    assert proxy.max_in_flight == workers


def test_aws_throttling_past_the_retry_budget_is_one_error_row(live, throttle_proxy, fast_retries):
    lv = live()
    proxy = throttle_proxy(
        {"GetRole": live_aws.DEFAULT_MAX_ATTEMPTS, "ListRolePolicies": ["500", "503"]}
    )
    lv.aws.use_endpoint(proxy.url)
    inv = irsa_nb.collect(lv.cluster, progress=False, max_workers=1)

    failed = {p: d for p, d in inv.documents.items() if isinstance(d, CallFailed)}
    throttled = [p for p, d in failed.items() if "Throttling" in d.message]
    assert len(throttled) == 1 and throttled[0].startswith("aws/iam/get-role/")
    assert "reached max retries" in failed[throttled[0]].message
    role = throttled[0].rsplit("/", 1)[-1].removesuffix(".json")
    assert (
        proxy.operations.count("GetRole")
        == live_aws.DEFAULT_MAX_ATTEMPTS + len(inv.role_names()) - 1
    )
    # 500 and 503 on ListRolePolicies were retried away
    assert not any("ListRolePolicies" in d.message for d in failed.values())

    df = irsa_nb.run_checks(inv)
    rows = df[(df.check_id == "role_exists") & df.role_arn.str.endswith("/" + role)]
    assert len(rows) and set(rows.status) == {"ERROR"}
    others = df[(df.check_id == "role_exists") & ~df.role_arn.str.endswith("/" + role)]
    assert (others.status == "PASS").sum() >= len(inv.role_names()) - 4
    assert len(inv.pods) == len(lv.data["pods"])


def test_aws_max_attempts_from_the_environment_is_honoured(
    live, throttle_proxy, fast_retries, monkeypatch
):
    lv = live()
    proxy = throttle_proxy({"DescribeCluster": 2})
    lv.aws.use_endpoint(proxy.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    inv = irsa_nb.collect(lv.cluster, progress=False)
    doc = inv.documents[bundle.DESCRIBE_CLUSTER]
    assert isinstance(doc, CallFailed) and "ThrottlingException" in doc.message
    assert proxy.operations.count("DescribeCluster") == 2


def test_retry_configuration_is_standard_unless_the_user_says_otherwise(monkeypatch):
    import boto3

    for k in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    cfg = live_aws.client_config(boto3.Session(region_name="us-west-2"), 4)
    assert cfg.retries == {"mode": "standard", "total_max_attempts": live_aws.DEFAULT_MAX_ATTEMPTS}
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    cfg = live_aws.client_config(boto3.Session(region_name="us-west-2"), 4)
    assert cfg.retries == {"mode": "adaptive"}  # botocore then reads AWS_MAX_ATTEMPTS itself
    assert cfg.max_pool_connections == 4


@pytest.mark.parametrize(
    ("broken", "words"),
    [
        ("repeat-continue", "the same continue token twice while listing pods"),
        ("not-a-list", "answer to a pods list is not a Kubernetes list"),
    ],
)
def test_a_server_whose_pages_do_not_add_up_is_an_error_not_a_hang(live, broken, words):
    lv = live(small_data(n_pods=1100), broken_lists={"pods": broken})
    inv = irsa_nb.collect(lv.cluster, progress=False)
    failed = inv.documents[bundle.PODS]
    assert isinstance(failed, CallFailed) and words in failed.message
    assert len(_lists(lv.kube, "pods")) <= 3  # stopped at once
    assert len(inv.service_accounts) == len(lv.data["service_accounts"])  # the rest is kept
    df = irsa_nb.run_checks(inv)
    assert list(df[df.check_id == "pod_uses_service_account"].status) == ["ERROR"]


def _edit_pages(monkeypatch, resource: str, edit) -> None:
    """Pass every list page of ``resource`` through ``edit(items)`` before the collector."""
    real = live_kube.request

    def edited(api, method, path, query=None, body=None):
        data = real(api, method, path, query, body)
        if not path.endswith("/" + resource):
            return data
        page = json.loads(data)
        page["items"] = edit(page["items"])
        return json.dumps(page).encode()

    monkeypatch.setattr(live_kube, "request", edited)


def test_list_entries_that_are_not_objects_are_skipped_with_a_warning(live, monkeypatch, caplog):
    lv = live()
    _edit_pages(monkeypatch, "pods", lambda items: ["junk", 1, *items])
    inv = irsa_nb.collect(lv.cluster, progress=False)
    assert len(inv.pods) == len(lv.data["pods"])
    assert "2 entries of a pods list page are not objects; skipped" in caplog.text


def test_namespaces_of_odd_shapes_are_skipped_in_the_fallback(live, monkeypatch):
    lv = live(forbidden_cluster_wide={"pods"})
    odd = [{"metadata": "oops"}, {"metadata": {"name": 7}}, {"metadata": {}}]
    _edit_pages(monkeypatch, "namespaces", lambda items: [*items, *odd])
    inv = irsa_nb.collect(lv.cluster, progress=False)
    assert len(inv.pods) == len(lv.data["pods"]) and not inv.namespace_errors


def test_an_interrupt_cancels_the_queued_aws_calls(live, throttle_proxy, monkeypatch):
    lv = live()
    proxy = throttle_proxy(latency_seconds=0.3)
    lv.aws.use_endpoint(proxy.url)
    real = live_kube.ListCollector.collect

    def interrupted(self, kind):
        if kind == "pods":  # the role calls are queued by now
            raise KeyboardInterrupt
        return real(self, kind)

    monkeypatch.setattr(live_kube.ListCollector, "collect", interrupted)
    with pytest.raises(KeyboardInterrupt):
        irsa_nb.collect(lv.cluster, progress=False, max_workers=2)
    roles = {
        s["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        for s in lv.data["service_accounts"]
        if "eks.amazonaws.com/role-arn" in (s["metadata"].get("annotations") or {})
    }
    assert len(roles) > 6 and proxy.operations.count("GetRole") <= 4  # only those in flight


def _with_plugin(kubeconfig: str, context: str, command: str, out: Path) -> str:
    """The kubeconfig with ``context``'s user replaced by the exec plugin ``command``."""
    cfg = yaml.safe_load(Path(kubeconfig).read_text())
    for u in cfg["users"]:
        if u["name"] == context:
            exec_ = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": command}
            u["user"] = {"exec": exec_}
    out.write_text(yaml.safe_dump(cfg))
    return str(out)


def test_a_credential_plugin_that_never_answers_is_stopped_and_said(live, tmp_path, caplog):
    """A login nobody completes: the plugin hangs and leaves a process holding its output."""
    lv = live()
    plugin = tmp_path / "hanging-plugin"
    plugin.write_text("#!/bin/sh\nsleep 5 &\nexec sleep 5\n")
    plugin.chmod(0o755)
    kc = _with_plugin(lv.kubeconfig, "cluster-ctx", str(plugin), tmp_path / "kc")
    reader = live_kube.KubeReader.from_kubeconfig("cluster-ctx", kc, plugin_timeout=0.5)
    failed = reader.version()
    assert isinstance(failed, CallFailed) and "Unauthorized" in failed.message
    assert "hanging-plugin gave no credentials within 0.5 s" in caplog.text
    assert "aws sso login" in caplog.text


def test_a_relative_plugin_command_still_runs_from_the_kubeconfig_folder(live, tmp_path):
    lv = live()
    script = tmp_path / "get-token"
    token = "k8s-aws-v1.relative"
    status = {"token": token, "expirationTimestamp": "2099-01-01T00:00:00Z"}
    answer = {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential"}
    script.write_text(f"#!/bin/sh\necho '{json.dumps({**answer, 'status': status})}'\n")
    script.chmod(0o755)
    kc = _with_plugin(lv.kubeconfig, "cluster-ctx", "./get-token", tmp_path / "kc")
    lv.kube.valid_tokens = {token}
    reader = live_kube.KubeReader.from_kubeconfig("cluster-ctx", kc)
    assert "serverVersion" in reader.version()


def test_an_answer_nested_too_deeply_is_an_error_row_and_the_rest_is_kept(live, monkeypatch):
    lv = live()
    real = live_kube.request
    deep = '{"metadata": {"name": "p"}, "spec": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}"

    def hostile(api, method, path, query=None, body=None):
        data = real(api, method, path, query, body)
        return f'{{"items": [{deep}]}}'.encode() if path.endswith("/pods") else data

    monkeypatch.setattr(live_kube, "request", hostile)
    inv = irsa_nb.collect(lv.cluster, progress=False)
    failed = inv.documents[bundle.PODS]
    assert isinstance(failed, CallFailed) and "nested too deeply" in failed.message
    assert len(inv.service_accounts) == len(lv.data["service_accounts"])
    df = irsa_nb.run_checks(inv, checks=["pod_uses_service_account"])
    assert list(df.status) == ["ERROR"] and "nested too deeply" in df.detail[0]


def test_error_and_status_bodies_nested_too_deeply_do_not_crash():
    from kubernetes.client.exceptions import ApiException

    from irsa_nb.live.exec import _exit_status
    from irsa_nb.live.exec_probe import decode_claims

    deep = "[" * 100_000
    exc = ApiException(status=500, reason="Internal Server Error")
    exc.body = deep
    assert "Internal Server Error" in live_kube.describe_error(exc)
    assert _exit_status(deep.encode()) == (None, deep[:500])
    assert decode_claims(base64.urlsafe_b64encode(deep.encode()).decode()) is None
