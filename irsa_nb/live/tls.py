"""The OIDC issuer side: its TLS chain (for the IAM thumbprint) and discovery documents.

:func:`fetch_chain` connects without verifying (as IAM computes a thumbprint for any
issuer) and returns the certificates the server presents, leaf first; :func:`chain_text`
writes them in ``openssl s_client -showcerts`` form (what ``tls/issuer-chain.pem`` holds).
:func:`discovery` fetches ``/.well-known/openid-configuration`` and its ``jwks_uri`` the way
STS does (HTTPS, verified with the default trust store, which honours ``SSL_CERT_FILE``)
and records what happened (``tls/discovery.json``).
"""

from __future__ import annotations

import _ssl
import http.client
import json
import logging
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT = 10.0
MAX_DOCUMENT_BYTES = 1 << 20


def host_port(url: str) -> tuple[str, int]:
    """Host and port (default 443) of an https URL."""
    parts = urllib.parse.urlsplit(url if "://" in url else "https://" + url)
    if not parts.hostname:
        raise ValueError(f"no host in issuer URL {url!r}")
    return parts.hostname, parts.port or 443


def fetch_chain(url: str, timeout: float = TIMEOUT) -> list[bytes]:
    """DER certificates the server of ``url`` presents, leaf first (not verified).

    Examples
    --------
    >>> ders = fetch_chain("https://oidc.eks.us-west-2.amazonaws.com")  # doctest: +SKIP
    >>> thumbprint = hashlib.sha1(ders[-1]).hexdigest()  # doctest: +SKIP
    """
    host, port = host_port(url)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        ctx.wrap_socket(raw, server_hostname=host) as tls,
    ):
        getter = getattr(tls, "get_unverified_chain", None)  # public from Python 3.13
        if getter is None:
            getter = tls._sslobj.get_unverified_chain  # type: ignore[union-attr]
        chain = getter() or []
        ders = [c if isinstance(c, bytes) else c.public_bytes(_ssl.ENCODING_DER) for c in chain]
        if not ders:
            leaf = tls.getpeercert(binary_form=True)
            ders = [leaf] if leaf else []
        return ders


def chain_text(ders: list[bytes], host: str = "") -> str:
    """The chain as ``openssl s_client -showcerts`` prints it (subjects, then PEM blocks)."""
    lines = [f"CONNECTED({host})" if host else "CONNECTED", "---", "Certificate chain"]
    for i, der in enumerate(ders):
        subject, issuer = _names(der)
        lines += [f" {i} s:{subject}", f"   i:{issuer}", ssl.DER_cert_to_PEM_cert(der).strip()]
    lines.append("---")
    return "\n".join(lines) + "\n"


def _names(der: bytes) -> tuple[str, str]:
    """Subject and issuer of a certificate as one-line strings (best effort)."""
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        return cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
    except Exception:  # cryptography missing or an odd certificate: names are cosmetic
        return "?", "?"


def _get(url: str, timeout: float, verify: bool) -> tuple[int, bytes]:
    ctx = ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    req = urllib.request.Request(url, headers={"Accept": "application/json"}, method="GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
            return resp.status, resp.read(MAX_DOCUMENT_BYTES)
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def _fetch_json(url: str, timeout: float) -> dict[str, Any]:
    """GET ``url`` as STS would; the record says status, TLS trust, error and the JSON."""
    rec: dict[str, Any] = {"url": url, "status": None, "tls_verified": None, "error": None}
    if not url.lower().startswith("https://"):
        rec["error"] = "not an https:// URL"
        return rec
    try:
        try:
            status, body = _get(url, timeout, verify=True)
            rec["tls_verified"] = True
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise
            rec["tls_verified"] = False
            rec["tls_error"] = str(exc.reason.verify_message or exc.reason)
            status, body = _get(url, timeout, verify=False)
    except urllib.error.URLError as exc:
        rec["error"] = str(exc.reason)
        return rec
    except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, bad
        rec["error"] = f"{type(exc).__name__}: {exc}"  # URLs, a server that is not HTTP
        return rec
    rec["status"] = status
    if status != 200:
        rec["error"] = f"HTTP {status}"
        return rec
    try:
        rec["document"] = json.loads(body)
    except ValueError:
        rec["error"] = "the response is not JSON"
    except RecursionError:
        rec["error"] = "the response is JSON nested too deeply to read"
    return rec


def discovery(issuer: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """Fetch the issuer's OpenID configuration and JWKS; record what happened.

    Returns
    -------
    dict
        ``{"issuer", "openid_configuration": {url, status, tls_verified, error, issuer,
        jwks_uri}, "jwks": {url, status, tls_verified, error, keys} | None}``.
    """
    base = issuer.rstrip("/")
    conf = _fetch_json(base + "/.well-known/openid-configuration", timeout)
    doc = conf.pop("document", None)
    out: dict[str, Any] = {"issuer": issuer, "openid_configuration": conf, "jwks": None}
    if conf["error"] is None:
        if not isinstance(doc, dict):
            conf["error"] = "the document is not a JSON object"
        else:
            conf["issuer"] = doc.get("issuer")
            conf["jwks_uri"] = doc.get("jwks_uri")
    jwks_uri = conf.get("jwks_uri")
    if isinstance(jwks_uri, str) and jwks_uri:
        keys = _fetch_json(jwks_uri, timeout)
        kdoc = keys.pop("document", None)
        if keys["error"] is None:
            found = kdoc.get("keys") if isinstance(kdoc, dict) else None
            keys["keys"] = len(found) if isinstance(found, list) else None
            if keys["keys"] is None:
                keys["error"] = "the JWKS has no 'keys' array"
            elif keys["keys"] == 0:
                keys["error"] = "the JWKS holds no keys, so no token can be verified"
        out["jwks"] = keys
    return out
