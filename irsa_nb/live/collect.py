"""Collect a live cluster into the same ``{path: document}`` mapping a bundle holds.

:func:`collect_documents` calls AWS (boto3) and Kubernetes (kubeconfig) read-only and
returns bundle documents; :func:`collect` builds the :class:`~irsa_nb.inventory.Inventory`
from them through :func:`irsa_nb.inventory.build_inventory`, the same path a bundle takes,
so ``write_documents(inv.documents, out)`` then ``load_bundle(out)`` gives the same results.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .. import bundle
from ..bundle import CallFailed, Document
from ..gcpause import full_gc_deferred
from ..iam.arn import is_valid_role_arn, issuer_host_path, role_name
from ..inventory import Inventory, build_inventory
from ..k8s import NAMESPACE_NAME, ROLE_ARN_ANNOTATION
from . import aws, kube, tls
from .cloudtrail import check_hours, lookup_web_identity
from .exec import EXEC_TIMEOUT, ExecTarget, check_timeout, collect_exec, exec_target
from .simulate import simulate
from .sts_probe import ProbeOptions, cluster_region, parse_action, probe_documents

log = logging.getLogger(__name__)

MAX_WORKERS = 8


def collect(
    cluster_name: str,
    region: str | None = None,
    profile: str | None = None,
    context: str | None = None,
    namespaces: Sequence[str] | None = None,
    *,
    progress: bool | None = None,
    max_workers: int = MAX_WORKERS,
    probe: bool | ProbeOptions | None = None,
    exec: bool | str | ExecTarget | None = None,
    exec_timeout: float = EXEC_TIMEOUT,
    cloudtrail_hours: int | None = None,
    actions: Sequence[str | tuple[str, str]] = (),
    service_account: str | None = None,
) -> Inventory:
    """Collect a live EKS cluster's IRSA evidence (read-only) into an Inventory.

    Parameters
    ----------
    cluster_name
        The EKS cluster name (``aws eks describe-cluster --name``).
    region, profile
        As for ``boto3.Session``; the region defaults to ``AWS_REGION``, then the session's
        (``AWS_DEFAULT_REGION``, the profile), else to the one in the kubeconfig context's
        EKS endpoint.
    context
        kubeconfig context (``KUBECONFIG`` is honoured); default: the context whose server is
        the cluster's endpoint, else the current one.
    namespaces
        Only these namespaces (a name or a list; default: cluster-wide lists).
    progress
        Show a progress bar on stderr (default: when stderr is a terminal).
    max_workers
        Concurrent AWS/issuer calls.
    probe
        Opt-in live probe (:mod:`irsa_nb.live.sts_probe`): ``True`` or a
        :class:`~irsa_nb.live.sts_probe.ProbeOptions` mints a short-lived token per target
        service account (TokenRequest, the only create call) and calls STS with it; the
        outcome (no secrets) is stored under ``probe/``.
    exec
        Opt-in in-pod evidence (:mod:`irsa_nb.live.exec`; needs ``pods/exec``): ``True`` or
        ``"all"`` runs a fixed read-only probe (env, id, token file, token claims, AWS
        files, SDK versions) in every container of the running IRSA pods; an
        :class:`~irsa_nb.live.exec.ExecTarget` (or a dict of its fields) limits it to a
        pod, service account or namespace. Stored under ``k8s/exec/`` (no secrets).
    exec_timeout
        Seconds per exec command; a command that hangs is cut off and recorded.
    cloudtrail_hours
        Opt-in (:mod:`irsa_nb.live.cloudtrail`): the ``AssumeRoleWithWebIdentity`` calls
        CloudTrail recorded in the last so many hours for the roles in scope.
    actions
        Opt-in (:mod:`irsa_nb.live.simulate`): ``"ACTION[=RESOURCE]"`` (or pairs) simulated
        with ``iam:SimulatePrincipalPolicy`` for each role in scope.
    service_account
        Limit the roles in scope of ``cloudtrail_hours`` and ``actions`` to the roles of
        service accounts of this name (default: every annotated one listed).

    Returns
    -------
    Inventory
        ``inv.documents`` is the bundle: ``irsa_nb.bundle.write_documents(inv.documents, out)``.
        Equal parts of its objects (labels, containers' env, ...) are one shared object: copy
        a document before changing it.

    Examples
    --------
    >>> import irsa_nb
    >>> inv = irsa_nb.collect("prod", region="eu-west-1")  # doctest: +SKIP
    >>> irsa_nb.run_checks(inv, namespace="shop")  # doctest: +SKIP
    """
    with full_gc_deferred():  # one deferral (and one full collection) for both steps
        docs = collect_documents(
            cluster_name,
            region=region,
            profile=profile,
            context=context,
            namespaces=namespaces,
            progress=progress,
            max_workers=max_workers,
            probe=probe,
            exec=exec,
            exec_timeout=exec_timeout,
            cloudtrail_hours=cloudtrail_hours,
            actions=actions,
            service_account=service_account,
        )
        return build_inventory(docs, source=f"live:{cluster_name}")


def collect_documents(
    cluster_name: str,
    region: str | None = None,
    profile: str | None = None,
    context: str | None = None,
    namespaces: Sequence[str] | None = None,
    *,
    progress: bool | None = None,
    max_workers: int = MAX_WORKERS,
    probe: bool | ProbeOptions | None = None,
    exec: bool | str | ExecTarget | None = None,
    exec_timeout: float = EXEC_TIMEOUT,
    cloudtrail_hours: int | None = None,
    actions: Sequence[str | tuple[str, str]] = (),
    service_account: str | None = None,
) -> dict[str, Document]:
    """The bundle documents of a live cluster (see :func:`collect`)."""
    if not cluster_name:
        raise ValueError("name the EKS cluster (--cluster NAME)")
    if isinstance(namespaces, str):
        namespaces = [namespaces]
    for ns in namespaces or ():
        if not isinstance(ns, str) or not NAMESPACE_NAME.fullmatch(ns):
            raise ValueError(f"{ns!r} is not a Kubernetes namespace name (RFC 1123 label)")
    in_pod = exec_target(exec)
    check_timeout(exec_timeout)
    if cloudtrail_hours is not None:
        cloudtrail_hours = check_hours(cloudtrail_hours)
    pairs = [parse_action(a) if isinstance(a, str) else (str(a[0]), str(a[1])) for a in actions]
    contexts, current = kube.list_contexts()
    session = aws.make_session(profile, region)
    if not session.region_name:
        by_name = {c.name: c for c in contexts}
        guess = by_name.get(context or current or "")
        region = kube.region_from_server(guess.server) if guess else None
        if not region:
            raise aws.AwsConfigError("no AWS region: pass --region or set AWS_REGION")
        session = aws.make_session(profile, region)
    bar = _Progress(progress)
    try:
        run = _Collection(cluster_name, session, context, namespaces, bar, max_workers)
        run.sts_probe = ProbeOptions() if probe is True else (probe or None)
        run.exec_target, run.exec_timeout = in_pod, exec_timeout
        run.cloudtrail_hours, run.actions = cloudtrail_hours, pairs
        run.service_account = service_account
        with full_gc_deferred():
            return run.run()
    finally:
        bar.close()


class _Collection:
    """One collection run: AWS calls in a bounded pool while Kubernetes lists page by page."""

    def __init__(
        self,
        cluster: str,
        session: Any,
        context: str | None,
        namespaces: Sequence[str] | None,
        bar: _Progress,
        max_workers: int,
    ) -> None:
        self.cluster = cluster
        self.aws = aws.AwsCollector(session, max_workers)
        self.context = context
        self.namespaces = list(namespaces) if namespaces else None
        self.bar = bar
        self.max_workers = max(1, max_workers)
        self.docs: dict[str, Document] = {}
        self.session = session
        self.sts_probe: ProbeOptions | None = None
        self.exec_target: ExecTarget | None = None
        self.exec_timeout = EXEC_TIMEOUT
        self.cloudtrail_hours: int | None = None
        self.actions: list[tuple[str, str]] = []
        self.service_account: str | None = None
        self._bulk: dict[str, Any] | CallFailed | None = None  # get-account-authorization-details
        self._bulk_names: set[str] = set()  # the roles the bundle keeps of it
        self._bulk_doc: dict[str, Any] = {}
        self._bulk_lock = threading.Lock()

    def run(self) -> dict[str, Document]:
        docs = self.docs
        docs[bundle.DESCRIBE_CLUSTER] = described = self.aws.describe_cluster(self.cluster)
        cluster = _field(described, "cluster")
        endpoint = cluster.get("endpoint")
        ctx = kube.choose_context(self.context, endpoint if isinstance(endpoint, str) else None)
        if not cluster and not self.context:
            log.warning(
                "describe-cluster failed, so the context cannot be matched to %s; using the "
                "current context %s (pass --context if it is another cluster)",
                self.cluster,
                ctx.name,
            )
        log.info("cluster %s: kubeconfig context %s (%s)", self.cluster, ctx.name, ctx.server)
        reader = kube.KubeReader.from_kubeconfig(ctx.name, on_page=self.bar.page)
        issuer = _field(_field(cluster, "identity"), "oidc").get("issuer")
        issuer = issuer if isinstance(issuer, str) else ""

        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="irsa-nb-collect") as pool:
            try:
                pending: list[Future[dict[str, Document]]] = [
                    pool.submit(self._providers, issuer),
                    pool.submit(self._kube_small, reader),
                ]
                if issuer:
                    pending.append(pool.submit(_issuer_documents, issuer))
                pending.append(
                    pool.submit(
                        _one,
                        bundle.POD_IDENTITY_ASSOCIATIONS,
                        self.aws.list_pod_identity_associations,
                        self.cluster,
                    )
                )
                lister = kube.ListCollector(reader, self.namespaces)
                docs.update(lister.collect("serviceaccounts"))
                asked: set[str] = set()
                # while the pods are listed; a bulk read appends its per-role fallback
                # futures to `pending` before its own future completes
                pending += self._submit_roles(pool, asked, pending)
                docs.update(lister.collect("pods"))
                docs.update(lister.retry_unknown())
                pending += self._submit_roles(pool, asked, pending)  # listed only now
                if self.sts_probe is not None:
                    region = cluster_region(described, self.aws.region)
                    args = (self.sts_probe, reader.api, self.session, self.aws.iam, region)
                    pending.append(pool.submit(probe_documents, dict(docs), *args))
                if self.exec_target is not None:
                    pods, sas = docs.get(bundle.PODS), docs.get(bundle.SERVICE_ACCOUNTS)
                    pending.append(
                        pool.submit(
                            collect_exec,
                            reader.api,
                            pods,
                            sas,
                            self.exec_target,
                            timeout=self.exec_timeout,
                        )
                    )
                if self.actions:
                    for arn in self._role_arns():
                        pending.append(pool.submit(self._simulate, arn))
                for fut in pending:
                    docs.update(fut.result())
            except BaseException:  # Ctrl-C, or a bug: the queued calls are not made
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        if self.cloudtrail_hours is not None:
            # In this thread, last: Ctrl-C stops the lookup and keeps the rest of the bundle.
            region = cluster_region(described, self.aws.region)
            docs[bundle.CLOUDTRAIL_WEB_IDENTITY] = lookup_web_identity(
                self.aws.cloudtrail(region),
                self.cloudtrail_hours,
                self._role_arns(),
                progress=self.bar.enabled,
            )
        return docs

    def _role_arns(self) -> list[str]:
        """The valid role ARNs annotated on the listed service accounts in scope."""
        return _role_arns(self.docs.get(bundle.SERVICE_ACCOUNTS), self.service_account)

    def _simulate(self, role_arn: str) -> dict[str, Document]:
        return {
            bundle.role_path(bundle.SIMULATE, role_name(role_arn)): simulate(
                self.aws.iam, role_arn, self.actions
            )
        }

    def _submit_roles(
        self,
        pool: ThreadPoolExecutor,
        asked: set[str],
        pending: list[Future[dict[str, Document]]],
    ) -> list[Future[dict[str, Document]]]:
        """Queue the IAM reads for the roles annotated on the listed service accounts that
        were not asked for yet: one get-account-authorization-details for many roles
        (:data:`~irsa_nb.live.aws.BULK_MIN_ROLES`), get-role and its policy lists for a few."""
        names = [n for n in _role_names(self.docs.get(bundle.SERVICE_ACCOUNTS)) if n not in asked]
        asked.update(names)
        self.bar.add_total(len(names))
        if names and len(asked) >= aws.BULK_MIN_ROLES:
            return [pool.submit(self._roles_bulk, names, pool, pending)]
        return [pool.submit(self._role, name) for name in names]

    def _roles_bulk(
        self,
        names: list[str],
        pool: ThreadPoolExecutor,
        pending: list[Future[dict[str, Document]]],
    ) -> dict[str, Document]:
        """The roles ``names`` from get-account-authorization-details (read once per run);
        a role it does not hold (deleted, or a role ARN of another account) and every role
        when the call fails (AccessDenied: recorded, an INFO fact) are read per role, in
        futures appended to ``pending``."""
        with self._bulk_lock:
            if self._bulk is None:
                got = self.aws.authorization_details()
                self._bulk = (
                    got
                    if isinstance(got, CallFailed)
                    else {
                        r["RoleName"]: r
                        for r in got.get("RoleDetailList") or []
                        if isinstance(r, dict) and isinstance(r.get("RoleName"), str)
                    }
                )
                if isinstance(got, CallFailed):
                    log.info(
                        "get-account-authorization-details failed, reading roles one by one: %s",
                        got.message,
                    )
            bulk = self._bulk
            found = [] if isinstance(bulk, CallFailed) else [n for n in names if n in bulk]
            self._bulk_names.update(found)
            # one object for every batch: whichever future is read last, it holds them all
            self._bulk_doc["RoleDetailList"] = [bulk[n] for n in sorted(self._bulk_names)]
            doc: Document = bulk if isinstance(bulk, CallFailed) else self._bulk_doc
        self.bar.update(len(found))
        pending.extend(pool.submit(self._role, n) for n in names if n not in found)
        return {bundle.AUTHORIZATION_DETAILS: doc}

    def _role(self, name: str) -> dict[str, Document]:
        out = self.aws.role_documents(name)
        self.bar.update(1)
        return out

    def _providers(self, issuer: str) -> dict[str, Document]:
        listed = self.aws.list_providers()
        out: dict[str, Document] = {bundle.LIST_PROVIDERS: listed}
        if not issuer or not isinstance(listed, dict):
            return out
        try:
            want = issuer_host_path(issuer)
        except ValueError:
            return out
        for entry in listed.get("OpenIDConnectProviderList") or []:
            arn = str(entry.get("Arn", "")) if isinstance(entry, dict) else ""
            if arn.split("oidc-provider/", 1)[-1].rstrip("/") == want:
                out[bundle.provider_path(arn)] = self.aws.get_provider(arn)
        return out

    def _kube_small(self, reader: kube.KubeReader) -> dict[str, Document]:
        out: dict[str, Document] = {bundle.VERSION: reader.version()}
        try:
            webhooks = kube.kube_list(reader.list("mutatingwebhookconfigurations"))
        except kube.FAILURES as exc:
            webhooks = CallFailed(kube.describe_error(exc))
        out[bundle.WEBHOOK_CONFIGURATIONS] = webhooks
        return out


def _field(doc: Any, key: str) -> dict[str, Any]:
    """``doc[key]`` when both are JSON objects, else ``{}`` (an answer of an odd shape)."""
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, dict) else {}


def _one(path: str, func: Callable[..., Document], *args: Any) -> dict[str, Document]:
    return {path: func(*args)}


def _issuer_documents(issuer: str) -> dict[str, Document]:
    """``tls/issuer-chain.pem`` and ``tls/discovery.json`` for the issuer."""
    out: dict[str, Document] = {}
    try:
        ders = tls.fetch_chain(issuer)
        host = "{}:{}".format(*tls.host_port(issuer))
        out[bundle.ISSUER_CHAIN] = (
            tls.chain_text(ders, host) if ders else CallFailed(f"{host}: no certificate presented")
        )
    except (OSError, ValueError) as exc:
        out[bundle.ISSUER_CHAIN] = CallFailed(f"connect to {issuer} failed: {exc}")
    out[bundle.DISCOVERY] = tls.discovery(issuer)
    return out


def _role_arns(sa_doc: Document, service_account: str | None = None) -> list[str]:
    """Distinct valid role ARNs annotated on service accounts (named ``service_account``)."""
    arns: dict[str, None] = {}
    for item in (sa_doc.get("items") or []) if isinstance(sa_doc, dict) else []:
        meta = (item.get("metadata") or {}) if isinstance(item, dict) else {}
        if service_account and meta.get("name") != service_account:
            continue
        arn = (meta.get("annotations") or {}).get(ROLE_ARN_ANNOTATION)
        if isinstance(arn, str) and is_valid_role_arn(arn):
            arns[arn] = None
    return list(arns)


def _role_names(sa_doc: Document) -> list[str]:
    """Distinct role names annotated on service accounts (valid role ARNs only)."""
    names: dict[str, None] = {}
    if not isinstance(sa_doc, dict):
        return []
    for item in sa_doc.get("items") or []:
        arn = ((item.get("metadata") or {}).get("annotations") or {}).get(ROLE_ARN_ANNOTATION)
        if isinstance(arn, str) and is_valid_role_arn(arn):
            names[role_name(arn)] = None
    return list(names)


class _Progress:
    """A tqdm bar on stderr counting listed objects and IAM roles (off when not a TTY)."""

    def __init__(self, enabled: bool | None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self._bar = None
        self.enabled = bool(enabled)
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._estimates: dict[str, int] = {}
        self._roles = 0
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=0, unit="obj", desc="collect", file=sys.stderr, leave=False)

    def page(self, kind: str, n: int, remaining: int | None) -> None:
        if self._bar is None:
            return
        with self._lock:
            seen = self._seen[kind] = self._seen.get(kind, 0) + n
            est = seen + remaining if remaining is not None else seen
            self._estimates[kind] = max(est, seen)
            self._bar.total = sum(self._estimates.values()) + self._roles
            self._bar.set_description(f"collect {kind}", refresh=False)
            self._bar.update(n)

    def add_total(self, n: int) -> None:
        if self._bar is not None:
            with self._lock:
                self._roles += n
                self._bar.total = sum(self._estimates.values()) + self._roles
                self._bar.set_description("collect IAM roles", refresh=False)
                self._bar.refresh()

    def update(self, n: int) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
