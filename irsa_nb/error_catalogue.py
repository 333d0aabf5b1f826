"""The error catalogue: what an error message means for IRSA, as pure data and text.

The patterns, causes and fixes live in ``irsa_nb/text/diagnoses.yaml`` (E1-E21 of the
reference's error table, the AWS article's examples, and the SDKs' own error strings). This
module normalises a message (botocore, Go, Java, JavaScript, .NET, Ruby, PHP and Rust
wordings; literal ``\\n``), pulls out the issuer, role, account, region, service account and
kind of principal it names, recognises the catalogue's errors and ranks them and their
causes by the rule the catalogue's header states: entries by specificity, then position in
the text; causes by what the checks confirm, then by the evidence in the message (a China
region, another partition, the global endpoint), then catalogue order.

Model layer: it runs no check. Which causes the checks confirm is given to :func:`causes`
as a function, by :func:`irsa_nb.diagnose.diagnose` (from a run of the checks) or by the
STS probe's check (from the statuses the runner hands it through its context).

Examples
--------
>>> reading = read("An error occurred (InvalidIdentityToken) when calling the "
...                "AssumeRoleWithWebIdentity operation: Incorrect token audience")
>>> [r["check_ids"] for r in causes(reading, params_for(reading.fields))][0]
['provider_audience_matches', 'trust_policy_allows_service_account']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from .iam.arn import issuer_host_path
from .inventory import Cluster
from .redact import mask_text

__all__ = [
    "EVIDENCE",
    "PRINCIPALS",
    "SPECIFICITY",
    "Reading",
    "catalogue",
    "causes",
    "confirmed_by",
    "evidence",
    "extract_fields",
    "normalise",
    "params_for",
    "principal_kind",
    "read",
]

#: Statuses that say a check ran and found nothing wrong.
_RAN = ("PASS", "INFO")

#: Entry specificity levels (``specificity`` in the catalogue), most specific highest.
SPECIFICITY = {"cause": 3, "error": 2, "symptom": 1, "fallback": 0}

#: Evidence names a cause may be raised or lowered by (see :func:`evidence`).
EVIDENCE = frozenset({"china", "partition", "commercial", "global-endpoint", "regional-endpoint"})

#: Kinds of principal an entry may be limited to (see :func:`principal_kind`).
PRINCIPALS = frozenset({"node", "web-identity", "user", "role", "root"})


@dataclass(frozen=True)
class _Cause:
    key: str
    text: str
    checks: tuple[str, ...]
    fix: str
    raised_by: frozenset[str] = frozenset()
    lowered_by: frozenset[str] = frozenset()
    confidence: str = "normal"
    zh: tuple[str, str] | None = None  # (cause, fix)


@dataclass(frozen=True)
class _Entry:
    id: str
    title: str
    patterns: tuple[re.Pattern[str], ...]
    causes: tuple[_Cause, ...]
    specificity: int
    principals: frozenset[str] | None = None
    title_zh: str | None = None
    unless: frozenset[str] = frozenset()

    @property
    def fallback(self) -> bool:
        return self.specificity == SPECIFICITY["fallback"]


@dataclass(frozen=True)
class _Catalogue:
    defaults: dict[str, str]
    fields: dict[str, re.Pattern[str]]
    forms: tuple[tuple[str, re.Pattern[str]], ...]
    unrecognised: dict[str, str]
    entries: tuple[_Entry, ...]


@cache
def catalogue() -> _Catalogue:
    """The parsed error catalogue (``text/diagnoses.yaml``)."""
    raw = yaml.safe_load(
        resources.files("irsa_nb.text").joinpath("diagnoses.yaml").read_text(encoding="utf-8")
    )
    entries = tuple(_entry(e) for e in raw["errors"])
    ids = {e.id for e in entries}
    for e in entries:
        _names(e.unless, frozenset(ids), f"entry named by {e.id}'s unless:")
    return _Catalogue(
        defaults={k: str(v) for k, v in raw["defaults"].items()},
        fields={k: re.compile(v) for k, v in raw["fields"].items()},
        forms=tuple((f["name"], re.compile(f["pattern"])) for f in raw["forms"]),
        unrecognised={k: str(v).rstrip() for k, v in raw["unrecognised"].items()},
        entries=entries,
    )


def _names(raw: Any, allowed: frozenset[str], what: str) -> frozenset[str]:
    names = frozenset(str(x) for x in raw or ())
    if not names <= allowed:
        raise ValueError(f"diagnoses.yaml: unknown {what} {sorted(names - allowed)}")
    return names


def _cause(c: Mapping[str, Any]) -> _Cause:
    zh = c.get("zh")
    return _Cause(
        key=str(c["key"]),
        text=str(c["cause"]),
        checks=tuple(c.get("checks") or ()),
        fix=str(c["fix"]).rstrip(),
        raised_by=_names(c.get("raised_by"), EVIDENCE, "evidence"),
        lowered_by=_names(c.get("lowered_by"), EVIDENCE, "evidence"),
        confidence=str(c.get("confidence", "normal")),
        zh=(str(zh["cause"]), str(zh["fix"]).rstrip()) if zh else None,
    )


def _entry(e: Mapping[str, Any]) -> _Entry:
    principals = e.get("principals")
    return _Entry(
        id=str(e["id"]),
        title=str(e["title"]),
        patterns=tuple(re.compile(p, re.IGNORECASE) for p in e["patterns"]),
        causes=tuple(_cause(c) for c in e["causes"]),
        specificity=SPECIFICITY[str(e["specificity"])],
        principals=None if principals is None else _names(principals, PRINCIPALS, "principal"),
        title_zh=str(e["title_zh"]) if e.get("title_zh") else None,
        unless=frozenset(str(x) for x in e.get("unless") or ()),
    )


# --- reading the message ------------------------------------------------------------------


def normalise(text: str) -> str:
    """One line: escaped ``\\n``/``\\t`` expanded, every whitespace run collapsed to a space.

    >>> normalise("WebIdentityErr: failed\\\\ncaused by: X: y\\\\n\\\\tstatus code: 400")
    'WebIdentityErr: failed caused by: X: y status code: 400'
    """
    text = text.replace("\\n\\t", "\n\t").replace("\\r\\n", "\n").replace("\\n", "\n")
    return re.sub(r"\s+", " ", text).strip()


def extract_fields(flat: str) -> dict[str, str]:
    """Names in a normalised message: issuer, role_arn, role, account, region, partition,
    namespace, service_account, principal, session, action, endpoint, code, operation,
    status and ``printed_by`` (the SDK whose wording it is)."""
    cat = catalogue()
    f = cat.fields
    out: dict[str, str] = {}
    if m := f["issuer"].search(flat):
        out["issuer"] = m.group(0)
        out["issuer_id"] = m.group(0).rsplit("/", 1)[-1]
        if r := re.match(r"^oidc[.-]eks\.([a-z0-9-]+)\.", issuer_host_path(m.group(0))):
            out["region"] = r.group(1)
    if m := f["assumed_role"].search(flat):
        out.update(
            principal=m.group(0),
            partition=m.group("partition"),
            role=m.group("role"),
            session=m.group("session"),
        )
        if _ACCOUNT.fullmatch(m["account"]):
            out["account"] = m["account"]
            out["role_arn"] = f"arn:{m['partition']}:iam::{m['account']}:role/{m['role']}"
    elif m := f["user_arn"].search(flat):
        out.update(principal=m.group(0), partition=m["partition"])
        if _ACCOUNT.fullmatch(m["account"]):
            out["account"] = m["account"]
    if "principal" in out:
        out["principal_kind"] = principal_kind(out["principal"])
    if m := f["role_arn"].search(flat):
        arn = m.group(0)
        out["role_arn"] = arn
        parts = arn.split(":")
        out.update(partition=parts[1], account=parts[4], role=arn.rsplit("/", 1)[-1])
    if m := f["subject"].search(flat) or f["sa_lookup"].search(flat):
        out.update(namespace=m["namespace"], service_account=m["service_account"])
    if "account" not in out and (m := f["account"].search(flat)):
        out["account"] = m["account"]
    if m := f["endpoint"].search(flat):
        out["endpoint"] = m["endpoint"]
        if m["region"] and "region" not in out:
            out["region"] = m["region"]
    if "region" not in out and (m := f["region"].search(flat)):
        out["region"] = m["region"]
    if m := f["action"].search(flat):
        out["action"] = m["action"]
    if m := f["code"].search(flat):
        code = next((g for g in (m["code"], m["code2"], m["code3"], m["code4"]) if g), None)
        if code:
            out["code"] = code
        if m["operation"]:
            out["operation"] = m["operation"]
    if m := f["status"].search(flat):
        out["status"] = m["status"]
    if "namespace" in out:
        out["sub"] = f"system:serviceaccount:{out['namespace']}:{out['service_account']}"
    for name, pattern in cat.forms:
        if pattern.search(flat):
            out["printed_by"] = name
            break
    return out


_ACCOUNT = re.compile(r"\d{12}")
# An instance-profile session is the instance id; people redact it: i-0xxxx…, i-XXXX, i-***,
# i-<id>, i-[REDACTED], i-redacted, <instance-id>, INSTANCE_ID.
_INSTANCE_SESSION = re.compile(
    r"i-(?:[0-9a-fxX*.…#?]{3,20}|<[^<>\s]{1,30}>|\[[^\[\]\s]{1,30}\]|\{[^{}\s]{1,30}\}"
    r"|redacted|hidden|masked|removed|instance-?id)|<instance[-_ ]?id>|INSTANCE_ID",
    re.IGNORECASE,
)
# Session names the SDKs give a web identity session when AWS_ROLE_SESSION_NAME is unset:
# botocore "botocore-session-<s>" (botocore/credentials.py), Java "aws-sdk-java-<ms>",
# JavaScript v3 "aws-sdk-js-session-<ms>", Go "<UnixNano>" (stscreds), .NET a GUID
# (Amazon.Runtime.AssumeRoleWithWebIdentityCredentials).
_WEB_IDENTITY_SESSION = re.compile(
    r"botocore-session-\d+|aws-sdk-java-\d+|aws-sdk-js-session-\d+|\d{18,20}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    re.IGNORECASE,
)


def principal_kind(principal: str) -> str:
    """What kind of principal an ARN from a message is: ``node`` (an instance-profile
    session, its instance id redacted or not), ``web-identity`` (an SDK's web identity
    session name), ``role`` (any other role session), ``user`` or ``root``.

    >>> principal_kind("arn:aws:sts::123:assumed-role/NodeRole/i-0xxxx…")
    'node'
    >>> principal_kind("arn:aws:sts::111122223333:assumed-role/app/botocore-session-1700000000")
    'web-identity'
    """
    if ":assumed-role/" in principal:
        session = principal.rsplit("/", 1)[-1]
        if _INSTANCE_SESSION.fullmatch(session):
            return "node"
        if _WEB_IDENTITY_SESSION.fullmatch(session):
            return "web-identity"
        return "role"
    return "root" if principal.endswith(":root") else "user"


_CHINA = re.compile(r"arn:aws-cn:|\.amazonaws\.com\.cn\b|\bcn-(?:north|northwest)-\d\b")
_OTHER_PARTITION = re.compile(
    r"arn:aws-(?:us-gov|iso[a-z-]*):|\bus-gov-(?:east|west)-\d\b|\bus-iso"
)
# A China region in an aws-partition host name: a host that does not exist.
_MIXED = re.compile(r"\bsts[.-]cn-[a-z]+-\d\.amazonaws\.com(?!\.cn)")
_COMMERCIAL = re.compile(
    r"arn:aws:|\b(?:af|ap|ca|eu|il|me|mx|sa|us)-(?!gov-|iso)(?:[a-z]+-){1,2}\d\b"
)
_GLOBAL_ENDPOINT = re.compile(r"(?<![\w.-])sts\.amazonaws\.com(?!\.cn)\b")
_REGIONAL_ENDPOINT = re.compile(r"(?<![\w.-])sts[.-][a-z]{2}(?:-[a-z]+){1,2}-\d\.amazonaws\.com")


def evidence(flat: str) -> frozenset[str]:
    """What a normalised message shows about partition and endpoint.

    ``china``: a China region, ``arn:aws-cn:`` or an ``.amazonaws.com.cn`` host;
    ``partition``: any partition other than aws, or a China region in an aws host name;
    ``commercial``: only aws-partition regions or ARNs; ``global-endpoint``: the host
    sts.amazonaws.com; ``regional-endpoint``: a host sts.REGION.amazonaws.com[.cn].

    >>> sorted(evidence("Post https://sts.cn-north-1.amazonaws.com/: no such host"))
    ['china', 'partition', 'regional-endpoint']
    """
    found = set()
    if _CHINA.search(flat):
        found.add("china")
    if found or _OTHER_PARTITION.search(flat) or _MIXED.search(flat):
        found.add("partition")
    elif _COMMERCIAL.search(flat):
        found.add("commercial")
    if _GLOBAL_ENDPOINT.search(flat):
        found.add("global-endpoint")
    if _REGIONAL_ENDPOINT.search(flat):
        found.add("regional-endpoint")
    return frozenset(found)


def _matches(flat: str, fields: Mapping[str, str]) -> list[_Entry]:
    """Recognised entries, most specific first, then in order of first appearance;
    fallbacks only when nothing else matched (the rule in the catalogue's header)."""
    kind = fields.get("principal_kind")
    found: list[tuple[int, int, int, _Entry]] = []
    for order, entry in enumerate(catalogue().entries):
        if entry.principals is not None and kind not in entry.principals:
            continue
        positions = [m.start() for p in entry.patterns if (m := p.search(flat))]
        if positions:
            found.append((-entry.specificity, min(positions), order, entry))
    matched = {f[3].id for f in found}
    found = [f for f in found if not f[3].unless & matched]
    specific = [f for f in found if not f[3].fallback]
    chosen = specific or sorted(f for f in found if f[3].fallback)[:1]
    return [f[3] for f in sorted(chosen, key=lambda f: f[:3])]


@dataclass(frozen=True)
class Reading:
    """An error message as read: normalised and secret-masked, its names, its errors."""

    text: str
    fields: dict[str, str]
    entries: tuple[_Entry, ...]
    evidence: frozenset[str] = frozenset()

    @property
    def recognised(self) -> bool:
        return bool(self.entries)

    @property
    def check_ids(self) -> list[str]:
        """Every check named by a cause of a recognised error, once, in catalogue order."""
        named = (c for e in self.entries for cause in e.causes for c in cause.checks)
        return list(dict.fromkeys(named))


def read(text: str) -> Reading:
    """Normalise, mask and read ``text``: the names it holds and the errors it shows."""
    flat, _ = mask_text(normalise(text))
    fields = extract_fields(flat)
    return Reading(flat, fields, tuple(_matches(flat, fields)), evidence(flat))


# --- causes --------------------------------------------------------------------------------


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(template: str, params: Mapping[str, str]) -> str:
    return template.format_map(_Defaults(params)).strip()


def params_for(
    fields: Mapping[str, str],
    cluster: Any = None,
    namespace: str | None = None,
    service_account: str | None = None,
) -> dict[str, str]:
    """The names the causes and fixes are written with: the catalogue's placeholders, then
    the cluster's, then the message's, then the service account the caller names."""
    cat = catalogue()
    params = dict(cat.defaults)
    if isinstance(cluster, Cluster):
        params.update(
            cluster=cluster.name,
            region=cluster.region,
            account=cluster.account,
            partition=cluster.partition,
        )
        if cluster.issuer:
            params.update(
                issuer=cluster.issuer, issuer_id=cluster.issuer.rstrip("/").rsplit("/", 1)[-1]
            )
    params.update({k: v for k, v in fields.items() if v})
    for key, value in (("namespace", namespace), ("service_account", service_account)):
        if value:
            params[key] = value
    if namespace or service_account:
        params["sub"] = f"system:serviceaccount:{params['namespace']}:{params['service_account']}"
    if params["issuer"] != cat.defaults["issuer"] and params["account"].isdigit():
        host_path = issuer_host_path(params["issuer"])
        params["provider_arn"] = (
            f"arn:{params['partition']}:iam::{params['account']}:oidc-provider/{host_path}"
        )
    return params


def confirmed_by(statuses: set[str] | frozenset[str]) -> bool | None:
    """What the statuses of a cause's checks say: True, one FAILs; False, they ran and
    passed; None, undecided (skipped, failed to run, or not run)."""
    if "FAIL" in statuses:
        return True
    ran = statuses - {"SKIP", "ERROR"}
    if ran and ran <= set(_RAN):
        return False
    return None


def causes(
    reading: Reading,
    params: Mapping[str, str],
    *,
    known: Container[str] | None = None,
    confirm: Callable[[tuple[str, ...]], bool | None] | None = None,
    lang: str = "en",
) -> list[dict[str, Any]]:
    """The causes of the errors read, best first within each error.

    ``known`` keeps only these check ids (the registered checks); ``confirm`` says what the
    named checks show for a cause (see :func:`confirmed_by`), and ranks confirmed causes
    first and ruled-out ones last. Without ``confirm`` every cause is undecided. Between
    those, the evidence in the message raises or lowers a cause (``raised_by`` and
    ``lowered_by`` in the catalogue), then catalogue order decides. Text that is not a known
    error gives one "not recognised" row. Each row has ``error, cause, check_ids, fix,
    confirmed, cause_id, confidence``; with ``lang="zh"`` the texts that have a Chinese
    version are given in Chinese.
    """
    rows: list[dict[str, Any]] = []
    for entry in reading.entries:
        scored = []
        for order, cause in enumerate(entry.causes):
            ids = [c for c in cause.checks if known is None or c in known]
            confirmed = confirm(tuple(ids)) if confirm is not None else None
            weight = {True: 0, None: 1, False: 2}[confirmed]
            scored.append((weight, -_score(cause, reading.evidence), order, cause, ids, confirmed))
        title = entry.title_zh if lang == "zh" and entry.title_zh else entry.title
        for *_, cause, ids, confirmed in sorted(scored, key=lambda s: s[:3]):
            text, fix = cause.zh if lang == "zh" and cause.zh else (cause.text, cause.fix)
            rows.append(
                {
                    "error": f"{entry.id} {title}",
                    "cause": _render(text, params),
                    "check_ids": ids,
                    "fix": _render(fix, params),
                    "confirmed": confirmed,
                    "cause_id": f"{entry.id}/{cause.key}",
                    "confidence": cause.confidence,
                }
            )
    if not reading.entries:
        cat = catalogue()
        rows.append(
            {
                "error": cat.unrecognised["error"],
                "cause": cat.unrecognised["cause"],
                "check_ids": [],
                "fix": _render(cat.unrecognised["fix"], params),
                "confirmed": None,
                "cause_id": None,
                "confidence": "low",
            }
        )
    return rows


def _score(cause: _Cause, found: frozenset[str]) -> int:
    """+1 when the message shows evidence that raises the cause, -1 when it shows evidence
    that lowers it (both: 0)."""
    return int(bool(cause.raised_by & found)) - int(bool(cause.lowered_by & found))
