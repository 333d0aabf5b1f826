"""Seed steps 4 and 5: the service account exists and names a valid IAM role."""

from __future__ import annotations

from collections.abc import Iterator

from ..iam.arn import ArnError, is_valid_role_arn, parse_arn
from ..inventory import Cluster, Gap
from ..text import Msg
from .helpers import shape_error
from .registry import Context, Finding, Subject, annotated_service_accounts, from_gap


def service_account_exists(ctx: Context, target: Subject) -> Iterator[Finding]:
    inv = ctx.inventory
    if target.sa is not None:  # read, so it exists (even if the namespace's pods were not)
        yield Finding("PASS", "pass")
        return
    if target.namespace in inv.namespace_errors:
        yield Finding(
            "ERROR", "namespace_unreadable", {"message": inv.namespace_errors[target.namespace]}
        )
        return
    if isinstance(inv.service_accounts, Gap):
        yield from_gap(inv.service_accounts, "the service account list")
        return
    unreadable = [f for p in target.pods if (f := shape_error(p))]
    if target.pods and len(unreadable) == len(target.pods):
        # only pods whose fields have the wrong type name it: no evidence of a missing SA
        yield unreadable[0]
        return
    pods = [p.name for p in target.pods]
    annotated = annotated_service_accounts(ctx, target.namespace)
    yield Finding("FAIL", "missing", {"pods": pods, "annotated": annotated})


def service_account_role_annotation(ctx: Context, target: Subject) -> Iterator[Finding]:
    if target.sa is None:
        yield Finding("SKIP", "_no_service_account")
        return
    cl = ctx.inventory.cluster
    example = (
        f"arn:{cl.partition}:iam::{cl.account}:role/ROLE_NAME"
        if isinstance(cl, Cluster)
        else "arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME"
    )
    arn = target.sa.role_arn
    if arn is None:
        yield Finding("FAIL", "missing", {"example_arn": example})
        return
    ev = {"annotation": arn}
    if is_valid_role_arn(arn):
        yield Finding("PASS", "pass", {"annotation": arn}, ev)
        return
    try:
        parsed = parse_arn(arn)
        reason = (
            Msg("_arn.not_a_role", service=parsed.service, kind=parsed.resource.split("/")[0])
            if parsed.service != "iam" or not parsed.resource.startswith("role/")
            else Msg("_arn.webhook_rule")
        )
    except ArnError as exc:
        reason = exc.message
    yield Finding(
        "FAIL", "invalid", {"annotation": arn, "reason": reason, "example_arn": example}, ev
    )
