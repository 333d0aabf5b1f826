"""The Kubernetes side of live collection: kubeconfig, paginated raw-JSON lists, retries.

The kubernetes client is used for configuration, authentication (tokens, exec plugins such
as ``aws eks get-token``, client certificates) and transport only: responses are read as raw
JSON (``_preload_content=False``) and slimmed page by page with :func:`irsa_nb.k8s.slim_pod`
/ :func:`irsa_nb.k8s.slim_service_account`, so memory stays flat on big clusters. Every
request is an HTTP GET.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

import urllib3
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from .. import bundle
from ..bundle import CallFailed, share_repeated
from ..k8s import slim_pod, slim_service_account, slim_webhook_configuration
from ..redact import mask_text
from . import credential_timeout

log = logging.getLogger(__name__)

PAGE_SIZE = 500
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 5  # per page: 1 + 4 retries with exponential backoff (0.5 s … 4 s, jittered)
MAX_RESTARTS = 3  # a list restarted after 410 Gone (stale continue token) at most this often
REQUEST_TIMEOUT = (10, 120)  # connect, read seconds

#: The Kubernetes resources live collection may list or get (docs/permissions.md).
RESOURCES = (
    ("", "serviceaccounts", "list"),
    ("", "pods", "list"),
    ("", "namespaces", "list"),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "list"),
)
NON_RESOURCE_URLS = ("/version",)

#: What a failed request raises (HTTP status, connection, TLS, bad JSON).
FAILURES = (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError)


class PagingError(ValueError):
    """The API server's pages do not add up (e.g. it repeats a ``continue`` token)."""


_sleep = time.sleep  # one name for every retry wait of live collection


def backoff(attempt: int, retry_after: float | None = None) -> None:
    """Wait before retrying after failed ``attempt`` (0-based): exponential from 0.5 s, capped
    at 8 s, jittered, and at least the server's ``Retry-After`` (up to 30 s)."""
    delay = min(0.5 * 2**attempt, 8.0) * (0.5 + random.random() / 2)
    _sleep(max(delay, min(retry_after or 0, 30.0)))


