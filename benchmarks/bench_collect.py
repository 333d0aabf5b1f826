"""Live collection at cluster scale: 20,000 pods, 5,000 service accounts, 1,000 IAM roles.

Served on 127.0.0.1 by this process: the fake Kubernetes API (tests/servers/fake_kube.py),
a minimal IAM/EKS responder (canned AWS query-XML / rest-JSON answers, so AWS latency is
not moto's) and an HTTPS OIDC issuer. Each measured run is a fresh subprocess reached only
through standard configuration (AWS_ENDPOINT_URL, KUBECONFIG, SSL_CERT_FILE), so its peak
RSS (ru_maxrss) is its own:

* ``collect``: ``irsa_nb.collect`` + ``irsa_nb.run_checks`` on the whole cluster;
* ``floor``: the same HTTP requests without any client (http.client GETs of the same
  Kubernetes pages + ``json.loads``; the same number of IAM/EKS POSTs, 8 threads);
* ``boto3``: the collector's IAM role calls alone, one after another (boto3's CPU per call);
* ``naive``: the seed's steps per annotated service account with boto3 and the kubernetes
  client's models (describe-cluster, list/get OIDC provider, get-role + both policy lists,
  ``get sa -n``, ``describe sa``, ``get pods -n`` and ``get pod`` per pod of the SA), run on a
  subset and extrapolated linearly to every annotated service account.

It also prints the lower bound any boto3-based collector has here: boto3's CPU for the role
calls, the floor's page reading, the servers' CPU and run_checks' CPU, spread perfectly over
all cores with no inventory built.

Run: .venv/bin/python benchmarks/bench_collect.py [--pods N --sas N --roles N --naive-sas N]
``BENCH_AWS_LATENCY_MS=20`` makes the IAM/EKS responder wait that long before each answer
(all three measurements see it), as a real, distant AWS endpoint would.

``--latency`` (see :func:`latency_main`): moto behind a proxy that waits
``--aws-latency-ms`` (50) before each AWS call and the fake Kubernetes API waiting
``--kube-latency-ms`` (10) before each answer; it compares the per-role floor (raw requests
over 8 connections), the collector reading roles one by one (before the bulk read) and the
collector reading them with get-account-authorization-details: wall time, requests by
operation, CPU and peak RSS. ``--crossover`` adds the per-role/bulk threshold measurement.

``--memory`` (see :func:`memory_main`): issue 16's all-IRSA world (every service account
annotated, the pods of one replicas of a template: ``--world irsa``) at 20,000 pods / 5,000
service accounts / 1,000 roles and at 100,000 / 20,000 / 5,000 (``--points``), moto and the
fake Kubernetes API without added latency: peak RSS (VmHWM) after collect and after
``run_checks``, wall times, and the time ratio between the points against the pod ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import http.server
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
#: synthetic_cluster keywords of the worlds: the standard one, issue 16's all-IRSA one
_WORLDS: dict[str, dict[str, Any]] = {
    "standard": {},
    "irsa": {"irsa_fraction": 1.0, "replica_templates": True},
}


# ------------------------------------------------------------------ IAM/EKS responder
def _xml(action: str, body: str) -> bytes:
    return (
        f'<{action}Response xmlns="{IAM_NS}"><{action}Result>{body}</{action}Result>'
        f"<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></{action}Response>"
    ).encode()


def _members(items: list[str]) -> str:
    return "".join(f"<member>{escape(i)}</member>" for i in items)


def _role_detail(name: str, r: dict[str, Any]) -> str:
    """One RoleDetailList member (get-account-authorization-details) of a synthetic role."""
    role = r["get_role"]["Role"]
    trust = urllib.parse.quote(json.dumps(role["AssumeRolePolicyDocument"]))
    attached = "".join(
        f"<member><PolicyName>{escape(a['PolicyName'])}</PolicyName>"
        f"<PolicyArn>{escape(a['PolicyArn'])}</PolicyArn></member>"
        for a in r["list_attached_role_policies"]["AttachedPolicies"]
    )
    inline = "".join(
        f"<member><PolicyName>{escape(n)}</PolicyName><PolicyDocument>"
        f"{urllib.parse.quote(json.dumps({'Version': '2012-10-17', 'Statement': []}))}"
        "</PolicyDocument></member>"
        for n in r["list_role_policies"]["PolicyNames"]
    )
    return (
        f"<member><Path>/</Path><RoleName>{name}</RoleName><RoleId>{role['RoleId']}</RoleId>"
        f"<Arn>{role['Arn']}</Arn><CreateDate>2024-01-15T10:20:30Z</CreateDate>"
        f"<AssumeRolePolicyDocument>{trust}</AssumeRolePolicyDocument>"
        f"<InstanceProfileList/><RolePolicyList>{inline}</RolePolicyList>"
        f"<AttachedManagedPolicies>{attached}</AttachedManagedPolicies></member>"
    )


class AwsResponder(http.server.ThreadingHTTPServer):
    """Canned answers for the calls the collector makes; counts requests by operation."""

    daemon_threads = True

    def __init__(self, data: dict[str, Any], issuer: str, thumbprint: str, endpoint: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.answers: dict[tuple[str, str], bytes] = {}
        host_path = issuer.removeprefix("https://")
        provider = f"arn:aws:iam::{data['account']}:oidc-provider/{host_path}"
        cluster = json.loads(json.dumps(data["describe_cluster"]))
        cluster["cluster"]["identity"]["oidc"]["issuer"] = issuer
        cluster["cluster"]["endpoint"] = endpoint
        self.cluster_json = json.dumps(cluster).encode()
        self.answers[("ListOpenIDConnectProviders", "")] = _xml(
            "ListOpenIDConnectProviders",
            f"<OpenIDConnectProviderList><member><Arn>{provider}</Arn></member>"
            "</OpenIDConnectProviderList>",
        )
        self.answers[("GetOpenIDConnectProvider", provider)] = _xml(
            "GetOpenIDConnectProvider",
            f"<Url>{host_path}</Url><ClientIDList>{_members(['sts.amazonaws.com'])}"
            f"</ClientIDList><ThumbprintList>{_members([thumbprint])}</ThumbprintList>"
            "<CreateDate>2024-01-15T10:32:30Z</CreateDate>",
        )
        for name, r in data["roles"].items():
            role = r["get_role"]["Role"]
            trust = urllib.parse.quote(json.dumps(role["AssumeRolePolicyDocument"]))
            self.answers[("GetRole", name)] = _xml(
                "GetRole",
                f"<Role><Path>/</Path><AssumeRolePolicyDocument>{trust}"
                f"</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration>"
                f"<RoleId>{role['RoleId']}</RoleId><RoleName>{name}</RoleName>"
                f"<Arn>{role['Arn']}</Arn><CreateDate>2024-01-15T10:20:30Z</CreateDate></Role>",
            )
            attached = "".join(
                f"<member><PolicyName>{escape(a['PolicyName'])}</PolicyName>"
                f"<PolicyArn>{escape(a['PolicyArn'])}</PolicyArn></member>"
                for a in r["list_attached_role_policies"]["AttachedPolicies"]
            )
            self.answers[("ListAttachedRolePolicies", name)] = _xml(
                "ListAttachedRolePolicies",
                f"<AttachedPolicies>{attached}</AttachedPolicies><IsTruncated>false</IsTruncated>",
            )
            self.answers[("ListRolePolicies", name)] = _xml(
                "ListRolePolicies",
                f"<PolicyNames>{_members(r['list_role_policies']['PolicyNames'])}</PolicyNames>"
                "<IsTruncated>false</IsTruncated>",
            )

        self.answers[("GetAccountAuthorizationDetails", "")] = _xml(
            "GetAccountAuthorizationDetails",
            "<RoleDetailList>"
            + "".join(_role_detail(name, r) for name, r in data["roles"].items())
            + "</RoleDetailList><UserDetailList/><GroupDetailList/><Policies/>"
            "<IsTruncated>false</IsTruncated>",
        )

    def count(self, op: str) -> None:
        with self.lock:
            self.counts[op] = self.counts.get(op, 0) + 1


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body are two writes: without TCP_NODELAY, Nagle + delayed ACK add
        # ~40 ms to every keep-alive request (a real endpoint does not)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        latency = float(os.environ.get("BENCH_AWS_LATENCY_MS", "0")) / 1000
        self.latency = latency

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        if self.latency:
            time.sleep(self.latency)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # IAM query protocol
        srv: AwsResponder = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
        op = form.get("Action", "")
        srv.count(op)
        key = form.get("RoleName") or form.get("OpenIDConnectProviderArn") or ""
        answer = srv.answers.get((op, key))
        if answer is None:
            err = (
                f'<ErrorResponse xmlns="{IAM_NS}"><Error><Type>Sender</Type><Code>NoSuchEntity'
                f"</Code><Message>The role with name {escape(key)} cannot be found.</Message>"
                "</Error><RequestId>bench</RequestId></ErrorResponse>"
            ).encode()
            self._send(404, err, "text/xml")
        else:
            self._send(200, answer, "text/xml")

    def do_GET(self) -> None:  # EKS rest-json (and the benchmark's own /__counts)
        srv: AwsResponder = self.server  # type: ignore[assignment]
        path = self.path.split("?", 1)[0]
        if path == "/__counts":
            self._send(200, json.dumps(srv.counts).encode(), "application/json")
        elif path == "/__reset":
            srv.counts.clear()
            self._send(200, b"{}", "application/json")
        elif path.endswith("/pod-identity-associations"):
            srv.count("ListPodIdentityAssociations")
            self._send(200, b'{"associations": []}', "application/json")
        elif path.startswith("/clusters/"):
            srv.count("DescribeCluster")
            self._send(200, srv.cluster_json, "application/json")
        else:
            self._send(404, b"{}", "application/json")


def serve_aws(args: argparse.Namespace) -> None:
    """Run the responder in this process (own GIL, as a real AWS endpoint would be)."""
    from tests.builders.synthetic import synthetic_cluster

    data = synthetic_cluster(n_service_accounts=args.sas, n_pods=0, n_roles=args.roles)
    issuer, thumbprint, endpoint = args.serve_aws
    srv = AwsResponder(data, issuer, thumbprint, endpoint)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


def _get_json(url: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


# ------------------------------------------------------------------ child processes
def child(mode: str, cluster: str, naive_sas: int) -> None:
    t_import = time.perf_counter()
    out: dict[str, Any] = {}
    if mode == "crossover":
        out.update(crossover())
    if mode == "collect":
        import irsa_nb
        from irsa_nb.live import aws as live_aws
        from irsa_nb.live import collect as _  # noqa: F401  (boto3, kubernetes)

        if os.environ.get("BENCH_BULK_MIN_ROLES"):  # 1000000000: roles one by one
            live_aws.BULK_MIN_ROLES = int(os.environ["BENCH_BULK_MIN_ROLES"])

        out["import_s"] = time.perf_counter() - t_import
        c0, t0 = time.process_time(), time.perf_counter()
        inv = irsa_nb.collect(cluster, progress=False)
        c1, t1 = time.process_time(), time.perf_counter()
        out["collect_vmhwm_mb"] = _vmhwm()
        df = irsa_nb.run_checks(inv)
        c2, t2 = time.process_time(), time.perf_counter()
        out.update(
            collect_s=t1 - t0, checks_s=t2 - t1, total_s=t2 - t0, collect_cpu=c1 - c0,
            checks_cpu=c2 - c1, rows=len(df), pods=len(inv.pods),
            service_accounts=len(inv.service_accounts), roles=len(inv.role_names()),
        )  # fmt: skip
        out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out["vmhwm_mb"] = _vmhwm()
        # the part of collect that is the core, shared with bundles: build_inventory again
        t3 = time.perf_counter()
        irsa_nb.build_inventory(inv.documents)
        out["build_s"] = time.perf_counter() - t3
    elif mode == "boto3":
        out.update(boto3_calls(cluster))
    elif mode == "floor":
        out.update(floor())
    elif mode == "naive":
        out.update(naive(cluster, naive_sas))
    out.setdefault("maxrss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out.setdefault("vmhwm_mb", _vmhwm())
    print(json.dumps(out))


def _vmhwm() -> float | None:
    """Peak RSS of this process so far (Linux VmHWM), in MB."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    hwm = [ln for ln in status.read_text().splitlines() if ln.startswith("VmHWM:")]
    return int(hwm[0].split()[1]) / 1024 if hwm else None


