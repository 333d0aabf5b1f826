"""One place that turns "where is the evidence" into an Inventory: bundle, demo or live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .inventory import Inventory, load_bundle


def open_inventory(
    bundle: str | None = None,
    cluster: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    context: str | None = None,
    namespaces: Sequence[str] | None = None,
    probe: bool | Any = None,
    exec: bool | str | Any = None,
    exec_timeout: float | None = None,
) -> Inventory:
    """Load a bundle (path, ``"demo"`` or ``"demo:NAME"``) or collect a live cluster.

    Exactly one of ``bundle`` and ``cluster`` must be given. ``probe`` (``True`` or an
    :class:`irsa_nb.live.sts_probe.ProbeOptions`) runs the opt-in live STS probe; it needs a
    cluster (a bundle carries a probe's outcome only if it was collected with one).
    ``exec`` (``True``/``"all"`` or an :class:`irsa_nb.live.exec.ExecTarget`) collects
    in-pod evidence with the opt-in exec probe, ``exec_timeout`` seconds per command; it
    needs a cluster too.

    Examples
    --------
    >>> from irsa_nb.sources import open_inventory
    >>> open_inventory(bundle="demo:china").cluster.region
    'cn-north-1'
    """
    if bool(bundle) == bool(cluster):
        raise ValueError(
            "choose one source: a bundle (path, 'demo' or 'demo:NAME') or a cluster name"
        )
    if bundle:
        if exec:
            raise ValueError(
                "in-pod evidence (--exec) needs a live cluster (--cluster NAME), not a bundle; "
                "a bundle holds it only if it was collected with --exec"
            )
        if probe:
            raise ValueError(
                "the STS probe needs a live cluster (--cluster NAME), not a bundle; a bundle "
                "holds a probe's outcome only if it was collected with --probe"
            )
        return load_bundle(bundle)
    from .live.collect import collect  # boto3/kubernetes load only for live sources

    return collect(
        cluster,
        region=region,
        profile=profile,
        context=context,
        namespaces=namespaces,
        probe=probe or None,
        exec=exec or None,
        **({"exec_timeout": exec_timeout} if exec_timeout else {}),
    )
