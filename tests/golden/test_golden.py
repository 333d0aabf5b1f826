"""Golden results: `irsa-nb check --format json --all` of every demo bundle and of a seeded
synthetic world, byte for byte. A refactor keeps them; a deliberate fix regenerates them
(``IRSA_NB_UPDATE_GOLDEN=1 pytest tests/golden``) and its commit names the rows it changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from irsa_nb.cli import main
from irsa_nb.demo import demo_names
from tests.builders.synthetic import synthetic_cluster, write_bundle_files

GOLDEN = Path(__file__).parent
UPDATE = os.environ.get("IRSA_NB_UPDATE_GOLDEN") == "1"
CASES = [(f"demo:{name}", lang) for name in demo_names() for lang in ("en", "zh")]


def _check_json(capsys, bundle: str, lang: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check", "--bundle", bundle, "--format", "json", "--all", "--lang", lang])
    return code, capsys.readouterr().out


def _compare(name: str, code: int, out: str) -> None:
    path = GOLDEN / f"{name}.json"
    text = f"// exit {code}\n{out}"
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"no golden file {path.name}: run with IRSA_NB_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{path.name} differs from the golden results"


@pytest.mark.parametrize(("bundle", "lang"), CASES, ids=[f"{b}-{lang}" for b, lang in CASES])
def test_demo_bundles_keep_their_results(capsys, bundle, lang):
    code, out = _check_json(capsys, bundle, lang)
    _compare(f"{bundle.split(':')[1]}.{lang}", code, out)


def test_a_synthetic_world_keeps_its_results(capsys, tmp_path):
    data = synthetic_cluster(n_service_accounts=120, n_pods=480, n_roles=40, n_namespaces=6)
    write_bundle_files(data, tmp_path)
    code, out = _check_json(capsys, str(tmp_path), "en")
    _compare("synthetic.en", code, out)
