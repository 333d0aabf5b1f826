"""Browser fixtures: Voila and JupyterLab servers on 127.0.0.1 (free port) and Debian's
chromium driven by Playwright for Python. Every server, kernel and browser is stopped in
teardown. Without /usr/bin/chromium or playwright the browser tests skip, saying why."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("IRSA_NB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
OUTPUT = REPO / "test-output" / "e2e"
STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A server subprocess; :meth:`stop` ends it and every process it started (kernels run
    in their own sessions, so a process-group kill would miss them)."""

    proc: subprocess.Popen
    url: str
    log: Path

    def wait_ready(self, path: str = "/") -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as r:
                    if r.status < 500:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"server not ready after {STARTUP_SECONDS}s:\n{self.tail()}")

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        import psutil

        try:
            family = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(True)]
        except psutil.NoSuchProcess:
            family = []
        for p in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(family, timeout=10)
        for p in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        psutil.wait_procs(alive, timeout=5)
        self.proc.wait(timeout=5)


def start_server(args: list[str], cwd: Path, log: Path, ready_path: str, port: int) -> Server:
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(cwd / ".jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(cwd / ".jupyter-runtime"),
        # no user-level kernelspecs or extensions: python3 comes from sys.prefix/share/jupyter
        "JUPYTER_DATA_DIR": str(cwd / ".jupyter-data"),
        "JUPYTERLAB_WORKSPACES_DIR": str(cwd / ".jupyter-workspaces"),
        "PYTHONUNBUFFERED": "1",
    }
    for k in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH"):  # nor extra directories of this machine
        env.pop(k, None)
    for k in [k for k in env if k.startswith("AWS_")]:  # no real credentials in the app
        env.pop(k)
    env["KUBECONFIG"] = str(cwd / "no-kubeconfig")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        server.wait_ready(ready_path)
    except BaseException:
        server.stop()
        raise
    return server


def app_tree(tmp: Path) -> Path:
    """A copy of what Binder serves: notebooks/ and the Voila config from binder/."""
    (tmp / "notebooks").mkdir(parents=True)
    shutil.copy(REPO / "notebooks" / "irsa_explorer.ipynb", tmp / "notebooks")
    shutil.copy(REPO / "binder" / "voila.json", tmp / "voila.json")
    return tmp


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run installs it)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception:
        pw.stop()
        raise
    yield b
    b.close()
    pw.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    report = yield
    setattr(item, f"report_{report.when}", report)  # lets fixtures see whether the test failed
    return report


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 1400})  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot(pg, f"FAILED-{request.node.name}")
    context.close()


@pytest.fixture(scope="module")
def voila_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = app_tree(tmp_path_factory.mktemp("voila"))
    port = free_port()
    server = start_server(
        [
            "voila",
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True",
            str(root),
        ],
        cwd=root,
        log=OUTPUT / f"voila-{port}.log",
        ready_path="/voila/tree",
        port=port,
    )
    server.root = root  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = app_tree(tmp_path_factory.mktemp("lab"))
    cfg = root / ".jupyter-config" / "labconfig"
    cfg.mkdir(parents=True)
    # no "Jupyter news" toast over the page
    (cfg / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}'
    )
    port = free_port()
    server = start_server(
        [
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.workspaces_dir={root / '.jupyter-workspaces'}",
        ],
        cwd=root,
        log=OUTPUT / f"lab-{port}.log",
        ready_path="/api/status",
        port=port,
    )
    server.root = root  # type: ignore[attr-defined]
    yield server
    server.stop()


def screenshot(page: object, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
