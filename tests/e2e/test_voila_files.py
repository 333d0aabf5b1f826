"""Voila's file serving for the explorer's evidence links (HTTP only, no browser)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import OUTPUT, REPO, free_port, start_server

pytestmark = pytest.mark.kernel


def test_single_notebook_voila_serves_evidence_links(tmp_path):
    """``voila --Voila.config_file_paths=binder notebooks/irsa_explorer.ipynb``
    (docs/explorer.md): the relative evidence link resolves to a file Voila serves;
    notebooks stay private."""
    root = tmp_path / "app"
    (root / "notebooks" / "evidence" / "run1").mkdir(parents=True)
    (root / "notebooks" / "irsa_explorer.ipynb").write_text("{}")
    (root / "notebooks" / "evidence" / "run1" / "runbook.html").write_text("<p>report</p>")
    port = free_port()
    server = start_server(
        [
            "voila",
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--Voila.config_file_paths={REPO / 'binder'}",
            "notebooks/irsa_explorer.ipynb",
        ],
        cwd=root,
        log=OUTPUT / f"voila-single-{port}.log",
        ready_path="/voila/static/voila.js",
        port=port,
    )
    try:
        with urllib.request.urlopen(server.url + "/evidence/run1/runbook.html") as r:
            assert r.url.endswith("/voila/files/evidence/run1/runbook.html")
            assert r.read() == b"<p>report</p>"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(server.url + "/voila/files/irsa_explorer.ipynb")
        assert denied.value.code == 403
    finally:
        server.stop()


def test_irsa_nb_explorer_serves_the_app_and_its_evidence(tmp_path):
    """``irsa-nb explorer --dir DIR``: the packaged notebook is copied into DIR (never over a
    changed one) and served by Voila with the evidence allow-list of binder/voila.json."""
    root = tmp_path / "app"
    (root / "evidence" / "run1").mkdir(parents=True)
    (root / "evidence" / "run1" / "runbook.html").write_text("<p>report</p>")
    port = free_port()
    server = start_server(
        ["irsa_nb.cli", "explorer", "--dir", str(root), f"--port={port}", "--no-browser"],
        cwd=tmp_path,
        log=OUTPUT / f"irsa-nb-explorer-{port}.log",
        ready_path="/voila/static/voila.js",
        port=port,
    )
    try:
        assert (root / "irsa_explorer.ipynb").read_bytes() == (
            REPO / "notebooks" / "irsa_explorer.ipynb"
        ).read_bytes()
        with urllib.request.urlopen(server.url + "/voila/files/evidence/run1/runbook.html") as r:
            assert r.read() == b"<p>report</p>"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(server.url + "/voila/files/irsa_explorer.ipynb")
        assert denied.value.code == 403
    finally:
        server.stop()
