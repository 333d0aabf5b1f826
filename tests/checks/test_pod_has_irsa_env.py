"""pod_has_irsa_env: `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE` and the token mount are in every
container (on Windows the `C:\\` token path)."""

from __future__ import annotations

import pytest

from tests.builders.k8s_objects import IRSA_TOKEN_FILE_WINDOWS
from tests.checks.helpers import (
    add_pod,
    demo_docs,
    evidence,
    irsa_pod,
    one,
    only,
    outcome,
    pod_doc,
    results,
)


def test_pod_has_irsa_env_pass_not_injected_and_partial(demo):
    assert only(demo, "pod_has_irsa_env", pod="checkout-7d4b9c6f5-k2x9p").status == "PASS"
    row = only(demo, "pod_has_irsa_env", pod="notifications-9f8e7d6c5-a1b2c")
    assert row.status == "FAIL"
    assert "kubectl rollout restart deployment/notifications -n shop" in row.remediation
    row = only(demo, "pod_has_irsa_env", pod="emailer-5c4b3a2f1-e3r4t")
    assert row.status == "FAIL"
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in row.detail and "partly" in row.detail


def test_pod_has_irsa_env_ignores_containers_the_webhook_skips():
    docs = demo_docs()
    pod = pod_doc(docs, "checkout-")
    pod["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    assert (
        only(results(docs, namespace="shop", service_account="checkout"), "pod_has_irsa_env").status
        == "FAIL"
    )
    pod["metadata"]["annotations"] = {"eks.amazonaws.com/skip-containers": "sidecar"}
    assert (
        only(results(docs, namespace="shop", service_account="checkout"), "pod_has_irsa_env").status
        == "PASS"
    )


def test_a_token_directory_that_is_not_a_projected_token_volume_is_no_token_mount():
    docs = demo_docs()
    pod = pod_doc(docs, "checkout-")
    for vol in pod["spec"]["volumes"]:
        if vol["name"] == "aws-iam-token":
            vol.clear()
            vol.update({"name": "aws-iam-token", "emptyDir": {}})
    df = results(docs, namespace="shop", service_account="checkout")
    row = only(df, "pod_has_irsa_env")
    assert row.status == "FAIL" and "volumeMount" in row.detail
    assert only(df, "pod_can_read_token").status == "SKIP"


# Windows pods, built as the webhook mutates them: getPodSpecPatch in
# https://github.com/aws/amazon-eks-pod-identity-webhook/blob/master/pkg/handler/handler.go
# decides "Windows" from the nodeSelector kubernetes.io/os or beta.kubernetes.io/os = windows,
# then sets AWS_WEB_IDENTITY_TOKEN_FILE=C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token
# while addEnvToContainer mounts the aws-iam-token volume at the Linux path (m.MountPath).
WINDOWS_SELECTORS = ({"kubernetes.io/os": "windows"}, {"beta.kubernetes.io/os": "windows"})


def _windows_docs(selector: dict, role: str | None = "shop-checkout") -> tuple[dict, str]:
    docs = demo_docs()
    pod = add_pod(
        docs, irsa_pod("shop", "win-6c5b4a3f2-w1n2d", "checkout", role, node_selector=selector)
    )
    return docs, pod["metadata"]["name"]


@pytest.mark.parametrize("selector", WINDOWS_SELECTORS)
def test_a_mutated_windows_pod_passes(selector):
    docs, name = _windows_docs(selector)
    env = {e["name"]: e.get("value") for e in pod_doc(docs, "win-")["spec"]["containers"][0]["env"]}
    assert env["AWS_WEB_IDENTITY_TOKEN_FILE"] == IRSA_TOKEN_FILE_WINDOWS
    row = only(
        results(docs, namespace="shop", service_account="checkout"), "pod_has_irsa_env", pod=name
    )
    assert row.status == "PASS", row.detail
    assert all(c["os"] == "windows" for c in evidence(row).values())


@pytest.mark.parametrize("selector", WINDOWS_SELECTORS)
def test_an_unmutated_windows_pod_fails_as_not_injected(selector):
    docs, name = _windows_docs(selector, role=None)
    row = only(
        results(docs, namespace="shop", service_account="checkout"), "pod_has_irsa_env", pod=name
    )
    assert row.status == "FAIL" and "did not mutate" in row.detail


def test_a_windows_token_file_outside_the_mount_is_still_missing():
    docs, name = _windows_docs(WINDOWS_SELECTORS[0])
    for c in pod_doc(docs, "win-")["spec"]["containers"]:
        for e in c["env"]:
            if e["name"] == "AWS_WEB_IDENTITY_TOKEN_FILE":
                e["value"] = "D:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token"
    row = only(
        results(docs, namespace="shop", service_account="checkout"), "pod_has_irsa_env", pod=name
    )
    assert row.status == "FAIL" and "volumeMount" in row.detail


