from irsa_nb.bundle import CallFailed
from tests.checks.helpers import demo_docs, results
from tests.checks.trail_docs import result

PATH = "aws/iam/simulate-principal-policy/irsa-cart.json"
BUCKET = "arn:aws:s3:::shop-carts/*"


def _rows(docs):
    df = results(docs, "role_allows_actions", namespace="shop", service_account="cart")
    return {
        r.evidence and __import__("json").loads(r.evidence)["action"]: r for r in df.itertuples()
    }


def test_no_rows_without_a_simulation():
    assert results(demo_docs(), "role_allows_actions").empty


def test_each_decision_as_iam_returns_it():
    docs = demo_docs()
    docs[PATH] = {
        "EvaluationResults": [
            result("s3:GetObject", BUCKET, "allowed", "cart-s3"),
            result(
                "s3:DeleteObject",
                BUCKET,
                "explicitDeny",
                "deny-deletes",
                PermissionsBoundaryDecisionDetail={"AllowedByPermissionsBoundary": False},
            ),
            result(
                "sqs:SendMessage",
                "*",
                "implicitDeny",
                OrganizationsDecisionDetail={"AllowedByOrganizations": False},
            ),
            result("kms:Decrypt", "*", "implicitDeny", missing=["aws:SourceVpc"]),
        ]
    }
    rows = _rows(docs)
    assert rows["s3:GetObject"].status == "PASS" and "cart-s3" in rows["s3:GetObject"].detail
    deny = rows["s3:DeleteObject"]
    assert deny.status == "FAIL" and "deny-deletes" in deny.detail
    assert "permissions boundary allows: false" in deny.detail
    implicit = rows["sqs:SendMessage"]
    assert implicit.status == "FAIL" and "implicitDeny" in implicit.detail
    assert "SCPs allow: false" in implicit.detail
    assert rows["kms:Decrypt"].status == "WARN" and "aws:SourceVpc" in rows["kms:Decrypt"].detail


def test_a_refused_simulation_is_an_error_naming_the_permission():
    docs = demo_docs()
    docs[PATH] = CallFailed(
        "An error occurred (AccessDenied) when calling the SimulatePrincipalPolicy operation: "
        "User is not authorized to perform: iam:SimulatePrincipalPolicy"
    )
    df = results(docs, "role_allows_actions", namespace="shop", service_account="cart")
    (row,) = df.itertuples()
    assert row.status == "ERROR" and "iam:SimulatePrincipalPolicy" in row.remediation
