"""irsa_nb.collect against moto + the fake Kubernetes API + an HTTPS issuer on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import irsa_nb
from irsa_nb import Source, Target, bundle
from irsa_nb.bundle import CallFailed, read_documents, write_documents
from irsa_nb.k8s import slim_pod
from irsa_nb.live import kube as live_kube
from irsa_nb.live.aws import AwsConfigError
from irsa_nb.live.kube import KubeConfigError
from tests.builders import k8s_objects as k8s
from tests.live.conftest import small_data

pytestmark = pytest.mark.slow


def _ders(pem: str) -> list[bytes]:
    import base64

    blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
    return [base64.b64decode("".join(b.split())) for b in blocks]


def test_written_bundle_gives_the_same_results_as_the_live_inventory(live, tmp_path):
    lv = live(small_data(n_service_accounts=120, n_pods=400, n_roles=40, n_namespaces=6))
    inv = irsa_nb.collect(lv.cluster, progress=False)
    live_df = irsa_nb.run_checks(inv)
    assert set(live_df["status"]) >= {"PASS", "FAIL"}  # the synthetic defects are found

    for out in (tmp_path / "bundle-dir", tmp_path / "bundle.tar.gz"):
        write_documents(inv.documents, out)
        pd.testing.assert_frame_equal(irsa_nb.run_checks(irsa_nb.load_bundle(out)), live_df)
    assert read_documents(tmp_path / "bundle.tar.gz") == read_documents(tmp_path / "bundle-dir")


def test_collects_every_object_and_each_role_once(live):
    lv = live()
    inv = irsa_nb.collect(lv.cluster, progress=False)
    assert len(inv.pods) == len(lv.data["pods"])
    assert len(inv.service_accounts) == len(lv.data["service_accounts"])
    annotated = {
        sa["metadata"]["annotations"][k8s.ROLE_ARN_ANNOTATION].rsplit("/", 1)[-1]
        for sa in lv.data["service_accounts"]
        if k8s.ROLE_ARN_ANNOTATION in (sa["metadata"].get("annotations") or {})
        and irsa_nb.iam.arn.is_valid_role_arn(
            sa["metadata"]["annotations"][k8s.ROLE_ARN_ANNOTATION]
        )
    }
    assert inv.role_names() == annotated
    assert inv.kubernetes_version == "1.29"
    # the defect "role_missing" is recorded as the CLI's NoSuchEntity error, not dropped
    missing = [n for n in annotated if n.endswith("-old")]
    assert missing
    for name in missing:
        doc = inv.documents[bundle.role_path("get-role", name)]
        assert isinstance(doc, CallFailed) and doc.not_found
        assert "NoSuchEntity" in doc.message and "GetRole" in doc.message


def test_issuer_chain_thumbprint_and_discovery(live):
    lv = live()
    inv = irsa_nb.collect(lv.cluster, progress=False)
    pem = inv.documents[bundle.ISSUER_CHAIN]
    assert "Certificate chain" in pem and " 0 s:" in pem  # openssl s_client -showcerts form
    ders = _ders(pem)
    assert len(ders) == 2  # leaf + intermediate, as presented
    assert hashlib.sha1(ders[-1]).hexdigest() == lv.issuer.expected_thumbprint
    disc = inv.documents[bundle.DISCOVERY]
    assert disc["openid_configuration"]["status"] == 200
    assert disc["openid_configuration"]["tls_verified"] is True
    assert disc["jwks"]["keys"] == 1
    df = irsa_nb.run_checks(inv)
    row = df.set_index("check_id").loc[
        ["provider_thumbprint_matches", "issuer_discovery_reachable"]
    ]
    assert list(row["status"]) == ["PASS", "PASS"]


def test_thumbprint_mismatch_fails_for_a_non_eks_issuer(live):
    lv = live(thumbprint_ok=False)
    df = irsa_nb.run_checks(irsa_nb.collect(lv.cluster, progress=False))
    row = df[df.check_id == "provider_thumbprint_matches"].iloc[0]
    assert row.status == "FAIL"
    assert lv.issuer.expected_thumbprint in row.detail


@pytest.mark.parametrize(
    ("issuer", "trusted", "status", "words"),
    [
        ({"discovery": 404}, True, "FAIL", "HTTP 404"),
        ({"jwks": 500}, True, "FAIL", "HTTP 500"),
        ({}, False, "WARN", "not trusted"),
    ],
)
def test_discovery_problems_are_reported(live, issuer, trusted, status, words):
    lv = live(issuer=issuer, trusted_issuer=trusted)
    df = irsa_nb.run_checks(irsa_nb.collect(lv.cluster, progress=False))
    row = df[df.check_id == "issuer_discovery_reachable"].iloc[0]
    assert row.status == status
    assert words in row.detail


def test_context_is_chosen_by_the_cluster_endpoint_not_the_current_one(live):
    lv = live()
    irsa_nb.collect(lv.cluster, progress=False)
    assert lv.kube.requests and not lv.decoy.requests


def test_explicit_context_wins(live):
    lv = live()
    inv = irsa_nb.collect(lv.cluster, context="decoy", progress=False)
    assert lv.decoy.requests and not lv.kube.requests
    assert inv.pods == ()


def test_current_context_when_no_context_matches_the_endpoint(live):
    lv = live(endpoint_matches=False)
    irsa_nb.collect(lv.cluster, progress=False)
    assert lv.decoy.requests and not lv.kube.requests


def test_unknown_context_is_a_one_line_error(live):
    lv = live()
    with pytest.raises(KubeConfigError, match="context 'nope' not in kubeconfig"):
        irsa_nb.collect(lv.cluster, context="nope", progress=False)


def test_region_comes_from_the_eks_like_server_of_the_current_context(live, monkeypatch, tmp_path):
    import yaml

    lv = live()
    cfg = yaml.safe_load(Path(lv.kubeconfig).read_text())
    cfg["clusters"].append(
        {"name": "eks", "cluster": {"server": "https://ABC123.gr7.us-west-2.eks.amazonaws.com"}}
    )
    cfg["users"].append({"name": "eks", "user": {"token": "t"}})
    cfg["contexts"].append({"name": "eks", "context": {"cluster": "eks", "user": "eks"}})
    cfg["current-context"] = "eks"
    kc = tmp_path / "kc-eks"
    kc.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("KUBECONFIG", str(kc))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    inv = irsa_nb.collect(lv.cluster, progress=False)
    assert inv.cluster.region == "us-west-2"
    assert lv.kube.requests  # then the context matching the endpoint was used

    cfg["current-context"] = "decoy"
    kc.write_text(yaml.safe_dump(cfg))
    with pytest.raises(AwsConfigError, match="no AWS region"):
        irsa_nb.collect(lv.cluster, progress=False)


def test_region_from_server():
    assert live_kube.region_from_server("https://X.gr7.eu-west-1.eks.amazonaws.com") == "eu-west-1"
    assert live_kube.region_from_server("https://X.yl4.cn-north-1.eks.amazonaws.com.cn/") == (
        "cn-north-1"
    )
    assert live_kube.region_from_server("https://127.0.0.1:6443") is None


def test_namespaces_filter_lists_only_those_namespaces(live):
    lv = live()
    inv = irsa_nb.collect(lv.cluster, namespaces=["team-payments"], progress=False)
    assert {p.namespace for p in inv.pods} == {"team-payments"}
    assert {ns for ns, _ in inv.service_accounts} == {"team-payments"}
    lists = [
        c for c in lv.kube.api_calls() if c[0] == "list" and c[1] in ("pods", "serviceaccounts")
    ]
    assert lists and all(ns == "team-payments" for _, _, ns in lists)
    expected = [p for p in lv.data["pods"] if p["metadata"]["namespace"] == "team-payments"]
    assert len(inv.pods) == len(expected)


def test_a_live_source_collects_the_target_namespace(live):
    lv = live()
    inv = Source(cluster=lv.cluster).open(Target(namespace="kube-system"))
    assert inv.source == f"live:{lv.cluster}"
    assert inv.cluster.name == lv.cluster


def test_secrets_and_unused_fields_never_reach_the_bundle(live, tmp_path):
    data = small_data(n_service_accounts=20, n_pods=30, n_roles=5, n_namespaces=3, seed=3)
    leaky = k8s.pod(
        "default",
        "leaky-7d4b9c-abcde",
        containers=[
            k8s.container(
                "app",
                env=[
                    {"name": "DB_PASSWORD", "value": "hunter2-secret-value"},
                    {
                        "name": "AWS_SECRET_ACCESS_KEY",
                        "value": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
                    },
                ],
            )
        ],
        annotations={"kubectl.kubernetes.io/last-applied-configuration": "hunter2-secret-value"},
    )
    data["pods"].append(leaky)
    lv = live(data)
    inv = irsa_nb.collect(lv.cluster, progress=False)
    out = write_documents(inv.documents, tmp_path / "b")
    text = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "hunter2-secret-value" not in text
    assert "wJalrXUtnFEMIK7MDENG" not in text
    pod = next(p for p in inv.pods if p.name == "leaky-7d4b9c-abcde")
    assert pod.containers[0].env_value("DB_PASSWORD") == "***"
    raw = json.loads((out / "k8s/pods.json").read_text())
    assert all("status" not in i or set(i["status"]) == {"phase"} for i in raw["items"])


def test_exec_credential_plugin_users_authenticate(live, monkeypatch, tmp_path):
    """Users that run ``aws eks get-token`` (an exec plugin) work through the client's auth."""
    from tests.servers.fake_kube import write_multi_context_kubeconfig

    lv = live()
    kc = write_multi_context_kubeconfig(
        tmp_path / "kc-exec",
        {"decoy": lv.decoy, "cluster-ctx": lv.kube},
        "decoy",
        exec_plugin=["cluster-ctx"],
    )
    monkeypatch.setenv("KUBECONFIG", kc)
    lv.kube.valid_tokens = {"k8s-aws-v1.token-cluster-ctx"}
    inv = irsa_nb.collect(lv.cluster, progress=False)
    assert len(inv.pods) == len(lv.data["pods"])
    assert not inv.namespace_errors


