"""A live cluster on 127.0.0.1 for the collector: moto (EKS/IAM) + fake Kubernetes API + HTTPS
issuer, reached only through standard configuration (AWS_* env, KUBECONFIG, SSL_CERT_FILE).

``live(...)`` seeds moto so that ``describe-cluster`` reports the fake API server as the
cluster endpoint and the local HTTPS issuer as the OIDC issuer (moto's URL templates are
patched for the in-process moto server: test-side setup only), writes a kubeconfig with a
second, decoy context that is the current one, and points the environment at all of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ISSUER_PATH = "/id/5C4E1A3D2B8F9C7A6E0D1B2C3A4F5E6D"


@dataclass
class Live:
    cluster: str
    data: dict[str, Any]
    seeded: Any
    kube: Any  # FakeKube for the cluster
    decoy: Any  # FakeKube of the current (wrong) context
    issuer: Any  # HttpsIssuer
    kubeconfig: str
    aws: Any  # AwsEnv
    tmp: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The full environment for a subprocess (aws CLI, kubectl, irsa-nb)."""
        return self.aws.env()

    def kube_requests(self) -> list[Any]:
        return list(self.kube.requests)


def run_collect_script(
    lv: Any, out: Path, *, exec: bool = False, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """Write the collect script for ``lv``'s cluster next to ``out`` and run it with ``sh``
    (the venv's ``aws`` first on PATH); it writes ``out/`` and ``out.tar.gz``."""
    from irsa_nb.live.script import collect_script

    script = out.parent / "irsa-collect.sh"
    script.write_text(collect_script(lv.cluster, exec=exec))
    run_env = {**lv.env(), **env, "IRSA_OUT": str(out)}
    run_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{run_env.get('PATH', '')}"
    return subprocess.run(
        ["sh", str(script)], env=run_env, capture_output=True, text=True, timeout=timeout
    )


def small_data(**kw: Any) -> dict[str, Any]:
    """A small synthetic cluster (with some of every defect) that seeds moto in ~1 s."""
    from tests.builders.synthetic import synthetic_cluster

    args = {"n_service_accounts": 50, "n_pods": 150, "n_roles": 12, "n_namespaces": 4, "seed": 7}
    return synthetic_cluster(**{**args, **kw})


@pytest.fixture
def quiet_kube_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Kubernetes retry waits recorded instead of slept."""
    from irsa_nb.live import kube

    sleeps: list[float] = []
    monkeypatch.setattr(kube, "_sleep", sleeps.append)
    return sleeps


@pytest.fixture
def live(
    aws_env: Any,
    fake_kube: Callable[..., Any],
    https_issuer_factory: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    quiet_kube_retries: list[float],
) -> Iterator[Callable[..., Live]]:
    import moto.eks.models as eks_models

    from tests.servers.fake_kube import write_multi_context_kubeconfig

    def make(
        data: dict[str, Any] | None = None,
        *,
        trusted_issuer: bool = True,
        thumbprint_ok: bool = True,
        endpoint_matches: bool = True,
        issuer: dict[str, Any] | None = None,
        **kube_knobs: Any,
    ) -> Live:
        data = data or small_data()
        iss = https_issuer_factory(path=ISSUER_PATH, **(issuer or {}))
        kube = fake_kube(
            service_accounts=data["service_accounts"],
            pods=data["pods"],
            webhooks=[data["webhook"]],
            version=data["version"]["serverVersion"],
            tls=True,
            **kube_knobs,
        )
        decoy = fake_kube(tls=True)
        endpoint = kube.url + "/" if endpoint_matches else "https://nowhere.invalid/"
        monkeypatch.setattr(eks_models, "ENDPOINT_TEMPLATE", endpoint)
        monkeypatch.setattr(eks_models, "ISSUER_TEMPLATE", iss.issuer)
        seeded = aws_env.seed(data)
        assert seeded.issuer == iss.issuer
        if thumbprint_ok:
            iam = aws_env.client("iam")
            iam.update_open_id_connect_provider_thumbprint(
                OpenIDConnectProviderArn=seeded.provider_arn,
                ThumbprintList=[iss.expected_thumbprint],
            )
        if trusted_issuer:
            monkeypatch.setenv("SSL_CERT_FILE", iss.ca_file)
        kc = write_multi_context_kubeconfig(
            tmp_path / "kubeconfig", {"decoy": decoy, "cluster-ctx": kube}, "decoy"
        )
        monkeypatch.setenv("KUBECONFIG", kc)
        kube.reset_records()
        return Live(
            cluster=seeded.cluster_name,
            data=seeded.data,
            seeded=seeded,
            kube=kube,
            decoy=decoy,
            issuer=iss,
            kubeconfig=kc,
            aws=aws_env,
            tmp=tmp_path,
        )

    yield make


@pytest.fixture
def recorded_aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``service:Operation`` of every botocore call made by clients created from now on
    (botocore's ``before-call`` event, registered on each new client)."""
    import botocore.session

    calls: list[str] = []
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        prefix = client.meta.service_model.signing_name

        def record(model: Any, **_: Any) -> None:
            calls.append(f"{prefix}:{model.name}")

        client.meta.events.register("before-call.*.*", record)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    return calls
