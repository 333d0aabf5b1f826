"""The explorer notebook as a Voila app in Debian's chromium (Playwright for Python).

Voila serves a copy of notebooks/ plus binder/voila.json at the URL Binder uses
(``/voila/render/notebooks/irsa_explorer.ipynb``). Screenshots go to test-output/e2e/.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import screenshot
from tests.faces.widgets.helpers import EVIL_ROLE, EVIL_SA, write_hostile_bundle

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

APP = "/voila/render/notebooks/irsa_explorer.ipynb"


def open_app(page, server):
    page.goto(server.url + APP)
    page.locator(".irsa-explorer .irsa-run-button").wait_for(state="visible")
    return page


def choose(page, widget: str, label: str) -> None:
    page.locator(f".irsa-{widget} select").select_option(label=label)


def test_failing_service_account_shows_fail_rows_and_fix(page, voila_server):
    from playwright.sync_api import expect

    open_app(page, voila_server)
    expect(page.locator(".irsa-source-info")).to_contain_text("cluster shop-prod (us-west-2)")
    choose(page, "namespace", "shop")
    choose(page, "service-account", "payments → role irsa-payments")
    page.locator(".irsa-run-button").click()

    fail_rows = page.locator(".irsa-table tr.irsa-row[data-status='FAIL']")
    expect(fail_rows).to_have_count(1)
    expect(fail_rows.first).to_contain_text("The annotated IAM role exists")
    expect(fail_rows.first).to_contain_text("does not exist (NoSuchEntity)")
    expect(fail_rows.first.locator(".irsa-badge")).to_have_css(
        "background-color", "rgb(207, 34, 46)"
    )
    finding = page.locator(".irsa-findings details[data-check='role_exists']")
    expect(finding).to_have_attribute("open", "")
    expect(finding.locator(".irsa-remediation")).to_be_visible()
    expect(finding.locator(".irsa-remediation")).to_contain_text(
        "aws iam create-role --role-name irsa-payments"
    )
    expect(page.locator(".irsa-summary")).to_contain_text("for service account shop/payments")
    expect(page.locator(".irsa-run-button")).to_be_enabled()
    expect(page.locator(".irsa-status")).to_contain_text(re.compile(r"Ran \d+ checks"))
    screenshot(page, "voila-payments-fail")


def test_hostile_bundle_strings_render_as_text(page, voila_server):
    from playwright.sync_api import expect

    write_hostile_bundle(voila_server.root / "notebooks" / "hostile")
    open_app(page, voila_server)
    page.locator(".irsa-source-kind button", has_text="Bundle").click()
    page.locator(".irsa-bundle-path input").fill("hostile")  # relative to the notebook
    page.locator(".irsa-load-bundle-button").click()
    expect(page.locator(".irsa-source-info")).to_contain_text("Loaded: bundle hostile")
    page.locator(".irsa-service-account select").select_option(
        label=f"{EVIL_SA} → invalid role ARN {EVIL_ROLE}"
    )
    page.locator(".irsa-run-button").click()
    row = page.locator(
        ".irsa-table tr.irsa-row[data-status='FAIL'][data-check='service_account_role_annotation']"
    )
    expect(row).to_contain_text(EVIL_ROLE)  # shown literally, as text
    expect(page.locator(".irsa-findings")).to_contain_text(EVIL_SA)
    assert page.locator(".irsa-explorer img").count() == 0
    assert page.locator(".irsa-explorer script").count() == 0
    assert page.locator(".irsa-table b", has_text="bold").count() == 0
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "voila-hostile")


def test_save_evidence_links_the_html_report(page, voila_server):
    from playwright.sync_api import expect

    pytest.importorskip("irsa_nb.runbook")
    open_app(page, voila_server)
    choose(page, "service-account", "cart → role irsa-cart")
    page.locator(".irsa-save-button").click()
    link = page.locator(".irsa-evidence a.irsa-evidence-link")
    expect(link).to_be_visible(timeout=120_000)
    expect(page.locator(".irsa-evidence-messages")).to_contain_text("verdict FAIL")
    href = link.get_attribute("href")
    assert href and re.fullmatch(r"evidence/shop-cart-\d{8}T\d{6}Z/[\w.-]+\.html", href)
    with page.context.expect_page() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    assert "/voila/files/notebooks/evidence/shop-cart-" in report.url
    expect(report.locator("body")).to_contain_text("trust_policy_allows_service_account")
    screenshot(report, "voila-evidence-report")
    report.close()
    screenshot(page, "voila-evidence")


def test_explain_an_error(page, voila_server):
    from playwright.sync_api import expect

    pytest.importorskip("irsa_nb.diagnose")
    open_app(page, voila_server)
    page.locator(".irsa-error-text textarea").fill(
        "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity "
        "operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"
    )
    page.locator(".irsa-explain-button").click()
    causes = page.locator(".irsa-diagnosis tr.irsa-cause")
    expect(causes.first).to_be_visible()
    expect(page.locator(".irsa-diagnosis")).to_contain_text("trust")
    screenshot(page, "voila-explain")
