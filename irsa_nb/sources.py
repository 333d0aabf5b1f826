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
) -> Inventory:
    """Load a bundle (path, ``"demo"`` or ``"demo:NAME"``) or collect a live cluster.

    Exactly one of ``bundle`` and ``cluster`` must be given. ``probe`` (``True`` or an
    :class:`irsa_nb.live.sts_probe.ProbeOptions`) runs the opt-in live STS probe; it needs a
    cluster (a bundle carries a probe's outcome only if it was collected with one).

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
    )
