"""Table tests for irsa_nb.iam.arn."""

from __future__ import annotations

import pytest

from irsa_nb.iam.arn import (
    ROLE_ARN_RE,
    Arn,
    ArnError,
    is_valid_role_arn,
    issuer_host_path,
    oidc_provider_arn,
    parse_arn,
    partition_for_region,
    role_name,
)

CN_ISSUER = "https://oidc.eks.cn-north-1.amazonaws.com.cn/id/EXAMPLED539D4633E53DE1B716D3041E"
GOV_ISSUER = "https://oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "arn:aws:iam::111122223333:role/EKS-IRSA",
            Arn("aws", "iam", "", "111122223333", "role/EKS-IRSA"),
        ),
        (
            "arn:aws-cn:iam::111122223333:role/team/app",
            Arn("aws-cn", "iam", "", "111122223333", "role/team/app"),
        ),
        (
            "arn:aws-us-gov:iam::111122223333:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/AB",
            Arn(
                "aws-us-gov",
                "iam",
                "",
                "111122223333",
                "oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/AB",
            ),
        ),
        (  # the resource keeps its own colons
            "arn:aws:logs:us-west-2:111122223333:log-group:/aws/eks/demo:*",
            Arn("aws", "logs", "us-west-2", "111122223333", "log-group:/aws/eks/demo:*"),
        ),
        ("arn:aws:s3:::my-bucket", Arn("aws", "s3", "", "", "my-bucket")),
        (
            "arn:aws:iam::aws:policy/AdministratorAccess",
            Arn("aws", "iam", "", "aws", "policy/AdministratorAccess"),
        ),
    ],
)
def test_parse_arn_splits_six_parts_and_round_trips(text: str, expected: Arn) -> None:
    arn = parse_arn(text)
    assert arn == expected
    assert str(arn) == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("arn:aws:iam::::123", "12-digit account"),  # KC E2 "Request ARN is invalid"
        ("arn:aws:iam::111122223333", "6"),
        ("arn:aws:iam", "6"),
        ("", "empty"),
        ("aws:iam::111122223333:role/x:extra", "instead of 'arn'"),
        ("arn::iam::111122223333:role/x", "partition"),
        ("arn:amazon:iam::111122223333:role/x", "partition"),
        ("arn:aws::::role/x", "service"),
        ("arn:aws:iam::11112222333:role/x", "12-digit"),
        ("arn:aws:iam::111122223333:", "resource"),
        ("arn:aws:iam::111122223333::role/x", "starts with ':'"),
        (" arn:aws:iam::111122223333:role/x", "leading whitespace"),
        ("arn:aws:iam::111122223333:role/x\n", "trailing whitespace"),
        ("arn:aws:iam::111122223333:role/my role", "inner whitespace"),
        ("arn:aws:iam:US-WEST-2:111122223333:role/x", "region"),
    ],
)
def test_parse_arn_rejects_malformed_with_explanation(text: str, problem: str) -> None:
    with pytest.raises(ArnError) as info:
        parse_arn(text)
    message = str(info.value)
    assert problem in message
    assert "arn:<partition>:<service>:<region>:<account>:<resource>" in message
    assert repr(text) in message


def test_parse_arn_rejects_non_string() -> None:
    with pytest.raises(ArnError, match="expected a string"):
        parse_arn(None)  # type: ignore[arg-type]


def test_arn_error_is_a_value_error() -> None:
    assert issubclass(ArnError, ValueError)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("arn:aws:iam::111122223333:role/EKS-IRSA", True),
        ("arn:aws-cn:iam::111122223333:role/team/app", True),
        ("arn:aws-us-gov:iam::111122223333:role/a.b@c+d=e,f_g-h", True),
        ("arn:aws:iam::::123", False),
        ("arn:aws:iam::111122223333:user/alice", False),  # not a role
        ("arn:aws:sts::111122223333:role/app", False),  # wrong service
        ("arn:aws:iam::111122223333:assumed-role/app/session", False),
        ("arn:aws:iam::11112222333:role/app", False),  # 11 digits
        ("arn:aws:iam::111122223333:role/", False),
        ("arn:aws:iam::111122223333:role/app\n", False),  # Go's $ does not allow it
        (" arn:aws:iam::111122223333:role/app", False),
        ("arn:aws:iam::111122223333:role/app name", False),
        ("arn:aws:iam::١١١١٢٢٢٢٣٣٣٣:role/app", False),  # non-ASCII digits
        ("arn:aws:iam::111122223333:role/café", False),  # non-ASCII word char
        ("ARN:aws:iam::111122223333:role/app", False),
    ],
)
def test_is_valid_role_arn_matches_the_webhook_regex(text: str, valid: bool) -> None:
    assert is_valid_role_arn(text) is valid


def test_role_arn_re_is_the_webhook_pattern() -> None:
    assert ROLE_ARN_RE.pattern == r"^arn:aws[a-z0-9-]*:iam::\d{12}:role\/[\w\-\/.@+=,]+$"


