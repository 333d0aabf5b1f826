"""Predicted identity: which credentials each container's SDK uses (the SDKs' credential
chains: https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html)."""

from __future__ import annotations

import pytest

import irsa_nb
from irsa_nb.credentials import IDENTITY_COLUMNS, chain_for, predict, predicted_identity
from irsa_nb.inventory import PodIdentityAssociation
from irsa_nb.k8s import Pod
from tests.builders import k8s_objects as k8s
from tests.checks.helpers import env, irsa_pod, role_arn


def _pod(extra_env=(), env_from=None, role="app-role", **kwargs) -> Pod:
    c = k8s.container("app", env=list(extra_env))
    if env_from:
        c["envFrom"] = env_from
    return Pod.from_k8s(
        irsa_pod("shop", "app-5d4c3b2a1-x1x2x", "app", role, containers=[c], **kwargs)
    )


def _source(pod: Pod, sdk=None, version=None, assoc=None):
    pr = predict(pod, pod.containers[0], sdk, version, assoc)
    return pr.source, pr.certainty, pr


def test_web_identity_wins_when_both_variables_are_injected():
    source, certainty, pr = _source(_pod())
    assert (source, certainty) == ("web_identity", "spec-only")
    assert pr.role_arn == role_arn("app-role")


def test_web_identity_from_the_spec_alone_is_spec_only_and_names_what_was_not_seen():
    """The pod spec cannot show the image's ENV or files baked into it (README, "In-pod
    evidence"): static keys or a profile there come before web identity in every chain."""
    pod = _pod()
    c = pod.containers[0]
    pr = predict(pod, c)
    assert pr.certainty == "spec-only" and pr.unseen == ("image_env", "aws_files")
    assert "pod spec only" in pr.rule and "--exec" in pr.rule
    assert "镜像的 ENV" in pr.rule.in_lang("zh")
    # the environment seen inside, but no shared files: a profile could still come first
    pr = predict(pod, c, env_seen=True)
    assert (pr.certainty, pr.unseen) == ("spec-only", ("aws_files",))
    # both seen: certain; an SDK without a profile link before web identity needs only the env
    assert predict(pod, c, env_seen=True, aws_files=()).certainty == "certain"
    assert predict(pod, c, "go2", "1.30.0", env_seen=True).certainty == "certain"
    assert predict(pod, c, "go2", "1.30.0").unseen == ("image_env",)


def test_static_keys_in_the_spec_stay_certain():
    """Nothing precedes environment keys in the chain, so no unseen fact can change them."""
    pod = _pod([env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), env("AWS_SECRET_ACCESS_KEY", "x")])
    pr = predict(pod, pod.containers[0], "boto3", "1.34.0")
    assert (pr.source, pr.certainty, pr.unseen) == ("env_keys", "certain", ())


def test_literal_static_keys_beat_web_identity_in_every_sdk_that_reads_env_first():
    pod = _pod([env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), env("AWS_SECRET_ACCESS_KEY", "x")])
    for sdk, version in [(None, None), ("boto3", "1.34.0"), ("go2", "1.30.0"), ("java2", "2.25.0")]:
        source, certainty, pr = _source(pod, sdk, version)
        assert (source, certainty) == ("env_keys", "certain"), sdk
        assert "AWS_ACCESS_KEY_ID (literal value)" in pr.rule
        assert pr.role_arn is None


def test_secret_key_refs_name_the_secret_and_never_a_value():
    pod = _pod(
        [
            env("AWS_ACCESS_KEY_ID", secret=("legacy-keys", "id")),
            env("AWS_SECRET_ACCESS_KEY", secret=("legacy-keys", "secret")),
        ]
    )
    source, _, pr = _source(pod)
    assert source == "env_keys"
    assert "from secret legacy-keys/id" in pr.rule and "legacy-keys/secret" in pr.rule


