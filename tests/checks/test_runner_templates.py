"""run_checks evaluates the pod-scope checks once per pod template and fans the rows out: on
randomised worlds mixing replicas of one spec (differing in name, creation time, node and
generated token volume) with unique pods (bare, Windows, skipped containers, static keys,
in-pod evidence, wrongly shaped documents), the result equals per-pod evaluation
(``per_pod=True``) to the byte, in every language and for every kind of target."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irsa_nb import REGISTRY, run_checks
from irsa_nb.exec_facts import exec_path
from tests.builders import k8s_objects as k8s
from tests.checks.helpers import add_pod, add_sa, demo_docs, env, inventory, irsa_pod, role_arn

# (namespace, service account, role its annotation names or None, whether it exists)
ACCOUNTS = [
    ("shop", "checkout", "shop-checkout", True),  # the demo's healthy service account
    ("shop", "cart", "shop-cart", True),  # the demo's: its trust policy is broken
    ("shop", "tpl-a", "shop-checkout", True),
    ("shop", "tpl-plain", None, True),  # no role annotation
    ("shop", "tpl-ghost", None, False),  # named by pods, not in the cluster
]
T0 = dt.datetime(2024, 3, 1, 9, 0, 0, tzinfo=dt.UTC)
SPECS = [
    "mutated",
    "not_mutated",
    "static_keys",
    "windows",
    "skip_sidecar",
    "pod_identity",
    "stale_role",
    "init_and_user",
    "bare",
    "no_region",
    "exec_probe",
    "shape_error",
]


def _pod(spec: str, ns: str, name: str, sa: str, role: str | None, **kw: object) -> dict:
    role = role or "shop-checkout"
    if spec == "not_mutated":
        return irsa_pod(ns, name, sa, None, **kw)
    if spec == "static_keys":
        app = {
            "name": "app",
            "image": "app:1",
            "env": [env("AWS_ACCESS_KEY_ID", secret=("k", "id"))],
        }
        return irsa_pod(ns, name, sa, role, containers=[app], **kw)
    if spec == "windows":
        return irsa_pod(ns, name, sa, role, node_selector={"kubernetes.io/os": "windows"}, **kw)
    if spec == "skip_sidecar":
        side = {"name": "side", "image": "side:1", "env": [env("AWS_REGION", "us-west-2")]}
        return irsa_pod(
            ns, name, sa, role, containers=["app", side], skip_containers=["side"], **kw
        )
    if spec == "pod_identity":
        return irsa_pod(ns, name, sa, role, pod_identity=True, **kw)
    if spec == "stale_role":
        return irsa_pod(ns, name, sa, "shop-previous", **kw)
    if spec == "init_and_user":
        return irsa_pod(
            ns,
            name,
            sa,
            role,
            init_containers=["setup"],
            security_context={"runAsUser": 1000},
            **kw,
        )
    if spec == "bare":  # no controller: the restart command names the pod
        return k8s.pod(ns, name, sa, irsa_role_arn=role_arn(role), owner=None, **kw)
    if spec == "no_region":
        return irsa_pod(ns, name, sa, role, inject_region=False, sts_regional_endpoints=False, **kw)
    pod = irsa_pod(ns, name, sa, role, **kw)
    if spec == "shape_error":
        pod["spec"]["securityContext"] = "not an object"
    return pod


@st.composite
def worlds(draw: st.DrawFn) -> tuple[dict, dict]:
    """Demo documents plus pods drawn from a few templates (many replicas each) and unique
    specs, and the run_checks target and language to compare with."""
    docs = demo_docs()
    for ns, name, role, exists in ACCOUNTS[2:]:
        if exists:
            add_sa(docs, ns, name, role)
    shapes = st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(SPECS))
    templates = draw(st.lists(shapes, min_size=1, max_size=3))
    n = draw(st.integers(1, 16))
    for i in range(n):
        # mostly replicas of a few templates, some pods of their own
        own = draw(st.integers(0, 4)) == 0
        (ns, sa, role, _), spec = draw(shapes if own else st.sampled_from(templates))
        letters = draw(st.sampled_from(["abcde", "xyz12"] * 3 + ["q_Q.1"]))  # q_Q.1: not plain
        name = f"{sa}-5d4c3b2a1-{letters}{i}"
        pod = _pod(
            spec,
            ns,
            name,
            sa,
            role,
            creation_timestamp=T0 + dt.timedelta(seconds=draw(st.sampled_from([0, 7, 3600]))),
            node_name=draw(st.sampled_from([f"ip-10-0-1-{i}.ec2.internal"] * 4 + ["", "node b"])),
            phase=draw(st.sampled_from(["Running"] * 4 + ["Pending"])),
            rng=random.Random(draw(st.integers(0, 3))),  # the generated token volume's name
        )
        add_pod(docs, pod)
        if spec == "exec_probe":
            container = pod["spec"]["containers"][0]["name"]
            docs[exec_path(ns, name, container, "probe.json")] = {
                "status": "no_shell",
                "message": "no sh in the container",
            }
    target = draw(
        st.sampled_from(
            [
                {},
                {"namespace": "shop"},
                {"namespace": "shop", "service_account": "tpl-a"},
                {"namespace": "shop", "service_account": "checkout"},
            ]
        )
    )
    target["lang"] = draw(st.sampled_from(["en", "zh"]))
    return docs, target


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_checks_once_per_pod_template_equal_checks_per_pod(world):
    docs, target = world
    inv = inventory(docs)
    shared = run_checks(inv, **target)
    per_pod = run_checks(inv, **target, per_pod=True)
    pd.testing.assert_frame_equal(shared, per_pod)
    assert shared.equals(per_pod)


def test_replicas_are_evaluated_once_and_get_their_own_name_and_creation_time(monkeypatch):
    """Three replicas of one spec: one evaluation, three rows naming each pod and its time."""
    chk = REGISTRY["pod_matches_annotation"]
    seen = []

    def counted(ctx, target, pod):
        seen.append(pod.name)
        return chk.func(ctx, target, pod)

    monkeypatch.setitem(REGISTRY, chk.id, dataclasses.replace(chk, func=counted))
    docs = demo_docs()
    names = [f"checkout-5d4c3b2a1-r{i}" for i in range(3)]
    for i, name in enumerate(names):
        created = T0 + dt.timedelta(minutes=i)
        add_pod(
            docs,
            irsa_pod(
                "shop", name, "checkout", "shop-checkout", creation_timestamp=created,
                node_name=f"node-{i}", rng=random.Random(i),
            ),
        )  # fmt: skip
    df = run_checks(inventory(docs), "shop", "checkout", checks=["pod_matches_annotation"])
    assert len(seen) == 2  # the demo's checkout pod, and the three replicas once
    rows = df[df.pod.isin(names)].set_index("pod")
    assert list(rows.index) == names
    for i, name in enumerate(names):
        created = k8s.rfc3339(T0 + dt.timedelta(minutes=i))
        assert created in rows.loc[name, "evidence"]
    assert "irsa-nb-" not in "".join(df.detail + df.remediation + df.evidence + df.pod)


def test_every_spec_beside_every_other_on_one_service_account():
    """Two replicas of each spec on one service account, named and placed alike: pods that
    differ in any field a check reads are not merged."""
    docs = demo_docs()
    for ns, name, role, exists in ACCOUNTS[2:]:
        if exists:
            add_sa(docs, ns, name, role)
    for j, spec in enumerate(SPECS):
        for r in range(2):
            name = f"tpl-a-5d4c3b2a1-s{j}r{r}"
            pod = _pod(spec, "shop", name, "tpl-a", "shop-checkout", node_name="ip-10-0-1-2")
            add_pod(docs, pod)
            if spec == "exec_probe":
                container = pod["spec"]["containers"][0]["name"]
                docs[exec_path("shop", name, container, "probe.json")] = {"status": "no_shell"}
    inv = inventory(docs)
    for lang in ("en", "zh"):
        shared = run_checks(inv, "shop", "tpl-a", lang=lang)
        pd.testing.assert_frame_equal(
            shared, run_checks(inv, "shop", "tpl-a", lang=lang, per_pod=True)
        )


def test_template_keys_read_every_field_of_the_pod_model():
    """A field added to a container, token volume or env entry must enter the template key
    (irsa_nb/checks/templates.py KEYED), or pods differing in it would share one outcome."""
    from irsa_nb.checks.templates import KEYED

    for cls, names in KEYED.items():
        assert tuple(f.name for f in dataclasses.fields(cls)) == names, cls.__name__
