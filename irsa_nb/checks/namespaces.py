"""Every namespace's service accounts and pods could be listed.

Live collection falls back to one list per namespace when a cluster-wide list is forbidden;
a namespace that still cannot be read is recorded under ``k8s/namespaces/<ns>/`` and
reported here as ERROR, so nothing in it is silently left unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator

from .registry import Context, Finding, Subject, failure_kind

_LABELS = {"serviceaccounts": "service accounts", "pods": "pods"}


def namespaces_readable(ctx: Context) -> Iterator[Finding]:
    for unread in ctx.inventory.unreadable_namespaces():
        ns = unread.namespace
        params = {
            "namespace": ns,
            "kinds": " and ".join(_LABELS[k] for k in unread.kinds) or "objects",
            "message": unread.message,
        }
        transient = failure_kind(params["message"]) == "transient"
        yield Finding(
            "ERROR",
            "unreadable_transient" if transient else "unreadable",
            params,
            {"namespace": ns, "error": params["message"]},
            target=Subject(ns, "", None, []),
        )