def request(
    api: k8s_client.ApiClient,
    method: str,
    path: str,
    query: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> bytes:
    """The raw body of one request through the client's auth and transport.

    The generated API classes (``CoreV1Api`` ...) are not used: building them costs seconds
    and their models are not wanted. Raises ``ApiException`` for a non-2xx answer.
    """
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    method, url, headers, data, _ = api.param_serialize(
        method,
        path,
        query_params=list((query or {}).items()),
        header_params=headers,
        body=body,
        auth_settings=["BearerToken"],
    )
    resp = api.call_api(
        method, url, header_params=headers, body=data, _request_timeout=REQUEST_TIMEOUT
    )
    resp.read()
    if not 200 <= resp.status <= 299:
        raise ApiException.from_response(http_resp=resp, body=None, data=None)
    return resp.data


#: What reading a missing, damaged or oddly shaped kubeconfig raises.
_UNREADABLE = (
    OSError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    ConfigException,
    yaml.YAMLError,
)


class KubeConfigError(ValueError):
    """No usable kubeconfig or context; ``reason`` is the cause without the advice."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


@dataclass(frozen=True)
class KubeContext:
    """A kubeconfig context: its name, the API server it points at and the name of its
    cluster entry (``aws eks update-kubeconfig`` names it after the cluster's ARN)."""

    name: str
    server: str
    cluster: str = ""


def kubeconfig_path() -> str:
    """``KUBECONFIG`` (may list several files) or ``~/.kube/config``, as kubectl reads it."""
    return os.environ.get("KUBECONFIG") or os.path.join("~", ".kube", "config")


def list_contexts(config_file: str | None = None) -> tuple[list[KubeContext], str | None]:
    """All contexts of the kubeconfig with their servers, and the current context's name.

    Raises
    ------
    KubeConfigError
        No kubeconfig, or one that cannot be read (missing file, bad YAML, wrong shape).
    """
    path = config_file or kubeconfig_path()
    try:
        merged = k8s_config.kube_config.KubeConfigMerger(path).config
        if merged is None:
            raise KubeConfigError(
                f"no kubeconfig at {path}: run `aws eks update-kubeconfig --name CLUSTER` "
                "or set KUBECONFIG",
                "no configuration found",
            )
        cfg = _plain(merged)
        clusters = [_plain(c) for c in cfg.get("clusters") or []]
        servers = {
            c.get("name"): (c.get("cluster") or {}).get("server", "")
            for c in clusters
            if isinstance(c, dict)
        }
        contexts = []
        for c in (_plain(x) for x in cfg.get("contexts") or []):
            if isinstance(c, dict) and c.get("name"):
                cluster = (c.get("context") or {}).get("cluster")
                server = str(servers.get(cluster) or "")
                contexts.append(KubeContext(str(c["name"]), server, str(cluster or "")))
        return contexts, cfg.get("current-context")
    except KubeConfigError:
        raise
    except _UNREADABLE as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise KubeConfigError(f"cannot read kubeconfig {path}: {reason}", reason) from None


def _bound_plugins(config: Any, seconds: float) -> None:
    """Run each user's exec credential plugin under :mod:`.credential_timeout` (in place)."""
    users = config.get("users") if isinstance(config, dict) else None
    for entry in users if isinstance(users, list) else []:
        entry = _plain(entry)  # the merger wraps each entry in a ConfigNode
        user = entry.get("user") if isinstance(entry, dict) else None
        plugin = user.get("exec") if isinstance(user, dict) else None
        if isinstance(plugin, dict) and isinstance(plugin.get("command"), str):
            args = plugin.get("args") if isinstance(plugin.get("args"), list) else []
            command, *wrapped = credential_timeout.bounded([plugin["command"], *args], seconds)
            plugin["command"], plugin["args"] = command, wrapped


def _plain(node: Any) -> Any:
    """The dict inside the client's ConfigNode wrappers."""
    return node.value if hasattr(node, "value") else node


def _norm_server(url: str) -> str:
    return re.sub(r"^https?://", "", url.strip().lower()).rstrip("/").removesuffix(":443")


def choose_context(
    explicit: str | None, eks_endpoint: str | None, config_file: str | None = None
) -> KubeContext:
    """The context to use: ``explicit``; else the one whose server is the EKS endpoint;
    else the current context."""
    contexts, current = list_contexts(config_file)
    by_name = {c.name: c for c in contexts}
    if explicit:
        if explicit not in by_name:
            names = ", ".join(sorted(by_name)) or "none"
            raise KubeConfigError(f"context {explicit!r} not in kubeconfig (contexts: {names})")
        return by_name[explicit]
    if eks_endpoint:
        for c in contexts:
            if c.server and _norm_server(c.server) == _norm_server(eks_endpoint):
                return c
    if current and current in by_name:
        if eks_endpoint:
            log.warning(
                "no kubeconfig context points at %s; using the current context %s",
                eks_endpoint,
                current,
            )
        return by_name[current]
    raise KubeConfigError(
        "no kubeconfig context for this cluster: run `aws eks update-kubeconfig --name CLUSTER`"
        " or pass --context"
    )


def region_from_server(server: str) -> str | None:
    """The AWS region of an EKS API endpoint (``https://X.gr7.us-west-2.eks.amazonaws.com``)."""
    m = re.search(r"\.([a-z]{2}(?:-[a-z]+)+-\d+)\.eks\.amazonaws\.com(?:\.cn)?(?::\d+)?/?$", server)
    return m.group(1) if m else None


def describe_error(exc: BaseException) -> str:
    """What kubectl would print for a failed request (secrets in it masked: it is logged)."""
    return mask_text(_describe_error(exc))[0]


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, ApiException):
        try:
            status = json.loads(exc.body or "")
        except (TypeError, ValueError, RecursionError):
            status = None
        if isinstance(status, dict) and status.get("kind") == "Status":
            reason = status.get("reason") or exc.reason or exc.status
            return f"Error from server ({reason}): {status.get('message', '')}".rstrip(": ")
        body = (exc.body or "").strip().splitlines()
        detail = f": {body[0][:300]}" if body else ""
        return f"Error from server ({exc.reason or exc.status}) (HTTP {exc.status}){detail}"
    if isinstance(exc, PagingError):
        return str(exc)
    return f"Unable to connect to the server: {exc}"


class KubeReader:
    """Read-only raw-JSON access to one cluster's API server.

    Parameters
    ----------
    api_client
        A configured ``kubernetes.client.ApiClient`` (see :meth:`from_kubeconfig`).
    page_size
        ``limit`` of each list request.
    on_page
        Called with ``(kind, items_in_page, remaining_item_count_or_None)`` after each page.
    """

    def __init__(
        self,
        api_client: k8s_client.ApiClient,
        page_size: int = PAGE_SIZE,
        on_page: Callable[[str, int, int | None], None] | None = None,
    ) -> None:
        self.api = api_client
        self.page_size = page_size
        self.on_page = on_page
        self.requests = 0
        self._shared: dict[Any, Any] = {}  # one copy of each repeated part across pages

    @classmethod
    def from_kubeconfig(
        cls,
        context: str,
        config_file: str | None = None,
        plugin_timeout: float = credential_timeout.TIMEOUT,
        **kw: Any,
    ) -> KubeReader:
        """A reader for ``context``; exec credential plugins get ``plugin_timeout`` seconds
        (a plugin that fails or times out is logged, and its requests fail with 401)."""
        cfg = k8s_client.Configuration()
        # Retries are ours (see _get): urllib3 must not retry or sleep on Retry-After itself.
        cfg.retries = urllib3.Retry(
            total=None,
            connect=0,
            read=0,
            status=0,
            other=0,
            redirect=3,
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        try:
            merged = k8s_config.kube_config.KubeConfigMerger(config_file or kubeconfig_path())
            if merged.config is None:
                raise ConfigException("no configuration found")
            _bound_plugins(merged.config.value, plugin_timeout)
            api = k8s_config.new_client_from_config_dict(
                merged.config,  # keeps each file's path: relative paths resolve as before
                context=context,
                persist_config=False,
                client_configuration=cfg,
            )
        except (ConfigException, OSError, ValueError) as exc:
            raise KubeConfigError(f"kubeconfig context {context!r} is not usable: {exc}") from None
        return cls(api, **kw)

    # -- single requests ------------------------------------------------------------------

    def _get(self, path: str, query: dict[str, Any] | None = None) -> Any:
        """One GET of ``path`` with retries on 429/5xx and connection errors; parsed JSON."""
        for attempt in range(MAX_ATTEMPTS):
            retry_after = None
            try:
                self.requests += 1
                return _parse(request(self.api, "GET", path, query))
            except ApiException as exc:
                if exc.status not in RETRY_STATUSES or attempt == MAX_ATTEMPTS - 1:
                    raise
                retry_after = _retry_after(exc)
                log.debug("HTTP %s, retrying (%d)", exc.status, attempt + 1)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                log.debug("%s, retrying (%d)", exc, attempt + 1)
            backoff(attempt, retry_after)
        raise AssertionError("unreachable")

    def version(self) -> dict[str, Any] | CallFailed:
        """``/version`` wrapped as ``kubectl version -o json`` prints it."""
        try:
            info = self._get("/version")
        except FAILURES as exc:
            return CallFailed(describe_error(exc))
        return {"serverVersion": info}

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every object of ``kind`` (cluster-wide or in ``namespace``), slimmed, page by page.

        A 410 Gone (the continue token expired) restarts the list from the beginning.
        Raises ``ApiException`` (or a connection error) when the list cannot be read.
        """
        path, slim = _LISTS[kind]
        if namespace:
            path = path.replace("/api/v1/", f"/api/v1/namespaces/{quote(namespace, safe='')}/")
        for _restart in range(MAX_RESTARTS + 1):
            items: list[dict[str, Any]] = []
            cont: str | None = None
            seen: set[str] = set()
            try:
                while True:
                    query: dict[str, Any] = {"limit": self.page_size}
                    if cont:
                        query["continue"] = cont
                    page = self._get(path, query)
                    raw, meta = _list_parts(page, kind)
                    objs = [o for o in raw if isinstance(o, dict)]
                    if len(objs) != len(raw):
                        log.warning(
                            "%d entries of a %s list page are not objects; skipped",
                            len(raw) - len(objs),
                            kind,
                        )
                    items.extend(share_repeated(slim(o), self._shared) for o in objs)
                    cont = meta.get("continue") or None
                    if cont in seen:  # a broken server or proxy would page forever
                        raise PagingError(
                            f"the API server sent the same continue token twice while listing "
                            f"{kind}: the list is incomplete; retry, or check proxies between "
                            "you and the API server"
                        )
                    seen.add(cont or "")
                    if self.on_page:
                        self.on_page(kind, len(raw), meta.get("remainingItemCount"))
                    if not cont:
                        return items
            except ApiException as exc:
                if exc.status != 410 or not cont:
                    raise
                log.info("%s list expired (410 Gone); restarting it", kind)
        raise ApiException(status=410, reason=f"{kind} list kept expiring; try a smaller cluster")

    def namespace_names(self) -> list[str] | None:
        """Names of all namespaces, or None when they may not be listed."""
        try:
            return sorted({o["metadata"]["name"] for o in self.list("namespaces")} - {""})
        except FAILURES as exc:
            log.info("namespaces cannot be listed: %s", describe_error(exc))
            return None


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except RecursionError:  # json.loads nests as deep as the answer does
        raise ValueError("the API server's answer is nested too deeply to read") from None


def _list_parts(page: Any, kind: str) -> tuple[list[Any], dict[str, Any]]:
    """``items`` and ``metadata`` of a list page; PagingError if it is not one."""
    items = page.get("items") if isinstance(page, dict) else False
    meta = page.get("metadata") if isinstance(page, dict) else False
    if not isinstance(items, list | None) or not isinstance(meta, dict | None):
        raise PagingError(f"the API server's answer to a {kind} list is not a Kubernetes list")
    meta = meta or {}
    if not isinstance(meta.get("continue"), str | None):
        raise PagingError(f"the API server's {kind} list has a continue token that is not text")
    return items or [], meta


def _slim_name(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return {"metadata": {"name": name if isinstance(name, str) else ""}}


def _retry_after(exc: ApiException) -> float | None:
    value = (exc.headers or {}).get("Retry-After") if exc.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


_LISTS: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "serviceaccounts": ("/api/v1/serviceaccounts", slim_service_account),
    "pods": ("/api/v1/pods", slim_pod),
    "namespaces": ("/api/v1/namespaces", _slim_name),
    "mutatingwebhookconfigurations": (
        "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
        slim_webhook_configuration,
    ),
}


def kube_list(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Objects wrapped as ``kubectl get ... -o json`` prints a list."""
    return {
        "apiVersion": "v1",
        "items": list(items),
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }


_UNKNOWN_NAMESPACES = "the namespaces to list one by one are unknown"


class ListCollector:
    """Service accounts and pods as bundle documents, with the 403 fallback.

    Cluster-wide lists unless ``namespaces`` is given. A 403 on a cluster-wide list falls
    back to one list per namespace: namespaces from ``list namespaces`` if allowed, else
    from the objects of the other kind that could be listed. A namespace that cannot be
    read is recorded as CallFailed under ``k8s/namespaces/<ns>/<kind>.json``.
    """

    PATHS: ClassVar[dict[str, str]] = {
        "serviceaccounts": bundle.SERVICE_ACCOUNTS,
        "pods": bundle.PODS,
    }

    def __init__(self, reader: KubeReader, namespaces: Sequence[str] | None = None) -> None:
        self.reader = reader
        self.requested = list(dict.fromkeys(namespaces)) if namespaces else None
        self._namespaces: list[str] | None = None
        self._listed_namespaces = False
        self.docs: dict[str, Any] = {}

    def collect(self, kind: str) -> dict[str, Any]:
        """The documents for ``kind`` (``serviceaccounts`` or ``pods``)."""
        path = self.PATHS[kind]
        if self.requested:
            out = self._per_namespace(kind, self.requested)
        else:
            try:
                out = {path: kube_list(self.reader.list(kind))}
            except FAILURES as exc:
                out = self._fallback(kind, exc)
        self.docs.update(out)
        return out

    def retry_unknown(self) -> dict[str, Any]:
        """Kinds that failed only because no namespace was known, retried with the
        namespaces the other kind revealed."""
        out: dict[str, Any] = {}
        for kind, path in self.PATHS.items():
            doc = self.docs.get(path)
            if isinstance(doc, CallFailed) and _UNKNOWN_NAMESPACES in doc.message:
                names = self._namespaces_from_docs()
                if names:
                    out.update(self._per_namespace(kind, names))
        self.docs.update(out)
        return out

    def _fallback(self, kind: str, exc: BaseException) -> dict[str, Any]:
        path = self.PATHS[kind]
        failure = describe_error(exc)
        if not (isinstance(exc, ApiException) and exc.status == 403):
            return {path: CallFailed(failure)}
        if not self._listed_namespaces:
            self._listed_namespaces = True
            self._namespaces = self.reader.namespace_names()
        names = self._namespaces or self._namespaces_from_docs()
        if not names:
            return {path: CallFailed(f"{failure} (and {_UNKNOWN_NAMESPACES}: pass --namespace)")}
        log.info("%s: cluster-wide list forbidden; listing %d namespaces", kind, len(names))
        return self._per_namespace(kind, names)

    def _namespaces_from_docs(self) -> list[str]:
        found: set[str] = set()
        for path in self.PATHS.values():
            doc = self.docs.get(path)
            if isinstance(doc, dict):
                for item in doc["items"]:
                    ns = (item.get("metadata") or {}).get("namespace")
                    if isinstance(ns, str):
                        found.add(ns)
        return sorted(found - {""})

    def _per_namespace(self, kind: str, names: list[str]) -> dict[str, Any]:
        docs: dict[str, Any] = {}
        items: list[dict[str, Any]] = []
        for ns in names:
            try:
                items.extend(self.reader.list(kind, ns))
            except FAILURES as exc:
                docs[bundle.namespace_path(ns, kind)] = CallFailed(describe_error(exc))
        docs[self.PATHS[kind]] = kube_list(items)
        return docs
