"""Small helpers for core tests: demo documents to mutate, results to query."""

from __future__ import annotations

import copy
import json

import pandas as pd

from irsa_nb import build_inventory, demo_bundle, run_checks
from irsa_nb.bundle import read_documents

_CACHE: dict[str, dict] = {}


def demo_docs(name: str = "demo") -> dict:
    """A fresh, mutable copy of a demo bundle's documents."""
    if name not in _CACHE:
        _CACHE[name] = read_documents(demo_bundle(name))
    return copy.deepcopy(_CACHE[name])


def results(docs: dict, **kwargs) -> pd.DataFrame:
    return run_checks(build_inventory(docs, source="test"), **kwargs)


def only(df: pd.DataFrame, check_id: str, **where) -> pd.Series:
    """The single row of ``check_id`` matching ``where`` (namespace=, service_account=, pod=)."""
    sel = df[df.check_id == check_id]
    for key, value in where.items():
        sel = sel[sel[key] == value]
    assert len(sel) == 1, f"expected one {check_id} row for {where}, got {len(sel)}:\n{sel}"
    return sel.iloc[0]


def pod_doc(docs: dict, name_prefix: str) -> dict:
    return next(
        p for p in docs["k8s/pods.json"]["items"] if p["metadata"]["name"].startswith(name_prefix)
    )


def sa_doc(docs: dict, namespace: str, name: str) -> dict:
    return next(
        s
        for s in docs["k8s/serviceaccounts.json"]["items"]
        if s["metadata"]["namespace"] == namespace and s["metadata"]["name"] == name
    )


def evidence(row: pd.Series) -> dict:
    return json.loads(row["evidence"]) if row["evidence"] else {}
