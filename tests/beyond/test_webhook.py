"""webhook_configured, token_expiration_valid and containers_skipped."""

from __future__ import annotations

import pytest

from irsa_nb.checks.webhook import parse_go_int64, selector_matches, webhook_skip_names
from tests.builders import k8s_objects as k8s

from .helpers import add_pod, add_sa, demo_docs, env, evidence, irsa_pod, one, results

WEBHOOKS = "k8s/mutatingwebhookconfigurations.json"


def _hook(docs):
    return docs[WEBHOOKS]["items"][0]["webhooks"][0]


def _webhook_row(docs, **kw):
    return one(results(docs, "webhook_configured", **kw))


# --- webhook_configured ---------------------------------------------------------------------


def test_eks_managed_webhook_passes_and_mentions_failure_policy_ignore():
    row = _webhook_row(demo_docs())
    assert row.status == "PASS"
    assert "pod-identity-webhook/iam-for-pods.amazonaws.com" in row.detail
    assert "failurePolicy Ignore" in row.detail


def test_missing_webhook_fails_listing_what_is_there():
    docs = demo_docs()
    other = k8s.mutating_webhook_configuration(
        "vpc-resource-mutating-webhook", webhook_name="mpod.vpc.k8s.aws"
    )
    docs[WEBHOOKS] = k8s.kube_list("MutatingWebhookConfigurationList", [other])
    row = _webhook_row(docs)
    assert row.status == "FAIL" and "vpc-resource-mutating-webhook" in row.detail


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda h: h["rules"][0].update(operations=["UPDATE"]), "no rule for CREATE of pods"),
        (lambda h: h["clientConfig"].update(caBundle=""), "empty clientConfig.caBundle"),
    ],
)
def test_broken_webhook_fails(mutate, words):
    docs = demo_docs()
    mutate(_hook(docs))
    row = _webhook_row(docs)
    assert row.status == "FAIL" and words in row.detail


def test_namespace_selector_that_excludes_a_target_fails_naming_the_pods():
    docs = demo_docs()
    _hook(docs)["namespaceSelector"] = {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["shop"]}
        ]
    }
    row = _webhook_row(docs)
    assert row.status == "FAIL" and "shop/checkout-7d4b9c6f5-k2x9p" in row.detail
    assert "kube-system/aws-node-8xk2q" not in row.detail


def test_object_selector_is_evaluated_against_pod_labels():
    docs = demo_docs()
    _hook(docs)["objectSelector"] = {
        "matchExpressions": [
            {"key": "eks.amazonaws.com/skip-pod-identity-webhook", "operator": "DoesNotExist"}
        ]
    }
    assert _webhook_row(docs).status == "PASS"
    pod = next(
        p for p in docs["k8s/pods.json"]["items"] if p["metadata"]["name"].startswith("cart-")
    )
    pod["metadata"]["labels"]["eks.amazonaws.com/skip-pod-identity-webhook"] = "true"
    row = _webhook_row(docs)
    assert row.status == "FAIL" and "shop/cart-5f6d8b7c9-q4w8e" in row.detail


def test_opt_in_selector_warns_when_the_bundle_kept_no_labels():
    docs = demo_docs()
    for p in docs["k8s/pods.json"]["items"]:  # e.g. a hand-made bundle without labels
        p["metadata"].pop("labels", None)
    _hook(docs)["objectSelector"] = {"matchLabels": {"irsa": "enabled"}}
    row = _webhook_row(docs)
    assert row.status == "WARN" and "irsa" in row.detail
    assert evidence(row)["pod_labels_collected"] is False
    # an opt-out selector cannot exclude a pod that does not carry the label: still PASS
    _hook(docs)["objectSelector"] = {
        "matchExpressions": [
            {"key": "eks.amazonaws.com/skip-pod-identity-webhook", "operator": "DoesNotExist"}
        ]
    }
    assert _webhook_row(docs).status == "PASS"


def test_webhook_list_not_collected_skips_naming_the_command():
    docs = demo_docs()
    del docs[WEBHOOKS]
    row = _webhook_row(docs)
    assert (
        row.status == "SKIP"
        and "kubectl get mutatingwebhookconfigurations -o json" in row.remediation
    )


def test_selector_matching():
    sel = {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}
    assert selector_matches(sel, {"a": "1", "b": "x"}, None) is True
    assert selector_matches(sel, {"a": "1"}, None) is False
    assert selector_matches(sel, {}, set()) is None
    assert selector_matches({}, {}, set()) is True


# --- token_expiration_valid ------------------------------------------------------------------


