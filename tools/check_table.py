"""The README's table of checks, generated from the registry (each check's ``summary``).

``python tools/check_table.py`` prints it; ``--write`` replaces the table under
``### The checks`` in README.md. tests/checks/test_docs.py fails when the README's table is
not the generated one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HEAD = "| seed step | check id | what it verifies |\n|---|---|---|\n"


def table() -> str:
    """The Markdown table: one row per registered check, in run order."""
    from irsa_nb.checks.registry import ordered_checks

    rows = [
        f"| {c.seed_step or '—'} | `{c.id}` | {c.summary} |\n"
        for c in ordered_checks()  # (importing irsa_nb.checks registers every check)
    ]
    return HEAD + "".join(rows)


def readme_table(readme: str) -> tuple[int, int]:
    """Where the table stands in the README text: (start, end) offsets."""
    start = readme.index(HEAD, readme.index("### The checks"))
    end = readme.index("\n\n", start) + 1
    return start, end


def main(argv: list[str]) -> int:
    import irsa_nb.checks  # noqa: F401  (registers the checks)

    if argv[1:] == ["--write"]:
        readme = README.read_text(encoding="utf-8")
        start, end = readme_table(readme)
        README.write_text(readme[:start] + table() + readme[end:], encoding="utf-8")
    else:
        sys.stdout.write(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
