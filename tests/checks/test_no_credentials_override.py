"""no_credentials_override: nothing earlier in the SDK credential chain (static keys from
`env`/`envFrom`, a profile, JS v2 container credentials) beats web identity."""

from __future__ import annotations

import pytest

from irsa_nb.bundle import CallFailed
from irsa_nb.exec_facts import exec_path
from tests.builders import k8s_objects as k8s
from tests.checks.helpers import (
    add_pod,
    add_sa,
    demo_docs,
    env,
    evidence,
    irsa_pod,
    one,
    only,
    outcome,
    results,
)


def _with_pod(containers, sa="billing", role="irsa-billing", env_from=None):
    docs = demo_docs()
    add_sa(docs, "shop", sa, role)
    cs = [k8s.container(n, env=e) for n, e in containers]
    if env_from:
        cs[0]["envFrom"] = env_from
    add_pod(docs, irsa_pod("shop", f"{sa}-5d4c3b2a1-q1w2e", sa, role, containers=cs))
    return docs


def test_override_passes_when_web_identity_is_first():
    row = one(results(demo_docs(), "no_credentials_override"), pod="checkout-7d4b9c6f5-k2x9p")
    assert row.status == "PASS"
    ev = evidence(row)
    assert {p["source"] for preds in ev.values() for p in preds} == {"web_identity"}


def test_override_fails_naming_the_secret_that_provides_static_keys():
    row = one(results(demo_docs(), "no_credentials_override"), pod="ledger-6a5b4c3d2-g7h8j")
    assert row.status == "FAIL"
    assert "AWS_ACCESS_KEY_ID (from secret ledger-aws-keys/access-key-id)" in row.detail
    assert "kubectl rollout restart deployment/ledger -n shop" in row.remediation


def test_override_fails_for_literal_keys_in_one_container_only():
    docs = _with_pod(
        [
            ("app", []),
            (
                "uploader",
                [
                    env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
                    env("AWS_SECRET_ACCESS_KEY", "s"),
                ],
            ),
        ]
    )
    row = one(results(docs, "no_credentials_override", namespace="shop", service_account="billing"))
    assert row.status == "FAIL"
    assert "uploader (any SDK)" in row.detail and "app (" not in row.detail
    assert "AKIAIOSFODNN7EXAMPLE" not in row.detail + row.evidence


def test_override_warns_when_an_env_from_secret_may_hold_keys():
    docs = _with_pod([("app", [])], env_from=[{"secretRef": {"name": "billing-env"}}])
    row = one(results(docs, "no_credentials_override", namespace="shop", service_account="billing"))
    assert row.status == "WARN"
    assert "secret billing-env" in row.detail


def test_override_depends_on_the_sdk_given():
    docs = _with_pod(
        [
            (
                "app",
                [env("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials")],
            )
        ]
    )
    kw = {"namespace": "shop", "service_account": "billing"}
    assert (
        one(results(docs, "no_credentials_override", sdk={"node": "2.1500.0"}, **kw)).status
        == "FAIL"
    )
    assert (
        one(results(docs, "no_credentials_override", sdk={"go2": "1.30.0"}, **kw)).status == "PASS"
    )
    assert (
        one(results(docs, "no_credentials_override", sdk={"node": "3.600.0"}, **kw)).status
        == "PASS"
    )


def test_override_skips_pods_without_irsa_env_and_half_configured_pods():
    df = results(demo_docs(), "no_credentials_override")
    assert one(df, pod="notifications-9f8e7d6c5-a1b2c").status == "SKIP"
    row = one(df, pod="emailer-5c4b3a2f1-e3r4t")  # AWS_ROLE_ARN only
    assert row.status == "SKIP" and "pod_has_irsa_env" in row.detail


def test_access_key_without_secret_fails_for_boto3_and_warns_for_unknown_sdks():
    docs = _with_pod([("app", [env("AWS_ACCESS_KEY_ID", secret=("aws-creds", "access-key"))])])
    kw = {"namespace": "shop", "service_account": "billing"}
    row = one(results(docs, "no_credentials_override", sdk={"boto3": "1.34.0"}, **kw))
    assert row.status == "FAIL" and "PartialCredentialsError" in row.detail
    row = one(results(docs, "no_credentials_override", **kw))
    assert row.status == "WARN" and "without AWS_SECRET_ACCESS_KEY" in row.detail
    assert one(results(docs, "no_credentials_override", sdk={"go2": "1.30.0"}, **kw)).status == (
        "PASS"
    )


