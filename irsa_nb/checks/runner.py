"""run_checks: choose targets, run the registered checks, return one DataFrame."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from functools import cache, partial
from operator import itemgetter
from typing import Any

import pandas as pd
import pyarrow as pa

from .. import text
from ..inventory import Cluster, Gap, Inventory, pods_by_service_account
from ..k8s import Pod
from ..sdks import normalize_sdk
from .helpers import shape_error
from .registry import (
    REGISTRY,
    RESULT_COLUMNS,
    STATUSES,
    Check,
    Context,
    Finding,
    Subject,
    from_gap,
)
from .templates import Templates, pod_templates, shared_pod_rows

log = logging.getLogger(__name__)


class TargetNotFound(ValueError):
    """The pod named as a target is not in the inventory."""


def run_checks(
    inventory: Inventory,
    namespace: str | None = None,
    service_account: str | None = None,
    pod: str | None = None,
    sdk: Mapping[str, str] | None = None,
    *,
    checks: Iterable[str] | None = None,
    lang: str = "en",
    per_pod: bool = False,
) -> pd.DataFrame:
    """Run the IRSA checks and return one row per finding.

    Parameters
    ----------
    inventory
        From :func:`irsa_nb.load_bundle` or :func:`irsa_nb.collect`.
    namespace, service_account, pod
        The target. With none, every service account carrying ``eks.amazonaws.com/role-arn``
        and every pod using one (or carrying IRSA env, or naming a missing service account)
        is checked. A namespace alone checks its annotated service accounts and all its pods.
    sdk
        The application's SDK versions, e.g. ``{"boto3": "1.9.100"}``; keys are
        case-insensitive (``boto3, botocore, awscli, java, java2, go, go2, node, ruby, cpp,
        dotnet, php`` and aliases such as ``python``, ``js``, ``.net``).
    checks
        Only these check ids (default: all registered).
    lang
        ``"en"`` or ``"zh"`` for titles, details and remediation.
    per_pod
        Evaluate the pod-scope checks on every pod. By default replicas that differ only in
        their name, creation time, node and generated token volume, with no in-pod evidence,
        are evaluated once and each gets the rows with its own values: the same result,
        faster.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`; statuses in :data:`STATUSES`. Empty results keep
        the columns.

    Raises
    ------
    TargetNotFound
        When ``pod`` is not in the inventory, or a ``namespace`` given alone has no service
        accounts or pods in it.
    ValueError
        For an unknown SDK name, unreadable SDK version, unknown check id or language.

    Examples
    --------
    >>> import irsa_nb
    >>> df = irsa_nb.run_checks(irsa_nb.load_bundle("demo"), "shop", "cart")
    >>> df.loc[df.status == "FAIL", "check_id"].tolist()
    ['trust_policy_allows_service_account']
    """
    text.catalogue(lang)
    selected = _select_checks(checks)
    ctx = Context(
        inventory,
        sdk=normalize_sdk(sdk),
        pod_requested=pod is not None,
        namespace_scope=namespace is not None and service_account is None and pod is None,
    )
    ctx.targets = _targets(inventory, namespace, service_account, pod)
    ctx.statuses_for = partial(_statuses_for, inventory, ctx.sdk)
    base = _base_params(inventory)
    # A list that could not be read leaves nothing to iterate: say so once.
    rows: list[tuple] = []
    gaps = [("pod_uses_service_account", inventory.pods, "the pod list")]
    if not ctx.targets:
        gaps.append(("service_account_exists", inventory.service_accounts, "the service accounts"))
    for check_id, listing, what in gaps:
        if isinstance(listing, Gap) and REGISTRY[check_id] in selected:
            rows.append(_row(REGISTRY[check_id], from_gap(listing, what), None, None, base, lang))
    # Arrow chunks per check, so the Python row objects never all live at once, and joined
    # without a copy.
    chunks = [_columns(rows)]
    templates = None  # per_pod: None, each pod on its own
    for chk in selected:
        if chk.scope == "pod" and templates is None and not per_pod:
            templates = pod_templates(ctx)
        chunks.append(_columns(_check_rows(chk, ctx, base, lang, templates)))
    return pd.DataFrame(
        {
            col: pd.Series(pa.chunked_array([c[i] for c in chunks], _TEXT), dtype="str")
            for i, col in enumerate(RESULT_COLUMNS)
        }
    )


def _findings(chk: Check, ctx: Context) -> Iterator[tuple[Finding, Subject | None, Pod | None]]:
    """Every finding of ``chk`` with the target and pod it is about."""
    if chk.scope == "cluster":
        for f in chk.func(ctx):
            yield f, f.target, f.pod
    elif chk.scope == "service_account":
        for t in ctx.targets:
            for f in chk.func(ctx, t):
                yield f, t, f.pod  # a per-pod finding (e.g. from in-pod evidence) names its pod
    else:
        for t in ctx.targets:
            for p in t.pods:
                unreadable = shape_error(p)  # a pod whose fields have the wrong JSON type
                for f in [unreadable] if unreadable else chk.func(ctx, t, p):
                    yield f, t, p


def _statuses_for(
    inventory: Inventory, sdk: dict[str, str], check_ids: Iterable[str], namespace: str, name: str
) -> dict[str, frozenset[str]]:
    """The statuses each of ``check_ids`` gives service account ``namespace/name`` checked on
    its own, as ``run_checks(inventory, namespace, name, sdk=sdk, checks=ids)`` would give
    them (a crash counts as ERROR after the findings before it), without rendering rows."""
    ctx = Context(inventory, sdk=sdk)
    ctx.targets = _targets(inventory, namespace, name, None)
    out: dict[str, frozenset[str]] = {}
    for chk in _select_checks([c for c in dict.fromkeys(check_ids) if c in REGISTRY]):
        statuses: set[str] = set()
        try:
            for f, _, _ in _findings(chk, ctx):
                if f.status not in STATUSES:
                    raise AssertionError(f"{chk.id} returned unknown status {f.status}")
                statuses.add(f.status)
        except Exception:
            log.debug("check %s crashed", chk.id, exc_info=True)
            statuses.add("ERROR")
        out[chk.id] = frozenset(statuses)
    return out


def _check_rows(
    chk: Check,
    ctx: Context,
    base: dict[str, Any],
    lang: str,
    templates: Templates | None = None,
) -> list[tuple]:
    """The rows of one check; a bug in it becomes one ERROR row instead of losing the rest."""
    rows: list[tuple] = []
    try:
        if chk.scope == "pod" and templates is not None:
            shared_pod_rows(chk, ctx, templates, partial(_row, base=base, lang=lang), rows)
        else:
            for f, t, p in _findings(chk, ctx):
                rows.append(_row(chk, f, t, p, base, lang))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        first = error.splitlines()[0][:300]  # one line, even for a huge message
        log.warning("check %s crashed: %s (re-run with --debug for the traceback)", chk.id, first)
        log.debug("check %s crashed", chk.id, exc_info=True)
        crash = Finding("ERROR", "_check_crashed", {"error": error})
        rows.append(_row(chk, crash, None, None, base, lang))
    return rows


_TEXT = pa.large_string()  # what pandas' "str" dtype holds
# The result buffers come from malloc: Arrow's default pool (mimalloc) would keep about 40 MB
# more after a cluster-scale run (BENCHMARKS.md). The process-wide default is left alone.
_POOL = pa.system_memory_pool()


def _columns(rows: list[tuple]) -> list[pa.Array]:
    """The rows as one Arrow string array per result column."""
    if not rows:
        return [pa.array([], _TEXT)] * len(RESULT_COLUMNS)
    # A column at a time: zip(*rows) would hold an iterator per row, enough tracked objects
    # to set off full garbage collections of the whole inventory.
    return [
        pa.array(list(map(itemgetter(i), rows)), _TEXT, memory_pool=_POOL)
        for i in range(len(RESULT_COLUMNS))
    ]


def _select_checks(ids: Iterable[str] | None) -> list[Check]:
    all_checks = sorted(REGISTRY.values(), key=lambda c: (c.seed_step or 99, c.id))
    if ids is None:
        return all_checks
    wanted = list(ids)
    unknown = [i for i in wanted if i not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown check id(s): {', '.join(unknown)}")
    return [c for c in all_checks if c.id in wanted]


def _targets(
    inv: Inventory, namespace: str | None, service_account: str | None, pod: str | None
) -> list[Subject]:
    sas = inv.service_accounts if not isinstance(inv.service_accounts, Gap) else {}
    pods: tuple[Pod, ...] = inv.pods if not isinstance(inv.pods, Gap) else ()
    if pod is not None:
        matches = [p for p in pods if p.name == pod and namespace in (None, p.namespace)]
        if not matches:
            where = f" in namespace {namespace}" if namespace else ""
            if isinstance(inv.pods, Gap):
                raise TargetNotFound(f"pod {pod} not found: {inv.pods.message}")
            raise TargetNotFound(f"pod {pod} not found{where} in {inv.source or 'the inventory'}")
        if len(matches) > 1:
            spaces = ", ".join(sorted(p.namespace for p in matches))
            raise TargetNotFound(f"pod {pod} exists in several namespaces ({spaces}); name one")
        p = matches[0]
        name = service_account or p.service_account
        return [Subject(p.namespace, name, sas.get((p.namespace, name)), [p], requested=True)]

    by_sa = pods_by_service_account(pods)
    if service_account is not None:
        spaces = [namespace] if namespace else sorted({ns for ns, n in sas if n == service_account})
        spaces = spaces or sorted({ns for ns, n in by_sa if n == service_account}) or ["default"]
        return [
            Subject(
                ns,
                service_account,
                sas.get((ns, service_account)),
                by_sa.get((ns, service_account), []),
                requested=True,
            )
            for ns in spaces
        ]

    if namespace is not None and not isinstance(inv.service_accounts, Gap):
        known = {ns for ns, _ in sas} | {p.namespace for p in pods} | set(inv.namespace_errors)
        if namespace not in known:
            raise TargetNotFound(
                f"namespace {namespace} not found: no service accounts or pods in "
                f"{inv.source or 'the inventory'}"
            )
    keys: dict[tuple[str, str], None] = {}
    for key, sa in sorted(sas.items()):
        if sa.role_arn and namespace in (None, key[0]):
            keys[key] = None
    sa_list_known = not isinstance(inv.service_accounts, Gap)
    for p in pods:
        if namespace is not None and p.namespace != namespace:
            continue
        key = (p.namespace, p.service_account)
        names_missing_sa = sa_list_known and key not in sas
        if namespace is not None or names_missing_sa or p.has_irsa_env:
            keys[key] = None
    return [
        Subject(ns, name, sas.get((ns, name)), by_sa.get((ns, name), []))
        for ns, name in sorted(keys)
    ]


def _base_params(inv: Inventory) -> dict[str, Any]:
    cl = inv.cluster
    if isinstance(cl, Cluster):
        return {
            "cluster": cl.name,
            "region": cl.region,
            "account": cl.account,
            "partition": cl.partition,
            "issuer": cl.issuer,
        }
    return {"cluster": "CLUSTER", "region": "REGION", "account": "ACCOUNT_ID", "partition": "aws"}


def _row(
    chk: Check,
    f: Finding,
    target: Subject | None,
    pod: Pod | None,
    base: dict[str, Any],
    lang: str,
) -> tuple:
    if f.status not in STATUSES:
        raise AssertionError(f"{chk.id} returned unknown status {f.status}")
    params = dict(base)
    if target is not None:
        params.update(
            namespace=target.namespace, service_account=target.name, role_arn=target.role_arn or "-"
        )
    if pod is not None:
        params.update(pod=pod.name, namespace=pod.namespace)
    params.update(f.params)
    section = ("_common",) if f.key.startswith("_") else (chk.id,)
    detail = text.render(lang, (*section, "detail", f.key), params)
    if not detail and text.lookup(lang, *section, "detail", f.key) is None:
        # A key without text is an error (one ERROR row for the check), never an empty cell.
        raise LookupError(f"no text {'.'.join(section)}.detail.{f.key} for a {f.status} finding")
    remediation = (
        "" if f.status == "PASS" else text.render(lang, (*section, "remediation", f.key), params)
    )
    return (
        chk.id,
        _title(lang, chk.id),
        f.status,
        chk.severity,
        params.get("namespace", "") if target or pod else "",
        target.name if target else "",
        pod.name if pod else "",
        (target.role_arn or "") if target else "",
        detail,
        remediation,
        chk.doc_url,
        _evidence_json(f.evidence) if f.evidence else "",
    )


_evidence_json = json.JSONEncoder(sort_keys=True, default=str).encode


@cache
def _title(lang: str, check_id: str) -> str:
    return text.render(lang, (check_id, "title"), {}) or check_id