def test_pod_labels_are_kept_for_the_webhook_object_selector(live, tmp_path):
    data = small_data()
    for p in data["pods"]:
        p["metadata"].setdefault("labels", {})["irsa"] = "on"
    data["pods"][0]["metadata"]["labels"]["leak"] = "AKIAIOSFODNN7EXAMPLE"
    for hook in data["webhook"]["webhooks"]:
        hook["objectSelector"] = {"matchLabels": {"irsa": "on"}}
    lv = live(data)
    inv = irsa_nb.collect(lv.cluster, progress=False)
    name = data["pods"][0]["metadata"]["name"]
    kept = inv.documents[bundle.PODS]["items"]
    labels = next(i["metadata"]["labels"] for i in kept if i["metadata"]["name"] == name)
    assert labels["irsa"] == "on" and "AKIAIOSFODNN7EXAMPLE" not in labels["leak"]
    live_df = irsa_nb.run_checks(inv, checks=["webhook_configured"])
    assert list(live_df.status) == ["PASS"]
    # what kubectl get pods -o json gives (every field) checks the same
    docs = dict(inv.documents)
    docs[bundle.PODS] = {"apiVersion": "v1", "kind": "List", "items": data["pods"]}
    write_documents(docs, tmp_path / "kubectl")
    full = irsa_nb.run_checks(
        irsa_nb.load_bundle(tmp_path / "kubectl"), checks=["webhook_configured"]
    )
    pd.testing.assert_frame_equal(full, live_df)


