"""SECURITY.md says what the code does: the operations it calls, the redaction rules."""

from __future__ import annotations

import re
from pathlib import Path

from irsa_nb import bundle, evidence, redact
from irsa_nb.live import aws as live_aws
from irsa_nb.live import cloudtrail, discover, simulate, sts_probe

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "SECURITY.md").read_text()


def test_every_operation_irsa_nb_calls_is_named() -> None:
    ops = {
        *live_aws.OPERATIONS,
        *sts_probe.OPERATIONS,
        *sts_probe.NO_PERMISSION_OPERATIONS,
        *discover.OPERATIONS,
        *cloudtrail.OPERATIONS,
        *simulate.OPERATIONS,
        *evidence.NO_PERMISSION_OPERATIONS,
    }
    assert ops and all(f"`{op}`" in DOC for op in ops), [op for op in ops if f"`{op}`" not in DOC]


def test_the_redaction_rules_are_the_ones_in_redact_py() -> None:
    words = re.findall(r"[A-Z]+", redact._SECRET_NAME.pattern)
    assert words and all(f"`{w}`" in DOC for w in words)
    assert all(f"`{name}`" in DOC for name in redact._SAFE_NAMES)
    assert f"`{redact.ROLE_ARN_ANNOTATION}`" in DOC and f"`{redact.MASK}`" in DOC
    for needle in ("aws_secret_access_key", "x-amz-security-token", "k8s-aws-v1.", "`eyJ"):
        assert needle in DOC
    assert f"{bundle.MAX_MESSAGE_CHARS:,}" in DOC


def test_the_readme_links_it() -> None:
    assert "(SECURITY.md)" in (ROOT / "README.md").read_text()
