"""The collect-script run for real: AWS CLI (from PyPI) against moto, kubectl against the fake
API server (over TLS: kubectl sends tokens only over HTTPS), openssl against the issuer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import irsa_nb
from irsa_nb.cli import main
from irsa_nb.live.script import collect_script
from tests.fixtures import k8s_objects as k8s
from tests.live.conftest import run_collect_script, small_data

VENV_BIN = Path(sys.executable).parent
KUBECTL = shutil.which("kubectl")
AWS = VENV_BIN / "aws" if (VENV_BIN / "aws").exists() else shutil.which("aws")

needs_tools = pytest.mark.skipif(
    not KUBECTL or not AWS,
    reason="collect-script test needs kubectl (apt: kubernetes-client) and aws (pip: awscli)",
)


def test_script_is_posix_sh_and_embeds_defaults(tmp_path):
    script = collect_script("prod-1", "eu-west-1")
    path = tmp_path / "c.sh"
    path.write_text(script)
    assert subprocess.run(["sh", "-n", str(path)], capture_output=True).returncode == 0
    assert 'CLUSTER="${1:-prod-1}"' in script and 'REGION="${2:-eu-west-1}"' in script
    for word in (" delete ", " apply ", " create ", " patch ", " annotate "):
        assert word not in script.replace("# ", "")
    with pytest.raises(ValueError, match="invalid cluster name"):
        collect_script("a; rm -rf /")


def test_cli_prints_the_script(capsys):
    assert main(["collect-script", "--cluster", "shop"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#!/bin/sh") and 'CLUSTER="${1:-shop}"' in out
    assert main(["collect-script", "--cluster", "bad name"]) == 2


@needs_tools
def test_script_bundle_checks_like_the_python_collector(live, tmp_path):
    data = small_data()
    leaky = k8s.pod(
        "default",
        "leaky-7d4b9c-abcde",
        containers=[k8s.container("app", env=[{"name": "DB_PASSWORD", "value": "hunter2-xyz"}])],
        annotations={"kubectl.kubernetes.io/last-applied-configuration": "hunter2-xyz"},
    )
    data["pods"].append(leaky)
    lv = live(data)
    proc = run_collect_script(lv, tmp_path / "bundle")
    assert proc.returncode == 0, proc.stderr
    assert "kubeconfig context: cluster-ctx" in proc.stderr  # chosen by the endpoint
    archive = tmp_path / "bundle.tar.gz"
    assert archive.exists()
    # moto lacks ListPodIdentityAssociations: the CLI's stderr is kept, as the collector does
    err = tmp_path / "bundle/aws/eks/list-pod-identity-associations.error.txt"
    assert "An error occurred (404)" in err.read_text()
    text = "".join(p.read_text() for p in (tmp_path / "bundle").rglob("*") if p.is_file())
    assert "hunter2-xyz" not in text

    from_script = irsa_nb.run_checks(irsa_nb.load_bundle(archive))
    from_python = irsa_nb.run_checks(irsa_nb.collect(lv.cluster, progress=False))
    disc = from_script.check_id == "issuer_discovery_reachable"
    assert list(from_script[disc].status) == ["SKIP"]  # the script does not fetch discovery
    pd.testing.assert_frame_equal(
        from_script[~disc].reset_index(drop=True),
        from_python[from_python.check_id != "issuer_discovery_reachable"].reset_index(drop=True),
    )
    thumb = from_script[from_script.check_id == "provider_thumbprint_matches"]
    assert list(thumb.status) == ["PASS"]  # openssl s_client fetched the same chain
