"""The faces of --cloudtrail / --action without a kernel: the runbook's "What really
happened" section, the Explorer's view of the picked service account, the fleet's count of
failing roles by error code, the runbook parameters and the batch columns."""

from __future__ import annotations

import pandas as pd
import pytest

from irsa_nb import Options, Source, Target, run
from irsa_nb.batch import normalize_targets, target_name
from irsa_nb.bundle import write_documents
from irsa_nb.fleet import FleetScan, failing_roles_by_error_code
from irsa_nb.report import Report, recent_calls, simulations
from irsa_nb.runbook import runbook_parameters
from irsa_nb.widgets.state import ExplorerState
from tests.checks.helpers import demo_docs
from tests.checks.trail_docs import TRAIL, event, result, role, trail

SUB = "system:serviceaccount:shop:analytics"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> str:
    docs = demo_docs()
    docs[TRAIL] = trail(
        event(
            role("irsa-analytics"),
            "2026-11-02T10:05:00Z",
            code="InvalidIdentityToken",
            message="Incorrect token audience",
            sub=SUB,
            aud="sts.amazon.com",
        ),
        event(
            role("irsa-orders"),
            "2026-11-02T10:04:00Z",
            code="AccessDenied",
            message="Not authorized to perform sts:AssumeRoleWithWebIdentity",
            sub="system:serviceaccount:shop:orders",
        ),
        event(
            role("irsa-search"),
            "2026-11-02T10:03:00Z",
            code="AccessDenied",
            message="Not authorized to perform sts:AssumeRoleWithWebIdentity",
            sub="system:serviceaccount:shop:search",
        ),
        event(role("irsa-cart"), "2026-11-02T10:02:00Z"),
    )
    docs["aws/iam/simulate-principal-policy/irsa-cart.json"] = {
        "EvaluationResults": [result("s3:GetObject", "arn:aws:s3:::carts/*", "implicitDeny")]
    }
    return str(write_documents(docs, tmp_path_factory.mktemp("b") / "bundle"))


def test_the_runbook_section_shows_the_calls_and_the_simulation(bundle):
    rb = Report(run(Source(bundle=bundle), Target("shop", "cart")))
    html = rb.what_happened()._repr_mimebundle_()["text/html"]
    assert "What really happened" in html and "s3:GetObject" in html
    assert "Recent web-identity calls" in html
    calls = recent_calls(rb.results)
    assert list(calls.status) == ["PASS"] and calls.iloc[0].user_agent.startswith("Boto3/")
    assert list(simulations(rb.results).decision) == ["implicitDeny"]
    # nothing collected, nothing shown
    assert Report(run(Source(bundle="demo"), Target("shop", "cart"))).what_happened().plain == ""


def test_the_explorer_shows_them_for_the_picked_service_account(bundle):
    st = ExplorerState()
    assert st.load(Source(bundle=bundle))
    st.select_namespace("shop")
    st.select_service_account("analytics")
    st.run()
    html = st.what_happened()
    assert "InvalidIdentityToken" in html and SUB in html
    assert "s3:GetObject" not in html  # the cart's simulation is not the analytics' one


def test_the_fleet_counts_failing_roles_by_error_code(bundle):
    scan = FleetScan(run(Source(bundle=bundle), Target()))
    table = failing_roles_by_error_code(scan.results)
    assert list(table.error_code) == ["AccessDenied", "InvalidIdentityToken"]
    assert list(table.roles) == [2, 1]
    assert (
        "irsa-orders" in table.iloc[0].role_arns and "shop/search" in table.iloc[0].service_accounts
    )
    assert "AccessDenied" in scan.error_codes().plain
    empty = FleetScan(run(Source(bundle="demo"), Target()))
    assert failing_roles_by_error_code(empty.results).empty
    assert "not read" in empty.error_codes().plain


def test_runbook_parameters_and_batch_columns():
    opts = Options(actions=("s3:GetObject=arn:aws:s3:::b/*",), cloudtrail_hours=24)
    params = runbook_parameters(Source.live("prod"), Target("shop", "cart"), opts)
    assert params["actions"] == "s3:GetObject=arn:aws:s3:::b/*"  # papermill reads no list
    assert params["cloudtrail_hours"] == 24
    rows = normalize_targets(
        pd.DataFrame(
            [
                {
                    "cluster": "prod",
                    "namespace": "shop",
                    "service_account": "cart",
                    "actions": "s3:GetObject=arn:aws:s3:::b/* sqs:SendMessage",
                    "cloudtrail_hours": "48",
                },
                {
                    "cluster": "prod",
                    "namespace": "shop",
                    "service_account": "orders",
                    "actions": "",
                    "cloudtrail_hours": "",
                },
            ]
        )
    )
    assert rows[0].options.actions == ("s3:GetObject=arn:aws:s3:::b/*", "sqs:SendMessage")
    assert rows[0].options.cloudtrail_hours == 48
    assert rows[1].options.actions == () and rows[1].options.cloudtrail_hours is None
    # a target without the opt-ins keeps the folder name it had before they existed
    plain = target_name(rows[1].source, rows[1].target, Options())
    assert plain == rows[1].name
    with pytest.raises(ValueError, match="row 1: --cloudtrail needs a live cluster"):
        normalize_targets([{"bundle": "demo", "cloudtrail_hours": "24"}])
    with pytest.raises(ValueError, match="row 1: cloudtrail_hours"):
        normalize_targets([{"cluster": "prod", "cloudtrail_hours": "soon"}])
