"""binder/: the pins are the lock's (what the tests run with), and a fresh environment built the way
Binder builds it (venv, requirements.txt, postBuild from the repository root) runs the
notebooks and serves the Binder URLs.

The build is slow (a pip install of the whole stack): ``pytest -m "not slow"`` skips it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import OUTPUT, REPO, Server, free_port
from tools.check_lock import locked_versions

BINDER = REPO / "binder"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s#]+)")
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "build",
    "dist",
    "test-output",
    "evidence",
    ".ipynb_checkpoints",
)


def pins() -> dict[str, str]:
    out = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            out[_norm(m.group(1))] = m.group(2)
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_pin_the_versions_of_the_lock():
    """Binder installs exactly what `make test` installs: its pins are the lock's."""
    pinned = pins()
    assert {"voila", "boto3", "pandas", "ipywidgets"} <= set(pinned)
    locked = locked_versions((REPO / "requirements.lock").read_text())
    # a universal lock may pin a second version for newer Pythons; Binder runs 3.11
    differ = {n: v for n, v in pinned.items() if v not in map(str, locked.get(n, ()))}
    assert differ == {}


def test_requirements_cover_the_package_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    needed = {_norm(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in project["dependencies"]}
    assert needed <= set(pins()), needed - set(pins())


def test_binder_scripts_are_executable_and_strict():
    post, start = BINDER / "postBuild", BINDER / "start"
    assert os.access(post, os.X_OK) and os.access(start, os.X_OK)
    assert "set -euo pipefail" in post.read_text() and "pip install" in post.read_text()
    assert start.read_text().rstrip().endswith('exec "$@"')
    assert not (REPO / "requirements.txt").exists()  # Binder would ignore it anyway


@pytest.mark.slow
def test_fresh_binder_environment_runs_the_notebooks(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo, ignore=COPY_IGNORE)  # what repo2docker copies into the image
    venv = tmp_path / "venv"
    log = OUTPUT / "binder-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        # no user-level Jupyter config, kernels or runtime files from this machine
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter" / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter" / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter" / "runtime"),
        KUBECONFIG=str(tmp_path / "no-kubeconfig"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONNOUSERSITE="1",
    )

    def run(*cmd: str | Path, cwd: Path = repo, timeout: float = 900) -> str:
        with open(log, "a") as out:
            out.write(f"\n$ {' '.join(map(str, cmd))}\n")
            out.flush()
            proc = subprocess.run(
                [str(c) for c in cmd],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
            out.write(proc.stdout)
        assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-4000:]}"
        return proc.stdout

    log.write_text("")
    run(sys.executable, "-m", "venv", venv)
    py = venv / "bin" / "python"
    run(py, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt")
    run("binder/postBuild")

    probe = "import irsa_nb, irsa_nb.widgets, voila; print(irsa_nb.__file__)"
    where = run(py, "-c", probe, cwd=tmp_path)  # not the copy's folder on sys.path
    assert str(venv) in where  # installed from the copy, not the repo's editable install
    cfg = venv / "etc" / "jupyter" / "voila.json"
    assert json.loads(cfg.read_text()) == json.loads((BINDER / "voila.json").read_text())

    # the notebooks, executed as Binder users would run them
    nb = repo / "notebooks"
    run(py, "-m", "papermill", "irsa_explorer.ipynb", tmp_path / "explorer.out.ipynb", cwd=nb)
    out = json.loads((tmp_path / "explorer.out.ipynb").read_text())
    outputs = [o for c in out["cells"] for o in c.get("outputs", [])]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    if (nb / "irsa_runbook.ipynb").exists():
        run(
            py,
            "-m",
            "papermill",
            "irsa_runbook.ipynb",
            tmp_path / "runbook.out.ipynb",
            "-p",
            "service_account",
            "checkout",
            cwd=nb,
        )
        runbook = (tmp_path / "runbook.out.ipynb").read_text()
        assert "shop/checkout" in runbook

    # the Binder URLs: JupyterLab with the Voila server extension, as mybinder starts it
    (nb / "evidence" / "run1").mkdir(parents=True)
    (nb / "evidence" / "run1" / "runbook.html").write_text("<html><body>report</body></html>")
    port = free_port()
    server_log = OUTPUT / f"binder-lab-{port}.log"
    with open(server_log, "wb") as out:
        proc = subprocess.Popen(
            [
                BINDER / "start",
                py,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                f"--port={port}",
                "--ServerApp.ip=127.0.0.1",
                "--IdentityProvider.token=",
                "--ServerApp.password=",
            ],
            cwd=repo,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(proc, f"http://127.0.0.1:{port}", server_log)
    try:
        server.wait_ready("/api/status")
        page = fetch(server.url + "/voila/render/notebooks/irsa_explorer.ipynb")
        assert "application/vnd.jupyter.widget-view+json" in page
        assert "Traceback" not in page
        fetch(server.url + "/lab/tree/notebooks/irsa_runbook.ipynb")  # 200: Lab opens it
        contents = json.loads(fetch(server.url + "/api/contents/notebooks/irsa_runbook.ipynb"))
        assert contents["type"] == "notebook"
        report = fetch(server.url + "/voila/render/notebooks/evidence/run1/runbook.html")
        assert "report" in report  # redirected to /voila/files/..., allowed by voila.json
        with pytest.raises(urllib.error.HTTPError) as denied:
            fetch(server.url + "/voila/files/notebooks/irsa_explorer.ipynb")
        assert denied.value.code == 403
    finally:
        server.stop()


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.read().decode("utf-8", "replace")
