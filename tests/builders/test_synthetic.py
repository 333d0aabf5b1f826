"""The synthetic cluster is realistic, deterministic, fast, and written in the bundle layout."""

from __future__ import annotations

import json
import time

import pytest

from tests.builders import k8s_objects as k8s
from tests.builders.synthetic import (
    ROLE_DEFECTS,
    provider_file_name,
    synthetic_cluster,
    write_bundle_files,
)


def _is_irsa(pod):
    return any(v["name"] == "aws-iam-token" for v in pod["spec"]["volumes"])


@pytest.mark.slow
def test_full_size_generation_is_fast_and_realistic():
    t0 = time.perf_counter()
    d = synthetic_cluster()
    elapsed = time.perf_counter() - t0
    print(f"synthetic_cluster(20k pods): {elapsed:.2f}s")
    assert elapsed < 20  # ~1.2 s measured; generous for a loaded 2-core CI
    assert len(d["pods"]) == 20000
    assert len(d["service_accounts"]) == 5000
    assert len(d["roles"]) == 1000
    assert len(d["namespaces"]) == 50
    irsa = sum(_is_irsa(p) for p in d["pods"])
    assert 0.25 < irsa / 20000 < 0.40
    annotated = sum(
        k8s.ROLE_ARN_ANNOTATION in s["metadata"].get("annotations", {})
        for s in d["service_accounts"]
    )
    assert abs(annotated - 5000 / 3) < 2
    sample = d["pods"][::997]
    avg = sum(len(json.dumps(p)) for p in sample) / len(sample)
    assert 2500 < avg < 5000
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in d["pods"]]
    assert len(set(keys)) == len(keys)
    assert set(d["defects"]["roles"].values()) == set(ROLE_DEFECTS)


def test_same_seed_same_data_and_models_validate(small_cluster):
    again = synthetic_cluster(
        n_service_accounts=120, n_pods=400, n_roles=40, n_namespaces=6, seed=7
    )
    assert json.dumps(again["pods"]) == json.dumps(small_cluster["pods"])
    assert json.dumps(again["roles"]) == json.dumps(small_cluster["roles"])
    other = synthetic_cluster(n_service_accounts=120, n_pods=400, n_roles=40, n_namespaces=6)
    assert other["issuer"] != small_cluster["issuer"]
    k8s.to_model(k8s.kube_list("PodList", small_cluster["pods"]), "V1PodList")
    k8s.to_model(
        k8s.kube_list("ServiceAccountList", small_cluster["service_accounts"]),
        "V1ServiceAccountList",
    )


def test_trust_policies_are_canonical_except_the_defects(small_cluster):
    d = small_cluster
    hp = d["issuer_host_path"]
    assert d["issuer"] == "https://" + hp
    assert len(hp.rsplit("/", 1)[1]) == 32
    clean = [n for n in d["roles"] if n not in d["defects"]["roles"]]
    assert clean
    for name in clean:
        doc = d["roles"][name]["get_role"]["Role"]["AssumeRolePolicyDocument"]
        (st,) = doc["Statement"]
        assert st["Principal"] == {"Federated": d["provider_arn"]}
        assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
        cond = st["Condition"]["StringEquals"]
        assert cond[f"{hp}:aud"] == "sts.amazonaws.com"
        subs = cond[f"{hp}:sub"]
        for s in subs if isinstance(subs, list) else [subs]:
            assert s.startswith("system:serviceaccount:")
    # every IRSA SA points at an existing role, unless it is a deliberate SA defect
    for sa in d["service_accounts"]:
        arn = sa["metadata"].get("annotations", {}).get(k8s.ROLE_ARN_ANNOTATION)
        key = f"{sa['metadata']['namespace']}/{sa['metadata']['name']}"
        if arn and key not in d["defects"]["service_accounts"]:
            assert arn.rsplit("/", 1)[1] in d["roles"]


def test_bundle_files_layout_and_shapes(tmp_path, small_cluster):
    d = small_cluster
    written = write_bundle_files(d, tmp_path)
    rel = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {
        "aws/eks/describe-cluster.json",
        "aws/iam/list-open-id-connect-providers.json",
        "k8s/serviceaccounts.json",
        "k8s/pods.json",
        "k8s/version.json",
    } <= rel
    provider_file = (
        f"aws/iam/get-open-id-connect-provider/{provider_file_name(d['provider_arn'])}.json"
    )
    assert provider_file in rel
    assert provider_file == (
        "aws/iam/get-open-id-connect-provider/" + d["issuer_host_path"].replace("/", "_") + ".json"
    )
    role = next(iter(d["roles"]))
    for kind in ("get-role", "list-attached-role-policies", "list-role-policies"):
        assert f"aws/iam/{kind}/{role}.json" in rel

    load = lambda r: json.loads((tmp_path / r).read_text())  # noqa: E731
    assert (
        load("aws/eks/describe-cluster.json")["cluster"]["identity"]["oidc"]["issuer"]
        == d["issuer"]
    )
    prov = load(provider_file)
    assert prov["Url"] == d["issuer_host_path"] and prov["ClientIDList"] == ["sts.amazonaws.com"]
    assert {"Arn": d["provider_arn"]} in load("aws/iam/list-open-id-connect-providers.json")[
        "OpenIDConnectProviderList"
    ]
    assert load(f"aws/iam/get-role/{role}.json")["Role"]["RoleName"] == role
    assert "AttachedPolicies" in load(f"aws/iam/list-attached-role-policies/{role}.json")
    assert "PolicyNames" in load(f"aws/iam/list-role-policies/{role}.json")
    pods = load("k8s/pods.json")
    assert (pods["kind"], pods["apiVersion"], len(pods["items"])) == ("List", "v1", 400)
    assert load("k8s/serviceaccounts.json")["items"][0]["kind"] == "ServiceAccount"
    assert set(load("k8s/version.json")) >= {"clientVersion", "serverVersion"}
    # AWS CLI --output json indentation
    assert (tmp_path / "aws/eks/describe-cluster.json").read_text().startswith('{\n    "cluster"')
