"""The docs site's link rewriting (tools/mkdocs_hooks.py): links written for GitHub become site
pages or GitHub addresses, and a link to nothing stays as written for --strict to report."""

from __future__ import annotations

from types import SimpleNamespace

from tools.mkdocs_hooks import on_page_markdown

CONFIG = SimpleNamespace(repo_url="https://github.com/example-org/irsa-nb")


def page(src_uri: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri))


def rewrite(markdown: str, src_uri: str) -> str:
    return on_page_markdown(markdown, page(src_uri), CONFIG, files=None)


def test_a_root_page_links_docs_pages_by_their_site_path_and_code_on_github():
    md = "see [p](docs/permissions.md#binding) and [r](irsa_nb/redact.py)"
    assert rewrite(md, "security.md") == (
        "see [p](permissions.md#binding) and "
        "[r](https://github.com/example-org/irsa-nb/blob/main/irsa_nb/redact.py)"
    )


def test_a_docs_page_links_root_pages_images_and_pages_in_subfolders():
    md = "[c](../../CONTRIBUTING.md) ![x](../images/explorer.png) [a](../architecture.md)"
    assert rewrite(md, "reference/checks.md") == (
        "[c](../contributing.md) ![x](../images/explorer.png) [a](../architecture.md)"
    )


def test_urls_anchors_and_links_to_nothing_stay_as_written():
    md = "[u](https://aws.amazon.com/) [a](#top) [m](mailto:x@example.com) [n](nowhere.md)"
    assert rewrite(md, "live.md") == md
