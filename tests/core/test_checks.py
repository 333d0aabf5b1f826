"""A PASS and a FAIL (and the SKIP/ERROR paths) for every core check."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from irsa_nb import REGISTRY, RESULT_COLUMNS, TargetNotFound
from irsa_nb.bundle import CallFailed, Unreadable, provider_path, role_path

from .helpers import demo_docs, evidence, only, pod_doc, results, sa_doc

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
ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C"
PROVIDER = f"arn:aws:iam::111122223333:oidc-provider/{ISSUER}"


@pytest.fixture(scope="module")
def demo():
    return results(demo_docs())


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
    assert set(rows[rows.status == "SKIP"].check_id) == {"sdk_version_supported"}
    assert {"PASS"} == set(rows[rows.check_id != "sdk_version_supported"].status)


# --- oidc_provider_exists ----------------------------------------------------------------


def test_oidc_provider_exists_passes_naming_the_provider(demo):
    row = only(demo, "oidc_provider_exists")
    assert row.status == "PASS"
    assert PROVIDER in row.detail


def test_oidc_provider_missing_fails_with_create_command():
    df = results(demo_docs("no-oidc"))
    row = only(df, "oidc_provider_exists")
    assert row.status == "FAIL"
    assert "A1B2C3D4E5F60718293A4B5C6D7E8F90" in row.detail
    assert "eksctl utils associate-iam-oidc-provider --cluster billing-staging" in row.remediation


def test_oidc_provider_for_an_old_issuer_suggests_recreated_cluster():
    docs = demo_docs()
    stale = PROVIDER.replace("5C6D1A7E", "00000000")
    docs["aws/iam/list-open-id-connect-providers.json"]["OpenIDConnectProviderList"] = [
        {"Arn": stale}
    ]
    row = only(results(docs), "oidc_provider_exists")
    assert row.status == "FAIL"
    assert "recreated" in row.detail and stale in row.detail


def test_oidc_provider_list_not_collected_is_skip_naming_the_command():
    docs = demo_docs()
    del docs["aws/iam/list-open-id-connect-providers.json"]
    row = only(results(docs), "oidc_provider_exists")
    assert row.status == "SKIP"
    assert "aws iam list-open-id-connect-providers" in row.remediation


def test_oidc_provider_list_access_denied_is_error():
    docs = demo_docs()
    docs["aws/iam/list-open-id-connect-providers.json"] = CallFailed(
        "An error occurred (AccessDenied) when calling the ListOpenIDConnectProviders operation: "
        "User: arn:aws:iam::111122223333:user/support is not authorized"
    )
    row = only(results(docs), "oidc_provider_exists")
    assert row.status == "ERROR"
    assert "AccessDenied" in row.detail


# --- role_exists / role_has_policies ---------------------------------------------------------


def test_role_exists_pass_and_nosuchentity_fail(demo):
    assert only(demo, "role_exists", service_account="checkout").status == "PASS"
    row = only(demo, "role_exists", service_account="payments")
    assert row.status == "FAIL"
    assert "irsa-payments" in row.detail and "aws iam create-role" in row.remediation


def test_role_access_denied_is_error_not_fail():
    docs = demo_docs()
    docs[role_path("get-role", "irsa-checkout")] = CallFailed(
        "An error occurred (AccessDenied) when calling the GetRole operation: denied"
    )
    df = results(docs, namespace="shop", service_account="checkout")
    assert only(df, "role_exists").status == "ERROR"
    assert only(df, "trust_policy_allows_service_account").status == "SKIP"


def test_role_not_collected_is_skip_with_get_role_command():
    docs = demo_docs()
    del docs[role_path("get-role", "irsa-checkout")]
    row = only(results(docs, namespace="shop", service_account="checkout"), "role_exists")
    assert row.status == "SKIP"
    assert "aws iam get-role --role-name irsa-checkout" in row.remediation


def test_role_from_another_account_is_reported_not_confused():
    docs = demo_docs()
    sa_doc(docs, "shop", "checkout")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = (
        "arn:aws:iam::444455556666:role/irsa-checkout"
    )
    row = only(results(docs, namespace="shop", service_account="checkout"), "role_exists")
    assert row.status == "ERROR"
    assert "444455556666" in row.detail


def test_role_has_policies_lists_attached_and_inline(demo):
    row = only(demo, "role_has_policies", service_account="checkout")
    assert row.status == "PASS"
    assert "AmazonSQSFullAccess" in row.detail and "checkout-dynamodb" in row.detail
    row = only(demo, "role_has_policies", service_account="search")
    assert row.status == "FAIL"
    assert "attach-role-policy --role-name irsa-search" in row.remediation


def test_role_policy_lists_unreadable_is_error():
    docs = demo_docs()
    denied = CallFailed("An error occurred (AccessDenied) when calling the ListRolePolicies")
    docs[role_path("list-attached-role-policies", "irsa-search")] = denied
    docs[role_path("list-role-policies", "irsa-search")] = denied
    row = only(results(docs, namespace="shop", service_account="search"), "role_has_policies")
    assert row.status == "ERROR"


# --- trust_policy_allows_service_account ------------------------------------------------------


def test_trust_policy_pass_and_wrong_namespace_fail(demo):
    assert only(demo, "trust_policy_allows_service_account", service_account="checkout").status == (
        "PASS"
    )
    row = only(demo, "trust_policy_allows_service_account", service_account="cart")
    assert row.status == "FAIL"
    assert "system:serviceaccount:default:cart" in row.detail
    assert "system:serviceaccount:shop:cart" in row.remediation
    assert "update-assume-role-policy --role-name irsa-cart" in row.remediation
    assert evidence(row)["request"]["sub"] == "system:serviceaccount:shop:cart"


def test_trust_policy_as_url_encoded_string_loads():
    docs = demo_docs()
    role = docs[role_path("get-role", "irsa-checkout")]["Role"]
    role["AssumeRolePolicyDocument"] = urllib.parse.quote(
        json.dumps(role["AssumeRolePolicyDocument"])
    )
    df = results(docs, namespace="shop", service_account="checkout")
    assert only(df, "trust_policy_allows_service_account").status == "PASS"


def test_trust_policy_explicit_deny_wins():
    docs = demo_docs()
    doc = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"]
    doc["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:shop:*"}},
        }
    )
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "trust_policy_allows_service_account",
    )
    assert row.status == "FAIL"
    assert "Deny" in row.detail


def test_trust_policy_stringequals_wildcard_is_literal():
    docs = demo_docs()
    doc = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"]
    doc["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:sub"] = (
        "system:serviceaccount:shop:*"
    )
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "trust_policy_allows_service_account",
    )
    assert row.status == "FAIL"
    assert "StringLike" in row.detail


def test_trust_policy_other_clusters_provider_fails_naming_issuer_id():
    docs = demo_docs()
    doc = docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"]
    other = "oidc.eks.us-west-2.amazonaws.com/id/AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDD"
    text = json.dumps(doc).replace(ISSUER, other)
    docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"] = json.loads(
        text
    )
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "trust_policy_allows_service_account",
    )
    assert row.status == "FAIL"
    assert "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDD" in row.detail


def test_trust_policy_that_cannot_be_parsed_is_error():
    docs = demo_docs()
    docs[role_path("get-role", "irsa-checkout")]["Role"]["AssumeRolePolicyDocument"] = "{not json"
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "trust_policy_allows_service_account",
    )
    assert row.status == "ERROR"


# --- service account ------------------------------------------------------------------------


def test_service_account_exists_pass_and_missing_fail(demo):
    assert only(demo, "service_account_exists", service_account="checkout").status == "PASS"
    row = only(demo, "service_account_exists", service_account="order")
    assert row.status == "FAIL"
    assert "orders-api-7b6c5d4f3-h8j9k" in row.detail
    assert "kubectl create serviceaccount order -n shop" in row.remediation


def test_requested_service_account_that_does_not_exist_fails():
    df = results(demo_docs(), namespace="shop", service_account="nope")
    assert only(df, "service_account_exists").status == "FAIL"
    assert only(df, "role_exists").status == "SKIP"


def test_role_annotation_missing_and_malformed_fail(demo):
    assert only(demo, "service_account_role_annotation", service_account="checkout").status == (
        "PASS"
    )
    row = only(demo, "service_account_role_annotation", service_account="inventory")
    assert row.status == "FAIL"
    assert "12-digit" in row.detail
    df = results(demo_docs(), namespace="shop", service_account="default")
    row = only(df, "service_account_role_annotation")
    assert row.status == "FAIL"
    assert "kubectl annotate serviceaccount default -n shop" in row.remediation
    assert "arn:aws:iam::111122223333:role/" in row.remediation


def test_role_annotation_naming_a_user_is_invalid():
    docs = demo_docs()
    sa_doc(docs, "shop", "checkout")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = (
        "arn:aws:iam::111122223333:user/checkout"
    )
    row = only(
        results(docs, namespace="shop", service_account="checkout"),
        "service_account_role_annotation",
    )
    assert row.status == "FAIL"
    assert "not an IAM role" in row.detail


# --- pods -----------------------------------------------------------------------------------


def test_pod_uses_service_account_pass_and_missing_service_account_fail(demo):
    assert only(demo, "pod_uses_service_account", pod="checkout-7d4b9c6f5-k2x9p").status == "PASS"
    row = only(demo, "pod_uses_service_account", pod="orders-api-7b6c5d4f3-h8j9k")
    assert row.status == "FAIL"
    assert "does not exist" in row.detail


def test_pod_on_default_service_account_fails_when_targeted():
    df = results(demo_docs(), namespace="shop", pod="frontend-7f6e5d4c3-t7y8u")
    row = only(df, "pod_uses_service_account")
    assert row.status == "FAIL"
    assert "default" in row.detail and "checkout" in row.detail


def test_pod_using_another_service_account_than_requested_fails():
    df = results(
        demo_docs(), namespace="shop", service_account="checkout", pod="cart-5f6d8b7c9-q4w8e"
    )
    row = only(df, "pod_uses_service_account")
    assert row.status == "FAIL"
    assert "uses service account cart, not checkout" in row.detail


def test_namespace_scope_warns_for_pods_without_an_annotated_service_account():
    df = results(demo_docs(), namespace="shop")
    assert only(df, "pod_uses_service_account", pod="frontend-7f6e5d4c3-t7y8u").status == "WARN"


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


def test_pod_matches_annotation_pass_stale_and_not_injected(demo):
    assert only(demo, "pod_matches_annotation", pod="checkout-7d4b9c6f5-k2x9p").status == "PASS"
    row = only(demo, "pod_matches_annotation", pod="recommender-6d5c4b3a2-p0o9i")
    assert row.status == "FAIL"
    assert "irsa-recommender-v1" in row.detail
    assert "kubectl rollout restart deployment/recommender -n shop" in row.remediation
    row = only(demo, "pod_matches_annotation", pod="notifications-9f8e7d6c5-a1b2c")
    assert row.status == "FAIL" and "created before the annotation" in row.detail


def test_annotated_pod_without_injection_fails_env_and_annotation_checks(demo):
    pod = "notifications-9f8e7d6c5-a1b2c"
    assert only(demo, "pod_has_irsa_env", pod=pod).status == "FAIL"
    assert only(demo, "pod_matches_annotation", pod=pod).status == "FAIL"


def test_restart_command_follows_the_owner():
    docs = demo_docs()
    row = only(results(docs), "pod_matches_annotation", pod="recommender-6d5c4b3a2-p0o9i")
    assert "deployment/recommender" in row.remediation
    pod_doc(docs, "recommender-")["metadata"]["ownerReferences"] = []
    row = only(results(docs), "pod_matches_annotation", pod="recommender-6d5c4b3a2-p0o9i")
    assert "kubectl delete pod recommender-6d5c4b3a2-p0o9i -n shop" in row.remediation


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


# --- sdk ----------------------------------------------------------------------------------------


def test_sdk_not_given_is_skip_with_how_to_find_it(demo):
    row = only(demo, "sdk_version_supported", service_account="checkout")
    assert row.status == "SKIP"
    assert "pip show boto3" in row.remediation and "checkout-7d4b9c6f5-k2x9p" in row.remediation


@pytest.mark.parametrize(
    ("sdk", "status"),
    [
        ({"boto3": "1.9.100"}, "FAIL"),
        ({"boto3": "1.9.220"}, "PASS"),
        ({"Python": "1.34.0"}, "PASS"),
        ({"botocore": "1.12.199"}, "FAIL"),
        ({"AWSCLI": "1.16.232"}, "PASS"),
        ({"java2": "2.10.10"}, "FAIL"),
        ({"java": "1.11.800"}, "WARN"),  # article's minimum met, AWS now lists 1.12.782
        ({"java": "1.12.782"}, "PASS"),
        ({"go": "1.23.9"}, "FAIL"),  # numeric, not string comparison
        ({"go": "1.100.0"}, "PASS"),
        ({"node": "2.524.0"}, "FAIL"),
        ({"js": "3.20.0"}, "WARN"),
        ({"ruby": "3.10.0"}, "WARN"),
        ({".NET": "3.3.659.1"}, "PASS"),
        ({"cpp": "1.7.9"}, "FAIL"),
        ({"php": "v3.110.7"}, "PASS"),
    ],
)
def test_sdk_versions_compare_numerically(sdk, status):
    df = results(demo_docs(), namespace="shop", service_account="checkout", sdk=sdk)
    assert only(df, "sdk_version_supported").status == status


def test_unknown_sdk_or_version_raises_value_error():
    with pytest.raises(ValueError, match="unknown SDK"):
        results(demo_docs(), sdk={"cobol": "1.0"})
    with pytest.raises(ValueError, match="SDK version"):
        results(demo_docs(), sdk={"boto3": "latest"})


# --- audience, thumbprint, china --------------------------------------------------------------


def test_audience_pass_and_typo_fail(demo):
    assert only(demo, "provider_audience_matches", service_account="checkout").status == "PASS"
    row = only(demo, "provider_audience_matches", service_account="analytics")
    assert row.status == "FAIL"
    assert "sts.amazon.com" in row.detail
    assert "add-client-id-to-open-id-connect-provider" in row.remediation


def test_audience_provider_details_not_collected_is_skip():
    docs = demo_docs()
    del docs[provider_path(PROVIDER)]
    row = only(
        results(docs, namespace="shop", service_account="checkout"), "provider_audience_matches"
    )
    assert row.status == "SKIP"
    assert f"--open-id-connect-provider-arn {PROVIDER}" in row.remediation


def test_thumbprint_pass_and_eks_mismatch_is_only_warn(demo):
    assert only(demo, "provider_thumbprint_matches").status == "PASS"
    assert only(results(demo_docs("k8s-118")), "provider_thumbprint_matches").status == "WARN"


def test_thumbprint_mismatch_on_a_self_hosted_issuer_fails():
    docs = demo_docs("k8s-118")
    text = json.dumps({k: v for k, v in docs.items() if not isinstance(v, str)})
    text = text.replace("oidc.eks.us-east-1.amazonaws.com", "oidc.example.internal")
    new = {k: v for k, v in json.loads(text).items()}
    new = {
        k.replace("oidc.eks.us-east-1.amazonaws.com", "oidc.example.internal"): v
        for k, v in new.items()
    }
    new["tls/issuer-chain.pem"] = docs["tls/issuer-chain.pem"]
    assert only(results(new), "provider_thumbprint_matches").status == "FAIL"


def test_thumbprint_chain_not_collected_names_openssl_for_the_issuer_host():
    docs = demo_docs()
    del docs["tls/issuer-chain.pem"]
    row = only(results(docs), "provider_thumbprint_matches")
    assert row.status == "SKIP"
    assert "openssl s_client -connect oidc.eks.us-west-2.amazonaws.com:443" in row.remediation


def test_thumbprint_not_configured_is_info():
    docs = demo_docs()
    docs[provider_path(PROVIDER)]["ThumbprintList"] = []
    assert only(results(docs), "provider_thumbprint_matches").status == "INFO"


def test_china_region_env_fail_pass_and_skip_elsewhere(demo):
    assert only(demo, "china_region_env").status == "SKIP"
    df = results(demo_docs("china"))
    row = only(df, "china_region_env", pod="pricing-6b5a4f3e2-r4t5y")
    assert row.status == "FAIL"
    assert 'value: "cn-north-1"' in row.remediation
    assert only(df, "china_region_env", pod="catalog-7c6b5a4f3-q2w3e").status == "PASS"


# --- targets and unreadable inputs ------------------------------------------------------------


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


def test_a_v_prefixed_cluster_version_is_read():
    docs = demo_docs("k8s-118")
    del docs["k8s/version.json"]
    docs["aws/eks/describe-cluster.json"]["cluster"]["version"] = "v1.18"
    row = only(results(docs), "pod_can_read_token", pod="exporter-5d4c3b2a1-x1c2v")
    assert row.status == "FAIL"


def _discovery(keys):
    issuer = f"https://{ISSUER}"
    return {
        "openid_configuration": {
            "url": f"{issuer}/.well-known/openid-configuration",
            "status": 200,
            "tls_verified": True,
            "error": None,
            "issuer": issuer,
            "jwks_uri": f"{issuer}/keys",
        },
        "jwks": {
            "url": f"{issuer}/keys",
            "status": 200,
            "tls_verified": True,
            "error": None,
            "keys": keys,
        },
    }


def test_issuer_discovery_passes_with_keys_and_fails_with_an_empty_key_set():
    docs = demo_docs()
    docs["tls/discovery.json"] = _discovery(2)
    assert only(results(docs), "issuer_discovery_reachable").status == "PASS"
    docs["tls/discovery.json"] = _discovery(0)
    row = only(results(docs), "issuer_discovery_reachable")
    assert row.status == "FAIL" and "no keys" in row.detail


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
