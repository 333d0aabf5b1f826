"""run_checks: choose targets, run the registered checks, return one DataFrame."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache, partial
from operator import itemgetter
from typing import Any

import pandas as pd
import pyarrow as pa

from .. import text
from ..inventory import Cluster, Gap, Inventory, pods_by_service_account
from ..k8s import Container, EnvVar, Pod, TokenVolume
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
            templates = _templates(ctx)
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
            _shared_pod_rows(chk, ctx, templates, partial(_row, base=base, lang=lang), rows)
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


# --- pod-scope checks once per pod template ----------------------------------------------
#
# Replicas of one ReplicaSet, StatefulSet, DaemonSet or Job differ in their name, creation
# time, node and generated ``kube-api-access-xxxxx`` token volume. The pod-scope checks read
# the name and creation time only to copy them into text and evidence (restart command,
# "created", the pod column) and to look up in-pod evidence (--exec) by pod name; they read
# no node, and the volume name only to match mounts to volumes. So each distinct (target,
# pod with those values replaced by sentinels) is evaluated and rendered once, and every pod
# of it gets those rows with the sentinels replaced by its own values. Pods with in-pod
# evidence or shape errors, or values outside a plain character set (where JSON escaping or
# text formatting could differ), are evaluated on their own. ``per_pod=True`` evaluates
# every pod on its own: the reference the tests compare with.

_TOKEN = "5c0f2e9a7d"  # in every sentinel: plain strings no real value contains
_SENTINELS = (  # (Pod field, sentinel)
    ("name", f"irsa-nb-pod-name-{_TOKEN}"),
    ("created", f"irsa-nb-pod-created-{_TOKEN}"),
    ("node_name", f"irsa-nb-pod-node-{_TOKEN}"),
)
_VOLUME_SENTINEL = f"kube-api-access-irsa-nb-{_TOKEN}"
_ORDER = (*(sentinel for _, sentinel in _SENTINELS), _VOLUME_SENTINEL)
#: The result columns a pod's own values can appear in.
_POD_CELLS = tuple(RESULT_COLUMNS.index(c) for c in ("pod", "detail", "remediation", "evidence"))
_API_VOLUME = re.compile(r"kube-api-access-[a-z0-9]{5}")  # the name Kubernetes generates
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]*")
_OWN = {f for f, _ in _SENTINELS} | {"containers", "init_containers", "token_volumes"}
_FIELDS = tuple(f.name for f in dataclasses.fields(Pod) if f.name not in _OWN)
_DATACLASS_FIELDS: dict[type, tuple[str, ...]] = {}


def _frozen(value: Any) -> Any:
    """``value`` as a hashable, order-preserving key: dicts by item, dataclasses by field;
    numbers keep their type (``True``, ``1`` and ``1.0`` are equal but read apart)."""
    if isinstance(value, str) or value is None or type(value) is EnvVar:  # EnvVar: strings
        return value
    if isinstance(value, int | float):
        return (type(value).__name__, value)
    if isinstance(value, dict):
        return ("dict", *((_frozen(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, tuple | list):
        return (type(value).__name__, *(_frozen(v) for v in value))
    names = _DATACLASS_FIELDS.get(type(value))
    if names is None:
        if not dataclasses.is_dataclass(value):
            raise TypeError(f"no template key for {type(value).__name__}")
        names = _DATACLASS_FIELDS[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    return (type(value).__name__, *(_frozen(getattr(value, n)) for n in names))


def _volumes_renamed(p: Pod, volume: str | None) -> tuple[dict[str, TokenVolume], tuple, tuple]:
    """``p``'s token volumes and containers with token volume ``volume`` renamed to the
    sentinel where volumes are named: its key and name, and the containers' mounts."""
    if volume is None:
        return p.token_volumes, p.containers, p.init_containers

    def one(name: str) -> str:
        return _VOLUME_SENTINEL if name == volume else name

    def mounted(cs: tuple[Container, ...]) -> tuple[Container, ...]:
        return tuple(
            dataclasses.replace(c, mounts={k: one(v) for k, v in c.mounts.items()})
            if volume in c.mounts.values()
            else c
            for c in cs
        )

    vols = {one(k): dataclasses.replace(v, name=one(v.name)) for k, v in p.token_volumes.items()}
    return vols, mounted(p.containers), mounted(p.init_containers)


def _typed(value: Any) -> Any:
    """A scalar for a key: strings and None as they are, others with their type."""
    return value if value is None or type(value) is str else (type(value).__name__, value)


#: The fields :func:`_template_key` reads one by one; when a model class gains a field, the
#: key falls back to :func:`_frozen` of the whole pod.
_KEYED = {
    Container: (
        "name", "image", "init", "env", "env_from", "mounts", "run_as_user", "run_as_group",
        "run_as_non_root",
    ),
    TokenVolume: ("name", "audience", "expiration_seconds", "path"),
    EnvVar: ("name", "value", "source"),
}  # fmt: skip
_KNOWN = all(tuple(f.name for f in dataclasses.fields(t)) == n for t, n in _KEYED.items())


