"""JupyterLab smoke test: open the explorer notebook, run it, use the app in its output.

Selectors are scoped to the output area: Lab's own toolbar has a combobox (cell type).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.kernel]


def test_lab_runs_the_explorer_notebook(page, lab_server):
    from playwright.sync_api import expect

    page.goto(lab_server.url + "/lab/tree/notebooks/irsa_explorer.ipynb")
    # the kernel is connected once the status bar says so ("Run All" before that is lost)
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=90_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    app = page.locator(".jp-OutputArea .irsa-explorer")
    expect(app).to_be_visible(timeout=90_000)
    expect(app.locator(".irsa-source-info")).to_contain_text("cluster shop-prod")
    app.locator(".irsa-namespace select").select_option(label="shop")
    app.locator(".irsa-service-account select").select_option(label="cart → role irsa-cart")
    app.locator(".irsa-run-button").click()

    fail = app.locator(".irsa-table tr.irsa-row[data-status='FAIL']")
    expect(fail).to_have_count(1)
    expect(fail).to_contain_text("does not trust system:serviceaccount:shop:cart")
    expect(app.locator(".irsa-findings .irsa-remediation").first).to_be_visible()
    screenshot(page, "lab-cart-fail")

    # "Save evidence": the relative link opens the HTML report inside JupyterLab
    app.locator(".irsa-save-button").click()
    link = app.locator(".irsa-evidence a.irsa-evidence-link")
    expect(link).to_be_visible(timeout=120_000)
    with page.context.expect_page() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    assert "/lab/tree/notebooks/evidence/shop-cart-" in report.url, report.url
    viewer = report.frame_locator(".jp-HTMLViewer iframe")
    expect(viewer.locator("body")).to_contain_text(
        "trust_policy_allows_service_account", timeout=60_000
    )
    screenshot(report, "lab-evidence-report")
    report.close()
