"""The Kubernetes JSON builders validate against the kubernetes 37 (pydantic) models and
reproduce the pod-identity-webhook's mutation."""

from __future__ import annotations

import pytest

from tests.builders import k8s_objects as k8s

ROLE = "arn:aws:iam::111122223333:role/web-irsa"


def _env_names(c):
    return [e["name"] for e in c.get("env", [])]


def test_every_builder_validates_against_the_client_models():
    p = k8s.pod("team-a", "web-7d4b9c-x2x9z", "web", irsa_role_arn=ROLE, init_containers=["init"])
    assert k8s.to_model(p, "V1Pod").spec.service_account_name == "web"
    sa = k8s.irsa_service_account("team-a", "web", ROLE, audience="sts.amazonaws.com")
    assert k8s.to_model(sa, "V1ServiceAccount").metadata.annotations == {
        k8s.ROLE_ARN_ANNOTATION: ROLE,
        k8s.AUDIENCE_ANNOTATION: "sts.amazonaws.com",
    }
    assert k8s.to_model(k8s.namespace("team-a"), "V1Namespace").status.phase == "Active"
    hook = k8s.to_model(k8s.mutating_webhook_configuration(), "V1MutatingWebhookConfiguration")
    assert hook.webhooks[0].failure_policy == "Ignore"
    lst = k8s.to_model(k8s.kube_list("PodList", [p], resource_version="5"), "V1PodList")
    assert lst.items[0].metadata.name == "web-7d4b9c-x2x9z"
    st = k8s.to_model(k8s.status(404, "NotFound", 'pods "x" not found'), "V1Status")
    assert (st.code, st.reason) == (404, "NotFound")


def test_version_info_has_every_required_field():
    v = k8s.version_info()
    model = k8s.to_model(v, "VersionInfo")
    assert model.git_version == "v1.29.4-eks-036c24b"
    for key in (
        "buildDate",
        "compiler",
        "gitCommit",
        "gitTreeState",
        "gitVersion",
        "goVersion",
        "major",
        "minor",
        "platform",
    ):
        assert v[key]
    incomplete = {k: v for k, v in v.items() if k != "goVersion"}
    with pytest.raises(Exception, match=r"go_version|goVersion"):
        k8s.to_model(incomplete, "VersionInfo")
    out = k8s.kubectl_version()
    assert set(out) >= {"clientVersion", "serverVersion"}


