"""Extras: what only some users need ([dask], [voila]) fails in one line naming the extra."""

from __future__ import annotations

import sys

import pytest

from irsa_nb.cli import main


@pytest.fixture
def targets(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text("bundle,namespace,service_account\ndemo,shop,cart\n")
    return path


def test_the_dask_executor_without_the_dask_extra_names_it(monkeypatch, capsys, targets, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    args = ["batch", "--targets", str(targets), "--out", str(tmp_path / "out")]
    code = main([*args, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "--executor dask needs the dask extra: pip install 'irsa-nb[dask]'" in err
    assert not (tmp_path / "out").exists()


def test_the_explorer_without_the_voila_extra_names_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "voila", None)
    code = main(["explorer", "--dir", str(tmp_path / "app"), "--no-browser"])
    err = capsys.readouterr().err
    assert (
        code == 2
        and err == "irsa-nb explorer needs the voila extra: pip install 'irsa-nb[voila]'\n"
    )
    assert not (tmp_path / "app").exists()
