"""Evidence bundle layout: safe reading (directory, .tar.gz, .zip) and writing.

A bundle maps relative paths (``aws/iam/get-role/app.json``) to documents: what
``aws ... --output json`` or ``kubectl ... -o json`` printed. When an AWS command
failed, ``<path without .json>.error.txt`` holds its stderr instead.
"""

from __future__ import annotations

import io
import json
import logging
import re
import stat
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .redact import mask_text

log = logging.getLogger(__name__)

DESCRIBE_CLUSTER = "aws/eks/describe-cluster.json"
LIST_PROVIDERS = "aws/iam/list-open-id-connect-providers.json"
SERVICE_ACCOUNTS = "k8s/serviceaccounts.json"
PODS = "k8s/pods.json"
VERSION = "k8s/version.json"
ISSUER_CHAIN = "tls/issuer-chain.pem"
# Optional documents read by the checks beyond the AWS article.
POD_IDENTITY_ASSOCIATIONS = "aws/eks/list-pod-identity-associations.json"
WEBHOOK_CONFIGURATIONS = "k8s/mutatingwebhookconfigurations.json"
DISCOVERY = "tls/discovery.json"  # OIDC discovery + JWKS fetch record (irsa-nb collect)
PROBE_INDEX = "probe/index.json"  # what the opt-in live probe (--probe) looked at
# Opt-in (--cloudtrail): the AssumeRoleWithWebIdentity calls CloudTrail recorded.
CLOUDTRAIL_WEB_IDENTITY = "aws/cloudtrail/lookup-events/AssumeRoleWithWebIdentity.json"
SIMULATE = "simulate-principal-policy"  # opt-in (--action): aws/iam/SIMULATE/ROLE.json
#: ``aws iam get-account-authorization-details --filter Role``: the roles in bulk (merged
#: output, a JSON array of its pages, or page files under ``AUTHORIZATION_DETAILS_PAGES``),
#: read beside (and after) the per-role ``get-role`` files.
AUTHORIZATION_DETAILS = "aws/iam/get-account-authorization-details.json"
AUTHORIZATION_DETAILS_PAGES = "aws/iam/get-account-authorization-details/"

MAX_FILE_BYTES = 1 << 30  # 1 GiB per document
MAX_TOTAL_BYTES = 4 << 30  # 4 GiB per archive
MAX_MESSAGE_CHARS = 4000  # of a failed command's message


class BundleError(ValueError):
    """The bundle cannot be read at all (not found, unsafe archive, unknown format)."""


@dataclass(frozen=True)
class CallFailed:
    """The command that produces a document failed; ``message`` is its stderr (secrets
    such as access keys and tokens in it are masked)."""

    message: str

    def __post_init__(self) -> None:
        text = mask_text(str(self.message))[0]
        if len(text) > MAX_MESSAGE_CHARS:  # e.g. an HTML error page: keep the rows readable
            cut = MAX_MESSAGE_CHARS - 40  # the note fits too, so reading it back is the same
            text = f"{text[:cut]} ... ({len(text) - cut} more characters)"
        object.__setattr__(self, "message", text)

    @property
    def not_found(self) -> bool:
        """True when the error says the object does not exist (a finding, not an error)."""
        return bool(
            re.search(r"NoSuchEntity|ResourceNotFound|NotFound|\(404\)", self.message)
        ) and not re.search(r"AccessDenied|Unauthorized|Forbidden", self.message)


@dataclass(frozen=True)
class Unreadable:
    """The document exists but cannot be parsed."""

    message: str


Document = Any  # parsed JSON/YAML, PEM text, CallFailed or Unreadable


def provider_path(provider_arn: str) -> str:
    """Bundle path of ``aws iam get-open-id-connect-provider`` for ``provider_arn``."""
    resource = provider_arn.split("oidc-provider/", 1)[-1]
    return f"aws/iam/get-open-id-connect-provider/{resource.replace('/', '_')}.json"


def probe_path(namespace: str, service_account: str) -> str:
    """Bundle path of the live probe's outcome for one service account (no secrets)."""
    return f"probe/{namespace}/{service_account}.json"


def namespace_path(namespace: str, kind: str) -> str:
    """Bundle path of the per-namespace list of ``kind`` (written when the cluster-wide list
    was forbidden and that namespace could not be read either)."""
    return f"k8s/namespaces/{namespace}/{kind}.json"


def role_path(command: str, role_name: str) -> str:
    """Bundle path of ``aws iam <command> --role-name <role_name>``."""
    return f"aws/iam/{command}/{role_name}.json"


