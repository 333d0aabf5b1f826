"""Beyond the article: whether in-pod evidence (``--exec``) could be read, per container.

The facts themselves feed the existing checks (``pod_has_irsa_env``, ``pod_can_read_token``,
``no_credentials_override``, ``sdk_version_supported``, the trust check); this check only
says, for every container the collector tried to look into, what was read or why not:
SKIP for a container without a shell (distroless, scratch) or a pod that is not running,
ERROR for a probe that timed out or an exec call that failed. Without ``--exec`` it gives
no rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..exec_facts import summary
from ..k8s import Pod
from .registry import Context, Finding, Subject


def in_pod_evidence(ctx: Context, target: Subject, pod: Pod) -> Iterator[Finding]:
    facts = ctx.inventory.exec_facts
    for c in pod.containers:
        f = facts.get((pod.namespace, pod.name, c.name))
        if f is None:
            continue
        params = {
            "container": c.name,
            "summary": summary(f),
            "message": f.message or "-",
            "timeout": f"{f.timeout:g}" if f.timeout else "?",
        }
        ev = {
            "source": "exec",
            "container": c.name,
            "status": f.status,
            "sections": list(f.sections),
            "checked_at": f.checked_at,
            "message": f.message,
        }
        if f.status == "ok":
            yield Finding("PASS", "pass", params, ev)
        elif f.status == "no_shell" and pod.windows:
            # Windows containers have no POSIX sh: the probe cannot run there at all.
            yield Finding("SKIP", "no_shell_windows", params, ev)
        elif f.status == "no_shell":
            yield Finding("SKIP", "no_shell", params, ev)
        elif f.status == "not_running":
            yield Finding("SKIP", "not_running", params, ev)
        elif f.status == "timeout":
            yield Finding("ERROR", "timeout", params, ev)
        elif f.status == "failed":
            yield Finding("ERROR", "failed", params, ev)
        else:
            yield Finding("ERROR", "error", params, ev)