def test_pods_without_labels_are_known_to_have_none(live):
    data = small_data()
    for p in data["pods"]:
        p["metadata"].pop("labels", None)
    for hook in data["webhook"]["webhooks"]:
        hook["objectSelector"] = {"matchLabels": {"irsa": "on"}}
    inv = irsa_nb.collect(live(data).cluster, progress=False)
    row = irsa_nb.run_checks(inv, checks=["webhook_configured"]).iloc[0]
    assert json.loads(row.evidence)["pod_labels_collected"] is True
    assert row.status == "FAIL"  # the selector matches none of the pods


def test_webhook_configurations_are_kept_without_secrets_and_odd_shapes_do_not_crash(
    live, tmp_path
):
    data = small_data()
    meta = data["webhook"]["metadata"]
    meta["annotations"] = {
        "vault.example.com/db-password": "hunter2-secret-value",
        "kubectl.kubernetes.io/last-applied-configuration": '{"x": "hunter2-secret-value"}',
    }
    meta["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:x": {}}}]
    meta["ownerReferences"] = ["not-an-object"]
    lv = live(data)
    inv = irsa_nb.collect(lv.cluster, progress=False)
    out = write_documents(inv.documents, tmp_path / "b")
    text = (out / "k8s/mutatingwebhookconfigurations.json").read_text()
    assert "hunter2" not in text and "managedFields" not in text
    assert "pod-identity-webhook" in text and "vault.example.com/db-password" in text
    row = irsa_nb.run_checks(inv, checks=["webhook_configured"]).iloc[0]
    assert row.status == "PASS"


