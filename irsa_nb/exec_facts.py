"""In-pod evidence (``--exec``): what a container really sees, as typed records.

``irsa-nb collect --exec`` and the collect script's exec section store, per container,
``k8s/exec/<namespace>/<pod>/<container>/``:

=====================  ==========================================================
``probe.json``         how the probe went: ``status`` (ok, no_shell, timeout,
                       not_running, error), ``exit_code``, ``checked_at``, ``message``
                       (``probe.error.txt`` when the exec call itself failed)
``env.txt``            ``NAME=value`` of the real environment (image ``ENV`` included);
                       only AWS SDK settings keep their value, others are ``***``
``id.txt``             ``id`` output (uid, gid, groups)
``token-stat.txt``     the token file: path, exists, owner/group/mode, readable
``token-claims.json``  ``iss``, ``sub``, ``aud``, ``exp``, ``iat`` of the projected
                       token and ``checked_at`` (never the token itself)
``aws-files.txt``      shared credentials/config files: present or not, profile and key
                       names (never values)
``sdk.json``           SDK discovery records (Python, AWS CLI, Node, Java jars, Go)
=====================  ==========================================================

:func:`exec_facts_from_documents` turns them into :class:`ExecFacts` (the Inventory's
``exec_facts``); :func:`effective_pod` gives the checks a pod whose containers carry the real
environment, so the existing checks judge what the container sees.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .bundle import CallFailed, Unreadable
from .k8s import Container, EnvVar, Pod
from .redact import AWS_SETTINGS_ENV, MASK, is_secret_name, mask_env_value

EXEC_DIR = "k8s/exec"
#: Environment variables whose values are kept (everything else non-empty becomes ``***``);
#: names :func:`irsa_nb.redact.is_secret_name` flags (``*_CREDENTIALS_*_URI``) are never kept.
_KEPT = (*AWS_SETTINGS_ENV, "HOME")
KEPT_ENV_VALUES = tuple(n for n in _KEPT if not is_secret_name(n))
#: Source of an env var that the pod spec does not declare (seen only inside the container).
EXEC_SOURCE = "exec"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PATH = re.compile(r"^k8s/exec/([^/]+)/([^/]+)/([^/]+)/([^/]+)$")


def exec_path(namespace: str, pod: str, container: str, name: str) -> str:
    """Bundle path of one in-pod evidence file (``name`` e.g. ``env.txt``)."""
    return f"{EXEC_DIR}/{namespace}/{pod}/{container}/{name}"


def redact_env_text(text: str, *, nul: bool = False) -> str:
    """``NAME=value`` lines as stored: values only for :data:`KEPT_ENV_VALUES` (masked again
    with :func:`irsa_nb.redact.mask_env_value`), ``***`` for every other non-empty value.

    ``nul=True``: ``text`` is ``env -0`` output, one variable per NUL-terminated record (exact).
    Otherwise it is line-based (the probe's env section, or plain ``env``), split on newlines
    only, and lines that are not ``NAME=...`` (continuations of multi-line values) are
    dropped. Either way one line per name: a name seen more than once (in ``env`` output, a
    continuation line can look like ``AWS_REGION=...``) keeps no value (``***``), and neither
    does a kept value holding a newline or another control character.
    """
    records = text.split("\0") if nul else text.split("\n")
    seen: dict[str, list[str]] = {}
    for record in records:
        name, sep, value = record.removesuffix("\r").partition("=")  # CRLF output too
        if sep and _NAME.match(name):
            seen.setdefault(name, []).append(value)
    kept = set(KEPT_ENV_VALUES)
    out = []
    for name, values in seen.items():
        value = values[0]
        if name not in kept or len(values) > 1 or not _one_line(value):
            value = MASK if any(values) else ""
        else:
            value = mask_env_value(name, value)
        out.append(f"{name}={value}\n")
    return "".join(out)


def _one_line(value: str) -> bool:
    """No control character and nothing :meth:`str.splitlines` would split on."""
    return not any(c < " " or c in "\x7f\x85\u2028\u2029" for c in value)


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenFile:
    """The projected token file as the container sees it."""

    path: str
    from_env: bool  # the path came from AWS_WEB_IDENTITY_TOKEN_FILE (else the default)
    exists: bool | None
    uid: int | None = None
    gid: int | None = None
    mode: int | None = None  # permission bits, e.g. 0o600
    readable: bool | None = None  # the shell's [ -r ] as the container user

    @property
    def mode_text(self) -> str:
        return f"{self.mode:o}" if self.mode is not None else "?"


@dataclass(frozen=True)
class TokenClaims:
    """The kept claims of the projected token, and when it was read (epoch seconds)."""

    iss: str
    sub: str
    aud: tuple[str, ...]
    exp: int | None
    iat: int | None
    checked_at: int | None

    @property
    def expired(self) -> bool | None:
        """True when the token had expired when it was read; None when unknown."""
        if self.exp is None or self.checked_at is None:
            return None
        return self.exp <= self.checked_at


@dataclass(frozen=True)
class AwsFile:
    """A shared credentials or config file the SDK reads (names only, never values)."""

    kind: str  # credentials | config
    origin: str  # default | AWS_SHARED_CREDENTIALS_FILE | AWS_CONFIG_FILE
    state: str  # present | absent | unreadable | unknown
    path: str
    profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # profile -> key names


@dataclass(frozen=True)
class DetectedSdk:
    """An AWS SDK found inside the container.

    ``sdk`` is a key of :data:`irsa_nb.sdks.SDK_MINIMUMS` (boto3, botocore, awscli,
    node, java, java2, go, go2); ``version`` is ``""`` when only the presence is known;
    ``sts_module`` says for Java whether the STS module (needed for web identity) is there.
    """

    sdk: str
    version: str
    where: str
    sts_module: bool | None = None


@dataclass(frozen=True)
class ExecFacts:
    """What the probe saw inside one container (``None``: not seen)."""

    namespace: str
    pod: str
    container: str
    status: str  # ok | no_shell | timeout | not_running | error | failed
    message: str = ""
    checked_at: int | None = None
    timeout: float | None = None
    env: dict[str, str] | None = None
    uid: int | None = None
    gid: int | None = None
    groups: tuple[int, ...] = ()
    token: TokenFile | None = None
    claims: TokenClaims | None = None
    aws_files: tuple[AwsFile, ...] | None = None
    sdks: tuple[DetectedSdk, ...] | None = None
    missing_tools: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()

    @property
    def has_facts(self) -> bool:
        return self.env is not None or self.uid is not None or self.token is not None


# --- building from documents ----------------------------------------------------------------


def exec_facts_from_documents(
    documents: Mapping[str, Any],
) -> dict[tuple[str, str, str], ExecFacts]:
    """Every container's :class:`ExecFacts` from the ``k8s/exec/...`` bundle documents."""
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path, doc in documents.items():
        m = _PATH.match(path)
        if m:
            grouped.setdefault((m.group(1), m.group(2), m.group(3)), {})[m.group(4)] = doc
    return {key: _facts(key, files) for key, files in sorted(grouped.items())}


def _facts(key: tuple[str, str, str], files: dict[str, Any]) -> ExecFacts:
    ns, pod, container = key
    probe = files.get("probe.json")
    text = {n: d for n, d in files.items() if isinstance(d, str)}
    if isinstance(probe, CallFailed):
        return ExecFacts(ns, pod, container, "failed", probe.message.strip())
    if isinstance(probe, Unreadable):
        return ExecFacts(ns, pod, container, "error", probe.message)
    meta = probe if isinstance(probe, dict) else {}
    status = str(meta.get("status") or ("ok" if text else "error"))
    checked = meta.get("checked_at")
    claims_doc = files.get("token-claims.json")
    uid, gid, groups = _ids(text.get("id.txt"))
    sdk_doc = files.get("sdk.json")
    sdks, missing = _sdks(sdk_doc) if isinstance(sdk_doc, dict) else (None, ())
    timeout = meta.get("timeout_seconds")
    return ExecFacts(
        ns,
        pod,
        container,
        status,
        message=str(meta.get("message") or ""),
        checked_at=checked if isinstance(checked, int) else None,
        timeout=timeout if isinstance(timeout, int | float) else None,
        env=_env(text["env.txt"]) if "env.txt" in text else None,
        uid=uid,
        gid=gid,
        groups=groups,
        token=_token_file(text["token-stat.txt"]) if "token-stat.txt" in text else None,
        claims=_claims(claims_doc) if isinstance(claims_doc, dict) else None,
        aws_files=_aws_files(text["aws-files.txt"]) if "aws-files.txt" in text else None,
        sdks=sdks,
        missing_tools=missing,
        sections=tuple(str(s) for s in meta.get("sections") or () if isinstance(s, str)),
    )


def _env(text: str) -> dict[str, str]:
    """``env.txt`` as a dict, values masked again (a bundle may be hand-written)."""
    env: dict[str, str] = {}
    for line in text.split("\n"):
        name, sep, value = line.removesuffix("\r").partition("=")
        if sep and _NAME.match(name):
            env[name] = mask_env_value(name, value)
    return env


def _ids(text: str | None) -> tuple[int | None, int | None, tuple[int, ...]]:
    if not text:
        return None, None, ()
    uid = re.search(r"\buid=(\d+)", text)
    gid = re.search(r"\bgid=(\d+)", text)
    groups = re.search(r"\bgroups=(\S*)", text)
    found = re.findall(r"(\d+)(?:\([^)]*\))?", groups.group(1)) if groups else []
    ids = tuple(int(g) for g in found)
    return (
        int(uid.group(1)) if uid else None,
        int(gid.group(1)) if gid else None,
        ids,
    )


_LS_BITS = "rwxrwxrwx"


def _ls_mode(perm: str) -> int | None:
    """``-rw-r-----`` -> 0o640 (setuid/sticky letters read as their x bit)."""
    if len(perm) < 10:
        return None
    mode = 0
    for i, ch in enumerate(perm[1:10]):
        if ch != "-" and (ch == _LS_BITS[i] or ch in "sStT"):
            if ch in "ST":  # set-id/sticky without x
                continue
            mode |= 1 << (8 - i)
    return mode


def _token_file(text: str) -> TokenFile:
    kv: dict[str, str] = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            kv.setdefault(k.strip(), v.strip())
    uid = gid = mode = None
    m = re.match(r"^(\d+) (\d+) ([0-7]{1,4})$", kv.get("stat", ""))
    if m:
        uid, gid, mode = int(m.group(1)), int(m.group(2)), int(m.group(3), 8) & 0o777
    elif kv.get("ls"):
        parts = kv["ls"].split()
        if len(parts) >= 4 and parts[2].isdigit() and parts[3].isdigit():
            uid, gid, mode = int(parts[2]), int(parts[3]), _ls_mode(parts[0])
    exists = {"yes": True, "no": False}.get(kv.get("exists", ""))
    readable = {"yes": True, "no": False}.get(kv.get("readable", ""))
    return TokenFile(
        kv.get("path", ""), kv.get("source") == "env", exists, uid, gid, mode, readable
    )


def _claims(doc: dict[str, Any]) -> TokenClaims:
    aud = doc.get("aud")
    auds = tuple(str(a) for a in aud) if isinstance(aud, list) else ((str(aud),) if aud else ())

    def num(name: str) -> int | None:
        v = doc.get(name)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    return TokenClaims(
        str(doc.get("iss") or ""), str(doc.get("sub") or ""), auds, num("exp"), num("iat"),
        num("checked_at"),
    )  # fmt: skip


def _aws_files(text: str) -> tuple[AwsFile, ...]:
    files: dict[str, AwsFile] = {}
    keys: dict[str, dict[str, list[str]]] = {}
    for line in text.splitlines():
        f = line.split("\t")
        if f[0] == "file" and len(f) >= 5:
            files[f[1]] = AwsFile(f[1], f[2], f[3], "\t".join(f[4:]))
        elif f[0] == "key" and len(f) == 4:
            keys.setdefault(f[1], {}).setdefault(f[2], []).append(f[3])
    return tuple(
        replace(af, profiles={p: tuple(dict.fromkeys(k)) for p, k in keys.get(kind, {}).items()})
        for kind, af in files.items()
    )


# --- SDK discovery ---------------------------------------------------------------------------

_JAR = re.compile(
    r"(?:^|/)(?P<name>aws-java-sdk-sts|aws-java-sdk-core|sts|sdk-core)-(?P<version>\d[^/]*?)\.jar$"
)
_CLASS_MARKERS = {  # entries of (fat/shaded) jars that show the SDK and its STS module
    "software/amazon/awssdk/services/sts/StsClient.class": ("java2", "sts"),
    "software/amazon/awssdk/core/SdkClient.class": ("java2", "core"),
    "com/amazonaws/services/securitytoken/AWSSecurityTokenServiceClient.class": ("java", "sts"),
    "com/amazonaws/AmazonWebServiceClient.class": ("java", "core"),
}
_JAR_KIND = {
    "sts": ("java2", "sts"),
    "sdk-core": ("java2", "core"),
    "aws-java-sdk-sts": ("java", "sts"),
    "aws-java-sdk-core": ("java", "core"),
}
_TOOLS_FOR = (("python3", "python"), ("find",))  # SDK discovery is blind without these


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:4]) or (0,)


