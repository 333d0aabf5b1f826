"""Pod-scope checks once per pod template: replicas evaluated once, rows fanned out.

Replicas of one ReplicaSet, StatefulSet, DaemonSet or Job differ in their name, creation
time, node and generated ``kube-api-access-xxxxx`` token volume. The pod-scope checks read
the name and creation time only to copy them into text and evidence (restart command,
"created", the pod column) and to look up in-pod evidence (--exec) by pod name; they read
no node, and the volume name only to match mounts to volumes. So each distinct (target,
pod with those values replaced by sentinels) is evaluated and rendered once, and every pod
of it gets those rows with the sentinels replaced by its own values. Pods with in-pod
evidence or shape errors, or values outside a plain character set (where JSON escaping or
text formatting could differ), are evaluated on their own. ``per_pod=True`` evaluates
every pod on its own: the reference the tests compare with.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from ..k8s import Container, EnvVar, Pod, TokenVolume
from .helpers import shape_error
from .registry import RESULT_COLUMNS, Check, Context

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


def _frozen(value: Any) -> Any:
    """A pod field's value as a hashable, order-preserving key: dicts by item; numbers keep
    their type (``True``, ``1`` and ``1.0`` are equal but read apart)."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, int | float):
        return (type(value).__name__, value)
    if isinstance(value, dict):
        return ("dict", *((_frozen(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, tuple | list):
        return (type(value).__name__, *(_frozen(v) for v in value))
    raise TypeError(f"no template key for {type(value).__name__}")


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


#: The fields of the model's parts :func:`_template_key` reads one by one (a test holds them
#: equal to the classes' fields).
KEYED = {
    Container: (
        "name", "image", "init", "env", "env_from", "mounts", "run_as_user", "run_as_group",
        "run_as_non_root",
    ),
    TokenVolume: ("name", "audience", "expiration_seconds", "path"),
    EnvVar: ("name", "value", "source"),
}  # fmt: skip


def _template_key(p: Pod, volume: str | None, memo: dict[int, tuple]) -> tuple:
    """What the pod-scope checks can read of ``p`` besides its own values (see above), with
    the generated token volume ``volume`` renamed, as a hashable key. The model's string
    maps (annotations, node selector, env, mounts) hold strings only. ``memo`` keeps the
    key of each env mapping by ``id``: replicas share one (while the pods live)."""

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


def pod_templates(ctx: Context) -> Templates:
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


def shared_pod_rows(
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
