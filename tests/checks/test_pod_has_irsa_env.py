"""pod_has_irsa_env: `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE` and the token mount are in every
container."""

from __future__ import annotations

from tests.checks.helpers import demo_docs, only, pod_doc, results


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
