"""provider_thumbprint_matches: the issuer chain's top CA SHA-1 is in ThumbprintList (WARN only for
EKS-hosted issuers)."""

from __future__ import annotations

import json

import pytest

from irsa_nb.bundle import provider_path
from tests.checks.helpers import PROVIDER, demo_docs, only, outcome, results


def test_thumbprint_pass_and_eks_mismatch_is_only_warn(demo):
    assert only(demo, "provider_thumbprint_matches").status == "PASS"
    assert only(results(demo_docs("k8s-118")), "provider_thumbprint_matches").status == "WARN"


def test_thumbprint_mismatch_on_a_self_hosted_issuer_fails():
    docs = demo_docs("k8s-118")
    text = json.dumps({k: v for k, v in docs.items() if not isinstance(v, str)})
    text = text.replace("oidc.eks.us-east-1.amazonaws.com", "oidc.example.internal")
    new = {k: v for k, v in json.loads(text).items()}
    new = {
        k.replace("oidc.eks.us-east-1.amazonaws.com", "oidc.example.internal"): v
        for k, v in new.items()
    }
    new["tls/issuer-chain.pem"] = docs["tls/issuer-chain.pem"]
    assert only(results(new), "provider_thumbprint_matches").status == "FAIL"


def test_thumbprint_chain_not_collected_names_openssl_for_the_issuer_host():
    docs = demo_docs()
    del docs["tls/issuer-chain.pem"]
    row = only(results(docs), "provider_thumbprint_matches")
    assert row.status == "SKIP"
    assert "openssl s_client -connect oidc.eks.us-west-2.amazonaws.com:443" in row.remediation


def test_thumbprint_not_configured_is_info():
    docs = demo_docs()
    docs[provider_path(PROVIDER)]["ThumbprintList"] = []
    assert only(results(docs), "provider_thumbprint_matches").status == "INFO"


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {},
        "PASS",
        "pass",
        "The issuer's top CA thumbprint 79deed292df4a6d5f60f61ae8418db77131189ba is in the "
        "ThumbprintList of "
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C.",
        {
            "issuer_host": "oidc.eks.us-west-2.amazonaws.com",
            "thumbprint_list": ["79deed292df4a6d5f60f61ae8418db77131189ba"],
            "top_ca_sha1": "79deed292df4a6d5f60f61ae8418db77131189ba",
        },
    )
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "provider_thumbprint_matches", **where), status, key, detail, ev)
