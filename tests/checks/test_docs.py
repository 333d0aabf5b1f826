"""Docs match the code: every registered check is documented and has its text."""

from __future__ import annotations

from pathlib import Path

import pytest

from irsa_nb import REGISTRY
from irsa_nb.text import catalogue
from tools.check_table import readme_table, table

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_readme_table_of_checks_is_generated_from_the_registry():
    start, end = readme_table(README)
    assert README[start:end] == table(), "run: python tools/check_table.py --write"


@pytest.mark.parametrize("check_id", sorted(REGISTRY))
def test_every_check_is_in_the_readme_table_and_the_catalogue(check_id):
    table = README.split("### The checks", 1)[1].split("\n## ", 1)[0]
    assert f"| `{check_id}` |" in table
    assert REGISTRY[check_id].summary
    for lang in ("en", "zh"):
        entry = catalogue(lang).get(check_id) or {}
        assert entry.get("title") and entry.get("explain"), (lang, check_id)


def test_readme_starts_with_the_two_commands():
    head = README.split("## ", 1)[0]
    assert "make demo" in head and "make test" in head


def test_diagnoses_name_only_registered_checks_and_never_the_probe():
    """The probe's check asks the runner for the checks a cause names: naming it would recurse."""
    import yaml

    path = Path(__file__).resolve().parents[2] / "irsa_nb/text/diagnoses.yaml"
    named = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("checks:"):
            named |= set(yaml.safe_load(line.strip().split(":", 1)[1]) or [])
    assert named and named <= set(REGISTRY)
    assert not {c for c in named if c.startswith("sts_probe_")}
