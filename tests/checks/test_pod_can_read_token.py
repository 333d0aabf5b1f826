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
    outcome,
    pod_doc,
    results,
    zh_outcome,
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


# Kubernetes 1.19 made the projected token readable by the container's user: the kubelet
# writes it 0600 owned by the pod's runAsUser, or group-readable by the fsGroup (Kubernetes
# 1.19 release notes; https://github.com/kubernetes/kubernetes/pull/89193, KEP
# https://github.com/kubernetes/enhancements/pull/1598). Before 1.19 it was 0600
# root:root and a non-root container needed a pod fsGroup, as the EKS User Guide said for
# IRSA (https://docs.aws.amazon.com/eks/latest/userguide/pod-configuration.html).
EXPORTER = "exporter-5d4c3b2a1-x1c2v"


def _at(minor: str) -> dict:
    docs = demo_docs("k8s-118")
    server = docs["k8s/version.json"]["serverVersion"]
    server["minor"], server["gitVersion"] = f"{minor}+", f"v1.{minor}.0-eks-0f1e2d3"
    return docs


def test_exactly_119_is_the_first_version_that_needs_no_fsgroup():
    ev = {"fs_group": None, "run_as_user": {"app": 1000}}
    outcome(
        only(results(_at("19"), "pod_can_read_token"), "pod_can_read_token", pod=EXPORTER),
        "PASS",
        "pass_new",
        "Kubernetes 1.19 makes the projected token readable by the container user.",
        {**ev, "kubernetes_version": "1.19"},
    )
    row = outcome(
        only(results(_at("18"), "pod_can_read_token"), "pod_can_read_token", pod=EXPORTER),
        "FAIL",
        "non_root",
        "Kubernetes 1.18 without fsGroup: non-root containers app cannot read the token "
        "(permission denied).",
        {**ev, "kubernetes_version": "1.18"},
    )
    assert row.remediation == (
        "Add a pod-level fsGroup (any group id) to the pod template, or upgrade the cluster to "
        "1.19+:\n  spec.template.spec.securityContext.fsGroup: 65534\nCheck the user with: "
        f"kubectl exec {EXPORTER} -n batch -- id"
    )
    zh = zh_outcome(_at("18"), "pod_can_read_token", "non_root", pod=EXPORTER)
    assert (
        zh.detail
        == "Kubernetes 1.18 且未设置 fsGroup:非 root 容器 app 无法读取令牌(permission denied)。"
    )


def test_a_later_minor_that_sorts_before_119_as_text_passes():
    # 1.100 > 1.19 as versions, though "1.100" < "1.19" as strings.
    row = only(results(_at("100"), "pod_can_read_token"), "pod_can_read_token", pod=EXPORTER)
    outcome(row, "PASS", "pass_new")


def test_an_fsgroup_makes_the_token_readable_before_119():
    docs = _at("18")
    pod_doc(docs, "exporter-")["spec"].setdefault("securityContext", {})["fsGroup"] = 2000
    row = only(results(docs, "pod_can_read_token"), "pod_can_read_token", pod=EXPORTER)
    outcome(row, "PASS", "pass_fsgroup")
    assert "2000" in row.detail and evidence(row)["fs_group"] == 2000


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"pod": "aws-node-8xk2q"},
        "PASS",
        "pass_new",
        "Kubernetes 1.29 makes the projected token readable by the container user.",
        {"fs_group": None, "kubernetes_version": "1.29", "run_as_user": {"aws-node": None}},
    ),
    (
        {"pod": "emailer-5c4b3a2f1-e3r4t"},
        "SKIP",
        "no_token",
        "Pod shop/emailer-5c4b3a2f1-e3r4t has no IRSA token mount to read (see pod_has_irsa_env).",
        {"fs_group": None, "kubernetes_version": "1.29", "run_as_user": {}},
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "pod_can_read_token", **where), status, key, detail, ev)


def _seen_inside(mode: str) -> dict:
    """The exporter pod (non-root, no fsGroup, Kubernetes 1.18) as ``--exec`` saw it: the
    user is uid 1000 in groups 1000 and 2000; the token is owned by 0:2000 with ``mode``."""
    docs = demo_docs("k8s-118")
    base = f"k8s/exec/batch/{EXPORTER}/app/"
    docs[base + "probe.json"] = {"status": "ok", "checked_at": 1765000000}
    docs[base + "id.txt"] = "uid=1000 gid=1000 groups=1000,2000"
    docs[base + "token-stat.txt"] = (
        "path=/var/run/secrets/eks.amazonaws.com/serviceaccount/token\nsource=env\nexists=yes\n"
        f"stat=0 2000 {mode}\n"
    )
    return docs


def _exec_ev(mode: str, readable: bool) -> dict:
    return {
        "fs_group": None,
        "kubernetes_version": "1.18",
        "run_as_user": {"app": 1000},
        "source": "exec",
        "seen_inside": {
            "app": {
                "uid": 1000,
                "gid": 1000,
                "groups": [1000, 2000],
                "token_file": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
                "owner": 0,
                "group": 2000,
                "mode": mode,
                "readable": readable,
            }
        },
    }


def test_what_the_container_saw_decides_over_the_version_rule():
    # POSIX permissions: not the owner (0), but in the file's group (2000), so the group bits
    # decide: 0600 denies, 0640 allows.
    row = outcome(
        only(
            results(_seen_inside("600"), "pod_can_read_token"), "pod_can_read_token", pod=EXPORTER
        ),
        "FAIL",
        "unreadable_exec",
        "Seen inside the containers, the container user cannot read the token file (permission "
        "denied): app (uid 1000 gid 1000; token 0:2000 600).",
        _exec_ev("600", False),
    )
    assert row.remediation.endswith(f"Check again with: kubectl exec {EXPORTER} -n batch -- id")
    outcome(
        only(
            results(_seen_inside("640"), "pod_can_read_token"), "pod_can_read_token", pod=EXPORTER
        ),
        "PASS",
        "pass_exec",
        "Seen inside the containers, the container user can read the token file: app (uid 1000 "
        "gid 1000; token 0:2000 640).",
        _exec_ev("640", True),
    )
