"""``irsa_nb.diagnose`` and ``irsa-nb diagnose`` on hostile text: control characters, bidi and
zero-width characters, markup, template syntax, secrets, huge and pathological input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import irsa_nb
from irsa_nb.diagnose import DIAGNOSIS_COLUMNS, format_table, render_html

from .helpers import run_cli
from .secret_corpus import IMG, MD_LINK, ROLE_ERROR, SCRIPT, SVG, leaks
from .test_leaks import assert_inert

HOSTILE = {
    "control-characters": "\x00\x01\x1b[31mInvalidIdentityToken\x1b[0m\x7f\r\n\t",
    "bidi-and-zero-width": "\u202eInvalidIdentity\u200bToken: Incorrect token audience\u2066",
    "emoji": "\U0001f525 AccessDenied: not authorized to perform sts:AssumeRoleWithWebIdentity",
    "markup": f"{SCRIPT}{IMG}{SVG} InvalidIdentityToken: Incorrect token audience",
    "markdown": f"{MD_LINK} **AccessDenied** `rm -rf /`",
    "templates": "{{7*7}} ${7*7} {issuer} {0} %s {role.__class__} InvalidIdentityToken",
    "secrets": ROLE_ERROR,
    "zero-width-only": "\u200b\u2060",
    "long-line": "x" * 200_000 + " InvalidIdentityToken: Incorrect token audience",
    "many-lines": "WebIdentityErr\\n" * 20_000,
}


@pytest.fixture(scope="module")
def demo():
    return irsa_nb.load_bundle("demo")


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_messages_are_explained_or_not_recognised(text: str, demo) -> None:
    for inv in (None, demo) if len(text) < 1000 else (None,):
        df = irsa_nb.diagnose(text, inv, namespace="shop", service_account="cart")
        assert list(df.columns) == DIAGNOSIS_COLUMNS and len(df) >= 1
        assert isinstance(df.attrs["recognised"], bool)
        blob = df.to_json() + json.dumps(df.attrs["text"]) + format_table(df)
        assert leaks(blob) == []
        html = render_html(df)
        assert leaks(html) == []
        assert_inert(html + "&lt;script&gt;alert(")  # no live markup of the message


@pytest.mark.parametrize("text", ["", "   ", "\n\t", b"InvalidIdentityToken", None])
def test_empty_or_non_text_is_one_clear_value_error(text) -> None:
    with pytest.raises(ValueError, match="paste the error text"):
        irsa_nb.diagnose(text)  # type: ignore[arg-type]


PATHOLOGICAL = [
    "sts." * 40_000,  # once quadratic: sts[.-][a-z0-9.-]*amazonaws backtracked at every "sts."
    "dial tcp " + "sts." * 40_000,
    "arn:aws:iam::" * 12_000,
    "system:serviceaccount:" + "a-" * 80_000,
    "Not authorized to perform sts:AssumeRoleWithWebIdentity " * 3_000,
    "oidc.eks.us-west-2.amazonaws.com/id/" * 4_500,
    "An error occurred (" * 8_000,
    "eyJ" + "a" * 160_000,
    'DB_PASSWORD="' + "\\" * 80_000,  # once quadratic: the quoted-value backslash run
]


@pytest.mark.slow
def test_pathological_messages_finish() -> None:
    """Every catalogue pattern stays linear: ~160 KB messages built from the patterns' own
    fragments finish (a quadratic pattern takes over a minute on them: the timeout fails it)."""
    script = (
        "import json, sys, irsa_nb\n"
        "for text in json.load(sys.stdin):\n"
        "    df = irsa_nb.diagnose(text)\n"
        "    assert len(df) >= 1\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(PATHOLOGICAL),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


@pytest.mark.slow
def test_the_cli_reads_a_huge_message_from_stdin() -> None:
    run = run_cli(["diagnose", "-", "--format", "json"], stdin=PATHOLOGICAL[1] + "\n" + ROLE_ERROR)
    assert run.returncode in (0, 3) and run.stderr == "", run.stderr[-2000:]
    assert leaks(run.stdout) == []
    rows = json.loads(run.stdout)
    assert rows and all(set(DIAGNOSIS_COLUMNS) <= set(r) for r in rows)


def test_a_name_with_a_newline_cannot_forge_a_table_line():
    import irsa_nb
    from irsa_nb.cli import format_table

    df = irsa_nb.run_checks(irsa_nb.load_bundle("demo"))
    df.loc[df.status != "PASS", "pod"] = "x\nPASS  pod_uses_service_account  all good"
    lines = format_table(df).splitlines()
    assert not any(line.startswith("PASS  pod_uses_service_account") for line in lines)
    assert any("x\\x0aPASS" in line for line in lines)
