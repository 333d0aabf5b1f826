"""irsa_nb.sdk_endpoints: the region and STS endpoint each SDK takes from a container's env.

Each case encodes a line of an SDK's source (URL in the test); botocore's answers are also
compared with the botocore installed here, resolving a real STS client (no request is sent).
"""

from __future__ import annotations

import botocore
import botocore.session
import pytest

from irsa_nb.sdk_endpoints import (
    LEGACY_GLOBAL_STS_REGIONS,
    calls_for,
    go1,
    go2,
    java,
    node,
    resolve,
    resolve_any,
    summary,
)
from irsa_nb.sdk_endpoints import (
    botocore as botocore_call,
)
from irsa_nb.sdks import version_tuple


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"AWS_REGION": "cn-north-1"},
        {"AWS_DEFAULT_REGION": "cn-north-1"},
        {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "cn-northwest-1"},
        {"AWS_DEFAULT_REGION": "us-east-1"},
        {"AWS_DEFAULT_REGION": "us-east-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
        {"AWS_DEFAULT_REGION": "af-south-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
        {"AWS_DEFAULT_REGION": "us-gov-west-1"},
    ],
)
def test_botocore_model_matches_the_installed_botocore(monkeypatch, tmp_path, env):
    """'region' reads AWS_DEFAULT_REGION:
    https://github.com/boto/botocore/blob/1.40.0/botocore/configprovider.py#L56
    legacy mode and LEGACY_GLOBAL_STS_REGIONS:
    https://github.com/boto/botocore/blob/1.40.0/botocore/args.py#L497-L523
    """
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_STS_REGIONAL_ENDPOINTS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = botocore.session.get_session().create_client("sts")
    real = client.meta.endpoint_url.removeprefix("https://")
    call = botocore_call(env, botocore.__version__)
    assert version_tuple(botocore.__version__) >= (1, 40)
    assert call.endpoint == real


def test_botocore_reads_aws_default_region_not_aws_region():
    """'region': ('region', 'AWS_DEFAULT_REGION', None, None):
    https://github.com/boto/botocore/blob/1.40.0/botocore/configprovider.py#L56
    """
    call = botocore_call({"AWS_REGION": "cn-north-1"}, "1.34.0")
    assert call.endpoint == "sts.amazonaws.com" and call.scope == "global"
    assert "AWS_DEFAULT_REGION" in call.why
    ok = botocore_call({"AWS_DEFAULT_REGION": "cn-north-1"}, "1.34.0")
    assert ok.endpoint == "sts.cn-north-1.amazonaws.com.cn"
    assert ok.region_source == "AWS_DEFAULT_REGION" and ok.partition == "aws-cn"


