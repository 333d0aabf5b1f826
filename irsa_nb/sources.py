"""One place that turns "where is the evidence" into an Inventory: bundle, demo or live."""

from __future__ import annotations

from collections.abc import Sequence

from .inventory import Inventory, load_bundle


def open_inventory(
    bundle: str | None = None,
    cluster: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    context: str | None = None,
    namespaces: Sequence[str] | None = None,
) -> Inventory:
    """Load a bundle (path, ``"demo"`` or ``"demo:NAME"``) or collect a live cluster.

    Exactly one of ``bundle`` and ``cluster`` must be given.

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
        return load_bundle(bundle)
    from .live.collect import collect  # boto3/kubernetes load only for live sources

    return collect(cluster, region=region, profile=profile, context=context, namespaces=namespaces)
