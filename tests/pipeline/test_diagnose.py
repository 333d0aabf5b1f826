# ruff: noqa: E501  (error messages are quoted verbatim)
"""irsa_nb.diagnose: recognise IRSA errors as each SDK prints them, rank causes, confirm them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

import irsa_nb
from irsa_nb.checks import REGISTRY
from irsa_nb.cli import main
from irsa_nb.diagnose import (
    DIAGNOSIS_COLUMNS,
    catalogue,
    extract_fields,
    format_table,
    normalise,
    render_html,
)

ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
REQ = "Request ID: 8b0f2c1e-4a5d-4e6f-9a7b-1c2d3e4f5a6b"
CORPUS = Path(__file__).parents[1] / "model" / "diagnose_corpus.yaml"


def boto(code, op, msg):
    return f"An error occurred ({code}) when calling the {op} operation: {msg}"


def go(code, msg, status=400):
    return f"WebIdentityErr: failed to retrieve credentials\ncaused by: {code}: {msg}\n\tstatus code: {status}, request id: 8b0f2c1e"


def go_escaped(code, msg, status=400):
    return go(code, msg, status).replace("\n", "\\n").replace("\t", "\\t")


def java2(cls, msg, status=400):
    return f"software.amazon.awssdk.services.sts.model.{cls}: {msg} (Service: Sts, Status Code: {status}, {REQ})"


def java1(cls, code, msg, status=400):
    return (
        f"com.amazonaws.services.securitytoken.model.{cls}: {msg} (Service: AWSSecurityTokenService; "
        f"Status Code: {status}; Error Code: {code}; {REQ}; Proxy: null)"
    )


def js(cls, msg):
    return f"{cls}: {msg}\n    at de_{cls}Res (/app/node_modules/@aws-sdk/client-sts/dist-cjs/index.js:1130:21)"


# (id, STS code, Java/JS exception class, message, status)
STS_ERRORS = [
    (
        "E1",
        "InvalidIdentityToken",
        "InvalidIdentityTokenException",
        f"No OpenIDConnect provider found in your account for {ISSUER}",
        400,
    ),
    ("E2", "ValidationError", "StsException", "Request ARN is invalid", 400),
    (
        "E3",
        "AccessDenied",
        "StsException",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        403,
    ),
    (
        "E4",
        "InvalidIdentityToken",
        "InvalidIdentityTokenException",
        "Incorrect token audience",
        400,
    ),
    (
        "E5",
        "InvalidIdentityToken",
        "InvalidIdentityTokenException",
        "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint",
        400,
    ),
    (
        "E6",
        "InvalidIdentityToken",
        "InvalidIdentityTokenException",
        "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        400,
    ),
    (
        "E6",
        "IDPCommunicationError",
        "IdpCommunicationErrorException",
        "Couldn't connect to the identity provider",
        400,
    ),
    (
        "E7",
        "ExpiredTokenException",
        "ExpiredTokenException",
        "Token expired: current date/time 1700000900 must be before the expiration date/time 1700000000",
        400,
    ),
    (
        "E7B",
        "ExpiredToken",
        "ExpiredTokenException",
        "The security token included in the request is expired",
        403,
    ),
    (
        "E11",
        "SignatureDoesNotMatch",
        "StsException",
        "Credential should be scoped to a valid region.",
        403,
    ),
    (
        "E12",
        "RegionDisabledException",
        "RegionDisabledException",
        "STS is not activated in this region for account:111122223333. Your account administrator can activate STS in this region using the IAM Console.",
        403,
    ),
    (
        "E13",
        "InvalidClientTokenId",
        "StsException",
        "The security token included in the request is invalid",
        403,
    ),
    (
        "E18",
        "InvalidIdentityToken",
        "InvalidIdentityTokenException",
        "Missing a required claim: aud",
        400,
    ),
    (
        "E19",
        "InvalidToken",
        "S3Exception",
        "The provided token is malformed or otherwise invalid.",
        400,
    ),
    (
        "E20",
        "InvalidIdentityToken",
        "InvalidIdentityTokenException",
        "Token contains malformed data",
        400,
    ),
]


def _forms(code, cls, msg, status):
    return {
        "botocore": boto(code, "AssumeRoleWithWebIdentity", msg),
        "go": go(code, msg, status),
        "go-escaped": go_escaped(code, msg, status),
        "java2": java2(cls, msg, status),
        "java1": java1(cls, code, msg, status),
        "js": js(cls, msg),
    }


CASES = [
    pytest.param(eid, text, id=f"{eid}-{form}")
    for eid, code, cls, msg, status in STS_ERRORS
    for form, text in _forms(code, cls, msg, status).items()
]

OTHER_ERRORS = [
    (
        "E8",
        "Error: PermissionError: [Errno 13] Permission denied: ‘/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
    ),
    (
        "E8",
        "WebIdentityErr: failed fetching WebIdentity token: \\ncaused by: WebIdentityErr: unable to read file at /var/run/secrets/eks.amazonaws.com/serviceaccount/token\\ncaused by: open /var/run/secrets/eks.amazonaws.com/serviceaccount/token: permission denied",
    ),
    (
        "E8",
        "java.nio.file.AccessDeniedException: /var/run/secrets/eks.amazonaws.com/serviceaccount/token",
    ),
    ("E9", "WebIdentityErr: role ARN is not set"),
    ("E9", "WebIdentityErr: token file path is not set"),
    (
        "E9",
        "botocore.exceptions.InvalidConfigError: The provided profile or the current environment is configured to assume role with web identity but has no role ARN configured. Ensure that the profile has the role_arnconfiguration set or the AWS_ROLE_ARN env var is set.",
    ),
    (
        "E10",
        'WebIdentityErr: failed to retrieve credentials\ncaused by: RequestError: send request failed\ncaused by: Post "https://sts.amazonaws.com/": dial tcp 52.94.241.129:443: i/o timeout',
    ),
    (
        "E10",
        'botocore.exceptions.ConnectTimeoutError: Connect timeout on endpoint URL: "https://sts.us-west-2.amazonaws.com/"',
    ),
    (
        "E10",
        "software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP request: Connect to sts.amazonaws.com:443 [sts.amazonaws.com/52.94.241.129] failed: connect timed out",
    ),
    (
        "E14",
        boto(
            "AccessDenied",
            "ListBuckets",
            "User: arn:aws:sts::111122223333:assumed-role/eksctl-shop-nodegroup-NodeInstanceRole-1ABC/i-0123456789abcdef0 is not authorized to perform: s3:ListAllMyBuckets because no identity-based policy allows the s3:ListAllMyBuckets action",
        ),
    ),
    (
        "E14",
        "AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/node-role/i-0abc12345def67890 is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-west-2:111122223333:table/orders",
    ),
    (
        "E14B",
        boto(
            "AccessDenied",
            "GetObject",
            'User: arn:aws:sts::111122223333:assumed-role/irsa-cart/botocore-session-1700000000 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::carts/k"',
        ),
    ),
    (
        "E14C",
        boto(
            "AccessDenied",
            "ListBuckets",
            "User: arn:aws:iam::111122223333:user/ci-deployer is not authorized to perform: s3:ListAllMyBuckets",
        ),
    ),
    ("E15", "CredentialsProviderError: Could not load credentials from any providers"),
    (
        "E15",
        "NoCredentialProviders: no valid providers in chain. Deprecated.\n\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors",
    ),
    ("E15", "botocore.exceptions.NoCredentialsError: Unable to locate credentials"),
    (
        "E15",
        "software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain(credentialsProviders=[...])",
    ),
    (
        "E15",
        "com.amazonaws.SdkClientException: Unable to load AWS credentials from any provider in the chain: [EnvironmentVariableCredentialsProvider: ...]",
    ),
    (
        "E15",
        "operation error S3: ListBuckets, failed to resolve service endpoint, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata",
    ),
    (
        "E15",
        "CredentialsError: Missing credentials in config, if using AWS_CONFIG_FILE, set AWS_SDK_LOAD_CONFIG=1",
    ),
    (
        "E16",
        'Pod "app-7d4b9c-x" is invalid: spec.containers[0].volumeMounts[2].mountPath: Invalid value: "/var/run/secrets/eks.amazonaws.com/serviceaccount": must be unique',
    ),
    (
        "E17",
        'Internal error occurred: failed calling webhook "iam-for-pods.amazonaws.com": failed to call webhook: Post "https://127.0.0.1:23443/mutate?timeout=10s": context deadline exceeded',
    ),
    (
        "E17",
        'W0301 12:00:00 dispatcher.go:180] Failed calling webhook, failing open pod-identity-webhook.amazonaws.com: failed calling webhook "pod-identity-webhook.amazonaws.com": context deadline exceeded',
    ),
    (
        "E21",
        "WARN software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider - To use web identity tokens, the 'sts' service module must be on the class path.",
    ),
    ("E21", "To use assume role profiles the aws-java-sdk-sts module must be on the class path."),
]

# The error strings of the AWS article (seed), verbatim.
SEED = [
    (
        "E1",
        "WebIdentityErr: failed to retrieve credentials\\ncaused by: InvalidIdentityToken: No OpenIDConnect provider found in your account \nfor https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E\\n\\tstatus code: 400",
    ),
    (
        "E8",
        "Error: PermissionError: [Errno 13] Permission denied: ‘/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
    ),
    (
        "E8",
        "WebIdentityErr: failed fetching WebIdentity token: \\ncaused by: WebIdentityErr: unable to read file at /var/run/secrets/eks.amazonaws.com/serviceaccount/token\\ncaused by: open /var/run/secrets/eks.amazonaws.com/serviceaccount/token: permission denied",
    ),
    (
        "E4",
        "Error - An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: Incorrect token audience",
    ),
    (
        "E5",
        "failed to retrieve credentials caused by: InvalidIdentityToken: OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint",
    ),
    (
        "E13",
        "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid",
    ),
]


def _first_id(df):
    return df.loc[0, "error"].split(" ", 1)[0]


@pytest.mark.parametrize(("eid", "text"), CASES)
def test_sts_errors_are_recognised_in_every_sdk_wording(eid, text):
    df = irsa_nb.diagnose(text)
    assert df.attrs["recognised"]
    assert _first_id(df) == eid
    assert set(df.error.str.split(" ").str[0]) == {eid}


@pytest.mark.parametrize(("eid", "text"), OTHER_ERRORS + SEED)
def test_other_and_seed_errors_are_recognised(eid, text):
    df = irsa_nb.diagnose(text)
    assert _first_id(df) == eid, df.error.tolist()


def test_every_catalogue_entry_is_exercised():
    seen = {eid for eid, *_ in STS_ERRORS} | {eid for eid, _ in OTHER_ERRORS + SEED}
    assert {f"E{i}" for i in range(1, 22)} <= seen
    # E22 on: the SDK-string corpus (tests/model/diagnose_corpus.yaml) exercises them.
    corpus = yaml.safe_load(CORPUS.read_text("utf-8"))["cases"]
    seen |= {c["top"].split("/")[0] for c in corpus}
    assert {e.id for e in catalogue().entries if not e.fallback} <= seen


def test_catalogue_names_only_registered_checks_and_every_cause_has_a_fix():
    for entry in catalogue().entries:
        assert entry.causes, entry.id
        for cause in entry.causes:
            assert set(cause.checks) <= set(REGISTRY), (entry.id, cause.checks)
            assert cause.fix.strip() and cause.text.strip()


def test_result_columns_and_types():
    df = irsa_nb.diagnose(SEED[0][1])
    assert list(df.columns) == DIAGNOSIS_COLUMNS
    assert df["rank"].tolist() == list(range(1, len(df) + 1))
    assert all(isinstance(ids, list) for ids in df.check_ids)
    assert df.loc[0, "check_ids"][0] == "oidc_provider_exists"
    assert all(c is None for c in df.confirmed)


def test_go_message_fields_are_extracted():
    fields = irsa_nb.diagnose(SEED[0][1]).attrs["fields"]
    assert fields["issuer"] == ISSUER
    assert fields["region"] == "eu-west-1"
    assert fields["code"] == "InvalidIdentityToken" and fields["status"] == "400"
    assert fields["printed_by"] == "Go SDK"


def test_assumed_role_and_subject_fields_are_extracted():
    text = "assume role for system:serviceaccount:payments:api failed: " + boto(
        "AccessDenied",
        "GetObject",
        "User: arn:aws-cn:sts::222233334444:assumed-role/app/s-1 is not authorized to perform: s3:GetObject",
    )
    f = extract_fields(normalise(text))
    assert (f["namespace"], f["service_account"]) == ("payments", "api")
    assert f["role_arn"] == "arn:aws-cn:iam::222233334444:role/app"
    assert (f["account"], f["partition"], f["role"], f["action"]) == (
        "222233334444",
        "aws-cn",
        "app",
        "s3:GetObject",
    )
    assert f["operation"] == "GetObject"


def test_role_arn_fields_and_fix_text_use_them():
    df = irsa_nb.diagnose(
        boto("ValidationError", "AssumeRoleWithWebIdentity", "Request ARN is invalid")
        + " role arn:aws:iam::111122223333:role/team/app."
    )
    assert df.attrs["fields"]["role_arn"] == "arn:aws:iam::111122223333:role/team/app"
    assert "eks.amazonaws.com/role-arn=arn:aws:iam::111122223333:role/app" in df.loc[0, "fix"]


def test_fallback_only_when_nothing_specific_matches():
    df = irsa_nb.diagnose(
        boto("InvalidIdentityToken", "AssumeRoleWithWebIdentity", "Something new")
    )
    assert _first_id(df) == "F1"
    df = irsa_nb.diagnose(SEED[3][1] + "\n" + boto("AccessDenied", "GetObject", "nope"))
    assert set(df.error.str.split(" ").str[0]) == {"E4"}


def test_two_errors_in_one_log_are_both_reported_in_order():
    text = OTHER_ERRORS[0][1] + "\nlater:\n" + SEED[3][1]
    ids = list(dict.fromkeys(irsa_nb.diagnose(text).error.str.split(" ").str[0]))
    assert ids == ["E8", "E4"]


def test_unknown_text_gives_one_not_recognised_row():
    df = irsa_nb.diagnose("segmentation fault (core dumped)")
    assert len(df) == 1 and not df.attrs["recognised"]
    row = df.iloc[0]
    assert row["rank"] == 1 and row["error"] == "not recognised"
    assert "Paste the complete message" in row["cause"] and row["check_ids"] == []


@pytest.mark.parametrize("text", ["", "   \n\t", None])
def test_empty_input_raises_value_error(text):
    with pytest.raises(ValueError, match="paste the error text"):
        irsa_nb.diagnose(text)


def test_secrets_in_the_message_are_masked():
    text = (
        SEED[5][1]
        + " using AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    df = irsa_nb.diagnose(text)
    dumped = (
        df.to_json()
        + json.dumps(df.attrs["fields"])
        + df.attrs["text"]
        + format_table(df)
        + render_html(df)
    )
    assert "AKIAIOSFODNN7EXAMPLE" not in dumped and "wJalrXUtnFEMI" not in dumped


# --- with an inventory --------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    return irsa_nb.load_bundle("demo")


def test_audience_error_is_confirmed_for_the_service_account_with_the_typo(demo):
    df = irsa_nb.diagnose(SEED[3][1], demo, namespace="shop", service_account="analytics")
    assert df.loc[0, "confirmed"] is True
    assert df.attrs["targets"] == ["shop/analytics"]
    results = df.attrs["results"]
    assert set(results.check_id) <= {
        "provider_audience_matches",
        "trust_policy_allows_service_account",
    }


def test_audience_error_is_ruled_out_for_a_healthy_service_account(demo):
    df = irsa_nb.diagnose(SEED[3][1], demo, namespace="shop", service_account="checkout")
    assert df.loc[0, "confirmed"] is False


def test_subject_in_the_message_selects_the_target_and_ranks_the_confirmed_cause_first(demo):
    text = "system:serviceaccount:shop:cart " + boto(
        "AccessDenied",
        "AssumeRoleWithWebIdentity",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
    df = irsa_nb.diagnose(text, demo)
    assert df.attrs["targets"] == ["shop/cart"]
    assert df.loc[0, "confirmed"] is True
    assert df.loc[0, "check_ids"][0] == "trust_policy_allows_service_account"
    assert "system:serviceaccount:shop:cart" in df.loc[0, "cause"]
    org = df[df.check_ids.map(len) == 0]
    assert org.confirmed.tolist() == [None]


def test_role_in_an_assumed_role_arn_selects_the_annotated_service_account(demo):
    text = boto(
        "AccessDenied",
        "SendMessage",
        "User: arn:aws:sts::111122223333:assumed-role/irsa-search/botocore-session-1 is not authorized to perform: sqs:SendMessage",
    )
    df = irsa_nb.diagnose(text, demo)
    assert df.attrs["targets"] == ["shop/search"]
    top = df.iloc[0]
    assert top.confirmed is True and top.check_ids == ["role_has_policies"]
    assert "simulate-principal-policy" in df[df.check_ids.map(len) == 0].iloc[0].fix


def test_missing_provider_is_confirmed_in_the_no_oidc_cluster_and_ruled_out_in_demo(demo):
    df = irsa_nb.diagnose(SEED[0][1], irsa_nb.load_bundle("demo:no-oidc"))
    assert (
        df.loc[0, "confirmed"] is True
        and "eksctl utils associate-iam-oidc-provider --cluster billing-staging" in df.loc[0, "fix"]
    )
    df = irsa_nb.diagnose(SEED[0][1], demo, namespace="shop", service_account="checkout")
    first = df[df.cause.str.startswith("No IAM OIDC provider")].iloc[0]
    assert first.confirmed is False and first["rank"] > 1
    assert any("cluster was recreated" in n for n in df.attrs["notes"])  # eu-west-1 vs us-west-2


def test_without_a_target_only_cluster_checks_confirm(demo):
    text = (
        "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity "
        "operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"
    )
    df = irsa_nb.diagnose(text, demo)  # shop/mirror's missing role must not confirm anything
    assert df.confirmed.tolist() == [None] * len(df)
    assert df.attrs["targets"] == ["the cluster only (name -n/-s or -p to check a service account)"]
    named = irsa_nb.diagnose(text, demo, namespace="shop", service_account="mirror")
    assert named[named.confirmed.eq(True)].cause.str.contains("does not exist").any()


def test_checks_that_cannot_run_leave_causes_undecided(demo):
    df = irsa_nb.diagnose(SEED[5][1], irsa_nb.load_bundle("demo:k8s-118"))
    assert df.confirmed.isin([True, False, None]).all()
    only_sdk = irsa_nb.diagnose(OTHER_ERRORS[-2][1], demo)  # Java sts module: SDK not given
    assert only_sdk.loc[0, "confirmed"] is None


def test_render_html_escapes_hostile_text(demo):
    df = irsa_nb.diagnose(SEED[3][1], demo, namespace="shop", service_account="analytics")
    page = render_html(df)
    assert page.count("<tr") == len(df) + 1 and "CONFIRMED" in page
    df.loc[0, "cause"] = "<script>alert(1)</script>"
    df.attrs["fields"] = {"role": '"><img src=x onerror=alert(1)>'}
    df.attrs["notes"] = ["<b>bold</b>"]
    page = render_html(df)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<img" not in page and "<b>bold" not in page


def test_table_rendering_lists_causes_checks_and_fixes(demo):
    df = irsa_nb.diagnose(SEED[3][1], demo, namespace="shop", service_account="analytics")
    out = format_table(df, width=100)
    assert "E4 InvalidIdentityToken: Incorrect token audience" in out
    assert "1. [CONFIRMED]" in out and "checks: provider_audience_matches" in out
    assert all(len(line) <= 100 for line in out.splitlines() if not line.startswith("       "))


# --- CLI ----------------------------------------------------------------------------------


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_recognised_without_bundle_exits_0_and_prints_the_causes(capsys):
    code, out, err = run(capsys, "diagnose", SEED[3][1])
    assert code == 0 and err == ""
    assert "provider_audience_matches" in out


def test_cli_confirmed_cause_exits_1_and_json_is_an_array_best_first(capsys):
    code, out, _ = run(
        capsys,
        "diagnose",
        "--bundle",
        "demo",
        "-n",
        "shop",
        "-s",
        "analytics",
        "--format",
        "json",
        SEED[3][1],
    )
    rows = json.loads(out)
    assert code == 1
    assert [list(r) for r in rows] == [DIAGNOSIS_COLUMNS] * len(rows)
    assert rows[0]["rank"] == 1 and rows[0]["confirmed"] is True
    assert isinstance(rows[0]["check_ids"], list)


def test_cli_reads_stdin_with_dash(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(SEED[0][1]))
    code, out, _ = run(capsys, "diagnose", "-", "--format", "json")
    assert code == 0 and json.loads(out)[0]["error"].startswith("E1 ")


def test_cli_unrecognised_exits_3_with_the_row(capsys):
    code, out, _ = run(capsys, "diagnose", "it", "broke")
    assert code == 3 and "not recognised" in out


def test_cli_empty_input_exits_2_with_one_line(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("  \n"))
    code, out, err = run(capsys, "diagnose", "-")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "diagnose", "--bundle", "/nonexistent/bundle", SEED[3][1])
    assert code == 2 and "bundle not found" in err


# --- new classes, with an inventory -------------------------------------------------------

ADMISSION = 'Error creating: pods "app-7d4b9c-" is forbidden: error looking up service account shop/{sa}: serviceaccount "{sa}" not found'


def test_admission_refusal_names_the_target_and_service_account_exists_decides(demo):
    # ServiceAccount admission plugin wording:
    # https://github.com/kubernetes/kubernetes/blob/master/plugin/pkg/admission/serviceaccount/admission.go
    df = irsa_nb.diagnose(ADMISSION.format(sa="ghost"), demo)
    assert df.attrs["targets"] == ["shop/ghost"]
    assert df.attrs["cause_ids"][0] == "E28/no-service-account"
    assert df.loc[0, "confirmed"] is True
    assert "kubectl create serviceaccount ghost -n shop" in df.loc[0, "fix"]
    existing = irsa_nb.diagnose(ADMISSION.format(sa="cart"), demo)
    assert existing.loc[0, "confirmed"] is False  # created since: the cause is ruled out


def test_assume_role_denied_to_a_ci_user_is_not_irsa_and_confirms_nothing(demo):
    text = boto(
        "AccessDenied",
        "AssumeRole",
        "User: arn:aws:iam::111122223333:user/ci-deployer is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/deploy",
    )
    df = irsa_nb.diagnose(text, demo)
    assert df.attrs["cause_ids"][0] == "E30/not-irsa"
    assert df.attrs["confidence"][0] == "low" and "not an IRSA problem" in df.loc[0, "cause"]
    assert df.confirmed.tolist() == [None] * len(df)


def test_redacted_node_role_does_not_select_a_service_account_by_role(demo):
    text = "User: arn:aws:sts::123:assumed-role/irsa-search/i-xxxx is not authorized to perform: sqs:SendMessage"
    df = irsa_nb.diagnose(text, demo)
    assert df.attrs["fields"]["principal_kind"] == "node"
    assert df.attrs["cause_ids"][0].startswith("E14/")
    assert df.attrs["targets"] == ["the cluster only (name -n/-s or -p to check a service account)"]


def test_chinese_causes_in_the_table_and_html():
    df = irsa_nb.diagnose("Error: getaddrinfo ENOTFOUND sts.amazonaws.com.cn", lang="zh")
    assert df.attrs["evidence"] == ["china", "partition"]
    out = format_table(df, width=100) + render_html(df)
    assert "无法解析 STS 端点主机名" in out and "中国区域" in out


def test_cloudtrail_showing_the_error_code_confirms_a_cause():
    """An AccessDenied whose checks cannot decide (no trust problem in the bundle) is
    confirmed when CloudTrail shows STS returning AccessDenied to the service account's role
    (shop/orders: its checks leave the causes undecided)."""
    from irsa_nb import build_inventory, diagnose
    from tests.checks.helpers import demo_docs
    from tests.checks.trail_docs import TRAIL, event, role, trail

    text = (
        "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: "
        "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    )
    docs = demo_docs()
    before = diagnose(text, build_inventory(docs), namespace="shop", service_account="orders")
    assert not any(c is True for c in before["confirmed"])
    docs[TRAIL] = trail(event(role("irsa-orders"), "2026-11-02T10:05:00Z", code="AccessDenied"))
    after = diagnose(text, build_inventory(docs), namespace="shop", service_account="orders")
    assert after.loc[0, "confirmed"] is True
    assert any(
        "CloudTrail shows STS returning AccessDenied to shop/orders" in n
        for n in after.attrs["notes"]
    )
    # another code in CloudTrail confirms nothing
    docs[TRAIL] = trail(
        event(role("irsa-orders"), "2026-11-02T10:05:00Z", code="ExpiredTokenException")
    )
    other = diagnose(text, build_inventory(docs), namespace="shop", service_account="orders")
    assert list(other["confirmed"]) == list(before["confirmed"])
