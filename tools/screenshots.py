"""The docs' screenshots, rendered rather than captured by hand.

``python tools/screenshots.py`` (``make screenshots``) writes
``docs/images/evidence-report.png`` (the HTML report of the runbook on the demo's ``shop/cart``)
and ``docs/images/explorer.png`` (the Explorer as a Voila app, ``shop/cart`` checked); ``--out
DIR`` writes them elsewhere. It drives Debian's chromium (``/usr/bin/chromium``, or
``IRSA_NB_CHROMIUM``) with Playwright for Python and starts Voila as the browser tests in
``tests/e2e`` do; run it again after a change to the report or the Explorer and commit the
pictures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.e2e.conftest: the servers and browser set-up

from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    app_tree,
    free_port,
    start_server,
)

IMAGES = ROOT / "docs" / "images"
VIEWPORT = {"width": 1280, "height": 860}


def evidence_report(browser, work: Path, out_dir: Path) -> Path:
    """The runbook's HTML report (no code) of the demo's failing shop/cart."""
    from irsa_nb import Source, Target
    from irsa_nb.runbook import run_runbook

    res = run_runbook(work / "evidence" / "cart", Source(bundle="demo"), Target("shop", "cart"))
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(res.html.resolve().as_uri())
    page.wait_for_load_state("networkidle")
    out = out_dir / "evidence-report.png"
    page.screenshot(path=str(out))
    page.close()
    return out


def explorer(browser, work: Path, out_dir: Path) -> Path:
    """The Explorer in Voila with shop/cart checked."""
    root = app_tree(work / "voila")
    port = free_port()
    server = start_server(
        ["voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", str(root)],
        cwd=root,
        log=work / "voila.log",
        ready_path="/voila/tree",
        port=port,
    )
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(90_000)
        page.goto(server.url + "/voila/render/notebooks/irsa_explorer.ipynb")
        page.locator(".irsa-explorer .irsa-run-button").wait_for(state="visible")
        page.locator(".irsa-namespace select").select_option(label="shop")
        option = page.locator(".irsa-service-account select option", has_text="cart →").first
        page.locator(".irsa-service-account select").select_option(label=option.inner_text())
        page.locator(".irsa-run-button").click()
        page.locator(".irsa-status", has_text="Ran ").wait_for()
        page.locator(".irsa-findings details[open]").first.wait_for()
        out = out_dir / "explorer.png"
        page.screenshot(path=str(out))
        page.close()
        return out
    finally:
        server.stop()


def main(argv: list[str]) -> int:
    out_dir = Path(argv[argv.index("--out") + 1]) if "--out" in argv else IMAGES
    if not Path(CHROMIUM).exists():
        print(f"chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for shot in (evidence_report, explorer):
                print(shot(browser, Path(tmp), out_dir))
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
