"""No dangling references: code comments and docs point into the repository or to public URLs,
never to notes that are not part of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Spellings of references to material outside the repository (a private reference file, its
#: section marks, a sibling folder of the checkout).
OUTSIDE = ("irsa-domain", "../shared", "/shared/reference", "§", "DESIGN.md")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    suffixes = {".py", ".md", ".yaml", ".yml", ".toml", ".in", ".ipynb", ".txt", ".cfg", ""}
    return [ROOT / n for n in names if Path(n).suffix in suffixes and (ROOT / n).is_file()]


def test_nothing_refers_to_files_outside_the_repository():
    me = Path(__file__).resolve()
    hits = []
    for path in tracked_text_files():
        if path == me:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        hits += [f"{path.relative_to(ROOT)}: {word}" for word in OUTSIDE if word in text]
    assert hits == []
