"""The AWS SDKs that can use web identity: their minimum versions, names and aliases.

Model layer: the credential predictor (:mod:`irsa_nb.credentials`), the checks and the
faces read these tables; nothing here knows about checks or sources.

>>> normalize_sdk({"Python": "1.34.0"})
{'boto3': '1.34.0'}
>>> minimum("node", version_tuple("3.600.0")).label
'JavaScript SDK v3'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "SDK_ALIASES",
    "SDK_MINIMUMS",
    "SdkMinimum",
    "minimum",
    "normalize_sdk",
    "parse_sdk_spec",
    "version_tuple",
]


@dataclass(frozen=True)
class SdkMinimum:
    label: str
    seed: str  # minimum in the AWS article
    current: str  # minimum AWS lists today (reference: EKS User Guide)
    upgrade: str


# Per SDK key; for node and ruby the major version picks the row (SDK v2 vs v3).
SDK_MINIMUMS: dict[str, SdkMinimum | dict[int, SdkMinimum]] = {
    "java2": SdkMinimum("Java SDK v2", "2.10.11", "2.10.11", "software.amazon.awssdk:sts"),
    "java": SdkMinimum("Java SDK v1", "1.11.704", "1.12.782", "com.amazonaws:aws-java-sdk-sts"),
    "go": SdkMinimum("Go SDK v1", "1.23.13", "1.23.13", "go get github.com/aws/aws-sdk-go@latest"),
    "go2": SdkMinimum("Go SDK v2", "0", "0", "go get github.com/aws/aws-sdk-go-v2/config@latest"),
    "boto3": SdkMinimum("boto3", "1.9.220", "1.9.220", "pip install -U boto3"),
    "botocore": SdkMinimum("botocore", "1.12.200", "1.12.200", "pip install -U botocore"),
    "awscli": SdkMinimum("AWS CLI", "1.16.232", "1.16.232", "pip install -U awscli"),
    "node": {
        2: SdkMinimum("JavaScript SDK v2", "2.525.0", "2.525.0", "npm install aws-sdk@latest"),
        3: SdkMinimum(
            "JavaScript SDK v3", "3.15.0", "3.27.0", "npm install @aws-sdk/client-sts@latest"
        ),
    },
    "ruby": {
        2: SdkMinimum("Ruby SDK v2", "2.11.345", "2.11.345", "gem update aws-sdk"),
        3: SdkMinimum("Ruby SDK v3", "2.11.345", "3.58.0", "gem update aws-sdk-core"),
    },
    "cpp": SdkMinimum("C++ SDK", "1.7.174", "1.7.174", "update aws-sdk-cpp"),
    "dotnet": SdkMinimum(
        ".NET SDK", "3.3.659.1", "3.3.659.1", "dotnet add package AWSSDK.SecurityToken"
    ),
    "php": SdkMinimum("PHP SDK", "3.110.7", "3.110.7", "composer require aws/aws-sdk-php"),
}
SDK_ALIASES = {
    "python": "boto3",
    "aws-cli": "awscli",
    "cli": "awscli",
    "java1": "java",
    "java-v1": "java",
    "javav1": "java",
    "java-v2": "java2",
    "javav2": "java2",
    "golang": "go",
    "go1": "go",
    "go-v1": "go",
    "go-v2": "go2",
    "js": "node",
    "javascript": "node",
    "nodejs": "node",
    "node.js": "node",
    "c++": "cpp",
    ".net": "dotnet",
    "net": "dotnet",
    "csharp": "dotnet",
}


@lru_cache(maxsize=1024)
def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.9.220"`` → ``(1, 9, 220)``; a leading ``v`` and suffixes like ``-rc1`` are ignored."""
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)", version)
    if not m:
        raise ValueError(f"cannot read SDK version {version!r}; expected digits like 1.9.220")
    return tuple(int(p) for p in m.group(1).split("."))


def parse_sdk_spec(value: Any) -> dict[str, str]:
    """``{name: version}`` from ``"boto3=1.9.100; botocore=1.12.0"`` (entries split on ``;``,
    ``,`` or spaces), a JSON object or a mapping; empty or NaN gives ``{}``.

    Raises ValueError for an entry that is not ``NAME=VERSION`` or for invalid JSON.

    >>> parse_sdk_spec("boto3=1.9.100, botocore=1.12.0")
    {'boto3': '1.9.100', 'botocore': '1.12.0'}
    """
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    raw = str(value).strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        data = json.loads(raw)
        return {str(k): str(v) for k, v in data.items()}
    out = {}
    for item in re.split(r"[;,\s]+", raw):
        name, sep, version = item.partition("=")
        if not sep or not name or not version:
            raise ValueError(f"sdk expects NAME=VERSION entries (e.g. boto3=1.34.0), got {item!r}")
        out[name] = version
    return out


def normalize_sdk(sdk: Mapping[str, str] | None) -> dict[str, str]:
    """Canonical SDK keys (case-insensitive, aliases resolved); raises ValueError if unknown."""
    out: dict[str, str] = {}
    for name, version in (sdk or {}).items():
        key = str(name).strip().lower()
        key = SDK_ALIASES.get(key, key)
        if key not in SDK_MINIMUMS:
            known = ", ".join(sorted(SDK_MINIMUMS))
            raise ValueError(f"unknown SDK {name!r}; use one of: {known}")
        version_tuple(str(version))
        out[key] = str(version).strip()
    return out


def minimum(key: str, version: tuple[int, ...]) -> SdkMinimum:
    """The minimum row of SDK ``key`` for ``version`` (node and ruby: by major version)."""
    row = SDK_MINIMUMS[key]
    if isinstance(row, dict):
        return row.get(version[0], row[max(row)])
    return row
