"""Amazon Resource Name (ARN) helpers for IRSA checks.

Everything here is pure string handling: no AWS calls, no network. :class:`ArnError`
messages are :class:`irsa_nb.text.Msg` objects (English text, renderable in ``zh``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from irsa_nb.text import Msg

__all__ = [
    "ROLE_ARN_RE",
    "Arn",
    "ArnError",
    "is_valid_role_arn",
    "issuer_host_path",
    "oidc_provider_arn",
    "parse_arn",
    "partition_for_region",
    "role_name",
]

_ARN_EXAMPLE = "arn:aws:iam::111122223333:role/my-role"

#: The regex the amazon-eks-pod-identity-webhook applies to ``eks.amazonaws.com/role-arn``.
#: Compiled with ``re.ASCII`` so ``\w`` and ``\d`` mean what they mean in Go's RE2; use
#: :func:`is_valid_role_arn` (``fullmatch``) rather than ``match`` so a trailing newline
#: is rejected as it is by Go's ``$``.
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z0-9-]*:iam::\d{12}:role\/[\w\-\/.@+=,]+$", re.ASCII)

_PARTITION_RE = re.compile(r"aws[a-z0-9-]*", re.ASCII)
_SERVICE_RE = re.compile(r"[a-z0-9][a-z0-9.-]*", re.ASCII)
_REGION_RE = re.compile(r"[a-z0-9-]+", re.ASCII)
_ACCOUNT_RE = re.compile(r"\d{12}", re.ASCII)
_WHITESPACE_RE = re.compile(r"\s")

# Region prefix -> partition, most specific first.
_REGION_PARTITIONS: tuple[tuple[str, str], ...] = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("eusc-", "aws-eusc"),
)


class ArnError(ValueError):
    """An ARN is malformed; the message says what is wrong and what a valid one looks like."""

    @property
    def message(self) -> str:
        """The explanation as a :class:`~irsa_nb.text.Msg` (``str(exc)`` is the English)."""
        return self.args[0] if self.args else ""


@dataclass(frozen=True)
class Arn:
    """The six colon-separated parts of an ARN (the resource may itself contain ``:``)."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def _fail(text: object, problem: str, example: str = _ARN_EXAMPLE, **params: Any) -> ArnError:
    """The error for ``text``; ``problem`` is an ``_arn`` key filled with ``params``."""
    return ArnError(
        Msg(
            "_arn.invalid",
            text=repr(text),
            problem=Msg(f"_arn.{problem}", **params),
            example=example,
        )
    )


def _role_example() -> str:
    return Msg("_arn.role_example")


def parse_arn(text: str) -> Arn:
    """Parse an ARN strictly.

    The text must be ``arn:<partition>:<service>:<region>:<account>:<resource>``; the
    resource is everything after the fifth colon. Whitespace anywhere (including a trailing
    newline from ``--output text``) is reported, not stripped.

    Parameters
    ----------
    text : str
        The ARN.

    Returns
    -------
    Arn

    Raises
    ------
    ArnError
        If the text is not a well-formed ARN; the message names the problem.

    Examples
    --------
    >>> parse_arn("arn:aws-cn:iam::111122223333:role/team/app").partition
    'aws-cn'
    >>> str(parse_arn("arn:aws:iam::111122223333:role/app"))
    'arn:aws:iam::111122223333:role/app'
    >>> parse_arn("arn:aws:iam::::123")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ArnError: invalid ARN 'arn:aws:iam::::123': IAM ARNs need a 12-digit account ID ...
    """
    if not isinstance(text, str):
        raise _fail(text, "not_string", type=type(text).__name__)
    return _parse(text)


@lru_cache(maxsize=16384)  # an inventory names the same few thousand ARNs many times
def _parse(text: str) -> Arn:
    if not text:
        raise _fail(text, "empty")
    ws = _WHITESPACE_RE.search(text)
    if ws:
        where = "leading" if ws.start() == 0 else "trailing" if text.rstrip() != text else "inner"
        raise _fail(text, f"whitespace_{where}", position=ws.start())
    parts = text.split(":", 5)
    if len(parts) < 6:
        raise _fail(text, "parts", count=len(parts))
    prefix, partition, service, region, account, resource = parts
    if prefix != "arn":
        raise _fail(text, "prefix", prefix=repr(prefix))
    if not partition:
        raise _fail(text, "partition_empty")
    if not _PARTITION_RE.fullmatch(partition):
        raise _fail(text, "partition", partition=repr(partition))
    if not service:
        raise _fail(text, "service_empty")
    if not _SERVICE_RE.fullmatch(service):
        raise _fail(text, "service", service=repr(service))
    if region and not _REGION_RE.fullmatch(region):
        raise _fail(text, "region", region=repr(region))
    if account and account != "aws" and not _ACCOUNT_RE.fullmatch(account):
        raise _fail(text, "account", account=repr(account))
    if service == "iam" and not account:
        raise _fail(text, "iam_account")
    if not resource:
        raise _fail(text, "resource_empty")
    if resource.startswith(":"):
        raise _fail(text, "resource_colon", resource=repr(resource))
    return Arn(partition, service, region, account, resource)


