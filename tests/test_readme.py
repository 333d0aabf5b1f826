"""The README stays a front page: short, the two set-up commands first, every link resolving.

Links into the repository are checked here (a file or folder must exist); the docs site's own
links are checked by ``mkdocs build --strict`` in ``make test``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: Markdown links and images: [text](target) and ![alt](target).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(text: str) -> list[str]:
    return [
        t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and t[0] != "#"
    ]


def test_the_readme_is_at_most_150_lines():
    assert len(README.splitlines()) <= 150


def test_every_relative_link_of_the_readme_resolves():
    links = relative_links(README)
    assert "docs/getting-started.md" in links and "docs/images/explorer.png" in links
    missing = [t for t in links if not (ROOT / t.split("#", 1)[0]).exists()]
    assert missing == []


def test_the_link_finder_sees_a_broken_link():
    text = "see [a](docs/nowhere.md), ![b](img/x.png), [c](https://example.com), [d](#top)"
    assert relative_links(text) == ["docs/nowhere.md", "img/x.png"]
    assert not (ROOT / "docs/nowhere.md").exists()


def test_the_readme_keeps_the_set_up_commands_and_the_python_three_liner():
    assert "make demo    # set up .venv" in README and "make test    # set up .venv" in README
    python = README.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(python.strip().splitlines()) == 3 and "run(Source(" in python
