"""Opt-in in-pod evidence (``--exec``): run the fixed probe inside containers.

The Kubernetes exec API is a websocket (``GET .../pods/<pod>/exec?command=...`` upgraded,
subprotocol ``v5.channel.k8s.io``/``v4.channel.k8s.io``): frames carry a channel byte
(1 stdout, 2 stderr, 3 the final ``Status`` JSON with the exit code). :func:`run_command`
is a small client for it on top of ``websocket-client`` (a dependency of the kubernetes
client), configured from the same ``ApiClient`` as every other request (host, TLS, client
certificates, bearer token or exec plugin, proxy), with a connect timeout and one deadline
per command: a command that hangs is cut off and reported, the rest of the collection goes
on. ``kubernetes.stream`` is not used although it is as fast (``benchmarks/bench_exec.py``:
same cold start and per-exec latency): its websocket has no connect timeout, it keeps
unbounded output, and ``WSClient.returncode`` raises on a ``Status`` without an exit code
(containerd's "executable file not found", the distroless case).

Only fixed commands are sent: :data:`irsa_nb.live.exec_probe.PROBE_COMMAND` and, in a
container without ``sh``, :data:`irsa_nb.live.exec_probe.FALLBACK_COMMANDS`. Names of
namespaces, pods and containers go into the URL path and the ``container`` query parameter
only, never into a command. Exec needs ``create`` (and, before Kubernetes 1.35, ``get``)
on ``pods/exec`` (docs/permissions.md).
"""

from __future__ import annotations

import json
import logging
import math
import re
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

from ..bundle import CallFailed, Document
from ..exec_facts import exec_path, redact_env_text
from ..k8s import ROLE_ARN_ANNOTATION, TOKEN_VOLUME, Pod, ServiceAccount, items_of
from ..redact import mask_text
from . import kube
from .exec_probe import (
    FALLBACK_COMMANDS,
    FILES,
    PROBE_COMMAND,
    documents_from_sections,
    split_sections,
)

log = logging.getLogger(__name__)

EXEC_TIMEOUT = 30.0  # seconds per command (connect included)
EXEC_WORKERS = 4  # containers probed at the same time
CONNECT_TIMEOUT = 10.0
MAX_OUTPUT = 4 << 20  # bytes kept per command (stdout + stderr)
MAX_ATTEMPTS = 3  # upgrade answered 429/5xx: retried with backoff
#: The one non-read operation ``--exec`` adds (docs/permissions.md): RBAC ``create`` on
#: ``pods/exec`` (websocket upgrades are authorized as ``get`` before Kubernetes 1.35).
EXEC_RESOURCE = ("", "pods/exec", "create")
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
#: Left unescaped in the query (RFC 3986 sub-delims Go's ParseQuery reads as themselves; not
#: ``&;=+``): keeps the probe's URL well under the ~8 KiB request-line limit of proxies.
_SAFE = "/:,@!$'()*"
_NO_EXECUTABLE = re.compile(
    r"executable file not found|no such file or directory|not found in \$PATH|"
    r"exec format error|permission denied",
    re.I,
)


def check_timeout(timeout: float) -> float:
    """``timeout`` when it is a finite positive number of seconds; else :class:`ValueError`
    (``inf`` would let a hanging exec block the collection forever, ``nan`` breaks the
    deadline arithmetic)."""
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not (math.isfinite(timeout) and timeout > 0)
    ):
        raise ValueError(
            f"the exec timeout must be a finite positive number of seconds, not {timeout!r}"
        )
    return timeout


