"""`irsa-nb run --cluster ... --cloudtrail --action`: the evidence's runbook shows what really
happened (papermill kernel), with the parameters recorded and no secret kept."""

from __future__ import annotations

import json

import pytest

from irsa_nb.cli import main
from tests.live.probe.conftest import BUCKET, NS
from tests.live.trail.conftest import app_calls

pytestmark = pytest.mark.kernel


def test_runbook_shows_what_really_happened(probe_cluster, tmp_path, capsys):
    pc = probe_cluster()
    app_calls(pc, "aud-typo", "probe-aud", "sts.amazon.com", n=2)
    out = tmp_path / "ev"
    args = ["run", "--cluster", pc.cluster, "-n", NS, "-s", "aud-typo", "--out", str(out)]
    code = main([*args, "--cloudtrail", "--action", f"s3:GetObject={BUCKET}/*", "--timeout", "180"])
    printed = capsys.readouterr()
    assert code == 1, printed.err  # the FAILs stop the gate
    results = json.loads((out / "results.json").read_text())
    (calls,) = [r for r in results if r["check_id"] == "sts_recent_calls"]
    assert calls["status"] == "FAIL" and "InvalidIdentityToken" in calls["detail"]
    (sim,) = [r for r in results if r["check_id"] == "role_allows_actions"]
    assert sim["status"] == "FAIL" and "implicitDeny" in sim["detail"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["cloudtrail_hours"] == 24
    assert manifest["parameters"]["actions"] == f"s3:GetObject={BUCKET}/*"
    html = (out / "runbook.html").read_text("utf-8")
    assert "What really happened" in html and "InvalidIdentityToken" in html
    files = [p.read_text("utf-8", "replace") for p in out.iterdir() if p.is_file()]
    for secret in pc.secrets():
        assert all(secret not in body for body in files)
