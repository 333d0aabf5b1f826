"""Helpers for the beyond-the-article tests: demo documents to mutate, realistic pods, rows."""

from __future__ import annotations

import copy
import json
from typing import Any

import pandas as pd

from irsa_nb import build_inventory, demo_bundle, run_checks
from irsa_nb.bundle import read_documents
from irsa_nb.inventory import Inventory
from tests.builders import k8s_objects as k8s

ACCOUNT = "111122223333"
_CACHE: dict[str, dict] = {}


def demo_docs(name: str = "demo") -> dict:
    """A fresh, mutable copy of a demo bundle's documents."""
    if name not in _CACHE:
        _CACHE[name] = read_documents(demo_bundle(name))
    return copy.deepcopy(_CACHE[name])


def inventory(docs: dict) -> Inventory:
    return build_inventory(docs, source="test")


def results(docs: dict, check_id: str, **kwargs: Any) -> pd.DataFrame:
    return run_checks(inventory(docs), checks=[check_id], **kwargs)


def one(df: pd.DataFrame, **where: str) -> pd.Series:
    """The single row matching ``where``."""
    sel = df
    for key, value in where.items():
        sel = sel[sel[key] == value]
    assert len(sel) == 1, f"expected one row for {where}, got {len(sel)}:\n{sel}"
    return sel.iloc[0]


def evidence(row: pd.Series) -> dict:
    return json.loads(row["evidence"]) if row["evidence"] else {}


def role_arn(name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{ACCOUNT}:role/{name}"


def add_sa(
    docs: dict, ns: str, name: str, role: str | None = None, annotations: dict | None = None
) -> dict:
    ann = dict(annotations or {})
    if role:
        ann["eks.amazonaws.com/role-arn"] = role if role.startswith("arn:") else role_arn(role)
    sa = k8s.service_account(ns, name, ann or None)
    docs["k8s/serviceaccounts.json"]["items"].append(sa)
    return sa


def add_pod(docs: dict, pod: dict) -> dict:
    docs["k8s/pods.json"]["items"].append(pod)
    return pod


def irsa_pod(ns: str, name: str, sa: str, role: str | None = None, **kwargs: Any) -> dict:
    """An admitted pod (webhook mutation applied when ``role`` is given)."""
    arn = None if role is None else (role if role.startswith("arn:") else role_arn(role))
    return k8s.pod(
        ns, name, sa, irsa_role_arn=arn, owner=("ReplicaSet", f"{sa}-5d4c3b2a1"), **kwargs
    )


def env(name: str, value: str | None = None, secret: tuple[str, str] | None = None) -> dict:
    if secret:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret[0], "key": secret[1]}}}
    return {"name": name, "value": value}
