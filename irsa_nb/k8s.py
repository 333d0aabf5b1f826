"""Kubernetes objects as the checks need them: parsing and slimming of raw JSON.

``slim_*`` keep only the fields the checks read (env values other than the AWS SDK's settings
masked, secrets in annotations masked); the live collector stores slimmed objects, so a
written bundle loads back identically.
``ServiceAccount.from_k8s`` / ``Pod.from_k8s`` turn raw or slim JSON into records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .bundle import PODS
from .redact import (
    ROLE_ARN_ANNOTATION,
    collected_env_value,
    mask_annotation,
    mask_env_value,
    mask_text,
)

IRSA_PREFIX = "eks.amazonaws.com/"
#: A namespace name (an RFC 1123 label).
NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
AUDIENCE_ANNOTATION = "eks.amazonaws.com/audience"
DEFAULT_AUDIENCE = "sts.amazonaws.com"
TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
TOKEN_VOLUME = "aws-iam-token"
#: AWS_WEB_IDENTITY_TOKEN_FILE as the webhook sets it: the mount path joined with ``token``.
TOKEN_FILE = f"{TOKEN_DIR}/token"
#: ... and in a Windows pod: the same path on ``C:`` with backslashes (the mount stays at the
#: Linux path). getPodSpecPatch in
#: https://github.com/aws/amazon-eks-pod-identity-webhook/blob/master/pkg/handler/handler.go
WINDOWS_TOKEN_FILE = "C:" + TOKEN_FILE.replace("/", "\\")
#: The node selectors by which the webhook decides that a pod runs on Windows (value
#: ``windows``); node affinity is not read (the webhook's README: not supported).
OS_NODE_SELECTORS = ("kubernetes.io/os", "beta.kubernetes.io/os")
#: The environment variables the IRSA webhook injects into a container.
IRSA_ENV_VARS = ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
_DROP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
_MAX_SHAPE_ERRORS = 5


def _d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): _s(v) for k, v in _d(value).items()}


def _kind(value: Any) -> str:
    """What a JSON value is, for a shape error: ``null``, ``a list``, ``an object``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_EXPECTED = {dict: "an object", list: "a list", str: "a string"}


class _Shape:
    """Collects the fields of a pod document whose JSON type is not what Kubernetes writes."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def need(
        self, obj: Mapping[str, Any], key: str, kind: type, where: str, required: bool = False
    ) -> Any:
        """``obj[key]`` if it has type ``kind`` (absent or null is fine unless ``required``);
        otherwise record the error and return None."""
        value = obj.get(key)
        if isinstance(value, kind):
            return value
        if value is None and not required:
            return None
        found = "missing" if key not in obj else f"{_kind(value)}, not {_EXPECTED[kind]}"
        self.errors.append(f"{PODS}: {where}{key} is {found}")
        return None

    def items(self, obj: dict, key: str, where: str) -> list[tuple[str, dict]]:
        """``(path, entry)`` for the object entries of the list ``obj[key]``; entries that are
        not objects are recorded."""
        out = []
        for i, item in enumerate(self.need(obj, key, list, where) or ()):
            path = f"{where}{key}[{i}]"
            if isinstance(item, dict):
                out.append((path, item))
            else:
                self.errors.append(f"{PODS}: {path} is {_kind(item)}, not an object")
        return out

    def container(self, c: dict, where: str) -> None:
        self.need(c, "name", str, where, required=True)
        for path, e in self.items(c, "env", where):
            self.need(e, "name", str, path + ".")
        self.items(c, "envFrom", where)
        self.items(c, "volumeMounts", where)
        self.need(c, "securityContext", dict, where)

    def result(self) -> tuple[str, ...]:
        extra = len(self.errors) - _MAX_SHAPE_ERRORS
        if extra > 0:
            return (*self.errors[:_MAX_SHAPE_ERRORS], f"({extra} more wrongly typed fields)")
        return tuple(self.errors)


def pod_shape_errors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields of a pod document that have the wrong JSON type (``spec: null``, ``containers``
    as an object, ``serviceAccountName`` as a list, ...), each naming the field and
    ``k8s/pods.json``; empty when the pod is well formed."""
    shape = _Shape()
    meta = shape.need(obj, "metadata", dict, "", required=True)
    if meta is not None:
        shape.need(meta, "name", str, "metadata.", required=True)
        for key in ("namespace", "creationTimestamp"):
            shape.need(meta, key, str, "metadata.")
        shape.need(meta, "annotations", dict, "metadata.")
        shape.items(meta, "ownerReferences", "metadata.")
    spec = shape.need(obj, "spec", dict, "", required=True)
    if spec is not None:
        for key in ("serviceAccountName", "serviceAccount"):
            shape.need(spec, key, str, "spec.")
        shape.need(spec, "securityContext", dict, "spec.")
        shape.items(spec, "volumes", "spec.")
        for key in ("initContainers", "containers"):
            for path, c in shape.items(spec, key, "spec."):
                shape.container(c, path + ".")
        if spec.get("containers") in (None, []):  # Kubernetes requires at least one
            shape.errors.append(f"{PODS}: spec.containers is missing or empty")
    return shape.result()


