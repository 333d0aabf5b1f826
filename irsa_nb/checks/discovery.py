"""The issuer's OIDC discovery documents can be fetched (what STS does to verify a token).

Reads :meth:`irsa_nb.inventory.Inventory.issuer_discovery` (``tls/discovery.json``, written by
``irsa-nb collect``; see :mod:`irsa_nb.live.tls`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..inventory import Gap
from .helpers import EKS_ISSUER_SUFFIXES
from .registry import Context, Finding, from_gap


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]


def issuer_discovery_reachable(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    cl = inv.cluster
    if isinstance(cl, Gap):
        yield from_gap(cl, "the cluster description")
        return
    if not cl.issuer:
        yield Finding("SKIP", "no_issuer")
        return
    discovery = inv.issuer_discovery()
    if isinstance(discovery, Gap):
        yield from_gap(discovery, "the issuer's discovery record")
        return
    conf, jwks = discovery.openid_configuration, discovery.jwks
    ev = {"openid_configuration": conf, "jwks": jwks}
    params: dict[str, Any] = {"url": conf.get("url", ""), "error": conf.get("error") or ""}
    if conf.get("error"):
        key = "unreachable" if conf.get("status") is None else "bad_response"
        yield Finding("WARN" if key == "unreachable" else "FAIL", key, params, ev)
        return
    found = str(conf.get("issuer") or "")
    if found.rstrip("/") != cl.issuer.rstrip("/"):
        yield Finding("FAIL", "issuer_mismatch", {**params, "found": found or "nothing"}, ev)
        return
    if jwks is None:
        yield Finding("FAIL", "no_jwks_uri", params, ev)
        return
    params.update(url=jwks.get("url", ""), error=jwks.get("error") or "")
    if jwks.get("error"):
        key = "unreachable" if jwks.get("status") is None else "bad_response"
        yield Finding("WARN" if key == "unreachable" else "FAIL", key, params, ev)
        return
    params["keys"] = jwks.get("keys")
    if not params["keys"]:  # an empty key set verifies nothing
        params["error"] = "the JWKS holds no keys, so no token can be verified"
        yield Finding("FAIL", "bad_response", params, ev)
        return
    untrusted = [r for r in (conf, jwks) if r.get("tls_verified") is False]
    if untrusted and not _host(cl.issuer).endswith(EKS_ISSUER_SUFFIXES):
        reason = untrusted[0].get("tls_error") or "certificate not trusted"
        yield Finding("WARN", "untrusted", {**params, "reason": reason}, ev)
        return
    yield Finding("PASS", "pass", params, ev)
