"""Fixtures for runbook tests: evidence folders built once per worker, a purpose-built
notebook for crash/timeout cases, and a bundle with hostile content."""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from irsa_nb import demo_bundle
from irsa_nb.bundle import read_documents, write_documents

# Secrets planted in the hostile bundle / parameters; none may reach evidence.
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLXNlY3JldA"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "hunter2-correct-horse"
SCRIPT = "<script>alert('pwned')</script>"
IMG = '<img src=x onerror="alert(1)">'
EVIL_SA = "**bold**" + IMG

_DOCS: dict[str, Any] = {}

# Parameters like the runbook's; behaviour chosen by service_account (test-only notebook).
BEHAVIOUR_SOURCE = """import os
import time

if service_account == "boom":
    raise RuntimeError("boom: a cell failed")
if service_account == "slow":
    time.sleep(600)
if service_account == "crash":
    os.kill(os.getpid(), 9)

from irsa_nb import Options, Source, Target, run
from irsa_nb.report import Report

rb = Report(run(Source(bundle=bundle), Target(namespace, service_account), Options(lang=lang)))
rb.save(results_dir)
rb.header()"""


def _demo_docs() -> dict:
    if "demo" not in _DOCS:
        _DOCS["demo"] = read_documents(demo_bundle("demo"))
    return copy.deepcopy(_DOCS["demo"])


def _sa(namespace: str, name: str, annotations: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"namespace": namespace, "name": name, "annotations": annotations},
    }


def build_hostile_bundle(root: Path) -> Path:
    """The demo bundle plus service accounts whose names/annotations carry HTML, markdown
    and secrets, and a pod with a secret env value."""
    docs = _demo_docs()
    sas = docs["k8s/serviceaccounts.json"]["items"]
    arn = "arn:aws:iam::111122223333:role/"
    sas.append(_sa("shop", "evil", {"eks.amazonaws.com/role-arn": SCRIPT}))
    sas.append(_sa("shop", EVIL_SA, {"eks.amazonaws.com/role-arn": arn + "irsa-cart"}))
    sas.append(
        _sa(
            "shop",
            "leaky",
            {"eks.amazonaws.com/role-arn": arn + ACCESS_KEY, "eks.amazonaws.com/audience": JWT},
        )
    )
    pods = docs["k8s/pods.json"]["items"]
    pod = copy.deepcopy(next(p for p in pods if p["metadata"]["name"].startswith("cart-")))
    pod["metadata"]["name"] = "leaky-6b7c8d9e0f-abcde"
    pod["spec"]["serviceAccountName"] = "leaky"
    pod["spec"]["containers"][0].setdefault("env", []).extend(
        [
            {"name": "DB_PASSWORD", "value": PASSWORD},
            {"name": "UPSTREAM_CONFIG", "value": f"key={ACCESS_KEY} token={JWT}"},
        ]
    )
    pods.append(pod)
    return write_documents(docs, root / "hostile-bundle")


@pytest.fixture(scope="session")
def behaviour_notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small notebook with the runbook's parameters that raises, sleeps or kills its kernel
    for service accounts ``boom``, ``slow`` and ``crash``, and runs the checks otherwise."""
    from irsa_nb.runbook import notebook_path

    runbook = nbformat.read(notebook_path(), as_version=4)
    params = next(c for c in runbook.cells if "parameters" in c.metadata.get("tags", []))
    nb = nbformat.v4.new_notebook()
    nb.cells = [copy.deepcopy(params), nbformat.v4.new_code_cell(BEHAVIOUR_SOURCE)]
    nb.metadata["kernelspec"] = runbook.metadata["kernelspec"]
    path = tmp_path_factory.mktemp("behaviour") / "behaviour.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def run_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """``run_once(name, **kwargs)``: :func:`run_runbook` into a per-session folder, memoised
    (several tests read the same evidence)."""
    from tests.runs import run_runbook

    root = tmp_path_factory.mktemp("evidence")
    cache: dict[str, Any] = {}

    def run(name: str, **kwargs: Any) -> Any:
        if name not in cache:
            cache[name] = run_runbook(root / name, **kwargs)
        return cache[name]

    return run


@pytest.fixture(scope="session")
def cart_run(run_once: Callable[..., Any]) -> Any:
    return run_once("cart", bundle="demo", namespace="shop", service_account="cart")


@pytest.fixture(scope="session")
def hostile_run(run_once: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    bundle = build_hostile_bundle(tmp_path_factory.mktemp("hostile"))
    return run_once(
        "hostile",
        bundle=str(bundle),
        namespace="shop",
        error_message=(
            "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity "
            f"operation: Incorrect token audience (token {JWT}, key {ACCESS_KEY})"
        ),
    )


def local_paths(*extra: Path | str) -> list[str]:
    """Absolute local paths that must not appear in shareable evidence."""
    import irsa_nb

    repo = str(Path(irsa_nb.__file__).resolve().parent.parent)
    home = str(Path.home()).rstrip("/")
    paths = [repo, sys.prefix, *(str(p) for p in extra)]
    return paths + ([home + "/"] if home else [])


def evidence_texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted(folder.iterdir()) if p.is_file()}


# The live-cluster stand-in of the collector's tests (moto + fake Kubernetes API + issuer).
# (If they move, only the live test fails, reporting a missing fixture.)
with contextlib.suppress(ImportError):
    from tests.live.conftest import live, quiet_kube_retries  # noqa: F401