def is_valid_role_arn(text: str) -> bool:
    """Return whether ``text`` passes the pod-identity webhook's role-ARN regex.

    Examples
    --------
    >>> is_valid_role_arn("arn:aws:iam::111122223333:role/EKS-IRSA")
    True
    >>> is_valid_role_arn("arn:aws:iam::::123")
    False
    """
    return isinstance(text, str) and ROLE_ARN_RE.fullmatch(text) is not None


def role_name(role_arn: str) -> str:
    """Return the role name: the last path segment after ``role/``.

    Examples
    --------
    >>> role_name("arn:aws:iam::111122223333:role/team/app")
    'app'
    """
    arn = parse_arn(role_arn)
    if arn.service != "iam":
        raise _fail(role_arn, "role_service", _role_example(), service=repr(arn.service))
    if not arn.resource.startswith("role/"):
        kind = arn.resource.split("/", 1)[0]
        raise _fail(role_arn, "role_type", _role_example(), kind=repr(kind))
    name = arn.resource.rsplit("/", 1)[-1]
    if not name:
        raise _fail(role_arn, "role_name_empty", _role_example())
    return name


def partition_for_region(region: str) -> str:
    """Return the partition a region belongs to.

    ``cn-*`` is ``aws-cn``, ``us-gov-*`` is ``aws-us-gov``, ``us-iso-*`` is ``aws-iso``,
    ``us-isob-*`` is ``aws-iso-b`` (also ``us-isof-*``, ``eu-isoe-*``, ``eusc-*``), anything
    else is ``aws``.

    Examples
    --------
    >>> partition_for_region("cn-northwest-1")
    'aws-cn'
    >>> partition_for_region("us-west-2")
    'aws'
    """
    if not isinstance(region, str) or not region:
        raise ValueError(f"region must be a non-empty string such as us-west-2, got {region!r}")
    for prefix, partition in _REGION_PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


def issuer_host_path(issuer_url: str) -> str:
    """Return an OIDC issuer URL without ``https://`` and without trailing ``/``.

    This is the form IAM uses in provider ARNs and condition keys. Surrounding whitespace
    (e.g. the newline from ``--output text``) is dropped. The host is not checked against a
    pattern: ``oidc.eks.<region>.amazonaws.com`` and ``oidc-eks.<region>.api.aws`` both exist.

    Examples
    --------
    >>> issuer_host_path("https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE/")
    'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE'
    """
    if not isinstance(issuer_url, str):
        raise ValueError(f"issuer URL must be a string, got {type(issuer_url).__name__}")
    text = issuer_url.strip()
    if text[:8].lower() == "https://":
        text = text[8:]
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise ValueError(
            f"issuer URL {issuer_url!r} uses scheme {scheme!r}; OIDC issuers use https://, "
            "e.g. https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
        )
    text = text.rstrip("/")
    if not text:
        raise ValueError(f"issuer URL {issuer_url!r} has no host")
    return text


def oidc_provider_arn(partition: str, account: str, issuer_url: str) -> str:
    """Return the IAM OIDC provider ARN for an issuer.

    Examples
    --------
    >>> oidc_provider_arn("aws", "111122223333", "https://oidc.eks.us-west-2.amazonaws.com/id/ABC")
    'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC'
    """
    if not isinstance(partition, str) or not _PARTITION_RE.fullmatch(partition):
        raise ArnError(Msg("_arn.partition", partition=repr(partition)))
    if not isinstance(account, str) or not _ACCOUNT_RE.fullmatch(account):
        raise ArnError(Msg("_arn.account_example", account=repr(account)))
    return f"arn:{partition}:iam::{account}:oidc-provider/{issuer_host_path(issuer_url)}"
