from irsa_nb.bundle import CallFailed
from tests.checks.helpers import demo_docs, only, outcome, results, zh_outcome
from tests.checks.trail_docs import TRAIL, event, role, trail

CART = role("irsa-cart")
ANALYTICS = role("irsa-analytics")


def test_without_cloudtrail_evidence_each_annotated_service_account_skips_saying_how():
    df = results(demo_docs(), "sts_recent_calls", namespace="shop")
    row = outcome(
        only(df, "sts_recent_calls", service_account="analytics"),
        "SKIP",
        "not_read",
        f"CloudTrail was not read for role {ANALYTICS}, so the calls STS really received are "
        "not known.",
        {"role_arn": ANALYTICS},
    )
    assert "--cloudtrail [HOURS]" in row.remediation and "-n shop -s analytics" in row.remediation
    assert set(df.status) == {"SKIP"}
    zh_outcome(demo_docs(), "sts_recent_calls", "not_read", service_account="analytics")


def test_failed_calls_name_the_code_count_time_subject_and_confirmed_cause():
    docs = demo_docs()
    sub = "system:serviceaccount:shop:analytics"
    docs[TRAIL] = trail(
        event(
            ANALYTICS,
            "2026-11-02T10:05:00Z",
            code="InvalidIdentityToken",
            message="Incorrect token audience",
            sub=sub,
            aud="sts.amazon.com",
        ),
        event(
            ANALYTICS,
            "2026-11-02T10:04:00Z",
            code="InvalidIdentityToken",
            message="Incorrect token audience",
            sub=sub,
            aud="sts.amazon.com",
        ),
        event(CART, "2026-11-02T10:03:00Z"),
    )
    df = results(docs, namespace="shop")
    row = only(df, "sts_recent_calls", service_account="analytics")
    assert row.status == "FAIL"
    for part in ("InvalidIdentityToken", "2 ", "2026-11-02 10:05:00", sub, "sts.amazon.com"):
        assert part in row.detail, part
    assert "provider_audience_matches" in row.detail  # the catalogue's cause, by its checks
    assert only(df, "sts_recent_calls", service_account="cart").status == "PASS"
    assert only(df, "sts_recent_calls", service_account="orders").status == "INFO"


def test_a_success_after_failures_passes_and_says_so():
    docs = demo_docs()
    docs[TRAIL] = trail(
        event(CART, "2026-11-02T10:05:00Z"),
        event(CART, "2026-11-02T10:04:00Z", code="AccessDenied", message="Not authorized"),
    )
    row = only(
        results(docs, "sts_recent_calls", namespace="shop", service_account="cart"),
        "sts_recent_calls",
    )
    assert row.status == "PASS" and "1 earlier calls failed" in row.detail


def test_an_interrupted_lookup_says_so_and_a_failed_one_is_an_error():
    docs = demo_docs()
    docs[TRAIL] = trail(next_token="abc")
    row = only(
        results(docs, "sts_recent_calls", namespace="shop", service_account="cart"),
        "sts_recent_calls",
    )
    assert row.status == "INFO" and "interrupted" in row.detail
    docs[TRAIL] = CallFailed(
        "An error occurred (AccessDeniedException) when calling the LookupEvents operation: "
        "User is not authorized to perform: cloudtrail:LookupEvents"
    )
    row = only(
        results(docs, "sts_recent_calls", namespace="shop", service_account="cart"),
        "sts_recent_calls",
    )
    assert row.status == "ERROR" and "cloudtrail:LookupEvents" in row.detail


def test_the_user_agent_settles_the_sdk_version_when_nothing_else_can():
    docs = demo_docs()
    docs[TRAIL] = trail(
        event(CART, "2026-11-02T10:05:00Z", code="AccessDenied", agent="aws-sdk-go/1.15.0 (go1.20)")
    )
    row = only(
        results(docs, "sdk_version_supported", namespace="shop", service_account="cart"),
        "sdk_version_supported",
    )
    assert row.status == "FAIL" and "user agent" in row.detail and "aws-sdk-go/1.15.0" in row.detail
    # --sdk still wins over the user agent
    row = only(
        results(
            docs,
            "sdk_version_supported",
            namespace="shop",
            service_account="cart",
            sdk={"go": "1.44.0"},
        ),
        "sdk_version_supported",
    )
    assert row.status == "PASS" and "user agent" not in row.detail


def test_a_document_of_the_wrong_shape_is_an_error_row_not_a_crash():
    docs = demo_docs()
    docs[TRAIL] = ["not", "an", "object"]
    docs["aws/iam/simulate-principal-policy/irsa-cart.json"] = "garbage"
    df = results(docs, namespace="shop", service_account="cart")
    assert only(df, "sts_recent_calls").status == "ERROR"
    assert only(df, "role_allows_actions").status == "ERROR"
