"""HTML rendering: escaping, order, colours and links."""

from __future__ import annotations

import pandas as pd

import irsa_nb
from irsa_nb.checks import RESULT_COLUMNS
from irsa_nb.report import where
from irsa_nb.widgets import Message, render

EVIL = '<img src=x onerror="alert(1)">&amp;'


def row(**kw) -> dict:
    base = dict.fromkeys(RESULT_COLUMNS, "")
    base.update(check_id="role_exists", title="t", status="PASS", severity="high")
    base.update(kw)
    return base


def test_every_cell_is_escaped():
    df = pd.DataFrame(
        [
            row(
                status="FAIL",
                title=EVIL,
                namespace=EVIL,
                pod=EVIL,
                detail=EVIL,
                remediation=EVIL,
                doc_url="javascript:alert(1)",
            )
        ]
    )
    html = render.results_table_html(df) + render.findings_html(df)
    html += render.messages_html([Message("error", EVIL)]) + render.summary_html({"FAIL": 1}, EVIL)
    assert "<img" not in html and "javascript:" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;" in html
    assert "<a " not in render.findings_html(df)  # a non-http doc URL is not linked


def test_unknown_status_cannot_inject_attributes():
    html = render.results_table_html(pd.DataFrame([row(status='"><b>x</b>')]))
    assert "<b>x" not in html and 'data-status="&quot;&gt;&lt;b&gt;x&lt;/b&gt;"' in html


def test_problems_come_first_and_keep_check_order():
    df = pd.DataFrame(
        [
            row(check_id="a", status="PASS"),
            row(check_id="b", status="WARN"),
            row(check_id="c", status="FAIL"),
            row(check_id="d", status="SKIP"),
            row(check_id="e", status="ERROR"),
            row(check_id="f", status="FAIL"),
        ]
    )
    assert render.problems_first(df).check_id.tolist() == ["c", "f", "e", "b", "d", "a"]
    html = render.findings_html(df)
    assert [c for c in "cfeb" if f'data-check="{c}" open' in html] == ["c", "f", "e"]
    assert 'data-check="b"' in html and 'data-check="d"' not in html  # SKIP not explained


def test_status_colours_and_links():
    df = irsa_nb.run_checks(irsa_nb.load_bundle("demo"), "shop", "cart")
    table = render.results_table_html(df)
    assert 'irsa-badge-fail" style="background:#cf222e' in table
    assert 'irsa-badge-pass" style="background:#1a7f37' in table
    findings = render.findings_html(df)
    assert '<a href="https://docs.aws.amazon.com/' in findings
    assert 'target="_blank" rel="noopener noreferrer"' in findings
    assert where(df.iloc[0].to_dict()) == "(cluster)"
    assert render.results_table_html(df.iloc[0:0]) == '<p class="irsa-results">No results.</p>'
    assert render.results_table_html(None) == render.findings_html(None) == ""


def test_summary_counts_in_status_order():
    html = render.summary_html({"SKIP": 2, "PASS": 10, "FAIL": 1}, "service account shop/cart")
    assert html.index(">PASS<") < html.index(">FAIL<") < html.index(">SKIP<")
    assert "<b>13 results</b> for service account shop/cart" in html


def test_diagnosis_table_and_confirmation_words():
    df = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "error": ["E3 AccessDenied"] * 3,
            "cause": ["trust <policy>", "scp", "role gone"],
            "check_ids": [["trust_policy_allows_service_account"], [], ["role_exists"]],
            "fix": ["aws iam get-role\n  --role-name <R>", "", "x"],
            "confirmed": [True, None, False],
        }
    )
    html = render.diagnosis_html(df)
    assert "Error: <code>E3 AccessDenied</code>" in html
    assert html.count('<tr class="irsa-cause">') == 3
    assert "trust &lt;policy&gt;" in html and "--role-name &lt;R&gt;" in html
    assert "yes: a check shows it" in html and "no: the checks passed" in html
    assert "not known" in html
    mixed = df.assign(error=["A", "B", "B"])
    assert "<th" in render.diagnosis_html(mixed) and ">Error</th>" in render.diagnosis_html(mixed)


def test_evidence_links_are_relative_and_escaped():
    class Saved:
        verdict = "FAIL"
        folder = "evidence/x<y>"

    html = render.evidence_html(Saved(), "evidence/a%20b/runbook.html", None)
    assert 'href="evidence/a%20b/runbook.html"' in html
    assert "x&lt;y&gt;" in html and "irsa-badge-fail" in html
    assert "with code" not in html
    assert render.evidence_html(None, None) == ""


def test_a_spec_only_pass_shows_its_detail_in_the_results_table():
    """The Explorer renders rows generically: the spec-only caveat of no_credentials_override
    (issue 15, item 7) reaches it in either language."""
    inv = irsa_nb.load_bundle("demo")
    for lang, words in (("en", "from the spec only"), ("zh", "仅依据 Pod 规约")):
        df = irsa_nb.run_checks(
            inv, namespace="shop", service_account="checkout", lang=lang,
            checks=["no_credentials_override"],
        )  # fmt: skip
        assert words in render.results_table_html(df)
