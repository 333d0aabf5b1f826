"""The checks find exactly the defects planted in a synthetic cluster (ground truth)."""

from __future__ import annotations

import pytest

from irsa_nb import load_bundle, run_checks
from tests.builders.synthetic import synthetic_cluster, write_bundle_files

TRUST_DEFECTS = {
    "wrong_issuer",
    "sub_typo",
    "stringequals_wildcard",
    "aud_as_sub",
    "explicit_deny",
    "wrong_action",
    "wrong_audience",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The synthetic cluster and its bundle, built once per module."""
    data = synthetic_cluster(n_service_accounts=300, n_pods=900, n_roles=60, seed=7)
    root = tmp_path_factory.mktemp("synthetic")
    write_bundle_files(data, root)
    # What `aws iam get-role` answers for annotated roles that do not exist.
    for sa in data["service_accounts"]:
        arn = (sa["metadata"].get("annotations") or {}).get("eks.amazonaws.com/role-arn", "")
        name = arn.rsplit("/", 1)[-1]
        if ":111122223333:role/" in arn and name not in data["roles"]:
            (root / f"aws/iam/get-role/{name}.error.txt").write_text(
                "An error occurred (NoSuchEntity) when calling the GetRole operation: "
                f"The role with name {name} cannot be found.\n"
            )
    return data, load_bundle(root)


@pytest.fixture
def cluster(world):
    """The checks run anew for each test: a test reading a module fixture's cached results
    would call no check, and mutation testing (``make mutation``) would run no mutant
    against it."""
    data, bundle = world
    return data, run_checks(bundle)


def _fails(df, check_id, status="FAIL"):
    rows = df[(df.check_id == check_id) & (df.status == status)]
    return set(zip(rows.namespace, rows.service_account, rows.pod, strict=True))


def _sas_of_role(data, role):
    return {
        (sa["metadata"]["namespace"], sa["metadata"]["name"])
        for sa in data["service_accounts"]
        if (sa["metadata"].get("annotations") or {})
        .get("eks.amazonaws.com/role-arn", "")
        .endswith(f":role/{role}")
    }


def test_trust_failures_are_exactly_the_planted_trust_defects(cluster):
    data, df = cluster
    got = {(ns, sa) for ns, sa, _ in _fails(df, "trust_policy_allows_service_account")}
    defective = [r for r, k in data["defects"]["roles"].items() if k in TRUST_DEFECTS]
    assert defective, "the generator planted no trust defects"
    # every broken role fails for at least one of its service accounts (a typo in one of
    # several `sub` values breaks only that one) ...
    for role in defective:
        assert _sas_of_role(data, role) & got, role
    # ... and nothing else fails
    assert got <= set().union(*(_sas_of_role(data, r) for r in defective))


def test_missing_sub_roles_pass_trust_but_are_flagged_overbroad(cluster):
    data, df = cluster
    loose = {r for r, k in data["defects"]["roles"].items() if k == "missing_sub"}
    sas = set().union(*(_sas_of_role(data, r) for r in loose))
    assert sas
    trust_ok = df[(df.check_id == "trust_policy_allows_service_account") & (df.status == "PASS")]
    assert sas <= set(zip(trust_ok.namespace, trust_ok.service_account, strict=True))
    flagged = df[(df.check_id == "trust_policy_not_overbroad") & (df.status != "PASS")]
    assert sas <= set(zip(flagged.namespace, flagged.service_account, strict=True))


def test_service_account_defects_are_reported_under_their_checks(cluster):
    data, df = cluster
    by_kind: dict[str, set] = {}
    for key, kind in data["defects"]["service_accounts"].items():
        by_kind.setdefault(kind, set()).add(tuple(key.split("/")))
    sa_rows = {
        "role_missing": ("role_exists", "FAIL"),
        "malformed_arn": ("service_account_role_annotation", "FAIL"),
        "other_account": ("role_exists", "ERROR"),
    }
    for kind, sas in by_kind.items():
        check_id, status = sa_rows[kind]
        got = {(ns, sa) for ns, sa, _ in _fails(df, check_id, status)}
        assert sas <= got, (kind, sas - got)


def test_pod_defects_are_reported_under_their_checks(cluster):
    data, df = cluster
    pod_rows = {
        "not_mutated": ["pod_has_irsa_env", "pod_matches_annotation"],
        "stale_role": ["pod_matches_annotation"],
        "static_keys": ["no_credentials_override"],
    }
    for key, kind in data["defects"]["pods"].items():
        ns, pod = key.split("/")
        for check_id in pod_rows[kind]:
            rows = df[(df.check_id == check_id) & (df.namespace == ns) & (df.pod == pod)]
            # a lone AWS_ACCESS_KEY_ID breaks boto3 but is skipped by other SDKs: WARN or FAIL
            assert set(rows.status) & {"FAIL", "WARN"}, (kind, key, check_id)


def test_healthy_pods_are_not_failed(cluster):
    data, df = cluster
    broken_pods = {tuple(k.split("/")) for k in data["defects"]["pods"]}
    env_fails = {(ns, pod) for ns, _, pod in _fails(df, "pod_has_irsa_env")}
    assert env_fails <= broken_pods
