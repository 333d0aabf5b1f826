"""The pre-commit hooks run what `make test` runs, at the versions the lock pins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tools.check_lock import locked_versions

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / ".pre-commit-config.yaml"


def hooks() -> dict[str, dict]:
    config = yaml.safe_load(CONFIG.read_text())
    return {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}


def test_the_ruff_hooks_pin_the_ruff_of_the_lock():
    (locked,) = locked_versions((REPO / "requirements.lock").read_text())["ruff"]
    found = hooks()
    for hook_id in ("ruff-check", "ruff-format"):
        assert found[hook_id]["additional_dependencies"] == [f"ruff=={locked}"], (
            f"{hook_id}: pin ruff=={locked} in .pre-commit-config.yaml (the lock's ruff)"
        )


def test_the_hooks_cover_lint_format_and_the_import_contracts():
    found = hooks()
    assert found["ruff-check"]["entry"].startswith("ruff check")
    assert found["ruff-format"]["entry"].startswith("ruff format")
    contracts = found["import-contracts"]
    assert contracts["entry"].endswith("lint-imports") and contracts["pass_filenames"] is False
    # the same paths as `make lint`
    makefile = (REPO / "Makefile").read_text()
    paths = "irsa_nb tests benchmarks tools notebooks"
    assert f"ruff check {paths}" in makefile
    assert found["ruff-check"]["files"] == f"^({paths.replace(' ', '|')})/"


def test_pre_commit_accepts_the_config():
    pre_commit = Path(sys.executable).with_name("pre-commit")
    proc = subprocess.run(
        [str(pre_commit), "validate-config", str(CONFIG)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
