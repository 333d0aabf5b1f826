"""IAM roles in bulk (get-account-authorization-details) against moto behind a proxy: the same
results as per-role reads, per-role fallback on AccessDenied and for roles it does not hold."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import irsa_nb
from irsa_nb import bundle
from irsa_nb.bundle import CallFailed, write_documents
from irsa_nb.k8s import ROLE_ARN_ANNOTATION
from irsa_nb.live import aws as live_aws
from tests.live.conftest import small_data

pytestmark = pytest.mark.slow

BULK = "GetAccountAuthorizationDetails"


@pytest.fixture
def world(live, throttle_proxy):
    data = small_data(n_service_accounts=60, n_pods=150, n_roles=24)
    ns = data["service_accounts"][0]["metadata"]["namespace"]
    for name, arn in (  # a deleted role and a role of another account: neither is listed
        ("ghost", f"arn:aws:iam::{data['account']}:role/irsa-ghost"),
        ("elsewhere", "arn:aws:iam::444455556666:role/irsa-elsewhere"),
    ):
        meta = {"name": name, "namespace": ns, "annotations": {ROLE_ARN_ANNOTATION: arn}}
        data["service_accounts"].append(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
        )
    lv = live(data)
    proxy = throttle_proxy()
    lv.aws.use_endpoint(proxy.url)
    return lv, proxy


def _collect(lv, proxy, monkeypatch, bulk_min: int):
    monkeypatch.setattr(live_aws, "BULK_MIN_ROLES", bulk_min)
    proxy.calls.clear()
    inv = irsa_nb.collect(lv.cluster, progress=False)
    return inv, list(proxy.operations)


def test_bulk_and_per_role_collections_check_identically(world, monkeypatch, tmp_path):
    lv, proxy = world
    per_role, ops_per_role = _collect(lv, proxy, monkeypatch, 10_000)
    bulk, ops_bulk = _collect(lv, proxy, monkeypatch, 1)
    names = per_role.role_names()
    assert bulk.role_names() == names and len(names) >= 16
    assert BULK not in ops_per_role and ops_per_role.count("GetRole") == len(names)
    assert ops_bulk.count(BULK) == 1
    missing = {  # deleted roles, not in the account: read per role, as NoSuchEntity
        n
        for n in names
        if isinstance(per_role.documents[bundle.role_path("get-role", n)], CallFailed)
    }
    assert missing == {"irsa-ghost", "irsa-elsewhere"}
    assert ops_bulk.count("GetRole") == len(missing)
    doc = bulk.documents[bundle.AUTHORIZATION_DETAILS]
    assert {r["RoleName"] for r in doc["RoleDetailList"]} == names - missing
    for name in missing:  # the CLI's NoSuchEntity answer, as per role
        got = bulk.documents[bundle.role_path("get-role", name)]
        assert isinstance(got, CallFailed) and got.not_found
    want = irsa_nb.run_checks(per_role)
    pd.testing.assert_frame_equal(irsa_nb.run_checks(bulk), want)
    out = write_documents(bulk.documents, tmp_path / "bulk")
    assert (out / bundle.AUTHORIZATION_DETAILS).is_file()
    pd.testing.assert_frame_equal(irsa_nb.run_checks(irsa_nb.load_bundle(out)), want)
    assert bulk.iam_roles_read() == "bulk" and per_role.iam_roles_read() == "per role"


def test_access_denied_falls_back_to_per_role_reads_and_is_an_info_fact(
    world, monkeypatch, tmp_path
):
    lv, proxy = world
    per_role, _ = _collect(lv, proxy, monkeypatch, 10_000)
    proxy.add(BULK, "access_denied")
    denied, ops = _collect(lv, proxy, monkeypatch, 1)
    assert ops.count(BULK) == 1 and ops.count("GetRole") == len(per_role.role_names())
    pd.testing.assert_frame_equal(irsa_nb.run_checks(denied), irsa_nb.run_checks(per_role))
    fact = denied.iam_roles_read()
    assert fact.startswith("per role (") and "AccessDenied" in fact
    out = write_documents(denied.documents, tmp_path / "denied")
    assert (out / "aws/iam/get-account-authorization-details.error.txt").is_file()
    assert irsa_nb.load_bundle(out).iam_roles_read() == fact


def test_a_handful_of_roles_is_read_per_role(world, monkeypatch):
    lv, proxy = world
    inv, ops = _collect(lv, proxy, monkeypatch, live_aws.BULK_MIN_ROLES)
    n = len(inv.role_names())
    assert (BULK in ops) == (n >= live_aws.BULK_MIN_ROLES)


TOOLS = pytest.mark.skipif(
    not (shutil.which("kubectl") and shutil.which("aws")), reason="needs kubectl and aws"
)


def _script(lv, proxy, tmp_path, case):
    from tests.live.conftest import run_collect_script

    proxy.calls.clear()
    (tmp_path / case).mkdir()
    proc = run_collect_script(lv, tmp_path / case / "bundle")
    assert proc.returncode == 0, proc.stderr
    return irsa_nb.load_bundle(tmp_path / case / "bundle.tar.gz"), list(proxy.operations), proc


@TOOLS
def test_the_collect_script_reads_in_bulk(world, monkeypatch, tmp_path):
    from tests.live.test_script import _frames_equal

    lv, proxy = world
    per_role, _ = _collect(lv, proxy, monkeypatch, 10_000)
    monkeypatch.setattr(live_aws, "BULK_MIN_ROLES", 1)
    inv, ops, _ = _script(lv, proxy, tmp_path, "bulk")
    assert ops.count(BULK) == 1
    assert ops.count("GetRole") == 2  # irsa-ghost, irsa-elsewhere
    _frames_equal(irsa_nb.run_checks(inv), irsa_nb.run_checks(per_role))
    assert inv.role_names() == per_role.role_names() and inv.iam_roles_read() == "bulk"


@TOOLS
def test_the_collect_script_falls_back_on_access_denied(
    live, throttle_proxy, monkeypatch, tmp_path
):
    from tests.live.test_script import _frames_equal

    lv = live(small_data(n_service_accounts=8, n_pods=12, n_roles=3, n_namespaces=2))
    proxy = throttle_proxy()
    lv.aws.use_endpoint(proxy.url)
    per_role, _ = _collect(lv, proxy, monkeypatch, 10_000)
    monkeypatch.setattr(live_aws, "BULK_MIN_ROLES", 1)
    proxy.add(BULK, "access_denied")
    inv, ops, proc = _script(lv, proxy, tmp_path, "denied")
    assert ops.count(BULK) == 1 and ops.count("GetRole") == len(per_role.role_names()) > 0
    _frames_equal(irsa_nb.run_checks(inv), irsa_nb.run_checks(per_role))
    assert "AccessDenied" in inv.iam_roles_read()
    assert "reading roles one by one" in proc.stderr