def _service_account_name(spec: dict) -> str:
    """spec.serviceAccountName, else its alias spec.serviceAccount, else "default"; a value
    of the wrong type (a shape error) gives way to the other field when that one is usable."""
    values = [spec.get("serviceAccountName"), spec.get("serviceAccount")]
    usable = [v for v in values if isinstance(v, str) and v]
    if usable:
        return usable[0]
    odd = [v for v in values if v not in (None, "")]
    return _s(odd[0]) if odd else "default"


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One container env entry; ``source`` is ``value`` or e.g. ``secretKeyRef:name/key``."""

    name: str
    value: str
    source: str = "value"


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    image: str
    init: bool
    env: dict[str, EnvVar]
    env_from: tuple[str, ...]  # "secretRef:name" / "configMapRef:name"
    mounts: dict[str, str]  # mountPath -> volume name
    run_as_user: int | None
    run_as_group: int | None
    run_as_non_root: bool | None

    def env_value(self, name: str) -> str | None:
        var = self.env.get(name)
        return var.value if var is not None else None


@dataclass(frozen=True, slots=True)
class TokenVolume:
    """A projected serviceAccountToken volume."""

    name: str
    audience: str
    expiration_seconds: int | None
    path: str


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    namespace: str
    name: str
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def role_arn(self) -> str | None:
        return self.annotations.get(ROLE_ARN_ANNOTATION)

    @property
    def audience(self) -> str:
        return self.annotations.get(AUDIENCE_ANNOTATION) or DEFAULT_AUDIENCE

    @classmethod
    def from_k8s(cls, obj: Mapping[str, Any]) -> ServiceAccount:
        meta = _d(obj.get("metadata"))
        annotations = {
            k: v for k, v in _str_map(meta.get("annotations")).items() if k not in _DROP_ANNOTATIONS
        }
        return cls(_s(meta.get("namespace")), _s(meta.get("name")), annotations)


@dataclass(frozen=True, slots=True)
class Pod:
    namespace: str
    name: str
    service_account: str
    annotations: dict[str, str]
    owner_kind: str
    owner_name: str
    node_name: str
    host_network: bool
    node_selector: dict[str, str]
    fs_group: int | None
    run_as_user: int | None
    run_as_non_root: bool | None
    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...]
    token_volumes: dict[str, TokenVolume]
    created: str
    phase: str
    #: Fields of the pod document with the wrong JSON type, each naming the field and
    #: k8s/pods.json (see :func:`pod_shape_errors`); the pod checks report them as ERROR.
    shape_errors: tuple[str, ...] = ()

    @property
    def all_containers(self) -> tuple[Container, ...]:
        return self.init_containers + self.containers

    @property
    def has_irsa_env(self) -> bool:
        """Whether a container sets AWS_ROLE_ARN or AWS_WEB_IDENTITY_TOKEN_FILE (by the
        webhook or by hand)."""
        return any(c.env_value(v) is not None for c in self.all_containers for v in IRSA_ENV_VARS)

    @property
    def windows(self) -> bool:
        """Whether the webhook treats the pod as a Windows pod: a nodeSelector
        ``kubernetes.io/os`` or ``beta.kubernetes.io/os`` of ``windows``. The one place that
        decides it; Linux uid/gid/fsGroup rules do not apply to such a pod."""
        return any(self.node_selector.get(k) == "windows" for k in OS_NODE_SELECTORS)

    @property
    def webhook_token_file(self) -> str:
        """The AWS_WEB_IDENTITY_TOKEN_FILE the webhook sets in this pod's containers."""
        return WINDOWS_TOKEN_FILE if self.windows else TOKEN_FILE

    def token_file(self, c: Container) -> str:
        """The web identity token file ``c``'s SDK reads: its AWS_WEB_IDENTITY_TOKEN_FILE, else
        the path the webhook would set (:attr:`webhook_token_file`)."""
        return c.env_value("AWS_WEB_IDENTITY_TOKEN_FILE") or self.webhook_token_file

    def container_path(self, path: str) -> str:
        """``path`` as the container resolves it, comparable with another such path.

        Linux: unchanged. Windows: either slash, case-insensitive, and a path without a drive
        is on ``C:``, as the kubelet places a mountPath (``MakeAbsolutePath`` in
        https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/util.go), so the
        mount at ``/var/run/secrets/...`` holds ``C:\\var\\run\\secrets\\...``.
        """
        if not self.windows:
            return path
        p = path.replace("\\", "/")
        if ":" not in p:
            p = "c:" + (p if p.startswith("/") else "/" + p)
        return p.lower()

    def token_mount(self, c: Container) -> str | None:
        """Where ``c`` mounts a projected service-account token volume holding its web identity
        token file (:meth:`token_file`), or None."""
        token = self.container_path(self.token_file(c))
        for path, volume in c.mounts.items():
            if volume in self.token_volumes and token.startswith(
                self.container_path(path).rstrip("/") + "/"
            ):
                return path
        return None

    @property
    def workload(self) -> tuple[str, str] | None:
        """(kind, name) of the controller to restart, e.g. ("deployment", "web")."""
        kind, name = self.owner_kind, self.owner_name
        if kind == "ReplicaSet" and "-" in name:
            return "deployment", name.rsplit("-", 1)[0]
        if kind in ("DaemonSet", "StatefulSet", "Deployment"):
            return kind.lower(), name
        return None

    @classmethod
    def from_k8s(cls, obj: Mapping[str, Any], built: dict[Any, Any] | None = None) -> Pod:
        """A pod from raw or slim JSON. Pass one ``built`` dict for many pods: env lists
        that are one object (the live collector shares repeated parts) then give one shared
        env mapping, and equal token volumes, annotations and node selectors are one object
        (records are never modified)."""
        meta = _d(obj.get("metadata"))
        spec = _d(obj.get("spec"))
        sc = _d(spec.get("securityContext"))
        owners = [o for o in _l(meta.get("ownerReferences")) if isinstance(o, dict)]
        owner = next((o for o in owners if o.get("controller")), owners[0] if owners else {})
        volumes: dict[str, TokenVolume] = {}
        for v in _l(spec.get("volumes")):
            v = _d(v)
            for src in _l(_d(v.get("projected")).get("sources")):
                tok = _d(_d(src).get("serviceAccountToken"))
                if tok:
                    volumes[_s(v.get("name"))] = _interned(
                        built,
                        TokenVolume(
                            _s(v.get("name")),
                            _s(tok.get("audience")),
                            _int(tok.get("expirationSeconds")),
                            _s(tok.get("path")),
                        ),
                    )
        return cls(
            namespace=_s(meta.get("namespace")),
            name=_s(meta.get("name")),
            service_account=_service_account_name(spec),
            annotations=_interned_map(
                built,
                {
                    k: v
                    for k, v in _str_map(meta.get("annotations")).items()
                    if k.startswith(IRSA_PREFIX)
                },
            ),
            owner_kind=_s(owner.get("kind")),
            owner_name=_s(owner.get("name")),
            node_name=_s(spec.get("nodeName")),
            host_network=spec.get("hostNetwork") is True,
            node_selector=_interned_map(built, _str_map(spec.get("nodeSelector"))),
            fs_group=_int(sc.get("fsGroup")),
            run_as_user=_int(sc.get("runAsUser")),
            run_as_non_root=sc.get("runAsNonRoot")
            if isinstance(sc.get("runAsNonRoot"), bool)
            else None,
            containers=tuple(_container(c, False, built) for c in _l(spec.get("containers"))),
            init_containers=tuple(
                _container(c, True, built) for c in _l(spec.get("initContainers"))
            ),
            token_volumes=volumes,
            created=_s(meta.get("creationTimestamp")),
            phase=_s(_d(obj.get("status")).get("phase")),
            shape_errors=pod_shape_errors(obj),
        )


