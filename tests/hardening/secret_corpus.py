"""Secrets and hostile strings planted in bundles and live clusters; none of the secrets may
reach anything irsa-nb writes or shows, and the hostile strings must render as text.

Each secret sits where :mod:`irsa_nb.redact` promises to catch it: under a secret-looking
name (env vars, annotations), or in free text in a recognisable form (access key ids,
``aws_secret_access_key=...`` / ``x-amz-security-token=...``, JWTs, ``k8s-aws-v1.`` tokens).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from irsa_nb.bundle import write_documents

from .helpers import demo_docs

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
TEMP_KEY = "ASIAY34FZKBOKMUTVV7A"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEJr" + "A1b2C3d4E5f6G7h8" * 8
# A projected service-account token (header.payload.signature, base64url).
JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjVjNGUifQ."
    "eyJhdWQiOlsic3RzLmFtYXpvbmF3cy5jb20iXSwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OnNob3A6bGVha3kifQ."
    "c2lnbmF0dXJlLW9mLXRoZS1wcm9qZWN0ZWQtdG9rZW4"
)
PRESIGNED = "k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXI"
PASSWORD = "hunter2-correct-horse-battery"
# A secret under an innocuous name in no recognisable form: redaction cannot see it in a
# bundle you build yourself, but the collector keeps no env value except AWS SDK settings.
UNLABELLED = "plain-8d1f0c-unlabelled"
SECRETS = {
    "access key id": ACCESS_KEY,
    "temporary access key id": TEMP_KEY,
    "secret access key": SECRET_KEY,
    "session token": SESSION_TOKEN,
    "service-account token (JWT)": JWT,
    "presigned EKS token": PRESIGNED,
    "password": PASSWORD,
}

# Markup and template syntax that must show as text.
SCRIPT = "<script>alert('irsa')</script>"
IMG = '<img src=x onerror="alert(2)">'
SVG = '"><svg onload=alert(3)>'
MD_LINK = "[click me](javascript:alert(4))"
TEMPLATES = "{{7*7}} ${7*7} {cluster} %(x)s"
HOSTILE_SA = f"{SCRIPT}{MD_LINK}"
HOSTILE_POD = f"{IMG}-pod"
HOSTILE_NS = "shop"  # real namespace, so the demo's role and trust rows apply

ERROR_MESSAGE = (
    "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity "
    f"operation: Incorrect token audience {JWT} (key {ACCESS_KEY}, {SVG}, {TEMPLATES}; "
    f"DB_PASSWORD={PASSWORD})"
)


def env_with_secrets() -> list[dict[str, str]]:
    return [
        {"name": "DB_PASSWORD", "value": PASSWORD},
        {"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET_KEY},
        {"name": "AWS_SESSION_TOKEN", "value": SESSION_TOKEN},
        {"name": "AWS_ACCESS_KEY_ID", "value": TEMP_KEY},
        {"name": "UPSTREAM", "value": f"key={ACCESS_KEY} bearer {JWT} eks {PRESIGNED}"},
    ]


def annotations_with_secrets(role_arn: str) -> dict[str, str]:
    return {
        "eks.amazonaws.com/role-arn": role_arn,
        "eks.amazonaws.com/audience": JWT,
        "eks.amazonaws.com/token-expiration": ACCESS_KEY,
        "eks.amazonaws.com/sts-regional-endpoints": f"x-amz-security-token={SESSION_TOKEN}",
        "vault.example.com/db-password": PASSWORD,
        "example.com/notes": f"aws_secret_access_key = {SECRET_KEY} {TEMPLATES} {MD_LINK}",
    }


def secret_docs() -> dict[str, Any]:
    """The demo bundle plus, in namespace shop: service account ``leaky`` (role irsa-checkout)
    and :data:`HOSTILE_SA` (role irsa-leaky) with secret annotations, and their pods with
    secret env and annotations."""
    docs = demo_docs()
    arn = "arn:aws:iam::111122223333:role/"
    sas = docs["k8s/serviceaccounts.json"]["items"]
    pods = docs["k8s/pods.json"]["items"]
    template = next(p for p in pods if p["metadata"]["name"].startswith("checkout-"))
    for name, role, pod_name in (
        ("leaky", "irsa-checkout", "leaky-6b7c8d9e0f-abcde"),
        (HOSTILE_SA, "irsa-leaky", HOSTILE_POD),
    ):
        sas.append(
            {
                "kind": "ServiceAccount",
                "metadata": {
                    "namespace": HOSTILE_NS,
                    "name": name,
                    "annotations": annotations_with_secrets(arn + role),
                },
            }
        )
        pod = copy.deepcopy(template)
        pod["metadata"]["name"] = pod_name
        pod["metadata"]["annotations"] = {
            "eks.amazonaws.com/skip-containers": f"{PRESIGNED},{SCRIPT}",
            "eks.amazonaws.com/token-expiration": TEMP_KEY,
        }
        pod["spec"]["serviceAccountName"] = pod["spec"]["serviceAccount"] = name
        for c in pod["spec"]["containers"]:
            c["env"] = [*c.get("env", []), *env_with_secrets()]
        pods.append(pod)
    return docs


ROLE_ERROR = (
    "An error occurred (AccessDenied) when calling the GetRole operation: request "
    f"x-amz-security-token={SESSION_TOKEN} Authorization: Bearer {JWT} "
    f"aws_secret_access_key={SECRET_KEY} from {ACCESS_KEY} via {PRESIGNED}"
)


def write_secret_bundle(out: Path) -> Path:
    """:func:`secret_docs` as a bundle directory, with ``get-role/irsa-leaky.error.txt``."""
    root = write_documents(secret_docs(), out)
    (root / "aws/iam/get-role/irsa-leaky.error.txt").write_text(ROLE_ERROR + "\n")
    return root


def leaks(text: str) -> list[str]:
    """The names of the planted secrets that appear in ``text``."""
    return [what for what, secret in SECRETS.items() if secret in text]