def floor() -> dict[str, Any]:
    """The same requests with no client: raw GETs + json.loads, raw IAM POSTs."""
    import yaml

    kc = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    server = urllib.parse.urlsplit(kc["clusters"][0]["cluster"]["server"])
    token = kc["users"][0]["user"]["token"]
    aws = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
    jobs = json.loads(Path(os.environ["BENCH_IAM_JOBS_FILE"]).read_text())
    c0, t0, k0 = time.process_time(), time.perf_counter(), time.thread_time()

    def iam(batch: list[str]) -> None:
        conn = http.client.HTTPConnection(aws.hostname, aws.port)
        for body in batch:
            conn.request("POST", "/", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": _fake_sigv4()})  # fmt: skip
            conn.getresponse().read()
        conn.close()

    iam_done: list[float] = []

    def iam_timed(batch: list[str]) -> None:
        iam(batch)
        iam_done.append(time.perf_counter() - t0)

    if not jobs:
        iam_done.append(0.0)

    with ThreadPoolExecutor(8) as pool:
        futs = [pool.submit(iam_timed, jobs[i::8]) for i in range(8)]
        conn = http.client.HTTPConnection(server.hostname, server.port)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        items = 0
        for path in (
            "/version",
            "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
        ):
            conn.request("GET", path, headers=headers)
            json.loads(conn.getresponse().read())
        for resource_ in ("serviceaccounts", "pods"):
            cont = ""
            while True:
                q = {"limit": "500", **({"continue": cont} if cont else {})}
                conn.request(
                    "GET", f"/api/v1/{resource_}?{urllib.parse.urlencode(q)}", headers=headers
                )
                page = json.loads(conn.getresponse().read())
                items += len(page["items"])
                cont = page["metadata"].get("continue") or ""
                if not cont:
                    break
        k8s_s, k8s_cpu = time.perf_counter() - t0, time.thread_time() - k0
        for f in futs:
            f.result()
    return {
        "total_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "k8s_s": k8s_s,
        "k8s_cpu": k8s_cpu,  # this thread: the pages alone
        "iam_s": max(iam_done),
        "items": items,
        "iam_requests": len(jobs),
    }


def boto3_calls(cluster: str) -> dict[str, Any]:
    """CPU of the collector's IAM calls alone: every role's documents, one after another."""
    from irsa_nb import bundle
    from irsa_nb.live.aws import AwsCollector, make_session
    from irsa_nb.live.collect import _role_names
    from irsa_nb.live.kube import KubeReader, ListCollector, choose_context

    reader = KubeReader.from_kubeconfig(choose_context(None, None).name)
    sas = ListCollector(reader, None).collect("serviceaccounts")
    roles = _role_names(sas[bundle.SERVICE_ACCOUNTS])
    aws = AwsCollector(make_session(), max_workers=1)
    aws.role_documents(roles[0])  # warm: endpoint rules, connection
    c0, t0 = time.process_time(), time.perf_counter()
    for name in roles:
        aws.role_documents(name)
    return {"cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - t0,
            "roles": len(roles)}  # fmt: skip


def naive(cluster: str, limit: int) -> dict[str, Any]:
    """The seed's commands for each annotated service account, via boto3 + client models."""
    import boto3
    from kubernetes import client, config

    eks, iam = boto3.client("eks"), boto3.client("iam")
    core = client.CoreV1Api(config.new_client_from_config(os.environ["KUBECONFIG"]))
    sas = [
        s for s in core.list_service_account_for_all_namespaces().items
        if (s.metadata.annotations or {}).get("eks.amazonaws.com/role-arn")
    ]  # fmt: skip
    total_annotated = len(sas)
    t0 = time.perf_counter()
    for sa in sas[:limit]:
        ns, name = sa.metadata.namespace, sa.metadata.name
        issuer = eks.describe_cluster(name=cluster)["cluster"]["identity"]["oidc"]["issuer"]
        for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            if p["Arn"].endswith(issuer.removeprefix("https://")):
                iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])
        arn = core.read_namespaced_service_account(name, ns).metadata.annotations[
            "eks.amazonaws.com/role-arn"
        ]
        role = arn.rsplit("/", 1)[-1]
        try:
            iam.get_role(RoleName=role)
            iam.list_attached_role_policies(RoleName=role)
            iam.list_role_policies(RoleName=role)
        except iam.exceptions.NoSuchEntityException:
            pass
        core.list_namespaced_service_account(ns)  # kubectl get sa -n NS
        for pod in core.list_namespaced_pod(ns).items:  # kubectl get pods -n NS
            if pod.spec.service_account_name == name:  # kubectl get pod POD -o yaml
                core.read_namespaced_pod(pod.metadata.name, ns)
    done = min(limit, total_annotated)
    per_sa = (time.perf_counter() - t0) / max(done, 1)
    return {"measured_sas": done, "annotated_sas": total_annotated, "per_sa_s": per_sa,
            "total_s": per_sa * total_annotated}  # fmt: skip


