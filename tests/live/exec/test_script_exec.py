"""The collect script's exec section (kubectl exec) gives what ``irsa-nb collect --exec`` gives."""

from __future__ import annotations

import dataclasses

import pytest

import irsa_nb
from tests.builders import k8s_objects as k8s
from tests.live.conftest import run_collect_script
from tests.live.test_script import needs_kubectl_exec, needs_tools

from .conftest import (
    MULTILINE_ENV,
    MULTILINE_FRAGMENTS,
    SECRET_VALUES,
    Box,
    add_app,
    base_data,
    texts,
)

pytestmark = pytest.mark.slow

POD = "cart-7d4b9c-x2k4p"


def _timeless(facts: dict) -> dict:
    """Exec facts without the times (each run reads a freshly minted token)."""
    out = {}
    for key, f in facts.items():
        claims = f.claims and dataclasses.replace(f.claims, exp=None, iat=None, checked_at=None)
        out[key] = dataclasses.replace(f, checked_at=None, claims=claims)
    return out


@needs_tools
@needs_kubectl_exec
def test_script_exec_section_matches_the_python_collector(exec_live, tmp_path):
    data = base_data()
    # kubectl >= 1.30 execs over websocket, which FakeKube speaks; the gcloud kubectl
    # dispatcher picks its version from the server's
    data["version"]["serverVersion"] = k8s.version_info("1", "31+", "v1.31.2-eks-7f9249a")
    containers = ["app", "java", "distroless", "stuck", "bare", "old"]
    add_app(data, "shop", "cart", {POD: [k8s.container(c) for c in containers]})
    creds = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    node = '{"name": "@aws-sdk/client-sts", "version": "3.600.0"}'
    boxes = {
        ("shop", POD, "app"): Box(
            files={
                "home/.aws/credentials": creds,
                "app/node_modules/@aws-sdk/client-sts/package.json": node,
            }
        ),
        ("shop", POD, "java"): Box(
            files={"app/lib/sdk-core-2.20.0.jar": "x"},
            env={"AWS_SECRET_ACCESS_KEY": SECRET_VALUES[1]},
        ),
        ("shop", POD, "distroless"): Box(shell=False),
        ("shop", POD, "stuck"): Box(hang=True),
        # no sh: env -0 (exact), and an env without -0 (plain env, line-based)
        ("shop", POD, "bare"): Box(env=MULTILINE_ENV, shell=False, bare_tools=("env", "id")),
        ("shop", POD, "old"): Box(
            env={"DB_URL": MULTILINE_ENV["DB_URL"]},
            shell=False,
            bare_tools=("env", "id"),
            env_nul=False,
        ),
    }
    lv, _ = exec_live(data, boxes)
    proc = run_collect_script(
        lv, tmp_path / "bundle", exec=True, timeout=600, IRSA_EXEC_TIMEOUT="4"
    )
    assert proc.returncode == 0, proc.stderr
    assert "in-pod evidence: probed" in proc.stderr, proc.stderr
    written = texts(tmp_path / "bundle")
    assert not any(s in written for s in (*SECRET_VALUES, *MULTILINE_FRAGMENTS))

    from_script = irsa_nb.load_bundle(tmp_path / "bundle.tar.gz")
    from_python = irsa_nb.collect(lv.cluster, progress=False, exec="all", exec_timeout=4)
    assert from_script.exec_facts.keys() == from_python.exec_facts.keys()
    assert _timeless(from_script.exec_facts) == _timeless(from_python.exec_facts)
    status = {k[2]: f.status for k, f in from_script.exec_facts.items() if k[1] == POD}
    assert status == {
        "app": "ok", "java": "ok", "distroless": "no_shell", "stuck": "timeout",
        "bare": "no_shell", "old": "no_shell",
    }  # fmt: skip
    bare = from_script.exec_facts[("shop", POD, "bare")].env
    assert bare["TLS_KEY"] == bare["DB_URL"] == bare["AWS_ROLE_SESSION_NAME"] == "***"
    assert bare["AWS_REGION"] == "us-west-2" and bare["AWS_ROLE_ARN"].startswith("arn:aws:iam")
    assert not {"AWS_ACCESS_KEY_ID", "PASSWORD", "SecretTailAbc123"} & set(bare)
    old = from_script.exec_facts[("shop", POD, "old")].env
    assert old["AWS_REGION"] == "***" and old["DB_URL"] == "***"  # AWS_REGION seen twice

    checks = [
        "in_pod_evidence",
        "pod_has_irsa_env",
        "pod_can_read_token",
        "no_credentials_override",
        "sdk_version_supported",
        "trust_policy_allows_service_account",
    ]
    cols = ["check_id", "status", "pod", "detail", "remediation"]
    a = irsa_nb.run_checks(from_script, checks=checks)[cols]
    b = irsa_nb.run_checks(from_python, checks=checks)[cols]
    assert a.equals(b)
    row = a[(a.check_id == "no_credentials_override") & (a.pod == POD)].iloc[0]
    assert row.status == "FAIL", row.detail
    assert "[default] has aws_access_key_id (seen inside the container): JavaScript SDK v3" in (
        row.detail
    )