def _env_source(entry: dict) -> str:
    if "valueFrom" not in entry:
        return "value"
    ref = _d(entry.get("valueFrom"))
    for kind in ("secretKeyRef", "configMapKeyRef"):
        r = _d(ref.get(kind))
        if r:
            return f"{kind}:{_s(r.get('name'))}/{_s(r.get('key'))}"
    if "fieldRef" in ref:
        return f"fieldRef:{_s(_d(ref.get('fieldRef')).get('fieldPath'))}"
    if "resourceFieldRef" in ref:
        return "resourceFieldRef"
    return "value"


def _env(entries: Any, built: dict[Any, Any] | None) -> dict[str, EnvVar]:
    """The env entries by name; one dict per ``entries`` object when ``built`` is given."""
    if built is not None and id(entries) in built:
        return built[id(entries)][1]
    env: dict[str, EnvVar] = {}
    for e in _l(entries):
        e = _d(e)
        name = _s(e.get("name"))
        if name:
            env[name] = EnvVar(name, mask_env_value(name, _s(e.get("value"))), _env_source(e))
    if built is not None:
        built[id(entries)] = (entries, env)  # entries kept alive: its id stays its own
    return env


def _interned(built: dict[Any, Any] | None, record: TokenVolume) -> TokenVolume:
    """The first record equal to ``record`` met with this ``built`` (records are hashable)."""
    return record if built is None else built.setdefault(record, record)


