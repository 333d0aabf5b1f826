"""requirements.lock: current against pyproject.toml, and a stale one is named in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.check_lock import locked_versions, stale

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = """
[project]
name = "demo-pkg"
dependencies = ["pandas>=2.2", "boto3>=1.34,<2"]
[project.optional-dependencies]
test = ["pytest>=8", "demo-pkg[extra]"]
"""
LOCK = """# header
boto3==1.44.8
    # via demo-pkg
pandas==3.1.1 ; python_full_version >= '3.11'
pytest==9.0.1
"""


def test_the_committed_lock_satisfies_pyproject():
    lock, pyproject = (REPO / "requirements.lock").read_text(), (REPO / "pyproject.toml")
    assert stale(pyproject.read_text(), lock) == []
    assert locked_versions(lock)["uv"]  # the Makefile takes uv's version from the lock


def test_a_current_lock_passes_and_self_references_are_ignored():
    assert stale(PYPROJECT, LOCK) == []


def test_a_raised_floor_a_new_dependency_and_a_variant_are_each_named():
    raised = PYPROJECT.replace("pandas>=2.2", "pandas>=4").replace(
        '"pytest>=8"', '"pytest>=8", "uv"'
    )
    lock = LOCK + "boto3==2.0.0 ; python_full_version >= '3.13'\n"
    assert stale(raised, lock) == [
        "pandas>=4 but the lock pins pandas==3.1.1",
        "boto3<2,>=1.34 but the lock pins boto3==2.0.0",
        "uv is not in the lock",
    ]


def test_the_cli_fails_in_one_line_naming_make_lock(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.replace("pandas>=2.2", "pandas>=4"))
    (tmp_path / "requirements.lock").write_text(LOCK)
    script = REPO / "tools" / "check_lock.py"
    args = [
        sys.executable,
        str(script),
        *(str(tmp_path / f) for f in ("pyproject.toml", "requirements.lock")),
    ]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert "requirements.lock is stale (pandas>=4 but the lock pins pandas==3.1.1)" in proc.stderr
    assert "run `make lock`" in proc.stderr
    ok = subprocess.run(args[:2], capture_output=True, text=True, cwd=REPO)
    assert ok.returncode == 0 and ok.stderr == ""