def error_path(path: str) -> str:
    """Where the stderr of the failed command producing ``path`` is stored."""
    return re.sub(r"\.(json|ya?ml|pem)$", "", path) + ".error.txt"  # env.txt -> env.txt.error.txt


def command_for(path: str, cluster: str = "CLUSTER", region: str | None = None) -> str:
    """The aws/kubectl/openssl command whose output belongs at ``path``."""
    reg = f" --region {region}" if region else ""
    name = PurePosixPath(path).stem
    fixed = {
        DESCRIBE_CLUSTER: f"aws eks describe-cluster --name {cluster}{reg} --output json",
        LIST_PROVIDERS: "aws iam list-open-id-connect-providers --output json",
        AUTHORIZATION_DETAILS: "aws iam get-account-authorization-details --filter Role "
        "--output json",
        SERVICE_ACCOUNTS: "kubectl get serviceaccounts --all-namespaces -o json",
        PODS: "kubectl get pods --all-namespaces -o json",
        POD_IDENTITY_ASSOCIATIONS: "aws eks list-pod-identity-associations "
        f"--cluster-name {cluster}{reg} --output json",
        WEBHOOK_CONFIGURATIONS: "kubectl get mutatingwebhookconfigurations -o json",
        VERSION: "kubectl version -o json",
        ISSUER_CHAIN: "openssl s_client -connect ISSUER_HOST:443 -servername ISSUER_HOST "
        "-showcerts </dev/null",
        DISCOVERY: f"irsa-nb collect --cluster {cluster}{reg} --out DIR",
        PROBE_INDEX: f"irsa-nb collect --cluster {cluster}{reg} --probe --out DIR",
        CLOUDTRAIL_WEB_IDENTITY: f"aws cloudtrail lookup-events{reg} --lookup-attributes "
        "AttributeKey=EventName,AttributeValue=AssumeRoleWithWebIdentity "
        "--start-time START --output json",
    }
    if path in fixed:
        return fixed[path]
    parts = PurePosixPath(path).parts
    if len(parts) == 3 and parts[0] == "probe":
        return f"irsa-nb collect --cluster {cluster}{reg} --probe -n {parts[1]} -s {name} --out DIR"
    if len(parts) == 6 and parts[:2] == ("k8s", "exec"):
        return _exec_command(*parts[2:], f"--cluster {cluster}{reg}")
    if len(parts) == 4 and parts[:2] == ("aws", "iam"):
        if parts[2] == SIMULATE:
            return (
                f"aws iam simulate-principal-policy --policy-source-arn "
                f"arn:aws:iam::ACCOUNT:role/{name} --action-names ACTION "
                "--resource-arns RESOURCE --output json"
            )
        if path.startswith(AUTHORIZATION_DETAILS_PAGES):
            return fixed[AUTHORIZATION_DETAILS]
        if parts[2] == "get-open-id-connect-provider":
            arn = "arn:aws:iam::ACCOUNT:oidc-provider/" + name.replace("_", "/")
            return f"aws iam get-open-id-connect-provider --open-id-connect-provider-arn {arn}"
        return f"aws iam {parts[2]} --role-name {name} --output json"
    return f"(the command that produces {path})"


_TOKEN_FILE = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
_EXEC_COMMANDS = {  # what each in-pod evidence file shows, as the seed's kubectl commands
    "env.txt": "env",
    "id.txt": "id",
    "token-stat.txt": f"stat -L -c '%u %g %a' {_TOKEN_FILE}",
    "aws-files.txt": "sh -c 'ls -l ~/.aws'",
    "sdk.json": "pip show boto3  # or: aws --version, npm ls, ls *.jar",
}


def _exec_command(namespace: str, pod: str, container: str, name: str, where: str) -> str:
    """The command behind an in-pod evidence file (``k8s/exec/NS/POD/CONTAINER/NAME``)."""
    what = _EXEC_COMMANDS.get(name)
    if what is None:  # probe.json, token-claims.json: the whole probe
        return (
            f"irsa-nb collect {where} --exec -n {namespace} --out DIR "
            "(or IRSA_EXEC=1 sh irsa-collect.sh)"
        )
    return f"kubectl exec {pod} -n {namespace} -c {container} -- {what}"


