"""The issuer's TLS chain as IAM sees it, and OIDC discovery, against a local HTTPS issuer."""

from __future__ import annotations

import hashlib

import pytest

import irsa_nb
from irsa_nb import bundle
from irsa_nb.bundle import CallFailed
from irsa_nb.inventory import build_inventory
from irsa_nb.live import collect as live_collect
from irsa_nb.live import tls


@pytest.mark.parametrize("include_root", [False, True])
def test_chain_is_what_the_server_presents_and_top_ca_is_the_thumbprint(
    https_issuer_factory, include_root
):
    issuer = https_issuer_factory(include_root=include_root)
    ders = tls.fetch_chain(issuer.url)
    assert len(ders) == (3 if include_root else 2)
    assert hashlib.sha1(ders[-1]).hexdigest() == issuer.expected_thumbprint
    text = tls.chain_text(ders, issuer.host_port)
    inv = build_inventory({bundle.ISSUER_CHAIN: text, "k8s/pods.json": {"items": []}})
    assert inv.issuer_chain == ders  # the core reads back exactly these certificates
    assert "irsa-nb Test Intermediate CA" in text


def test_discovery_ok_records_status_trust_and_key_count(https_issuer, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", https_issuer.ca_file)
    rec = tls.discovery(https_issuer.issuer)
    conf, keys = rec["openid_configuration"], rec["jwks"]
    assert conf["status"] == 200 and conf["error"] is None and conf["tls_verified"] is True
    assert conf["issuer"] == https_issuer.issuer
    assert keys["url"] == https_issuer.issuer + "/keys" and keys["keys"] == 1


def test_untrusted_certificate_is_recorded_and_documents_still_read(https_issuer, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", "/nonexistent")
    rec = tls.discovery(https_issuer.issuer)
    conf = rec["openid_configuration"]
    assert conf["tls_verified"] is False and "certificate" in conf["tls_error"]
    assert conf["status"] == 200 and rec["jwks"]["keys"] == 1


def test_a_hanging_issuer_is_an_error_after_the_timeout(https_issuer_factory, monkeypatch):
    issuer = https_issuer_factory(discovery="hang", hang_seconds=5)
    monkeypatch.setenv("SSL_CERT_FILE", issuer.ca_file)
    rec = tls.discovery(issuer.issuer, timeout=0.5)
    assert rec["openid_configuration"]["status"] is None
    assert "timed out" in rec["openid_configuration"]["error"]
    assert rec["jwks"] is None


def test_a_document_nested_too_deeply_is_an_error_not_a_crash(https_issuer_factory, monkeypatch):
    issuer = https_issuer_factory(discovery="deep")
    monkeypatch.setenv("SSL_CERT_FILE", issuer.ca_file)
    conf = tls.discovery(issuer.issuer)["openid_configuration"]
    assert conf["status"] == 200
    assert conf["error"] == "the response is JSON nested too deeply to read"


def test_an_issuer_that_does_not_speak_http_is_an_error_not_a_crash(live):
    lv = live(issuer={"discovery": "garbage"})
    inv = irsa_nb.collect(lv.cluster, progress=False)
    conf = inv.documents[bundle.DISCOVERY]["openid_configuration"]
    assert conf["error"].startswith("BadStatusLine") and conf["status"] is None
    assert len(inv.pods) == len(lv.data["pods"])  # the rest is collected
    df = irsa_nb.run_checks(inv)
    row = df[df.check_id == "issuer_discovery_reachable"].iloc[0]
    assert row.status == "WARN" and "BadStatusLine" in row.detail


def test_unreachable_issuer_becomes_recorded_failures():
    docs = live_collect._issuer_documents("https://127.0.0.1:9/id/X")
    assert isinstance(docs[bundle.ISSUER_CHAIN], CallFailed)
    assert "127.0.0.1:9" in docs[bundle.ISSUER_CHAIN].message
    assert docs[bundle.DISCOVERY]["openid_configuration"]["error"]
    assert tls.discovery("http://example.invalid")["openid_configuration"]["error"] == (
        "not an https:// URL"
    )
