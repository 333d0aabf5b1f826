"""The wheel works on its own: built from this checkout, installed into a clean venv at the
lock's versions, it checks the demo bundle and runs a runbook.

The build is offline (setuptools is in the lock, so in .venv). The install reads uv's cache and
downloads what is not there from PyPI, as tests/e2e/test_binder_env.py does: a cache is not a
promise (``uv pip install --offline`` fails on a machine whose cache lacks one wheel).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")


def sh(*args: object, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    # built from a copy: setuptools writes build/ and irsa_nb.egg-info beside the sources, and
    # the checkout's egg-info belongs to the editable install other tests run on
    src = tmp / "src"
    skip = (
        ".git",
        ".venv*",
        "build",
        "dist",
        "test-output",
        "evidence",
        "*.egg-info",
        "__pycache__",
    )
    shutil.copytree(REPO, src, symlinks=True, ignore=shutil.ignore_patterns(*skip))
    # setuptools comes from the lock (dev extra), so the build needs no index either
    built = sh(
        UV, "build", "--wheel", "--no-build-isolation", "--python", sys.executable,
        "-o", tmp / "dist", cwd=src,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("irsa_nb-*.whl")
    venv = tmp / "venv"
    made = sh(UV, "venv", "--python", sys.executable, venv, cwd=tmp)
    assert made.returncode == 0, made.stderr
    installed = sh(
        UV, "pip", "install", "--python", venv / "bin" / "python",
        wheel, "-c", REPO / "requirements.lock", cwd=tmp,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return venv


def clean_env(home: Path) -> dict[str, str]:
    """No checkout on the path, no user-level Jupyter directories, no AWS credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTER", "PYTHON"))}
    env.update(HOME=str(home), JUPYTER_PLATFORM_DIRS="1", AWS_EC2_METADATA_DISABLED="true")
    return env


def test_the_wheel_is_what_the_clean_venv_imports(clean_venv, tmp_path):
    code = "import irsa_nb, irsa_nb.runbook as r; print(irsa_nb.__file__); " + "; ".join(
        f"print(r.notebook_path({n!r}))" for n in ("irsa_runbook.ipynb", "irsa_explorer.ipynb")
    )
    where = sh(clean_venv / "bin" / "python", "-c", code, cwd=tmp_path, env=clean_env(tmp_path))
    assert where.returncode == 0, where.stderr
    paths = [Path(p) for p in where.stdout.split()]
    assert len(paths) == 3 and all(p.is_relative_to(clean_venv) for p in paths)
    version = sh(clean_venv / "bin" / "irsa-nb", "--version", cwd=tmp_path, env=clean_env(tmp_path))
    assert version.stdout.startswith("irsa-nb ")


def test_check_on_the_demo_bundle_from_the_wheel(clean_venv, tmp_path):
    out = sh(
        clean_venv / "bin" / "irsa-nb", "check", "--bundle", "demo", "--format", "json",
        cwd=tmp_path, env=clean_env(tmp_path),
    )  # fmt: skip
    assert out.returncode == 1, out.stderr  # the demo bundle holds FAILs on purpose
    rows = json.loads(out.stdout)
    assert any(r["check_id"] == "trust_policy_allows_service_account" for r in rows)


def test_a_runbook_from_the_wheel(clean_venv, tmp_path):
    out = sh(
        clean_venv / "bin" / "irsa-nb", "run", "--bundle", "demo", "-n", "shop", "-s", "cart",
        "--out", tmp_path / "evidence", cwd=tmp_path, env=clean_env(tmp_path),
    )  # fmt: skip
    assert out.returncode == 1, out.stderr  # a FAIL, as make demo shows
    manifest = json.loads((tmp_path / "evidence" / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["verdict"] == "FAIL"
    assert (tmp_path / "evidence" / "runbook.html").stat().st_size > 0