def read_documents(path: str | Path) -> dict[str, Document]:
    """Read every document of a bundle directory or archive.

    Parameters
    ----------
    path
        A bundle directory, or a ``.tar.gz``/``.tgz``/``.tar``/``.zip`` of one. A single
        top-level folder inside the archive or directory is looked through.

    Returns
    -------
    dict
        Relative POSIX path → parsed document. ``.error.txt`` files appear under the
        path of the document they replace, as :class:`CallFailed`.

    Raises
    ------
    BundleError
        When the path does not exist, is not a bundle, or an archive holds unsafe members.
    """
    p = Path(path)
    if not p.exists():
        raise BundleError(f"bundle not found: {path}")
    if p.is_dir():
        raw = _read_dir(p)
    elif not p.is_file():  # a device (/dev/zero), FIFO or socket would be read forever
        raise BundleError(f"{path} is not a regular file or directory, so it cannot be a bundle")
    elif zipfile.is_zipfile(p):
        raw = _read_zip(p)
    elif _is_tar(p):
        raw = _read_tar(p)
    else:
        raise BundleError(f"{path} is not a directory, .tar.gz or .zip bundle")
    raw = _strip_single_root(_drop_macos_metadata(raw))
    if not any(k.startswith(("aws/", "k8s/")) for k in raw):
        raise BundleError(
            f"{path} holds no aws/ or k8s/ files; see the bundle layout in docs/bundles.md"
        )
    docs: dict[str, Document] = {}
    memo: dict[Any, Any] = {}  # the Kubernetes lists' repeated parts, one copy each
    for name in sorted(raw):
        if name.endswith(".error.txt"):
            continue
        # each file's bytes are dropped once decoded (a 20,000-pod list is 85 MB of them)
        docs[_canonical(name)] = _parse(name, raw, memo if _KUBE_LIST.search(name) else None)
    del memo
    for name in sorted(raw):
        if name.endswith(".error.txt"):
            text = raw[name].decode("utf-8", "replace").strip()
            for target in _targets_of_error(name):
                docs.setdefault(target, CallFailed(text))
    return docs


def check_output(out: str | Path) -> None:
    """Refuse a bundle directory that already holds files: old and new evidence would mix.

    Raises ``FileExistsError`` with what to do.
    """
    out = Path(out)
    archive = out.name.endswith((".tar.gz", ".tgz", ".zip"))
    if archive or (not out.exists() and not out.is_symlink()):
        return
    if not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory: choose another output")
    if any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: choose a new output directory or remove it")


def write_documents(documents: Mapping[str, Document], out: str | Path) -> Path:
    """Write documents as a bundle directory (new or empty), or as ``.tar.gz``/``.zip`` by
    suffix (replaced if it exists)."""
    out = Path(out)
    check_output(out)
    files: dict[str, bytes] = {}
    for name, doc in documents.items():
        _safe_name(name, out)  # a name from the API such as "../x" must not escape ``out``
        if isinstance(doc, CallFailed):
            files[error_path(name)] = (doc.message.rstrip() + "\n").encode()
        elif isinstance(doc, Unreadable):
            continue
        elif isinstance(doc, str):
            files[name] = doc.encode()
        else:
            files[name] = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    if out.name.endswith((".tar.gz", ".tgz")):
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w:gz") as tar:
            for name in sorted(files):
                info = tarfile.TarInfo(name)
                info.size = len(files[name])
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(files[name]))
    elif out.suffix == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(files):
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, files[name])
    else:
        for name, data in files.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return out


# --- reading helpers ---------------------------------------------------------------------


def _is_tar(p: Path) -> bool:
    try:
        return tarfile.is_tarfile(p)
    except OSError:
        return False


def _safe_name(name: str, where: Path) -> str:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in pure.parts:
        raise BundleError(f"{where}: refusing unsafe path {name!r} (outside the bundle)")
    return "" if str(pure) == "." else str(pure)


