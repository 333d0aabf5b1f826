"""containers_skipped: containers listed in `eks.amazonaws.com/skip-containers` do not need AWS."""

from __future__ import annotations

import pytest

from irsa_nb.checks.webhook import webhook_skip_names
from tests.builders import k8s_objects as k8s
from tests.checks.helpers import (
    add_pod,
    add_sa,
    demo_docs,
    env,
    irsa_pod,
    one,
    only,
    outcome,
    results,
)


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


def test_an_unmutated_pod_without_the_annotation_is_not_called_mutated():
    """Pods the webhook missed (created before the annotation) carry no IRSA variables and no
    aws-iam-token volume; "every container is mutated" would be false of them."""
    df = results(demo_docs(), "containers_skipped")
    row = one(df, pod="notifications-9f8e7d6c5-a1b2c")  # the demo's un-mutated pod
    assert row.status == "SKIP" and "did not mutate" in row.detail, row.detail
    assert "mutated." not in row.detail


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


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"pod": "aws-node-8xk2q"},
        "PASS",
        "none",
        "Pod kube-system/aws-node-8xk2q has no eks.amazonaws.com/skip-containers annotation; "
        "every container is mutated.",
        {},
    ),
    (
        {"pod": "exporter-1a0f9e8d7-k9l0z"},
        "FAIL",
        "needs_aws",
        "Containers metrics of shop/exporter-1a0f9e8d7-k9l0z are skipped by "
        "eks.amazonaws.com/skip-containers but have AWS_* variables and no credentials of their "
        "own, so they fall back to the node role.",
        {
            "annotation": "metrics",
            "aws_env": {"metrics": ["AWS_REGION"]},
            "skipped": ["metrics"],
            "unknown": [],
        },
    ),
    (
        {"pod": "orders-api-7b6c5d4f3-h8j9k"},
        "SKIP",
        "_no_service_account",
        "Service account shop/order does not exist, so there is nothing to check here (see "
        "service_account_exists).",
        {},
    ),
    (
        {"pod": "reports-4b3a2f1e0-w5e6r"},
        "SKIP",
        "_no_role_annotation",
        "Service account shop/reports has no eks.amazonaws.com/role-arn annotation, so there is "
        "no role to check (see service_account_role_annotation).",
        {},
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "containers_skipped", **where), status, key, detail, ev)
