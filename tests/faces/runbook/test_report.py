"""The runbook's library: verdict, sections, escaping, redaction, scrubbing (no kernel)."""

from __future__ import annotations

import json
import string

import pandas as pd
import pytest
import yaml

from irsa_nb import RESULT_COLUMNS, text
from irsa_nb.checks import REGISTRY
from irsa_nb.checks.registry import Check
from irsa_nb.evidence import PathScrubber, sanitize_notebook, stamp_status
from irsa_nb.live.aws import caller_identity
from irsa_nb.pipeline import run, verdict
from irsa_nb.redact import mask_results
from irsa_nb.report import (
    Report,
    failures,
    header_html,
    section_html,
    sections,
    summary_styler,
)
from tests.runs import parts

from .conftest import ACCESS_KEY, JWT, PASSWORD


def _row(**values: str) -> dict[str, str]:
    return {**dict.fromkeys(RESULT_COLUMNS, ""), **values}


def report(**kw) -> Report:
    return Report(run(*parts(**kw)))


@pytest.fixture(scope="module")
def cart() -> Report:
    return report(bundle="demo", namespace="shop", service_account="cart")


def test_verdict_is_the_worst_status():
    frame = lambda *s: pd.DataFrame({"status": list(s)})  # noqa: E731
    assert verdict(frame("PASS", "SKIP", "INFO")) == "PASS"
    assert verdict(frame("PASS", "WARN")) == "WARN"
    assert verdict(frame("WARN", "ERROR")) == "ERROR"
    assert verdict(frame("ERROR", "FAIL", "PASS")) == "FAIL"
    assert verdict(frame()) == "EMPTY"
    # nothing checked is not a PASS
    assert verdict(frame("SKIP", "INFO", "SKIP")) == "SKIP"


def test_sections_follow_the_seed_order_and_collect_new_checks_at_the_end(cart, monkeypatch):
    new = Check("zz_added_later", "cluster", "low", None, "https://example.com", lambda ctx: [])
    monkeypatch.setitem(REGISTRY, "zz_added_later", new)
    secs = sections(cart.results)
    steps = [s.step for s in secs]
    assert steps[:-1] == sorted(s for s in steps if s is not None)
    assert steps[-1] is None and "zz_added_later" in secs[-1].check_ids
    assert secs[-1].title == "Beyond the article"
    step3 = next(s for s in secs if s.step == 3)
    assert step3.title == "Step 3: Verify that the IAM role trust relationship is set up correctly"
    assert set(step3.rows["check_id"]) == {"trust_policy_allows_service_account"}
    html = section_html(step3)
    assert "How to fix" in html and "aws iam update-assume-role-policy" in html
    assert "Facts used" in html and "&quot;trust_policy&quot;" in html  # evidence shown, escaped
    assert "<details open>" in html  # facts of a FAIL start open
    assert "No results for this target" in section_html(secs[-1])


