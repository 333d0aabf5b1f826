"""Beyond the article: credentials that win over IRSA (Pod Identity, static keys, profiles)."""

from __future__ import annotations

from collections.abc import Iterator

from ..credentials import CONTAINER_URIS, UNSEEN, association_for, chain_for, predict
from ..exec_facts import effective_pod, facts_for, sdk_pairs
from ..inventory import Gap
from ..k8s import IRSA_ENV_VARS, Pod
from ..text import Msg, join
from .helpers import restart_command
from .registry import Context, Finding, Subject, from_gap, needs_role_annotation


def _has_container_credentials(pod: Pod) -> bool:
    return any(c.env_value(v) for c in pod.all_containers for v in CONTAINER_URIS)


def pod_identity_precedence(ctx: Context, target: Subject) -> Iterator[Finding]:
    """An EKS Pod Identity association for the same service account overrides IRSA."""
    skip = needs_role_annotation(target)
    if skip:
        yield skip
        return
    associations = ctx.inventory.pod_identity_associations()
    if isinstance(associations, Gap):
        yield from_gap(associations, "the EKS Pod Identity associations")
        return
    mine = [
        a
        for a in associations
        if (a.namespace, a.service_account) == (target.namespace, target.name)
    ]
    with_env = sorted(p.name for p in target.pods if _has_container_credentials(p))
    ev = {
        "associations": [vars(a) for a in mine],
        "pods_with_pod_identity_env": with_env,  # (a "credentials" key would be masked)
    }
    params = {"associations": [a.association_id for a in mine], "pods": with_env}
    if mine:
        yield Finding("FAIL", "overrides", params, ev)
    elif with_env:
        yield Finding("WARN", "stale_pods", params, ev)
    else:
        yield Finding("PASS", "pass", params, ev)


def no_credentials_override(ctx: Context, target: Subject, pod: Pod) -> Iterator[Finding]:
    """Nothing earlier in the SDK's credential chain beats web identity (see credentials.py).

    With in-pod evidence (``--exec``) the real environment (image ``ENV`` included), the
    shared files and the SDKs found inside the container are used.
    """
    facts = facts_for(ctx.inventory.exec_facts, pod)
    pod, sources = effective_pod(ctx.inventory.exec_facts, pod)
    containers = [c for c in pod.all_containers if any(c.env_value(v) for v in IRSA_ENV_VARS)]
    params = {"restart": restart_command(pod)}
    if not containers:
        yield Finding("SKIP", "no_irsa_env", params)
        return
    assoc = association_for(
        ctx.inventory.pod_identity_associations(), pod.namespace, pod.service_account
    )
    given: list[tuple[str | None, str | None]] = list(ctx.sdk.items())
    overrides: list[str] = []
    possible: list[str] = []
    selected = 0
    unseen: dict[str, set[str]] = {}  # container -> in-pod facts a spec-only PASS did not see
    ev: dict[str, list[dict]] = {}
    for c in containers:
        f = facts.get(c.name)
        files = f.aws_files if f else None
        for key, version in given or sdk_pairs(f) or [(None, None)]:
            pr = predict(pod, c, key, version, assoc, files, sources[c.name] == "exec")
            ev.setdefault(c.name, []).append(
                {
                    "sdk": pr.sdk,
                    "source": pr.source,
                    "certainty": pr.certainty,
                    "role_arn": pr.role_arn,
                    "rule": pr.rule,
                    "env": sources[c.name],  # "exec": the environment seen inside
                }
                | ({"not_seen": list(pr.unseen)} if pr.unseen else {})
            )
            winner = pr.winner
            where = {"container": c.name, "sdk": pr.sdk if key else Msg("_chain.any_sdk")}
            order = chain_for(key, version).order
            if (
                winner.certainty == "certain"
                and winner.link in order
                and order.index(winner.link) < order.index("web_identity")
            ):
                overrides.append(Msg("_chain.item", **where, rule=winner.rule))
            elif winner.source == "web_identity":
                selected += 1
                if pr.unseen:
                    unseen.setdefault(c.name, set()).update(pr.unseen)
                if len(pr.steps) > 1:
                    possible.append(Msg("_chain.item", **where, rule=pr.steps[0].rule))
    seen = "_exec" if any(sources[c.name] == "exec" for c in containers) else ""
    if overrides:
        yield Finding("FAIL", "override" + seen, {**params, "overrides": join(overrides)}, ev)
    elif possible:
        yield Finding("WARN", "possible", {**params, "overrides": join(possible)}, ev)
    elif selected and unseen:
        # Judged on the pod spec alone: say what was not seen and how to see it.
        codes = [u for u in UNSEEN if any(u in v for v in unseen.values())]
        spec = {
            **params,
            "containers": sorted(unseen),
            "not_seen": join((Msg(f"_chain.unseen.{u}") for u in codes), "items"),
        }
        tried = [n for n in unseen if (pod.namespace, pod.name, n) in ctx.inventory.exec_facts]
        yield Finding("PASS", "pass_spec_exec_failed" if tried else "pass_spec", spec, ev)
    elif selected:
        yield Finding("PASS", "pass" + seen, params, ev)
    else:
        yield Finding("SKIP", "incomplete", params, ev)