def _interned_map(built: dict[Any, Any] | None, value: dict[str, str]) -> dict[str, str]:
    """The first mapping equal to ``value`` (same items, same order) met with ``built``."""
    if built is None:
        return value
    return built.setdefault(("map", *value.items()), value)


def _container(raw: Any, init: bool, built: dict[Any, Any] | None) -> Container:
    c = _d(raw)
    sc = _d(c.get("securityContext"))
    env = _env(c.get("env"), built)
    env_from = []
    for ef in _l(c.get("envFrom")):
        ef = _d(ef)
        for kind in ("secretRef", "configMapRef"):
            if kind in ef:
                env_from.append(f"{kind}:{_s(_d(ef.get(kind)).get('name'))}")
    mounts = {_s(_d(m).get("mountPath")): _s(_d(m).get("name")) for m in _l(c.get("volumeMounts"))}
    return Container(
        name=_s(c.get("name")),
        image=_s(c.get("image")),
        init=init,
        env=env,
        env_from=tuple(env_from),
        mounts=mounts,
        run_as_user=_int(sc.get("runAsUser")),
        run_as_group=_int(sc.get("runAsGroup")),
        run_as_non_root=sc.get("runAsNonRoot")
        if isinstance(sc.get("runAsNonRoot"), bool)
        else None,
    )


# --- slimming (what the collector keeps) ------------------------------------------------


def _pick(d: dict, *keys: str) -> dict:
    return {k: d[k] for k in keys if k in d}


def slim_service_account(obj: Mapping[str, Any]) -> dict:
    """A ServiceAccount reduced to namespace, name and annotations."""
    meta = _d(obj.get("metadata"))
    out_meta = _pick(meta, "name", "namespace", "uid", "creationTimestamp")
    ann = _kept_annotations(meta)
    if ann:
        out_meta["annotations"] = ann
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": out_meta}


