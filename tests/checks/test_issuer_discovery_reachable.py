"""issuer_discovery_reachable: the issuer's `/.well-known/openid-configuration` and JWKS answer
(live collection, `tls/discovery.json`)."""

from __future__ import annotations

from tests.checks.helpers import ISSUER, demo_docs, only, results


def _discovery(keys):
    issuer = f"https://{ISSUER}"
    return {
        "openid_configuration": {
            "url": f"{issuer}/.well-known/openid-configuration",
            "status": 200,
            "tls_verified": True,
            "error": None,
            "issuer": issuer,
            "jwks_uri": f"{issuer}/keys",
        },
        "jwks": {
            "url": f"{issuer}/keys",
            "status": 200,
            "tls_verified": True,
            "error": None,
            "keys": keys,
        },
    }


def test_issuer_discovery_passes_with_keys_and_fails_with_an_empty_key_set():
    docs = demo_docs()
    docs["tls/discovery.json"] = _discovery(2)
    assert only(results(docs), "issuer_discovery_reachable").status == "PASS"
    docs["tls/discovery.json"] = _discovery(0)
    row = only(results(docs), "issuer_discovery_reachable")
    assert row.status == "FAIL" and "no keys" in row.detail
