"""issuer_discovery_reachable: the issuer's `/.well-known/openid-configuration` and JWKS answer
(live collection, `tls/discovery.json`)."""

from __future__ import annotations

import pytest

from tests.checks.helpers import ISSUER, demo_docs, only, outcome, results


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


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {},
        "SKIP",
        "_not_collected",
        "Not collected: the issuer's discovery record (tls/discovery.json); this could not be "
        "checked.",
        {},
    )
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "issuer_discovery_reachable", **where), status, key, detail, ev)
