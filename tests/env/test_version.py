"""`irsa-nb --version` names the version pyproject.toml declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from irsa_nb.cli import main

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_version_flag_prints_the_project_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    version = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert capsys.readouterr().out == f"irsa-nb {version}\n"
