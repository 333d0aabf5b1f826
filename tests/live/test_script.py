"""The collect-script run for real: AWS CLI (from PyPI) against moto, kubectl against the fake
API server (over TLS: kubectl sends tokens only over HTTPS), openssl against the issuer."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import irsa_nb
from irsa_nb.bundle import read_documents
from irsa_nb.cli import main
from irsa_nb.live.script import collect_script
from tests.builders import k8s_objects as k8s
from tests.live.conftest import run_collect_script, small_data

pytestmark = pytest.mark.slow

VENV_BIN = Path(sys.executable).parent
KUBECTL = shutil.which("kubectl")
AWS = VENV_BIN / "aws" if (VENV_BIN / "aws").exists() else shutil.which("aws")

needs_tools = pytest.mark.skipif(
    not KUBECTL or not AWS,
    reason="collect-script test needs kubectl (apt: kubernetes-client) and aws (pip: awscli)",
)


def _kubectl_client_minor() -> int | None:
    """kubectl's client minor version (``"32+"`` -> 32), or None when it cannot be read."""
    if not KUBECTL:
        return None
    try:
        proc = subprocess.run(
            [KUBECTL, "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        minor = json.loads(proc.stdout)["clientVersion"]["minor"]
        return int(re.match(r"\d+", minor).group())  # type: ignore[union-attr]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError, AttributeError):
        return None


KUBECTL_MINOR = _kubectl_client_minor()
# kubectl < 1.30 execs over SPDY, which FakeKube does not speak ("400 Upgrade request required")
needs_kubectl_exec = pytest.mark.skipif(
    bool(KUBECTL) and (KUBECTL_MINOR is None or KUBECTL_MINOR < 30),
    reason="kubectl exec against the fake API server needs kubectl >= 1.30 (websocket; older "
    "clients use SPDY, which it does not speak); `kubectl version --client -o json` on this "
    f"machine reports minor {KUBECTL_MINOR}",
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
    assert '"${IRSA_NAMESPACES:-}"' in out  # cluster-wide by default
    assert main(["collect-script", "--cluster", "bad name"]) == 2
    assert main(["collect-script", "--cluster", "shop", "-n", "team-a", "kube-system"]) == 0
    assert '"${IRSA_NAMESPACES:-team-a kube-system}"' in capsys.readouterr().out
    assert main(["collect-script", "--cluster", "shop", "--namespace", "../etc"]) == 2


def _frames_equal(from_script: pd.DataFrame, from_python: pd.DataFrame) -> None:
    """Same check results, but for discovery (the script does not fetch it: SKIP)."""
    disc = from_script.check_id == "issuer_discovery_reachable"
    assert list(from_script[disc].status) == ["SKIP"]
    pd.testing.assert_frame_equal(
        from_script[~disc].reset_index(drop=True),
        from_python[from_python.check_id != "issuer_discovery_reachable"].reset_index(drop=True),
    )


@needs_tools
def test_script_never_removes_or_overwrites_what_it_did_not_create(live, tmp_path):
    lv = live()
    precious = tmp_path / "precious"
    (precious / "sub").mkdir(parents=True)
    (precious / "thesis.txt").write_text("years of work")
    (precious / "sub" / "data.csv").write_text("1,2,3")
    proc = run_collect_script(lv, precious)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"{precious} already exists and is not an empty directory: "
        "choose a new IRSA_OUT or remove it"
    ]
    assert (precious / "thesis.txt").read_text() == "years of work"
    assert (precious / "sub" / "data.csv").read_text() == "1,2,3"
    assert sorted(p.name for p in precious.rglob("*")) == ["data.csv", "sub", "thesis.txt"]
    assert not (tmp_path / "precious.tar.gz").exists()
    assert not lv.kube.requests  # it stopped before collecting anything

    archive = tmp_path / "taken.tar.gz"  # the archive it would write exists already
    archive.write_bytes(b"not mine")
    proc = run_collect_script(lv, tmp_path / "taken")
    assert proc.returncode == 2 and "choose a new IRSA_OUT or remove it" in proc.stderr
    assert archive.read_bytes() == b"not mine" and not (tmp_path / "taken").exists()

    (tmp_path / "a-file").write_text("keep")  # a file is not an empty directory either
    proc = run_collect_script(lv, tmp_path / "a-file")
    assert proc.returncode == 2 and (tmp_path / "a-file").read_text() == "keep"


@needs_tools
@pytest.mark.parametrize(
    "denied",
    [
        # both cluster-wide lists forbidden, and one namespace not readable at all
        {
            "forbidden_cluster_wide": {"pods", "serviceaccounts"},
            "forbidden_namespaces": {"team-orders"},
        },
        # namespaces not listable: the service accounts' namespaces are used for the pods
        {"forbidden_cluster_wide": {"pods"}, "forbidden": {("list", "namespaces")}},
        # the service accounts wait for the namespaces the pods reveal
        {"forbidden_cluster_wide": {"serviceaccounts"}, "forbidden": {("list", "namespaces")}},
    ],
    ids=["namespaces-listed", "from-service-accounts", "from-pods"],
)
def test_script_falls_back_to_one_list_per_namespace_like_the_python_collector(
    live, tmp_path, denied
):
    lv = live(**denied)
    out = tmp_path / "bundle"
    out.mkdir()  # an empty directory may be the output
    proc = run_collect_script(lv, out)
    assert proc.returncode == 0, proc.stderr
    script_calls = lv.kube.api_calls()
    from_script = irsa_nb.run_checks(irsa_nb.load_bundle(tmp_path / "bundle.tar.gz"))
    lv.kube.reset_records()
    python_inv = irsa_nb.collect(lv.cluster, progress=False)
    _frames_equal(from_script, irsa_nb.run_checks(python_inv))

    lists = {(r, ns) for verb, r, ns in script_calls if verb == "list"}
    for kind in denied["forbidden_cluster_wide"]:
        assert (kind, "team-payments") in lists
        assert not (out / f"k8s/{kind}.error.txt").exists()
    docs = read_documents(tmp_path / "bundle.tar.gz")
    assert set(docs) >= set(python_inv.documents) - {"tls/discovery.json"}
    if "forbidden_namespaces" in denied:
        for kind in ("pods", "serviceaccounts"):
            err = (out / f"k8s/namespaces/team-orders/{kind}.error.txt").read_text()
            assert "Error from server (Forbidden)" in err
        rows = from_script[from_script.check_id == "namespaces_readable"]
        assert list(rows.status) == ["ERROR"] and list(rows.namespace) == ["team-orders"]
    else:
        assert not (out / "k8s/namespaces").exists()
        assert len(irsa_nb.load_bundle(out).pods) == len(lv.data["pods"])


@needs_tools
def test_script_lists_only_the_namespaces_asked_for(live, tmp_path):
    lv = live(small_data())
    wanted = ["team-payments", "kube-system"]
    proc = run_collect_script(lv, tmp_path / "bundle", IRSA_NAMESPACES="team-payments,kube-system")
    assert proc.returncode == 0, proc.stderr
    lists = [
        c for c in lv.kube.api_calls() if c[0] == "list" and c[1] != "mutatingwebhookconfigurations"
    ]
    assert sorted(lists) == sorted(
        ("list", kind, ns) for kind in ("pods", "serviceaccounts") for ns in wanted
    )
    inv = irsa_nb.load_bundle(tmp_path / "bundle.tar.gz")
    assert {p.namespace for p in inv.pods} == {"team-payments", "kube-system"}
    assert {ns for ns, _ in inv.service_accounts} <= set(wanted)
    lv.kube.reset_records()
    python_inv = irsa_nb.collect(lv.cluster, namespaces=wanted, progress=False)
    _frames_equal(irsa_nb.run_checks(inv), irsa_nb.run_checks(python_inv))

    proc = run_collect_script(lv, tmp_path / "other", IRSA_NAMESPACES="ok ../etc")
    assert proc.returncode == 2 and "invalid namespace in IRSA_NAMESPACES: ../etc" in proc.stderr


@needs_tools
@needs_kubectl_exec
def test_script_execs_only_into_the_namespaces_asked_for(live, tmp_path):
    data = small_data()
    # kubectl >= 1.30 execs over websocket, which FakeKube speaks (the dispatcher follows it)
    data["version"]["serverVersion"] = k8s.version_info("1", "31+", "v1.31.2-eks-7f9249a")
    lv = live(data)
    # the in-pod evidence looks only into the pods of those namespaces
    proc = run_collect_script(
        lv, tmp_path / "exec", exec=True, IRSA_EXEC_TIMEOUT="3", IRSA_NAMESPACES="team-payments"
    )
    assert proc.returncode == 0, proc.stderr
    execs = [ns for verb, r, ns in lv.kube.api_calls() if r == "pods/exec"]
    assert execs and set(execs) == {"team-payments"}
    assert {p.parent.parent.name for p in (tmp_path / "exec/k8s/exec").glob("*/*/*")} == {
        "team-payments"
    }


@needs_tools
def test_script_keeps_pod_labels_for_the_webhook_object_selector(live, tmp_path):
    data = small_data()
    data["webhook"]["webhooks"][0]["objectSelector"] = {"matchLabels": {"irsa": "on"}}
    for pod in data["pods"]:
        pod["metadata"].setdefault("labels", {})["irsa"] = "on"
    secret = "AKIAIOSFODNN7EXAMPLE"
    data["pods"][0]["metadata"]["labels"]["leaked-key"] = secret
    lv = live(data)
    proc = run_collect_script(lv, tmp_path / "bundle")
    assert proc.returncode == 0, proc.stderr
    inv = irsa_nb.load_bundle(tmp_path / "bundle.tar.gz")
    df = irsa_nb.run_checks(inv)
    hook = df[df.check_id == "webhook_configured"]
    assert list(hook.status) == ["PASS"], hook.detail.tolist()
    assert '"pod_labels_collected": true' in hook.iloc[0].evidence
    first = data["pods"][0]["metadata"]
    pods = {
        (p["metadata"]["namespace"], p["metadata"]["name"]): p
        for p in inv.documents["k8s/pods.json"]["items"]
    }
    labels = pods[(first["namespace"], first["name"])]["metadata"]["labels"]
    assert labels["irsa"] == "on" and labels["leaked-key"] == "***"
    text = "".join(p.read_text() for p in (tmp_path / "bundle").rglob("*") if p.is_file())
    assert secret not in text


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
    _frames_equal(from_script, from_python)
    thumb = from_script[from_script.check_id == "provider_thumbprint_matches"]
    assert list(thumb.status) == ["PASS"]  # openssl s_client fetched the same chain
