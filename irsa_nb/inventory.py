"""The Inventory: everything the checks read, built from bundle documents.

Bundles, live collection and the demo all produce the same ``{path: document}``
mapping (see :mod:`irsa_nb.bundle`); :func:`build_inventory` turns it into typed
records. A piece of evidence that is unavailable is a :class:`Gap` saying why.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from . import bundle
from .bundle import CallFailed, Document, Unreadable
from .exec_facts import ExecFacts, exec_facts_from_documents
from .gcpause import full_gc_deferred
from .iam.arn import (
    ArnError,
    is_valid_role_arn,
    issuer_host_path,
    parse_arn,
    partition_for_region,
)
from .iam.arn import role_name as arn_role_name
from .iam.trust import Policy, PolicyError, parse_policy
from .k8s import Pod, ServiceAccount, _d, _l, items_of
from .trail import SimulationResult, WebIdentityCall, simulation_results, web_identity_calls

GapKind = Literal["absent", "not_found", "error", "invalid"]


@dataclass(frozen=True)
class Gap:
    """Why a piece of evidence is unavailable, and the command that would collect it.

    ``absent``: not collected; ``not_found``: the command said it does not exist;
    ``error``: the command failed (e.g. AccessDenied); ``invalid``: unreadable file.
    """

    path: str
    kind: GapKind
    message: str
    command: str


@dataclass(frozen=True)
class Cluster:
    name: str
    arn: str
    region: str
    account: str
    partition: str
    version: str  # Kubernetes "major.minor", e.g. "1.29"; "" when unknown
    issuer: str  # https://... as describe-cluster reports it; "" when IRSA is not set up
    endpoint: str = ""
    platform_version: str = ""
    endpoint_public_access: bool | None = None
    endpoint_private_access: bool | None = None


@dataclass(frozen=True)
class Provider:
    arn: str
    url: str
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    trust_policy: Any  # dict as decoded by AWS CLI/boto3, or the raw URL-encoded string
    attached: tuple[str, ...] | Gap  # policy ARNs
    inline: tuple[str, ...] | Gap  # policy names
    max_session_duration: int | None = None

    def trust(self) -> Policy:
        """The trust policy parsed (:func:`~irsa_nb.iam.trust.parse_policy`) once per role.

        Raises
        ------
        PolicyError
            If it cannot be evaluated.
        """
        parsed = self._parsed_trust
        if isinstance(parsed, PolicyError):
            raise PolicyError(*parsed.args)
        return parsed

    @cached_property
    def _parsed_trust(self) -> Policy | PolicyError:
        try:
            return parse_policy(self.trust_policy)
        except PolicyError as exc:
            return exc


@dataclass(frozen=True)
class IssuerDiscovery:
    """What fetching the issuer's OIDC discovery document and JWKS returned
    (``tls/discovery.json``, written by ``irsa-nb collect``): each fetch as recorded (``url``,
    ``status``, ``error``, ``issuer``/``keys``, ``tls_verified``, ``tls_error``); ``jwks`` is
    None when the discovery document named no JWKS to fetch."""

    openid_configuration: Mapping[str, Any]
    jwks: Mapping[str, Any] | None


@dataclass(frozen=True)
class UnreadableNamespace:
    """A namespace whose service accounts and/or pods could not be listed."""

    namespace: str
    kinds: tuple[str, ...]  # of "serviceaccounts", "pods": the lists that failed
    message: str


@dataclass(frozen=True)
class MutatingWebhook:
    """One webhook of a MutatingWebhookConfiguration, as the API server would apply it;
    ``rules``, ``failure_policy`` and the selectors are the values as collected."""

    configuration: str
    name: str
    rules: Any
    failure_policy: Any
    ca_bundle_set: bool
    object_selector: Any
    namespace_selector: Any


@dataclass(frozen=True)
class WebhookConfiguration:
    """A MutatingWebhookConfiguration: its name and its webhooks."""

    name: str
    webhooks: tuple[MutatingWebhook, ...]


@dataclass(frozen=True)
class PodLabels:
    """Labels of every pod in the pod list, by (namespace, name)."""

    by_pod: Mapping[tuple[str, str], Mapping[str, str]]

    def of(self, namespace: str, name: str) -> Mapping[str, str]:
        """The labels of one pod; none for a pod the list does not hold."""
        return self.by_pod.get((namespace, name), {})


@dataclass(frozen=True)
class ProbeRun:
    """What the opt-in STS probe (``--probe``) was asked and whom it probed
    (``probe/index.json``, kept as ``index``; an index that is not a JSON object reads as
    empty)."""

    index: Any

    @property
    def _index(self) -> dict[str, Any]:
        return self.index if isinstance(self.index, dict) else {}

    @property
    def probed(self) -> int:
        """How many service accounts were probed."""
        return len(self._index.get("probed") or [])

    @property
    def max_targets(self) -> Any:
        """The limit asked for, "" when not recorded."""
        return (self._index.get("requested") or {}).get("max_targets", "")

    @property
    def actions(self) -> bool | None:
        """Whether actions were given to simulate (None: the index is unreadable)."""
        if not isinstance(self.index, dict):
            return None
        return bool((self.index.get("requested") or {}).get("actions"))

    def not_probed_reason(self, namespace: str, service_account: str) -> Any:
        """Why a service account was left out (``limit``, ``invalid_name``...), or None."""
        reasons = {
            (e.get("namespace"), e.get("service_account")): e.get("reason")
            for e in self._index.get("not_probed") or []
            if isinstance(e, dict)
        }
        return reasons.get((namespace, service_account))


@dataclass(frozen=True)
class ProbeOutcome:
    """The STS probe's outcome for one service account (no secrets): the token request,
    AssumeRoleWithWebIdentity, and the policy simulation, as recorded; ``document`` is the
    whole record, for evidence."""

    document: Mapping[str, Any]
    audience: str
    endpoint: str  # "STS" when not recorded
    role_arn: str  # "" when not recorded
    token: Mapping[str, Any]
    assume: Mapping[str, Any]
    permissions: Mapping[str, Any]


@dataclass(frozen=True)
class PodIdentityAssociation:
    """One EKS Pod Identity association (``aws eks list-pod-identity-associations``)."""

    namespace: str
    service_account: str
    association_id: str
    association_arn: str


@dataclass
class Inventory:
    """Typed view of one cluster's IRSA evidence.

    Use :meth:`frames` for pandas tables; checks use the lookups.
    """

    source: str
    documents: dict[str, Document] = field(repr=False)
    cluster: Cluster | Gap
    provider_arns: tuple[str, ...] | Gap
    service_accounts: dict[tuple[str, str], ServiceAccount] | Gap
    pods: tuple[Pod, ...] | Gap
    kubernetes_version: str  # "major.minor" from k8s/version.json or describe-cluster
    namespace_errors: dict[str, str] = field(default_factory=dict)
    #: In-pod evidence (``--exec``) per (namespace, pod, container); see irsa_nb.exec_facts.
    exec_facts: dict[tuple[str, str, str], ExecFacts] = field(default_factory=dict)
    _roles: dict[str, Role | Gap] = field(default_factory=dict, repr=False)
    _providers: dict[str, Provider | Gap] = field(default_factory=dict, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- lookups -------------------------------------------------------------------------

    def gap(self, path: str) -> Gap | None:
        """The Gap for document ``path``, or None when it is present and readable."""
        doc = self.documents.get(path)
        command = self._command(path)
        if path not in self.documents:
            return Gap(path, "absent", f"{path} was not collected", command)
        if doc is None:
            return Gap(path, "invalid", f"{path} holds null instead of command output", command)
        if isinstance(doc, CallFailed):
            return Gap(path, "not_found" if doc.not_found else "error", doc.message, command)
        if isinstance(doc, Unreadable):
            return Gap(path, "invalid", doc.message, command)
        return None

    def _command(self, path: str) -> str:
        """The command that collects ``path`` for this cluster."""
        cluster = self.cluster.name if isinstance(self.cluster, Cluster) else "CLUSTER"
        region = self.cluster.region if isinstance(self.cluster, Cluster) else None
        return bundle.command_for(path, cluster, region)

    def role(self, name: str) -> Role | Gap:
        """The IAM role named ``name`` (get-role plus its policy lists)."""
        if name not in self._roles:
            self._roles[name] = self._build_role(name)
        return self._roles[name]

    def provider(self, arn: str) -> Provider | Gap:
        """Details of the IAM OIDC provider ``arn`` (get-open-id-connect-provider)."""
        if arn not in self._providers:
            self._providers[arn] = self._build_provider(arn)
        return self._providers[arn]

    def service_account(self, namespace: str, name: str) -> ServiceAccount | None:
        if isinstance(self.service_accounts, Gap):
            return None
        return self.service_accounts.get((namespace, name))

    def pod_identity_associations(self) -> tuple[PodIdentityAssociation, ...] | Gap:
        """EKS Pod Identity associations of the cluster, or the Gap saying why not."""
        path = bundle.POD_IDENTITY_ASSOCIATIONS
        gap = self.gap(path)
        if gap:
            return gap
        doc = self.documents[path]
        items = doc.get("associations") if isinstance(doc, dict) else None
        if not isinstance(items, list) or not all(isinstance(a, dict) for a in items):
            return Gap(path, "invalid", f"{path} is not list-pod-identity-associations output", "")
        return tuple(
            PodIdentityAssociation(
                str(a.get("namespace", "")),
                str(a.get("serviceAccount", "")),
                str(a.get("associationId", "")),
                str(a.get("associationArn", "")),
            )
            for a in items
        )

    def webhook_configurations(self) -> tuple[WebhookConfiguration, ...] | Gap:
        """The MutatingWebhookConfigurations, or the Gap."""
        path = bundle.WEBHOOK_CONFIGURATIONS
        gap = self.gap(path)
        if gap:
            return gap
        try:
            items = tuple(items_of(self.documents[path]))
        except ValueError as exc:
            return Gap(path, "invalid", f"{path}: {exc}", "")
        for item in items:
            hooks = item.get("webhooks", [])
            if not isinstance(item.get("metadata", {}), dict) or not (
                isinstance(hooks, list) and all(isinstance(h, dict) for h in hooks)
            ):
                why = "an item is not a MutatingWebhookConfiguration (metadata, webhooks list)"
                return Gap(path, "invalid", f"{path}: {why}", "")
        return tuple(_webhook_configuration(item) for item in items)

    def pod_labels(self) -> PodLabels | Gap:
        """The pods' labels (a webhook's objectSelector reads them), or a Gap when the pod
        list holds none (a bundle collected before labels were kept, or unreadable)."""
        path = bundle.PODS
        doc = self.documents.get(path)
        items = doc.get("items") if isinstance(doc, dict) else None
        if isinstance(items, list):
            out: dict[tuple[str, str], dict[str, str]] = {}
            seen = False
            for item in items:
                meta = item.get("metadata") if isinstance(item, dict) else None
                if not isinstance(meta, dict):
                    continue
                labels = meta.get("labels")
                seen = seen or isinstance(labels, dict)
                out[(str(meta.get("namespace", "")), str(meta.get("name", "")))] = {
                    str(k): str(v) for k, v in (labels if isinstance(labels, dict) else {}).items()
                }
            if seen:
                return PodLabels(out)
        return self.gap(path) or Gap(
            path, "absent", f"{path} holds no pod labels", self._command(path)
        )

    def unreadable_namespaces(self) -> tuple[UnreadableNamespace, ...]:
        """The namespaces whose service accounts or pods could not be listed, by name."""
        out = []
        for ns in sorted(self.namespace_errors):
            kinds = tuple(
                kind
                for kind in ("serviceaccounts", "pods")
                if isinstance(self.documents.get(bundle.namespace_path(ns, kind)), CallFailed)
            )
            out.append(UnreadableNamespace(ns, kinds, self.namespace_errors[ns]))
        return tuple(out)

    def issuer_discovery(self) -> IssuerDiscovery | Gap:
        """What fetching the issuer's discovery document and JWKS returned, or the Gap."""
        path = bundle.DISCOVERY
        gap = self.gap(path)
        if gap:
            return gap
        doc = self.documents[path]
        conf = doc.get("openid_configuration") if isinstance(doc, dict) else None
        if not isinstance(conf, dict):
            return Gap(path, "invalid", "no openid_configuration entry", self._command(path))
        jwks = doc.get("jwks") if isinstance(doc.get("jwks"), dict) else None
        return IssuerDiscovery(conf, jwks)

    def probe_run(self) -> ProbeRun | None:
        """What the opt-in STS probe was asked and whom it probed; None without a probe."""
        index = self.documents.get(bundle.PROBE_INDEX)
        return None if index is None else ProbeRun(index)

    def probe_outcome(self, namespace: str, service_account: str) -> ProbeOutcome | Gap | None:
        """The STS probe's outcome for one service account; None when it was not probed (see
        :meth:`probe_run` for why), a Gap when the probe's records cannot be read."""
        path = bundle.probe_path(namespace, service_account)
        index, doc = self.documents.get(bundle.PROBE_INDEX), self.documents.get(path)
        bad = next((d for d in (index, doc) if isinstance(d, CallFailed | Unreadable)), None)
        if bad is not None or (doc is not None and not isinstance(doc, dict)):
            message = bad.message if bad is not None else "not a JSON object"
            cl = self.cluster
            command = bundle.command_for(
                path, getattr(cl, "name", None) or "CLUSTER", getattr(cl, "region", None)
            )
            return Gap(path, "invalid", message, command)
        if doc is None:
            return None

        def part(key: str) -> Mapping[str, Any]:
            value = doc.get(key)
            return value if isinstance(value, dict) else {}

        return ProbeOutcome(
            document=doc,
            audience=str(doc.get("audience") or ""),
            endpoint=str(doc.get("sts_endpoint") or "STS"),
            role_arn=str(doc.get("role_arn") or ""),
            token=part("token"),
            assume=part("assume"),
            permissions=part("permissions"),
        )

    def web_identity_calls(self, role_arn: str) -> tuple[WebIdentityCall, ...] | Gap | None:
        """The ``AssumeRoleWithWebIdentity`` calls CloudTrail recorded for ``role_arn``,
        newest first (opt-in ``--cloudtrail``); None when they were not looked up, a Gap when
        the lookup failed. ``web_identity_lookup_partial`` says whether it was cut short."""
        path = bundle.CLOUDTRAIL_WEB_IDENTITY
        doc = self._opt_in_object(path)
        if not isinstance(doc, dict):
            return doc
        by_role = self._cache.get(path)
        if by_role is None:  # read and grouped once, asked once per service account
            by_role = self._cache[path] = {}
            for c in web_identity_calls(doc):
                by_role.setdefault(c.role_arn, []).append(c)
        return tuple(by_role.get(role_arn, ()))

    @property
    def web_identity_lookup_partial(self) -> bool:
        """True when the CloudTrail lookup stopped before its last page (a NextToken)."""
        doc = self.documents.get(bundle.CLOUDTRAIL_WEB_IDENTITY)
        return isinstance(doc, dict) and bool(doc.get("NextToken"))

    def simulation(self, role: str) -> tuple[SimulationResult, ...] | Gap | None:
        """IAM's policy simulation for role ``role`` (a name; opt-in ``--action``); None
        when it was not simulated, a Gap when the simulation failed."""
        doc = self._opt_in_object(bundle.role_path(bundle.SIMULATE, role))
        return simulation_results(doc) if isinstance(doc, dict) else doc

    def _opt_in_object(self, path: str) -> dict[str, Any] | Gap | None:
        """The JSON object at ``path`` of an opt-in collection: None when it was not
        collected, a Gap when it failed or is not an object."""
        if path not in self.documents:
            return None
        gap = self.gap(path)
        if gap:
            return gap
        doc = self.documents[path]
        if not isinstance(doc, dict):
            return Gap(path, "invalid", "not a JSON object", self._command(path))
        return doc

    @property
    def issuer_chain(self) -> list[bytes] | Gap:
        """DER certificates of the issuer's TLS chain as presented (leaf first)."""
        gap = self.gap(bundle.ISSUER_CHAIN)
        if gap:
            return gap
        blocks = re.findall(
            r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
            self.documents[bundle.ISSUER_CHAIN],
            re.S,
        )
        ders = []
        for i, block in enumerate(blocks, start=1):
            try:
                der = base64.b64decode("".join(block.split()), validate=True)
            except ValueError:  # binascii.Error
                der = b""
            if not der.startswith(b"\x30"):  # a DER certificate is an ASN.1 SEQUENCE
                why = f"PEM block {i} is not a base64 DER certificate"
                return Gap(bundle.ISSUER_CHAIN, "invalid", why, "")
            ders.append(der)
        if not ders:
            return Gap(bundle.ISSUER_CHAIN, "invalid", "no PEM certificate in the file", "")
        return ders

    # -- builders ------------------------------------------------------------------------

    def role_details(self) -> dict[str, Any] | Gap:
        """The roles of ``aws iam get-account-authorization-details`` by name (``{}`` when
        the bundle has none), or the Gap of a failed or unreadable one."""
        if bundle.AUTHORIZATION_DETAILS not in self._cache:
            self._cache[bundle.AUTHORIZATION_DETAILS] = _role_details(self)
        return self._cache[bundle.AUTHORIZATION_DETAILS]

    def iam_roles_read(self) -> str:
        """How the roles were read, an informational fact: ``bulk`` (one
        get-account-authorization-details), ``per role``, or ``per role`` with why the bulk
        call failed (``AccessDenied`` without ``iam:GetAccountAuthorizationDetails``)."""
        details = self.role_details()
        if isinstance(details, Gap):
            return f"per role ({details.path}: {details.message})"
        return "bulk" if details else "per role"

    def _build_role(self, name: str) -> Role | Gap:
        path = bundle.role_path("get-role", name)
        if path not in self.documents:  # read in bulk, or not at all
            details = self.role_details()
            if isinstance(details, Gap):
                return details
            if name in details:
                return _role_from_detail(name, details[name])
        gap = self.gap(path)
        if gap:
            return gap
        doc = self.documents.get(path)
        r = doc.get("Role") if isinstance(doc, Mapping) else None
        read = _arn_and_trust(r, path, f"{path} is not `aws iam get-role` output")
        if isinstance(read, Gap):
            return read
        arn, trust = read
        attached = self._policy_list(
            name, "list-attached-role-policies", "AttachedPolicies", "PolicyArn"
        )
        inline = self._policy_list(name, "list-role-policies", "PolicyNames", None)
        msd = r.get("MaxSessionDuration")
        return Role(name, arn, trust, attached, inline, msd if isinstance(msd, int) else None)

    def _policy_list(self, role: str, command: str, key: str, field_: str | None):
        path = bundle.role_path(command, role)
        gap = self.gap(path)
        if gap:
            return gap
        try:
            items = self.documents[path][key]
            return tuple(str(i[field_] if field_ else i) for i in items)
        except (KeyError, TypeError):
            return Gap(path, "invalid", f"{path} is not `aws iam {command}` output", "")

    def _build_provider(self, arn: str) -> Provider | Gap:
        path = bundle.provider_path(arn)
        gap = self.gap(path)
        if gap:
            return Gap(
                gap.path,
                gap.kind,
                gap.message,
                gap.command.replace(
                    "arn:aws:iam::ACCOUNT:oidc-provider/" + arn.split("oidc-provider/")[-1], arn
                ),
            )
        doc = self.documents[path]
        if not isinstance(doc, dict) or not all(
            isinstance(doc.get(k) or [], list) for k in ("ClientIDList", "ThumbprintList")
        ):
            return Gap(path, "invalid", f"{path} is not get-open-id-connect-provider output", "")
        return Provider(
            arn,
            str(doc.get("Url", "")),
            tuple(str(c) for c in doc.get("ClientIDList") or ()),
            tuple(str(t).lower() for t in doc.get("ThumbprintList") or ()),
        )

    # -- tables --------------------------------------------------------------------------

    def frames(self) -> dict[str, pd.DataFrame]:
        """The inventory as pandas tables: cluster, oidc_providers, roles, service_accounts,
        pods, containers and sources (every document and whether it could be read)."""
        cl = [vars(self.cluster)] if isinstance(self.cluster, Cluster) else []
        provs = []
        for arn in self.provider_arns if not isinstance(self.provider_arns, Gap) else ():
            p = self.provider(arn)
            provs.append(
                {
                    "arn": arn,
                    "url": getattr(p, "url", None),
                    "client_ids": list(getattr(p, "client_ids", ())),
                    "thumbprints": list(getattr(p, "thumbprints", ())),
                    "gap": p.message if isinstance(p, Gap) else None,
                }
            )
        roles = []
        for name in sorted(self.role_names()):
            r = self.role(name)
            roles.append(
                {
                    "role_name": name,
                    "arn": getattr(r, "arn", None),
                    "attached_policies": list(r.attached)
                    if isinstance(r, Role) and not isinstance(r.attached, Gap)
                    else None,
                    "inline_policies": list(r.inline)
                    if isinstance(r, Role) and not isinstance(r.inline, Gap)
                    else None,
                    "gap": r.message if isinstance(r, Gap) else None,
                }
            )
        sas = [
            {
                "namespace": s.namespace,
                "service_account": s.name,
                "role_arn": s.role_arn,
                "audience": s.audience,
                "annotations": s.annotations,
            }
            for s in (
                self.service_accounts.values() if not isinstance(self.service_accounts, Gap) else ()
            )
        ]
        pods, containers = [], []
        for p in self.pods if not isinstance(self.pods, Gap) else ():
            pods.append(
                {
                    "namespace": p.namespace,
                    "pod": p.name,
                    "service_account": p.service_account,
                    "owner_kind": p.owner_kind,
                    "owner_name": p.owner_name,
                    "node": p.node_name,
                    "host_network": p.host_network,
                    "fs_group": p.fs_group,
                    "run_as_user": p.run_as_user,
                    "created": p.created,
                    "phase": p.phase,
                }
            )
            for c in p.all_containers:
                containers.append(
                    {
                        "namespace": p.namespace,
                        "pod": p.name,
                        "container": c.name,
                        "init": c.init,
                        "image": c.image,
                        "aws_role_arn": c.env_value("AWS_ROLE_ARN"),
                        "aws_web_identity_token_file": c.env_value("AWS_WEB_IDENTITY_TOKEN_FILE"),
                        "env_names": sorted(c.env),
                        "run_as_user": c.run_as_user,
                    }
                )
        sources = []
        for path in sorted(self.documents):
            g = self.gap(path)
            sources.append(
                {"path": path, "status": g.kind if g else "ok", "message": g.message if g else ""}
            )
        return {
            "cluster": pd.DataFrame(cl),
            "oidc_providers": pd.DataFrame(
                provs, columns=["arn", "url", "client_ids", "thumbprints", "gap"]
            ),
            "roles": pd.DataFrame(
                roles, columns=["role_name", "arn", "attached_policies", "inline_policies", "gap"]
            ),
            "service_accounts": pd.DataFrame(
                sas, columns=["namespace", "service_account", "role_arn", "audience", "annotations"]
            ),
            "pods": pd.DataFrame(
                pods,
                columns=[
                    "namespace",
                    "pod",
                    "service_account",
                    "owner_kind",
                    "owner_name",
                    "node",
                    "host_network",
                    "fs_group",
                    "run_as_user",
                    "created",
                    "phase",
                ],
            ),
            "containers": pd.DataFrame(
                containers,
                columns=[
                    "namespace",
                    "pod",
                    "container",
                    "init",
                    "image",
                    "aws_role_arn",
                    "aws_web_identity_token_file",
                    "env_names",
                    "run_as_user",
                ],
            ),
            "sources": pd.DataFrame(sources, columns=["path", "status", "message"]),
        }

    def role_names(self) -> set[str]:
        """Names of roles present in the documents (collected or failed); of a bulk
        ``get-account-authorization-details`` (which may hold every role of the account),
        the roles a service account annotation or a pod's ``AWS_ROLE_ARN`` names."""
        names = set()
        for path in self.documents:
            m = re.match(r"^aws/iam/get-role/(.+)\.json$", path)
            if m:
                names.add(m.group(1))
        details = self.role_details()
        if not details or isinstance(details, Gap):
            return names
        arns = {sa.role_arn for sa in _values(self.service_accounts)}
        arns |= {c.env_value("AWS_ROLE_ARN") for p in _values(self.pods) for c in p.all_containers}
        for arn in arns:
            if arn and is_valid_role_arn(arn) and arn_role_name(arn) in details:
                names.add(arn_role_name(arn))
        return names


