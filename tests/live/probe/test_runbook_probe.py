"""`irsa-nb run --cluster ... --probe`: the evidence carries the probe, never its secrets."""

from __future__ import annotations

import json

import pytest

from irsa_nb.cli import main
from tests.live.probe.conftest import NS

pytestmark = pytest.mark.kernel


def test_runbook_probe_reports_the_assumed_role_and_keeps_no_secret(
    probe_cluster, tmp_path, capsys
):
    pc = probe_cluster()
    out = tmp_path / "ev"
    args = ["run", "--cluster", pc.cluster, "-n", NS, "-s", "ok", "--probe", "--out", str(out)]
    code = main([*args, "--timeout", "180"])
    printed = capsys.readouterr()
    # 3 (could not check): moto answers ListPodIdentityAssociations with a 404, an ERROR row
    assert code in (0, 1, 3), printed.err
    results = json.loads((out / "results.json").read_text())
    (row,) = [r for r in results if r["check_id"] == "sts_probe_assume_role"]
    assert row["status"] == "PASS" and "assumed-role/probe-ok/" in row["detail"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["probe"] is True
    assert len(pc.lv.kube.token_requests) == 1 and len(pc.front.issued) == 1
    files = {p.name: p.read_text("utf-8") for p in out.iterdir() if p.is_file()}
    assert "Fresh token" in files["runbook.html"] or "fresh token" in files["runbook.html"]
    for secret in pc.secrets():
        assert secret not in printed.out + printed.err
        for name, body in files.items():
            assert secret not in body, name
