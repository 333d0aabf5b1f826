"""Seed steps 1, 11, 12: the IAM OIDC provider, its audience and its thumbprint."""

from __future__ import annotations

from collections.abc import Iterator

from ..iam.arn import issuer_host_path
from ..inventory import Cluster, Gap, sha1_thumbprint
from ..k8s import TOKEN_VOLUME
from .helpers import EKS_ISSUER_SUFFIXES
from .registry import Context, Finding, Subject, from_gap, needs_role_annotation


def find_provider(ctx: Context) -> str | Gap | None:
    """ARN of the IAM OIDC provider for the cluster's issuer, a Gap, or None if absent."""
    inv = ctx.inventory
    cl, arns = inv.cluster, inv.provider_arns
    if isinstance(cl, Gap):
        return cl
    if isinstance(arns, Gap):
        return arns
    if not cl.issuer:  # IRSA not set up: no provider can match
        return None
    want = issuer_host_path(cl.issuer)
    for arn in arns:
        if arn.split("oidc-provider/", 1)[-1].rstrip("/") == want:
            return arn
    return None


def oidc_provider_exists(ctx: Context) -> Iterator[Finding]:
    cl = ctx.inventory.cluster
    if isinstance(cl, Gap):
        yield from_gap(cl, "the cluster description")
        return
    if not cl.issuer:
        yield Finding("FAIL", "no_issuer")
        return
    found = find_provider(ctx)
    if isinstance(found, Gap):
        yield from_gap(found, "the list of IAM OIDC providers")
        return
    ev = {"issuer": cl.issuer, "providers": list(ctx.inventory.provider_arns)}
    if found:
        yield Finding("PASS", "pass", {"provider_arn": found, "issuer": cl.issuer}, ev)
        return
    host = issuer_host_path(cl.issuer).split("/", 1)[0]
    others = [a for a in ctx.inventory.provider_arns if f"oidc-provider/{host}/" in a]
    key = "missing_other_issuers" if others else "missing"
    yield Finding("FAIL", key, {"issuer": cl.issuer, "others": others}, ev)


def _audiences(target: Subject) -> list[str]:
    auds = [target.sa.audience] if target.sa else []
    for pod in target.pods:
        vol = pod.token_volumes.get(TOKEN_VOLUME)
        if vol and vol.audience and vol.audience not in auds:
            auds.append(vol.audience)
    return auds


def provider_audience_matches(ctx: Context, target: Subject) -> Iterator[Finding]:
    skip = needs_role_annotation(target)
    if skip:
        yield skip
        return
    found = find_provider(ctx)
    if isinstance(found, Gap):
        yield from_gap(found, "the IAM OIDC provider")
        return
    if found is None:
        yield Finding("SKIP", "no_provider")
        return
    provider = ctx.inventory.provider(found)
    if isinstance(provider, Gap):
        yield from_gap(provider, "the IAM OIDC provider's details")
        return
    auds = _audiences(target)
    missing = [a for a in auds if a not in provider.client_ids]
    params = {
        "provider_arn": found,
        "audience": auds[0] if not missing else missing[0],
        "client_ids": list(provider.client_ids),
    }
    ev = {"audiences": auds, "client_id_list": list(provider.client_ids)}
    yield Finding("FAIL" if missing else "PASS", "mismatch" if missing else "pass", params, ev)


def provider_thumbprint_matches(ctx: Context) -> Iterator[Finding]:
    inv = ctx.inventory
    found = find_provider(ctx)
    if isinstance(found, Gap):
        yield from_gap(found, "the IAM OIDC provider")
        return
    if found is None:
        yield Finding("SKIP", "no_provider")
        return
    provider = inv.provider(found)
    if isinstance(provider, Gap):
        yield from_gap(provider, "the IAM OIDC provider's details")
        return
    assert isinstance(inv.cluster, Cluster)
    host = issuer_host_path(inv.cluster.issuer).split("/", 1)[0]
    chain = inv.issuer_chain
    if isinstance(chain, Gap):
        finding = from_gap(chain, "the issuer's TLS certificate chain")
        finding.params["command"] = finding.params["command"].replace("ISSUER_HOST", host)
        yield finding
        return
    top = sha1_thumbprint(chain[-1])
    params = {"provider_arn": found, "thumbprint": top, "configured": list(provider.thumbprints)}
    ev = {"top_ca_sha1": top, "thumbprint_list": list(provider.thumbprints), "issuer_host": host}
    if not provider.thumbprints:
        yield Finding("INFO", "none_configured", params, ev)
    elif top in provider.thumbprints:
        yield Finding("PASS", "pass", params, ev)
    elif host.endswith(EKS_ISSUER_SUFFIXES):
        yield Finding("WARN", "mismatch_eks", params, ev)
    else:
        yield Finding("FAIL", "mismatch", params, ev)
