"""Scripted containers behind the fake API server's exec endpoint.

A :class:`Box` describes what one container's image sets (ENV, user, files, tools, SDKs).
:class:`Boxes` is a FakeKube ``exec_handler``: for the probe (``sh -c SCRIPT``) it builds the
container's filesystem in a sandbox directory and runs the real probe script with the system's
``dash`` (as another uid with ``setpriv`` when the box says so), with exactly the environment the
kubelet would give the container (image ENV, then the pod spec's env on top); ``env``/``id`` run
the same way; a distroless box answers every command like containerd does when ``sh`` is
missing; a hanging box never answers the probe. Nothing of the sandbox path leaks into the
assertions except through the token path.

``exec_live(...)`` builds on the live-collection fixture (moto + FakeKube + HTTPS issuer): a
small synthetic cluster plus one IRSA app per call of :func:`add_app`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.builders import k8s_objects as k8s
from tests.live.conftest import small_data  # ``live`` itself: from tests/live/conftest
from tests.servers.fake_kube import ExecResult
from tests.servers.jwt_keys import service_account_claims

DASH = shutil.which("dash") or shutil.which("sh")
SETPRIV = shutil.which("setpriv")
DEFAULT_TOOLS = ("env", "id", "stat", "ls", "find", "cat", "sed", "timeout", "unzip", "tr")
NOT_FOUND = (
    "OCI runtime exec failed: exec failed: unable to start container process: exec: "
    '"{0}": executable file not found in $PATH: unknown\r\n'
)
TOKEN_PATH = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
SECRET_VALUES = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "hunter2-db")
#: Multi-line values whose continuation lines look like variables (a PEM key's tail line, an
#: AWS_ACCESS_KEY_ID, a second AWS_REGION, an ``export`` line), and the fragments of their
#: values that must never reach any document.
PEM = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
    "SecretTailAbc123==\n-----END PRIVATE KEY-----"
)
MULTILINE_ENV = {
    "TLS_KEY": PEM,
    "DB_URL": (
        "x\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_REGION=secret-region-9f\n"
        "export AWS_PROFILE=secret-profile-9f\ndeclare -x HOME=secret-home-9f\nPASSWORD=hunter2-db"
    ),
    "AWS_ROLE_SESSION_NAME": "app\nAWS_REGION=secret-region-9f",  # a kept name, two lines
}
MULTILINE_FRAGMENTS = (
    "MIIEvQIBADAN",
    "SecretTailAbc123",
    "AKIAIOSFODNN7EXAMPLE",
    "secret-region-9f",
    "secret-profile-9f",
    "secret-home-9f",
    "hunter2",
)

needs_root = pytest.mark.skipif(
    not SETPRIV or os.geteuid() != 0, reason="running the probe as another uid needs setpriv+root"
)


@dataclass
class Box:
    """What one container's image holds and how the probe sees it."""

    env: dict[str, str] = field(default_factory=dict)  # image ENV ({root}: the sandbox)
    uid: int | None = None  # run as this uid/gid (setpriv); None: the current user
    gid: int | None = None
    token_mode: int = 0o644
    claims: dict[str, Any] = field(default_factory=dict)  # overrides of the minted claims
    files: dict[str, str] = field(default_factory=dict)  # sandbox-relative path -> content
    python: dict[str, str] = field(default_factory=dict)  # installed Python dists -> version
    tools: tuple[str, ...] = DEFAULT_TOOLS
    shell: bool = True  # False: distroless (no sh; no env or id unless in bare_tools)
    bare_tools: tuple[str, ...] = ()  # with shell=False: the commands still there (env, id)
    env_nul: bool = True  # False: an env without -0 (old busybox), plain env only
    hang: bool = False  # the probe never answers

    def __post_init__(self) -> None:
        if self.python and "python3" not in self.tools:
            self.tools = (*self.tools, "python3")


