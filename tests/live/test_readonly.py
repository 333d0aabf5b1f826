"""Every operation the collector invokes is a read, and docs/permissions.md lists exactly them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

import irsa_nb
from irsa_nb.live import aws as live_aws
from irsa_nb.live import cloudtrail, discover, simulate, sts_probe
from irsa_nb.live import exec as live_exec
from irsa_nb.live import kube as live_kube
from tests.live.probe.conftest import probe_cluster  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
MUTATING = re.compile(
    r"^(Create|Update|Delete|Put|Patch|Tag|Untag|Attach|Detach|Add|Remove|Set|Associate|"
    r"Disassociate|Start|Stop|Upload|Enable|Disable|Reset|Modify|Register|Deregister)"
)


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), re.S)


def _policy_actions() -> set[str]:
    (policy,) = [json.loads(b) for b in _blocks("json")]
    actions: set[str] = set()
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow"
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        actions |= set(acts)
    return actions


def _cluster_roles() -> dict[str, dict]:
    roles = [yaml.safe_load(b) for b in _blocks("yaml")]
    assert all(r["kind"] == "ClusterRole" for r in roles)
    return {r["metadata"]["name"]: r for r in roles}


def _cluster_role() -> dict:
    return _cluster_roles()["irsa-nb-reader"]


def _granted(role: dict) -> set[tuple[str, str]]:
    return {
        (v, res)
        for rule in role["rules"]
        for res in rule.get("resources", [])
        for v in rule["verbs"]
    }


@pytest.fixture
def recorded(live, throttle_proxy, recorded_aws_calls, monkeypatch):
    """Three collections (roles per role, roles in bulk, and one that falls back to
    per-namespace lists), with every AWS call seen by botocore and by a proxy, and every
    Kubernetes request."""
    lv = live()
    proxy = throttle_proxy()
    lv.aws.use_endpoint(proxy.url)
    recorded_aws_calls.clear()  # the test's own seeding calls are not the collector's
    irsa_nb.collect(lv.cluster, progress=False)
    monkeypatch.setattr(live_aws, "BULK_MIN_ROLES", 1)
    irsa_nb.collect(lv.cluster, progress=False)
    lv.kube.forbidden_cluster_wide = {"pods"}
    irsa_nb.collect(lv.cluster, progress=False)
    return lv, proxy, recorded_aws_calls


def test_collection_only_reads(recorded):
    lv, proxy, botocore_calls = recorded
    assert lv.kube.requests and {r.method for r in lv.kube.requests} == {"GET"}
    verbs = {verb for verb, _, _ in lv.kube.api_calls()}
    assert verbs <= {"get", "list"}
    ops = {c.split(":", 1)[1] for c in botocore_calls}
    assert ops == set(proxy.operations)  # the proxy saw exactly what botocore sent
    assert ops >= {
        "DescribeCluster",
        "GetRole",
        "ListAttachedRolePolicies",
        "GetOpenIDConnectProvider",
        "GetAccountAuthorizationDetails",
    }
    assert not [op for op in ops if MUTATING.match(op)]


def test_permissions_doc_lists_exactly_what_is_called(recorded):
    lv, _, botocore_calls = recorded
    actions = _policy_actions()
    assert {c.lower() for c in botocore_calls} <= {a.lower() for a in actions}
    # nothing granted that the code never calls (the probe's simulation and the Explorer's
    # cluster list are marked opt-in)
    assert actions == set(live_aws.OPERATIONS) | set(sts_probe.OPERATIONS) | set(
        discover.OPERATIONS
    ) | set(cloudtrail.OPERATIONS) | set(simulate.OPERATIONS)
    assert not [a for a in actions if MUTATING.match(a.split(":", 1)[1])]

    role = _cluster_role()
    granted: set[tuple[str, str]] = set()
    urls: set[str] = set()
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= {"get", "list"}
        for res in rule.get("resources", []):
            granted |= {(v, res) for v in rule["verbs"]}
        urls |= set(rule.get("nonResourceURLs", []))
    for verb, resource, _ns in lv.kube.api_calls():
        if resource.startswith("nonResourceURL:"):
            assert resource.split(":", 1)[1] in urls
        else:
            assert (verb, resource) in granted
    assert granted == {("list", r) for _, r, _ in live_kube.RESOURCES}
    assert urls == set(live_kube.NON_RESOURCE_URLS)
    assert ("list", "namespaces") in {(v, r) for v, r, _ in lv.kube.api_calls()}


def test_the_probe_creates_only_token_requests_and_the_doc_lists_its_calls(
    probe_cluster,  # noqa: F811
    request,
):
    pc = probe_cluster()
    # from here on (the fake STS's own moto client exists already, so it is not recorded)
    recorded_aws_calls = request.getfixturevalue("recorded_aws_calls")
    pc.lv.kube.reset_records()
    opts = sts_probe.ProbeOptions(namespace="probe", actions=[("s3:GetObject", "*")])
    irsa_nb.collect(pc.cluster, progress=False, probe=opts)

    calls = pc.lv.kube.api_calls()
    assert {(v, r) for v, r, _ in calls if v not in ("get", "list")} == {
        ("create", "serviceaccounts/token")
    }
    posts = [r.path for r in pc.lv.kube.requests if r.method != "GET"]
    assert posts and all(p.endswith("/token") for p in posts)
    assert {r.method for r in pc.lv.kube.requests} == {"GET", "POST"}
    prober = _granted(_cluster_roles()["irsa-nb-prober"])
    assert prober == {(verb, res) for _, res, verb in sts_probe.RESOURCES}
    reader = _granted(_cluster_role())
    for verb, resource, _ns in calls:
        if not resource.startswith("nonResourceURL:"):
            assert (verb, resource) in reader | prober

    ops = set(recorded_aws_calls)
    probe_ops = ops - set(live_aws.OPERATIONS)
    assert probe_ops == set(sts_probe.OPERATIONS) | set(sts_probe.NO_PERMISSION_OPERATIONS)
    assert set(sts_probe.OPERATIONS) <= _policy_actions()
    text = DOC.read_text()
    for op in sts_probe.NO_PERMISSION_OPERATIONS:  # named as needing no permission
        assert f"`{op}`" in text and op not in _policy_actions()
    assert not [op for op in ops if MUTATING.match(op.split(":", 1)[1])]


def test_cloudtrail_and_actions_add_only_two_reads_and_the_doc_lists_them(
    probe_cluster,  # noqa: F811
    request,
):
    """--cloudtrail and --action: LookupEvents and SimulatePrincipalPolicy (both reads, both
    in the policy), no Kubernetes write, and the page says what is lost without them."""
    pc = probe_cluster()
    recorded_aws_calls = request.getfixturevalue("recorded_aws_calls")
    pc.lv.kube.reset_records()
    irsa_nb.collect(
        pc.cluster,
        namespaces=["probe"],
        progress=False,
        cloudtrail_hours=2,
        actions=["s3:GetObject=arn:aws:s3:::probe-bucket/*"],
    )
    assert {r.method for r in pc.lv.kube.requests} == {"GET"}
    extra = set(recorded_aws_calls) - set(live_aws.OPERATIONS)
    assert (
        extra
        == set(cloudtrail.OPERATIONS) | set(simulate.OPERATIONS)
        == {
            "cloudtrail:LookupEvents",
            "iam:SimulatePrincipalPolicy",
        }
    )
    assert extra <= _policy_actions()
    assert set(pc.trail.operations) == {"LookupEvents"}
    assert "AssumeRoleWithWebIdentity" not in pc.front.operations
    text = DOC.read_text()
    assert "Without `cloudtrail:LookupEvents`" in text
    assert "Without `iam:SimulatePrincipalPolicy`" in text


def test_exec_adds_only_pods_exec_and_the_doc_lists_it(live):
    from tests.live.conftest import small_data

    lv = live(small_data(n_service_accounts=12, n_pods=24, n_roles=4, n_namespaces=2))
    irsa_nb.collect(lv.cluster, progress=False, exec="all")
    calls = lv.kube.api_calls()
    assert ("create", "pods/exec") in {(v, r) for v, r, _ in calls}
    assert {r.method for r in lv.kube.requests} == {"GET"}  # exec is a websocket upgrade
    execer = _granted(_cluster_roles()["irsa-nb-exec"])
    _, resource, verb = live_exec.EXEC_RESOURCE
    assert execer == {(verb, resource), ("get", resource)}  # get: API servers before 1.35
    reader = _granted(_cluster_role())
    for verb, resource, _ns in calls:
        if not resource.startswith("nonResourceURL:"):
            assert (verb, resource) in reader | execer


# --- the other code paths that reach a cluster or an account ------------------------------


def test_the_issuer_is_only_read_with_get_requests(recorded):
    """Thumbprint (a TLS handshake, no request) and discovery: the discovery document and
    the JWKS it names, with GET, and nothing else (the issuer answers only GET)."""
    lv, _, _ = recorded
    jwks = lv.issuer.discovery_document()["jwks_uri"].split(lv.issuer.host_port, 1)[1]
    assert set(lv.issuer.requests) == {
        lv.issuer.path + "/.well-known/openid-configuration",
        jwks,
    }
    doc = irsa_nb.collect(lv.cluster, progress=False).documents["tls/discovery.json"]
    fetched = [v for v in doc.values() if isinstance(v, dict) and "status" in v]
    assert len(fetched) == 2 and {f["status"] for f in fetched} == {200}  # both GETs answered


def test_the_runbook_on_a_live_cluster_only_reads(live, throttle_proxy, tmp_path):
    """The runbook notebook (a papermill kernel) collecting live: Kubernetes GETs within the
    reader role, AWS calls within the policy plus the permission-free caller identity."""
    from irsa_nb.evidence import NO_PERMISSION_OPERATIONS
    from tests.runs import run_runbook

    lv = live()
    proxy = throttle_proxy()
    lv.aws.use_endpoint(proxy.url)
    lv.kube.reset_records()
    sa = next(
        s
        for s in lv.data["service_accounts"]
        if "eks.amazonaws.com/role-arn" in (s["metadata"].get("annotations") or {})
    )
    res = run_runbook(
        tmp_path / "ev",
        cluster=lv.cluster,
        namespace=sa["metadata"]["namespace"],
        service_account=sa["metadata"]["name"],
        timeout=180,
    )
    assert res.status == "ok", res.error
    assert {r.method for r in lv.kube.requests} == {"GET"}
    reader = _granted(_cluster_role())
    for verb, resource, _ns in lv.kube.api_calls():
        if not resource.startswith("nonResourceURL:"):
            assert (verb, resource) in reader
    ops = {f"{c.service}:{c.operation}" for c in proxy.calls}
    assert {"eks:DescribeCluster", "iam:GetRole", "sts:GetCallerIdentity"} <= ops
    assert ops <= set(live_aws.OPERATIONS) | set(NO_PERMISSION_OPERATIONS)
    assert ops - set(NO_PERMISSION_OPERATIONS) <= _policy_actions()
    text = DOC.read_text()
    for op in NO_PERMISSION_OPERATIONS:  # named as needing no permission
        assert f"`{op}`" in text and op not in _policy_actions()


def test_the_explorer_lists_clusters_with_list_clusters_only(
    aws_env, throttle_proxy, recorded_aws_calls
):
    from irsa_nb.widgets.state import ExplorerState

    aws_env.client("eks")  # created before recording starts
    proxy = throttle_proxy()
    aws_env.use_endpoint(proxy.url)
    recorded_aws_calls.clear()
    state = ExplorerState()
    assert state.list_clusters("us-west-2") == [] and not state.errors
    assert set(recorded_aws_calls) == set(discover.OPERATIONS) == {"eks:ListClusters"}
    assert [f"{c.service}:{c.operation}" for c in proxy.calls] == ["eks:ListClusters"]
    assert set(discover.OPERATIONS) <= _policy_actions()


def test_the_collect_script_only_reads_what_the_doc_grants(live, throttle_proxy, tmp_path):
    """The POSIX collect script (aws CLI + kubectl) stays inside the same allow-list."""
    from tests.live.conftest import run_collect_script

    lv = live()
    proxy = throttle_proxy()
    lv.aws.use_endpoint(proxy.url)
    lv.kube.reset_records()
    proc = run_collect_script(lv, tmp_path / "bundle")
    assert proc.returncode == 0, proc.stderr
    ops = set(proxy.operations)
    assert {"DescribeCluster", "GetRole", "ListRolePolicies"} <= ops
    assert not [op for op in ops if MUTATING.match(op)]
    granted_aws = {a.split(":", 1)[1].lower() for a in _policy_actions()}
    assert {op.lower() for op in ops} <= granted_aws
    assert lv.kube.requests and {r.method for r in lv.kube.requests} == {"GET"}
    granted = _granted(_cluster_role())
    urls = {u for rule in _cluster_role()["rules"] for u in rule.get("nonResourceURLs", [])}
    # kubectl's API discovery is granted to every authenticated user (system:discovery)
    discovery = re.compile(r"^/(api|apis)(/[^/]+){0,2}$|^/openapi/")
    for verb, resource, _ns in lv.kube.api_calls():
        if resource.startswith("nonResourceURL:"):
            url = resource.split(":", 1)[1]
            assert url in urls or discovery.match(url), url
        else:
            assert (verb, resource) in granted, (verb, resource)