# --- building ------------------------------------------------------------------------------


def _role_details(inv: Inventory) -> dict[str, Any] | Gap:
    """RoleDetailList by RoleName from the merged output, a list of pages, or page files."""
    path = bundle.AUTHORIZATION_DETAILS
    docs = inv.documents
    page_paths = sorted(
        (p for p in docs if p.startswith(bundle.AUTHORIZATION_DETAILS_PAGES)), key=_natural
    )
    if path not in docs and not page_paths:
        return {}
    pages: list[Any] = []
    for p in ([path] if path in docs else []) + page_paths:
        gap = inv.gap(p)
        if gap:
            return gap
        doc = docs[p]
        pages += doc if isinstance(doc, list) else [doc]
    out: dict[str, Any] = {}
    for page in pages:
        roles = page.get("RoleDetailList") if isinstance(page, dict) else None
        if not isinstance(roles, list):
            what = "`aws iam get-account-authorization-details` output (no RoleDetailList)"
            return Gap(path, "invalid", f"{path} is not {what}", "")
        for r in roles:
            if isinstance(r, dict) and isinstance(r.get("RoleName"), str):
                out.setdefault(r["RoleName"], r)
    return out


def _values(records: Any) -> Any:
    """The records of a dict or tuple of them; none for a Gap."""
    if isinstance(records, dict):
        return records.values()
    return records if isinstance(records, tuple) else ()