def test_env_from_secret_makes_static_keys_possible_and_names_the_secret():
    pod = _pod(env_from=[{"secretRef": {"name": "app-env"}}])
    source, certainty, pr = _source(pod)
    assert (source, certainty) == ("env_keys", "possible")
    assert "secret app-env" in pr.rule
    assert pr.winner.source == "web_identity"  # what it uses if the secret has no keys


def test_only_role_arn_means_web_identity_is_never_selected():
    raw = k8s.pod(
        "shop",
        "x-1",
        "x",
        containers=[k8s.container("app", env=[env("AWS_ROLE_ARN", role_arn("r"))])],
    )
    pod = Pod.from_k8s(raw)
    source, certainty, pr = _source(pod)
    assert source == "imds" and certainty == "possible"
    assert "node role" in pr.rule


def test_token_file_without_role_arn_is_an_error_in_go_and_botocore_but_not_java():
    c = k8s.container("app", env=[env("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/x/token")])
    pod = Pod.from_k8s(k8s.pod("shop", "x-1", "x", containers=[c]))
    for sdk, version in [("go", "1.44.0"), ("boto3", "1.34.0")]:
        source, certainty, pr = _source(pod, sdk, version)
        assert (source, certainty) == ("none", "spec-only")  # image ENV keys would come first
        assert "role ARN is not set" in pr.rule
    assert _source(pod, "java2", "2.20.0")[0] == "imds"


def test_js_v3_skips_env_keys_when_aws_profile_is_set():
    pod = _pod(
        [
            env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            env("AWS_SECRET_ACCESS_KEY", "x"),
            env("AWS_PROFILE", "ci"),
        ]
    )
    source, certainty, pr = _source(pod, "node", "3.600.0")
    assert (source, certainty) == ("profile", "possible")
    assert "AWS_PROFILE=ci" in pr.rule
    assert pr.winner.source == "web_identity"
    # boto3 reads the env keys first regardless of AWS_PROFILE
    assert _source(pod, "boto3", "1.34.0")[0] == "env_keys"


def test_js_v2_picks_container_credentials_before_web_identity():
    pod = _pod([env("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials")])
    assoc = PodIdentityAssociation("shop", "app", "a-123", "arn:aws:eks:...")
    source, certainty, pr = _source(pod, "node", "2.1500.0", assoc)
    assert (source, certainty) == ("container", "spec-only")
    assert "EKS Pod Identity" in pr.rule and "a-123" in pr.rule
    assert _source(pod, "node", "3.600.0")[0] == "web_identity"
    assert _source(pod, "go2", "1.30.0")[0] == "web_identity"


def test_dotnet_v3_reads_profiles_before_env_keys_and_v4_does_not():
    pod = _pod(
        [
            env("AWS_SHARED_CREDENTIALS_FILE", "/app/creds"),
            env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            env("AWS_SECRET_ACCESS_KEY", "x"),
        ]
    )
    steps = predict(pod, pod.containers[0], "dotnet", "3.7.0").steps
    assert [s.source for s in steps] == ["profile", "env_keys"]
    assert _source(pod, "dotnet", "4.0.1")[0] == "env_keys"


def test_shared_credentials_file_does_not_matter_for_botocore_but_config_profile_does():
    pod = _pod([env("AWS_SHARED_CREDENTIALS_FILE", "/app/creds")])
    assert _source(pod, "boto3", "1.34.0")[0] == "web_identity"
    pod = _pod([env("AWS_PROFILE", "deploy")])
    assert _source(pod, "boto3", "1.34.0")[:2] == ("profile", "possible")


def test_host_network_pods_are_told_imds_is_reachable():
    pod = Pod.from_k8s(k8s.pod("shop", "x-1", "x", host_network=True))
    _, _, pr = _source(pod)
    assert pr.source == "imds" and "hostNetwork: true" in pr.rule


def test_chain_order_per_sdk_major_version():
    assert chain_for("node", "2.1.0").order.index("container") < chain_for(
        "node", "2.1.0"
    ).order.index("web_identity")
    assert chain_for("node", "3.1.0").order.index("profile") < chain_for(
        "node", "3.1.0"
    ).order.index("web_identity")
    assert chain_for("dotnet", "3.7").order[0] == "profile"
    with pytest.raises(ValueError):
        chain_for("cobol", "1")


