"""FakeKube speaks the real wire protocol: the kubernetes client, kubectl and websocket exec
all work against it, and its failure knobs surface as real client errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from tests.builders import k8s_objects as k8s
from tests.servers.fake_kube import ExecResult, FakeKube, write_multi_context_kubeconfig
from tests.servers.jwt_keys import decode_unverified

ROLE = "arn:aws:iam::111122223333:role/web-irsa"


def _objects(n_ns=3, per_ns=7):
    sas, pods = [], []
    for i in range(n_ns):
        ns = f"team-{i}"
        sas.append(k8s.service_account(ns, "default"))
        sas.append(k8s.irsa_service_account(ns, "web", ROLE))
        for j in range(per_ns):
            irsa = j % 2 == 0
            pods.append(
                k8s.pod(
                    ns,
                    f"web-7d4b9c-{j:05d}",
                    "web" if irsa else "default",
                    irsa_role_arn=ROLE if irsa else None,
                    labels={"tier": "front" if j < 3 else "back"},
                )
            )
    return sas, pods


@pytest.fixture
def kube(fake_kube):
    sas, pods = _objects()
    return fake_kube(
        service_accounts=sas, pods=pods, webhooks=[k8s.mutating_webhook_configuration()]
    )


def _core(kube, tmp_path, **kw):
    cfg = kube.kubeconfig(tmp_path / f"kc-{kube.port}", **kw)
    return client.CoreV1Api(config.new_client_from_config(cfg))


def test_models_raw_and_pagination(kube, tmp_path):
    core = _core(kube, tmp_path)
    assert client.VersionApi(core.api_client).get_code().git_version == "v1.29.4-eks-036c24b"
    # typed, one request
    assert len(core.list_pod_for_all_namespaces().items) == 21
    # raw + pagination, as the live collector does it
    names, cont, pages, remaining = [], None, 0, []
    while True:
        kw = {"limit": 5, "_preload_content": False}
        if cont:
            kw["_continue"] = cont
        body = json.loads(core.list_pod_for_all_namespaces(**kw).data)
        pages += 1
        assert body["kind"] == "PodList" and body["metadata"]["resourceVersion"]
        item = body["items"][0]
        assert "kind" not in item and "apiVersion" not in item  # like the real apiserver
        assert "managedFields" not in item["metadata"]  # off by default
        names += [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in body["items"]]
        remaining.append(body["metadata"].get("remainingItemCount"))
        cont = body["metadata"].get("continue")
        if not cont:
            break
    assert pages == 5
    assert remaining == [16, 11, 6, 1, None]
    assert names == sorted(names) and len(set(names)) == 21
    # typed pagination exposes metadata._continue
    first = core.list_namespaced_pod("team-1", limit=4)
    assert len(first.items) == 4 and first.metadata._continue
    rest = core.list_namespaced_pod("team-1", limit=4, _continue=first.metadata._continue)
    assert len(rest.items) == 3 and rest.metadata._continue is None
    # single objects, service accounts, namespaces, webhook configurations
    sa = core.read_namespaced_service_account("web", "team-0")
    assert sa.metadata.annotations[k8s.ROLE_ARN_ANNOTATION] == ROLE
    assert len(core.list_service_account_for_all_namespaces().items) == 6
    assert {"team-0", "kube-system", "default"} <= {
        n.metadata.name for n in core.list_namespace().items
    }
    adm = client.AdmissionregistrationV1Api(core.api_client)
    hooks = adm.list_mutating_webhook_configuration().items
    assert hooks[0].webhooks[0].name == "iam-for-pods.amazonaws.com"
    pod = core.read_namespaced_pod("web-7d4b9c-00000", "team-2")
    assert pod.spec.volumes[0].name == "aws-iam-token"
    raw = json.loads(
        core.read_namespaced_pod("web-7d4b9c-00000", "team-2", _preload_content=False).data
    )
    assert (raw["kind"], raw["apiVersion"]) == ("Pod", "v1")


def test_managed_fields_knob(fake_kube, tmp_path):
    kube = fake_kube(pods=[k8s.pod("a", "p", irsa_role_arn=ROLE)], managed_fields=True)
    core = _core(kube, tmp_path)
    body = json.loads(core.list_pod_for_all_namespaces(_preload_content=False).data)
    entries = body["items"][0]["metadata"]["managedFields"]
    assert [(e["manager"], e.get("subresource")) for e in entries] == [
        ("kube-controller-manager", None),
        ("kubelet", "status"),
    ]
    spec_fields = entries[0]["fieldsV1"]["f:spec"]
    assert 'k:{"name":"AWS_ROLE_ARN"}' in spec_fields["f:containers"]['k:{"name":"p"}']["f:env"]
    pod = core.read_namespaced_pod("p", "a")  # the typed model accepts them
    assert pod.metadata.managed_fields[1].subresource == "status"


def test_selectors(kube, tmp_path):
    core = _core(kube, tmp_path)
    front = core.list_pod_for_all_namespaces(label_selector="tier=front").items
    assert len(front) == 9
    by_sa = core.list_pod_for_all_namespaces(field_selector="spec.serviceAccountName=web")
    assert len(by_sa.items) == 12
    with pytest.raises(ApiException) as ei:
        core.list_pod_for_all_namespaces(field_selector="spec.bogus=x")
    assert ei.value.status == 400


def test_404_and_401_are_status_objects(kube, tmp_path):
    core = _core(kube, tmp_path)
    with pytest.raises(ApiException) as ei:
        core.read_namespaced_pod("missing", "team-0")
    body = json.loads(ei.value.body)
    assert ei.value.status == 404
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "missing" not found',
        "reason": "NotFound",
        "details": {"name": "missing", "kind": "pods"},
        "code": 404,
    }
    anon = client.CoreV1Api(client.ApiClient(client.Configuration(host=kube.url)))
    with pytest.raises(ApiException) as ei:
        anon.list_namespace()
    assert ei.value.status == 401 and json.loads(ei.value.body)["reason"] == "Unauthorized"


def test_valid_tokens_knob(fake_kube, tmp_path):
    kube = fake_kube(valid_tokens={"good"})
    with pytest.raises(ApiException) as ei:
        _core(kube, tmp_path, token="bad").list_namespace()
    assert ei.value.status == 401
    assert _core(kube, tmp_path, token="good").list_namespace().items


def test_forbidden_knobs_match_the_apiserver(fake_kube, tmp_path):
    sas, pods = _objects()
    kube = fake_kube(
        service_accounts=sas,
        pods=pods,
        forbidden_cluster_wide={"pods", "serviceaccounts"},
        forbidden_namespaces={"team-2"},
        forbidden={("create", "pods/exec")},
        username="arn:aws:sts::111122223333:assumed-role/readonly/me",
    )
    core = _core(kube, tmp_path)
    with pytest.raises(ApiException) as ei:
        core.list_pod_for_all_namespaces()
    assert ei.value.status == 403
    st = json.loads(ei.value.body)
    assert st["reason"] == "Forbidden" and st["details"] == {"kind": "pods"}
    assert st["message"] == (
        'pods is forbidden: User "arn:aws:sts::111122223333:assumed-role/readonly/me" '
        'cannot list resource "pods" in API group "" at the cluster scope'
    )
    with pytest.raises(ApiException) as ei:
        core.list_service_account_for_all_namespaces()
    assert ei.value.status == 403
    # fallback: per namespace works, except the forbidden namespace
    assert len(core.list_namespaced_pod("team-0").items) == 7
    with pytest.raises(ApiException) as ei:
        core.list_namespaced_service_account("team-2")
    assert json.loads(ei.value.body)["message"].endswith(
        'cannot list resource "serviceaccounts" in API group "" in the namespace "team-2"'
    )
    with pytest.raises(ApiException) as ei:
        stream(
            core.connect_get_namespaced_pod_exec,
            "web-7d4b9c-00000",
            "team-0",
            command=["env"],
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
            _preload_content=False,
        )
    assert "403" in str(ei.value)


def test_expired_continue_and_transient_failures(fake_kube, tmp_path):
    sas, pods = _objects()
    kube = fake_kube(
        service_accounts=sas, pods=pods, expire_continue_once=True, fail_times={"pods": 2}
    )
    core = _core(kube, tmp_path)
    for _ in range(2):
        with pytest.raises(ApiException) as ei:
            core.list_pod_for_all_namespaces(limit=10)
        assert ei.value.status == 500
        assert json.loads(ei.value.body)["reason"] == "InternalError"
    first = core.list_pod_for_all_namespaces(limit=10)
    with pytest.raises(ApiException) as ei:
        core.list_pod_for_all_namespaces(limit=10, _continue=first.metadata._continue)
    assert ei.value.status == 410
    st = json.loads(ei.value.body)
    assert st["reason"] == "Expired" and st["metadata"]["continue"]
    # starting over works, and a second continue is honoured
    again = core.list_pod_for_all_namespaces(limit=10)
    nxt = core.list_pod_for_all_namespaces(limit=10, _continue=again.metadata._continue)
    assert len(nxt.items) == 10
    with pytest.raises(ApiException) as ei:
        core.list_pod_for_all_namespaces(limit=10, _continue="not-a-token")
    assert ei.value.status == 400


def test_503_and_429_retry_after(fake_kube, tmp_path):
    # With Retry-After (the apiserver's behaviour) urllib3 retries transparently...
    kube = fake_kube(fail_times={"serviceaccounts": 2}, fail_status=503, retry_after=0)
    core = _core(kube, tmp_path)
    assert core.list_service_account_for_all_namespaces().items == []
    assert [p for _, p, _ in kube.requests].count("/api/v1/serviceaccounts") == 3
    # ...without it the error reaches the caller.
    kube = fake_kube(fail_times={"pods": 1}, fail_status=429, retry_after=None)
    core = _core(kube, tmp_path)
    with pytest.raises(ApiException) as ei:
        core.list_pod_for_all_namespaces()
    assert ei.value.status == 429 and json.loads(ei.value.body)["reason"] == "TooManyRequests"
    assert core.list_pod_for_all_namespaces().items == []


def test_delay_knob_trips_the_client_timeout(fake_kube, tmp_path):
    kube = fake_kube(delay={"pods": 2.0})
    core = _core(kube, tmp_path)
    assert core.list_namespace(_request_timeout=1).items  # other resources are not delayed
    t0 = time.perf_counter()
    with pytest.raises(Exception, match=r"(?i)timed? ?out"):
        core.list_pod_for_all_namespaces(_request_timeout=0.2)
    # urllib3's default Retry(3) re-sends a GET after a read timeout: 4 attempts in all.
    assert [p for _, p, _ in kube.requests].count("/api/v1/pods") == 4
    assert time.perf_counter() - t0 < 3


def test_token_request(kube, tmp_path):
    core = _core(kube, tmp_path)
    kube.issuer = "https://oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789"
    body = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=["sts.amazonaws.com"], expiration_seconds=3600)
    )
    t0 = int(time.time())
    tr = core.create_namespaced_service_account_token("web", "team-1", body)
    header, claims = decode_unverified(tr.status.token)
    assert header == {"alg": "RS256", "kid": kube.signing_key.kid}
    assert kube.signing_key.verify(tr.status.token) == claims
    assert claims["iss"] == kube.issuer
    assert claims["sub"] == "system:serviceaccount:team-1:web"
    assert claims["aud"] == ["sts.amazonaws.com"]
    assert claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"]
    assert t0 - 2 <= claims["iat"] <= t0 + 2
    assert abs(tr.status.expiration_timestamp.timestamp() - claims["exp"]) <= 1
    (rec,) = kube.token_requests
    assert (rec["namespace"], rec["name"], rec["audiences"]) == (
        "team-1",
        "web",
        ["sts.amazonaws.com"],
    )
    with pytest.raises(ApiException) as ei:
        core.create_namespaced_service_account_token("nope", "team-1", body)
    assert ei.value.status == 404
    short = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=60)
    )
    with pytest.raises(ApiException) as ei:
        core.create_namespaced_service_account_token("web", "team-1", short)
    assert ei.value.status == 422
    # the apiserver's own issuer discovery is public
    with urllib.request.urlopen(kube.url + "/openid/v1/jwks", timeout=5) as resp:
        jwks = json.load(resp)
    assert jwks["keys"][0]["kid"] == kube.signing_key.kid


def _exec(core, pod, ns, command, container=None, timeout=5):
    kw = {"container": container} if container else {}
    ws = stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        ns,
        command=command,
        stdout=True,
        stderr=True,
        stdin=False,
        tty=False,
        _preload_content=False,
        **kw,
    )
    ws.run_forever(timeout=timeout)
    still_open = ws.is_open()
    # timeout=0: never block (read_stdout() without a timeout waits for data).
    out, err = ws.read_stdout(timeout=0), ws.read_stderr(timeout=0)
    rc = ws.returncode
    ws.close()
    return out, err, rc, still_open


def test_exec_scripted_handler(fake_kube, tmp_path):
    calls = []

    def handler(ns, pod, container, command):
        calls.append((ns, pod, container, command))
        if command[0] == "hang":
            return ExecResult(stdout="late\n", delay_seconds=30)
        if command[0] == "big":
            return ExecResult(stdout="x" * 100_000)
        return ExecResult(stdout="hello\n", stderr="warn\n", exit_code=int(command[-1]))

    sas, pods = _objects(1, 2)
    kube = fake_kube(service_accounts=sas, pods=pods, exec_handler=handler)
    core = _core(kube, tmp_path)
    pod = "web-7d4b9c-00000"
    assert _exec(core, pod, "team-0", ["check", "0"]) == ("hello\n", "warn\n", 0, False)
    assert _exec(core, pod, "team-0", ["check", "3"])[2] == 3
    assert _exec(core, pod, "team-0", ["big"])[0] == "x" * 100_000
    t0 = time.perf_counter()
    out, _err, rc, still_open = _exec(core, pod, "team-0", ["hang"], timeout=0.5)
    assert (out, rc, still_open) == ("", None, True)
    assert time.perf_counter() - t0 < 5
    # _preload_content=True path (what stream() returns by default)
    text = stream(
        core.connect_get_namespaced_pod_exec, pod, "team-0", command=["check", "0"],
        stdout=True, stderr=True, stdin=False, tty=False,
    )  # fmt: skip
    assert "hello" in text
    assert calls[0] == ("team-0", pod, "web", ["check", "0"])
    assert kube.exec_calls[0] == calls[0]
    assert ("create", "pods/exec", "team-0") in kube.api_calls()


def test_exec_default_handler_reads_the_projected_token(kube, tmp_path):
    core = _core(kube, tmp_path)
    pod, ns = "web-7d4b9c-00002", "team-0"
    out, _, rc, _ = _exec(core, pod, ns, ["env"])
    assert rc == 0 and f"AWS_ROLE_ARN={ROLE}\n" in out
    out, _, rc, _ = _exec(core, pod, ns, ["cat", k8s.IRSA_TOKEN_FILE])
    _, claims = decode_unverified(out)
    assert claims["aud"] == ["sts.amazonaws.com"] and claims["exp"] - claims["iat"] == 86400
    assert claims["kubernetes.io"]["pod"]["name"] == pod
    out, err, rc, _ = _exec(core, "web-7d4b9c-00001", ns, ["cat", k8s.IRSA_TOKEN_FILE])
    assert rc == 1 and "No such file" in err
    assert _exec(core, pod, ns, ["sh", "-c", "printenv AWS_REGION"])[0] == "us-west-2\n"
    assert _exec(core, pod, ns, ["curl", "x"])[2] == 127
    with pytest.raises(ApiException):
        _exec(core, pod, ns, ["env"], container="nope")


def test_tls_kubeconfig_exec_plugin_and_wrong_ca(fake_kube, tmp_path):
    from tests.servers.tls import generate_chain

    sas, pods = _objects(1, 1)
    kube = fake_kube(service_accounts=sas, pods=pods, tls=True)
    assert kube.url.startswith("https://")
    core = _core(kube, tmp_path, exec_plugin=True)
    assert len(core.list_pod_for_all_namespaces().items) == 1
    _, _, rc, _ = _exec(core, "web-7d4b9c-00000", "team-0", ["true"])
    assert rc == 0
    auth = [r for r in kube.requests if r.path == "/api/v1/pods"]
    assert auth
    other = fake_kube(tls=generate_chain())  # a different CA than the kubeconfig's
    cfg = kube.kubeconfig(tmp_path / "wrong-ca")
    cfg_path = Path(cfg)
    cfg_path.write_text(
        cfg_path.read_text().replace(f"127.0.0.1:{kube.port}", f"127.0.0.1:{other.port}")
    )
    api = client.CoreV1Api(config.new_client_from_config(cfg))
    api.api_client.rest_client.pool_manager.connection_pool_kw["retries"] = False
    with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|SSLError|certificate"):
        api.list_namespace(_request_timeout=3)


def test_exec_plugin_token_reaches_the_server(fake_kube, tmp_path):
    seen = []
    kube = fake_kube()
    kube.valid_tokens = {"k8s-aws-v1.PRESIGNED"}
    cfg = kube.kubeconfig(tmp_path, token="PRESIGNED", exec_plugin=True)
    core = client.CoreV1Api(config.new_client_from_config(cfg))
    seen.append(core.list_namespace().items)
    assert seen[0]


def test_multi_context_kubeconfig(fake_kube, tmp_path):
    prod = fake_kube(service_accounts=[k8s.service_account("prod-ns", "a")])
    staging = fake_kube(service_accounts=[k8s.service_account("staging-ns", "b")])
    cfg = write_multi_context_kubeconfig(
        tmp_path / "multi", {"prod": prod, "staging": (staging, "tok-s")}, current_context="staging"
    )
    contexts, active = config.list_kube_config_contexts(cfg)
    assert [c["name"] for c in contexts] == ["prod", "staging"]
    assert active["name"] == "staging"

    def sa_names(context=None):
        api = client.CoreV1Api(config.new_client_from_config(cfg, context=context))
        return [s.metadata.name for s in api.list_service_account_for_all_namespaces().items]

    assert sa_names() == ["b"]
    assert sa_names("prod") == ["a"]
    with pytest.raises(ValueError):
        write_multi_context_kubeconfig(tmp_path / "bad", {"prod": prod}, current_context="x")


def test_requests_are_recorded_for_allowlists(kube, tmp_path):
    core = _core(kube, tmp_path)
    kube.reset_records()
    core.list_pod_for_all_namespaces(limit=3, _preload_content=False)
    core.read_namespaced_service_account("web", "team-0")
    with pytest.raises(ApiException):
        core.delete_namespaced_pod("web-7d4b9c-00000", "team-0")
    assert kube.requests[0] == ("GET", "/api/v1/pods", {"limit": ["3"]})
    assert kube.api_calls() == [
        ("list", "pods", None),
        ("get", "serviceaccounts", "team-0"),
        ("delete", "pods", "team-0"),
    ]


def test_stop_leaves_no_threads():
    before = {t.ident for t in threading.enumerate()}
    kube = FakeKube(pods=[k8s.pod("a", "b")]).start()
    kube.stop()
    kube.stop()  # idempotent
    time.sleep(0.05)
    assert {t.ident for t in threading.enumerate()} <= before


KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_get_pods_all_namespaces(fake_kube, tmp_path):
    sas, pods = _objects(4, 200)  # 800 pods: kubectl pages with limit=500
    # kubectl only sends a bearer token over TLS, so the fake serves HTTPS here.
    kube = fake_kube(service_accounts=sas, pods=pods, tls=True)
    cfg = kube.kubeconfig(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": cfg}
    r = subprocess.run(
        [KUBECTL, "get", "pods", "-A", "-o", "json", "--kubeconfig", cfg,
         "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["kind"] == "List" and len(out["items"]) == 800
    assert out["items"][0]["kind"] == "Pod"
    lists = [q for m, p, q in kube.requests if p == "/api/v1/pods"]
    assert len(lists) == 2 and "continue" in lists[1]
    r = subprocess.run(
        [KUBECTL, "get", "sa", "-n", "team-0", "-o", "json", "--kubeconfig",
         kube.kubeconfig(tmp_path / "plugin", exec_plugin=True)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert {i["metadata"]["name"] for i in json.loads(r.stdout)["items"]} == {"default", "web"}


@pytest.mark.slow
def test_fake_kube_in_a_separate_process(tmp_path):
    from tests.builders.synthetic import synthetic_cluster
    from tests.servers.fake_kube import FakeKubeProcess

    params = {"n_service_accounts": 30, "n_pods": 60, "n_roles": 5, "n_namespaces": 3, "seed": 3}
    expected = synthetic_cluster(**params)
    with FakeKubeProcess(synthetic=params, tls=True) as kube:
        core = client.CoreV1Api(config.new_client_from_config(kube.kubeconfig(tmp_path)))
        got = core.list_pod_for_all_namespaces(limit=25, _preload_content=False)
        body = json.loads(got.data)
        assert len(body["items"]) == 25 and body["metadata"]["remainingItemCount"] == 35
        first = sorted(
            (p["metadata"]["namespace"], p["metadata"]["name"]) for p in expected["pods"]
        )
        assert (
            body["items"][0]["metadata"]["namespace"],
            body["items"][0]["metadata"]["name"],
        ) == (first[0])
        assert [r.path for r in kube.requests()] == ["/api/v1/pods"]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_exec_over_websocket(fake_kube, tmp_path):
    # kubectl >= 1.30 execs over websocket (v5.channel.k8s.io); older ones use SPDY, which
    # FakeKube does not speak.  The gcloud kubectl dispatcher picks its version from the
    # server's, hence 1.31 here.
    kube = fake_kube(
        version=k8s.version_info("1", "31+", "v1.31.2-eks-7f9249a"),
        pods=[k8s.pod("ns", "p", irsa_role_arn=ROLE)],
        tls=True,
    )
    cfg = kube.kubeconfig(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path)}

    def kexec(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KUBECTL, "exec", "-n", "ns", "p", "--kubeconfig", cfg, "--", *cmd],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip

    r = kexec("printenv", "AWS_ROLE_ARN")
    if "Upgrade request required" in r.stderr:
        pytest.skip("this kubectl execs over SPDY; FakeKube speaks the websocket protocol only")
    assert (r.returncode, r.stdout) == (0, ROLE + "\n"), r.stderr
    r = kexec("false")
    assert r.returncode == 1 and "exit code 1" in r.stderr