class Boxes:
    """A FakeKube ``exec_handler`` running the real probe against scripted containers."""

    def __init__(self, kube: Any, issuer: str) -> None:
        self.kube = kube
        self.issuer = issuer
        self.boxes: dict[tuple[str, str, str], Box] = {}
        self.root = Path(tempfile.mkdtemp(prefix="irsa-exec-boxes-"))
        self.root.chmod(0o755)
        self.runs = 0

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __call__(self, ns: str, pod: str, container: str, command: list[str]) -> ExecResult:
        box = self.boxes.get((ns, pod, container), Box())
        if not box.shell and command[0] not in box.bare_tools:
            return ExecResult(stdout=NOT_FOUND.format(command[0]), exit_code=127)
        probe = len(command) == 3 and command[:2] == ["sh", "-c"]
        if box.hang and probe:
            return ExecResult(delay_seconds=120)
        if not probe and command not in (["env"], ["env", "-0"], ["id"]):
            return ExecResult(stdout=NOT_FOUND.format(command[0]), exit_code=127)
        if command == ["env", "-0"] and not box.env_nul:
            return ExecResult(stderr="env: unrecognized option: 0\nBusyBox v1.24.2\n", exit_code=1)
        pod_obj = self.kube._stores["pods"].objs[(ns, pod)]
        root, env = self._sandbox(box, pod_obj, container)
        argv = [DASH, "-c", command[2]] if probe else [shutil.which(command[0]), *command[1:]]
        if box.uid is not None:
            gid = box.gid if box.gid is not None else box.uid
            argv = [SETPRIV, f"--reuid={box.uid}", f"--regid={gid}", "--clear-groups", *argv]
        self.runs += 1
        res = subprocess.run(
            argv, env=env, cwd=root / "app", capture_output=True, text=True, timeout=60
        )
        return ExecResult(stdout=res.stdout, stderr=res.stderr, exit_code=res.returncode)

    # -- the container's filesystem and environment ---------------------------------------

    def _sandbox(self, box: Box, pod: dict, container: str) -> tuple[Path, dict[str, str]]:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        root = self.root / ns / name / container
        shutil.rmtree(root, ignore_errors=True)
        for d in ("app", "home", "bin", "site"):
            (root / d).mkdir(parents=True, exist_ok=True)
        for rel, content in box.files.items():
            path = root / rel.format(root=root)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        for tool in box.tools:
            if tool == "python3":
                shim = root / "bin" / "python3"
                shim.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
                shim.chmod(0o755)
            elif shutil.which(tool):
                (root / "bin" / tool).symlink_to(shutil.which(tool))
        for dist, version in box.python.items():
            info = root / "site" / f"{dist}-{version}.dist-info"
            info.mkdir(parents=True)
            (info / "METADATA").write_text(
                f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
            )
        spec = next(c for c in pod["spec"]["containers"] if c["name"] == container)
        env = {"PATH": str(root / "bin"), "HOSTNAME": name, "HOME": str(root / "home")}
        if box.python:
            env["PYTHONPATH"] = str(root / "site")
        env.update({k: v.format(root=root) for k, v in box.env.items()})
        env.update({e["name"]: e["value"] for e in spec.get("env", []) if "value" in e})
        for k, v in list(env.items()):
            if v.startswith("/var/run/secrets/"):
                env[k] = str(root) + v
        self._token(box, pod, spec, root)
        for dirpath, dirnames, _ in os.walk(self.root):
            for d in dirnames:
                Path(dirpath, d).chmod(0o755)
        return root, env

    def _token(self, box: Box, pod: dict, spec: dict, root: Path) -> None:
        mounts = {m["mountPath"]: m["name"] for m in spec.get("volumeMounts", [])}
        vol_name = mounts.get(TOKEN_PATH.rsplit("/", 1)[0])
        vols = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        if vol_name is None or vol_name not in vols:
            return
        src = next(
            s["serviceAccountToken"]
            for s in vols[vol_name]["projected"]["sources"]
            if "serviceAccountToken" in s
        )
        ns = pod["metadata"]["namespace"]
        claims = service_account_claims(
            issuer=self.issuer,
            namespace=ns,
            name=pod["spec"].get("serviceAccountName", "default"),
            audiences=[src.get("audience", "sts.amazonaws.com")],
            expiration_seconds=int(src.get("expirationSeconds", 86400)),
            pod=(pod["metadata"]["name"], pod["metadata"]["uid"]),
        )
        claims.update(box.claims)
        token = root / TOKEN_PATH.lstrip("/")
        token.parent.mkdir(parents=True, exist_ok=True)
        token.write_text(self.kube.signing_key.sign(claims))
        token.chmod(box.token_mode)
        if os.geteuid() == 0:
            os.chown(token, 0, 0)


def add_app(
    data: dict[str, Any],
    ns: str,
    sa: str,
    pods: dict[str, list[dict]] | None = None,
    *,
    audience: str | None = None,
) -> str:
    """Add a healthy IRSA app to synthetic ``data``: a role trusting ``ns/sa`` (copied from a
    healthy synthetic role), the annotated service account and its webhook-mutated pods
    (``{pod name: [containers]}``). Returns the role ARN."""
    broken = set(data["defects"]["roles"])
    template = next(r for n, r in data["roles"].items() if n not in broken)
    role = copy.deepcopy(template)
    role_name = f"exec-{ns}-{sa}"
    r = role["get_role"]["Role"]
    r["RoleName"] = role_name
    r["Arn"] = r["Arn"].rsplit("/", 1)[0] + "/" + role_name
    cond = r["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    for key in cond:
        if key.endswith(":sub"):
            cond[key] = f"system:serviceaccount:{ns}:{sa}"
    data["roles"][role_name] = role
    data["service_accounts"].append(k8s.irsa_service_account(ns, sa, r["Arn"], audience=audience))
    for pod_name, containers in (pods or {}).items():
        data["pods"].append(
            k8s.pod(
                ns,
                pod_name,
                sa,
                containers=containers,
                irsa_role_arn=r["Arn"],
                audience=audience or "sts.amazonaws.com",
            )
        )
    return r["Arn"]


@pytest.fixture
def exec_live(live: Callable[..., Any]) -> Iterator[Callable[..., tuple[Any, Boxes]]]:
    """``exec_live(data, boxes={(ns, pod, container): Box}, **live_knobs)`` -> (Live, Boxes)."""
    made: list[Boxes] = []

    def make(data: dict[str, Any], boxes: dict | None = None, **knobs: Any) -> tuple[Any, Boxes]:
        lv = live(data, **knobs)
        handler = Boxes(lv.kube, lv.seeded.issuer)
        handler.boxes.update(boxes or {})
        lv.kube.exec_handler = handler
        made.append(handler)
        return lv, handler

    yield make
    for h in made:
        h.close()


def base_data(**kw: Any) -> dict[str, Any]:
    """A small synthetic cluster (a few SAs and pods of every kind) to add exec apps to."""
    args = {"n_service_accounts": 6, "n_pods": 8, "n_roles": 3, "n_namespaces": 2, "seed": 11}
    return small_data(**{**args, **kw})


def now() -> int:
    return int(time.time())


def texts(root: Path) -> str:
    """Every file under ``root`` as one string (to look for leaked secrets)."""
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def evidence(row: Any) -> dict:
    return json.loads(row["evidence"]) if row["evidence"] else {}
