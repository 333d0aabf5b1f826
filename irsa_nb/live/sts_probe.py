"""The live end-to-end STS probe: does a fresh token for a service account assume its role?

Opt-in (``irsa-nb check --cluster NAME --probe``). For each target service account with an
``eks.amazonaws.com/role-arn`` annotation (the ones asked for, at most
:attr:`ProbeOptions.max_targets`):

1. mint a short-lived token through the TokenRequest API (``POST .../serviceaccounts/NAME/token``,
   what ``create_namespaced_service_account_token`` sends; ``expirationSeconds`` 600, audience
   ``eks.amazonaws.com/audience`` or ``sts.amazonaws.com``): the only create call irsa-nb makes;
2. call STS ``AssumeRoleWithWebIdentity`` with it, unsigned, at the regional endpoint of the
   cluster's region and partition (boto3's standard configuration, so ``AWS_ENDPOINT_URL_STS``
   / ``AWS_ENDPOINT_URL`` and profile settings apply), then ``GetCallerIdentity`` with the
   returned session;
3. with actions (``--action s3:GetObject=arn:aws:s3:::bucket/key``), run
   ``iam:SimulatePrincipalPolicy`` for the role with the caller's own credentials.

The outcome is stored as bundle documents (:data:`irsa_nb.bundle.PROBE_INDEX` and
:func:`irsa_nb.bundle.probe_path`) holding codes, messages and ARNs only. The token and the
temporary credentials stay in local variables of this module: they are not logged (while a
probe call runs, DEBUG records of botocore, urllib3 and the kubernetes client in that thread
are dropped, and every record is scrubbed of them), not put into exceptions or documents,
and the references are dropped right after use. The checks ``sts_probe_assume_role`` and
``sts_probe_permissions`` (:mod:`irsa_nb.checks.probe`) read the documents.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .. import bundle
from ..bundle import CallFailed, Document
from ..k8s import AUDIENCE_ANNOTATION, DEFAULT_AUDIENCE, ROLE_ARN_ANNOTATION
from ..redact import MASK, mask_text

log = logging.getLogger(__name__)

TOKEN_SECONDS = 600  # the shortest expirationSeconds the API server accepts
SESSION_SECONDS = 900  # the shortest DurationSeconds STS accepts
MAX_TARGETS = 10
MAX_ATTEMPTS = 3  # per STS/TokenRequest call unless AWS_MAX_ATTEMPTS says otherwise
MAX_WORKERS = 4

#: AWS operations the probe calls that need an IAM permission (docs/permissions.md).
OPERATIONS = ("iam:SimulatePrincipalPolicy",)
#: AWS operations the probe calls that need none: the token (through the role's trust
#: policy) or the assumed session itself authorises them.
NO_PERMISSION_OPERATIONS = ("sts:AssumeRoleWithWebIdentity", "sts:GetCallerIdentity")
#: The Kubernetes requests the probe makes: (API group, resource, verb).
RESOURCES = (("", "serviceaccounts/token", "create"),)

#: STS error codes that say "try again" rather than "this set-up is wrong".
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "IDPCommunicationError",
    }
)
_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")  # namespace / service account names
_LIBRARIES = ("botocore", "boto3", "urllib3", "kubernetes", "s3transfer")


@dataclass(frozen=True)
class ProbeOptions:
    """What to probe.

    Parameters
    ----------
    namespace, service_account, pod
        The target, as for :func:`irsa_nb.run_checks`: a service account (in ``namespace``,
        or in every namespace that has one of that name), the service account of a pod,
        the annotated service accounts of a namespace, or (none given) every annotated one.
    actions
        ``(action, resource)`` pairs to simulate for each role (see :func:`parse_action`).
    max_targets
        Probe at most this many service accounts (the others are listed as not probed).

    Examples
    --------
    >>> opts = ProbeOptions("shop", "cart", actions=[parse_action("s3:GetObject=arn:aws:s3:::b/k")])
    >>> opts.actions
    (('s3:GetObject', 'arn:aws:s3:::b/k'),)
    """

    namespace: str | None = None
    service_account: str | None = None
    pod: str | None = None
    actions: Sequence[tuple[str, str]] = field(default=())
    max_targets: int = MAX_TARGETS

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", tuple((str(a), str(r)) for a, r in self.actions))
        if self.max_targets < 1:
            raise ValueError("the probe needs a positive number of targets (--probe-max N)")


def parse_action(text: str) -> tuple[str, str]:
    """``"s3:GetObject=arn:aws:s3:::bucket/key"`` → ``("s3:GetObject", "arn:aws:s3:::bucket/key")``.

    The resource is ``"*"`` when only the action is given.

    >>> parse_action("sqs:SendMessage")
    ('sqs:SendMessage', '*')
    """
    action, _, resource = str(text).strip().partition("=")
    action, resource = action.strip(), resource.strip() or "*"
    if not _ACTION.match(action):
        raise ValueError(
            "--action expects SERVICE:ACTION[=RESOURCE_ARN] (e.g. "
            f"s3:GetObject=arn:aws:s3:::bucket/key), got {text!r}"
        )
    return action, resource


# --- keeping secrets out of logs --------------------------------------------------------------


class _LogGuard(logging.Filter):
    """Installed on the loggers of botocore, urllib3, the kubernetes client and irsa_nb.

    In a thread that is making a probe call, the libraries' records below INFO are dropped
    (botocore logs request parameters, response bodies and canonical requests at DEBUG, i.e.
    the token and the credentials); every record is scrubbed of the secrets in use.
    """

    def __init__(self) -> None:
        super().__init__("irsa_nb.live.sts_probe")
        self._lock = threading.Lock()
        self._threads: dict[int, int] = {}
        self._secrets: dict[str, int] = {}

    @contextlib.contextmanager
    def active(self) -> Iterator[_Secrets]:
        """Guard the calling thread; secrets added to the yielded holder are scrubbed."""
        me = threading.get_ident()
        holder = _Secrets(self)
        with self._lock:
            self._threads[me] = self._threads.get(me, 0) + 1
        try:
            yield holder
        finally:
            holder.clear()
            with self._lock:
                self._threads[me] -= 1
                if not self._threads[me]:
                    del self._threads[me]

    def add(self, secret: str) -> None:
        with self._lock:
            self._secrets[secret] = self._secrets.get(secret, 0) + 1

    def discard(self, secret: str) -> None:
        with self._lock:
            n = self._secrets.get(secret, 0) - 1
            if n > 0:
                self._secrets[secret] = n
            else:
                self._secrets.pop(secret, None)

    def scrub(self, text: str) -> str:
        with self._lock:
            secrets = list(self._secrets)
        for s in secrets:
            if s in text:
                text = text.replace(s, MASK)
        return mask_text(text)[0]

    def filter(self, record: logging.LogRecord) -> bool:
        guarded = threading.get_ident() in self._threads
        if guarded and record.levelno < logging.INFO and record.name.startswith(_LIBRARIES):
            return False
        if guarded or self._secrets:
            try:
                msg = record.getMessage()
            except Exception:  # a broken record: let logging report it as usual
                return True
            clean = self.scrub(msg)
            if clean != msg:
                record.msg, record.args = clean, None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True

    def install(self) -> None:
        """Attach to every existing logger of the libraries that see the secrets.

        A logger's filters apply only to records created on it, not to those its children
        propagate, so each one gets the filter.
        """
        names = [n for n in list(logging.Logger.manager.loggerDict) if n.startswith(_LIBRARIES)]
        with self._lock:
            for name in [*_LIBRARIES, "irsa_nb", *names]:
                lg = logging.getLogger(name)
                if self not in lg.filters:
                    lg.addFilter(self)


class _Secrets:
    """The secrets of one probe (forgotten by the guard when the probe ends)."""

    def __init__(self, guard: _LogGuard) -> None:
        self._guard = guard
        self._mine: list[str] = []

    def add(self, *secrets: Any) -> None:
        for s in secrets:
            if isinstance(s, str) and s:
                self._guard.add(s)
                self._mine.append(s)

    def scrub(self, text: str) -> str:
        return self._guard.scrub(text)

    def clear(self) -> None:
        for s in self._mine:
            self._guard.discard(s)
        self._mine.clear()


_GUARD = _LogGuard()


# --- target selection -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    namespace: str
    name: str
    role_arn: str
    audience: str


def select_targets(
    documents: Mapping[str, Document], options: ProbeOptions
) -> tuple[list[_Target], list[dict[str, str]]]:
    """The service accounts to probe, and those left out with the reason (``limit``,
    ``no_service_account``, ``no_role_annotation``, ``invalid_name``)."""
    sas: dict[tuple[str, str], dict[str, str]] = {}
    for item in _items(documents.get(bundle.SERVICE_ACCOUNTS)):
        meta = item.get("metadata") or {}
        key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
        sas[key] = {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()}

    ns, sa = options.namespace, options.service_account
    if options.pod:
        keys = []
        for p in _items(documents.get(bundle.PODS)):
            meta, spec = p.get("metadata") or {}, p.get("spec") or {}
            if meta.get("name") == options.pod and ns in (None, meta.get("namespace")):
                name = sa or str(spec.get("serviceAccountName") or "default")
                keys.append((str(meta.get("namespace", "")), name))
    elif sa:
        keys = [(ns, sa)] if ns else [k for k in sorted(sas) if k[1] == sa]
    else:
        keys = [k for k in sorted(sas) if ns in (None, k[0]) and sas[k].get(ROLE_ARN_ANNOTATION)]

    chosen: list[_Target] = []
    left: list[dict[str, str]] = []
    for key in dict.fromkeys(keys):
        annotations = sas.get(key)
        role = (annotations or {}).get(ROLE_ARN_ANNOTATION, "").strip()
        where = {"namespace": key[0], "service_account": key[1]}
        if annotations is None:
            left.append({**where, "reason": "no_service_account"})
        elif not role:
            left.append({**where, "reason": "no_role_annotation"})
        elif not (_NAME.match(key[0]) and _NAME.match(key[1])):
            left.append({**where, "reason": "invalid_name"})
        elif len(chosen) >= options.max_targets:
            left.append({**where, "reason": "limit"})
        else:
            aud = annotations.get(AUDIENCE_ANNOTATION) or DEFAULT_AUDIENCE
            chosen.append(_Target(key[0], key[1], role, aud))
    return chosen, left


def _items(doc: Document) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    return [i for i in doc.get("items") or [] if isinstance(i, dict)]


# --- the probe --------------------------------------------------------------------------------


def probe_documents(
    documents: Mapping[str, Document],
    options: ProbeOptions,
    api_client: Any,
    session: Any,
    iam_client: Any,
    region: str | None,
) -> dict[str, Document]:
    """Probe the targets chosen from the collected ``documents``; the probe's documents.

    Parameters
    ----------
    documents
        The collection so far (service accounts and pods).
    options
        What to probe.
    api_client
        The ``kubernetes.client.ApiClient`` of the cluster (its kubeconfig context).
    session
        The collection's boto3 session (profile, endpoint and retry configuration).
    iam_client
        The collection's IAM client (the caller's credentials) for SimulatePrincipalPolicy.
    region
        The cluster's region: STS is called there (its partition follows from it).

    Returns
    -------
    dict
        :data:`irsa_nb.bundle.PROBE_INDEX` and one :func:`irsa_nb.bundle.probe_path` per
        probed service account; nothing secret. Failures are recorded, never raised.
    """
    targets, left = select_targets(documents, options)
    index: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "requested": {
            "namespace": options.namespace,
            "service_account": options.service_account,
            "pod": options.pod,
            "max_targets": options.max_targets,
            "actions": [{"action": a, "resource": r} for a, r in options.actions],
        },
        "probed": [{"namespace": t.namespace, "service_account": t.name} for t in targets],
        "not_probed": left,
    }
    out: dict[str, Document] = {bundle.PROBE_INDEX: index}
    if not targets:
        return out
    try:
        sts = _sts_client(session, region, signed=False)
    except Exception as exc:  # e.g. no region or an unknown profile: every target is an ERROR
        index["error"] = failure = _describe(exc, _Secrets(_GUARD))
        for t in targets:
            doc = _base(t, region, "")
            doc.update(token={"minted": False}, assume={"status": "error", "message": failure})
            out[bundle.probe_path(t.namespace, t.name)] = doc
        return out
    index["sts_endpoint"] = endpoint = str(sts.meta.endpoint_url)
    prober = _Prober(api_client, session, sts, iam_client, str(region), endpoint, options.actions)
    with ThreadPoolExecutor(min(MAX_WORKERS, len(targets)), "irsa-nb-sts-probe") as pool:
        for target, doc in zip(targets, pool.map(prober.probe, targets), strict=True):
            out[bundle.probe_path(target.namespace, target.name)] = doc
    return out


def _base(t: _Target, region: str | None, endpoint: str) -> dict[str, Any]:
    return {
        "namespace": t.namespace,
        "service_account": t.name,
        "role_arn": t.role_arn,
        "audience": t.audience,
        "region": region,
        "sts_endpoint": endpoint,
    }


def _sts_client(session: Any, region: str | None, *, signed: bool, **credentials: str) -> Any:
    """An STS client for the regional endpoint of ``region``, with the session's settings."""
    import boto3
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    if not region:
        raise ValueError("no AWS region for STS: pass --region")
    core = session._session  # boto3 keeps its botocore session here
    fresh = botocore.session.Session(profile=core.profile)
    fresh.set_config_variable("sts_regional_endpoints", "regional")
    retries: dict[str, Any] = {"mode": core.get_config_variable("retry_mode") or "standard"}
    if core.get_config_variable("max_attempts") is None:
        retries["total_max_attempts"] = MAX_ATTEMPTS
    cfg = Config(
        retries=retries,
        connect_timeout=10,
        read_timeout=30,
        parameter_validation=False,  # let STS judge the role ARN, as it does for the pod
        max_pool_connections=MAX_WORKERS,
        **({} if signed else {"signature_version": UNSIGNED}),
    )
    return boto3.Session(botocore_session=fresh, region_name=region).client(
        "sts", config=cfg, **credentials
    )


