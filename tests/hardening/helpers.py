"""Helpers for the hardening suite: demo documents to break, archives with hostile members,
the ``irsa-nb`` console script in a subprocess, and what its output must look like."""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from irsa_nb import demo_bundle
from irsa_nb.bundle import read_documents, write_documents

_CACHE: dict[str, dict] = {}
#: The columns that identify a result row (the text columns may be masked in CLI output).
KEY = ["check_id", "status", "namespace", "service_account", "pod"]


def demo_docs(name: str = "demo") -> dict[str, Any]:
    """A fresh, mutable copy of a demo bundle's documents."""
    if name not in _CACHE:
        _CACHE[name] = read_documents(demo_bundle(name))
    return copy.deepcopy(_CACHE[name])


def write_bundle(docs: dict[str, Any], out: Path) -> Path:
    """``docs`` as a bundle directory (or archive, by suffix); ``bytes`` values are written raw."""
    raw = {k: v for k, v in docs.items() if isinstance(v, bytes)}
    path = write_documents({k: v for k, v in docs.items() if k not in raw}, out)
    if raw:
        assert path.is_dir(), "raw bytes only in directory bundles"
        for name, data in raw.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_bytes(data)
    return path


def demo_files() -> dict[str, bytes]:
    """The demo bundle's files as ``{relative path: bytes}``."""
    root = demo_bundle("demo")
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@dataclass(frozen=True)
class Member:
    """An archive member: a regular file, a symlink, a hard link or a directory."""

    name: str
    data: bytes = b""
    kind: str = "file"  # file | symlink | hardlink | dir
    target: str = ""


def tar_archive(out: Path, members: Iterable[Member]) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        for m in members:
            info = tarfile.TarInfo(m.name)
            if m.kind == "file":
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
                continue
            info.type = {
                "symlink": tarfile.SYMTYPE,
                "hardlink": tarfile.LNKTYPE,
                "dir": tarfile.DIRTYPE,
            }[m.kind]
            info.linkname = m.target
            tar.addfile(info)
    return out


def zip_archive(out: Path, members: Iterable[Member]) -> Path:
    import stat

    with zipfile.ZipFile(out, "w") as zf:
        for m in members:
            info = zipfile.ZipInfo(m.name, date_time=(2026, 1, 1, 0, 0, 0))
            mode = stat.S_IFLNK | 0o777 if m.kind == "symlink" else stat.S_IFREG | 0o644
            info.external_attr = mode << 16
            zf.writestr(info, m.target.encode() if m.kind == "symlink" else m.data)
    return out


def demo_members(prefix: str = "") -> list[Member]:
    return [Member(prefix + name, data) for name, data in sorted(demo_files().items())]


# --- the console script ---------------------------------------------------------------------


def irsa_nb_command() -> list[str]:
    """The installed ``irsa-nb`` console script (the one users run)."""
    script = Path(sys.executable).with_name("irsa-nb")
    if script.is_file():
        return [str(script)]
    found = shutil.which("irsa-nb")
    return [found] if found else [sys.executable, "-m", "irsa_nb.cli"]


@dataclass
class CliRun:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def rows(self) -> pd.DataFrame:
        """The ``--format json`` rows."""
        return pd.DataFrame(json.loads(self.stdout))


def run_cli(
    argv: Sequence[str],
    env: dict[str, str] | None = None,
    timeout: float = 120,
    stdin: str | None = None,
) -> CliRun:
    """Run ``irsa-nb ARGV`` in a subprocess (no terminal, so no progress bar)."""
    full = {**os.environ, **(env or {}), "COLUMNS": "100"}
    proc = subprocess.run(
        [*irsa_nb_command(), *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full,
        input=stdin if stdin is not None else "",
    )
    return CliRun(list(argv), proc.returncode, proc.stdout, proc.stderr)


def run_many(argvs: Sequence[Sequence[str]], timeout: float = 300) -> list[CliRun]:
    """Several ``irsa-nb`` command lines in one subprocess (``cli_driver.py``: same
    :func:`irsa_nb.cli.main`, separate stdout/stderr per command line, one start-up)."""
    driver = Path(__file__).with_name("cli_driver.py")
    proc = subprocess.run(
        [sys.executable, str(driver)],
        input=json.dumps([list(a) for a in argvs]),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [
        CliRun(list(argv), o["returncode"], o["stdout"], o["stderr"])
        for argv, o in zip(argvs, json.loads(proc.stdout), strict=True)
    ]


def assert_one_line_error(run: CliRun, *needles: str) -> None:
    """Exit 2 with exactly one line on stderr naming the problem: no traceback, no bug."""
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2, (run.argv, run.returncode, run.stderr[-2000:])
    assert len(lines) == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def assert_clean_rows(run: CliRun) -> pd.DataFrame:
    """A completed ``check --format json``: exit 0/1/3 by the rule of
    :func:`irsa_nb.pipeline.exit_code` (1 a FAIL, else 3 an ERROR row), no traceback."""
    from irsa_nb.pipeline import exit_code, verdict

    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.returncode in (0, 1, 3), (run.argv, run.returncode, run.stderr[-2000:])
    assert len(run.stderr.strip().splitlines()) <= 1, run.stderr[-2000:]
    rows = run.rows()
    assert run.returncode == exit_code(verdict(rows))
    return rows


def same_rows(a: pd.DataFrame, b: pd.DataFrame, columns: Sequence[str] = KEY) -> None:
    """Two result frames have the same rows (on ``columns``), in the same order."""
    left = a[list(columns)].reset_index(drop=True).astype(str)
    right = b[list(columns)].reset_index(drop=True).astype(str)
    pd.testing.assert_frame_equal(left, right)