def _sdks(doc: dict[str, Any]) -> tuple[tuple[DetectedSdk, ...], tuple[str, ...]]:
    """Detected SDKs and the missing tools that limited the search, from ``sdk.json``."""
    records = [r for r in doc.get("records") or [] if isinstance(r, list) and r]
    records = [[str(x) for x in r] for r in records]
    tools = {r[1]: r[2] == "yes" for r in records if r[0] == "tool" and len(r) >= 3}
    found: dict[str, DetectedSdk] = {}

    def keep(sdk: DetectedSdk) -> None:
        """One per SDK (and major version for Node: v2 and v3 differ): the oldest version,
        the one most likely to lack IRSA support."""
        key = f"{sdk.sdk}@{_version_key(sdk.version)[0]}" if sdk.sdk == "node" else sdk.sdk
        old = found.get(key)
        if old is None or (sdk.version and _version_key(sdk.version) < _version_key(old.version)):
            found[key] = sdk

    java: dict[str, dict[str, Any]] = {}
    for r in records:
        kind = r[0]
        if kind == "py" and len(r) >= 3 and r[1] in ("boto3", "botocore", "awscli"):
            keep(DetectedSdk(r[1], r[2], r[3] if len(r) > 3 else "python"))
        elif kind == "cli" and len(r) >= 3:
            m = re.search(r"aws-cli/(\d[\w.]*)", r[2])
            if m:
                keep(DetectedSdk("awscli", m.group(1), "aws --version"))
        elif kind == "npm" and len(r) >= 3:
            version, path = r[1], r[2]
            sdk_path = re.search(
                r"/node_modules/(aws-sdk|@aws-sdk/(client|credential-provider)-[^/]+)/", path
            )
            if sdk_path and re.match(r"^\d", version):
                keep(DetectedSdk("node", version, path))
        elif kind in ("jar", "jar-entry") and len(r) >= 2:
            entry = r[1]
            where = r[2] if kind == "jar-entry" and len(r) > 2 else entry
            m = _JAR.search(entry)
            marker = _JAR_KIND.get(m.group("name")) if m else _CLASS_MARKERS.get(entry)
            if not marker:
                continue
            sdk, part = marker
            info = java.setdefault(sdk, {"sts": False, "version": "", "where": where})
            if part == "sts":
                info["sts"] = True
            elif m and (
                not info["version"]
                or _version_key(m.group("version")) < _version_key(info["version"])
            ):
                info.update(version=m.group("version"), where=where)
        elif kind == "gomod" and len(r) >= 3:
            sdk = "go" if r[1] == "github.com/aws/aws-sdk-go" else "go2"
            keep(DetectedSdk(sdk, r[2].lstrip("v"), r[1]))
    for sdk, info in java.items():
        keep(DetectedSdk(sdk, info["version"], info["where"], sts_module=info["sts"]))
    missing = []
    for names in _TOOLS_FOR:
        if all(tools.get(n) is False for n in names):
            missing.append("/".join(names))
    if "boto3" in found and "botocore" in found:
        found.pop("botocore")  # boto3 brings botocore; one chain is enough
    return tuple(found[k] for k in sorted(found)), tuple(missing)


