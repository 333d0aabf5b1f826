"""Which region and which STS endpoint a container's AWS SDK will use for web identity.

One function per SDK family reads the container's environment the way that SDK does and
returns an :class:`StsCall`: the region, the variable it came from, the STS host the
``AssumeRoleWithWebIdentity`` call goes to, whether that host is global or regional, and why.
The checks (``china_region_env``, ``sts_endpoint_config``, ``partition_consistent``) and the
predicted identity read these answers; nothing here knows about checks.

The rules, from the SDKs' own source:

- botocore (boto3, AWS CLI v1) reads its region from ``AWS_DEFAULT_REGION`` only, never
  ``AWS_REGION``: https://github.com/boto/botocore/blob/1.40.0/botocore/configprovider.py#L56 .
  The web-identity STS client takes that region (``credentials.py`` ``_get_client_creator``);
  without one STS resolves to ``aws-global``, i.e. ``sts.amazonaws.com``.
  ``AWS_STS_REGIONAL_ENDPOINTS`` must be exactly ``legacy`` or ``regional``
  (``InvalidSTSRegionalEndpointsConfigError``, botocore/args.py#L510-L523); its default
  changed from ``legacy`` to ``regional`` in botocore 1.40.0 (CHANGELOG 1.40.0, commit
  https://github.com/boto/botocore/commit/23581d12f23774b99e413cf3149cde0dffeecd30 ;
  1.39.17 still had ``'legacy'``, configprovider.py#L147-L151). "legacy" sends the 16 regions
  of ``LEGACY_GLOBAL_STS_REGIONS`` (botocore/args.py#L46) to ``sts.amazonaws.com``.
- aws-sdk-go v1 reads ``AWS_REGION``; ``AWS_DEFAULT_REGION`` only when ``AWS_SDK_LOAD_CONFIG``
  is true (https://github.com/aws/aws-sdk-go/blob/v1.55.6/aws/session/env_config.go#L222-L224,
  #L287, #L335-L342). Without a region STS falls back to its partition endpoint
  ``sts.amazonaws.com`` (aws/endpoints/v3model.go ``allowLegacyEmptyRegion``); the default mode
  is legacy (aws/endpoints/legacy_regions.go, v3model.go ``isLegacyGlobalRegion``), the
  variable is read case-insensitively (endpoints.go ``GetSTSRegionalEndpoint``).
- aws-sdk-go-v2 reads ``AWS_REGION`` then ``AWS_DEFAULT_REGION``
  (https://github.com/aws/aws-sdk-go-v2/blob/main/config/env_config.go ``regionEnvKeys``),
  always calls the regional endpoint and fails without a region ("an AWS region is required,
  but was not found", aws/errors.go ``MissingRegionError``).
- JavaScript v3 reads ``AWS_REGION`` (``@smithy/config-resolver`` ``REGION_ENV_NAME``) and
  needs it ("Region is missing"); its STS role assumer takes the caller client's region
  (``@aws-sdk/client-sts`` ``defaultStsRoleAssumers`` ``resolveRegion``; some releases used
  us-east-1 for callers in the aws partition, modelled here as the caller's region). Regional.
- Java v1/v2, .NET, Ruby, PHP read ``AWS_REGION`` (Ruby also ``AMAZON_REGION`` and
  ``AWS_DEFAULT_REGION``); Java and .NET then ask the instance metadata service, which answers
  with the node's region. Defaults of ``AWS_STS_REGIONAL_ENDPOINTS`` follow the SDKs and Tools
  Reference Guide (https://docs.aws.amazon.com/sdkref/latest/guide/feature-sts-regionalized-endpoints.html):
  SDK majors released after July 2022 are regional; Go v1, Java v1, JavaScript v2, .NET v3
  and PHP v3 default to legacy. Ruby: ``aws-sdk-sts`` ``plugins/sts_regional_endpoints.rb``
  defaults to ``regional`` (the older ``aws-sdk-core`` plugin defaulted to ``legacy``; the model
  follows the current gem).

>>> call = botocore({"AWS_REGION": "cn-north-1"})
>>> call.endpoint, call.scope
('sts.amazonaws.com', 'global')
>>> go2({"AWS_REGION": "cn-north-1"}).endpoint
'sts.cn-north-1.amazonaws.com.cn'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

from .sdks import version_tuple

__all__ = [
    "ANY_SDK",
    "GLOBAL_ENDPOINT",
    "LEGACY_GLOBAL_STS_REGIONS",
    "OPT_IN_REGIONS",
    "SCOPES",
    "StsCall",
    "calls_for",
    "failing",
    "partition_of",
    "resolve",
    "resolve_any",
    "sdk_sts_default",
    "sts_host",
    "summary",
]

Env = Mapping[str, "str | None"]
GLOBAL_ENDPOINT = "sts.amazonaws.com"
STS_ENV = "AWS_STS_REGIONAL_ENDPOINTS"
#: ``regional``/``global``: the host it calls; ``no_region``: the SDK fails before calling
#: STS; ``invalid``: the SDK refuses AWS_STS_REGIONAL_ENDPOINTS; ``unknown``: not modelled.
SCOPES = ("regional", "global", "no_region", "invalid", "unknown")

#: botocore/args.py LEGACY_GLOBAL_STS_REGIONS (aws-sdk-go aws/endpoints/legacy_regions.go
#: lists the same 15 regions without ``aws-global``).
LEGACY_GLOBAL_STS_REGIONS = frozenset(
    {
        "ap-northeast-1",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "aws-global",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
#: Regions launched after 20 March 2019, disabled by default ("opt-in"; AWS Account
#: Management guide, "Enable or disable AWS Regions in your account").
OPT_IN_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
    }
)


@dataclass(frozen=True)
class StsCall:
    """Where one SDK sends ``AssumeRoleWithWebIdentity`` from one container's environment."""

    sdk: str  # label, e.g. "boto3 1.34.0" or "Go SDK v2"
    region: str | None  # the region the SDK resolved (None: none)
    region_source: str  # the variable it came from, "instance metadata", or ""
    endpoint: str | None  # STS host name; None when the SDK fails before calling STS
    scope: str  # one of SCOPES
    mode: str | None  # AWS_STS_REGIONAL_ENDPOINTS in effect: "legacy", "regional" or None
    why: str  # one English sentence

    @cached_property
    def partition(self) -> str | None:
        """The partition of the endpoint called (None when none is called)."""
        if self.endpoint is None:
            return None
        return "aws" if self.endpoint == GLOBAL_ENDPOINT else partition_of(self.region or "")

    @cached_property
    def source_is_env(self) -> bool:
        """Whether the region came from an environment variable of the container."""
        return self.region_source.startswith(("AWS_", "AMAZON_"))

    def as_dict(self) -> dict[str, str | None]:
        return {
            "sdk": self.sdk,
            "region": self.region,
            "region_source": self.region_source,
            "endpoint": self.endpoint,
            "scope": self.scope,
            "why": self.why,
        }


