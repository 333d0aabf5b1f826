"""The Explorer widgets, driven as a user would (set ``.value``, ``.click()``), no kernel.

Outside a kernel the comm is a dummy: observers and on_click handlers still fire, so the
app state and the HTML widgets' ``value`` are what a browser would show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from irsa_nb.checks import REGISTRY
from irsa_nb.widgets import ALL, Explorer
from tests.faces.widgets.helpers import EVIL_POD, EVIL_ROLE, EVIL_SA


def options(dropdown) -> dict[str, str]:
    """value → label of a Dropdown."""
    return {v: k for k, v in dropdown.options}


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.fixture
def app(no_kubeconfig) -> Explorer:
    return Explorer("demo")


def test_demo_opens_with_targets_filled(app):
    assert app.source_kind.value == "demo" and app.demo.value == "demo"
    assert "shop-prod" in app.source_info.value
    assert app.namespace.value == "shop" and "kube-system" in app.namespace.options
    assert options(app.service_account)["cart"] == "cart → role irsa-cart"
    assert app.pod.value == ALL
    assert not app.run_button.disabled and app.source_messages.value == ""


def test_dropdowns_follow_each_other(app):
    app.service_account.value = "cart"
    assert list(options(app.pod)) == [ALL, "cart-5f6d8b7c9-q4w8e"]
    app.namespace.value = "kube-system"
    assert app.state.namespace == "kube-system"
    assert app.service_account.value == "aws-node"
    assert options(app.service_account)["aws-node"] == "aws-node → role AmazonEKS_CNI_Role"
    assert list(options(app.pod)) == [ALL, "aws-node-8xk2q"]
    app.pod.value = "aws-node-8xk2q"
    assert app.state.pod == "aws-node-8xk2q"


def test_run_checks_shows_failures_with_remediation(app):
    app.service_account.value = "payments"
    disabled, statuses = [], []
    app.run_button.observe(lambda c: disabled.append(c["new"]), names="disabled")
    app.status.observe(lambda c: statuses.append(c["new"]), names="value")
    app.run_button.click()

    assert disabled == [True, False]  # disabled while running, enabled after
    assert any("Running check 1 of" in s for s in statuses)
    assert any(f"Running check {len(REGISTRY)} of {len(REGISTRY)}" in s for s in statuses)
    assert app.progress.value == app.progress.max == len(REGISTRY)
    assert app.progress.bar_style == "danger"
    assert app.status.value.endswith(f"Ran {len(REGISTRY)} checks.</span>")

    fails = re.findall(
        r'<tr class="irsa-row" data-status="FAIL" data-check="([a-z_]+)"', app.table.value
    )
    assert fails == ["role_exists"]
    assert app.table.value.index('data-status="FAIL"') < app.table.value.index('data-status="PASS"')
    text = visible_text(app.findings.value)
    assert "IAM role irsa-payments named by shop/payments does not exist" in text
    assert "aws iam create-role --role-name irsa-payments" in text
    assert '<details class="irsa-finding" data-status="FAIL" data-check="role_exists" open' in (
        app.findings.value
    )
    summary = visible_text(app.summary.value)
    assert "for service account shop/payments" in summary and "FAIL 1" in summary
    assert "see the rows marked FAIL" in app.check_messages.value


def test_healthy_service_account_has_no_findings_open(app):
    app.service_account.value = "checkout"
    app.sdk_name.value, app.sdk_version.value = "boto3", "1.34.0"
    app.run_button.click()
    assert app.progress.bar_style == "success"
    assert 'data-status="FAIL"' not in app.table.value
    assert " open" not in app.findings.value
    assert "no failures" in app.check_messages.value


def test_bad_sdk_input_is_a_message_not_a_traceback(app):
    app.sdk_name.value, app.sdk_version.value = "boto3", "banana"
    app.run_button.click()
    assert "cannot read SDK version" in app.check_messages.value
    assert app.table.value == "" and app.summary.value == ""
    assert not app.run_button.disabled


def test_bad_bundle_path_is_a_message_and_disables_checks(app, tmp_path):
    app.source_kind.value = "bundle"
    assert app.source_panel.children[0].children[0] is app.bundle_path
    app.bundle_path.value = str(tmp_path / "missing.tar.gz")
    app.load_bundle_button.click()
    assert "Could not load bundle" in app.source_messages.value
    assert "irsa-message-error" in app.source_messages.value
    assert app.namespace.options == () and app.namespace.disabled
    assert app.run_button.disabled and app.save_button.disabled
    assert app.source_info.value == ""


def test_hostile_strings_from_a_bundle_render_as_text(app, hostile_bundle):
    app.source_kind.value = "bundle"
    app.bundle_path.value = str(hostile_bundle)
    app.load_bundle_button.click()
    assert app.source_messages.value == ""
    # dropdown labels are text in the browser: kept verbatim
    assert options(app.service_account)[EVIL_SA] == f"{EVIL_SA} → invalid role ARN {EVIL_ROLE}"
    app.service_account.value = EVIL_SA
    assert EVIL_POD in options(app.pod)
    app.run_button.click()
    html = app.table.value + app.findings.value + app.summary.value
    assert "<img" not in html and "<script" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in html
    assert "&lt;script&gt;window.__pwned=2&lt;/script&gt;" in html
    assert (
        visible_text(app.findings.value).count(EVIL_ROLE.replace("<", "&lt;").replace(">", "&gt;"))
        >= 1
    )


def test_unexpected_errors_in_a_handler_are_shown(app, monkeypatch):
    def broken(progress=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.state, "run", broken)
    app.run_button.click()
    assert "Unexpected error: RuntimeError: disk on fire" in app.check_messages.value
    assert not app.run_button.disabled  # the busy state was undone


def test_other_demo_bundles(app):
    app.demo.value = "china"
    assert "cn-north-1" in app.source_info.value
    app.run_button.click()
    assert app.state.results is not None and len(app.state.results)


def test_explorer_opens_a_bundle_path_or_named_demo(hostile_bundle, no_kubeconfig):
    app = Explorer(str(hostile_bundle))
    assert app.source_kind.value == "bundle" and app.bundle_path.value == str(hostile_bundle)
    assert app.source_panel.children[0].children[0] is app.bundle_path
    assert EVIL_SA in options(app.service_account)
    assert Explorer("demo:k8s-118").demo.value == "k8s-118"


def test_live_without_kubeconfig_or_credentials_is_explained(aws_env, no_kubeconfig):
    app = Explorer("demo")
    app.source_kind.value = "live"
    assert app.source_panel.children[0] is app._panels["live"]
    assert "No usable kubeconfig" in app.source_messages.value
    assert app.context.options == (("(current context)", ""),)
    assert "us-west-2" in app.region.options and "cn-north-1" in app.region.options
    app.region.value = "us-west-2"
    app.cluster.value = "nowhere"
    app.connect_button.click()
    assert "Could not load live cluster nowhere (us-west-2)" in app.source_messages.value
    assert app.run_button.disabled


def test_live_contexts_prefill_the_eks_cluster(kubeconfig):
    app = Explorer("live")
    assert app.source_kind.value == "live"
    assert [v for _, v in app.context.options] == [
        "",
        "arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod",
        "kind-dev",
    ]
    assert (app.cluster.value, app.region.value) == ("shop-prod", "eu-west-1")  # current context
    app.cluster.value = app.region.value = ""
    app.context.value = "arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod"
    assert (app.cluster.value, app.region.value) == ("shop-prod", "eu-west-1")


def test_list_clusters_fills_the_cluster_box(aws_env, no_kubeconfig):
    aws_env.client("eks").create_cluster(
        name="shop-prod",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    app = Explorer("live")
    app.region.value = "us-west-2"
    app.list_clusters_button.click()
    assert app.cluster.options == ("shop-prod",) and app.cluster.value == "shop-prod"
    app.region.value = ""
    app.list_clusters_button.click()
    assert "Choose a region" in app.source_messages.value


def test_live_cluster_end_to_end(aws_env, fake_kube, tmp_path, monkeypatch):
    """moto (EKS, IAM) and the fake Kubernetes API, reached through AWS_ENDPOINT_URL and a
    kubeconfig: connect, pick a service account, run the checks."""
    from tests.builders.synthetic import synthetic_cluster

    data = synthetic_cluster(n_service_accounts=20, n_pods=40, n_roles=6, n_namespaces=3, seed=3)
    seeded = aws_env.seed(data)
    kube = fake_kube(service_accounts=seeded.data["service_accounts"], pods=seeded.data["pods"])
    monkeypatch.setenv("KUBECONFIG", kube.kubeconfig(tmp_path / "kubeconfig"))
    app = Explorer("live")
    assert [v for _, v in app.context.options] == ["", "fake"]
    app.context.value = "fake"
    app.region.value = "us-west-2"
    app.list_clusters_button.click()
    assert app.cluster.value == seeded.cluster_name
    app.connect_button.click()
    assert app.source_messages.value == "", app.source_messages.value
    assert f"live cluster {seeded.cluster_name} (us-west-2)" in app.source_info.value
    annotated = [v for k, v in app.service_account.options if "→ role" in k]
    assert annotated and app.service_account.value == annotated[0]
    app.run_button.click()
    df = app.state.results
    assert set(df.service_account) >= {annotated[0]}
    assert "role_exists" in set(df.check_id)


def test_save_evidence_without_source_and_explain_without_text(app, tmp_path):
    app.source_kind.value = "bundle"
    app.bundle_path.value = str(tmp_path / "nope")
    app.load_bundle_button.click()
    app.save_evidence()
    assert "Load a source first" in app.evidence_messages.value
    app.explain_button.click()
    assert "Paste an error message first" in app.explain_messages.value


def test_the_container_displays(app):
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "irsa-explorer" in app.container._dom_classes
    assert Path(app.state.evidence_dir) == Path("evidence")


@pytest.mark.kernel
def test_save_evidence_runs_the_runbook_and_links_its_html(app, tmp_path, monkeypatch):
    pytest.importorskip("irsa_nb.runbook")
    monkeypatch.chdir(tmp_path)  # the notebook's folder
    app.service_account.value = "cart"
    app.evidence_dir.value = "out/evidence"
    app.error_text.value = "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"
    disabled = []
    app.save_button.observe(lambda c: disabled.append(c["new"]), names="disabled")
    app.save_button.click()

    assert disabled == [True, False]
    result = app.state.evidence
    assert result is not None and result.status == "ok", app.evidence_messages.value
    assert result.verdict == "FAIL"
    assert "verdict FAIL" in app.evidence_messages.value
    hrefs = re.findall(r'href="([^"]+)"', app.evidence.value)
    assert len(hrefs) == 2 and all(not h.startswith(("/", "http")) for h in hrefs)
    assert re.fullmatch(r"out/evidence/shop-cart-\d{8}T\d{6}Z/[\w.-]+\.html", hrefs[0])
    assert (tmp_path / hrefs[0]).read_text().lstrip().lower().startswith("<!doctype html")
    assert (tmp_path / hrefs[1]).is_file()
    saved = (Path(result.folder) / result.notebook.name).read_text()
    assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in saved
    assert "shop" in saved and "cart" in saved
    assert "Voila serves" not in app.evidence_messages.value
    app.evidence_dir.value = "reports"  # outside binder/voila.json's allow-list
    app.save_button.click()
    assert "Voila serves reports only from an evidence/ folder" in app.evidence_messages.value


def test_explain_an_error_against_the_selection(app):
    pytest.importorskip("irsa_nb.diagnose")
    app.service_account.value = "cart"
    app.explain(
        "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity "
        "operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"
    )
    df = app.state.diagnosis
    first = df.iloc[0]
    assert "trust_policy_allows_service_account" in list(first.check_ids)
    assert bool(first.confirmed) is True  # shop/cart's trust policy names namespace default
    assert "Causes checked against service account shop/cart" in app.explain_messages.value
    assert "yes: a check shows it" in app.diagnosis.value
    assert app.diagnosis.value.count('<tr class="irsa-cause">') == len(df)

    app.explain("hello")
    assert "not an error irsa-nb recognises" in app.explain_messages.value


def test_busy_text_shows_where_the_action_is(app, monkeypatch):
    seen = []
    real = app.state.explain

    def spy(text):
        seen.append((app.diagnosis.value, app.explain_button.disabled, app.run_button.disabled))
        return real(text)

    monkeypatch.setattr(app.state, "explain", spy)
    app.explain("   ")
    assert seen == [('<span class="irsa-busy">Looking up the error…</span>', True, True)]
    assert app.diagnosis.value == "" and not app.explain_button.disabled
