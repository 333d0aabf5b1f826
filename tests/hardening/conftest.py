"""Fixtures for the hardening suite: the live-cluster stand-in of tests/live (moto + fake
Kubernetes API + HTTPS issuer) and a fault injector for one namespace's requests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

# The live-cluster stand-in of the collector's tests (if it moves, these tests fail loudly).
with contextlib.suppress(ImportError):
    from tests.live.conftest import live, quiet_kube_retries, recorded_aws_calls  # noqa: F401


@pytest.fixture
def namespace_faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """``faults[(namespace, resource)] = "timeout" | "500" | "reset"``: every fake Kubernetes
    API server started afterwards answers requests for that namespace's resource so (the
    fixture's own knobs work per resource only). ``timeout`` answers after
    ``faults["seconds"]`` (default 3 s); shorten ``irsa_nb.live.kube.REQUEST_TIMEOUT`` below it.
    """
    from aiohttp import web

    from tests.servers.fake_kube import FakeKube

    faults: dict[Any, Any] = {"seconds": 3.0}
    original = FakeKube._middleware

    @web.middleware
    async def middleware(self: Any, request: web.Request, handler: Any) -> web.StreamResponse:
        parts = request.path.strip("/").split("/")
        namespaced = parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 5
        mode = faults.get((parts[3], parts[4])) if namespaced else None
        if mode is None:
            return await original(self, request, handler)

        async def faulty(req: web.Request) -> web.StreamResponse:  # after recording and auth
            if mode == "timeout":
                await self._sleep(faults["seconds"])
                return await handler(req)
            if mode == "reset" and req.transport is not None:
                req.transport.abort()
                return web.Response(status=500)
            return self._status(500, "InternalError", "Internal error occurred: etcd down")

        return await original(self, request, faulty)

    monkeypatch.setattr(FakeKube, "_middleware", middleware)
    yield faults
