"""in_pod_evidence: the opt-in `--exec` probe ran in each container (SKIP without a shell, ERROR on
timeout)."""

from __future__ import annotations

from irsa_nb.exec_facts import exec_path
from tests.checks.helpers import add_pod, demo_docs, irsa_pod, one, results

# probe.json as the live collector writes it when a container has no sh (live/exec.py), with a
# runtime error of the kind a Windows container gives for a POSIX shell it does not have.
NO_SH = (
    'no sh in the container (exec: "sh": executable file not found in %PATH%); '
    "read directly: nothing"
)


def _probe_row(node_selector):
    docs = demo_docs()
    pod = irsa_pod(
        "shop", "win-6c5b4a3f2-w1n2d", "checkout", "shop-checkout", node_selector=node_selector
    )
    add_pod(docs, pod)
    probe = {"status": "no_shell", "message": NO_SH}
    container = pod["spec"]["containers"][0]["name"]
    docs[exec_path("shop", "win-6c5b4a3f2-w1n2d", container, "probe.json")] = probe
    df = results(docs, "in_pod_evidence", namespace="shop", service_account="checkout")
    return one(df, pod="win-6c5b4a3f2-w1n2d")


def test_a_windows_container_without_sh_is_said_to_be_windows():
    """The webhook's own test for Windows is the nodeSelector (getPodSpecPatch in
    https://github.com/aws/amazon-eks-pod-identity-webhook/blob/master/pkg/handler/handler.go)."""
    row = _probe_row({"kubernetes.io/os": "windows"})
    assert row.status == "SKIP" and "Windows" in row.detail and "distroless" not in row.detail
    assert "powershell" in row.remediation


def test_a_linux_container_without_sh_is_distroless():
    row = _probe_row(None)
    assert row.status == "SKIP" and "distroless" in row.detail
