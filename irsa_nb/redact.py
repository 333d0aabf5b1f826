"""Masking of secrets: one place that decides what looks secret.

Used when parsing Kubernetes objects (pod env values, in the pod spec or seen inside a
container, never reach an Inventory unmasked), when a collector slims objects (service-account
annotations are masked there, not when a bundle is read) and when writing evidence.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import pandas as pd

MASK = "***"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"  # kept verbatim: the checks look it up

# Env names whose values are secrets (AWS_SECRET_ACCESS_KEY, DB_PASSWORD, API_TOKEN, ...).
_SECRET_NAME = re.compile(
    r"(KEY|SECRET|TOKEN|PASSWORD|PASSWD|PWD|CREDENTIAL|PRIVATE|SESSION|AUTH|COOKIE|SIGNATURE)",
    re.IGNORECASE,
)
# Names that match the pattern above but hold paths or switches, not secrets.
_SAFE_NAMES = frozenset(
    {
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ROLE_SESSION_NAME",
    }
)

_PATTERNS = [
    # JSON Web Tokens (service-account tokens): header.payload.signature, base64url.
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # AWS access key ids (long-term AKIA, temporary ASIA, and the other documented prefixes).
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    # `aws_secret_access_key = ...` / `"SecretAccessKey": "..."` / session tokens in text.
    re.compile(
        r"(?i)((?:aws_)?secret_?access_?key|session_?token|x-amz-security-token)"
        r"([\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{16,})"
    ),
    # Presigned EKS tokens (`aws eks get-token`): k8s-aws-v1.<base64url>.
    re.compile(r"\bk8s-aws-v1\.[A-Za-z0-9_-]{10,}"),
]
# `DB_PASSWORD=...`, `api_key = ...`, `API_TOKEN: ...` in pasted text: the value is masked
# when the name looks secret (is_secret_name). Names are bounded (no quadratic scan of long
# word runs); a value is quoted (also JSON-escaped once or more: \"...\") or a bare word.
_NAME = r"(?<![\w./])([A-Za-z_][A-Za-z0-9_.-]{0,127})"
_VALUE = r"(\\{0,8}\"[^\"\\\n]*\\{0,8}\"|\\{0,8}'[^'\\\n]*\\{0,8}'|[^\s\"'\\,;&]+)"
_ASSIGNMENTS = (
    re.compile(_NAME + r"([\"']?[ \t]*=[ \t]*)" + _VALUE),
    # A colon only after an UPPER_SNAKE name and before the end, punctuation or another
    # assignment: error text (`InvalidIdentityToken: No OpenIDConnect provider`, `... without
    # AWS_SECRET_ACCESS_KEY: boto3 fails`) stays readable.
    re.compile(
        r"(?<![\w./])([A-Z][A-Z0-9]{0,63}_[A-Z0-9_]{1,127})([\"']?[ \t]*:[ \t]*)"
        + _VALUE
        + r"(?=\s*(?:$|[,;)\]}]|[A-Za-z_][A-Za-z0-9_.-]*[ \t]*[=:]))",
        re.MULTILINE,
    ),
)

# Cheap pre-filter: text without any of these cannot hold a pattern above.
_MAYBE = re.compile(
    r"eyJ|A[A-Z]{3}[A-Z0-9]{16}|k8s-aws-v1|security|" + _SECRET_NAME.pattern, re.IGNORECASE
)


#: AWS SDK settings whose values are not secret: kept verbatim where other env values are
#: masked wholesale (the collect-script, in-pod evidence).
AWS_SETTINGS_ENV = (
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_PROFILE",
    "AWS_SDK_LOAD_CONFIG",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_EC2_METADATA_DISABLED",
)


@lru_cache(maxsize=4096)  # env names repeat across thousands of pods
def is_secret_name(name: str) -> bool:
    """True when an environment variable or key name suggests a secret value.

    >>> is_secret_name("AWS_SECRET_ACCESS_KEY"), is_secret_name("AWS_ROLE_ARN")
    (True, False)
    """
    return name not in _SAFE_NAMES and bool(_SECRET_NAME.search(name))


def mask_text(text: str) -> tuple[str, int]:
    """Mask access key ids, secret keys, session tokens, JWTs and the values of secret-named
    assignments (``DB_PASSWORD=...``, ``API_TOKEN: ...``) in free text.

    Returns the masked text and how many secrets were masked.
    """
    if len(text) <= _CACHED_LENGTH:
        return _mask_short_text(text)
    return _mask_text(text)


def _mask_text(text: str) -> tuple[str, int]:
    count = 0
    if not _MAYBE.search(text):
        return text, 0
    for pattern in _PATTERNS:
        if pattern.groups == 3:
            text, n = pattern.subn(lambda m: m.group(1) + m.group(2) + MASK, text)
        else:
            text, n = pattern.subn(MASK, text)
        count += n
    masked = 0

    def assignment(m: re.Match[str]) -> str:
        nonlocal masked
        name, sep, value = m.group(1, 2, 3)
        lead = len(value) - len(value.lstrip("\\"))  # JSON escapes before a quote
        quote = value[: lead + 1] if value[lead : lead + 1] in ("'", '"') else ""
        if value.strip("\"'\\") in ("", MASK) or not is_secret_name(name):
            return m.group(0)
        masked += 1
        return f"{name}{sep}{quote}{MASK}{quote}"

    for pattern in _ASSIGNMENTS:
        text = pattern.sub(assignment, text)
    return text, count + masked


# Env values and annotations repeat across the replicas of a workload: short texts are
# masked once (long ones, such as logs, are not kept).
_CACHED_LENGTH = 512
_mask_short_text = lru_cache(maxsize=8192)(_mask_text)


def mask_env_value(name: str, value: str) -> str:
    """The value to keep for env var ``name``: masked when the name or value looks secret."""
    if is_secret_name(name):
        return MASK if value else value
    return mask_text(value)[0]


def collected_env_value(name: str, value: str) -> str:
    """The value a collector keeps for env var ``name``: AWS SDK settings
    (:data:`AWS_SETTINGS_ENV`, still masked by :func:`mask_env_value`) and ``***`` for every
    other non-empty value, whatever its name (as the collect-script does).

    >>> collected_env_value("DATABASE_URL", "postgres://app:hunter2@db/app")
    '***'
    """
    if name in AWS_SETTINGS_ENV:
        return mask_env_value(name, value)
    return MASK if value else value


def mask_annotation(key: str, value: str) -> str:
    """The value to keep for annotation ``key``.

    ``eks.amazonaws.com/role-arn`` is kept as written (an identifier the checks look up);
    other ``eks.amazonaws.com/*`` values are pattern-masked (:func:`mask_text`); any other
    annotation is masked like an env var (:func:`mask_env_value`: by name, then by pattern).

    >>> mask_annotation("vault.example.com/db-password", "hunter2")
    '***'
    """
    if key == ROLE_ARN_ANNOTATION:
        return value
    if key.startswith("eks.amazonaws.com/"):
        return mask_text(value)[0]
    return mask_env_value(key, value)


def mask_data(value: Any, key: str = "", *, names: bool = True) -> tuple[Any, int]:
    """Mask secrets in JSON-like data (dicts, lists, strings), e.g. evidence or parameters.

    A string under a key that :func:`is_secret_name` flags is replaced by :data:`MASK`
    (unless ``names`` is false: then only patterns count); every other string goes through
    :func:`mask_text`. Returns the masked copy and how many secrets were masked.

    >>> mask_data({"env": {"DB_PASSWORD": "hunter2", "REGION": "us-east-1"}})
    ({'env': {'DB_PASSWORD': '***', 'REGION': 'us-east-1'}}, 1)
    """
    if isinstance(value, str):
        if names and key and value and value != MASK and is_secret_name(key):
            return MASK, 1
        return mask_text(value)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        total = 0
        for k, v in value.items():
            out[k], n = mask_data(v, str(k), names=names)
            total += n
        return out, total
    if isinstance(value, list | tuple):
        items, total = [], 0
        for v in value:
            masked, n = mask_data(v, key, names=names)
            items.append(masked)
            total += n
        return (tuple(items) if isinstance(value, tuple) else items), total
    return value, 0


def mask_results(results: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Mask secrets in every text column of a results frame (``evidence`` as JSON data).

    Returns the masked copy and how many secrets were masked.
    """
    out = results.copy()
    total = 0
    for col in out.columns:
        values = []
        for value in out[col].tolist():
            if not isinstance(value, str) or not value:
                values.append(value)
                continue
            if col == "evidence":
                try:
                    masked, n = mask_data(json.loads(value))
                    value = json.dumps(masked, sort_keys=True, default=str) if n else value
                except ValueError:
                    value, n = mask_text(value)
            else:
                value, n = mask_text(value)
            total += n
            values.append(value)
        out[col] = pd.Series(values, index=out.index, dtype=out[col].dtype)
    return out, total
