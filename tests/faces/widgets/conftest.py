"""Fixtures for the Explorer's unit tests (no kernel, no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faces.widgets.helpers import write_hostile_bundle


@pytest.fixture
def hostile_bundle(tmp_path: Path) -> Path:
    return write_hostile_bundle(tmp_path / "hostile")


@pytest.fixture
def no_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "missing-kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two contexts; the current one points at an EKS cluster ARN (as update-kubeconfig
    writes it), the other at a non-EKS cluster."""
    arn = "arn:aws:eks:eu-west-1:111122223333:cluster/shop-prod"
    path = tmp_path / "kubeconfig"
    path.write_text(
        f"""apiVersion: v1
kind: Config
current-context: {arn}
clusters:
- name: {arn}
  cluster: {{server: "https://127.0.0.1:1"}}
- name: kind-dev
  cluster: {{server: "https://127.0.0.1:2"}}
contexts:
- name: {arn}
  context: {{cluster: {arn}, user: eks}}
- name: kind-dev
  context: {{cluster: kind-dev, user: kind}}
users:
- name: eks
  user: {{token: not-a-secret}}
- name: kind
  user: {{token: not-a-secret}}
"""
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path
