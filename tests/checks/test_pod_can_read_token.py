"""pod_can_read_token: non-root containers can read the token (Kubernetes < 1.19 needs
`fsGroup`)."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, only, pod_doc, results


def test_token_readable_on_new_clusters_and_not_for_non_root_on_118(demo):
    assert only(demo, "pod_can_read_token", pod="checkout-7d4b9c6f5-k2x9p").status == "PASS"
    df = results(demo_docs("k8s-118"))
    row = only(df, "pod_can_read_token", pod="exporter-5d4c3b2a1-x1c2v")
    assert row.status == "FAIL"
    assert "fsGroup" in row.remediation
    assert only(df, "pod_can_read_token", pod="importer-4c3b2a1f0-v3b4n").status == "PASS"


def test_token_readability_unknown_user_on_118_warns_and_root_passes():
    docs = demo_docs("k8s-118")
    pod = pod_doc(docs, "exporter-")
    for c in pod["spec"]["containers"]:
        c.pop("securityContext", None)
    assert only(results(docs), "pod_can_read_token", pod=pod["metadata"]["name"]).status == "WARN"
    for c in pod["spec"]["containers"]:
        c["securityContext"] = {"runAsUser": 0}
    assert only(results(docs), "pod_can_read_token", pod=pod["metadata"]["name"]).status == "PASS"


def test_token_readability_without_a_version_is_skip():
    docs = demo_docs("k8s-118")
    del docs["k8s/version.json"]
    docs["aws/eks/describe-cluster.json"]["cluster"]["version"] = ""
    row = only(results(docs), "pod_can_read_token", pod="exporter-5d4c3b2a1-x1c2v")
    assert row.status == "SKIP"


def test_kubernetes_version_falls_back_to_describe_cluster():
    docs = demo_docs("k8s-118")
    del docs["k8s/version.json"]
    row = only(results(docs), "pod_can_read_token", pod="exporter-5d4c3b2a1-x1c2v")
    assert row.status == "FAIL"


def test_a_v_prefixed_cluster_version_is_read():
    docs = demo_docs("k8s-118")
    del docs["k8s/version.json"]
    docs["aws/eks/describe-cluster.json"]["cluster"]["version"] = "v1.18"
    row = only(results(docs), "pod_can_read_token", pod="exporter-5d4c3b2a1-x1c2v")
    assert row.status == "FAIL"