def partition_of(region: str) -> str:
    """The partition of a region name: ``aws-cn`` (cn-*), ``aws-us-gov`` (us-gov-*), ``aws``."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def sts_host(region: str | None) -> str:
    """The regional STS host of ``region`` (the global host for None or ``aws-global``)."""
    if not region or region == "aws-global":
        return GLOBAL_ENDPOINT
    suffix = ".amazonaws.com.cn" if partition_of(region) == "aws-cn" else ".amazonaws.com"
    return f"sts.{region}{suffix}"


def _first(env: Env, names: tuple[str, ...]) -> tuple[str | None, str]:
    for name in names:
        value = env.get(name)
        if value:
            return value, name
    return None, ""


def _call(
    label: str,
    region: str | None,
    source: str,
    mode: str | None,
    no_region: str,
    legacy_applies: bool = True,
) -> StsCall:
    """The call for a resolved region and mode; ``no_region`` is "global" or "no_region"."""
    if not region:
        if no_region == "global":
            why = f"{label} finds no region and calls the global endpoint {GLOBAL_ENDPOINT}"
            return StsCall(label, None, "", GLOBAL_ENDPOINT, "global", mode, why)
        why = f"{label} finds no region and fails before calling STS"
        return StsCall(label, None, "", None, "no_region", mode, why)
    if legacy_applies and mode == "legacy" and region in LEGACY_GLOBAL_STS_REGIONS:
        why = f"{label} uses legacy STS endpoints: {region} ({source}) goes to {GLOBAL_ENDPOINT}"
        return StsCall(label, region, source, GLOBAL_ENDPOINT, "global", mode, why)
    host = sts_host(region)
    why = f"{label} takes region {region} from {source} and calls {host}"
    return StsCall(label, region, source, host, "regional", mode, why)


def _mode(env: Env, default: str, exact: bool) -> str:
    """AWS_STS_REGIONAL_ENDPOINTS as the SDK reads it ("invalid" when it refuses the value)."""
    value = env.get(STS_ENV)
    if not value:
        return default
    norm = value if exact else value.lower()
    return norm if norm in ("legacy", "regional") else "invalid"


def _invalid(label: str, env: Env) -> StsCall:
    why = f"{label} refuses {STS_ENV}={env.get(STS_ENV)!r} (only legacy or regional)"
    return StsCall(label, None, "", None, "invalid", None, why)


def sdk_sts_default(sdk: str, version: str) -> str | None:
    """``regional`` or ``legacy``: the SDK's default without AWS_STS_REGIONAL_ENDPOINTS.

    botocore/boto3 switched to regional in 1.40.0, the AWS CLI v1 in 1.42.0 (botocore
    1.40) and v2 always was; SDK majors released after July 2022 default to regional.
    None when unknown.
    """
    v = version_tuple(version)
    if sdk in ("boto3", "botocore"):
        return "regional" if v >= (1, 40) else "legacy"
    if sdk == "awscli":
        return "regional" if v[0] >= 2 or v >= (1, 42) else "legacy"
    if sdk in ("go2", "java2", "ruby"):
        return "regional"
    if sdk == "node":
        return "regional" if v[0] >= 3 else "legacy"
    if sdk == "dotnet":
        return "regional" if v[0] >= 4 else "legacy"
    if sdk in ("go", "java", "php"):
        return "legacy"
    return None


# --- one function per SDK family ------------------------------------------------------------


def botocore(env: Env, version: str = "1.40.0", label: str = "boto3") -> StsCall:
    """boto3, botocore and the AWS CLI v1: region from AWS_DEFAULT_REGION only."""
    mode = _mode(env, "regional" if version_tuple(version) >= (1, 40) else "legacy", exact=True)
    if mode == "invalid":
        return _invalid(label, env)
    region, source = _first(env, ("AWS_DEFAULT_REGION",))
    call = _call(label, region, source, mode, "global")
    if not region and env.get("AWS_REGION"):
        why = f"{call.why}: botocore ignores AWS_REGION and reads AWS_DEFAULT_REGION"
        return StsCall(label, None, "", GLOBAL_ENDPOINT, "global", mode, why)
    return call


def awscli2(env: Env, label: str = "AWS CLI v2") -> StsCall:
    """The AWS CLI v2: AWS_REGION, then AWS_DEFAULT_REGION; regional by default."""
    mode = _mode(env, "regional", exact=True)
    if mode == "invalid":
        return _invalid(label, env)
    region, source = _first(env, ("AWS_REGION", "AWS_DEFAULT_REGION"))
    return _call(label, region, source, mode, "global")


def go1(env: Env, label: str = "Go SDK v1") -> StsCall:
    """aws-sdk-go v1: AWS_REGION (AWS_DEFAULT_REGION with AWS_SDK_LOAD_CONFIG); legacy."""
    mode = _mode(env, "legacy", exact=False)
    if mode == "invalid":
        return _invalid(label, env)
    load = (env.get("AWS_SDK_LOAD_CONFIG") or "") in ("1", "t", "T", "TRUE", "true", "True")
    names = ("AWS_REGION", "AWS_DEFAULT_REGION") if load else ("AWS_REGION",)
    region, source = _first(env, names)
    return _call(label, region, source, mode, "global")


def go2(env: Env, label: str = "Go SDK v2") -> StsCall:
    """aws-sdk-go-v2: AWS_REGION, then AWS_DEFAULT_REGION; always regional; region required."""
    region, source = _first(env, ("AWS_REGION", "AWS_DEFAULT_REGION"))
    return _call(label, region, source, "regional", "no_region", legacy_applies=False)


def _imds(label: str, env: Env, node_region: str | None, mode: str) -> StsCall:
    """Java and .NET: AWS_REGION, else the instance metadata service (the node's region)."""
    region, source = _first(env, ("AWS_REGION",))
    if not region and node_region:
        call = _call(label, node_region, "instance metadata", mode, "no_region")
        why = f"{call.why} (only if the pod can reach the instance metadata service)"
        return StsCall(
            label, node_region, "instance metadata", call.endpoint, call.scope, mode, why
        )
    return _call(label, region, source, mode, "no_region")


def java(env: Env, version: str | None = None, node_region: str | None = None) -> StsCall:
    """Java SDK v1 (legacy default) and v2 (regional)."""
    v2 = version is None or version_tuple(version)[0] >= 2
    label = "Java SDK v2" if v2 else "Java SDK v1"
    mode = _mode(env, "regional" if v2 else "legacy", exact=False)
    if mode == "invalid":
        return _invalid(label, env)
    return _imds(label, env, node_region, mode)


def dotnet(env: Env, version: str | None = None, node_region: str | None = None) -> StsCall:
    """.NET SDK v3 (legacy default) and v4 (regional)."""
    v4 = version is None or version_tuple(version)[0] >= 4
    label = ".NET SDK v4" if v4 else ".NET SDK v3"
    mode = _mode(env, "regional" if v4 else "legacy", exact=False)
    if mode == "invalid":
        return _invalid(label, env)
    return _imds(label, env, node_region, mode)


def node(env: Env, version: str | None = None) -> StsCall:
    """JavaScript v2 (AWS_REGION or AMAZON_REGION, legacy, global without a region) and v3
    (AWS_REGION, regional, region required)."""
    if version is not None and version_tuple(version)[0] == 2:
        label = "JavaScript SDK v2"
        mode = _mode(env, "legacy", exact=False)
        if mode == "invalid":
            return _invalid(label, env)
        region, source = _first(env, ("AWS_REGION", "AMAZON_REGION"))
        return _call(label, region, source, mode, "global")
    region, source = _first(env, ("AWS_REGION",))
    return _call("JavaScript SDK v3", region, source, "regional", "no_region", False)


def ruby(env: Env, label: str = "Ruby SDK") -> StsCall:
    """aws-sdk-ruby v3: AWS_REGION, AMAZON_REGION, AWS_DEFAULT_REGION; regional; required."""
    mode = _mode(env, "regional", exact=False)
    if mode == "invalid":
        return _invalid(label, env)
    region, source = _first(env, ("AWS_REGION", "AMAZON_REGION", "AWS_DEFAULT_REGION"))
    return _call(label, region, source, mode, "no_region")


def php(env: Env, label: str = "PHP SDK") -> StsCall:
    """aws-sdk-php v3: AWS_REGION; legacy default; region required."""
    mode = _mode(env, "legacy", exact=False)
    if mode == "invalid":
        return _invalid(label, env)
    region, source = _first(env, ("AWS_REGION",))
    return _call(label, region, source, mode, "no_region")


def resolve(sdk: str, version: str | None, env: Env, node_region: str | None = None) -> StsCall:
    """The call of canonical SDK key ``sdk`` (:func:`irsa_nb.sdks.normalize_sdk`) at
    ``version`` (None: its newest behaviour) from environment ``env``."""
    label = sdk if not version else f"{sdk} {version}"
    if sdk in ("boto3", "botocore"):
        return botocore(env, version or "1.40.0", label)
    if sdk == "awscli":
        v = version_tuple(version or "2")
        if v[0] >= 2:
            return awscli2(env, f"AWS CLI {version}" if version else "AWS CLI v2")
        return botocore(env, "1.40.0" if v >= (1, 42) else "1.39.0", f"AWS CLI {version}")
    if sdk == "go":
        return go1(env)
    if sdk == "go2":
        return go2(env)
    if sdk in ("java", "java2"):
        return java(env, (version or "1") if sdk == "java" else "2", node_region)
    if sdk == "node":
        return node(env, version)
    if sdk == "dotnet":
        return dotnet(env, version, node_region)
    if sdk == "ruby":
        return ruby(env)
    if sdk == "php":
        return php(env)
    why = f"{label}: its region and STS endpoint rules are not modelled"
    return StsCall(label, None, "", None, "unknown", None, why)


#: Representative SDKs when the container's SDK is unknown: (label, resolver).
ANY_SDK: tuple[tuple[str, Callable[[Env, str | None], StsCall]], ...] = (
    ("boto3/botocore before 1.40, AWS CLI v1", lambda e, n: botocore(e, "1.39.0", "boto3 <1.40")),
    ("boto3/botocore 1.40+", lambda e, n: botocore(e, "1.40.0", "boto3 1.40+")),
    ("AWS CLI v2", lambda e, n: awscli2(e)),
    ("Go SDK v1", lambda e, n: go1(e)),
    ("Go SDK v2", lambda e, n: go2(e)),
    ("Java SDK v1", lambda e, n: java(e, "1", n)),
    ("Java SDK v2", lambda e, n: java(e, "2", n)),
    ("JavaScript SDK v2", lambda e, n: node(e, "2")),
    ("JavaScript SDK v3", lambda e, n: node(e, "3")),
    (".NET SDK v3", lambda e, n: dotnet(e, "3", n)),
    (".NET SDK v4", lambda e, n: dotnet(e, "4", n)),
    ("Ruby SDK", lambda e, n: ruby(e)),
    ("PHP SDK", lambda e, n: php(e)),
)


def resolve_any(env: Env, node_region: str | None = None) -> list[StsCall]:
    """The call of every SDK family of :data:`ANY_SDK` (the SDK is unknown)."""
    return [f(env, node_region) for _, f in ANY_SDK]


#: Every environment variable the resolvers above read.
READS = ("AWS_DEFAULT_REGION", "AWS_REGION", "AMAZON_REGION", STS_ENV, "AWS_SDK_LOAD_CONFIG")


def calls_for(
    env: Env, sdk: Mapping[str, str | None] | None = None, node_region: str | None = None
) -> list[StsCall]:
    """The calls of the SDKs given (``{key: version}``, canonical keys), else of every
    family (:func:`resolve_any`). Replicas share their environment: each distinct
    (variables read, SDKs, node Region) is resolved once."""
    values = tuple(env.get(name) for name in READS)
    return list(_calls_for(values, tuple(sdk.items()) if sdk else (), node_region))


@lru_cache(maxsize=4096)
def _calls_for(
    values: tuple[str | None, ...], sdk: tuple[tuple[str, str | None], ...], node_region: str | None
) -> tuple[StsCall, ...]:
    env = {name: v for name, v in zip(READS, values, strict=True) if v is not None}
    if sdk:
        return tuple(resolve(k, v, env, node_region) for k, v in sdk)
    return tuple(resolve_any(env, node_region))


def failing(calls: list[StsCall], ok: Callable[[StsCall], bool]) -> list[str]:
    """Labels of the calls that ``ok`` rejects, in order, without repeats."""
    return list(dict.fromkeys(c.sdk for c in calls if not ok(c)))


def summary(calls: list[StsCall]) -> tuple[str, str]:
    """(region, STS endpoint) in a few words: one value when every call agrees, else the
    most common value followed by the exceptions (``"sts.x; boto3 1.40+: sts.amazonaws.com"``)."""

    def grouped(value: Callable[[StsCall], str]) -> str:
        groups: dict[str, list[str]] = {}
        for c in calls:
            groups.setdefault(value(c), []).append(c.sdk)
        if len(groups) <= 1:
            return next(iter(groups), "")
        common = max(groups, key=lambda k: len(groups[k]))
        rest = [f"{', '.join(s)}: {k}" for k, s in groups.items() if k != common]
        return "; ".join([common, *rest])

    region = grouped(lambda c: c.region or "none")
    endpoint = grouped(
        lambda c: c.endpoint or ("fails: no region" if c.scope == "no_region" else "-")
    )
    return region, endpoint
