"""Fake servers: local stand-ins for the systems irsa-nb talks to (see README.md here).

* :mod:`tests.servers.aws` - moto server, AWS environment, seeding, fault-injecting proxy.
* :mod:`tests.servers.fake_sts` - a fake STS (and IAM policy simulator) in front of moto.
* :mod:`tests.servers.fake_kube` - a fake Kubernetes API server (lists, TokenRequest, exec).
* :mod:`tests.servers.tls` - a local CA chain and an HTTPS OIDC issuer (thumbprints).
* :mod:`tests.servers.jwt_keys` - RSA keys, JWKS, RS256 service-account tokens.

The pytest fixtures wrapping them are in ``tests/conftest.py``; the ``test_*.py`` files here
prove they speak the real protocols. The document builders they serve are in
``tests/builders/``.
"""
