"""Time the install step of `make test` on a fresh clone: pip vs uv, no cache either way.

    python benchmarks/bench_install.py [--python python3.11]

Baseline: the former recipe, ``pip install -e '.[test]'`` into a new venv (open ranges, no
cache). Measured: today's recipe, ``pip install uv`` then ``uv pip sync requirements.lock`` and
``uv pip install --no-deps -e .`` (no cache). Both download everything from the package index,
in the same run; the ratio is uv / pip.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="python3.11")
    args = parser.parse_args()
    uv_version = re.search(r"^uv==(\S+)", (ROOT / "requirements.lock").read_text(), re.M)
    assert uv_version, "requirements.lock pins no uv"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PIP_NO_CACHE_DIR": "1", "UV_NO_CACHE": "1"}
        pip_venv, uv_venv = Path(tmp) / "pip", Path(tmp) / "uv"
        pip_s = _run([args.python, "-m", "venv", str(pip_venv)], env)
        pip_s += _run(
            [f"{pip_venv}/bin/python", "-m", "pip", "install", "-q", "-e", ".[test]"], env
        )
        uv_s = _run([args.python, "-m", "venv", str(uv_venv)], env)
        uv = f"{uv_venv}/bin/uv"
        py = ["--python", f"{uv_venv}/bin/python"]
        uv_s += _run(
            [f"{uv_venv}/bin/python", "-m", "pip", "install", "-q", "uv==" + uv_version[1]], env
        )
        uv_s += _run([uv, "pip", "sync", "-q", *py, "requirements.lock"], env)
        uv_s += _run([uv, "pip", "install", "-q", *py, "--no-deps", "-e", "."], env)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"pip install -e '.[test]' (no cache):      {pip_s:7.1f} s")
    print(f"uv pip sync requirements.lock (no cache): {uv_s:7.1f} s")
    print(f"ratio uv / pip:                           {uv_s / pip_s:7.2f}")


if __name__ == "__main__":
    main()
