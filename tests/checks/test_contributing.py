"""CONTRIBUTING.md's "Add a check" is true: its three files, written to a temporary directory
and nowhere else, make a registered check with text in both languages whose own tests pass."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from irsa_nb import REGISTRY, text
from irsa_nb.checks import registry
from tests.checks import test_outcome_texts

GUIDE = Path(__file__).resolve().parents[2] / "CONTRIBUTING.md"
CHECK_ID = "default_service_account_has_no_role"


def _files() -> dict[str, str]:
    """``{path: content}`` of the guide's code blocks that start with ``# file: <path>``."""
    blocks = re.findall(
        r"```(?:python|yaml)\n# file: (\S+)\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S
    )
    return {path: body for path, body in blocks}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example_check(tmp_path):
    files = _files()
    assert sorted(files) == [
        f"irsa_nb/checks/{CHECK_ID}.py",
        f"irsa_nb/checks/{CHECK_ID}.yaml",
        f"tests/checks/test_{CHECK_ID}.py",
    ]
    for path, body in files.items():
        (tmp_path / Path(path).name).write_text(body, encoding="utf-8")
    names = [f"irsa_nb.checks.{CHECK_ID}", f"tests.checks.test_{CHECK_ID}"]
    try:
        registry.register(_load(names[0], tmp_path / f"{CHECK_ID}.py"))
        yield _load(names[1], tmp_path / f"test_{CHECK_ID}.py")
    finally:
        REGISTRY.pop(CHECK_ID, None)
        for lang in text.LANGUAGES:
            text._REGISTERED[lang].pop(CHECK_ID, None)
        text.catalogue.cache_clear()
        text._compiled.cache_clear()
        for name in names:
            sys.modules.pop(name, None)


def test_the_walk_through_makes_a_check_whose_own_tests_pass(example_check):
    chk = REGISTRY[CHECK_ID]
    assert (chk.scope, chk.severity, chk.seed_step) == ("service_account", "medium", None)
    assert chk.summary and text.lookup("zh", CHECK_ID, "title") != text.lookup(
        "en", CHECK_ID, "title"
    )
    tests = [getattr(example_check, n) for n in dir(example_check) if n.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test()
    test_outcome_texts.test_every_outcome_a_check_emits_has_a_text_in_every_language(CHECK_ID)
    test_outcome_texts.test_both_languages_declare_the_same_outcomes(CHECK_ID)


def test_no_example_check_outside_the_walk_through():
    assert CHECK_ID not in REGISTRY
    assert CHECK_ID not in text.catalogue("en")