# --- what the checks use ---------------------------------------------------------------------


def facts_for(
    exec_facts: Mapping[tuple[str, str, str], ExecFacts], pod: Pod
) -> dict[str, ExecFacts]:
    """The usable facts (``has_facts``) of ``pod``'s containers, by container name."""
    out = {}
    for c in pod.all_containers:
        f = exec_facts.get((pod.namespace, pod.name, c.name))
        if f is not None and f.has_facts:
            out[c.name] = f
    return out


def effective_container(container: Container, facts: ExecFacts | None) -> Container:
    """``container`` with the real environment when the facts hold one.

    Variables the spec declares keep their spec source (``secretKeyRef:...``); those only
    seen inside the container (image ``ENV``, ``envFrom``) get the source ``exec``.
    ``envFrom`` is dropped: its keys are now visible.
    """
    if facts is None or facts.env is None:
        return container
    env = {}
    for name, value in facts.env.items():
        spec = container.env.get(name)
        env[name] = EnvVar(name, value, spec.source if spec else EXEC_SOURCE)
    return replace(container, env=env, env_from=())


def effective_pod(
    exec_facts: Mapping[tuple[str, str, str], ExecFacts], pod: Pod
) -> tuple[Pod, dict[str, str]]:
    """``pod`` with each container's real environment, and ``{container: "exec"|"spec"}``."""
    facts = facts_for(exec_facts, pod)
    sources = {
        c.name: "exec" if c.name in facts and facts[c.name].env is not None else "spec"
        for c in pod.all_containers
    }
    if not any(s == "exec" for s in sources.values()):
        return pod, sources
    return (
        replace(
            pod,
            containers=tuple(effective_container(c, facts.get(c.name)) for c in pod.containers),
            init_containers=tuple(
                effective_container(c, facts.get(c.name)) for c in pod.init_containers
            ),
        ),
        sources,
    )


