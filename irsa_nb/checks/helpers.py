"""Small helpers the check modules share; no check lives here.

Check modules import only the model, :mod:`.registry` and this module, never one another
(import-linter holds it in ``make test``): what two checks need in common belongs here, or in
the model when it is not about findings.
"""

from __future__ import annotations

from ..iam.arn import is_valid_role_arn
from ..iam.arn import role_name as arn_role_name
from ..inventory import Cluster, Gap, Role, pod_shape_gap
from ..k8s import TOKEN_VOLUME, Container, Pod
from .registry import Context, Finding, Subject, from_gap, needs_role_annotation

SKIP_CONTAINERS_ANNOTATION = "eks.amazonaws.com/skip-containers"
EKS_ISSUER_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


# --- pods ----------------------------------------------------------------------------------


def restart_command(pod: Pod) -> str:
    """The kubectl command that recreates ``pod`` so the webhook mutates it again."""
    workload = pod.workload
    if workload:
        return f"kubectl rollout restart {workload[0]}/{workload[1]} -n {pod.namespace}"
    return (
        f"kubectl get pod {pod.name} -n {pod.namespace} -o yaml > pod.yaml && "
        f"kubectl delete pod {pod.name} -n {pod.namespace} && kubectl apply -f pod.yaml"
    )


def webhook_skip_names(raw: str) -> list[str] | None:
    """The container names the webhook skips: the first CSV record, untrimmed.

    Mirrors Go ``encoding/csv`` ``Reader.Read`` with default settings; None when Go would
    return an error (then the webhook skips nothing).
    """
    line_end = len(raw)
    fields: list[str] = []
    i = 0
    if raw == "":
        return None
    while True:
        if i < line_end and raw[i] == '"':
            i += 1
            buf = []
            while True:
                if i >= line_end:
                    return None  # unterminated quoted field
                ch = raw[i]
                if ch == '"':
                    if i + 1 < line_end and raw[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(ch)
                i += 1
            fields.append("".join(buf))
            if i >= line_end or raw[i] in "\r\n":
                return fields
            if raw[i] != ",":
                return None  # extraneous character after a quoted field
            i += 1
        else:
            j = i
            while j < line_end and raw[j] not in ",\r\n":
                if raw[j] == '"':
                    return None  # bare quote in a non-quoted field
                j += 1
            fields.append(raw[i:j])
            if j >= line_end or raw[j] in "\r\n":
                return fields
            i = j + 1


def skipped_containers(pod: Pod) -> set[str]:
    """Containers the webhook leaves alone (``eks.amazonaws.com/skip-containers``)."""
    return set(webhook_skip_names(pod.annotations.get(SKIP_CONTAINERS_ANNOTATION, "")) or ())


def webhook_mutated(pod: Pod) -> bool:
    """Whether the pod shows the webhook's mutation: the ``aws-iam-token`` volume, the IRSA
    variables, or EKS Pod Identity's container credentials."""
    return (
        TOKEN_VOLUME in pod.token_volumes
        or pod.has_irsa_env
        or any(c.env_value(v) for c in pod.all_containers for v in _CONTAINER_URIS)
    )


_CONTAINER_URIS = ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def mutable_containers(pod: Pod) -> list[Container]:
    skip = skipped_containers(pod)
    return [c for c in pod.all_containers if c.name not in skip]


def shape_error(pod: Pod) -> Finding | None:
    """The ERROR finding for a pod whose document has fields of the wrong type
    (:attr:`Pod.shape_errors`), naming them; None for a well-formed pod. The runner yields it
    instead of running a pod-scope check on a spec it cannot read."""
    gap = pod_shape_gap(pod)
    if gap is None:
        return None
    f = from_gap(gap, f"pod {pod.namespace}/{pod.name}")
    return Finding(f.status, f.key, f.params, {"shape_errors": list(pod.shape_errors)})


# --- roles ---------------------------------------------------------------------------------


def annotated_role(ctx: Context, target: Subject) -> Role | Gap | Finding:
    """The role named by the target's annotation, or the Finding that explains why not."""
    skip = needs_role_annotation(target)
    if skip:
        return skip
    arn = target.role_arn or ""
    if not is_valid_role_arn(arn):
        return Finding("SKIP", "_invalid_role_arn", {"annotation": arn})
    role = ctx.inventory.role(arn_role_name(arn))
    if isinstance(role, Role) and role.arn.split(":")[4] != arn.split(":")[4]:
        return Finding("ERROR", "_other_account", {"collected_arn": role.arn, "annotation": arn})
    return role


def trust_inputs(ctx: Context, target: Subject) -> tuple[Cluster, Role] | Finding:
    """The cluster (with an issuer) and the annotated role a trust check needs, or why not."""
    cl = ctx.inventory.cluster
    if isinstance(cl, Gap):
        return from_gap(cl, "the cluster description")
    role = annotated_role(ctx, target)
    if isinstance(role, Finding):
        return role
    if isinstance(role, Gap):
        return Finding("SKIP", "_role_unavailable")
    if not cl.issuer:
        return Finding("SKIP", "no_issuer")
    return cl, role