def test_synthetic_cluster_static_key_pods_are_exactly_the_boto3_overrides(tmp_path):
    from irsa_nb import load_bundle, run_checks
    from tests.builders.synthetic import synthetic_cluster, write_bundle_files

    data = synthetic_cluster(n_service_accounts=120, n_pods=480, n_roles=40, defect_rate=0.5)
    write_bundle_files(data, tmp_path)
    truth = {k for k, v in data["defects"]["pods"].items() if v == "static_keys"}
    assert truth, "the fixture should plant static keys"
    df = run_checks(
        load_bundle(tmp_path), checks=["no_credentials_override"], sdk={"boto3": "1.34"}
    )
    fails = {f"{r.namespace}/{r.pod}" for r in df[df.status == "FAIL"].itertuples()}
    assert fails == truth


# Certainty that matches the evidence. The pod spec cannot show the image's ENV or
# credential files baked into the image (README, "In-pod evidence"); the SDKs read both
# before web identity (e.g. botocore's EnvProvider and AssumeRoleProvider precede
# AssumeRoleWithWebIdentityProvider in
# https://github.com/boto/botocore/blob/develop/botocore/credentials.py).
CHECKOUT = "checkout-7d4b9c6f5-k2x9p"
_NO_FILES = (
    "file\tcredentials\tdefault\tabsent\t/root/.aws/credentials\n"
    "file\tconfig\tdefault\tabsent\t/root/.aws/config\n"
)


def _checkout_rows(docs, lang="en"):
    df = results(docs, namespace="shop", service_account="checkout", lang=lang)
    return one(df[df.check_id == "no_credentials_override"]), df


def test_a_pass_from_the_spec_alone_is_spec_only_and_says_what_it_did_not_see():
    row, _ = _checkout_rows(demo_docs())
    assert row.status == "PASS"
    assert "from the spec only" in row.detail and "--exec" in row.detail
    assert "image's ENV" in row.detail and "~/.aws" in row.detail
    preds = [p for ps in evidence(row).values() for p in ps]
    assert {p["certainty"] for p in preds} == {"spec-only"}  # never "certain" from the spec
    assert {tuple(p["not_seen"]) for p in preds} == {("image_env", "aws_files")}
    zh, _ = _checkout_rows(demo_docs(), lang="zh")
    assert "仅依据 Pod 规约" in zh.detail and "--exec" in zh.detail


def _seen_inside(docs, files=True):
    pod = next(p for p in docs["k8s/pods.json"]["items"] if p["metadata"]["name"] == CHECKOUT)
    for c in pod["spec"]["containers"]:
        env_txt = "".join(f"{e['name']}={e.get('value', '')}\n" for e in c.get("env", []))
        d = {"probe.json": {"status": "ok"}, "env.txt": env_txt + "PATH=/usr/bin\n"}
        if files:
            d["aws-files.txt"] = _NO_FILES
        for name, doc in d.items():
            docs[exec_path("shop", CHECKOUT, c["name"], name)] = doc


def test_with_the_environment_and_files_seen_inside_the_pass_is_certain():
    docs = demo_docs()
    _seen_inside(docs)
    row, _ = _checkout_rows(docs)
    assert row.status == "PASS" and "seen inside the containers" in row.detail
    preds = [p for ps in evidence(row).values() for p in ps]
    assert {p["certainty"] for p in preds} == {"certain"}
    assert all("not_seen" not in p for p in preds)


def test_with_the_environment_but_not_the_files_seen_the_pass_stays_spec_only():
    docs = demo_docs()
    _seen_inside(docs, files=False)
    row, _ = _checkout_rows(docs)
    assert row.status == "PASS" and "~/.aws" in row.detail and "image's ENV" not in row.detail
    preds = [p for ps in evidence(row).values() for p in ps]
    assert {p["certainty"] for p in preds} == {"spec-only"}


def test_exec_refused_with_403_is_spec_only_and_points_to_in_pod_evidence():
    docs = demo_docs()
    refused = (
        'pods "checkout-7d4b9c6f5-k2x9p" is forbidden: User "dev" cannot create resource '
        '"pods/exec" in API group "" in the namespace "shop" (403)'
    )
    for c in ("checkout", "otel-collector"):
        docs[exec_path("shop", CHECKOUT, c, "probe.json")] = CallFailed(refused)
    row, df = _checkout_rows(docs)
    assert row.status == "PASS" and "could not read inside" in row.detail
    assert "in_pod_evidence" in row.detail and "from the spec only" in row.detail
    preds = [p for ps in evidence(row).values() for p in ps]
    assert {p["certainty"] for p in preds} == {"spec-only"}
    assert set(df[df.check_id == "in_pod_evidence"].status) == {"ERROR"}


