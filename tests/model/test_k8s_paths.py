"""k8s.Pod: which OS the webhook sees and the token path a pod's containers expect.

Sources: getPodSpecPatch in
https://github.com/aws/amazon-eks-pod-identity-webhook/blob/master/pkg/handler/handler.go
(nodeSelector kubernetes.io/os or beta.kubernetes.io/os = windows -> "C:" + the mount path and
"token" with backslashes) and MakeAbsolutePath in
https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/util.go (a Windows
mountPath without a drive is on c:).
"""

from __future__ import annotations

import pytest

from irsa_nb.k8s import TOKEN_FILE, WINDOWS_TOKEN_FILE, Pod
from tests.builders import k8s_objects as k8s

ROLE = "arn:aws:iam::111122223333:role/app"


def _pod(selector: dict | None, role: str | None = ROLE) -> Pod:
    return Pod.from_k8s(k8s.pod("ns", "p", "sa", irsa_role_arn=role, node_selector=selector))


def test_the_webhook_token_paths_are_the_handlers():
    assert TOKEN_FILE == "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
    assert WINDOWS_TOKEN_FILE == k8s.IRSA_TOKEN_FILE_WINDOWS


@pytest.mark.parametrize(
    ("selector", "windows"),
    [
        ({"kubernetes.io/os": "windows"}, True),
        ({"beta.kubernetes.io/os": "windows"}, True),
        ({"kubernetes.io/os": "linux", "beta.kubernetes.io/os": "windows"}, True),  # either one
        ({"kubernetes.io/os": "linux"}, False),
        ({"kubernetes.io/os": "Windows"}, False),  # the handler compares exactly
        (None, False),
    ],
)
def test_windows_is_decided_by_the_node_selector_as_the_webhook_does(selector, windows):
    pod = _pod(selector)
    assert pod.windows is windows
    c = pod.containers[0]
    assert pod.token_file(c) == (WINDOWS_TOKEN_FILE if windows else TOKEN_FILE)
    assert pod.token_mount(c) == "/var/run/secrets/eks.amazonaws.com/serviceaccount"


def test_windows_paths_compare_without_case_drive_or_slash_differences():
    pod = _pod({"kubernetes.io/os": "windows"})
    same = pod.container_path("c:/VAR/run/secrets/eks.amazonaws.com/serviceaccount/token")
    assert pod.container_path(WINDOWS_TOKEN_FILE) == same
    assert pod.container_path(TOKEN_FILE) == same  # no drive: C:, as the kubelet mounts it
    assert pod.container_path("D:\\var\\run") != pod.container_path("/var/run")


def test_an_unmutated_pod_expects_the_webhook_path_but_has_no_mount():
    pod = _pod({"kubernetes.io/os": "windows"}, role=None)
    c = pod.containers[0]
    assert pod.token_file(c) == WINDOWS_TOKEN_FILE and pod.token_mount(c) is None
