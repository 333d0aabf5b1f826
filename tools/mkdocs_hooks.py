"""MkDocs hooks: the repository's root pages join the site, and links written for GitHub work.

Pages link the way GitHub renders them, relative to their place in the repository
(``../CONTRIBUTING.md``, ``../irsa_nb/redact.py``, ``docs/permissions.md`` from the root).
Before MkDocs checks the links (``mkdocs build --strict`` fails on a broken one), each
relative link is resolved in the repository: a page of the site becomes its site path, any
other file of the repository its GitHub address (``repo_url``). A link to nothing is left
as written, so the strict build still reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
#: Root pages shown on the site, under these names.
ROOT_PAGES = {
    "SECURITY.md": "security.md",
    "CONTRIBUTING.md": "contributing.md",
    "BENCHMARKS.md": "benchmarks.md",
}
LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def on_files(files: Files, config) -> Files:
    for source, name in ROOT_PAGES.items():
        files.append(File.generated(config, name, abs_src_path=str(ROOT / source)))
    return files


def _repo_path(src_uri: str) -> str:
    """Where a site page lives in the repository."""
    inverse = {v: k for k, v in ROOT_PAGES.items()}
    return inverse.get(src_uri, f"docs/{src_uri}")


def _site_path(repo_path: str) -> str | None:
    if repo_path in ROOT_PAGES:
        return ROOT_PAGES[repo_path]
    if repo_path.startswith("docs/"):  # pages, images: every file under docs/ is on the site
        return repo_path[len("docs/") :]
    return None


def on_page_markdown(markdown: str, page, config, files) -> str:
    here = posixpath.dirname(_repo_path(page.file.src_uri))
    site_here = posixpath.dirname(page.file.src_uri)
    blob = (config.repo_url or "").rstrip("/") + "/blob/main/"

    def fix(m: re.Match[str]) -> str:
        target = m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return m.group(0)  # a URL or an absolute path: as written
        repo_path = posixpath.normpath(posixpath.join(here, target))
        site = _site_path(repo_path)
        if site is not None and (ROOT / repo_path).exists():
            new = posixpath.relpath(site, site_here or ".")
        elif (
            not repo_path.startswith("..") and (ROOT / repo_path).exists() and blob != "/blob/main/"
        ):
            new = blob + repo_path
        else:
            return m.group(0)  # nothing there: the strict build reports it
        return f"{m.group(1)}{new}{m.group(3) or ''}{m.group(4)}"

    return LINK.sub(fix, markdown)