def test_predicted_identity_table_over_the_demo():
    inv = irsa_nb.load_bundle("demo")
    df = predicted_identity(inv, namespace="shop")
    assert list(df.columns) == IDENTITY_COLUMNS
    by_pod = {r.pod.split("-")[0]: r for r in df.itertuples()}
    assert by_pod["checkout"].source == "web_identity"
    assert by_pod["checkout"].role_arn == role_arn("irsa-checkout")
    assert by_pod["ledger"].source == "env_keys" and "ledger-aws-keys" in by_pod["ledger"].rule
    assert by_pod["fulfillment"].source == "container"
    assert "a-4fqbz1xkvmd0cwrpe" in by_pod["fulfillment"].rule  # joined with the association
    assert by_pod["notifications"].source == "imds"  # never mutated
    assert by_pod["emailer"].source == "imds"  # hand-written AWS_ROLE_ARN only
    assert not df["rule"].str.contains("AKIA").any()


def test_predicted_identity_one_row_per_sdk_and_empty_table_keeps_columns():
    inv = irsa_nb.load_bundle("demo")
    df = predicted_identity(
        inv, pod="checkout-7d4b9c6f5-k2x9p", sdk={"boto3": "1.34.0", "js": "2.1000.0"}
    )
    assert len(df) == 4  # two containers x two SDKs
    assert set(df.sdk) == {"boto3 1.34.0", "JavaScript SDK v2 2.1000.0"}
    empty = predicted_identity(inv, namespace="nowhere")
    assert empty.empty and list(empty.columns) == IDENTITY_COLUMNS
    with pytest.raises(ValueError, match="unknown SDK"):
        predicted_identity(inv, sdk={"cobol": "1.0"})


@pytest.mark.parametrize(
    "extra_env",
    [
        [],
        [env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), env("AWS_SECRET_ACCESS_KEY", "x")],
        [env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")],
        [env("AWS_PROFILE", "ci"), env("AWS_SHARED_CREDENTIALS_FILE", "/app/creds")],
        [env("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials")],
    ],
)
@pytest.mark.parametrize(
    ("sdk", "version"),
    [
        (None, None),
        ("boto3", "1.34.0"),
        ("node", "2.1500.0"),
        ("java2", "2.25.0"),
        ("dotnet", "3.7.0"),
    ],
)
def test_rules_render_in_chinese_and_stay_english_as_str(extra_env, sdk, version):
    from tests.faces.test_zh_output import english_runs

    pod = _pod(extra_env, env_from=[{"secretRef": {"name": "app-env"}}])
    assoc = PodIdentityAssociation("shop", "app", "a-123", "arn:aws:eks:...")
    pr = predict(pod, pod.containers[0], sdk, version, assoc)
    assert isinstance(pr.rule, str) and pr.rule.in_lang("en") == pr.rule
    zh = pr.rule.in_lang("zh")
    assert zh != pr.rule and not english_runs(zh), zh


def test_predicted_identity_names_the_region_and_sts_endpoint_of_web_identity():
    """botocore reads AWS_DEFAULT_REGION only
    (https://github.com/boto/botocore/blob/1.40.0/botocore/configprovider.py#L56)."""
    inv = irsa_nb.load_bundle("demo:china")
    df = predicted_identity(inv, sdk={"boto3": "1.34.0"}).set_index("pod")
    assert df.loc["catalog-7c6b5a4f3-q2w3e", "sts_endpoint"] == "sts.cn-north-1.amazonaws.com.cn"
    assert df.loc["pricing-6b5a4f3e2-r4t5y", "sts_endpoint"] == "sts.amazonaws.com"
    anyone = predicted_identity(inv).set_index("pod")
    assert "Go SDK v2" in anyone.loc["pricing-6b5a4f3e2-r4t5y", "sts_endpoint"]