def test_a_linux_pod_with_the_windows_token_path_has_no_mount_for_it():
    """Without the Windows node selector the webhook sets the Linux path; a C:\\ path in a Linux
    container names a file no mount holds."""
    docs = demo_docs()
    for c in pod_doc(docs, "checkout-")["spec"]["containers"]:
        for e in c["env"]:
            if e["name"] == "AWS_WEB_IDENTITY_TOKEN_FILE":
                e["value"] = IRSA_TOKEN_FILE_WINDOWS
    row = only(results(docs, namespace="shop", service_account="checkout"), "pod_has_irsa_env")
    assert row.status == "FAIL" and "volumeMount" in row.detail


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"pod": "aws-node-8xk2q"},
        "PASS",
        "pass",
        "Every container of kube-system/aws-node-8xk2q has AWS_ROLE_ARN, "
        "AWS_WEB_IDENTITY_TOKEN_FILE and the token mount.",
        {
            "aws-node": {
                "AWS_DEFAULT_REGION": "us-west-2",
                "AWS_REGION": "us-west-2",
                "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role",
                "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",  # noqa: E501
                "source": "spec",
                "token_mount": True,
            }
        },
    ),
    (
        {"pod": "emailer-5c4b3a2f1-e3r4t"},
        "FAIL",
        "partial",
        "Pod shop/emailer-5c4b3a2f1-e3r4t is only partly configured: app (missing "
        "AWS_WEB_IDENTITY_TOKEN_FILE, volumeMount "
        "/var/run/secrets/eks.amazonaws.com/serviceaccount).",
        {
            "app": {
                "AWS_DEFAULT_REGION": None,
                "AWS_REGION": None,
                "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/irsa-emailer",
                "AWS_WEB_IDENTITY_TOKEN_FILE": None,
                "source": "spec",
                "token_mount": False,
            }
        },
    ),
    (
        {"pod": "fulfillment-3c2b1a0f9-d4f5g"},
        "SKIP",
        "pod_identity_injected",
        "Pod shop/fulfillment-3c2b1a0f9-d4f5g has EKS Pod Identity credentials "
        "(AWS_CONTAINER_CREDENTIALS_FULL_URI) instead of the IRSA variables, so Pod Identity, not "
        "IRSA, decides its role (see pod_identity_precedence).",
        {
            "app": {
                "AWS_DEFAULT_REGION": None,
                "AWS_REGION": None,
                "AWS_ROLE_ARN": None,
                "AWS_WEB_IDENTITY_TOKEN_FILE": None,
                "source": "spec",
                "token_mount": False,
            }
        },
    ),
    (
        {"pod": "notifications-9f8e7d6c5-a1b2c"},
        "FAIL",
        "not_injected",
        "No container of shop/notifications-9f8e7d6c5-a1b2c has AWS_ROLE_ARN or "
        "AWS_WEB_IDENTITY_TOKEN_FILE: the webhook did not mutate it (created before the "
        "annotation, or missed).",
        {
            "app": {
                "AWS_DEFAULT_REGION": None,
                "AWS_REGION": None,
                "AWS_ROLE_ARN": None,
                "AWS_WEB_IDENTITY_TOKEN_FILE": None,
                "source": "spec",
                "token_mount": False,
            }
        },
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "pod_has_irsa_env", **where), status, key, detail, ev)


_NO_ENV = {
    "app": {
        "AWS_DEFAULT_REGION": None,
        "AWS_REGION": None,
        "AWS_ROLE_ARN": None,
        "AWS_WEB_IDENTITY_TOKEN_FILE": None,
        "source": "spec",
        "token_mount": False,
    }
}
FRONTEND = "frontend-7f6e5d4c3-t7y8u"  # runs as shop/default, which carries no role


def test_a_pod_of_an_unannotated_service_account_skips_unless_the_pod_is_named():
    df = results(demo_docs(), "pod_has_irsa_env", namespace="shop", service_account="default")
    outcome(
        one(df, pod=FRONTEND),
        "SKIP",
        "_no_role_annotation",
        "Service account shop/default has no eks.amazonaws.com/role-arn annotation, so there is "
        "no role to check (see service_account_role_annotation).",
        _NO_ENV,
    )
    # Named explicitly, the pod is judged: the webhook injected nothing.
    df = results(demo_docs(), "pod_has_irsa_env", namespace="shop", pod=FRONTEND)
    outcome(one(df), "FAIL", "not_injected", ev=_NO_ENV)


def test_a_pod_whose_containers_are_all_skipped_is_skipped_naming_them():
    docs = demo_docs()
    pod = pod_doc(docs, "checkout-")
    pod["metadata"].setdefault("annotations", {})["eks.amazonaws.com/skip-containers"] = (
        "checkout,otel-collector"
    )
    df = results(docs, "pod_has_irsa_env", namespace="shop", service_account="checkout")
    row = outcome(
        one(df),
        "SKIP",
        "all_skipped",
        "Every container of shop/checkout-7d4b9c6f5-k2x9p is listed in "
        "eks.amazonaws.com/skip-containers (checkout, otel-collector).",
        {},
    )
    assert row.remediation == (
        "Remove the containers that need AWS access from eks.amazonaws.com/skip-containers, "
        "then recreate the pod."
    )


def test_without_the_service_account_list_a_pod_without_irsa_env_is_skipped():
    docs = demo_docs()
    del docs["k8s/serviceaccounts.json"]
    df = results(docs, "pod_has_irsa_env", namespace="shop")
    row = outcome(
        one(df, pod="notifications-9f8e7d6c5-a1b2c"),
        "SKIP",
        "_not_collected",
        "Not collected: the service account list (k8s/serviceaccounts.json); this could not "
        "be checked.",
    )
    assert row.remediation == (
        "Collect it and add the output to the bundle as k8s/serviceaccounts.json:\n"
        "  kubectl get serviceaccounts --all-namespaces -o json"
    )
    # A pod with the IRSA variables is still judged on them.
    outcome(one(df, pod="emailer-5c4b3a2f1-e3r4t"), "FAIL", "partial")
