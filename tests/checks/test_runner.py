"""The registry and the runner across checks: every core check registered, the result columns,
targets that do not exist, unreadable and wrongly shaped documents, a crashing check, and
tests that assert on several checks at once."""

from __future__ import annotations

import pytest

from irsa_nb import REGISTRY, RESULT_COLUMNS, TargetNotFound
from irsa_nb.bundle import CallFailed, Unreadable
from tests.checks.helpers import demo_docs, only, pod_doc, results

CORE_CHECKS = [
    "oidc_provider_exists",
    "role_exists",
    "role_has_policies",
    "trust_policy_allows_service_account",
    "service_account_exists",
    "service_account_role_annotation",
    "pod_uses_service_account",
    "pod_has_irsa_env",
    "sdk_version_supported",
    "pod_can_read_token",
    "pod_matches_annotation",
    "provider_audience_matches",
    "provider_thumbprint_matches",
    "china_region_env",
]


def test_every_core_check_is_registered_with_its_seed_step():
    assert set(CORE_CHECKS) <= set(REGISTRY)
    steps = {c: REGISTRY[c].seed_step for c in CORE_CHECKS}
    assert steps["oidc_provider_exists"] == 1
    assert steps["trust_policy_allows_service_account"] == 3
    assert steps["china_region_env"] == 13
    assert all(REGISTRY[c].doc_url.startswith("https://") for c in CORE_CHECKS)


def test_result_columns_are_fixed_and_kept_when_empty(demo):
    assert list(demo.columns) == RESULT_COLUMNS
    docs = demo_docs()
    docs["k8s/serviceaccounts.json"]["items"] = []
    docs["k8s/pods.json"]["items"] = []
    empty = results(docs, checks=["role_exists"])
    assert list(empty.columns) == RESULT_COLUMNS
    assert empty.empty


def test_healthy_service_account_has_no_fail_or_error(demo):
    rows = demo[(demo.namespace == "shop") & (demo.service_account == "checkout")]
    assert set(rows.status) <= {"PASS", "SKIP"}
    # without --sdk and --cloudtrail those two cannot be judged
    assert set(rows[rows.status == "SKIP"].check_id) == {
        "sdk_version_supported",
        "sts_recent_calls",
    }
    judged = ~rows.check_id.isin(["sdk_version_supported", "sts_recent_calls"])
    assert {"PASS"} == set(rows[judged].status)


def test_annotated_pod_without_injection_fails_env_and_annotation_checks(demo):
    pod = "notifications-9f8e7d6c5-a1b2c"
    assert only(demo, "pod_has_irsa_env", pod=pod).status == "FAIL"
    assert only(demo, "pod_matches_annotation", pod=pod).status == "FAIL"


def test_unknown_pod_raises_target_not_found():
    with pytest.raises(TargetNotFound, match="pod ghost not found in namespace shop"):
        results(demo_docs(), namespace="shop", pod="ghost")


def test_unknown_namespace_raises_target_not_found_but_an_unreadable_one_is_checked():
    with pytest.raises(TargetNotFound, match="namespace nosuchns not found"):
        results(demo_docs(), namespace="nosuchns")
    docs = demo_docs()
    docs["k8s/namespaces/locked/pods.json"] = CallFailed("Error from server (Forbidden): no")
    df = results(docs, namespace="locked")
    assert only(df, "namespaces_readable").status == "ERROR"


def test_pod_target_without_namespace_is_found():
    df = results(demo_docs(), pod="cart-5f6d8b7c9-q4w8e")
    assert set(df[df.pod != ""].pod) == {"cart-5f6d8b7c9-q4w8e"}
    assert only(df, "trust_policy_allows_service_account").status == "FAIL"


def test_invalid_pods_json_gives_an_error_row_not_silence():
    docs = demo_docs()
    docs["k8s/pods.json"] = Unreadable("k8s/pods.json is not valid JSON (line 3: Expecting value)")
    df = results(docs)
    row = only(df, "pod_uses_service_account")
    assert row.status == "ERROR" and "not valid JSON" in row.detail
    assert "FAIL" not in set(df[df.check_id.isin(["pod_has_irsa_env"])].status)


def test_wrong_document_shapes_give_error_rows():
    docs = demo_docs()
    docs["aws/eks/describe-cluster.json"] = {"clusters": []}
    docs["k8s/serviceaccounts.json"] = ["not", "a", "list object"]
    df = results(docs)
    assert only(df, "oidc_provider_exists").status == "ERROR"
    # every pod's service account is a target, and each says the list could not be read
    assert set(df[df.check_id == "service_account_exists"].status) == {"ERROR"}
    # the only FAILs left are what the pod specs themselves show
    fails = df[df.status == "FAIL"]
    assert set(zip(fails.check_id, fails.pod, strict=True)) == {
        ("pod_has_irsa_env", "emailer-5c4b3a2f1-e3r4t"),  # half-configured env
        ("no_credentials_override", "ledger-6a5b4c3d2-g7h8j"),  # static keys in env
    }


def test_nothing_fails_wrongly_when_everything_is_missing():
    df = results({"k8s/pods.json": {"items": []}})
    assert "FAIL" not in set(df.status)
    assert only(df, "oidc_provider_exists").status == "SKIP"


