"""tools/screenshots.py still renders the docs' pictures (the report and the Explorer)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys

import pytest

from tests.e2e.conftest import CHROMIUM, REPO

pytestmark = [pytest.mark.browser, pytest.mark.kernel, pytest.mark.slow]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_screenshot_script_renders_both_pictures(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "screenshots.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("evidence-report.png", "explorer.png"):
        data = (tmp_path / name).read_bytes()
        assert png_size(data) == (1280, 860) and len(data) > 20_000
    assert sorted(p.name for p in (REPO / "docs" / "images").glob("*.png")) == [
        "evidence-report.png",
        "explorer.png",
    ]