def _read_dir(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for f in root.rglob("*"):
        if f.is_symlink():
            log.warning("skipping symlink %s in bundle", f)
            continue
        if f.is_file():
            if f.stat().st_size > MAX_FILE_BYTES:
                raise BundleError(f"{f} is larger than {MAX_FILE_BYTES >> 20} MiB")
            out[f.relative_to(root).as_posix()] = f.read_bytes()
    return out


def _read_tar(p: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(p) as tar:
            for m in tar:
                name = _safe_name(m.name, p)
                if m.isdir():
                    continue
                if not m.isreg():
                    raise BundleError(f"{p}: refusing link or special file {m.name!r}")
                total += m.size
                if m.size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                    raise BundleError(f"{p}: {m.name!r} makes the archive too large")
                f = tar.extractfile(m)
                if name and f is not None:
                    out[name] = f.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleError(f"{p}: damaged archive ({exc})") from None
    return out


def _read_zip(p: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                name = _safe_name(info.filename, p)
                if info.is_dir():
                    continue
                kind = stat.S_IFMT(info.external_attr >> 16)
                if kind not in (0, stat.S_IFREG):
                    raise BundleError(f"{p}: refusing link or special file {info.filename!r}")
                total += info.file_size
                if info.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                    raise BundleError(f"{p}: {info.filename!r} makes the archive too large")
                with zf.open(info) as f:
                    data = f.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    raise BundleError(f"{p}: {info.filename!r} is larger than declared")
                if name:
                    out[name] = data
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BundleError(f"{p}: damaged archive ({exc})") from None
    return out


def _is_macos_metadata(name: str) -> bool:
    """Files macOS adds when it archives a folder: ``__MACOSX/`` (Finder's zip), ``._*``
    AppleDouble resource forks and ``.DS_Store``; none of them is evidence."""
    parts = PurePosixPath(name).parts
    return bool(parts) and (
        parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] == ".DS_Store"
    )


def _drop_macos_metadata(raw: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in raw.items() if not _is_macos_metadata(k)}


def _strip_single_root(raw: dict[str, bytes]) -> dict[str, bytes]:
    """Look through one wrapping folder (``bundle/aws/...`` → ``aws/...``)."""
    if any(k.startswith(("aws/", "k8s/", "tls/")) for k in raw):
        return raw
    roots = {k.split("/", 1)[0] for k in raw if "/" in k}
    if len(roots) == 1:
        root = roots.pop() + "/"
        return {k[len(root) :]: v for k, v in raw.items() if k.startswith(root)}
    return raw


def _canonical(name: str) -> str:
    """kubectl documents may be YAML; store them under their .json path."""
    return re.sub(r"\.ya?ml$", ".json", name) if name.startswith("k8s/") else name


def _targets_of_error(name: str) -> list[str]:
    """The document an ``.error.txt`` replaces (the inverse of :func:`error_path`)."""
    base = name[: -len(".error.txt")]
    if base + ".pem" == ISSUER_CHAIN:
        return [base + ".pem"]
    if base.endswith(".txt"):  # text documents keep their name: env.txt.error.txt
        return [base]
    return [base + ".json"]


class _NoAliasLoader(yaml.SafeLoader):
    """YAML loader that refuses anchors/aliases (kubectl never writes them; bombs do)."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not allowed in a bundle")
        return super().compose_node(parent, index)


#: Kubernetes lists of pods and service accounts, cluster-wide or per namespace: parsed with
#: their repeated parts shared, as the live collector keeps them
_KUBE_LIST = re.compile(r"^k8s/(namespaces/[^/]+/)?(pods|serviceaccounts)\.json$")


def _parse(name: str, raw: dict[str, bytes], memo: dict[Any, Any] | None = None) -> Document:
    """Parse ``raw.pop(name)``; with ``memo``, equal JSON objects and arrays are one object."""
    data = raw.pop(name)
    if name.endswith((".pem", ".txt")):  # PEM chains; in-pod evidence text (k8s/exec/...)
        return data.decode("utf-8", "replace")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Unreadable(f"{name} is not UTF-8 text")
    del data
    try:
        if name.endswith((".yaml", ".yml")):
            return yaml.load(text, Loader=_NoAliasLoader)
        if memo is not None:
            return json.loads(text, object_pairs_hook=_share_parsed(memo))
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return Unreadable(f"{name} is not valid JSON (line {exc.lineno}: {exc.msg})")
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        return Unreadable(f"{name} is not valid YAML ({first})")
    except RecursionError:
        return Unreadable(f"{name} is nested too deeply to read")
    except ValueError as exc:  # an integer beyond Python's digit limit (json and yaml alike)
        if "digits" in str(exc):
            limit = sys.get_int_max_str_digits()
            return Unreadable(f"{name} holds a number too large to read (over {limit} digits)")
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Unreadable(f"{name} cannot be read ({first})")


# --- one copy of repeated parts ------------------------------------------------------

#: The parts of listed objects that repeat across objects (by replica set, workload, node).
_REPEATED = {
    "metadata": ("namespace", "labels", "annotations", "ownerReferences"),
    "spec": (
        "nodeName", "serviceAccountName", "serviceAccount", "nodeSelector", "securityContext",
        "initContainers", "containers", "volumes",
    ),
}  # fmt: skip
_MAX_SHARED_DEPTH = 16  # deeper parts (only raw envFrom or valueFrom can be) are not shared


def share_repeated(obj: dict[str, Any], memo: dict[Any, Any]) -> dict[str, Any]:
    """Replace the parts of ``obj`` that repeat across objects by one shared copy (in place).

    20,000 pods repeat namespaces, labels, owners, nodes, containers, env entries, mounts,
    token volumes and phases; each page parses them anew. Names, uids and timestamps are
    unique, so they are not visited. Collected documents are never modified afterwards.
    """
    for part, keys in _REPEATED.items():
        d = obj.get(part)
        if isinstance(d, dict):
            for k in keys:
                if k in d:
                    d[k] = _shared(d[k], memo)
    if "status" in obj:
        obj["status"] = _shared(obj["status"], memo)
    return obj


def _shared(value: Any, memo: dict[Any, Any], depth: int = 0) -> Any:
    """``value`` (parsed JSON), or the equal value ``memo`` met first (children first).

    A dict or list is identified by its entries: strings (already shared) by value, containers
    by the id of their shared copy (kept alive by ``memo``), other scalars by type and value
    (``1``, ``1.0`` and ``True`` differ in JSON). ``memo`` keeps the hash of that key, not
    the key (most parts of 20,000 pods are met once: the keys were a third of the collector's
    peak); a value found under the hash is compared entry by entry, and a different value
    with the same hash is kept under its whole key. Parts nested deeper than a pod's own
    fields are kept as they are.
    """
    if isinstance(value, str):
        return memo.setdefault(value, value)
    if depth > _MAX_SHARED_DEPTH or not isinstance(value, (dict, list)):
        return value
    for k, x in value.items() if isinstance(value, dict) else enumerate(value):
        if isinstance(x, (dict, list)):
            value[k] = _shared(x, memo, depth + 1)
    return _intern(value, memo)


def _same_entries(a: Any, b: Any) -> bool:
    """Whether two parsed containers whose parts are shared have the same entries, in the
    same order: the same shared containers, strings and other scalars of one type and value."""
    if type(a) is not type(b) or len(a) != len(b):
        return False
    if isinstance(a, dict):
        pairs: Iterable[tuple[Any, Any]] = zip(a.items(), b.items(), strict=True)
    else:
        pairs = zip(enumerate(a), enumerate(b), strict=True)
    for (ka, x), (kb, y) in pairs:
        if ka != kb:
            return False
        if x is not y and (isinstance(x, (dict, list)) or type(x) is not type(y) or x != y):
            return False
    return True


def _share_parsed(memo: dict[Any, Any]) -> Any:
    """A ``json.loads`` ``object_pairs_hook``: each object (its children first) becomes the
    equal object ``memo`` met first, so a 20,000-pod list is never held unshared."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)  # its objects are shared already, not its lists
        for k, x in obj.items():
            if isinstance(x, list):
                obj[k] = _shared_list(x, memo, 0)
        return _intern(obj, memo)

    return hook


def _shared_list(value: list[Any], memo: dict[Any, Any], depth: int) -> list[Any]:
    if depth < _MAX_SHARED_DEPTH:
        for i, x in enumerate(value):
            if isinstance(x, list):
                value[i] = _shared_list(x, memo, depth + 1)
    return _intern(value, memo)


def _intern(value: dict[str, Any] | list[Any], memo: dict[Any, Any]) -> Any:
    """``value``, whose containers are shared already, or the equal value met first."""
    is_dict = isinstance(value, dict)
    key: list[Any] = ["{" if is_dict else "["]
    for k, x in value.items() if is_dict else enumerate(value):
        if is_dict:
            key.append(k)
        if isinstance(x, str):
            value[k] = x = memo.setdefault(x, x)  # type: ignore[index]
            key.append(x)
        elif isinstance(x, (dict, list)):
            key.append(id(x))
        else:
            key += (type(x), x)
    return _found(memo, tuple(key), value)


def _found(memo: dict[Any, Any], whole: tuple[Any, ...], value: Any) -> Any:
    """The value ``memo`` holds under the hash of ``whole`` if it has the same entries as
    ``value``, else ``value`` (now held)."""
    digest = hash(whole)  # an int: never equal to the strings memo also holds
    found = memo.get(digest)
    if found is None:
        memo[digest] = value
        return value
    if _same_entries(found, value):
        return found
    return memo.setdefault(whole, value)  # a hash collision: rare
