"""moto + environment + seeding + the fault-injecting proxy, exercised the way product code
will use them: boto3 and the aws CLI configured only through the environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.servers.aws import Fault, make_client

pytestmark = pytest.mark.slow

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def test_env_points_boto3_at_moto_and_hides_real_config(aws_env, moto_server):
    assert os.environ["AWS_ENDPOINT_URL"] == moto_server.url
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert "AWS_PROFILE" not in os.environ and "AWS_SESSION_TOKEN" not in os.environ
    assert Path(os.environ["AWS_CONFIG_FILE"]).read_text() == ""
    assert Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).read_text() == ""
    sts = boto3.client("sts")  # nothing but the environment
    assert sts.meta.endpoint_url == moto_server.url
    assert sts.get_caller_identity()["Account"] == "123456789012"
    boto3.client("eks").create_cluster(
        name="c1",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    assert boto3.client("eks").list_clusters()["clusters"] == ["c1"]


def test_seed_creates_a_consistent_account(aws_env, small_cluster):
    seeded = aws_env.seed(small_cluster)
    assert seeded.account == "111122223333"
    eks, iam, sts = (boto3.client(s) for s in ("eks", "iam", "sts"))
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::111122223333:user/irsa-nb-test"
    cluster = eks.describe_cluster(name=seeded.cluster_name)["cluster"]
    issuer = cluster["identity"]["oidc"]["issuer"]
    assert issuer == seeded.issuer != small_cluster["issuer"]  # moto randomises it
    prov = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=seeded.provider_arn)
    assert prov["Url"] == seeded.issuer_host_path
    assert prov["ClientIDList"] == ["sts.amazonaws.com"]
    arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert seeded.provider_arn in arns and len(arns) == 2  # plus the orphaned old provider

    clean = next(n for n in small_cluster["roles"] if n not in small_cluster["defects"]["roles"])
    role = iam.get_role(RoleName=clean)["Role"]
    assert role["Arn"] == f"arn:aws:iam::111122223333:role/{clean}" == seeded.role_arns[clean]
    st = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert st["Principal"]["Federated"] == seeded.provider_arn
    assert f"{seeded.issuer_host_path}:sub" in st["Condition"]["StringEquals"]
    assert (
        seeded.data["roles"][clean]["get_role"]["Role"]["AssumeRolePolicyDocument"]
        == (role["AssumeRolePolicyDocument"])
    )
    want = small_cluster["roles"][clean]
    got_inline = iam.list_role_policies(RoleName=clean)["PolicyNames"]
    assert got_inline == want["list_role_policies"]["PolicyNames"]
    got_attached = {
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=clean)["AttachedPolicies"]
    }
    skipped = {a for r, a in seeded.skipped_attachments if r == clean}
    assert got_attached | skipped == {
        p["PolicyArn"] for p in want["list_attached_role_policies"]["AttachedPolicies"]
    }
    assert len(seeded.role_arns) == len(small_cluster["roles"])


def test_reset_forgets_everything(moto_server):
    iam = moto_server.client("iam")
    iam.create_role(RoleName="transient", AssumeRolePolicyDocument=json.dumps(TRUST))
    moto_server.reset()
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == []


def test_moto_latency(moto_server):
    iam = moto_server.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    t0 = time.perf_counter()
    for _ in range(50):
        iam.get_role(RoleName="r")
    per_call = (time.perf_counter() - t0) / 50
    print(f"moto server iam.get_role: {per_call * 1000:.1f} ms/call")
    assert per_call < 0.25


@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
def test_throttles_are_retried_fast(moto_server, throttle_proxy, fast_retries, mode):
    iam = moto_server.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    proxy = throttle_proxy({"GetRole": 2, "ListClusters": 3})
    cfg = {"retries": {"mode": mode, "max_attempts": 5}}
    t0 = time.perf_counter()
    resp = make_client("iam", proxy.url, **cfg).get_role(RoleName="r")
    assert resp["ResponseMetadata"]["RetryAttempts"] == 2
    resp = make_client("eks", proxy.url, **cfg).list_clusters()
    assert resp["ResponseMetadata"]["RetryAttempts"] == 3
    assert time.perf_counter() - t0 < 6
    assert len(fast_retries) == 5 and all(s >= 0 for s in fast_retries)
    assert [c.fault for c in proxy.calls] == ["throttle"] * 2 + [None] + ["throttle"] * 3 + [None]
    assert proxy.pending() == {}


def test_retries_exhausted(moto_server, throttle_proxy, fast_retries):
    proxy = throttle_proxy({"GetRole": 10, "DescribeCluster": ("throttle", 10)})
    # botocore Config: retries["max_attempts"] counts RETRIES (legacy key);
    # retries["total_max_attempts"] counts attempts including the first.
    iam = make_client("iam", proxy.url, retries={"mode": "standard", "max_attempts": 2})
    with pytest.raises(ClientError) as ei:
        iam.get_role(RoleName="r")
    err = ei.value.response
    assert err["Error"]["Code"] == "Throttling" and err["Error"]["Message"] == "Rate exceeded"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "reached max retries: 2" in str(ei.value)
    eks = make_client("eks", proxy.url, retries={"mode": "standard", "total_max_attempts": 2})
    with pytest.raises(ClientError) as ei:
        eks.describe_cluster(name="x")
    assert ei.value.response["Error"]["Code"] == "ThrottlingException"
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert "reached max retries: 1" in str(ei.value)
    assert proxy.operations == ["GetRole"] * 3 + ["DescribeCluster"] * 2


def test_5xx_reset_and_timeout_are_retried(moto_server, throttle_proxy, fast_retries):
    moto_server.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    proxy = throttle_proxy(
        {"GetRole": ["500", "503", "reset"], "GetCallerIdentity": ["timeout"]}, timeout_seconds=30
    )
    cfg = {"retries": {"mode": "standard", "max_attempts": 5}}
    resp = make_client("iam", proxy.url, **cfg).get_role(RoleName="r")
    assert resp["ResponseMetadata"]["RetryAttempts"] == 3
    sts = make_client("sts", proxy.url, read_timeout=0.3, connect_timeout=1, **cfg)
    t0 = time.perf_counter()
    assert sts.get_caller_identity()["ResponseMetadata"]["RetryAttempts"] == 1
    assert time.perf_counter() - t0 < 5
    assert [c.fault for c in proxy.calls] == ["500", "503", "reset", None, "timeout", None]


def test_auth_errors_are_not_retried(moto_server, throttle_proxy, fast_retries):
    proxy = throttle_proxy(
        {
            "GetRole": ["expired_token"],
            "ListRoles": ["access_denied"],
            "DescribeCluster": ["access_denied"],
            "ListClusters": [Fault.error(400, "InvalidParameterException", "bad")],
        },
        principal_arn="arn:aws:sts::111122223333:assumed-role/ReadOnly/alice",
    )
    iam = make_client("iam", proxy.url, retries={"mode": "standard", "max_attempts": 5})
    eks = make_client("eks", proxy.url, retries={"mode": "standard", "max_attempts": 5})
    with pytest.raises(ClientError) as ei:
        iam.get_role(RoleName="r")
    assert ei.value.response["Error"]["Code"] == "ExpiredToken"
    with pytest.raises(ClientError) as ei:
        iam.list_roles()
    assert ei.value.response["Error"]["Code"] == "AccessDenied"
    assert ei.value.response["Error"]["Message"].startswith(
        "User: arn:aws:sts::111122223333:assumed-role/ReadOnly/alice is not authorized to "
        "perform: iam:ListRoles"
    )
    with pytest.raises(ClientError) as ei:
        eks.describe_cluster(name="c")
    assert ei.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as ei:
        eks.list_clusters()
    assert ei.value.response["Error"]["Code"] == "InvalidParameterException"
    assert fast_retries == []  # none of these were retried
    assert len(proxy.calls) == 4


def test_proxy_names_every_operation(aws_env, throttle_proxy, small_cluster):
    seeded = aws_env.seed(small_cluster)
    proxy = throttle_proxy()
    aws_env.use_endpoint(proxy.url)  # product code only sees AWS_ENDPOINT_URL
    eks, iam, sts = (boto3.client(s) for s in ("eks", "iam", "sts"))
    eks.list_clusters()
    eks.describe_cluster(name=seeded.cluster_name)
    eks.list_nodegroups(clusterName=seeded.cluster_name)
    with pytest.raises(ClientError):  # moto: "Not yet implemented" (404)
        eks.list_pod_identity_associations(clusterName=seeded.cluster_name)
    iam.list_open_id_connect_providers()
    iam.get_open_id_connect_provider(OpenIDConnectProviderArn=seeded.provider_arn)
    role = next(iter(seeded.role_arns))
    iam.get_role(RoleName=role)
    iam.list_attached_role_policies(RoleName=role)
    iam.list_role_policies(RoleName=role)
    sts.get_caller_identity()
    anon = boto3.client("sts", config=Config(signature_version=botocore_unsigned()))
    anon.assume_role_with_web_identity(
        RoleArn=seeded.role_arns[role], RoleSessionName="probe", WebIdentityToken="x" * 20
    )
    assert proxy.operations == [
        "ListClusters",
        "DescribeCluster",
        "ListNodegroups",
        "ListPodIdentityAssociations",
        "ListOpenIDConnectProviders",
        "GetOpenIDConnectProvider",
        "GetRole",
        "ListAttachedRolePolicies",
        "ListRolePolicies",
        "GetCallerIdentity",
        "AssumeRoleWithWebIdentity",
    ]
    assert [c.service for c in proxy.calls] == ["eks"] * 4 + ["iam"] * 5 + ["sts"] * 2


def botocore_unsigned():
    from botocore import UNSIGNED

    return UNSIGNED


AWS_CLI = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")


@pytest.mark.skipif(AWS_CLI is None, reason="the aws CLI is not installed")
def test_aws_cli_uses_aws_endpoint_url(aws_env, small_cluster, throttle_proxy):
    seeded = aws_env.seed(small_cluster)
    role = next(iter(seeded.role_arns))

    def aws(*args: str) -> dict:
        r = subprocess.run(
            [AWS_CLI, *args, "--output", "json"], env=aws_env.env(), capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    assert aws("sts", "get-caller-identity")["Account"] == "111122223333"
    cluster = aws("eks", "describe-cluster", "--name", seeded.cluster_name)["cluster"]
    assert cluster["identity"]["oidc"]["issuer"] == seeded.issuer
    assert aws("iam", "get-role", "--role-name", role)["Role"]["Arn"] == seeded.role_arns[role]
    provs = aws("iam", "list-open-id-connect-providers")["OpenIDConnectProviderList"]
    assert {"Arn": seeded.provider_arn} in provs
    # through the proxy: the CLI's own retry handles one throttle
    proxy = throttle_proxy({"GetRole": 1})
    aws_env.use_endpoint(proxy.url)
    assert aws("iam", "get-role", "--role-name", role)["Role"]["RoleName"] == role
    assert [c.fault for c in proxy.calls] == ["throttle", None]


def test_every_server_stops_cleanly_even_with_requests_in_flight(tmp_path):
    import socket
    import threading

    from tests.builders import k8s_objects as k8s
    from tests.servers.aws import MotoServer, ThrottleProxy
    from tests.servers.fake_kube import FakeKube
    from tests.servers.tls import HttpsIssuer

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    threads_before, fds_before = {t.ident for t in threading.enumerate()}, fds()
    moto = MotoServer().start()
    proxy = ThrottleProxy(moto.url, {"ListClusters": ["timeout"]}, timeout_seconds=60)
    proxy.start()
    issuer = HttpsIssuer(jwks="hang", hang_seconds=60)
    issuer.start()
    kube = FakeKube(pods=[k8s.pod("ns", "p")], delay={"pods": 60}).start()
    # one hanging request on each server, from sockets that stay open
    hanging = []
    for port, payload in (
        (proxy.port, b"GET /clusters HTTP/1.1\r\nHost: x\r\n\r\n"),
        (kube.port, b"GET /api/v1/pods HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n"),
    ):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(payload)
        hanging.append(s)
    time.sleep(0.2)
    t0 = time.perf_counter()
    for server in (kube, issuer, proxy, moto):
        server.stop()
    assert time.perf_counter() - t0 < 5
    for s in hanging:
        s.close()
    time.sleep(0.1)
    leftover = [t for t in threading.enumerate() if t.ident not in threads_before]
    assert leftover == []
    assert fds() <= fds_before
