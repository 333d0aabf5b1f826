"""provider_thumbprint_matches: the issuer chain's top CA SHA-1 is in ThumbprintList (WARN only for
EKS-hosted issuers)."""

from __future__ import annotations

import json

from irsa_nb.bundle import provider_path
from tests.checks.helpers import PROVIDER, demo_docs, only, results


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