def test_is_valid_role_arn_is_false_for_non_strings() -> None:
    assert is_valid_role_arn(None) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("role_arn", "name"),
    [
        ("arn:aws:iam::111122223333:role/EKS-IRSA", "EKS-IRSA"),
        ("arn:aws:iam::111122223333:role/team/app", "app"),
        ("arn:aws-cn:iam::111122223333:role/a/b/c/deep", "deep"),
        ("arn:aws-us-gov:iam::111122223333:role/service-role/x@y", "x@y"),
    ],
)
def test_role_name_is_last_path_segment(role_arn: str, name: str) -> None:
    assert role_name(role_arn) == name


@pytest.mark.parametrize(
    ("role_arn", "problem"),
    [
        ("arn:aws:iam::111122223333:user/alice", "resource type is 'user'"),
        ("arn:aws:sts::111122223333:role/app", "service is 'sts'"),
        ("arn:aws:iam::111122223333:role/team/", "empty"),
        ("arn:aws:iam::::123", "12-digit"),
    ],
)
def test_role_name_rejects_non_role_arns(role_arn: str, problem: str) -> None:
    with pytest.raises(ArnError, match=problem):
        role_name(role_arn)


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-west-2", "aws"),
        ("eu-west-1", "aws"),
        ("ap-southeast-2", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("us-isof-south-1", "aws-iso-f"),
        ("eu-isoe-west-1", "aws-iso-e"),
        ("eusc-de-east-1", "aws-eusc"),
    ],
)
def test_partition_for_region(region: str, partition: str) -> None:
    assert partition_for_region(region) == partition


def test_partition_for_region_rejects_empty() -> None:
    with pytest.raises(ValueError, match="region"):
        partition_for_region("")


@pytest.mark.parametrize(
    ("url", "host_path"),
    [
        (
            "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E",
            "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E",
        ),
        (
            "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E/",
            "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E",
        ),
        (CN_ISSUER, "oidc.eks.cn-north-1.amazonaws.com.cn/id/EXAMPLED539D4633E53DE1B716D3041E"),
        (GOV_ISSUER, "oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"),
        ("https://oidc-eks.us-east-2.api.aws/id/ABC123", "oidc-eks.us-east-2.api.aws/id/ABC123"),
        ("oidc.eks.eu-west-1.amazonaws.com/id/ABC", "oidc.eks.eu-west-1.amazonaws.com/id/ABC"),
        (
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC\n",
            "oidc.eks.eu-west-1.amazonaws.com/id/ABC",
        ),
        ("HTTPS://oidc.example.com/", "oidc.example.com"),
    ],
)
def test_issuer_host_path_strips_scheme_and_trailing_slash(url: str, host_path: str) -> None:
    assert issuer_host_path(url) == host_path


@pytest.mark.parametrize("url", ["http://oidc.eks.us-west-2.amazonaws.com/id/A", "https://", ""])
def test_issuer_host_path_rejects_non_https_or_empty(url: str) -> None:
    with pytest.raises(ValueError):
        issuer_host_path(url)


@pytest.mark.parametrize(
    ("partition", "account", "issuer", "expected"),
    [
        (
            "aws",
            "111122223333",
            "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E",
            "arn:aws:iam::111122223333:oidc-provider/"
            "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E",
        ),
        (
            "aws-cn",
            "111122223333",
            CN_ISSUER + "/",
            "arn:aws-cn:iam::111122223333:oidc-provider/"
            "oidc.eks.cn-north-1.amazonaws.com.cn/id/EXAMPLED539D4633E53DE1B716D3041E",
        ),
        (
            "aws-us-gov",
            "444455556666",
            GOV_ISSUER,
            "arn:aws-us-gov:iam::444455556666:oidc-provider/"
            "oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E",
        ),
        (
            "aws",
            "111122223333",
            "https://oidc-eks.us-east-2.api.aws/id/ABC",
            "arn:aws:iam::111122223333:oidc-provider/oidc-eks.us-east-2.api.aws/id/ABC",
        ),
    ],
)
def test_oidc_provider_arn(partition: str, account: str, issuer: str, expected: str) -> None:
    arn = oidc_provider_arn(partition, account, issuer)
    assert arn == expected
    assert parse_arn(arn).resource.startswith("oidc-provider/")


@pytest.mark.parametrize(
    ("partition", "account"),
    [("aws", "12345"), ("aws", ""), ("", "111122223333"), ("amazon", "111122223333")],
)
def test_oidc_provider_arn_rejects_bad_partition_or_account(partition: str, account: str) -> None:
    with pytest.raises(ArnError):
        oidc_provider_arn(partition, account, "https://oidc.eks.us-west-2.amazonaws.com/id/A")


@pytest.mark.parametrize(
    "bad",
    [
        lambda: parse_arn("arn:aws:iam::::123"),
        lambda: parse_arn(" arn:aws:iam::111122223333:role/x"),
        lambda: parse_arn("arn:amazon:iam::111122223333:role/x"),
        lambda: role_name("arn:aws:iam::111122223333:user/x"),
        lambda: oidc_provider_arn("aws", "123", "https://oidc.example/id/X"),
    ],
)
def test_arn_errors_render_in_chinese_and_stay_english_as_str(bad) -> None:
    from tests.faces.test_zh_output import english_runs

    with pytest.raises(ArnError) as info:
        bad()
    message = info.value.message
    assert str(info.value) == message == message.in_lang("en")
    zh = message.in_lang("zh")
    assert zh != message and not english_runs(zh), zh