@pytest.mark.parametrize("described", [{"cluster": "x"}, {"cluster": {"identity": "x"}}])
def test_an_odd_describe_cluster_answer_is_an_error_row_not_a_crash(live, monkeypatch, described):
    from irsa_nb.live.aws import AwsCollector

    lv = live()
    monkeypatch.setattr(AwsCollector, "describe_cluster", lambda self, name: described)
    inv = irsa_nb.collect(lv.cluster, progress=False)  # no crash
    assert inv.documents[bundle.DESCRIBE_CLUSTER] == described
    assert "ERROR" in set(irsa_nb.run_checks(inv).status)


def test_a_namespace_name_never_leads_outside_the_bundle(live, tmp_path):
    lv = live()
    with pytest.raises(ValueError, match="not a Kubernetes namespace name"):
        irsa_nb.collect(lv.cluster, namespaces=["../../escaped"], progress=False)
    with pytest.raises(irsa_nb.BundleError, match="unsafe path"):
        write_documents({"k8s/namespaces/../../x/pods.json": CallFailed("no")}, tmp_path / "b")
    assert not (tmp_path / "x").exists()


def test_repeated_parts_are_kept_once_with_their_values_and_json_types(live):
    data = small_data()
    pods = data["pods"]
    for p, odd in zip(pods[:3], (1, True, 1.0), strict=True):  # equal in Python, not in JSON
        p["spec"]["containers"][0]["securityContext"] = {"runAsUser": odd}
    inv = irsa_nb.collect(live(data).cluster, progress=False)
    kept = inv.documents[bundle.PODS]["items"]
    by_name = {p["metadata"]["name"]: p for p in kept}
    # what is kept is exactly each pod slimmed on its own: sharing changed no value or type
    assert {json.dumps(slim_pod(p)) for p in pods} == {json.dumps(p) for p in kept}
    contexts = [by_name[p["metadata"]["name"]]["spec"]["containers"][0] for p in pods[:3]]
    assert [json.dumps(c["securityContext"]) for c in contexts] == [
        '{"runAsUser": 1}',
        '{"runAsUser": true}',
        '{"runAsUser": 1.0}',
    ]
    # pods of one replica set share their labels, owners and equal env lists, typed too
    by_owner: dict[str, list[dict]] = {}
    for p in kept:
        by_owner.setdefault(p["metadata"]["ownerReferences"][0]["name"], []).append(p)
    a, b = next(ps for ps in by_owner.values() if len(ps) > 1)[:2]
    assert a["metadata"]["labels"] is b["metadata"]["labels"]
    assert a["metadata"]["ownerReferences"] is b["metadata"]["ownerReferences"]
    env_a, env_b = (p["spec"]["containers"][0]["env"] for p in (a, b))
    assert env_a == env_b and env_a is env_b
    typed = {p.name: p for p in inv.pods}
    ta, tb = typed[a["metadata"]["name"]], typed[b["metadata"]["name"]]
    assert ta.containers[0].env is tb.containers[0].env
    assert ta.containers[0].env["APP_NAME"].value == "***"