def _kept_annotations(meta: dict) -> dict:
    """Annotations without the last-applied copy, values masked (:func:`mask_annotation`)."""
    return {
        k: mask_annotation(str(k), v) if isinstance(v, str) else v
        for k, v in _d(meta.get("annotations")).items()
        if k not in _DROP_ANNOTATIONS
    }


def slim_webhook_configuration(obj: Mapping[str, Any]) -> dict:
    """A MutatingWebhookConfiguration without ``managedFields`` and the last-applied copy;
    other annotations masked."""
    out = dict(obj)
    meta = {k: v for k, v in _d(obj.get("metadata")).items() if k != "managedFields"}
    meta["annotations"] = _kept_annotations(meta)
    out["metadata"] = meta
    return out


def _slim_container(c: Any) -> dict:
    c = _d(c)
    out = _pick(c, "name", "image")
    env = []
    for e in _l(c.get("env")):
        e = _d(e)
        item = _pick(e, "name", "valueFrom")
        if "value" in e:  # only the AWS SDK's settings keep their values
            item["value"] = collected_env_value(_s(e.get("name")), _s(e.get("value")))
        env.append(item)
    if env:
        out["env"] = env
    if c.get("envFrom"):
        out["envFrom"] = c["envFrom"]
    mounts = [_pick(_d(m), "name", "mountPath", "readOnly") for m in _l(c.get("volumeMounts"))]
    if mounts:
        out["volumeMounts"] = mounts
    sc = _pick(_d(c.get("securityContext")), "runAsUser", "runAsGroup", "runAsNonRoot")
    if sc:
        out["securityContext"] = sc
    return out


def slim_pod(obj: Mapping[str, Any]) -> dict:
    """A Pod reduced to the fields the checks read; env values other than the AWS SDK's
    settings, and secrets in annotations and labels, are masked."""
    meta = _d(obj.get("metadata"))
    spec = _d(obj.get("spec"))
    out_meta = _pick(meta, "name", "namespace", "uid", "creationTimestamp")
    ann = {
        k: mask_annotation(k, v) if isinstance(v, str) else v
        for k, v in _d(meta.get("annotations")).items()
        if isinstance(k, str) and k.startswith(IRSA_PREFIX)
    }
    if ann:
        out_meta["annotations"] = ann
    out_meta["labels"] = {  # a webhook's objectSelector reads them; {}: collected, none set
        k: mask_text(v)[0] if isinstance(v, str) else v for k, v in _d(meta.get("labels")).items()
    }
    if meta.get("ownerReferences"):
        out_meta["ownerReferences"] = [
            _pick(_d(o), "apiVersion", "kind", "name", "controller")
            for o in _l(meta["ownerReferences"])
        ]
    out_spec = _pick(
        spec, "serviceAccountName", "serviceAccount", "nodeName", "hostNetwork", "nodeSelector"
    )
    sc = _pick(
        _d(spec.get("securityContext")), "fsGroup", "runAsUser", "runAsGroup", "runAsNonRoot"
    )
    if sc:
        out_spec["securityContext"] = sc
    for key in ("initContainers", "containers"):
        if spec.get(key):
            out_spec[key] = [_slim_container(c) for c in _l(spec[key])]
    vols = []  # projected volumes, with only their serviceAccountToken sources
    for v in _l(spec.get("volumes")):
        sources = _l(_d(_d(v).get("projected")).get("sources"))
        tokens = [s for s in sources if "serviceAccountToken" in _d(s)]
        if tokens:
            vols.append({"name": _d(v).get("name"), "projected": {"sources": tokens}})
    if vols:
        out_spec["volumes"] = vols
    out = {"apiVersion": "v1", "kind": "Pod", "metadata": out_meta, "spec": out_spec}
    phase = _d(obj.get("status")).get("phase")
    if phase:
        out["status"] = {"phase": phase}
    return out


def items_of(doc: Any) -> list[dict]:
    """Items of a ``kubectl get -o json`` List (or a single object)."""
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        return [i for i in doc["items"] if isinstance(i, dict)]
    if isinstance(doc, dict) and doc.get("kind") not in (None, "List") and "metadata" in doc:
        return [doc]
    raise ValueError("expected a Kubernetes List with an 'items' array")
