"""Diagnose an error message: what it means for IRSA, what to check and how to fix it.

The patterns, causes and fixes live in one catalogue, ``irsa_nb/text/diagnoses.yaml``
(E1-E21 of the reference's error table plus the AWS article's examples). This module
normalises the message (botocore, Go, Java and JavaScript wordings; literal ``\\n``),
pulls out the issuer, role, account, region and service account it names, and returns
the likely causes, best first. With an inventory it runs the checks named by each cause
for the service account the message names and marks the causes the checks confirm.

Examples
--------
>>> import irsa_nb
>>> df = irsa_nb.diagnose("An error occurred (InvalidIdentityToken) when calling the "
...                       "AssumeRoleWithWebIdentity operation: Incorrect token audience")
>>> df.loc[0, "check_ids"]
['provider_audience_matches', 'trust_policy_allows_service_account']
>>> df = irsa_nb.diagnose(df.attrs["text"], irsa_nb.load_bundle("demo"), namespace="shop",
...                       service_account="analytics")
>>> bool(df.loc[0, "confirmed"])
True
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from .iam.arn import issuer_host_path
from .inventory import Cluster, Inventory
from .redact import mask_text

__all__ = [
    "DIAGNOSIS_COLUMNS",
    "diagnose",
    "extract_fields",
    "format_table",
    "normalise",
    "render_html",
]

log = logging.getLogger(__name__)

DIAGNOSIS_COLUMNS = ["rank", "error", "cause", "check_ids", "fix", "confirmed"]
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


# --- checks --------------------------------------------------------------------------------


def _run(
    inventory: Inventory,
    check_ids: list[str],
    fields: Mapping[str, str],
    namespace: str | None,
    service_account: str | None,
    pod: str | None,
    sdk: Mapping[str, str] | None,
    lang: str,
) -> tuple[pd.DataFrame, list[str]]:
    """Run ``check_ids`` for the target the caller or the message names."""
    from .checks import REGISTRY, run_checks

    ids = [c for c in dict.fromkeys(check_ids) if c in REGISTRY]
    ns = namespace or fields.get("namespace")
    sa = service_account or fields.get("service_account")
    targets: list[tuple[str | None, str | None]] = [(ns, sa)]
    if sa is None and pod is None and fields.get("role") and fields.get("session", "")[:2] != "i-":
        annotated = _service_accounts_with_role(inventory, fields["role"], ns)
        if annotated:
            targets = annotated
    if targets == [(None, None)] and pod is None:
        # No service account named or found: only the cluster-wide checks may confirm a
        # cause; another service account's FAIL says nothing about this error.
        ids = [c for c in ids if REGISTRY[c].scope == "cluster"]
        shown = ["the cluster only (name -n/-s or -p to check a service account)"]
    else:
        shown = ["/".join(x for x in t if x) for t in targets]
    frames = [
        run_checks(inventory, t_ns, t_sa, pod, sdk, checks=ids, lang=lang) for t_ns, t_sa in targets
    ]
    if pod:
        shown = [f"pod {pod}"]
    return pd.concat(frames, ignore_index=True), shown


def _service_accounts_with_role(
    inventory: Inventory, role: str, namespace: str | None
) -> list[tuple[str | None, str | None]]:
    sas = inventory.service_accounts
    if not isinstance(sas, dict):
        return []
    return [
        (ns, name)
        for (ns, name), sa in sorted(sas.items())
        if sa.role_arn and sa.role_arn.rsplit("/", 1)[-1] == role and namespace in (None, ns)
    ]


def _confirmed(results: pd.DataFrame, checks: tuple[str, ...]) -> bool | None:
    """True: one of the checks FAILs; False: they ran and passed; None: undecided."""
    rows = results[results["check_id"].isin(checks)]
    statuses = set(rows["status"])
    if "FAIL" in statuses:
        return True
    ran = statuses - {"SKIP", "ERROR"}
    if ran and ran <= set(_RAN):
        return False
    return None


# --- the public function -------------------------------------------------------------------


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(template: str, params: Mapping[str, str]) -> str:
    return template.format_map(_Defaults(params)).strip()


def diagnose(
    text: str,
    inventory: Inventory | None = None,
    *,
    namespace: str | None = None,
    service_account: str | None = None,
    pod: str | None = None,
    sdk: Mapping[str, str] | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Explain an error message: likely causes, the checks that decide them, and the fix.

    Parameters
    ----------
    text
        The error as the application printed it (botocore, Go, Java or JavaScript SDK;
        several lines or one, literal ``\\n`` sequences are fine).
    inventory
        Optional: with one, the checks named by the causes run (for the namespace and
        service account given here or named in the message, e.g. by
        ``system:serviceaccount:ns:sa`` or a role ARN that one service account is annotated
        with) and ``confirmed`` says which cause they confirm.
    namespace, service_account, pod, sdk, lang
        Narrow the checks as for :func:`irsa_nb.run_checks`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIAGNOSIS_COLUMNS` (``rank, error, cause, check_ids, fix,
        confirmed``), best cause first. ``check_ids`` is a list of check ids (most telling
        first); ``confirmed`` is True (a check FAILs), False (the checks ran and passed) or
        None (no inventory, or the checks could not decide). Text that is not a known
        error gives one "not recognised" row saying what to paste. ``df.attrs`` holds
        ``text`` (the normalised, secret-masked message), ``fields`` (what was extracted),
        ``recognised`` (bool), ``targets`` and ``results`` (the check rows, or None).

    Raises
    ------
    ValueError
        When ``text`` is empty (or for an unknown SDK, check or language).
    irsa_nb.TargetNotFound
        When ``pod`` is not in the inventory.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no error message given: paste the error text the application printed")
    flat, _ = mask_text(normalise(text))
    fields = extract_fields(flat)
    entries = _matches(flat)
    cat = catalogue()
    params = dict(cat.defaults)
    if inventory is not None and isinstance(inventory.cluster, Cluster):
        cl = inventory.cluster
        params.update(cluster=cl.name, region=cl.region, account=cl.account, partition=cl.partition)
        if cl.issuer:
            params.update(issuer=cl.issuer, issuer_id=cl.issuer.rstrip("/").rsplit("/", 1)[-1])
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

    results: pd.DataFrame | None = None
    targets: list[str] = []
    if inventory is not None and entries:
        ids = [c for e in entries for cause in e.causes for c in cause.checks]
        results, targets = _run(inventory, ids, fields, namespace, service_account, pod, sdk, lang)

    rows: list[dict[str, Any]] = []
    for entry in entries:
        scored = []
        for order, cause in enumerate(entry.causes):
            ids = [c for c in cause.checks if _registered(c)]
            confirmed = _confirmed(results, tuple(ids)) if results is not None else None
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
    if not entries:
        rows.append(
            {
                "error": cat.unrecognised["error"],
                "cause": cat.unrecognised["cause"],
                "check_ids": [],
                "fix": _render(cat.unrecognised["fix"], params),
                "confirmed": None,
            }
        )
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    df = pd.DataFrame(rows, columns=DIAGNOSIS_COLUMNS)
    df["confirmed"] = pd.Series([r["confirmed"] for r in rows], dtype=object, index=df.index)
    df.attrs.update(
        text=flat,
        fields=fields,
        recognised=bool(entries),
        targets=targets,
        results=results,
        notes=_notes(inventory, fields),
    )
    return df


def _registered(check_id: str) -> bool:
    from .checks import REGISTRY

    if check_id not in REGISTRY:
        log.debug("diagnoses.yaml names unknown check %s", check_id)
        return False
    return True


def _notes(inventory: Inventory | None, fields: Mapping[str, str]) -> list[str]:
    """Facts worth saying next to the causes (e.g. the message names another issuer)."""
    notes = []
    if inventory is not None and isinstance(inventory.cluster, Cluster) and fields.get("issuer"):
        mine = inventory.cluster.issuer.rstrip("/")
        if mine and fields["issuer"].rstrip("/") != mine:
            notes.append(
                f"The message names issuer {fields['issuer']}, but cluster "
                f"{inventory.cluster.name} has {mine}: the pod ran in another cluster, or the "
                "cluster was recreated and trust policies still name the old issuer."
            )
    return notes


# --- rendering -----------------------------------------------------------------------------


def _mark(confirmed: Any) -> str:
    return {True: "CONFIRMED", False: "ruled out"}.get(confirmed, "unverified")


def format_table(df: pd.DataFrame, width: int | None = None) -> str:
    """Terminal rendering: the recognised error(s), what was extracted, then each cause
    with its checks and fix."""
    width = width or shutil.get_terminal_size((100, 20)).columns
    wrap = max(width - 2, 40)
    fields = df.attrs.get("fields") or {}
    lines: list[str] = []
    shown = {k: v for k, v in fields.items() if k not in ("sub", "issuer_id")}
    head = []
    if shown:
        head.append("Extracted: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    if df.attrs.get("targets"):
        head.append("Checked: " + ", ".join(df.attrs["targets"]))
    head += [f"Note: {n}" for n in df.attrs.get("notes") or ()]
    for item in head:
        lines += textwrap.wrap(item, wrap, subsequent_indent="  ", break_on_hyphens=False)
    error = None
    checked = df.attrs.get("results") is not None
    for r in df.itertuples():
        if r.error != error:
            error = r.error
            lines += ["", r.error]
        mark = f" [{_mark(r.confirmed)}]" if checked else ""
        lines.append(
            textwrap.fill(
                r.cause, wrap, initial_indent=f"  {r.rank}.{mark} ", subsequent_indent="     "
            )
        )
        if r.check_ids:
            lines.append("     checks: " + ", ".join(r.check_ids))
        lines.append("     fix:")
        lines += ["       " + ln for ln in r.fix.splitlines()]
    return "\n".join(lines).lstrip("\n")


def render_html(df: pd.DataFrame) -> str:
    """A small self-contained HTML table of a diagnosis (every value escaped).

    For notebooks: ``IPython.display.HTML(render_html(diagnose(error_message, inv)))``.
    """
    e = html.escape
    fields = df.attrs.get("fields") or {}
    parts = ['<div class="irsa-nb-diagnosis">']
    if fields:
        items = "".join(
            f"<li><b>{e(k)}</b>: <code>{e(str(v))}</code></li>" for k, v in fields.items()
        )
        parts.append(f"<p>Extracted from the message:</p><ul>{items}</ul>")
    for note in df.attrs.get("notes") or ():
        parts.append(f"<p><b>Note:</b> {e(note)}</p>")
    checked = df.attrs.get("results") is not None
    head = "".join(
        f"<th>{e(c)}</th>" for c in ("#", "error", "cause", "checks", "fix", "confirmed")
    )
    parts.append(f'<table class="irsa-nb-diagnosis"><thead><tr>{head}</tr></thead><tbody>')
    colours = {True: "#f8d7da", False: "#e2e3e5"}
    for r in df.itertuples():
        style = f' style="background:{colours[r.confirmed]}"' if r.confirmed in colours else ""
        confirmed = _mark(r.confirmed) if checked else ""
        parts.append(
            f"<tr{style}><td>{r.rank}</td><td>{e(r.error)}</td><td>{e(r.cause)}</td>"
            f"<td>{e(', '.join(r.check_ids))}</td><td><pre>{e(r.fix)}</pre></td>"
            f"<td>{e(confirmed)}</td></tr>"
        )
    parts.append("</tbody></table></div>")
    return "".join(parts)