def _server_cpu(aws_pid: int) -> float:
    """CPU seconds used so far by the servers: this process (the fake Kubernetes API and the
    issuer; it only waits for the child otherwise) and the IAM/EKS responder process."""
    fields = Path(f"/proc/{aws_pid}/stat").read_text().rsplit(")", 1)[1].split()
    responder = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    own = resource.getrusage(resource.RUSAGE_SELF)
    return responder + own.ru_utime + own.ru_stime


def run_child(mode: str, env: dict[str, str], cluster: str, naive_sas: int) -> dict[str, Any]:
    # Linux keeps the forking process's RSS high-water mark in ru_maxrss across exec, so the
    # measured process is forked by a small launcher, not by this (large) process.
    launcher = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
    cmd = [sys.executable, "-c", launcher, sys.executable, __file__, "--child", mode]
    cmd += ["--cluster", cluster]
    cmd += ["--naive-sas", str(naive_sas)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ latency mode
def _fake_sigv4() -> str:
    """moto routes a request by the service in its Authorization header's credential scope
    and picks the account by its access key; the signature is not verified."""
    key = os.environ.get("AWS_ACCESS_KEY_ID", "bench")
    return (
        f"AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/iam/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )


def serve_latency(args: argparse.Namespace) -> None:
    """moto (seeded with the roles, policies, OIDC provider and cluster) behind a
    ThrottleProxy adding ``--aws-latency-ms`` to every call; own process, own GIL. Answers
    ``counts`` / ``reset`` / ``stop`` on stdin."""
    import moto.eks.models as eks_models

    from tests.builders.synthetic import synthetic_cluster
    from tests.servers.aws import MotoServer, ThrottleProxy, aws_env_vars, seed_aws

    kube_url, issuer_url, cfg_dir = args.serve_latency
    eks_models.ENDPOINT_TEMPLATE = kube_url + "/"
    eks_models.ISSUER_TEMPLATE = issuer_url
    data = synthetic_cluster(n_service_accounts=args.sas, n_pods=0, n_roles=args.roles,
                             **_WORLDS[args.world])  # fmt: skip
    moto = MotoServer().start()
    seeded = seed_aws(moto.url, data)  # sequential: moto's create_role races with threads
    proxy = ThrottleProxy(moto.url, latency_seconds=args.aws_latency_ms / 1000)
    proxy.start()
    env = aws_env_vars(proxy.url, cfg_dir, region=seeded.region, credentials=seeded.credentials)
    print(json.dumps({k: v for k, v in env.items() if k.startswith("AWS_")}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "counts":
            counts: dict[str, int] = {}
            for op in proxy.operations:
                counts[op] = counts.get(op, 0) + 1
            print(json.dumps(counts), flush=True)
        elif cmd == "reset":
            proxy.calls.clear()
            print("{}", flush=True)
        else:
            break
    proxy.stop()
    moto.stop()


def crossover() -> dict[str, Any]:
    """Wall time of reading n roles one by one (8 threads) and of one bulk read of the
    account's roles, for several n: where the collector should switch."""
    from irsa_nb import bundle
    from irsa_nb.live.aws import AwsCollector, make_session
    from irsa_nb.live.collect import _role_names
    from irsa_nb.live.kube import KubeReader, ListCollector, choose_context

    reader = KubeReader.from_kubeconfig(choose_context(None, None).name)
    roles = _role_names(
        ListCollector(reader, None).collect("serviceaccounts")[bundle.SERVICE_ACCOUNTS]
    )
    aws = AwsCollector(make_session(), max_workers=8)
    aws.describe_cluster("warm-up")  # endpoint rules, first connection
    out: dict[str, Any] = {"account_roles": len(roles)}
    with ThreadPoolExecutor(8) as pool:
        for n in (1, 4, 8, 16, 24, 32, 48, 64):
            if n > len(roles):
                break
            t0 = time.perf_counter()
            list(pool.map(aws.role_documents, roles[:n]))
            out[f"per_role_{n}"] = time.perf_counter() - t0
    best = []
    for _ in range(3):
        t0 = time.perf_counter()
        aws.authorization_details()
        best.append(time.perf_counter() - t0)
    out["bulk"] = min(best)
    return out


def latency_main(args: argparse.Namespace) -> None:
    """Per-role floor, the per-role collector and the bulk collector, with latency."""
    from tests.builders.synthetic import synthetic_cluster
    from tests.servers.fake_kube import FakeKubeProcess
    from tests.servers.tls import HttpsIssuer

    tmp = Path(tempfile.mkdtemp(prefix="irsa-bench-latency-"))
    size = dict(n_service_accounts=args.sas, n_pods=args.pods, n_roles=args.roles)
    data = synthetic_cluster(n_service_accounts=args.sas, n_pods=0, n_roles=args.roles)
    delay = args.kube_latency_ms / 1000
    with (
        FakeKubeProcess(synthetic=size, delay=delay, version=data["version"]["serverVersion"])
        as kube,
        HttpsIssuer(path="/id/BENCH") as issuer,
    ):  # fmt: skip
        t0 = time.perf_counter()
        srv = subprocess.Popen(
            [sys.executable, __file__, "--sas", str(args.sas), "--roles", str(args.roles),
             "--aws-latency-ms", str(args.aws_latency_ms),
             "--serve-latency", kube.url, issuer.issuer, str(tmp / "aws")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        aws_env = json.loads(srv.stdout.readline())
        print(f"moto seeded with {args.roles} roles in {time.perf_counter() - t0:.0f} s")

        def ask(cmd: str) -> dict[str, int]:
            srv.stdin.write(cmd + "\n")
            srv.stdin.flush()
            return json.loads(srv.stdout.readline())

        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(aws_env, KUBECONFIG=kube.kubeconfig(tmp / "kubeconfig"),
                   SSL_CERT_FILE=issuer.ca_file)  # fmt: skip
        annotated = sorted({
            s["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].rsplit("/", 1)[-1]
            for s in data["service_accounts"]
            if "eks.amazonaws.com/role-arn" in (s["metadata"].get("annotations") or {})
        })  # fmt: skip
        jobs = [
            urllib.parse.urlencode({"Action": op, "RoleName": r, "Version": "2010-05-08"})
            for r in annotated
            for op in ("GetRole", "ListAttachedRolePolicies", "ListRolePolicies")
        ]
        (tmp / "iam-jobs.json").write_text(json.dumps(jobs))
        env["BENCH_IAM_JOBS_FILE"] = str(tmp / "iam-jobs.json")
        runs: dict[str, list[tuple[dict[str, Any], dict[str, int]]]] = {}
        plan = [("floor", {}), ("per role", {"BENCH_BULK_MIN_ROLES": "1000000000"}),
                ("bulk", {})]  # fmt: skip
        cross = None
        for _ in range(args.rounds):
            for name, extra in plan:
                ask("reset")
                mode = "floor" if name == "floor" else "collect"
                res = run_child(mode, {**env, **extra}, args.cluster, 0)
                runs.setdefault(name, []).append((res, ask("counts")))
        if args.crossover:
            ask("reset")
            cross = run_child("crossover", env, args.cluster, 0)
        srv.stdin.write("stop\n")
        srv.stdin.flush()
        srv.wait(30)

    best = {k: min(v, key=lambda r: r[0]["total_s"]) for k, v in runs.items()}
    fl = best["floor"][0]
    lines = [
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"world: {args.pods} pods, {args.sas} service accounts, {args.roles} roles; "
        f"{args.aws_latency_ms} ms per AWS call (proxy in front of moto), "
        f"{args.kube_latency_ms} ms per Kubernetes request; best of {args.rounds}",
        f"floor (raw requests, 8 connections, per role): {fl['total_s']:.2f} s wall, "
        f"{fl['cpu_s']:.2f} s CPU, peak RSS {fl['maxrss_mb']:.0f} MB; Kubernetes pages "
        f"{fl['k8s_s']:.2f} s, IAM {fl['iam_s']:.2f} s; requests {best['floor'][1]}",
    ]
    for name in ("per role", "bulk"):
        res, counts = best[name]
        iam = sum(v for k, v in counts.items() if k not in ("DescribeCluster",
                  "ListPodIdentityAssociations"))  # fmt: skip
        lines.append(
            f"collector, roles {name}: collect {res['collect_s']:.2f} s wall "
            f"({res['collect_s'] / fl['total_s']:.2f}x the floor), {res['collect_cpu']:.2f} s "
            f"CPU; run_checks {res['checks_s']:.2f} s; peak RSS collect "
            f"{res['collect_vmhwm_mb'] or 0:.0f} MB, "
            f"collect + checks {res['maxrss_mb']:.0f} MB; IAM requests {iam}; by operation {counts}"
        )
    for name, rs in runs.items():
        key = "total_s" if name == "floor" else "collect_s"
        lines.append(f"  all rounds, {name}: " + ", ".join(f"{r[0][key]:.2f}" for r in rs))
    if cross:
        lines.append(f"crossover (account of {cross.pop('account_roles')} roles; seconds): {cross}")
    print("\n".join(lines))


# ------------------------------------------------------------------ memory mode
def memory_point(args: argparse.Namespace, pods: int, sas: int, roles: int) -> dict[str, Any]:
    """One collect + run_checks (fresh process) on a world of that size, moto and the fake
    Kubernetes API with no added latency."""
    from tests.servers.fake_kube import FakeKubeProcess
    from tests.servers.tls import HttpsIssuer

    tmp = Path(tempfile.mkdtemp(prefix="irsa-bench-memory-"))
    size = dict(n_service_accounts=sas, n_pods=pods, n_roles=roles, **_WORLDS[args.world])
    t0 = time.perf_counter()
    with (
        FakeKubeProcess(synthetic=size, start_timeout=1800) as kube,
        HttpsIssuer(path="/id/BENCH") as issuer,
    ):  # fmt: skip
        srv = subprocess.Popen(
            [sys.executable, __file__, "--sas", str(sas), "--roles", str(roles),
             "--world", args.world, "--aws-latency-ms", "0",
             "--serve-latency", kube.url, issuer.issuer, str(tmp / "aws")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        aws_env = json.loads(srv.stdout.readline())
        setup = time.perf_counter() - t0
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(aws_env, KUBECONFIG=kube.kubeconfig(tmp / "kubeconfig"),
                   SSL_CERT_FILE=issuer.ca_file)  # fmt: skip
        runs = []
        for _ in range(args.rounds):
            srv.stdin.write("reset\n")
            srv.stdin.flush()
            srv.stdout.readline()
            runs.append(run_child("collect", env, args.cluster, 0))
        srv.stdin.write("stop\n")
        srv.stdin.flush()
        srv.wait(60)
    best = min(runs, key=lambda r: r["total_s"])
    best.update(setup_s=setup, size=(pods, sas, roles), rounds=[r["total_s"] for r in runs],
                peaks=[r["vmhwm_mb"] for r in runs])  # fmt: skip
    return best


def memory_main(args: argparse.Namespace) -> None:
    """Peak RSS and wall time of collect + run_checks at each of ``--points``."""
    import importlib.metadata as md

    points = [tuple(int(x) for x in p.split(":")) for p in args.points.split(",")]
    results = [memory_point(args, *p) for p in points]
    versions = ", ".join(f"{n} {md.version(n)}" for n in ("boto3", "kubernetes", "pandas",
                                                          "pyarrow", "moto"))  # fmt: skip
    lines = [
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {versions}",
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load average "
        f"{os.getloadavg()[0]:.1f}; world {args.world!r}; best of {args.rounds}",
    ]
    for r in results:
        pods, sas, roles = r["size"]
        lines.append(
            f"{pods} pods / {sas} SAs / {roles} roles: collect {r['collect_s']:.2f} s + "
            f"run_checks {r['checks_s']:.2f} s = {r['total_s']:.2f} s (rounds "
            + ", ".join(f"{t:.2f}" for t in r["rounds"])
            + f"); peak RSS after collect {r['collect_vmhwm_mb']:.0f} MB, collect + checks "
            f"{r['vmhwm_mb']:.0f} MB (rounds "
            + ", ".join(f"{m:.0f}" for m in r["peaks"])
            + f"); {r['pods']} pods, {r['service_accounts']} SAs, {r['roles']} roles, "
            f"{r['rows']} rows; servers set up in {r['setup_s']:.0f} s"
        )
    if len(results) >= 2:
        a, b = results[0], results[-1]
        lines.append(
            f"growth {a['size'][0]} -> {b['size'][0]} pods ({b['size'][0] / a['size'][0]:.1f}x): "
            f"time {b['total_s'] / a['total_s']:.2f}x (collect "
            f"{b['collect_s'] / a['collect_s']:.2f}x, run_checks "
            f"{b['checks_s'] / a['checks_s']:.2f}x), peak RSS {b['vmhwm_mb'] / a['vmhwm_mb']:.2f}x"
        )
    print("\n".join(lines))


# ------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=20000)
    ap.add_argument("--sas", type=int, default=5000)
    ap.add_argument("--roles", type=int, default=1000)
    ap.add_argument("--naive-sas", type=int, default=25)
    ap.add_argument("--child")
    ap.add_argument("--cluster", default="irsa-demo")
    ap.add_argument("--serve-aws", nargs=3, metavar=("ISSUER", "THUMBPRINT", "ENDPOINT"))
    ap.add_argument("--latency", action="store_true", help="the latency mode (see above)")
    ap.add_argument("--aws-latency-ms", type=float, default=50)
    ap.add_argument("--kube-latency-ms", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--crossover", action="store_true")
    ap.add_argument("--serve-latency", nargs=3, metavar=("KUBE_URL", "ISSUER", "CFG_DIR"))
    ap.add_argument("--world", choices=sorted(_WORLDS), default="standard")
    ap.add_argument("--memory", action="store_true", help="the memory mode (see above)")
    ap.add_argument("--points", default="20000:5000:1000,100000:20000:5000",
                    help="PODS:SAS:ROLES,... for --memory")  # fmt: skip
    args = ap.parse_args()
    if args.memory and not args.child:
        args.world = "irsa" if args.world == "standard" else args.world
        memory_main(args)
        return
    if args.serve_latency:
        serve_latency(args)
        return
    if args.latency and not args.child:
        latency_main(args)
        return
    if args.serve_aws:
        serve_aws(args)
        return
    if args.child:
        child(args.child, args.cluster, args.naive_sas)
        return

    from tests.builders.synthetic import synthetic_cluster
    from tests.servers.fake_kube import FakeKube
    from tests.servers.tls import HttpsIssuer

    t0 = time.perf_counter()
    data = synthetic_cluster(n_service_accounts=args.sas, n_pods=args.pods, n_roles=args.roles)
    print(f"synthetic cluster: {args.pods} pods, {args.sas} service accounts, "
          f"{len(data['roles'])} roles ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="irsa-bench-"))
    with (
        FakeKube(service_accounts=data["service_accounts"], pods=data["pods"],
                 webhooks=[data["webhook"]], version=data["version"]["serverVersion"]) as kube,
        HttpsIssuer(path="/id/BENCH") as issuer,
    ):  # fmt: skip
        aws_proc = subprocess.Popen(
            [sys.executable, __file__, "--sas", str(args.sas), "--roles", str(args.roles),
             "--serve-aws", issuer.issuer, issuer.expected_thumbprint, kube.url],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        aws_url = f"http://127.0.0.1:{aws_proc.stdout.readline().strip()}"
        kc = kube.kubeconfig(tmp / "kubeconfig")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=aws_url,
            AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION=data["region"], AWS_CONFIG_FILE=str(tmp / "none"),
            AWS_SHARED_CREDENTIALS_FILE=str(tmp / "none"), AWS_EC2_METADATA_DISABLED="true",
            KUBECONFIG=kc, SSL_CERT_FILE=issuer.ca_file,
        )  # fmt: skip

        def measure(mode: str) -> tuple[dict[str, Any], int, dict[str, int]]:
            kube.reset_records()
            _get_json(aws_url + "/__reset")
            servers = _server_cpu(aws_proc.pid)
            res = run_child(mode, env, args.cluster, args.naive_sas)
            res["server_cpu_s"] = _server_cpu(aws_proc.pid) - servers
            return res, len(kube.requests), _get_json(aws_url + "/__counts")

        # the requests the collector makes, replayed by the floor
        first, _, _ = measure("collect")  # also warms the server's page cache
        annotated = {
            s["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].rsplit("/", 1)[-1]
            for s in data["service_accounts"]
            if "eks.amazonaws.com/role-arn" in (s["metadata"].get("annotations") or {})
        }
        jobs = [
            urllib.parse.urlencode({"Action": op, "RoleName": r, "Version": "2010-05-08"})
            for r in sorted(annotated)
            for op in ("GetRole", "ListAttachedRolePolicies", "ListRolePolicies")
        ]
        (tmp / "iam-jobs.json").write_text(json.dumps(jobs))
        env["BENCH_IAM_JOBS_FILE"] = str(tmp / "iam-jobs.json")
        floors, collects = [], []
        for _ in range(2):
            floors.append(measure("floor"))
            collects.append(measure("collect"))
        boto3_res = measure("boto3")[0]
        naive_res, naive_k8s, naive_aws = measure("naive")
        aws_proc.terminate()
        aws_proc.wait(10)

    fl = min(floors, key=lambda r: r[0]["total_s"])[0]
    res, k8s_requests, aws_counts = min(collects, key=lambda r: r[0]["total_s"])
    pages = -(-args.pods // 500) + -(-args.sas // 500)
    eks_ops = ("DescribeCluster", "ListPodIdentityAssociations")
    iam = sum(v for k, v in aws_counts.items() if k not in eks_ops)
    roles, total = res["roles"], res["total_s"]
    naive_total = naive_res["total_s"]
    core = res["build_s"] + res["checks_s"]
    cores = os.cpu_count() or 1
    cpu_all = res["collect_cpu"] + res["checks_cpu"] + res["server_cpu_s"]
    floor_cpu = fl["k8s_cpu"] + fl["server_cpu_s"]  # its IAM client work is boto3's here
    bound = (boto3_res["cpu_s"] + floor_cpu + res["checks_cpu"]) / cores
    lines = [
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"collected: {res['pods']} pods, {res['service_accounts']} service accounts, "
        f"{roles} distinct annotated roles, {res['rows']} result rows",
        f"collect + run_checks: {total:.2f} s (collect {res['collect_s']:.2f} s, run_checks "
        f"{res['checks_s']:.2f} s; imports {res['import_s']:.2f} s not counted)",
        f"floor (raw GET + json.loads, raw IAM POSTs): {fl['total_s']:.2f} s "
        f"-> ratio {total / fl['total_s']:.2f}x (target <= 1.5x); the floor's Kubernetes pages "
        f"alone took {fl['k8s_s']:.2f} s, its IAM requests {fl['iam_s']:.2f} s (8 threads)",
        f"peak RSS (ru_maxrss): collect {res['maxrss_mb']:.0f} MB (target <= 300; VmHWM "
        f"{res.get('vmhwm_mb') or 0:.0f} MB); of which collect alone (before run_checks) "
        f"{res.get('collect_vmhwm_mb') or 0:.0f} MB; floor {fl['maxrss_mb']:.0f} MB",
        f"Kubernetes requests: {k8s_requests} (list pages {pages} + /version + webhooks list)",
        f"IAM requests: {iam} (one get-account-authorization-details, get-role for the roles "
        f"it does not hold; per role it would be <= 3 x {roles}); by operation: {aws_counts}",
        f"naive baseline: {naive_res['per_sa_s'] * 1000:.0f} ms per service account, measured "
        f"on {naive_res['measured_sas']} of {naive_res['annotated_sas']} annotated service "
        f"accounts and extrapolated linearly: {naive_total:.0f} s -> collect is "
        f"{naive_total / total:.0f}x faster (target >= 20x); naive peak RSS "
        f"{naive_res['maxrss_mb']:.0f} MB, {naive_k8s} Kubernetes and "
        f"{sum(naive_aws.values())} AWS requests for the subset",
        f"(first collect run, cold server page cache: {first['total_s']:.2f} s)",
        f"CPU seconds: collect {res['collect_cpu']:.2f}, run_checks {res['checks_cpu']:.2f}, "
        f"servers {res['server_cpu_s']:.2f}; floor: client {fl['cpu_s']:.2f}, servers "
        f"{fl['server_cpu_s']:.2f}",
        f"the per-role reads of {boto3_res['roles']} roles alone, one after another: "
        f"{boto3_res['cpu_s']:.2f} s CPU ({boto3_res['cpu_s'] / boto3_res['roles'] * 1000:.2f} "
        f"ms per role), {boto3_res['wall_s']:.2f} s",
        f"build_inventory (again, on the collected documents) + run_checks, no I/O: "
        f"{core:.2f} s = {core / fl['total_s']:.2f}x the floor; all CPU of the run (client + "
        f"servers) spread over {os.cpu_count()} cores: "
        f"{cpu_all / cores:.2f} s = {cpu_all / cores / fl['total_s']:.2f}x the floor",
        f"lower bound for a boto3-based collect + run_checks here: the role calls' boto3 CPU "
        f"{boto3_res['cpu_s']:.2f} + the floor's page reading {fl['k8s_cpu']:.2f} + the servers' "
        f"CPU {fl['server_cpu_s']:.2f} "
        f"+ run_checks' CPU {res['checks_cpu']:.2f}, spread perfectly over {cores} cores and "
        f"with no inventory built: {bound:.2f} s = {bound / fl['total_s']:.2f}x the floor "
        f"({(bound - res['checks_cpu'] / cores) / fl['total_s']:.2f}x without run_checks)",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