def test_an_override_seen_in_the_spec_stays_a_certain_fail():
    """Static keys in the spec come first in the chain: no unseen fact can change that."""
    row = one(results(demo_docs(), "no_credentials_override"), pod="ledger-6a5b4c3d2-g7h8j")
    assert row.status == "FAIL"


# The demo bundle's rows of this check, one per outcome, asserted whole (status, outcome key,
# exact detail, evidence; clean text).
DEMO_OUTCOMES = [
    (
        {"pod": "aws-node-8xk2q"},
        "PASS",
        "pass_spec",
        "In every container of kube-system/aws-node-8xk2q with IRSA variables, web identity "
        "(arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role) is the first credential source the "
        "pod spec shows. Certainty: from the spec only; not seen in aws-node: the environment "
        "the container really gets (the image's ENV) and credential and config files baked into "
        "the image (~/.aws), which could still put static keys or a profile first. Run irsa-nb "
        "with --exec to read them inside the containers.",
        {
            "aws-node": [
                {
                    "certainty": "spec-only",
                    "env": "spec",
                    "not_seen": ["image_env", "aws_files"],
                    "role_arn": "arn:aws:iam::111122223333:role/AmazonEKS_CNI_Role",
                    "rule": (
                        "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE select web identity; read "
                        "from the pod spec only: the environment the container really gets (the "
                        "image's ENV) and credential and config files baked into the image "
                        "(~/.aws) were not seen and could put a source first (irsa-nb --exec "
                        "reads them inside the container)"
                    ),
                    "sdk": "any SDK",
                    "source": "web_identity",
                }
            ]
        },
    ),
    (
        {"pod": "emailer-5c4b3a2f1-e3r4t"},
        "SKIP",
        "incomplete",
        "No container of shop/emailer-5c4b3a2f1-e3r4t has both AWS_ROLE_ARN and "
        "AWS_WEB_IDENTITY_TOKEN_FILE, so web identity is never selected (see pod_has_irsa_env).",
        {
            "app": [
                {
                    "certainty": "possible",
                    "env": "spec",
                    "role_arn": None,
                    "rule": (
                        "nothing earlier matched: the SDK asks IMDS for the node role (none if "
                        "the nodes require IMDSv2 with a hop limit of 1)"
                    ),
                    "sdk": "any SDK",
                    "source": "imds",
                }
            ]
        },
    ),
    (
        {"pod": "fulfillment-3c2b1a0f9-d4f5g"},
        "SKIP",
        "no_irsa_env",
        "Pod shop/fulfillment-3c2b1a0f9-d4f5g has no IRSA variables, so there is nothing to "
        "override.",
        {},
    ),
    (
        {"pod": "ledger-6a5b4c3d2-g7h8j"},
        "FAIL",
        "override",
        "In shop/ledger-6a5b4c3d2-g7h8j something earlier in the credential chain beats web "
        "identity: app (any SDK): static keys AWS_ACCESS_KEY_ID (from secret "
        "ledger-aws-keys/access-key-id) and AWS_SECRET_ACCESS_KEY (from secret "
        "ledger-aws-keys/secret-access-key) come first.",
        {
            "app": [
                {
                    "certainty": "certain",
                    "env": "spec",
                    "role_arn": None,
                    "rule": (
                        "static keys AWS_ACCESS_KEY_ID (from secret "
                        "ledger-aws-keys/access-key-id) and AWS_SECRET_ACCESS_KEY (from secret "
                        "ledger-aws-keys/secret-access-key) come first"
                    ),
                    "sdk": "any SDK",
                    "source": "env_keys",
                }
            ]
        },
    ),
]


@pytest.mark.parametrize(
    ("where", "status", "key", "detail", "ev"), DEMO_OUTCOMES, ids=[c[2] for c in DEMO_OUTCOMES]
)
def test_each_demo_outcome_whole(demo, where, status, key, detail, ev):
    outcome(only(demo, "no_credentials_override", **where), status, key, detail, ev)
