"""Demo bundles shipped inside the package (no credentials needed)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_ROOT = "data/demo"


def demo_names() -> list[str]:
    """Names of the shipped demo bundles (``demo`` is the main one)."""
    root = resources.files("irsa_nb").joinpath(DEMO_ROOT)
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def is_demo_name(value: str) -> bool:
    """True for ``"demo"`` and ``"demo:NAME"`` bundle selectors."""
    return value == "demo" or value.startswith("demo:")


def demo_bundle(name: str = "demo") -> Path:
    """Path of a shipped demo bundle.

    Parameters
    ----------
    name
        ``"demo"`` (one cluster with a healthy service account and one per failure mode),
        or ``"demo:NAME"`` / ``"NAME"`` for the small cluster-wide scenarios (see
        :func:`demo_names`).

    Examples
    --------
    >>> from irsa_nb import demo_bundle
    >>> demo_bundle("demo:no-oidc").name
    'no-oidc'
    """
    key = name.split(":", 1)[1] if name.startswith("demo:") else name
    if key not in demo_names():
        raise ValueError(f"unknown demo bundle {name!r}; choose one of: {', '.join(demo_names())}")
    return Path(str(resources.files("irsa_nb").joinpath(DEMO_ROOT, key)))
