"""The error catalogue: what an error message means for IRSA, as pure data and text.

The patterns, causes and fixes live in ``irsa_nb/text/diagnoses.yaml`` (E1-E21 of the
reference's error table plus the AWS article's examples). This module normalises a message
(botocore, Go, Java and JavaScript wordings; literal ``\\n``), pulls out the issuer, role,
account, region and service account it names, recognises the catalogue's errors and ranks
their causes.

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
    "Reading",
    "catalogue",
    "causes",
    "confirmed_by",
    "extract_fields",
    "normalise",
    "params_for",
    "read",
]

#: Statuses that say a check ran and found nothing wrong.
_RAN = ("PASS", "INFO")


@dataclass(frozen=True)
class _Cause:
    text: str
    checks: tuple[str, ...]
    fix: str


@dataclass(frozen=True)
class _Entry:
    id: str
    title: str
    patterns: tuple[re.Pattern[str], ...]
    causes: tuple[_Cause, ...]
    fallback: bool


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
    flags = re.IGNORECASE
    entries = tuple(
        _Entry(
            str(e["id"]),
            str(e["title"]),
            tuple(re.compile(p, flags) for p in e["patterns"]),
            tuple(
                _Cause(str(c["cause"]), tuple(c.get("checks") or ()), str(c["fix"]).rstrip())
                for c in e["causes"]
            ),
            bool(e.get("fallback", False)),
        )
        for e in raw["errors"]
    )
    return _Catalogue(
        defaults={k: str(v) for k, v in raw["defaults"].items()},
        fields={k: re.compile(v) for k, v in raw["fields"].items()},
        forms=tuple((f["name"], re.compile(f["pattern"])) for f in raw["forms"]),
        unrecognised={k: str(v).rstrip() for k, v in raw["unrecognised"].items()},
        entries=entries,
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
            account=m.group("account"),
            role=m.group("role"),
            session=m.group("session"),
        )
        out["role_arn"] = f"arn:{m.group('partition')}:iam::{m.group('account')}:role/{m['role']}"
    elif m := f["user_arn"].search(flat):
        out.update(principal=m.group(0), partition=m["partition"], account=m["account"])
    if m := f["role_arn"].search(flat):
        arn = m.group(0)
        out["role_arn"] = arn
        parts = arn.split(":")
        out.update(partition=parts[1], account=parts[4], role=arn.rsplit("/", 1)[-1])
    if m := f["subject"].search(flat):
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


def _matches(flat: str) -> list[_Entry]:
    """Recognised entries in order of first appearance; fallbacks only when nothing else."""
    found: list[tuple[int, int, _Entry]] = []
    for order, entry in enumerate(catalogue().entries):
        positions = [m.start() for p in entry.patterns if (m := p.search(flat))]
        if positions:
            found.append((min(positions), order, entry))
    specific = [f for f in found if not f[2].fallback]
    chosen = specific or [f for f in found if f[2].fallback][:1]
    return [e for _, _, e in sorted(chosen, key=lambda f: (f[0], f[1]))]


@dataclass(frozen=True)
class Reading:
    """An error message as read: normalised and secret-masked, its names, its errors."""

    text: str
    fields: dict[str, str]
    entries: tuple[_Entry, ...]

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
    return Reading(flat, extract_fields(flat), tuple(_matches(flat)))


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
) -> list[dict[str, Any]]:
    """The causes of the errors read, best first within each error.

    ``known`` keeps only these check ids (the registered checks); ``confirm`` says what the
    named checks show for a cause (see :func:`confirmed_by`), and ranks confirmed causes
    first and ruled-out ones last. Without ``confirm`` every cause is undecided. Text that
    is not a known error gives one "not recognised" row. Each row has ``error, cause,
    check_ids, fix, confirmed``.
    """
    rows: list[dict[str, Any]] = []
    for entry in reading.entries:
        scored = []
        for order, cause in enumerate(entry.causes):
            ids = [c for c in cause.checks if known is None or c in known]
            confirmed = confirm(tuple(ids)) if confirm is not None else None
            weight = {True: 0, None: 1, False: 2}[confirmed]
            scored.append((weight, order, cause, ids, confirmed))
        for _, _, cause, ids, confirmed in sorted(scored, key=lambda s: (s[0], s[1])):
            rows.append(
                {
                    "error": f"{entry.id} {entry.title}",
                    "cause": _render(cause.text, params),
                    "check_ids": ids,
                    "fix": _render(cause.fix, params),
                    "confirmed": confirmed,
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
            }
        )
    return rows
