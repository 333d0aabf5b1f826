"""Roles read in bulk: ``aws/iam/get-account-authorization-details.json`` (the AWS CLI's merged
output, a JSON array of its pages, or page files) checks exactly like per-role files.

RoleDetailList entry: https://docs.aws.amazon.com/IAM/latest/APIReference/API_RoleDetail.html
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

import irsa_nb
from irsa_nb import bundle
from irsa_nb.bundle import CallFailed, read_documents, write_documents
from irsa_nb.demo import demo_bundle, demo_names
from irsa_nb.inventory import build_inventory
from irsa_nb.pipeline import inventory_facts

PER_ROLE = ("get-role", "list-attached-role-policies", "list-role-policies")


def to_bulk(docs: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The same evidence as get-account-authorization-details would give it: every role whose
    three per-role documents were read becomes a RoleDetailList entry; a failed get-role (a
    missing role) stays per role, as the collectors leave it."""
    out = dict(docs)
    details = []
    names = sorted(p.split("/")[-1][: -len(".json")] for p in docs if "/get-role/" in p)
    for name in names:
        got = [docs.get(bundle.role_path(cmd, name)) for cmd in PER_ROLE]
        if not all(isinstance(d, dict) for d in got):
            continue
        role, attached, inline = got
        for cmd in PER_ROLE:
            del out[bundle.role_path(cmd, name)]
        r = role["Role"]
        details.append(
            {
                "Path": r.get("Path", "/"),
                "RoleName": name,
                "RoleId": r.get("RoleId", "AROAEXAMPLE"),
                "Arn": r["Arn"],
                "CreateDate": r.get("CreateDate", "2024-01-15T10:20:30+00:00"),
                "AssumeRolePolicyDocument": r.get("AssumeRolePolicyDocument"),
                "InstanceProfileList": [],
                "RolePolicyList": [
                    {"PolicyName": n, "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}
                    for n in inline["PolicyNames"]
                ],
                "AttachedManagedPolicies": attached["AttachedPolicies"],
                "Tags": r.get("Tags", []),
                "RoleLastUsed": r.get("RoleLastUsed", {}),
            }
        )
    assert details, "the bundle has roles to read in bulk"
    return out, details


def _merged(details: list[dict[str, Any]]) -> dict[str, Any]:
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": details, "Policies": []}


def _page(details: list[dict[str, Any]], marker: str | None) -> dict[str, Any]:
    page = _merged(details)
    page["IsTruncated"] = marker is not None
    if marker:
        page["Marker"] = marker
    return page


def layouts(docs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rest, details = to_bulk(docs)
    half = len(details) // 2
    pages = [_page(details[:half], "m1"), _page(details[half:], None)]
    paged_dir = dict(rest)
    for i, page in enumerate(pages, 1):
        paged_dir[f"{bundle.AUTHORIZATION_DETAILS_PAGES}page-{i}.json"] = page
    return {
        "merged": {**rest, bundle.AUTHORIZATION_DETAILS: _merged(details)},
        "pages in one file": {**rest, bundle.AUTHORIZATION_DETAILS: pages},
        "page files": paged_dir,
    }


@pytest.mark.parametrize("name", demo_names())
def test_every_layout_checks_like_per_role_files(name, tmp_path):
    docs = read_documents(demo_bundle(name))
    want = irsa_nb.run_checks(build_inventory(docs), checks=None)
    want_roles = build_inventory(docs).frames()["roles"]
    for layout, bulk in layouts(docs).items():
        out = write_documents(bulk, tmp_path / layout.replace(" ", "-"))
        inv = irsa_nb.load_bundle(out)
        assert not [p for p in inv.documents if "/get-role/" in p and p in docs and
                    isinstance(docs[p], dict)], layout  # fmt: skip
        pd.testing.assert_frame_equal(irsa_nb.run_checks(inv), want, obj=layout)
        pd.testing.assert_frame_equal(inv.frames()["roles"], want_roles, obj=layout)
        assert inv.iam_roles_read() == "bulk"
    assert build_inventory(docs).iam_roles_read() == "per role"


def test_the_cli_reads_the_merged_file_written_as_the_aws_cli_prints_it(tmp_path, capsys):
    from irsa_nb.cli import main

    docs = read_documents(demo_bundle("demo"))
    bulk = layouts(docs)["merged"]
    out = write_documents(bulk, tmp_path / "b")
    text = (out / bundle.AUTHORIZATION_DETAILS).read_text()
    assert json.loads(text)["RoleDetailList"]
    results = {}
    for path in (demo_bundle("demo"), out):
        capsys.readouterr()
        code = main(["check", "--bundle", str(path), "--format", "json", "--all"])
        results[path] = (code, capsys.readouterr().out)
    assert results[out] == results[demo_bundle("demo")]


def test_a_failed_bulk_call_is_an_informational_fact_and_roles_come_from_get_role():
    docs = read_documents(demo_bundle("demo"))
    denied = "An error occurred (AccessDenied) when calling the GetAccountAuthorizationDetails"
    docs[bundle.AUTHORIZATION_DETAILS] = CallFailed(denied + " operation: not authorized")
    inv = build_inventory(docs)
    want = irsa_nb.run_checks(build_inventory(read_documents(demo_bundle("demo"))))
    pd.testing.assert_frame_equal(irsa_nb.run_checks(inv), want)
    fact = inventory_facts(inv)["iam_roles_read"]
    assert fact.startswith("per role (") and "AccessDenied" in fact


def test_a_role_missing_from_both_is_a_gap_naming_get_role(tmp_path):
    docs = read_documents(demo_bundle("demo"))
    bulk = layouts(docs)["merged"]
    bulk[bundle.AUTHORIZATION_DETAILS]["RoleDetailList"] = [
        r for r in bulk[bundle.AUTHORIZATION_DETAILS]["RoleDetailList"]
        if r["RoleName"] != "irsa-cart"
    ]  # fmt: skip
    gap = build_inventory(bulk).role("irsa-cart")
    assert gap.kind == "absent" and gap.path == bundle.role_path("get-role", "irsa-cart")


@pytest.mark.parametrize(
    "doc",
    [{"RoleDetailList": "x"}, ["not a page"], {"RoleDetailList": [{"RoleName": "irsa-cart"}]}],
)
def test_an_unreadable_bulk_file_is_an_invalid_gap_not_a_traceback(doc):
    docs = read_documents(demo_bundle("demo"))
    bulk = layouts(docs)["merged"]
    bulk[bundle.AUTHORIZATION_DETAILS] = doc
    inv = build_inventory(bulk)
    role = inv.role("irsa-cart")
    assert role.kind == "invalid" and role.path == bundle.AUTHORIZATION_DETAILS
    df = irsa_nb.run_checks(inv)
    assert "ERROR" in set(df["status"]) or "SKIP" in set(df["status"])


def test_command_for_the_bulk_file():
    cmd = bundle.command_for(bundle.AUTHORIZATION_DETAILS)
    assert cmd == "aws iam get-account-authorization-details --filter Role --output json"
    assert bundle.command_for(bundle.AUTHORIZATION_DETAILS_PAGES + "page-2.json") == cmd
