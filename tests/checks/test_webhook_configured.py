"""webhook_configured: the pod identity webhook is registered for pod CREATE with a CA bundle and
its selectors keep the pods (needs `k8s/mutatingwebhookconfigurations.json`)."""

from __future__ import annotations

import pytest

from irsa_nb.checks.webhook import selector_matches
from tests.builders import k8s_objects as k8s
from tests.checks.helpers import demo_docs, evidence, one, only, outcome, results

WEBHOOKS = "k8s/mutatingwebhookconfigurations.json"


def _hook(docs):
    return docs[WEBHOOKS]["items"][0]["webhooks"][0]


def _webhook_row(docs, **kw):
    return one(results(docs, "webhook_configured", **kw))


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


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {},
        "PASS",
        "pass_ignore",
        "Webhook pod-identity-webhook/iam-for-pods.amazonaws.com mutates pod CREATE and selects "
        "every checked pod; with failurePolicy Ignore, pods created while it is unreachable start "
        "without IRSA.",
        {
            "pod_labels_collected": True,
            "webhooks": [
                {
                    "caBundle_set": True,
                    "failurePolicy": "Ignore",
                    "namespaceSelector": {},
                    "objectSelector": {},
                    "rules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE"],
                            "resources": ["pods"],
                            "scope": "*",
                        }
                    ],
                    "webhook": "pod-identity-webhook/iam-for-pods.amazonaws.com",
                }
            ],
        },
    )
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "webhook_configured", **where), status, key, detail, ev)
