"""Docs match the code: every registered check is documented and has its text, and the
generated reference pages (checks en/zh, error messages) are the ones the code generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from irsa_nb import REGISTRY
from irsa_nb.error_catalogue import catalogue as errors
from irsa_nb.text import catalogue
from tools.reference import PAGES, check_reference, error_reference, outcome_statuses, stale

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_generated_reference_pages_are_current():
    assert stale() == [], "run: python tools/reference.py --write"


@pytest.fixture(scope="module")
def references() -> dict[str, str]:
    return {lang: check_reference(lang) for lang in ("en", "zh")}


@pytest.mark.parametrize("check_id", sorted(REGISTRY))
def test_every_check_has_a_section_in_both_references_and_its_text(check_id, references):
    statuses = outcome_statuses(check_id)
    for lang, page in references.items():
        assert f"\n## {check_id}\n" in page and f"](#{check_id})" in page
        entry = catalogue(lang).get(check_id) or {}
        assert entry.get("title") and entry.get("explain"), (lang, check_id)
        section = page.split(f"\n## {check_id}\n", 1)[1].split("\n## ", 1)[0]
        for key in entry["detail"]:
            # every outcome with the statuses the code gives it
            assert f"- `{key}` ({', '.join(statuses[key])}): " in section, (lang, key)
    assert REGISTRY[check_id].summary


def test_the_statuses_of_an_outcome_are_read_from_the_code():
    role = outcome_statuses("role_exists")
    assert {k: v for k, v in role.items() if k[0] != "_"} == {"pass": ["PASS"], "missing": ["FAIL"]}
    assert role["_not_collected"] == ["SKIP"] and role["_call_failed"] == ["ERROR"]  # shared
    sts = outcome_statuses("sts_endpoint_config")  # statuses picked by a condition
    assert sts["no_region"] == ["INFO"] and sts["unknown_private"] == ["WARN"]
    probe = outcome_statuses("sts_probe_assume_role")  # f-string keys
    assert probe["not_probed_limit"] == ["SKIP"]


def test_every_error_of_the_catalogue_has_a_section():
    page = error_reference()
    for entry in errors().entries:
        assert f"\n## {entry.id}: " in page
    assert PAGES["errors"].read_text(encoding="utf-8") == page


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
