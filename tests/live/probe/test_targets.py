"""Pure parts of the probe: target choice, --action parsing, the STS endpoint, the checks' rows."""

from __future__ import annotations

import os

import boto3
import pytest

import irsa_nb
from irsa_nb import bundle
from irsa_nb.bundle import CallFailed
from irsa_nb.inventory import build_inventory
from irsa_nb.live.sts_probe import (
    ProbeOptions,
    _sts_client,
    cluster_region,
    parse_action,
    select_targets,
)
from tests.builders import k8s_objects as k8s

ROLE = "arn:aws:iam::111122223333:role/"


def _docs() -> dict:
    ann = k8s.ROLE_ARN_ANNOTATION
    sas = [
        k8s.service_account("a", "one", {ann: ROLE + "one"}),
        k8s.service_account("a", "two", {ann: ROLE + "two", "eks.amazonaws.com/audience": "x"}),
        k8s.service_account("a", "plain"),
        k8s.service_account("b", "one", {ann: ROLE + "b-one"}),
    ]
    pods = [k8s.pod("b", "web-1", service_account="one")]
    return {
        bundle.SERVICE_ACCOUNTS: k8s.kube_list("List", sas),
        bundle.PODS: k8s.kube_list("List", pods),
    }


def _keys(chosen):
    return [(t.namespace, t.name) for t in chosen]


def test_targets_follow_the_check_targets_and_the_cap():
    docs = _docs()
    chosen, left = select_targets(docs, ProbeOptions())
    assert _keys(chosen) == [("a", "one"), ("a", "two"), ("b", "one")] and not left
    assert chosen[1].audience == "x" and chosen[0].audience == "sts.amazonaws.com"
    assert _keys(select_targets(docs, ProbeOptions(namespace="a"))[0]) == [
        ("a", "one"),
        ("a", "two"),
    ]
    assert _keys(select_targets(docs, ProbeOptions(service_account="one"))[0]) == [
        ("a", "one"),
        ("b", "one"),
    ]
    assert _keys(select_targets(docs, ProbeOptions(pod="web-1"))[0]) == [("b", "one")]
    chosen, left = select_targets(docs, ProbeOptions(namespace="a", service_account="plain"))
    assert not chosen and left == [
        {"namespace": "a", "service_account": "plain", "reason": "no_role_annotation"}
    ]
    chosen, left = select_targets(docs, ProbeOptions(max_targets=1))
    assert _keys(chosen) == [("a", "one")]
    assert [x["reason"] for x in left] == ["limit", "limit"]
    assert select_targets({bundle.SERVICE_ACCOUNTS: CallFailed("403")}, ProbeOptions()) == ([], [])


def test_actions_and_options_are_validated():
    assert parse_action(" s3:GetObject = arn:aws:s3:::b/k ") == ("s3:GetObject", "arn:aws:s3:::b/k")
    assert parse_action("s3:List*") == ("s3:List*", "*")
    for bad in ("GetObject", "s3:", "s3 GetObject", "=arn:aws:s3:::b"):
        with pytest.raises(ValueError, match="SERVICE:ACTION"):
            parse_action(bad)
    with pytest.raises(ValueError, match="positive"):
        ProbeOptions(max_targets=0)


def test_cluster_region_comes_from_the_cluster_arn():
    doc = {"cluster": {"arn": "arn:aws-cn:eks:cn-north-1:111122223333:cluster/x"}}
    assert cluster_region(doc, "us-east-1") == "cn-north-1"
    assert cluster_region(CallFailed("AccessDenied"), "us-east-1") == "us-east-1"


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("us-east-1", "https://sts.us-east-1.amazonaws.com"),
        ("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"),
    ],
)
def test_sts_is_called_at_the_regional_endpoint_of_the_partition(
    monkeypatch, tmp_path, region, endpoint
):
    # nothing of this machine's AWS setup: no AWS_* variable, empty config and credentials
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        monkeypatch.delenv(var)
    for var, name in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "creds")):
        (tmp_path / name).write_text("")
        monkeypatch.setenv(var, str(tmp_path / name))
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")  # would mean sts.amazonaws.com
    session = boto3.Session(region_name="eu-west-1")
    assert _sts_client(session, region, signed=False).meta.endpoint_url == endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    assert _sts_client(boto3.Session(), region, signed=False).meta.endpoint_url == (
        "http://127.0.0.1:9"
    )


def _inventory(probe_docs: dict) -> irsa_nb.Inventory:
    return build_inventory({**_docs(), **probe_docs}, source="test")


def test_checks_read_an_unreadable_outcome_as_an_error_and_hostile_text_as_text():
    index = {"probed": [{"namespace": "a", "service_account": "one"}], "requested": {}}
    doc = {
        "role_arn": ROLE + "one",
        "token": {"minted": True},
        "assume": {
            "status": "rejected",
            "code": "AccessDenied",
            "message": "<script>alert(1)</script> Not authorized",
        },
    }
    inv = _inventory(
        {
            bundle.PROBE_INDEX: index,
            bundle.probe_path("a", "one"): doc,
            bundle.probe_path("a", "two"): CallFailed("unreadable"),
        }
    )
    df = irsa_nb.run_checks(inv, namespace="a", checks=["sts_probe_assume_role"]).set_index(
        "service_account"
    )
    assert df.loc["one", "status"] == "FAIL"
    assert "<script>alert(1)</script> Not authorized" in df.loc["one", "detail"]
    assert df.loc["two", "status"] == "ERROR" and "unreadable" in df.loc["two", "detail"]