class _Prober:
    def __init__(
        self,
        api_client: Any,
        session: Any,
        sts: Any,
        iam: Any,
        region: str,
        endpoint: str,
        actions: Sequence[tuple[str, str]],
    ) -> None:
        self.api = api_client
        self.session = session
        self.sts = sts
        self.iam = iam
        self.region = region
        self.endpoint = endpoint
        self.actions = list(actions)

    def probe(self, target: _Target) -> dict[str, Any]:
        doc = _base(target, self.region, self.endpoint)
        with _GUARD.active() as secrets:
            _GUARD.install()
            try:
                doc["token"], doc["assume"] = self._assume(target, secrets)
            except Exception as exc:  # never lose the rest of the collection
                doc.setdefault("token", {"minted": False})
                doc["assume"] = {"status": "error", "message": _describe(exc, secrets)}
            if self.actions:
                try:
                    doc["permissions"] = self._simulate(target.role_arn, secrets)
                except Exception as exc:
                    doc["permissions"] = {"status": "failed", "error": _describe(exc, secrets)}
        return doc

    # -- token and STS -----------------------------------------------------------------------

    def _assume(self, target: _Target, secrets: _Secrets) -> tuple[dict[str, Any], dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            token = self._mint(target)
        except _TokenError as exc:
            return {"minted": False, "error": secrets.scrub(str(exc))}, {"status": "not_attempted"}
        secrets.add(token)
        minted = {"minted": True, "expiration_seconds": TOKEN_SECONDS, "audience": target.audience}
        op = {"operation": "AssumeRoleWithWebIdentity"}
        try:
            resp = self.sts.assume_role_with_web_identity(
                RoleArn=target.role_arn,
                RoleSessionName=f"irsa-nb-probe-{int(time.time())}",
                WebIdentityToken=token,
                DurationSeconds=SESSION_SECONDS,
            )
        except ClientError as exc:
            err = exc.response.get("Error") or {}
            code = str(err.get("Code") or "Unknown")
            return minted, {
                **op,
                "status": "error" if code in TRANSIENT_CODES else "rejected",
                "code": code,
                "message": secrets.scrub(str(err.get("Message") or "")),
                "error": secrets.scrub(str(exc)),
                "http_status": (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode"),
            }
        except BotoCoreError as exc:
            return minted, {
                **op,
                "status": "unreachable",
                "message": secrets.scrub(str(exc)),
                "error": _describe(exc, secrets),
            }
        finally:
            del token
        creds = resp.pop("Credentials", None) or {}
        secrets.add(*(creds.get(k) for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")))
        user = resp.get("AssumedRoleUser") or {}
        result: dict[str, Any] = {
            **op,
            "status": "assumed",
            "assumed_role_arn": str(user.get("Arn", "")),
            "subject": str(resp.get("SubjectFromWebIdentityToken", "")),
            "provider": str(resp.get("Provider", "")),
            "audience": str(resp.get("Audience", "")),
        }
        del resp
        result.update(self._identity(creds, secrets))
        creds.clear()
        del creds
        return minted, result

    def _mint(self, target: _Target) -> str:
        """A token from the TokenRequest API (the one create call irsa-nb makes).

        A raw POST (:func:`irsa_nb.live.kube.request`), as
        ``create_namespaced_service_account_token`` sends it.
        """
        from kubernetes.client.exceptions import ApiException

        from . import kube

        path = (
            f"/api/v1/namespaces/{quote(target.namespace, safe='')}/serviceaccounts/"
            f"{quote(target.name, safe='')}/token"
        )
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": [target.audience], "expirationSeconds": TOKEN_SECONDS},
        }
        for attempt in range(MAX_ATTEMPTS):
            try:
                answer = kube.request(self.api, "POST", path, body=request)
            except kube.FAILURES as exc:
                status = getattr(exc, "status", None)
                retry = status in kube.RETRY_STATUSES or not isinstance(exc, ApiException)
                if not retry or attempt == MAX_ATTEMPTS - 1:
                    raise _TokenError(kube.describe_error(exc)) from None
                kube.backoff(attempt)
                continue
            try:
                token = json.loads(answer)["status"]["token"]
            except (ValueError, KeyError, TypeError, RecursionError):
                raise _TokenError("the TokenRequest answer holds no status.token") from None
            if not isinstance(token, str) or not token:
                raise _TokenError("the TokenRequest answer holds an empty token")
            return token
        raise AssertionError("unreachable")

    def _identity(self, creds: dict[str, Any], secrets: _Secrets) -> dict[str, Any]:
        """GetCallerIdentity with the assumed session: who STS says the pod would be."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = _sts_client(
                self.session,
                self.region,
                signed=True,
                aws_access_key_id=creds.get("AccessKeyId", ""),
                aws_secret_access_key=creds.get("SecretAccessKey", ""),
                aws_session_token=creds.get("SessionToken", ""),
            )
            try:
                ident = client.get_caller_identity()
            finally:
                del client
        except (ClientError, BotoCoreError) as exc:
            return {"identity_error": secrets.scrub(str(exc))}
        return {"caller_arn": str(ident.get("Arn", "")), "account": str(ident.get("Account", ""))}

    # -- permissions -------------------------------------------------------------------------

    def _simulate(self, role_arn: str, secrets: _Secrets) -> dict[str, Any]:
        """iam:SimulatePrincipalPolicy for the requested actions (:mod:`.simulate`, the code
        path of ``--action``), reduced to what the probe's record keeps."""
        from ..trail import simulation_results
        from .simulate import simulate

        got = simulate(self.iam, role_arn, self.actions)
        if isinstance(got, CallFailed):
            return {"status": "failed", "error": secrets.scrub(got.message)}
        results = [
            {
                "action": r.action,
                "resource": r.resource,
                "decision": r.decision,
                "matched_statements": list(r.matched_statements),
                "missing_context": list(r.missing_context),
            }
            for r in simulation_results(got)
        ]
        return {"status": "simulated", "results": results}


def _describe(exc: BaseException, secrets: _Secrets) -> str:
    return secrets.scrub(f"{type(exc).__name__}: {exc}")


class _TokenError(Exception):
    """No token could be minted (the message is what kubectl would print)."""


def cluster_region(described: Document, default: str | None) -> str | None:
    """The region in the cluster's ARN (``arn:aws:eks:REGION:...``), else ``default``."""
    arn = ""
    if isinstance(described, dict):
        arn = str((described.get("cluster") or {}).get("arn") or "")
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default