def _natural(path: str) -> list[Any]:
    """Sort key: page-2 before page-10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def _arn_and_trust(r: Any, path: str, what: str) -> tuple[str, Any] | Gap:
    """A role object's ARN (checked to be an IAM role's) and trust policy (URL-decoded when
    it is a string), or an ``invalid`` gap of ``path`` saying ``what``."""
    try:
        arn, trust = r["Arn"], r.get("AssumeRolePolicyDocument")
        parsed = parse_arn(arn)
        if parsed.service != "iam" or not parsed.resource.startswith("role/"):
            raise ArnError(f"{arn!r} is not an IAM role ARN")
    except (KeyError, TypeError, AttributeError, ArnError) as exc:
        why = f" ({exc})" if isinstance(exc, ArnError) else ""
        return Gap(path, "invalid", f"{what}{why}", "")
    return arn, urllib.parse.unquote(trust) if isinstance(trust, str) else trust


def _role_from_detail(name: str, r: Mapping[str, Any]) -> Role | Gap:
    """A :class:`Role` from one RoleDetailList entry (what get-role and the two policy lists
    say, in one object; it has no MaxSessionDuration)."""
    path = bundle.AUTHORIZATION_DETAILS
    what = f"{path} is not `aws iam get-account-authorization-details` output"
    read = _arn_and_trust(r, path, what)
    if isinstance(read, Gap):
        return read
    arn, trust = read

    def names(key: str, field_: str) -> tuple[str, ...] | Gap:
        try:
            return tuple(str(i[field_]) for i in r[key])
        except (KeyError, TypeError):
            return Gap(path, "invalid", f"{what} (role {name}: {key})", "")

    attached = names("AttachedManagedPolicies", "PolicyArn")
    return Role(name, arn, trust, attached, names("RolePolicyList", "PolicyName"))


def build_inventory(documents: Mapping[str, Document], source: str = "") -> Inventory:
    """Build an :class:`Inventory` from bundle documents (see :mod:`irsa_nb.bundle`)."""
    with full_gc_deferred():
        return _build_inventory(dict(documents), source)


def _build_inventory(docs: dict[str, Document], source: str) -> Inventory:
    probe = Inventory(source, docs, Gap("", "absent", "", ""), (), {}, (), "")
    cluster = _cluster(probe)
    probe.cluster = cluster
    version = _server_version(docs.get(bundle.VERSION)) or (
        _major_minor(cluster.version) if isinstance(cluster, Cluster) else ""
    )
    ns_errors = {}
    for path in sorted(docs):  # the same message whatever order the documents came in
        m = re.match(r"^k8s/namespaces/([^/]+)/(serviceaccounts|pods)\.json$", path)
        if m and isinstance(docs[path], CallFailed):
            ns_errors.setdefault(m.group(1), docs[path].message)
    return Inventory(
        source=source,
        documents=docs,
        cluster=cluster,
        provider_arns=_provider_arns(probe),
        service_accounts=_k8s_list(probe, bundle.SERVICE_ACCOUNTS, ServiceAccount.from_k8s, True),
        pods=_k8s_list(probe, bundle.PODS, partial(Pod.from_k8s, built={}), False),
        kubernetes_version=version,
        namespace_errors=ns_errors,
        exec_facts=exec_facts_from_documents(docs),
    )


def load_bundle(path: str | Path) -> Inventory:
    """Load an evidence bundle (directory, ``.tar.gz`` or ``.zip``), or a demo bundle.

    Equal parts of the pod and service-account lists in ``inv.documents`` are one shared
    object, as in a live collection: copy a document before changing it.

    Parameters
    ----------
    path
        Bundle location, or ``"demo"`` / ``"demo:NAME"`` for a bundle shipped with irsa-nb.

    Examples
    --------
    >>> import irsa_nb
    >>> inv = irsa_nb.load_bundle("demo")
    >>> inv.cluster.name
    'shop-prod'
    """
    from .demo import demo_bundle, is_demo_name

    real = demo_bundle(str(path)) if is_demo_name(str(path)) else Path(path)
    with full_gc_deferred():
        return build_inventory(bundle.read_documents(real), source=str(path))


def _cluster(inv: Inventory) -> Cluster | Gap:
    path = bundle.DESCRIBE_CLUSTER
    gap = inv.gap(path)
    if gap:
        return gap
    try:
        c = inv.documents[path]["cluster"]
        arn = parse_arn(c["arn"])
        if arn.service != "eks" or not arn.region or len(arn.account) != 12:
            raise ArnError(f"{c['arn']!r} is not an EKS cluster ARN")
        issuer = c.get("identity", {}).get("oidc", {}).get("issuer", "") or ""
        if issuer and not (isinstance(issuer, str) and issuer.lower().startswith("https://")):
            raise ValueError(f"the OIDC issuer {issuer!r} is not an https:// URL")
        if issuer:
            issuer_host_path(issuer)  # ValueError when it has no host
        vpc = c.get("resourcesVpcConfig") or {}
        return Cluster(
            name=str(c["name"]),
            arn=str(arn),
            region=arn.region,
            account=arn.account,
            partition=arn.partition or partition_for_region(arn.region),
            version=str(c.get("version", "")),
            issuer=str(issuer),
            endpoint=str(c.get("endpoint", "")),
            platform_version=str(c.get("platformVersion", "")),
            endpoint_public_access=vpc.get("endpointPublicAccess"),
            endpoint_private_access=vpc.get("endpointPrivateAccess"),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # ArnError included
        return Gap(path, "invalid", f"{path} is not `aws eks describe-cluster` output ({exc})", "")


def _provider_arns(inv: Inventory) -> tuple[str, ...] | Gap:
    path = bundle.LIST_PROVIDERS
    gap = inv.gap(path)
    if gap:
        return gap
    try:
        return tuple(str(p["Arn"]) for p in inv.documents[path]["OpenIDConnectProviderList"])
    except (KeyError, TypeError):
        return Gap(
            path, "invalid", f"{path} is not `aws iam list-open-id-connect-providers` output", ""
        )


def _k8s_list(inv: Inventory, path: str, parse, keyed: bool):
    gap = inv.gap(path)
    if gap:
        return gap
    try:
        objs = [parse(o) for o in items_of(inv.documents[path])]
    except (ValueError, TypeError, AttributeError) as exc:
        return Gap(path, "invalid", f"{path}: {exc}", "")
    if keyed:
        return {(o.namespace, o.name): o for o in objs}
    return tuple(objs)


def _server_version(doc: Any) -> str:
    sv = doc.get("serverVersion") if isinstance(doc, dict) else None
    if not isinstance(sv, dict):
        return ""
    major = re.sub(r"\D", "", str(sv.get("major", "")))[:4]
    minor = re.sub(r"\D", "", str(sv.get("minor", "")))[:4]
    if major and minor:
        return f"{int(major)}.{int(minor)}"
    return _major_minor(str(sv.get("gitVersion", "")))


def _major_minor(version: str) -> str:
    """``"v1.29.4-eks-036c24b"`` / ``"1.29"`` → ``"1.29"``; ``""`` when unreadable."""
    m = re.match(r"^\s*v?(\d{1,4})\.(\d{1,4})", version)
    return f"{int(m.group(1))}.{int(m.group(2))}" if m else ""


def sha1_thumbprint(der: bytes) -> str:
    """IAM's thumbprint of a certificate: lower-case hex SHA-1 of its DER bytes."""
    return hashlib.sha1(der).hexdigest()


