"""Fail in one line when requirements.lock no longer satisfies pyproject.toml.

Every dependency of the project and of each extra must be pinned in the lock at a version
its range accepts (for a universal lock, every pinned variant must). A lock that does not is
stale: ``make lock`` regenerates it. Exit 0 when the lock is current, 1 when it is stale.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def locked_versions(lock_text: str) -> dict[str, set[Version]]:
    """Package name -> the versions the lock pins for it (more than one under markers)."""
    pins: dict[str, set[Version]] = {}
    for line in lock_text.splitlines():
        m = PIN.match(line)
        if m:
            pins.setdefault(canonicalize_name(m.group(1)), set()).add(Version(m.group(2)))
    return pins


def requirements(pyproject_text: str) -> list[Requirement]:
    """The project's dependencies and those of every extra, without self-references."""
    project = tomllib.loads(pyproject_text)["project"]
    own = canonicalize_name(project["name"])
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs.extend(extra)
    return [r for r in map(Requirement, specs) if canonicalize_name(r.name) != own]


def stale(pyproject_text: str, lock_text: str) -> list[str]:
    """One phrase per requirement the lock does not satisfy; empty when it is current."""
    pins = locked_versions(lock_text)
    problems = []
    for req in requirements(pyproject_text):
        versions = pins.get(canonicalize_name(req.name))
        if not versions:
            problems.append(f"{req} is not in the lock")
            continue
        bad = sorted(str(v) for v in versions if not req.specifier.contains(v, prereleases=True))
        if bad:
            problems.append(f"{req} but the lock pins {req.name}=={', '.join(bad)}")
    return problems


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else ROOT / "pyproject.toml"
    lock = Path(argv[1]) if len(argv) > 1 else ROOT / "requirements.lock"
    problems = stale(pyproject.read_text(), lock.read_text())
    if problems:
        print(
            f"{lock.name} is stale ({'; '.join(problems)}): run `make lock` and commit it",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