class ExecError(Exception):
    """The exec call failed before the command ran (HTTP status, TLS, connection)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ExecTarget:
    """Which pods ``--exec`` looks into.

    ``all=True``: every running pod that uses IRSA (an annotated service account, IRSA
    variables or the ``aws-iam-token`` volume), within the collected namespaces. Otherwise
    the target: ``pod`` (any state), else the pods of ``service_account``, else the IRSA
    pods of ``namespace``, else every IRSA pod.

    Examples
    --------
    >>> ExecTarget(namespace="shop", pod="cart-7d4b9c-x2k4p").describe()
    'pod shop/cart-7d4b9c-x2k4p'
    """

    namespace: str | None = None
    service_account: str | None = None
    pod: str | None = None
    all: bool = False

    def describe(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        if self.all:
            return "all IRSA pods" + (f" in {self.namespace}" if self.namespace else "")
        if self.pod:
            return f"pod {ns}{self.pod}"
        if self.service_account:
            return f"the pods of {ns}{self.service_account}"
        return f"the IRSA pods of {self.namespace}" if self.namespace else "all IRSA pods"


def exec_target(value: Any) -> ExecTarget | None:
    """Normalize the ``exec=`` argument of :func:`irsa_nb.collect`.

    ``None``/``False``: off; ``True`` or ``"all"``: every IRSA pod; an :class:`ExecTarget`
    or a mapping of its fields (``{"namespace": ..., "pod": ...}``).
    """
    if value is None or value is False:
        return None
    if value is True or value == "all":
        return ExecTarget(all=True)
    if isinstance(value, ExecTarget):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {"namespace", "service_account", "pod", "all"}
        if unknown:
            raise ValueError(f"exec: unknown key(s) {', '.join(sorted(unknown))}")
        return ExecTarget(**value)
    raise ValueError(f"exec must be True, 'all', an ExecTarget or a dict, not {value!r}")


@dataclass
class ExecOutput:
    """What one command returned."""

    stdout: str
    stderr: str
    exit_code: int | None  # None: unknown (no Status frame, or a Status without a code)
    message: str  # the Status message when it failed
    timed_out: bool = False
    truncated: bool = False


# --- transport -------------------------------------------------------------------------------


def _sslopt(cfg: Any, url: str) -> dict[str, Any]:
    """TLS options as ``kubernetes.stream.ws_client.create_websocket`` derives them."""
    if url.startswith("wss://") and cfg.verify_ssl:
        import certifi

        opt: dict[str, Any] = {
            "cert_reqs": ssl.CERT_REQUIRED,
            "ca_certs": cfg.ssl_ca_cert or certifi.where(),
        }
        if cfg.assert_hostname is not None:
            opt["check_hostname"] = cfg.assert_hostname
    else:
        opt = {"cert_reqs": ssl.CERT_NONE}
    if cfg.cert_file:
        opt["certfile"] = cfg.cert_file
    if cfg.key_file:
        opt["keyfile"] = cfg.key_file
    if getattr(cfg, "tls_server_name", None):
        opt["server_hostname"] = cfg.tls_server_name
    return opt


def _status_error(status: int, body: bytes | str | None) -> str:
    from kubernetes.client.exceptions import ApiException

    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    return kube.describe_error(ApiException(status=status, reason=None, body=text))


def run_command(
    api: Any,
    namespace: str,
    pod: str,
    container: str,
    argv: Sequence[str],
    timeout: float = EXEC_TIMEOUT,
) -> ExecOutput:
    """Run ``argv`` in a container through the exec API and wait at most ``timeout`` s.

    Raises :class:`ExecError` when the upgrade is refused (403, 404, 400 ...), after
    retries on 429/5xx, or when the API server cannot be reached; :class:`ValueError` for a
    ``timeout`` that is not a finite positive number.
    """
    check_timeout(timeout)
    import websocket
    from kubernetes.stream.ws_client import websocket_proxycare

    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/exec"
    query = [("container", container), ("stdin", "false"), ("stdout", "true")]
    query += [("stderr", "true"), ("tty", "false")] + [("command", a) for a in argv]
    for attempt in range(MAX_ATTEMPTS):
        _, url, headers, _, _ = api.param_serialize(
            "GET", path, header_params={}, auth_settings=["BearerToken"]
        )
        url = re.sub(r"^http", "ws", url) + "?" + urlencode(query, safe=_SAFE, quote_via=quote_plus)
        header = [f"{k}: {v}" for k, v in headers.items() if k.lower() in ("authorization",)]
        cfg = api.configuration
        opts: dict[str, Any] = {"header": header}
        if cfg.proxy or getattr(cfg, "proxy_headers", None):
            opts = websocket_proxycare(opts, cfg, url, headers)
        ws = websocket.WebSocket(sslopt=_sslopt(cfg, url), skip_utf8_validation=True)
        try:
            ws.connect(
                url,
                subprotocols=list(PROTOCOLS),
                timeout=min(CONNECT_TIMEOUT, timeout),
                **opts,
            )
        except websocket.WebSocketBadStatusException as exc:
            ws.shutdown()
            if exc.status_code in kube.RETRY_STATUSES and attempt < MAX_ATTEMPTS - 1:
                kube.backoff(attempt)
                continue
            message = _status_error(exc.status_code, exc.resp_body)
            raise ExecError(message, exc.status_code) from None
        except (websocket.WebSocketException, OSError, ValueError) as exc:
            ws.shutdown()
            raise ExecError(f"Unable to connect to the server: {exc}") from None
        try:
            return _read(ws, time.monotonic() + timeout)
        finally:
            ws.shutdown()
    raise AssertionError("unreachable")


def _read(ws: Any, deadline: float) -> ExecOutput:
    import websocket

    chunks: dict[int, list[bytes]] = {1: [], 2: [], 3: []}
    size = 0
    timed_out = truncated = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ws.settimeout(remaining)
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            timed_out = True
            break
        except (websocket.WebSocketConnectionClosedException, OSError):
            break
        except websocket.WebSocketException as exc:  # a broken frame: what came so far stays
            raise ExecError(f"the exec stream broke: {exc}") from None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
        if not data or data[0] not in chunks:
            continue  # v5 close-channel signals (255) and unknown channels
        if isinstance(data, str):
            data = data.encode()
        size += len(data) - 1
        if size > MAX_OUTPUT:
            truncated = True
            break
        chunks[data[0]].append(data[1:])
    out = b"".join(chunks[1]).decode("utf-8", "replace")
    err = b"".join(chunks[2]).decode("utf-8", "replace")
    code, message = _exit_status(b"".join(chunks[3]))
    return ExecOutput(out, err, code, message, timed_out, truncated)


def _exit_status(raw: bytes) -> tuple[int | None, str]:
    """``(exit code, message)`` from the ``Status`` on channel 3 (v4/v5 protocols)."""
    if not raw:
        return None, ""
    try:
        st = json.loads(raw)
    except (ValueError, RecursionError):
        return None, raw.decode("utf-8", "replace")[:500]
    if not isinstance(st, dict):
        return None, ""
    if st.get("status") == "Success":
        return 0, ""
    message = str(st.get("message") or "")
    for cause in (st.get("details") or {}).get("causes") or []:
        if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message")), message
            except (TypeError, ValueError):
                break
    return None, message


# --- choosing pods ---------------------------------------------------------------------------


def _is_irsa(pod: Pod, annotated: set[tuple[str, str]]) -> bool:
    return (
        (pod.namespace, pod.service_account) in annotated
        or TOKEN_VOLUME in pod.token_volumes
        or pod.has_irsa_env
    )


def select_pods(pods_doc: Document, sa_doc: Document, target: ExecTarget) -> list[Pod]:
    """The pods ``target`` names, from the collected pod and service account lists.

    ``all`` and the namespace-wide target keep running pods only; a pod or service account
    target keeps every pod it names (a pod that is not running is reported, not probed).
    """
    try:
        pods = [Pod.from_k8s(o) for o in items_of(pods_doc)]
    except (ValueError, TypeError, AttributeError):
        return []
    try:
        sas = [ServiceAccount.from_k8s(o) for o in items_of(sa_doc)]
    except (ValueError, TypeError, AttributeError):
        sas = []
    annotated = {(s.namespace, s.name) for s in sas if s.annotations.get(ROLE_ARN_ANNOTATION)}
    ns = target.namespace
    if not target.all and target.pod:
        return [p for p in pods if p.name == target.pod and ns in (None, p.namespace)]
    if not target.all and target.service_account:
        return [
            p
            for p in pods
            if p.service_account == target.service_account and ns in (None, p.namespace)
        ]
    return [
        p
        for p in pods
        if ns in (None, p.namespace) and p.phase == "Running" and _is_irsa(p, annotated)
    ]


# --- probing ---------------------------------------------------------------------------------


def collect_exec(
    api: Any,
    pods_doc: Document,
    sa_doc: Document,
    target: ExecTarget,
    *,
    timeout: float = EXEC_TIMEOUT,
    workers: int = EXEC_WORKERS,
) -> dict[str, Document]:
    """In-pod evidence documents (``k8s/exec/...``) for the pods ``target`` selects.

    Each container is probed once (bounded concurrency, one deadline per command); a
    failure is recorded for that container only. ``timeout`` must be a finite positive
    number of seconds (:class:`ValueError` otherwise).
    """
    check_timeout(timeout)
    pods = select_pods(pods_doc, sa_doc, target)
    jobs = []
    docs: dict[str, Document] = {}
    for pod in pods:
        for c in pod.containers:  # init containers have finished: nothing to exec into
            if pod.phase != "Running":
                docs[exec_path(pod.namespace, pod.name, c.name, "probe.json")] = {
                    "status": "not_running",
                    "message": f"pod phase is {pod.phase or 'unknown'}",
                }
            else:
                jobs.append((pod.namespace, pod.name, c.name))
    log.info("exec: probing %d containers of %d pods (%s)", len(jobs), len(pods), target.describe())
    if not jobs:
        log.warning("--exec: no running pod matched %s; nothing was probed", target.describe())
        return docs
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="irsa-nb-exec") as pool:
        for result in pool.map(lambda j: probe_container(api, *j, timeout=timeout), jobs):
            docs.update(result)
    return docs


def _fallback(
    api: Any, namespace: str, pod: str, container: str, timeout: float
) -> dict[str, Document]:
    """``env -0`` (else ``env``) and ``id`` as plain argv lists, for a container without
    ``sh``. The raw output crosses the wire; it is masked here before anything is kept."""
    out: dict[str, Document] = {}
    for section, argv in FALLBACK_COMMANDS:
        if FILES[section] in out:
            continue
        try:
            res = run_command(api, namespace, pod, container, argv, timeout)
        except (ExecError, OSError, ValueError):
            continue
        if res.exit_code != 0 or not res.stdout.strip() or res.timed_out or res.truncated:
            continue
        if section != "env":
            out[FILES[section]] = mask_text(res.stdout)[0]
        elif "-0" not in argv:
            out[FILES[section]] = redact_env_text(res.stdout)
        elif "\0" in res.stdout:  # an env without -0 may print lines: then plain env decides
            out[FILES[section]] = redact_env_text(res.stdout, nul=True)
    return out


def probe_container(
    api: Any, namespace: str, pod: str, container: str, *, timeout: float = EXEC_TIMEOUT
) -> dict[str, Document]:
    """Run the probe in one container; its bundle documents (nothing secret is kept)."""
    check_timeout(timeout)
    where = f"{namespace}/{pod}/{container}"
    checked_at = int(time.time())
    meta: dict[str, Any] = {"checked_at": checked_at, "timeout_seconds": timeout}
    path = exec_path(namespace, pod, container, "probe.json")
    try:
        res = run_command(api, namespace, pod, container, PROBE_COMMAND, timeout)
    except ExecError as exc:
        log.info("exec %s failed: %s", where, exc.message)
        return {path: CallFailed(exc.message)}
    except (OSError, ValueError) as exc:  # e.g. the kubeconfig's credential plugin failed
        log.info("exec %s failed: %s", where, exc)
        return {path: CallFailed(f"exec failed: {exc}")}
    shell, sections, finished = split_sections(res.stdout)
    files: dict[str, Document] = documents_from_sections(sections, checked_at) if shell else {}
    meta.update(exit_code=res.exit_code, sections=list(sections))
    first = _reason(res, shell)
    if res.timed_out:
        done = ",".join(sections) or "none"
        meta.update(
            status="timeout",
            message=f"the probe did not finish within {timeout:g} s (sections read: {done})",
        )
    elif shell and finished:
        meta.update(status="ok", message="")
    elif shell:
        why = "output too large" if res.truncated else first or f"exit code {res.exit_code}"
        meta.update(status="error", message=f"the probe stopped early: {why}")
    elif res.exit_code in (126, 127) or _NO_EXECUTABLE.search(
        " ".join((res.message, res.stderr, res.stdout))
    ):
        files = _fallback(api, namespace, pod, container, timeout)
        got = ", ".join(sorted(files)) or "nothing"
        meta.update(
            status="no_shell",
            message=f"no sh in the container ({first or 'exit code ' + str(res.exit_code)}); "
            f"read directly: {got}",
        )
    else:
        meta.update(status="error", message=first or f"exit code {res.exit_code}")
    if meta["status"] != "ok":
        log.info("exec %s: %s", where, meta["message"])
    out = {exec_path(namespace, pod, container, name): doc for name, doc in files.items()}
    out[path] = meta
    return out


def _reason(res: ExecOutput, shell: bool) -> str:
    """The line that explains a failed probe (the "executable file not found" one first);
    the probe script itself, which API servers echo in their message, is left out."""
    texts = (res.stderr, res.message) if shell else (res.stdout, res.stderr, res.message)
    lines = [
        ln.strip()
        for t in texts
        for ln in (t or "").replace(PROBE_COMMAND[2], "<probe>").splitlines()
        if ln.strip()
    ]
    hit = next((ln for ln in lines if _NO_EXECUTABLE.search(ln)), lines[0] if lines else "")
    return mask_text(hit[:300])[0]
