"""In-pod evidence (``--exec``): the exec transport, its baseline, and the probe.

The fake Kubernetes API (tests/servers/fake_kube.py) runs in its own process (TLS, as an EKS
endpoint), with an exec handler that answers the probe like a container would: a canned,
realistic probe output (about 2 KB) after a configurable command time. Measured:

* cold start in a fresh process (imports, client construction and the first exec):
  ``irsa_nb.live.exec.run_command`` (websocket-client on the ApiClient's configuration) vs the
  baseline ``kubernetes.stream.stream(CoreV1Api().connect_get_namespaced_pod_exec, ...,
  _preload_content=False)``;
* warm latency per exec (median of N sequential ``env`` execs), both clients;
* ``collect_exec`` over many containers with a slow command: 1 worker vs the default 4 vs 8;
* the probe itself, run by the system's ``dash`` in a local sandbox (median wall time), and the
  size of its exec request line (Python's encoding, and kubectl's Go ``QueryEscape``).

Run: .venv/bin/python benchmarks/bench_exec.py [--execs 50 --containers 48 --command-ms 250]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COMMAND_SECONDS = float(os.environ.get("BENCH_EXEC_COMMAND_SECONDS", "0"))


def canned_handler(ns: str, pod: str, container: str, command: list[str]) -> object:
    """A container: the probe gets a realistic canned answer after COMMAND_SECONDS."""
    from tests.servers.fake_kube import ExecResult

    if command[:2] == ["sh", "-c"]:
        return ExecResult(stdout=_PROBE_OUTPUT, delay_seconds=COMMAND_SECONDS)
    return ExecResult(stdout="PATH=/usr/bin\nHOME=/root\nAWS_ROLE_ARN=arn:aws:iam::1:role/x\n")


_M = "@@irsa-nb:0f8e3a52-4c1d-4e6a-9b1f-2d3c4b5a6978@@"
_PROBE_OUTPUT = "\n".join(
    [
        f"IRSA-NB-PROBE 1 {_M}",
        "",
        f"{_M} env",
        *(f"VAR_{i}=***" for i in range(25)),
        "AWS_ROLE_ARN=arn:aws:iam::111122223333:role/app",
        "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
        "",
        f"{_M} id",
        "uid=1000(app) gid=1000(app) groups=1000(app)",
        "",
        f"{_M} token-stat",
        "path=/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
        "source=env",
        "exists=yes",
        "stat=0 1000 640",
        "readable=yes",
        "",
        f"{_M} token-claims",
        "eyJhdWQiOlsic3RzLmFtYXpvbmF3cy5jb20iXSwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjE5OTk5OTAwMDAsIml"
        "zcyI6Imh0dHBzOi8veCIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDphOmIifQ",
        "",
        f"{_M} aws-files",
        "file\tcredentials\tdefault\tabsent\t/home/app/.aws/credentials",
        "file\tconfig\tdefault\tabsent\t/home/app/.aws/config",
        "",
        f"{_M} sdk",
        "cwd\t/app",
        *(f"tool\t{t}\tyes" for t in ("python3", "python", "aws", "find", "unzip", "go")),
        "py\tboto3\t1.34.0\t/usr/local/bin/python3",
        "py\tbotocore\t1.34.0\t/usr/local/bin/python3",
        "",
        f"{_M} end",
        "",
    ]
)

_COLD_OURS = """
import time; t0 = time.perf_counter()
from irsa_nb.live.kube import KubeReader
from irsa_nb.live.exec import run_command
api = KubeReader.from_kubeconfig("fake", config_file={cfg!r}).api
out = run_command(api, "bench", "pod-0", "app", ["env"], 30)
assert out.exit_code == 0 and "AWS_ROLE_ARN" in out.stdout
print(time.perf_counter() - t0)
"""
_COLD_STREAM = """
import time; t0 = time.perf_counter()
from kubernetes import client, config
from kubernetes.stream import stream
api = config.new_client_from_config(config_file={cfg!r}, context="fake")
v1 = client.CoreV1Api(api)
r = stream(v1.connect_get_namespaced_pod_exec, "pod-0", "bench", container="app",
           command=["env"], stderr=True, stdin=False, stdout=True, tty=False,
           _preload_content=False)