def test_botocore_default_mode_changed_to_regional_in_1_40_0():
    """botocore CHANGELOG 1.40.0, commit 23581d12f ("Change default sts endpoint to regional"):
    configprovider.py 'sts_regional_endpoints' default 'legacy' (1.39.17) -> 'regional'."""
    env = {"AWS_DEFAULT_REGION": "us-west-2"}
    assert botocore_call(env, "1.39.17").endpoint == "sts.amazonaws.com"
    assert botocore_call(env, "1.40.0").endpoint == "sts.us-west-2.amazonaws.com"
    assert (
        botocore_call({**env, "AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "1.44.0").scope == "global"
    )
    # args.py#L46 LEGACY_GLOBAL_STS_REGIONS: other regions stay regional in legacy mode
    assert "af-south-1" not in LEGACY_GLOBAL_STS_REGIONS
    legacy_opt_in = {"AWS_DEFAULT_REGION": "af-south-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"}
    assert botocore_call(legacy_opt_in, "1.39.0").endpoint == "sts.af-south-1.amazonaws.com"


def test_botocore_refuses_a_mode_other_than_legacy_or_regional():
    """InvalidSTSRegionalEndpointsConfigError (case-sensitive):
    https://github.com/boto/botocore/blob/1.40.0/botocore/args.py#L510-L523
    """
    call = botocore_call(
        {"AWS_DEFAULT_REGION": "us-west-2", "AWS_STS_REGIONAL_ENDPOINTS": "Regional"}
    )
    assert call.scope == "invalid" and call.endpoint is None


def test_go_v1_reads_aws_region_and_aws_default_region_only_with_load_config():
    """regionEnvKeys (#L222-L224), AWS_SDK_LOAD_CONFIG via strconv.ParseBool (#L287), only
    AWS_REGION without it (#L335-L342):
    https://github.com/aws/aws-sdk-go/blob/v1.55.6/aws/session/env_config.go
    """
    assert go1({"AWS_DEFAULT_REGION": "cn-north-1"}).endpoint == "sts.amazonaws.com"
    loaded = go1({"AWS_DEFAULT_REGION": "cn-north-1", "AWS_SDK_LOAD_CONFIG": "1"})
    assert loaded.endpoint == "sts.cn-north-1.amazonaws.com.cn"
    assert go1({"AWS_REGION": "cn-north-1"}).region_source == "AWS_REGION"


def test_go_v1_defaults_to_legacy_and_reads_the_mode_case_insensitively():
    """https://github.com/aws/aws-sdk-go/blob/v1.55.6/aws/endpoints/legacy_regions.go,
    v3model.go isLegacyGlobalRegion, endpoints.go GetSTSRegionalEndpoint (strings.EqualFold),
    v3model.go allowLegacyEmptyRegion ("sts")."""
    assert go1({"AWS_REGION": "eu-west-1"}).endpoint == "sts.amazonaws.com"
    regional = {"AWS_REGION": "eu-west-1", "AWS_STS_REGIONAL_ENDPOINTS": "Regional"}
    assert go1(regional).endpoint == "sts.eu-west-1.amazonaws.com"
    assert go1({}).endpoint == "sts.amazonaws.com"  # empty region: partition endpoint


def test_go_v2_is_regional_and_needs_a_region():
    """https://github.com/aws/aws-sdk-go-v2/blob/main/config/env_config.go regionEnvKeys
    (AWS_REGION, AWS_DEFAULT_REGION); aws/errors.go MissingRegionError."""
    assert go2({"AWS_DEFAULT_REGION": "us-east-1"}).endpoint == "sts.us-east-1.amazonaws.com"
    legacy = {"AWS_REGION": "us-east-1", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"}
    assert go2(legacy).endpoint == "sts.us-east-1.amazonaws.com"
    assert go2({}).scope == "no_region" and go2({}).endpoint is None


def test_javascript_v3_reads_aws_region_only_and_needs_it():
    """@smithy/node-config-provider REGION_ENV_NAME = "AWS_REGION"; @aws-sdk/client-sts
    defaultStsRoleAssumers.ts resolveRegion (the caller client's region)."""
    assert (
        node({"AWS_REGION": "cn-north-1"}, "3.600.0").endpoint == "sts.cn-north-1.amazonaws.com.cn"
    )
    assert node({"AWS_DEFAULT_REGION": "cn-north-1"}, "3.600.0").scope == "no_region"
    assert node({}, "2.1500.0").endpoint == "sts.amazonaws.com"


def test_java_falls_back_to_the_nodes_region():
    """Java's DefaultAwsRegionProviderChain: AWS_REGION, profile, then instance metadata."""
    call = java({}, "2.20.0", node_region="cn-north-1")
    assert call.endpoint == "sts.cn-north-1.amazonaws.com.cn"
    assert call.region_source == "instance metadata"
    assert java({"AWS_REGION": "eu-west-1"}, "1.12.0").endpoint == "sts.amazonaws.com"  # legacy


def test_unknown_sdk_lists_every_family_and_summary_names_the_exceptions():
    calls = resolve_any({"AWS_REGION": "cn-north-1"}, "cn-north-1")
    wrong = [c.sdk for c in calls if c.partition != "aws-cn"]
    assert wrong == ["boto3 <1.40", "boto3 1.40+"]
    region, endpoint = summary(calls)
    assert region == "cn-north-1; boto3 <1.40, boto3 1.40+: none"
    assert (
        endpoint == "sts.cn-north-1.amazonaws.com.cn; boto3 <1.40, boto3 1.40+: sts.amazonaws.com"
    )
    assert calls_for({"AWS_REGION": "x"}, {"go2": "1.0.0"})[0].sdk == "Go SDK v2"
    assert resolve("cpp", "1.11.0", {}).scope == "unknown"


class _Recording(dict):
    """An environment that records every variable a resolver reads."""

    read: set[str]

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


@pytest.mark.parametrize(
    "sdk",
    [None, {"boto3": "1.9.0"}, {"awscli": "1.30.0"}, {"awscli": "2.1.0"}, {"go": None},
     {"go2": None}, {"java": "1.12"}, {"java2": None}, {"node": "2.1"}, {"node": "3.0"},
     {"dotnet": "3.7"}, {"dotnet": "4.0"}, {"ruby": None}, {"php": None}, {"cpp": "1.9"}],
)  # fmt: skip
def test_calls_for_resolves_once_per_distinct_variables_it_reads(sdk):
    """calls_for resolves each distinct set of the variables in READS once (replicas share
    their environment); the cache would give wrong answers if a resolver read any other."""
    from irsa_nb.sdk_endpoints import READS

    env = _Recording(
        AWS_REGION="eu-west-1", AWS_SDK_LOAD_CONFIG="1", AWS_STS_REGIONAL_ENDPOINTS="legacy",
        AMAZON_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", HOME="/root",
    )  # fmt: skip
    env.read = set()
    direct = (
        [resolve(k, v, env, "cn-north-1") for k, v in sdk.items()]
        if sdk
        else resolve_any(env, "cn-north-1")
    )
    assert env.read <= set(READS)
    assert calls_for(dict(env, PATH="/bin"), sdk, "cn-north-1") == direct
    changed = dict(env, AWS_REGION="us-west-2")
    assert calls_for(changed, sdk, "cn-north-1") == (
        [resolve(k, v, changed, "cn-north-1") for k, v in sdk.items()]
        if sdk
        else resolve_any(changed, "cn-north-1")
    )
