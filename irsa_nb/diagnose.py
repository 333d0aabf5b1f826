"""Diagnose an error message: what it means for IRSA, what to check and how to fix it.

The patterns, causes and fixes live in one catalogue, ``irsa_nb/text/diagnoses.yaml``
(E1-E21, listed in docs/reference/errors.md, plus the AWS article's examples), read by
:mod:`irsa_nb.error_catalogue` (normalising the message, pulling out the issuer, role,
account, region and service account it names, ranking the causes). This module returns the
likely causes as a table, best first: with an inventory it runs the checks named by each
cause for the service account the message names and marks the causes the checks confirm.
It sits above the checks (it runs them); no check imports it.

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
import shutil
import textwrap
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .checks import REGISTRY, run_checks
from .error_catalogue import (
    catalogue,
    causes,
    confirmed_by,
    extract_fields,
    normalise,
    params_for,
    read,
)
from .inventory import Cluster, Inventory

__all__ = [
    "DIAGNOSIS_COLUMNS",
    "catalogue",
    "diagnose",
    "extract_fields",
    "format_table",
    "normalise",
    "render_html",
]

log = logging.getLogger(__name__)

DIAGNOSIS_COLUMNS = ["rank", "error", "cause", "check_ids", "fix", "confirmed"]


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
    ids = [c for c in dict.fromkeys(check_ids) if c in REGISTRY]
    ns = namespace or fields.get("namespace")
    sa = service_account or fields.get("service_account")
    targets: list[tuple[str | None, str | None]] = [(ns, sa)]
    node = fields.get("principal_kind") == "node"
    if sa is None and pod is None and fields.get("role") and not node:
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
    return confirmed_by(set(results.loc[results["check_id"].isin(checks), "status"]))


# --- the public function -------------------------------------------------------------------


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
        The error as the application printed it (botocore, Go, Java, JavaScript, .NET,
        Ruby, PHP or Rust SDK, Kubernetes, Terraform; several lines or one, literal ``\\n``
        sequences are fine).
    inventory
        Optional: with one, the checks named by the causes run (for the namespace and
        service account given here or named in the message, e.g. by
        ``system:serviceaccount:ns:sa`` or a role ARN that one service account is annotated
        with) and ``confirmed`` says which cause they confirm.
    namespace, service_account, pod, sdk, lang
        Narrow the checks as for :func:`irsa_nb.run_checks`; ``lang="zh"`` gives the causes
        that have Chinese texts in Chinese.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIAGNOSIS_COLUMNS` (``rank, error, cause, check_ids, fix,
        confirmed``), best cause first. ``check_ids`` is a list of check ids (most telling
        first); ``confirmed`` is True (a check FAILs), False (the checks ran and passed) or
        None (no inventory, or the checks could not decide). Text that is not a known
        error gives one "not recognised" row saying what to paste. ``df.attrs`` holds
        ``text`` (the normalised, secret-masked message), ``fields`` (what was extracted),
        ``recognised`` (bool), ``evidence`` (what the message shows about partition and
        endpoint), ``cause_ids`` and ``confidence`` (per row: ``ENTRY/key``, and "normal"
        or "low"), ``targets`` and ``results`` (the check rows, or None).

    Raises
    ------
    ValueError
        When ``text`` is empty (or for an unknown SDK, check or language).
    irsa_nb.TargetNotFound
        When ``pod`` is not in the inventory.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no error message given: paste the error text the application printed")
    reading = read(text)
    fields = reading.fields
    cluster = inventory.cluster if inventory is not None else None
    params = params_for(fields, cluster, namespace, service_account)

    results: pd.DataFrame | None = None
    targets: list[str] = []
    if inventory is not None and reading.recognised:
        results, targets = _run(
            inventory, reading.check_ids, fields, namespace, service_account, pod, sdk, lang
        )
    confirm = None if results is None else (lambda ids: _confirmed(results, ids))
    rows = causes(reading, params, known=_Registered(), confirm=confirm, lang=lang)
    trail_note = _confirm_from_cloudtrail(rows, inventory, results, fields.get("code"))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    df = pd.DataFrame(rows, columns=DIAGNOSIS_COLUMNS)
    df["confirmed"] = pd.Series([r["confirmed"] for r in rows], dtype=object, index=df.index)
    df.attrs.update(
        text=reading.text,
        fields=fields,
        recognised=reading.recognised,
        evidence=sorted(reading.evidence),
        cause_ids=[r["cause_id"] for r in rows],
        confidence=[r["confidence"] for r in rows],
        targets=targets,
        results=results,
        notes=_notes(inventory, fields) + trail_note,
    )
    return df


def _confirm_from_cloudtrail(
    rows: list[dict[str, Any]],
    inventory: Inventory | None,
    results: pd.DataFrame | None,
    code: str | None,
) -> list[str]:
    """The seam to CloudTrail's record (``--cloudtrail``): when it shows STS returning the
    message's error ``code`` to a checked service account's role, the best cause not ruled out
    is confirmed (unless a check confirmed one already). Returns the note saying so."""
    if inventory is None or results is None or not code or not len(results):
        return []
    seen: list[tuple[str, int, str]] = []
    pairs = results[["namespace", "service_account"]].drop_duplicates().itertuples(index=False)
    for ns, name in pairs:
        sa = inventory.service_account(ns, name) if ns and name else None
        calls = inventory.web_identity_calls(sa.role_arn) if sa and sa.role_arn else None
        if isinstance(calls, tuple):
            hits = [c for c in calls if c.error_code == code]
            if hits:
                seen.append((f"{ns}/{name}", len(hits), hits[0].time))
    if not seen:
        return []
    if not any(r["confirmed"] is True for r in rows):
        best = next((r for r in rows if r["confirmed"] is not False and r["check_ids"]), None)
        if best is not None:
            best["confirmed"] = True
            rows.sort(key=lambda r: r is not best)  # the confirmed cause ranks first
    where = ", ".join(f"{t} ({n}x, last {when})" for t, n, when in seen)
    return [f"CloudTrail shows STS returning {code} to {where}."]


class _Registered:
    """The registered check ids, as a container that logs the unknown ones it is asked for."""

    def __contains__(self, check_id: object) -> bool:
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