r.run_forever(timeout=30)
out = r.read_stdout()
assert r.returncode == 0 and "AWS_ROLE_ARN" in out
print(time.perf_counter() - t0)
"""


def _cold(code: str, cfg: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        res = subprocess.run(
            [sys.executable, "-c", code.format(cfg=cfg)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        times.append(float(res.stdout.strip().splitlines()[-1]))
    return min(times)


def _warm(cfg: str, n: int) -> tuple[float, float]:
    from kubernetes import client, config
    from kubernetes.stream import stream

    from irsa_nb.live.exec import run_command
    from irsa_nb.live.kube import KubeReader

    api = KubeReader.from_kubeconfig("fake", config_file=cfg).api
    ours = []
    for _ in range(n):
        t = time.perf_counter()
        run_command(api, "bench", "pod-0", "app", ["env"], 30)
        ours.append(time.perf_counter() - t)
    v1 = client.CoreV1Api(config.new_client_from_config(config_file=cfg, context="fake"))
    base = []
    for _ in range(n):
        t = time.perf_counter()
        r = stream(
            v1.connect_get_namespaced_pod_exec, "pod-0", "bench", container="app",
            command=["env"], stderr=True, stdin=False, stdout=True, tty=False,
            _preload_content=False,
        )  # fmt: skip
        r.run_forever(timeout=30)
        r.read_stdout()
        base.append(time.perf_counter() - t)
    return statistics.median(ours), statistics.median(base)


def _probe_locally(runs: int) -> float:
    import shutil

    from irsa_nb.live.exec_probe import PROBE_SCRIPT

    dash = shutil.which("dash") or "sh"
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp}
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([dash, "-c", PROBE_SCRIPT], env=env, cwd=tmp, capture_output=True)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--execs", type=int, default=50, help="sequential execs per client (warm)")
    ap.add_argument("--containers", type=int, default=48, help="containers for collect_exec")
    ap.add_argument("--command-ms", type=float, default=250, help="probe time in a container")
    ap.add_argument("--cold-runs", type=int, default=3)
    args = ap.parse_args()

    from tests.builders import k8s_objects as k8s
    from tests.servers.fake_kube import FakeKubeProcess

    role = "arn:aws:iam::111122223333:role/app"
    per_pod = 4
    pods = [
        k8s.pod("bench", f"pod-{i}", "app", containers=[f"c{j}" for j in range(per_pod)]
                if i else ["app"], irsa_role_arn=role)
        for i in range(args.containers // per_pod + 1)
    ]  # fmt: skip
    sas = [k8s.irsa_service_account("bench", "app", role)]
    os.environ["BENCH_EXEC_COMMAND_SECONDS"] = str(args.command_ms / 1000)
    global COMMAND_SECONDS
    COMMAND_SECONDS = args.command_ms / 1000
    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with (
        FakeKubeProcess(
            pods=pods, service_accounts=sas, tls=True, exec_handler=canned_handler
        ) as kube,
        tempfile.TemporaryDirectory() as tmp,
    ):
        cfg = kube.kubeconfig(Path(tmp) / "kubeconfig")
        ours_cold = _cold(_COLD_OURS, cfg, args.cold_runs)
        base_cold = _cold(_COLD_STREAM, cfg, args.cold_runs)
        print(f"cold start + first exec (best of {args.cold_runs}, fresh process):")
        print(f"  irsa_nb run_command        {ours_cold * 1000:8.0f} ms")
        ratio = base_cold / ours_cold
        print(f"  kubernetes.stream baseline {base_cold * 1000:8.0f} ms  ({ratio:.1f}x)")
        ours, base = _warm(cfg, args.execs)
        print(f"warm exec latency (median of {args.execs}):")
        print(f"  irsa_nb run_command        {ours * 1000:8.1f} ms")
        print(f"  kubernetes.stream baseline {base * 1000:8.1f} ms  ({base / ours:.1f}x)")

        from irsa_nb.bundle import read_documents  # noqa: F401  (warm imports)
        from irsa_nb.live.exec import ExecTarget, collect_exec
        from irsa_nb.live.kube import KubeReader, kube_list

        api = KubeReader.from_kubeconfig("fake", config_file=cfg).api
        pods_doc = kube_list(p | {"status": {"phase": "Running"}} for p in pods[1:])
        sa_doc = kube_list(sas)
        n = sum(len(p["spec"]["containers"]) for p in pods[1:])
        print(f"collect_exec over {n} containers, probe takes {args.command_ms:g} ms each:")
        for workers in (1, 4, 8):
            t = time.perf_counter()
            docs = collect_exec(api, pods_doc, sa_doc, ExecTarget(all=True), workers=workers)
            took = time.perf_counter() - t
            ok = sum(1 for k, d in docs.items() if k.endswith("probe.json") and d["status"] == "ok")
            print(f"  workers={workers}: {took:6.2f} s ({ok} ok)")

    from irsa_nb.live import exec as live_exec
    from irsa_nb.live.exec_probe import PROBE_COMMAND, PROBE_SCRIPT

    query = [("container", "app"), ("stdin", "false"), ("stdout", "true"), ("stderr", "true")]
    query += [("tty", "false")] + [("command", a) for a in PROBE_COMMAND]
    ours_q = urlencode(query, safe=live_exec._SAFE, quote_via=quote_plus)
    go_q = urlencode(query, quote_via=lambda s, *_: quote(s, safe="-_.~").replace("%20", "+"))
    print(f"probe script: {len(PROBE_SCRIPT)} bytes; exec query string: {len(ours_q)} bytes "
          f"(kubectl's encoding: {len(go_q)})")  # fmt: skip
    print(f"probe run locally by dash (no SDKs to find): {_probe_locally(20) * 1000:.1f} ms median")


if __name__ == "__main__":
    main()