def _template_key(p: Pod, volume: str | None, memo: dict[int, tuple]) -> tuple:
    """What the pod-scope checks can read of ``p`` besides its own values (see above), with
    the generated token volume ``volume`` renamed, as a hashable key. The model's string
    maps (annotations, node selector, env, mounts) hold strings only. ``memo`` keeps the
    key of each env mapping by ``id``: replicas share one (while the pods live)."""
    if not _KNOWN:
        vols, containers, inits = _volumes_renamed(p, volume)
        return _frozen(
            dataclasses.replace(p, token_volumes=vols, containers=containers, init_containers=inits)
        )

    def one(name: str) -> str:
        return _VOLUME_SENTINEL if name == volume else name

    def env(mapping: dict[str, EnvVar]) -> tuple:
        key = memo.get(id(mapping))
        if key is None:
            key = memo[id(mapping)] = tuple(
                (k, v.name, v.value, v.source) for k, v in mapping.items()
            )
        return key

    def containers(cs: tuple[Container, ...]) -> tuple:
        return tuple(
            (
                c.name,
                c.image,
                _typed(c.init),
                env(c.env),
                c.env_from,
                tuple((k, one(v)) for k, v in c.mounts.items()),
                _typed(c.run_as_user),
                _typed(c.run_as_group),
                _typed(c.run_as_non_root),
            )
            for c in cs
        )

    return (
        tuple(_frozen(getattr(p, f)) for f in _FIELDS),
        tuple(
            (one(k), one(v.name), v.audience, _typed(v.expiration_seconds), v.path)
            for k, v in p.token_volumes.items()
        ),
        containers(p.containers),
        containers(p.init_containers),
    )


def _own_values(p: Pod) -> tuple[tuple[str, ...], str | None] | None:
    """``p``'s own values in the order of :data:`_ORDER` (its generated token volume last,
    empty when it has none) and that volume, or None when ``p`` must be evaluated on its
    own."""
    api = [n for n in p.token_volumes if _API_VOLUME.fullmatch(n)]
    volume = api[0] if len(api) == 1 else None
    values = (*(getattr(p, f) for f, _ in _SENTINELS), volume or "")
    if not all(_PLAIN.fullmatch(v) for v in values[:-1]) or (
        volume is not None and not _PLAIN.fullmatch(volume)
    ):
        return None
    return values, volume


#: Each target pod's template (by ``id``): its number and the pod's own values
#: (:func:`_own_values`), or None for a pod evaluated on its own; and by number, the pod all
#: pods of the template are evaluated as. Kept apart so that the per-pod entries hold no
#: object the garbage collector tracks.
Templates = tuple[dict[int, tuple[int, tuple[str, ...]] | None], list[Pod]]


def _templates(ctx: Context) -> Templates:
    """The target pods' templates (see :data:`Templates`)."""
    with_facts = {(ns, name) for ns, name, _ in ctx.inventory.exec_facts}
    numbers: dict[tuple, int] = {}
    stand_ins: list[Pod] = []
    out: dict[int, tuple[int, tuple[str, ...]] | None] = {}
    memo: dict[int, tuple] = {}
    for t in ctx.targets:
        for p in t.pods:
            own = None if p.shape_errors or (p.namespace, p.name) in with_facts else _own_values(p)
            if own is None:
                out[id(p)] = None
                continue
            values, volume = own
            key = _template_key(p, volume, memo)
            number = numbers.setdefault(key, len(stand_ins))
            if number == len(stand_ins):
                vols, containers, inits = _volumes_renamed(p, volume)
                stand_ins.append(
                    dataclasses.replace(
                        p,
                        token_volumes=vols,
                        containers=containers,
                        init_containers=inits,
                        **{f: sentinel for f, sentinel in _SENTINELS},
                    )
                )
            out[id(p)] = (number, values)
    return out, stand_ins


def _planned(row: tuple) -> tuple[tuple, tuple[tuple[int, str], ...]]:
    """A template row and, for each cell that names a sentinel (the pod column at least),
    its index and a format string with ``{0}``... for the values of :data:`_ORDER`."""
    plan = []
    for i in _POD_CELLS:
        cell = row[i]
        if _TOKEN in cell:
            fmt = cell.replace("{", "{{").replace("}", "}}")
            for n, sentinel in enumerate(_ORDER):
                fmt = fmt.replace(sentinel, f"{{{n}}}")
            plan.append((i, fmt))
    return row, tuple(plan)


def _substitute(planned: tuple[tuple, tuple[tuple[int, str], ...]], values: tuple) -> tuple:
    """A template row for one pod: each sentinel replaced by the pod's own value."""
    row, plan = planned
    if not plan:
        return row
    cells = list(row)
    for i, fmt in plan:
        cells[i] = fmt.format(*values)
    return tuple(cells)


def _shared_pod_rows(
    chk: Check,
    ctx: Context,
    templates: Templates,
    row: Callable[..., tuple],
    rows: list[tuple],
) -> None:
    """Append the rows of pod-scope ``chk`` to ``rows``, as per-pod evaluation would give them,
    evaluating each pod template once (see above). A template whose evaluation or rendering
    raises is evaluated again on the real pod, so a crash reads exactly as per pod."""
    of_pod, stand_ins = templates
    for t in ctx.targets:
        done: dict[int, list[tuple[tuple, tuple[tuple[int, str], ...]]] | None] = {}
        for p in t.pods:
            tpl = of_pod[id(p)]
            made = None
            if tpl is not None:
                number = tpl[0]
                if number not in done:
                    stand_in = stand_ins[number]
                    try:
                        done[number] = [
                            _planned(row(chk, f, t, stand_in)) for f in chk.func(ctx, t, stand_in)
                        ]
                    except Exception:
                        done[number] = None
                made = done[number]
            if made is None or tpl is None:
                unreadable = shape_error(p)
                for f in [unreadable] if unreadable else chk.func(ctx, t, p):
                    rows.append(row(chk, f, t, p))
            else:
                rows.extend(_substitute(r, tpl[1]) for r in made)
