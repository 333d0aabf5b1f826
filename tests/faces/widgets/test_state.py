"""ExplorerState: sources, selection, checks, evidence and messages, without widgets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tarfile
from pathlib import Path

import pytest

from irsa_nb import Options, Target
from irsa_nb.checks import REGISTRY
from irsa_nb.live import discover as live
from irsa_nb.pipeline import status_counts
from irsa_nb.widgets import ALL, ExplorerState, Source
from tests.faces.widgets.helpers import EVIL_SA


@pytest.fixture
def demo() -> ExplorerState:
    st = ExplorerState()
    assert st.load(Source.demo())
    return st


def test_demo_load_starts_in_the_namespace_with_most_irsa_service_accounts(demo):
    assert demo.namespace == "shop"
    annotated = sorted(
        name
        for (ns, name), sa in demo.inventory.service_accounts.items()
        if ns == "shop" and sa.role_arn
    )
    assert demo.service_account == annotated[0]  # first service account with a role
    assert demo.pod == ALL
    assert [m.level for m in demo.messages] == ["info"]
    assert "cluster shop-prod (us-west-2)" in demo.messages[0].text


def test_service_accounts_list_annotated_first_with_role_then_missing_then_plain(demo):
    choices = demo.service_account_choices("shop")
    labels = dict((v, k) for k, v in choices)
    values = [v for _, v in choices]
    annotated = [v for v in values if "→" in labels[v]]
    assert values[: len(annotated)] == annotated  # annotated block first
    assert labels["cart"] == "cart → role irsa-cart"
    assert labels["inventory"].startswith("inventory → invalid role ARN arn:aws:iam:::")
    assert labels["order"] == "order (missing, used by 1 pod)"
    assert values.index("order") < values.index("default") < values.index("reports")
    assert labels["reports"] == "reports (no IAM role)"
    assert values[-1] == ALL and labels[ALL] == "(every IRSA service account in shop)"


def test_pod_choices_follow_the_service_account(demo):
    demo.select_service_account("cart")
    assert demo.pod_choices() == [
        ("(every pod of cart)", ALL),
        ("cart-5f6d8b7c9-q4w8e (Running)", "cart-5f6d8b7c9-q4w8e"),
    ]
    demo.select_service_account(ALL)
    names = [v for _, v in demo.pod_choices()]
    in_shop = sorted(p.name for p in demo.inventory.pods if p.namespace == "shop")
    assert names == [ALL, *in_shop] and "frontend-7f6e5d4c3-t7y8u" in names
    demo.select_namespace("kube-system")
    assert demo.service_account == "aws-node" and demo.pod == ALL


def test_run_reports_the_trust_policy_failure_with_progress_per_check(demo):
    demo.select_service_account("cart")
    seen = []
    df = demo.run(progress=lambda done, total, cid: seen.append((done, total, cid)))
    assert df.loc[df.status == "FAIL", "check_id"].tolist() == [
        "trust_policy_allows_service_account"
    ]
    total = len(REGISTRY)
    assert [s[0] for s in seen] == list(range(total + 1))
    assert {s[1] for s in seen} == {total}
    assert seen[-1][2] == "" and {s[2] for s in seen[:-1]} == set(REGISTRY)
    assert demo.results_for == "service account shop/cart"
    assert status_counts(df)["FAIL"] == 1
    assert {s for s, n in status_counts(df).items() if n} == set(df.status)
    assert demo.errors == []


def test_run_matches_run_checks_for_the_same_target(demo):
    import irsa_nb

    demo.select_service_account("payments")
    mine = demo.run()
    theirs = irsa_nb.run_checks(demo.inventory, "shop", "payments")
    key = ["check_id", "status", "namespace", "service_account", "pod", "detail"]
    assert sorted(map(tuple, mine[key].values)) == sorted(map(tuple, theirs[key].values))


def test_run_for_a_pod(demo):
    demo.select_service_account(ALL)
    demo.select_pod("orders-api-7b6c5d4f3-h8j9k")
    df = demo.run()
    assert demo.results_for == "pod shop/orders-api-7b6c5d4f3-h8j9k"
    assert "service_account_exists" in set(df.loc[df.status == "FAIL", "check_id"])


def test_sdk_version_too_old_fails_and_half_given_sdk_is_an_error(demo):
    demo.select_service_account("checkout")
    demo.sdk_name, demo.sdk_version = "boto3", "1.9.100"
    df = demo.run()
    assert df.loc[df.check_id == "sdk_version_supported", "status"].tolist() == ["FAIL"]
    demo.sdk_name, demo.sdk_version = "", "1.2.3"
    assert demo.run() is None and demo.results is None
    assert demo.errors == [
        "Cannot check service account shop/checkout: choose which SDK version 1.2.3 belongs to"
    ]
    demo.sdk_name, demo.sdk_version = "boto3", "latest"
    assert demo.run() is None
    assert "cannot read SDK version 'latest'" in demo.errors[0]


def test_sdk_choices_cover_every_minimum():
    from irsa_nb.sdks import SDK_MINIMUMS

    choices = ExplorerState.sdk_choices()
    assert choices[0] == ("(not given)", "")
    assert [v for _, v in choices[1:]] == list(SDK_MINIMUMS)
    assert ("JavaScript SDK v2 / JavaScript SDK v3 (node)", "node") in choices


def test_a_crashing_check_is_reported_and_the_others_still_run(demo, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    chk = REGISTRY["role_exists"]
    monkeypatch.setitem(REGISTRY, "role_exists", dataclasses.replace(chk, func=boom))
    demo.select_service_account("cart")
    df = demo.run()
    assert demo.errors == []
    crashed = df[df.check_id == "role_exists"]
    assert crashed.status.tolist() == ["ERROR"]
    assert "RuntimeError: boom" in crashed.detail.iloc[0]
    assert "trust_policy_allows_service_account" in set(df.check_id)


def test_missing_bundle_is_a_message_and_unloads(demo, tmp_path):
    assert not demo.load(Source.from_path(tmp_path / "nope"))
    assert demo.inventory is None and demo.namespace is None and demo.results is None
    assert len(demo.errors) == 1
    assert demo.errors[0].startswith(f"Could not load bundle {tmp_path / 'nope'}: ")
    assert demo.namespaces() == [] and demo.service_account_choices() == []
    assert demo.run() is None
    assert demo.errors == ["Load a source first (a demo, a bundle or a live cluster)."]


def test_unsafe_archive_is_a_message(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    src = tmp_path / "x.txt"
    src.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(src, arcname="../../escape.txt")
    st = ExplorerState()
    assert not st.load(Source.from_path(evil))
    assert st.errors and st.errors[0].startswith(f"Could not load bundle {evil}: ")
    assert not (tmp_path.parent.parent / "escape.txt").exists()


def test_empty_inputs_say_what_to_do():
    st = ExplorerState()
    assert not st.load(Source.from_path("  "))
    assert st.errors == [
        "Could not load bundle : type the path of a bundle directory, .tar.gz or .zip"
    ]
    assert not st.load(Source.live(""))
    assert st.errors == ["Could not load live cluster: choose or type an EKS cluster name"]


def test_hostile_names_are_kept_verbatim_in_choices(hostile_bundle):
    st = ExplorerState()
    assert st.load(Source.from_path(hostile_bundle))
    values = [v for _, v in st.service_account_choices("shop")]
    assert EVIL_SA in values
    st.select_service_account(EVIL_SA)
    df = st.run()
    assert "service_account_role_annotation" in set(df.loc[df.status == "FAIL", "check_id"])


def test_live_source_failure_is_a_message(aws_env, no_kubeconfig):
    st = ExplorerState()
    assert not st.load(Source.live("no-such-cluster", region="us-west-2", context="nope"))
    assert st.inventory is None
    assert len(st.errors) == 1
    assert st.errors[0].startswith("Could not load live cluster no-such-cluster (us-west-2): ")


def test_list_clusters_from_eks(aws_env):
    eks = aws_env.client("eks")
    for name in ("shop-prod", "analytics"):
        eks.create_cluster(
            name=name,
            roleArn="arn:aws:iam::123456789012:role/eks",
            resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        )
    st = ExplorerState()
    assert st.list_clusters("us-west-2") == ["analytics", "shop-prod"]
    assert st.messages == []
    assert st.list_clusters("eu-west-1") == []
    assert [m.text for m in st.messages] == ["No EKS clusters in eu-west-1."]


def test_list_clusters_errors_are_messages(aws_env, monkeypatch, tmp_path):
    st = ExplorerState()
    assert st.list_clusters("") == [] and st.errors == ["Choose a region to list its EKS clusters."]

    assert st.list_clusters("us-west-2", profile="nobody") == []
    assert st.errors[0].startswith("eks list-clusters in us-west-2 (profile nobody) failed: ")
    assert "nobody" in st.errors[0]

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert st.list_clusters("us-west-2") == []
    assert st.errors[0].startswith("eks list-clusters in us-west-2: no AWS credentials found; ")

    aws_env.use_credentials(("testing", "testing"))
    aws_env.use_endpoint("http://127.0.0.1:9")  # nothing listens on the discard port
    assert st.list_clusters("us-west-2") == []
    assert st.errors[0].startswith("eks list-clusters in us-west-2 failed: Could not connect")


def test_kube_contexts_from_kubeconfig(kubeconfig):
    st = ExplorerState()
    contexts = st.refresh_kube_contexts()
    assert [c.name for c in contexts] == [
        "arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod",
        "kind-dev",
    ]
    assert live.eks_cluster(contexts[0]) == ("shop-prod", "eu-west-1")
    assert live.eks_cluster(contexts[1]) is None
    assert st.kube_context == contexts[0].name and st.messages == []


def test_no_kubeconfig_is_a_warning(no_kubeconfig):
    st = ExplorerState()
    assert st.refresh_kube_contexts() == []
    assert [m.level for m in st.messages] == ["warning"]
    assert st.messages[0].text.startswith(f"No usable kubeconfig at {no_kubeconfig} ")
    assert "the demo and bundles work without" in st.messages[0].text


def test_runbook_request_for_bundle_and_live(demo):
    demo.select_service_account("cart")
    demo.select_pod("cart-5f6d8b7c9-q4w8e")
    demo.sdk_name, demo.sdk_version = "boto3", "1.34.0"
    demo.error_text = "  AccessDenied  "
    source, target, options = demo.runbook_request()
    assert source == Source(bundle="demo")
    assert target == Target("shop", "cart", "cart-5f6d8b7c9-q4w8e")
    assert options == Options(
        sdk={"boto3": "1.34.0"}, lang="en", redact=True, error_message="AccessDenied"
    )
    demo.source = Source.live("shop-prod", "us-west-2", "prod", "ctx")
    source, _, _ = demo.runbook_request()
    assert source == Source(cluster="shop-prod", region="us-west-2", profile="prod", context="ctx")
    assert source.bundle is None and source.is_live


def test_evidence_folder_name_is_safe_for_hostile_targets(demo):
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    demo.select_service_account("cart")
    assert demo.evidence_folder_name(now) == "shop-cart-20260102T030405Z"
    demo.service_account = "../../x y/<z>"
    name = demo.evidence_folder_name(now)
    assert "/" not in name and ".." not in name and " " not in name
    demo.service_account = ALL
    assert demo.evidence_folder_name(now) == "shop-all-20260102T030405Z"


def test_evidence_href_is_relative_to_the_notebook_folder(demo, tmp_path):
    html = tmp_path / "evidence" / "shop-cart-1" / "runbook.html"
    html.parent.mkdir(parents=True)
    html.write_text("<html></html>")

    @dataclasses.dataclass
    class Saved:
        html: Path
        html_full: Path

    demo.evidence = Saved(html, tmp_path / "missing.html")
    assert demo.evidence_href(tmp_path) == "evidence/shop-cart-1/runbook.html"
    assert demo.evidence_href(tmp_path / "evidence") == "shop-cart-1/runbook.html"
    assert demo.evidence_href(tmp_path, "html_full") is None  # no file, no link


def test_save_evidence_without_a_source_is_a_message():
    st = ExplorerState()
    assert st.save_evidence() is None
    assert st.errors == ["Load a source first; evidence is saved for the loaded selection."]


def test_explain_needs_text():
    st = ExplorerState()
    assert st.explain("   ") is None
    assert st.errors == ["Paste an error message first (e.g. from your pod's logs)."]


def test_import_irsa_nb_does_not_load_the_widgets():
    import subprocess
    import sys

    probe = "import sys, irsa_nb; print(sorted(m for m in sys.modules if 'widgets' in m))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