def _crash_role_has_policies(monkeypatch, exc: Exception) -> None:
    """Replace the role_has_policies check by one that raises ``exc``."""
    import dataclasses

    from irsa_nb.checks import registry

    def boom(ctx, target):
        raise exc
        yield  # pragma: no cover

    chk = registry.REGISTRY["role_has_policies"]
    monkeypatch.setitem(registry.REGISTRY, chk.id, dataclasses.replace(chk, func=boom))


def test_a_crashing_check_becomes_one_error_row_and_the_others_still_run(monkeypatch):
    _crash_role_has_policies(monkeypatch, KeyError("surprise"))
    df = results(demo_docs())
    row = only(df, "role_has_policies")
    assert row.status == "ERROR" and "KeyError" in row.detail and "--debug" in row.remediation
    assert only(df, "role_exists", service_account="payments").status == "FAIL"


def test_a_crash_logs_one_warning_line_and_the_traceback_only_at_debug(monkeypatch, caplog):
    import logging

    _crash_role_has_policies(monkeypatch, ValueError("first line\nsecond line"))
    with caplog.at_level(logging.DEBUG, logger="irsa_nb"):
        df = results(demo_docs(), namespace="shop", service_account="checkout")
    assert only(df, "role_has_policies").status == "ERROR"
    crash = [r for r in caplog.records if "role_has_policies" in r.getMessage()]
    shown = [r for r in crash if r.levelno >= logging.WARNING]
    assert len(shown) == 1 and shown[0].levelno == logging.WARNING
    assert shown[0].exc_info is None and "\n" not in shown[0].getMessage()
    assert "ValueError: first line" in shown[0].getMessage()
    traced = [r for r in crash if r.levelno == logging.DEBUG]
    assert len(traced) == 1 and traced[0].exc_info is not None


def _cart_pod_with(mutate):
    docs = demo_docs()
    mutate(pod_doc(docs, "cart-"))
    return results(docs, pod="cart-5f6d8b7c9-q4w8e")


POD_SCOPE = [c.id for c in REGISTRY.values() if c.scope == "pod"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["spec"].update(containers={"name": "app"}), "spec.containers is an object"),
        (lambda p: p.update(spec=None), "spec is null"),
        (lambda p: p["spec"].update(serviceAccountName=["cart"]), "spec.serviceAccountName"),
        (lambda p: p["spec"]["containers"].append("sidecar"), "spec.containers[1] is a string"),
        (lambda p: p["spec"]["containers"][0].update(env={"A": "b"}), "containers[0].env is"),
    ],
)
def test_a_wrongly_shaped_pod_gives_error_rows_naming_the_field(mutate, field):
    df = _cart_pod_with(mutate)
    for check_id in POD_SCOPE:
        row = only(df, check_id)
        assert row.status == "ERROR", (check_id, row.detail)
        assert "k8s/pods.json" in row.detail and field in row.detail, row.detail
        assert "kubectl get pods --all-namespaces -o json" in row.remediation
    assert "shop/['cart']" not in " ".join(df.detail)  # the alias serviceAccount is used
    assert not len(df[(df.pod != "") & (df.status == "FAIL")])


def test_a_wrongly_typed_service_account_name_makes_no_missing_service_account():
    docs = demo_docs()
    spec = pod_doc(docs, "cart-")["spec"]
    spec["serviceAccountName"] = ["cart"]
    spec.pop("serviceAccount", None)
    df = results(docs, namespace="shop")
    odd = df[df.service_account == "['cart']"]
    assert len(odd) and "FAIL" not in set(odd.status), odd[["check_id", "status"]]
    assert "spec.serviceAccountName is a list" in only(odd, "service_account_exists").detail


def test_a_pod_without_containers_is_an_error_for_every_pod_check():
    df = _cart_pod_with(lambda p: p["spec"].update(containers=[]))
    for check_id in POD_SCOPE:
        row = only(df, check_id)
        assert row.status == "ERROR", (check_id, row.detail)
        assert "spec.containers is missing or empty" in row.detail, row.detail


def test_demo_pods_are_well_formed():
    from irsa_nb import load_bundle

    assert [p.name for p in load_bundle("demo").pods if p.shape_errors] == []


def test_pod_identity_credentials_skip_the_irsa_pod_checks_and_point_to_precedence(demo):
    pod = "fulfillment-3c2b1a0f9-d4f5g"
    for check_id in ("pod_has_irsa_env", "pod_matches_annotation"):
        row = only(demo, check_id, pod=pod)
        assert row.status == "SKIP", (check_id, row.detail)
        assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in row.detail
        assert (
            "pod_identity_precedence" in row.detail and "pod_identity_precedence" in row.remediation
        )
        assert "rollout restart" not in row.remediation
    assert only(demo, "pod_identity_precedence", service_account="fulfillment").status == "FAIL"
    zh = results(demo_docs(), namespace="shop", service_account="fulfillment", lang="zh")
    row = only(zh, "pod_matches_annotation")
    assert row.status == "SKIP" and "pod_identity_precedence" in row.detail
    assert "Pod Identity" in row.detail and "注入" in row.detail
