"""The local PKI and HTTPS OIDC issuer: the thumbprint we expect is the SHA-1 of the top
certificate the server really presents, and tokens minted by FakeKube verify against the
issuer's JWKS."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.servers.jwt_keys import b64url_decode
from tests.servers.tls import CertChain, default_chain, presented_chain_sha1


def _get(url: str, cafile: str | None, timeout: float = 5.0) -> dict:
    ctx = ssl.create_default_context(cafile=cafile)
    with urllib.request.urlopen(url, context=ctx, timeout=timeout) as resp:
        return json.load(resp)


def test_chain_structure():
    ch = default_chain()
    ch.leaf.verify_directly_issued_by(ch.inter)
    ch.inter.verify_directly_issued_by(ch.root)
    ch.root.verify_directly_issued_by(ch.root)
    san = ch.leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert ch.inter.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert base64.b64decode(ch.ca_data) == ch.ca_pem


@pytest.mark.parametrize("include_root", [False, True])
def test_thumbprint_is_sha1_of_the_top_presented_cert(https_issuer_factory, include_root):
    issuer = https_issuer_factory(include_root=include_root)
    chain = presented_chain_sha1("127.0.0.1", issuer.port)
    expected = [CertChain.thumbprint(c) for c in issuer.presented]
    assert chain == expected
    assert len(chain) == (3 if include_root else 2)
    top = issuer.chain.root if include_root else issuer.chain.inter
    assert issuer.expected_thumbprint == top.fingerprint(hashes.SHA1()).hex() == chain[-1]
    assert len(issuer.expected_thumbprint) == 40 and issuer.expected_thumbprint.islower()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI is not installed")
def test_openssl_s_client_sees_the_same_chain(https_issuer):
    r = subprocess.run(
        ["openssl", "s_client", "-connect", https_issuer.host_port, "-showcerts",
         "-servername", "127.0.0.1"],
        input="", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    certs = x509.load_pem_x509_certificates(r.stdout.encode())
    assert [CertChain.thumbprint(c) for c in certs] == [
        CertChain.thumbprint(c) for c in https_issuer.presented
    ]
    assert CertChain.thumbprint(certs[-1]) == https_issuer.expected_thumbprint


def test_discovery_and_jwks_verify_a_fake_kube_token(https_issuer_factory, fake_kube, tmp_path):
    from tests.builders import k8s_objects as k8s

    issuer = https_issuer_factory(path="/id/0123456789ABCDEF0123456789ABCDEF")
    doc = _get(issuer.issuer + "/.well-known/openid-configuration", issuer.ca_file)
    assert doc["issuer"] == issuer.issuer
    assert doc["jwks_uri"] == issuer.issuer + "/keys"
    jwks = _get(doc["jwks_uri"], issuer.ca_file)

    kube = fake_kube(service_accounts=[k8s.service_account("ns", "sa")], issuer=issuer.issuer)
    token = kube.mint_token("ns", "sa", ["sts.amazonaws.com"], 3600)
    head, body, sig = token.split(".")
    kid = json.loads(b64url_decode(head))["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    pub = rsa.RSAPublicNumbers(
        int.from_bytes(b64url_decode(jwk["e"]), "big"),
        int.from_bytes(b64url_decode(jwk["n"]), "big"),
    ).public_key()
    pub.verify(b64url_decode(sig), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    claims = json.loads(b64url_decode(body))
    assert claims["iss"] == issuer.issuer == doc["issuer"]
    assert issuer.requests == [
        "/id/0123456789ABCDEF0123456789ABCDEF/.well-known/openid-configuration",
        "/id/0123456789ABCDEF0123456789ABCDEF/keys",
    ]


def test_default_trust_store_rejects_the_test_ca(https_issuer):
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        _get(https_issuer.url + "/keys", cafile=None)


def test_error_and_hang_modes(https_issuer_factory):
    broken = https_issuer_factory(discovery=404, jwks=500)
    with pytest.raises(urllib.error.HTTPError) as ei:
        _get(broken.url + "/.well-known/openid-configuration", broken.ca_file)
    assert ei.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as ei:
        _get(broken.url + "/keys", broken.ca_file)
    assert ei.value.code == 500

    hanging = https_issuer_factory(jwks="hang")
    assert _get(hanging.url + "/.well-known/openid-configuration", hanging.ca_file)["issuer"]
    t0 = time.perf_counter()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        _get(hanging.url + "/keys", hanging.ca_file, timeout=0.3)
    assert time.perf_counter() - t0 < 5
    t0 = time.perf_counter()
    hanging.stop()  # the hanging handler is released at once
    assert time.perf_counter() - t0 < 5