def _expiry(value, where="sa", volume=None):
    docs = demo_docs()
    ann = {"eks.amazonaws.com/token-expiration": value}
    add_sa(docs, "shop", "billing", "irsa-billing", ann if where == "sa" else None)
    kw = {"token_expiration": volume} if volume else {}
    pod = irsa_pod(
        "shop",
        "billing-5d4c3b2a1-q1w2e",
        "billing",
        "irsa-billing",
        annotations=ann if where == "pod" else None,
        **kw,
    )
    add_pod(docs, pod)
    return one(results(docs, "token_expiration_valid", namespace="shop", service_account="billing"))


def test_token_expiration_in_range_and_applied_passes():
    row = _expiry("3600", volume=3600)
    assert row.status == "PASS"


def test_unparsable_token_expiration_fails_because_the_webhook_ignores_it():
    row = one(results(demo_docs(), "token_expiration_valid"), service_account="batch")
    assert row.status == "FAIL" and "'24h'" in row.detail
    assert "eks.amazonaws.com/token-expiration=3600" in row.remediation
    assert _expiry("1h", where="pod").status == "FAIL"


def test_short_and_long_values_warn():
    row = _expiry("300", volume=600)
    assert row.status == "WARN" and "raises it to 600" in row.detail
    assert _expiry("172800", volume=172800).status == "WARN"


def test_annotation_changed_after_pod_creation_warns():
    row = _expiry("3600", volume=86400)
    assert row.status == "WARN" and "expirationSeconds 86400, not 3600" in row.detail


def test_no_annotation_passes_with_the_default():
    row = one(results(demo_docs(), "token_expiration_valid"), service_account="checkout")
    assert row.status == "PASS" and "86400" in row.detail


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3600", 3600),
        ("+600", 600),
        ("-5", -5),
        ("1h", None),
        (" 3600", None),
        ("1_000", None),
        ("", None),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("-9223372036854775808", -(2**63)),
        ("0" * 40 + "3600", 3600),  # Go accepts leading zeros
        ("9" * 5000, None),  # beyond Python's int digit limit: must not raise
        ("-" + "1" * 5000, None),
    ],
)
def test_go_parse_int(text, value):
    assert parse_go_int64(text) == value


def test_a_5000_digit_token_expiration_is_invalid_not_a_crash():
    row = _expiry("9" * 5000, where="pod")
    assert row.status == "FAIL" and "(5000 characters)" in row.detail and len(row.detail) < 500


# --- containers_skipped ----------------------------------------------------------------------


def _skipped(annotation, containers):
    docs = demo_docs()
    add_sa(docs, "shop", "billing", "irsa-billing")
    cs = [k8s.container(n, env=e) for n, e in containers]
    pod = irsa_pod(
        "shop",
        "billing-5d4c3b2a1-q1w2e",
        "billing",
        "irsa-billing",
        containers=cs,
        annotations={"eks.amazonaws.com/skip-containers": annotation},
    )
    add_pod(docs, pod)
    return one(results(docs, "containers_skipped", namespace="shop", service_account="billing"))


def test_skipped_container_that_talks_to_aws_fails():
    row = one(results(demo_docs(), "containers_skipped"), pod="exporter-1a0f9e8d7-k9l0z")
    assert row.status == "FAIL" and "metrics" in row.detail
    assert "kubectl rollout restart deployment/exporter -n shop" in row.remediation


def test_pod_without_the_annotation_passes():
    row = one(results(demo_docs(), "containers_skipped"), pod="checkout-7d4b9c6f5-k2x9p")
    assert row.status == "PASS"


def test_skipped_sidecar_without_aws_env_is_info():
    row = _skipped("istio-proxy", [("app", []), ("istio-proxy", [env("ISTIO_META", "x")])])
    assert row.status == "INFO" and "istio-proxy" in row.detail


def test_skipped_container_with_its_own_credentials_is_info():
    keys = [
        env("AWS_REGION", "us-west-2"),
        env("AWS_ACCESS_KEY_ID", secret=("k", "id")),
        env("AWS_SECRET_ACCESS_KEY", secret=("k", "s")),
    ]
    assert _skipped("legacy", [("app", []), ("legacy", keys)]).status == "INFO"


def test_names_with_spaces_match_nothing_and_warn():
    row = _skipped("app, sidecar", [("app", []), ("sidecar", [])])
    assert row.status == "WARN" and "' sidecar'" in row.detail


def test_unparsable_annotation_warns_that_nothing_is_skipped():
    assert _skipped('app"x', [("app", [])]).status == "WARN"


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("a,b", ["a", "b"]),
        ("a, b", ["a", " b"]),
        ('"a,b",c', ["a,b", "c"]),
        ('"a""b"', ['a"b']),
        ("a\nb", ["a"]),
        ('a"b', None),
        ('"a"b', None),
        ('"a', None),
        ("", None),
    ],
)
def test_webhook_skip_names_parse_like_go_csv(raw, names):
    assert webhook_skip_names(raw) == names