def can_read(facts: ExecFacts) -> bool | None:
    """Whether the container user can read the token file: the shell's own ``[ -r ]`` test,
    else owner/group/mode against uid/gid/groups (root reads everything)."""
    tok = facts.token
    if tok is None or not tok.exists:
        return None
    if tok.readable is not None:
        return tok.readable
    if facts.uid is None or tok.mode is None:
        return None
    if facts.uid == 0:
        return True
    if tok.uid == facts.uid:
        return bool(tok.mode & 0o400)
    if tok.gid is not None and tok.gid in {facts.gid, *facts.groups}:
        return bool(tok.mode & 0o040)
    return bool(tok.mode & 0o004)


def sdk_pairs(facts: ExecFacts | None) -> list[tuple[str, str | None]]:
    """``(sdk key, version or None)`` of the SDKs detected in a container."""
    if facts is None or not facts.sdks:
        return []
    return [(s.sdk, s.version or None) for s in facts.sdks]


def summary(facts: ExecFacts) -> str:
    """One line: what was read inside the container (for the in_pod_evidence rows)."""
    parts = []
    if facts.uid is not None:
        parts.append(f"uid {facts.uid} gid {facts.gid}")
    if facts.env is not None:
        aws = sorted(n for n in facts.env if n.startswith("AWS_"))
        parts.append(f"{len(facts.env)} env vars ({', '.join(aws) or 'no AWS_*'})")
    tok = facts.token
    if tok is not None:
        if tok.exists:
            owner = f"{tok.uid}:{tok.gid} {tok.mode_text}" if tok.uid is not None else "?"
            parts.append(f"token {tok.path} ({owner})")
        else:
            parts.append(f"no token at {tok.path}")
    if facts.sdks:
        parts.append("SDK " + ", ".join(f"{s.sdk} {s.version or '?'}" for s in facts.sdks))
    return "; ".join(parts) or "nothing"
