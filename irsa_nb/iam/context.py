"""The request context of the ``sts:AssumeRoleWithWebIdentity`` call a pod's SDK makes with an
EKS service-account token: the one place that says, for any condition key, what IAM sees.

A key is one of three things (:meth:`RequestContext.lookup`):

* :class:`Known` -- present with a value the evidence settles: the token's ``<issuer>:sub``
  and ``<issuer>:aud``; ``aws:CurrentTime`` and ``aws:EpochTime`` (the clock);
  ``aws:SecureTransport`` (``true``: the SDKs call STS over HTTPS); ``aws:ViaAWSService``
  (``false``: the pod calls STS itself); ``aws:RequestedRegion`` when the caller passes the
  Region the pod's SDK calls.
* :class:`Unknown` -- present, or possibly present, with a value no bundle shows
  (``aws:SourceIp``, ``aws:UserAgent``, ``aws:SourceVpce``...): a condition on it cannot be
  decided from the evidence.
* absent (``None``) -- documented as not in this request: other claims of the issuer (EKS
  tokens expose only ``sub`` and ``aud``), keys of other web-identity providers, global keys
  that exist only for signed, MFA, service-made or tagged requests, and other services' keys.

Availability of each global key: IAM User Guide, "AWS global condition context keys",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
(e.g. aws:CurrentTime, aws:EpochTime, aws:RequestedRegion, aws:SecureTransport, aws:UserAgent,
aws:ViaAWSService: "This key is always included in the request context"; aws:SourceIp: "This
key is included in the request context, except when the requester uses a VPC endpoint";
aws:SourceVpc/aws:SourceVpce: "only if the requester uses a VPC endpoint"). The SDKs send
AssumeRoleWithWebIdentity unsigned ("Calling AssumeRoleWithWebIdentity does not require the
use of Amazon Web Services security credentials", STS API Reference), so keys available only
for signed requests or temporary credentials are absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["Known", "RequestContext", "Unknown", "absent_kind"]


@dataclass(frozen=True)
class Known:
    """A key in the request with a value the evidence settles; ``claim`` names the token claim
    it comes from (``sub``/``aud``), empty for a global key."""

    value: str
    claim: str = ""


@dataclass(frozen=True)
class Unknown:
    """A key whose value (and, when ``present`` is ``None``, presence) the evidence does not
    show; ``kind`` says why: ``network``, ``client``, ``caller``, ``session``, ``region`` or
    ``other`` (a global or STS key this model does not list)."""

    kind: str
    present: bool | None


# Always present, value not knowable offline (present=True) or present only on some network
# paths (present=None).
_UNKNOWN: dict[str, Unknown] = {
    "aws:sourceip": Unknown("network", None),
    "aws:sourcevpc": Unknown("network", None),
    "aws:sourcevpce": Unknown("network", None),
    "aws:vpcsourceip": Unknown("network", None),
    "aws:useragent": Unknown("client", True),
    "aws:principaltype": Unknown("caller", True),
    "aws:principalaccount": Unknown("caller", True),
    "aws:userid": Unknown("caller", True),
    "sts:rolesessionname": Unknown("session", None),
}

# Documented as present only for signed requests, temporary credentials, MFA, browser links,
# calls made by or through AWS services, EC2 role credentials, or passed session tags (EKS
# tokens carry none): never in a pod's own AssumeRoleWithWebIdentity call.
_ABSENT_GLOBAL = frozenset(
    {
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:ec2instancesourceprivateipv4",
        "aws:ec2instancesourcevpc",
        "aws:federatedprovider",
        "aws:multifactorauthage",
        "aws:multifactorauthpresent",
        "aws:principalarn",
        "aws:principalisawsservice",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalservicename",
        "aws:principalservicenameslist",
        "aws:referer",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceidentity",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:tagkeys",
        "aws:tokenissuetime",
        "aws:username",
        "sts:externalid",
        "sts:sourceidentity",
        "sts:transitivetagkeys",
    }
)
_ABSENT_GLOBAL_PREFIXES = ("aws:principaltag/", "aws:requesttag/", "aws:resourcetag/")


@dataclass(frozen=True)
class RequestContext:
    """What IAM holds for one AssumeRoleWithWebIdentity call.

    ``requested_region`` is the Region whose STS endpoint the pod's SDK calls (``None``:
    unknown); ``now`` the time of the call (default: the current time).
    """

    issuer: str
    sub: str
    aud: str
    requested_region: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def lookup(self, key: str) -> Known | Unknown | None:
        """The key's entry (names are case-insensitive); ``None`` when it is absent."""
        lowered = key.lower()
        issuer = self.issuer.lower()
        if lowered == f"{issuer}:sub":
            return Known(self.sub, "sub")
        if lowered == f"{issuer}:aud":
            return Known(self.aud, "aud")
        known = self._global(lowered)
        if known is not None:
            return known
        if lowered in _UNKNOWN:
            return _UNKNOWN[lowered]
        if absent_kind(key, self.issuer) == "other":
            return Unknown("other", None)
        return None

    def _global(self, lowered: str) -> Known | Unknown | None:
        now = self.now.astimezone(UTC)
        if lowered == "aws:currenttime":
            return Known(now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if lowered == "aws:epochtime":
            return Known(str(int(now.timestamp())))
        if lowered == "aws:securetransport":
            return Known("true")
        if lowered == "aws:viaawsservice":
            return Known("false")
        if lowered == "aws:requestedregion":
            region = self.requested_region
            return Known(region) if region else Unknown("region", True)
        return None


def absent_kind(key: str, issuer: str) -> str:
    """Which family ``key`` belongs to when it is not in the request: ``own`` (a claim of this
    issuer other than sub/aud), ``other_issuer`` (another web-identity provider's key),
    ``global`` (an ``aws:``/``sts:`` key documented as absent), ``service`` (another
    service's key) or ``other`` (an ``aws:``/``sts:`` key this model does not list)."""
    lowered = key.lower()
    prefix = lowered.rpartition(":")[0]
    if prefix == issuer.lower():
        return "own"
    if prefix and ("." in prefix or "/" in prefix):
        return "other_issuer"
    if lowered in _ABSENT_GLOBAL or lowered.startswith(_ABSENT_GLOBAL_PREFIXES):
        return "global"
    if prefix in ("aws", "sts"):
        return "other"
    return "service"
