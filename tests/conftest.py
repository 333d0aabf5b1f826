"""Shared pytest fixtures: local stand-ins for AWS (moto), the Kubernetes API and an OIDC issuer.

Everything listens on 127.0.0.1 (port 0) and is torn down after use.  Product code is
pointed at them only through standard configuration (``AWS_ENDPOINT_URL`` + credentials in
the environment, a kubeconfig file).  The implementations live in ``tests/servers/``; the
heavy imports (moto, boto3, aiohttp, cryptography) happen inside the fixtures, not at
collection time.

* ``moto_server`` - a :class:`tests.servers.aws.MotoServer` (one per xdist worker), state
  reset (``POST /moto-api/reset``) after each test.
* ``aws_env`` - monkeypatches the environment for the moto server and yields an
  :class:`tests.servers.aws.AwsEnv` (``.seed(data)``, ``.env()`` for subprocesses, ...).
* ``fake_kube`` - factory: ``fake_kube(pods=..., service_accounts=..., **knobs)`` returns a
  started :class:`tests.servers.fake_kube.FakeKube`; all are stopped after the test.
* ``https_issuer`` - a started :class:`tests.servers.tls.HttpsIssuer` with default settings;
  ``https_issuer_factory(**kwargs)`` for other configurations.
* ``throttle_proxy`` - factory: ``throttle_proxy(plan, upstream=None, **kw)`` returns a
  started :class:`tests.servers.aws.ThrottleProxy` in front of ``upstream`` (default: the
  moto server).
* ``fast_retries`` - botocore retries without sleeping; yields the requested delays.
* ``small_cluster`` - a small :func:`tests.builders.synthetic.synthetic_cluster` (fresh copy).

Proxies: the servers above are on loopback, but the kubernetes client, botocore, urllib, the
aws CLI and kubectl all honour ``HTTP(S)_PROXY``.  So that a machine behind a proxy does not
send test traffic to it, ``NO_PROXY``/``no_proxy`` get ``127.0.0.1,localhost,::1`` (added to
what they hold) when this file is imported - in ``os.environ``, so subprocesses inherit it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _bypass_proxies_for_loopback() -> None:
    """Add the loopback hosts to ``NO_PROXY`` and ``no_proxy``, keeping what either held."""
    entries: list[str] = []
    for var in ("NO_PROXY", "no_proxy"):
        for entry in os.environ.get(var, "").split(","):
            if entry.strip() and entry.strip() not in entries:
                entries.append(entry.strip())
    entries += [h for h in LOOPBACK_HOSTS if h not in entries]
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(entries)


_bypass_proxies_for_loopback()


@pytest.fixture(scope="session", autouse=True)
def _no_proxy_for_loopback() -> None:
    """Session-wide: the loopback hosts are still in ``NO_PROXY`` (set at import, above)."""
    _bypass_proxies_for_loopback()


if TYPE_CHECKING:
    from tests.servers.aws import AwsEnv, MotoServer, ThrottleProxy
    from tests.servers.fake_kube import FakeKube
    from tests.servers.tls import HttpsIssuer


@pytest.fixture(scope="session")
def _moto_server_session() -> Iterator[MotoServer]:
    from tests.servers.aws import MotoServer

    with MotoServer() as server:
        yield server


@pytest.fixture
def moto_server(_moto_server_session: MotoServer) -> Iterator[MotoServer]:
    yield _moto_server_session
    _moto_server_session.reset()


@pytest.fixture
def aws_env(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory, monkeypatch: Any
) -> Iterator[AwsEnv]:
    from tests.servers.aws import DEFAULT_REGION, AwsEnv, reset_boto3_default_session

    yield AwsEnv(moto_server, tmp_path_factory.mktemp("aws"), monkeypatch, DEFAULT_REGION)
    reset_boto3_default_session()


@pytest.fixture
def fake_kube() -> Iterator[Callable[..., FakeKube]]:
    from tests.servers.fake_kube import FakeKube

    started: list[FakeKube] = []

    def factory(**kwargs: Any) -> FakeKube:
        kube = FakeKube(**kwargs)
        started.append(kube)
        return kube.start()

    yield factory
    for kube in started:
        kube.stop()


@pytest.fixture
def https_issuer_factory() -> Iterator[Callable[..., HttpsIssuer]]:
    from tests.servers.tls import HttpsIssuer

    started: list[HttpsIssuer] = []

    def factory(*args: Any, **kwargs: Any) -> HttpsIssuer:
        issuer = HttpsIssuer(*args, **kwargs)
        issuer.start()
        started.append(issuer)
        return issuer

    yield factory
    for issuer in started:
        issuer.stop()


@pytest.fixture
def https_issuer(https_issuer_factory: Callable[..., HttpsIssuer]) -> HttpsIssuer:
    return https_issuer_factory()


@pytest.fixture
def throttle_proxy(request: pytest.FixtureRequest) -> Iterator[Callable[..., ThrottleProxy]]:
    from tests.servers.aws import ThrottleProxy

    started: list[ThrottleProxy] = []

    def factory(plan: Any = None, upstream: str | None = None, **kwargs: Any) -> ThrottleProxy:
        if upstream is None:
            upstream = request.getfixturevalue("moto_server").url
        proxy = ThrottleProxy(upstream, plan, **kwargs)
        proxy.start()
        started.append(proxy)
        return proxy

    yield factory
    for proxy in started:
        proxy.stop()


@pytest.fixture
def fast_retries() -> Iterator[list[float]]:
    from tests.servers.aws import fast_botocore_retries

    with fast_botocore_retries() as sleeps:
        yield sleeps


@pytest.fixture
def small_cluster() -> dict[str, Any]:
    from tests.builders.synthetic import synthetic_cluster

    return synthetic_cluster(n_service_accounts=120, n_pods=400, n_roles=40, n_namespaces=6, seed=7)
