"""pod_can_read_token: non-root containers can read the token (Kubernetes < 1.19 needs
`fsGroup`; Windows pods need nothing)."""

from __future__ import annotations

import pytest

from tests.checks.helpers import (
    add_pod,
    add_sa,
    demo_docs,
    evidence,
    irsa_pod,
    only,
    pod_doc,
    results,
)


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


# A Windows pod as the webhook mutates it (getPodSpecPatch in
# https://github.com/aws/amazon-eks-pod-identity-webhook/blob/master/pkg/handler/handler.go:
# nodeSelector kubernetes.io/os or beta.kubernetes.io/os = windows gives the C:\ token path,
# the mount stays at the Linux path; the webhook sets no fsGroup or runAsUser on any OS).
# Kubernetes does not apply uid/gid/fsGroup ownership to projected files on Windows; their
# default ACL lets BUILTIN\Users read them:
# https://kubernetes.io/docs/concepts/storage/projected-volumes/#windows
@pytest.mark.parametrize("selector", ["kubernetes.io/os", "beta.kubernetes.io/os"])
@pytest.mark.parametrize("bundle", ["demo", "k8s-118"])
def test_a_mutated_windows_pod_can_read_its_token_without_fsgroup(bundle, selector):
    docs = demo_docs(bundle)
    pod = irsa_pod(
        "shop",
        "win-6c5b4a3f2-w1n2d",
        "checkout",
        "shop-checkout",
        node_selector={selector: "windows"},
    )
    add_pod(docs, pod)
    sa = "checkout"
    if not any(s["metadata"]["name"] == sa for s in docs["k8s/serviceaccounts.json"]["items"]):
        add_sa(docs, "shop", sa, "shop-checkout")
    row = only(results(docs), "pod_can_read_token", pod="win-6c5b4a3f2-w1n2d")
    assert row.status == "PASS" and "Windows" in row.detail, row.detail
    assert evidence(row)["os"] == "windows" and evidence(row)["fs_group"] is None


def test_an_unmutated_windows_pod_has_no_token_to_read():
    docs = demo_docs()
    add_pod(
        docs,
        irsa_pod(
            "shop",
            "win-6c5b4a3f2-w1n2d",
            "checkout",
            None,
            node_selector={"kubernetes.io/os": "windows"},
        ),
    )
    row = only(results(docs), "pod_can_read_token", pod="win-6c5b4a3f2-w1n2d")
    assert row.status == "SKIP" and "no IRSA token mount" in row.detail


def test_a_linux_node_selector_keeps_the_linux_rules():
    docs = demo_docs("k8s-118")
    pod = pod_doc(docs, "exporter-")
    pod["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
    assert only(results(docs), "pod_can_read_token", pod=pod["metadata"]["name"]).status == "FAIL"
