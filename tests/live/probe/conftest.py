"""A live cluster with service accounts planted for each STS outcome, and a fake STS.

``probe_cluster(...)`` builds on the ``live`` fixture of ``tests/live/conftest.py`` (moto +
fake Kubernetes API + HTTPS issuer, reached through standard configuration) and adds, in
namespace ``probe``:

==========  ==================================================  =================================
SA          set-up                                              STS answer
==========  ==================================================  =================================
ok          role probe-ok, trust admits probe:ok                assumed (GetCallerIdentity ARN)
wrong-ns    role probe-wrong-ns, trust names default:wrong-ns   AccessDenied
aud-typo    audience annotation sts.amazon.com                  InvalidIdentityToken (audience)
bad-arn     annotation arn:aws:iam:ACCOUNT:role/probe-ok        ValidationError (ARN invalid)
gone        role probe-gone does not exist                      AccessDenied
plain       no role annotation                                  (not probed)
==========  ==================================================  =================================

The fake Kubernetes API signs TokenRequest tokens for the live issuer (the HTTPS issuer serves
the same key), and :class:`tests.servers.fake_sts.FakeAwsFront` is reached through
``AWS_ENDPOINT_URL_STS`` and ``AWS_ENDPOINT_URL_IAM`` (everything but STS and
SimulatePrincipalPolicy is forwarded to moto); :class:`tests.servers.fake_cloudtrail.FakeCloudTrail`
is reached through ``AWS_ENDPOINT_URL_CLOUDTRAIL`` and the fake STS records each
AssumeRoleWithWebIdentity it answers there, as CloudTrail would.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.builders import k8s_objects as k8s
from tests.builders.synthetic import trust_policy
from tests.live.conftest import (
    Live,
    small_data,
)  # ``live`` and its fixtures: tests/live/conftest.py
from tests.servers.fake_cloudtrail import FakeCloudTrail
from tests.servers.fake_sts import FakeAwsFront

NS = "probe"
BUCKET = "arn:aws:s3:::probe-bucket"


@dataclass
class ProbeCluster:
    lv: Live
    front: FakeAwsFront
    account: str
    trail: FakeCloudTrail

    @property
    def cluster(self) -> str:
        return self.lv.cluster

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"

    def secrets(self) -> list[str]:
        """Every token minted and every credential issued so far."""
        out = [r["token"] for r in self.lv.kube.token_requests]
        for creds in self.front.issued:
            out += list(creds.values())
        return out


def _role(data: dict[str, Any], name: str, subject: str, inline: dict | None = None) -> None:
    account = data["account"]
    trust = trust_policy(data["provider_arn"], data["issuer_host_path"], [subject])
    data["roles"][name] = {
        "get_role": {
            "Role": {
                "Path": "/",
                "RoleName": name,
                "Arn": f"arn:aws:iam::{account}:role/{name}",
                "AssumeRolePolicyDocument": trust,
                "MaxSessionDuration": 3600,
            }
        },
        "list_attached_role_policies": {"AttachedPolicies": []},
        "list_role_policies": {"PolicyNames": sorted(inline or {})},
        "inline_policies": dict(inline or {}),
    }


APP_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0123"}},
        },
    ],
}


def scenario_data() -> dict[str, Any]:
    data = small_data(n_service_accounts=12, n_pods=24, n_roles=4, n_namespaces=2)
    account = data["account"]
    arn = f"arn:aws:iam::{account}:role/"
    _role(data, "probe-ok", f"system:serviceaccount:{NS}:ok", {"app": APP_POLICY})
    _role(data, "probe-wrong-ns", "system:serviceaccount:default:wrong-ns")
    _role(data, "probe-aud", f"system:serviceaccount:{NS}:aud-typo")
    role = k8s.ROLE_ARN_ANNOTATION
    data["service_accounts"] += [
        k8s.service_account(NS, "ok", {role: arn + "probe-ok"}),
        k8s.service_account(NS, "wrong-ns", {role: arn + "probe-wrong-ns"}),
        k8s.service_account(
            NS,
            "aud-typo",
            {role: arn + "probe-aud", "eks.amazonaws.com/audience": "sts.amazon.com"},
        ),
        k8s.service_account(NS, "bad-arn", {role: f"arn:aws:iam:{account}:role/probe-ok"}),
        k8s.service_account(NS, "gone", {role: arn + "probe-gone"}),
        k8s.service_account(NS, "plain"),
    ]
    return data


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def probe_cluster(
    live: Callable[..., Live],  # the fixture of tests/live/conftest.py
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., ProbeCluster]]:
    started: list[Any] = []

    def make(
        *,
        provider: bool = True,
        clock_skew: float = 0.0,
        simulate_denied: bool = False,
        sts_url: str | None = None,
        **kube_knobs: Any,
    ) -> ProbeCluster:
        lv = live(scenario_data(), **kube_knobs)
        lv.kube.issuer = lv.issuer.issuer  # tokens name the cluster's (HTTPS) issuer
        trail = FakeCloudTrail(lv.seeded.endpoint)
        trail.start()
        started.append(trail)
        front = FakeAwsFront(
            lv.seeded.endpoint,
            ca_file=lv.issuer.ca_file,
            clock_skew=clock_skew,
            simulate_denied=simulate_denied,
            trail=trail,
        )
        front.start()
        front.warm(lv.seeded.account)
        started.append(front)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_url or front.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", front.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", trail.url)
        if not provider:
            lv.aws.client("iam").delete_open_id_connect_provider(
                OpenIDConnectProviderArn=lv.seeded.provider_arn
            )
        return ProbeCluster(lv, front, lv.seeded.account, trail)

    yield make
    for server in started:
        server.stop()