def _webhook_configuration(item: Mapping[str, Any]) -> WebhookConfiguration:
    name = str(_d(item.get("metadata")).get("name", ""))
    return WebhookConfiguration(
        name,
        tuple(
            MutatingWebhook(
                configuration=name,
                name=str(hook.get("name")),
                rules=hook.get("rules"),
                failure_policy=hook.get("failurePolicy"),
                ca_bundle_set=bool(_d(hook.get("clientConfig")).get("caBundle")),
                object_selector=hook.get("objectSelector"),
                namespace_selector=hook.get("namespaceSelector"),
            )
            for hook in _l(item.get("webhooks"))
        ),
    )


def pod_shape_gap(pod: Pod) -> Gap | None:
    """The Gap of a pod whose document has fields of the wrong type
    (:attr:`~irsa_nb.k8s.Pod.shape_errors`), naming them; None for a well-formed pod."""
    if not pod.shape_errors:
        return None
    path = bundle.PODS
    return Gap(path, "invalid", "; ".join(pod.shape_errors), bundle.command_for(path))


def pods_by_service_account(pods) -> dict[tuple[str, str], list[Pod]]:
    """Index pods by (namespace, service account)."""
    out: dict[tuple[str, str], list[Pod]] = defaultdict(list)
    for p in pods:
        out[(p.namespace, p.service_account)].append(p)
    return out