def test_irsa_pod_is_mutated_exactly_like_the_webhook():
    p = k8s.pod("team-a", "web-1", "web", containers=["web", "sidecar"], irsa_role_arn=ROLE)
    spec = p["spec"]
    assert spec["volumes"][0] == {
        "name": "aws-iam-token",
        "projected": {
            "defaultMode": 420,
            "sources": [
                {
                    "serviceAccountToken": {
                        "audience": "sts.amazonaws.com",
                        "expirationSeconds": 86400,
                        "path": "token",
                    }
                }
            ],
        },
    }
    assert spec["volumes"][1]["name"].startswith("kube-api-access-")
    for c in spec["containers"]:
        assert _env_names(c) == [
            "AWS_STS_REGIONAL_ENDPOINTS",
            "AWS_DEFAULT_REGION",
            "AWS_REGION",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
        ]
        env = {e["name"]: e["value"] for e in c["env"]}
        assert env["AWS_ROLE_ARN"] == ROLE
        assert env["AWS_STS_REGIONAL_ENDPOINTS"] == "regional"
        assert env["AWS_WEB_IDENTITY_TOKEN_FILE"] == (
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
        )
        assert c["volumeMounts"][-1] == {
            "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount",
            "name": "aws-iam-token",
            "readOnly": True,
        }
        assert c["volumeMounts"][0]["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"
    md = p["metadata"]
    assert md["ownerReferences"][0]["kind"] == "ReplicaSet"
    assert md["labels"]["pod-template-hash"] == "7d4b9c"
    assert p["status"]["phase"] == "Running"


def test_unannotated_pod_has_only_the_api_access_volume():
    p = k8s.pod("default", "legacy-1", owner=None)
    assert [v["name"][:16] for v in p["spec"]["volumes"]] == ["kube-api-access-"]
    assert "env" not in p["spec"]["containers"][0]
    assert "ownerReferences" not in p["metadata"]


def test_partial_mutation_rules_of_add_env_to_container():
    # A hand-written AWS_ROLE_ARN blocks both web-identity variables (webhook rawPodSkip).
    pre = k8s.container("app", env=[{"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::1:role/x"}])
    p = k8s.pod("ns", "p", "sa", containers=[pre], irsa_role_arn=ROLE)
    names = _env_names(p["spec"]["containers"][0])
    assert names.count("AWS_ROLE_ARN") == 1
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" not in names
    assert "AWS_REGION" in names
    # Everything already present: no volumeMount either.
    full = k8s.container(
        "app",
        env=[
            {"name": "AWS_ROLE_ARN", "value": ROLE},
            {"name": "AWS_REGION", "value": "eu-west-1"},
            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
        ],
    )
    p = k8s.pod("ns", "p", "sa", containers=[full], irsa_role_arn=ROLE)
    mounts = [m["name"] for m in p["spec"]["containers"][0]["volumeMounts"]]
    assert "aws-iam-token" not in mounts
    assert p["spec"]["volumes"][0]["name"] == "aws-iam-token"


def test_skip_containers_windows_and_options():
    p = k8s.pod(
        "ns",
        "p",
        "sa",
        containers=["app", "istio-proxy"],
        irsa_role_arn=ROLE,
        annotations={k8s.SKIP_CONTAINERS_ANNOTATION: "istio-proxy"},
        node_selector={"kubernetes.io/os": "windows"},
        inject_region=False,
        sts_regional_endpoints=False,
        audience="sts.amazonaws.com.cn",
        token_expiration=3600,
    )
    _app, proxy = p["spec"]["containers"]
    assert k8s.env_of(p, "app") == {
        "AWS_ROLE_ARN": ROLE,
        "AWS_WEB_IDENTITY_TOKEN_FILE": k8s.IRSA_TOKEN_FILE_WINDOWS,
    }
    assert "env" not in proxy
    src = p["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]
    assert src == {"audience": "sts.amazonaws.com.cn", "expirationSeconds": 3600, "path": "token"}


def test_pod_identity_wins_over_irsa():
    p = k8s.pod("ns", "p", "sa", irsa_role_arn=ROLE, pod_identity=True, region="eu-central-1")
    env = k8s.env_of(p)
    assert "AWS_ROLE_ARN" not in env
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == "http://169.254.170.23/v1/credentials"
    assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] == k8s.POD_IDENTITY_TOKEN_FILE
    assert env["AWS_REGION"] == "eu-central-1"
    vol = p["spec"]["volumes"][0]
    assert vol["name"] == "eks-pod-identity-token"
    assert vol["projected"]["sources"][0]["serviceAccountToken"]["audience"] == (
        "pods.eks.amazonaws.com"
    )


def test_security_context_init_containers_and_host_network_validate():
    p = k8s.pod(
        "ns",
        "p",
        "sa",
        irsa_role_arn=ROLE,
        security_context={"runAsUser": 1000, "fsGroup": 2000},
        init_containers=[{"name": "init", "image": "busybox:1.36"}],
        host_network=True,
        owner=("DaemonSet", "agent"),
    )
    model = k8s.to_model(p, "V1Pod")
    assert model.spec.security_context.fs_group == 2000
    assert model.spec.init_containers[0].env[-1].name == "AWS_WEB_IDENTITY_TOKEN_FILE"
    assert model.status.pod_ip == model.status.host_ip
    with pytest.raises(ValueError):
        k8s.pod("ns", "p", containers=[{"image": "no-name"}])