def test_section_and_summary_escape_hostile_text():
    rows = pd.DataFrame(
        [
            _row(
                check_id="role_exists",
                title="<b>t</b>",
                status="FAIL",
                namespace="ns",
                service_account="<img src=x onerror=alert(1)>",
                detail="<script>alert(1)</script> [x](javascript:alert(1))",
                remediation="kubectl annotate sa '<script>'",
                evidence=json.dumps({"annotation": "<script>"}),
            )
        ],
        columns=RESULT_COLUMNS,
    )
    sec = next(s for s in sections(rows) if s.step == 2)
    html = section_html(sec) + summary_styler(rows).to_html()
    for raw in ("<script>", "<img", "<b>t</b>"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_summary_colours_statuses_inline_for_html_export(cart):
    html = summary_styler(cart.results).to_html()
    assert "background-color: #ffcdd2" in html  # FAIL cell
    assert "background-color: #e8f5e9" in html  # PASS cells
    assert html.count("<tr>") >= len(cart.results)


def test_header_says_what_when_against_what_and_the_verdict(cart):
    html = header_html(cart.facts, cart.results)
    for needle in (
        "service account shop/cart",
        "When (UTC)",
        "evidence bundle demo",
        "shop-prod (arn:aws:eks:us-west-2:111122223333:cluster/shop-prod)",
        "https://oidc.eks.us-west-2.amazonaws.com/id/",
        "Verdict",
        "FAIL: at least one check found a misconfiguration.",
    ):
        assert needle in html
    assert cart.facts["when"].endswith("Z")
    bundle = cart.header()._repr_mimebundle_()
    assert bundle["application/vnd.irsa-nb.run+json"]["cluster"] == "shop-prod"
    assert failures(cart.results).startswith("1 check(s) FAIL: trust_policy_allows_service_account")
    assert cart.diagnosis()._repr_mimebundle_()["text/html"] == ""  # no error message given


def test_reported_error_is_diagnosed_and_masked():
    rb = report(
        bundle="demo",
        namespace="shop",
        service_account="analytics",
        error_message=f"InvalidIdentityToken: Incorrect token audience {JWT}",
    )
    assert JWT not in json.dumps(rb.facts)
    html = rb.diagnosis()._repr_mimebundle_()["text/html"]
    assert "Reported error: likely causes" in html and "provider_audience_matches" in html
    assert JWT not in html


def test_redact_switch_decides_whether_secrets_are_masked(tmp_path):
    from .conftest import build_hostile_bundle

    bundle = str(build_hostile_bundle(tmp_path))
    kwargs = {"bundle": bundle, "namespace": "shop", "service_account": "leaky"}
    raw = report(redact=False, **kwargs)
    masked = report(**kwargs)
    assert ACCESS_KEY in raw.results.to_json() and JWT in raw.results.to_json()
    blob = masked.results.to_json() + json.dumps(masked.facts)
    assert ACCESS_KEY not in blob and JWT not in blob and PASSWORD not in blob
    assert masked.facts["redacted"] > 0 and raw.facts["redacted"] == 0
    assert masked.results["check_id"].tolist() == raw.results["check_id"].tolist()


def test_redact_results_masks_secrets_in_text_and_evidence():
    rows = pd.DataFrame(
        [
            _row(
                detail=f"token {JWT} and key {ACCESS_KEY}",
                evidence=json.dumps({"env": {"DB_PASSWORD": PASSWORD, "REGION": "us-east-1"}}),
            )
        ],
        columns=RESULT_COLUMNS,
    )
    masked, n = mask_results(rows)
    assert n == 3
    blob = masked.to_json()
    assert JWT not in blob and ACCESS_KEY not in blob and PASSWORD not in blob
    assert json.loads(masked.loc[0, "evidence"])["env"]["REGION"] == "us-east-1"
    assert list(masked.columns) == RESULT_COLUMNS


def test_sanitize_notebook_drops_local_paths_and_masks_secrets(tmp_path):
    folder = tmp_path / "ev"
    nb = {
        "metadata": {
            "papermill": {
                "input_path": "/home/ana/irsa-nb/notebooks/irsa_runbook.ipynb",
                "output_path": f"{folder}/runbook.ipynb",
                "parameters": {"error_message": f"tok {JWT}", "api_token": "s3cr3t-value"},
            }
        },
        "cells": [
            {
                "cell_type": "code",
                "source": f'bundle = "{tmp_path}/cases/b.tar.gz"',
                "metadata": {},
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": f"{folder}/x {ACCESS_KEY}"},
                    {"output_type": "display_data", "data": {"image/png": ACCESS_KEY}},
                ],
            }
        ],
    }
    scrub = PathScrubber.for_run(folder, {f"{tmp_path}/cases/b.tar.gz": "b.tar.gz"})
    assert sanitize_notebook(nb, scrub, redact=True) >= 2
    pm = nb["metadata"]["papermill"]
    assert pm["input_path"] == "irsa_runbook.ipynb" and pm["output_path"] == "runbook.ipynb"
    assert pm["parameters"]["api_token"] == "***" and JWT not in pm["parameters"]["error_message"]
    cell = nb["cells"][0]
    assert cell["source"] == 'bundle = "b.tar.gz"'
    assert cell["outputs"][0]["text"] == "./x ***"
    assert cell["outputs"][1]["data"]["image/png"] == ACCESS_KEY  # images untouched


def test_timeout_banner_marks_the_interrupted_cell():
    nb = {
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"execution": {"iopub.execute_input": "t", "shell.execute_reply": "t"}},
                "outputs": [],
                "execution_count": 1,
                "source": "",
            },
            {
                "cell_type": "code",
                "metadata": {"execution": {"iopub.execute_input": "t"}},
                "outputs": [],
                "execution_count": 2,
                "source": "",
            },
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": "",
            },
        ],
    }
    stamp_status(nb, "timed out", "late", "The run timed out")
    assert nb["metadata"]["irsa_nb"] == {"status": "timed out", "error": "late"}
    assert nb["metadata"]["papermill"]["exception"] is True  # papermill itself left None
    assert "The run timed out" in nb["cells"][0]["source"]
    assert [c["metadata"].get("papermill", {}).get("status") for c in nb["cells"][1:]] == [
        None,
        "failed",
        "pending",
    ]


def test_caller_identity_comes_from_sts(aws_env):
    ident = caller_identity(region="us-east-1")
    assert ident["Account"].isdigit() and ident["Arn"].startswith("arn:aws:")


def test_caller_identity_failure_is_recorded_not_raised(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    ident = caller_identity(profile="no-such-profile-here")
    assert set(ident) == {"error"} and "no-such-profile-here" in ident["error"]
    assert "could not be found" in ident["error"]


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, str(k)))
    else:
        yield path, node


def _placeholders(template) -> list:
    return sorted(
        (name, conv or "", spec or "")
        for _, name, spec, conv in string.Formatter().parse(str(template))
        if name is not None
    )


def test_every_english_entry_has_a_chinese_translation_with_the_same_placeholders():
    from importlib import resources

    def load(lang):
        raw = resources.files("irsa_nb.text").joinpath(f"{lang}.yaml").read_text("utf-8")
        return yaml.safe_load(raw)

    en, zh = dict(_leaves(load("en"))), dict(_leaves(load("zh")))
    missing = sorted(".".join(p) for p in en if p not in zh)
    assert not missing, f"no zh translation for: {missing}"
    for path, template in en.items():
        assert _placeholders(template) == _placeholders(zh[path]), ".".join(path)
        if str(template).strip():
            assert str(zh[path]).strip(), ".".join(path)
    assert not sorted(".".join(p) for p in zh if p not in en)  # nothing stale


def test_runbook_prose_covers_every_seed_step_and_language():
    steps = {c.seed_step for c in REGISTRY.values() if c.seed_step}
    for lang in text.LANGUAGES:
        for step in steps:
            assert text.lookup(lang, "_runbook", "steps", str(step)), (lang, step)
    assert text.lookup("zh", "_runbook", "steps", "3") == "验证是否正确设置 IAM 角色信任关系"
