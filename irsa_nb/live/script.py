"""``irsa-nb collect-script``: a POSIX sh script that writes the same bundle with aws/kubectl.

For customers who will not install Python: the script needs ``aws`` and ``kubectl`` (and
uses ``openssl`` for the issuer's certificate chain when present). Every call is read-only;
a failed command leaves its stderr in ``<path>.error.txt``. Kubernetes objects are reduced
by kubectl go-templates to the fields the checks read (as :func:`irsa_nb.k8s.slim_pod` does,
pod labels included), keeping env values only for the non-secret AWS SDK variables (others
become ``***``). Service accounts and pods are listed as
:class:`irsa_nb.live.kube.ListCollector` lists them: cluster-wide, or in the chosen
namespaces (``IRSA_NAMESPACES``), with the same per-namespace fallback on a 403. The script
writes only into a new (or empty) output directory and a new archive.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from ..k8s import IRSA_PREFIX, NAMESPACE_NAME
from ..redact import AWS_SETTINGS_ENV

_N = len(IRSA_PREFIX)
#: Env vars whose values the script keeps (everything else that has a value becomes ***).
_KEPT = " ".join(f'"{n}"' for n in AWS_SETTINGS_ENV)

# Shared go-template definitions. "s": a JSON string (nil -> ""); "ann": eks.amazonaws.com/*
# annotations; "sc": the securityContext fields the checks read; "ctr": one container.
_DEFINES = (
    '{{define "s"}}{{if eq (printf "%v" .) "<nil>"}}""{{else}}{{printf "%q" .}}{{end}}{{end}}'
    '{{define "ann"}}{{$s := ""}}{{range $k, $v := .}}{{if ge (len $k) ' + str(_N) + "}}"
    "{{if eq (slice $k 0 " + str(_N) + ') "' + IRSA_PREFIX + '"}}'
    '{{$s}}{{printf "%q" $k}}:{{template "s" $v}}{{$s = ","}}{{end}}{{end}}{{end}}{{end}}'
    '{{define "sc"}}{{$s := ""}}{{range $k, $v := .}}'
    '{{if eq $k "runAsUser" "runAsGroup" "runAsNonRoot" "fsGroup"}}'
    '{{$s}}{{printf "%q" $k}}:{{$v}}{{$s = ","}}{{end}}{{end}}{{end}}'
    '{{define "vf"}}{ {{- with .secretKeyRef}}"secretKeyRef":{"name":{{template "s" .name}},'
    '"key":{{template "s" .key}}}{{else}}{{with .configMapKeyRef}}"configMapKeyRef":'
    '{"name":{{template "s" .name}},"key":{{template "s" .key}}}{{else}}{{with .fieldRef}}'
    '"fieldRef":{"fieldPath":{{template "s" .fieldPath}}}{{else}}{{with .resourceFieldRef}}'
    '"resourceFieldRef":{"resource":{{template "s" .resource}}}{{end}}{{end}}{{end}}{{end -}} }'
    "{{end}}"
    '{{define "ctr"}}{"name":{{template "s" .name}},"image":{{template "s" .image}}'
    '{{with .env}},"env":[{{range $i, $e := .}}{{if $i}},{{end}}{"name":{{template "s" $e.name}}'
    '{{if ne (printf "%v" $e.value) "<nil>"}},"value":{{if eq (printf "%v" $e.name) ' + _KEPT + "}}"
    '{{template "s" $e.value}}{{else}}{{if $e.value}}"***"{{else}}""{{end}}{{end}}{{end}}'
    '{{with $e.valueFrom}},"valueFrom":{{template "vf" .}}{{end}}}{{end}}]{{end}}'
    '{{with .envFrom}},"envFrom":[{{range $i, $e := .}}{{if $i}},{{end}}{ {{- with $e.secretRef}}'
    '"secretRef":{"name":{{template "s" .name}}}{{else}}{{with $e.configMapRef}}"configMapRef":'
    '{"name":{{template "s" .name}}}{{end}}{{end -}} }{{end}}]{{end}}'
    '{{with .volumeMounts}},"volumeMounts":[{{range $i, $m := .}}{{if $i}},{{end}}'
    '{"name":{{template "s" $m.name}},"mountPath":{{template "s" $m.mountPath}}}{{end}}]{{end}}'
    '{{with .securityContext}},"securityContext":{ {{- template "sc" . -}} }{{end}}}{{end}}'
)

_META_ID = (
    '"metadata":{"name":{{template "s" .metadata.name}},'
    '"namespace":{{template "s" .metadata.namespace}},"uid":{{template "s" .metadata.uid}},'
    '"creationTimestamp":{{template "s" .metadata.creationTimestamp}}'
)
_META_ANN = '{{with .metadata.annotations}},"annotations":{ {{- template "ann" . -}} }{{end}}'
_META = _META_ID + _META_ANN
#: Pod labels, always (``{}`` for none: the webhook check then knows they were kept), for
#: the webhook's objectSelector. They come right after the name, namespace, uid and time
#: (none of which can hold a quote), so the script's ``mask_labels`` finds them first on the
#: line and masks values that look like secrets (access key ids, tokens) as
#: :func:`irsa_nb.redact.mask_text` would (label values hold no quotes, commas or braces).
_LABELS = (
    ',"labels":{ {{- with .metadata.labels}}{{$s := ""}}{{range $k, $v := .}}{{$s}}'
    '{{printf "%q" $k}}:{{template "s" $v}}{{$s = ","}}{{end}}{{end -}} }'
)

# The list templates print one object a line (items only): the script joins the lines of one
# cluster-wide list, or of one list per namespace, into one ``kind: List`` document.
SA_TEMPLATE = (
    _DEFINES + '{{range .items}}{"apiVersion":"v1","kind":"ServiceAccount",' + _META + "}}\n{{end}}"
)

POD_TEMPLATE = (
    _DEFINES + "{{range .items}}"
    '{"apiVersion":"v1","kind":"Pod",'
    + _META_ID
    + _LABELS
    + _META_ANN
    + "{{with .metadata.ownerReferences}}"
    ',"ownerReferences":[{{range $j, $o := .}}{{if $j}},{{end}}{"apiVersion":'
    '{{template "s" $o.apiVersion}},"kind":{{template "s" $o.kind}},"name":{{template "s" $o.name}}'
    '{{if ne (printf "%v" $o.controller) "<nil>"}},"controller":{{$o.controller}}{{end}}}{{end}}]'
    "{{end}}},"
    '"spec":{"serviceAccountName":{{template "s" .spec.serviceAccountName}},'
    '"serviceAccount":{{template "s" .spec.serviceAccount}},'
    '"nodeName":{{template "s" .spec.nodeName}}'
    '{{if .spec.hostNetwork}},"hostNetwork":true{{end}}'
    '{{with .spec.nodeSelector}},"nodeSelector":{ {{- $s := ""}}{{range $k, $v := .}}{{$s}}'
    '{{printf "%q" $k}}:{{template "s" $v}}{{$s = ","}}{{end -}} }{{end}}'
    '{{with .spec.securityContext}},"securityContext":{ {{- template "sc" . -}} }{{end}}'
    '{{with .spec.initContainers}},"initContainers":[{{range $j, $c := .}}{{if $j}},{{end}}'
    '{{template "ctr" $c}}{{end}}]{{end}}'
    '{{with .spec.containers}},"containers":[{{range $j, $c := .}}{{if $j}},{{end}}'
    '{{template "ctr" $c}}{{end}}]{{end}}'
    '{{with .spec.volumes}},"volumes":[{{range $j, $v := .}}{{if $j}},{{end}}'
    '{"name":{{template "s" $v.name}}{{with $v.projected}},"projected":{"sources":['
    "{{range $k, $src := .sources}}{{if $k}},{{end}}{ {{- with $src.serviceAccountToken}}"
    '"serviceAccountToken":{"path":{{template "s" .path}}'
    '{{with .audience}},"audience":{{template "s" .}}{{end}}'
    '{{if ne (printf "%v" .expirationSeconds) "<nil>"}},"expirationSeconds":'
    "{{.expirationSeconds}}{{end}}}{{end -}} }{{end}}]}{{end}}}{{end}}]{{end}}}"
    '{{with .status}}{{with .phase}},"status":{"phase":{{template "s" .}}}{{end}}{{end}}}'
    "\n{{end}}"
)

#: Running pods with their service account, whether the spec shows IRSA (the aws-iam-token
#: volume or an IRSA variable) and their containers: the pods the exec section looks into
#: (the same choice as irsa_nb.live.exec.select_pods for ``--exec all``).
_IRSA_NAMES = '"AWS_ROLE_ARN" "AWS_WEB_IDENTITY_TOKEN_FILE"'
EXEC_PODS_TEMPLATE = (
    '{{range .items}}{{if eq (printf "%v" .status.phase) "Running"}}{{$i := 0}}'
    '{{range .spec.volumes}}{{if eq .name "aws-iam-token"}}{{$i = 1}}{{end}}{{end}}'
    "{{range .spec.containers}}{{range .env}}{{if eq .name " + _IRSA_NAMES + "}}{{$i = 1}}"
    "{{end}}{{end}}{{end}}"
    "{{range .spec.initContainers}}{{range .env}}{{if eq .name " + _IRSA_NAMES + "}}{{$i = 1}}"
    "{{end}}{{end}}{{end}}"
    r'{{.metadata.namespace}}{{"\t"}}{{.metadata.name}}{{"\t"}}'
    r'{{or .spec.serviceAccountName .spec.serviceAccount "default"}}{{"\t"}}{{$i}}{{"\t"}}'
    r'{{range .spec.containers}}{{.name}} {{end}}{{"\n"}}{{end}}{{end}}'
)

_SCRIPT_FILE = Path(__file__).with_name("collect.sh.in")
#: What a resource in the script's IRSA_ACTIONS default may hold (it sits in double quotes).
_RESOURCE = re.compile(r"[A-Za-z0-9:/*?._+=@-]+")


def collect_script(
    cluster: str | None = None,
    region: str | None = None,
    *,
    exec: bool = False,
    namespaces: Sequence[str] | None = None,
    cloudtrail_hours: int | None = None,
    actions: Sequence[str] = (),
) -> str:
    """The POSIX sh collector script, with ``cluster``/``region`` as its defaults.

    ``exec=True`` turns its in-pod evidence section on by default (``IRSA_EXEC=1`` does it
    for a script generated without): the fixed probe of :mod:`irsa_nb.live.exec_probe` runs
    with ``kubectl exec`` in every container of the running IRSA pods.

    ``namespaces`` (default for ``IRSA_NAMESPACES``) limits the service accounts and pods to
    those namespaces, as ``irsa-nb collect --namespace`` does; without it the script lists
    them cluster-wide and, when that is forbidden, one namespace at a time.

    ``cloudtrail_hours`` (default for ``IRSA_CLOUDTRAIL_HOURS``) and ``actions`` (default for
    ``IRSA_ACTIONS``, ``ACTION[=RESOURCE]`` each) write CloudTrail's web-identity calls and
    the policy simulation of every annotated role, as ``irsa-nb collect --cloudtrail
    --action`` does.

    Examples
    --------
    >>> script = collect_script("prod", "eu-west-1")
    >>> script.startswith("#!/bin/sh")
    True
    """
    from ..exec_facts import KEPT_ENV_VALUES
    from .aws import BULK_MIN_ROLES
    from .exec_probe import PROBE_SCRIPT

    assert "'" not in SA_TEMPLATE + POD_TEMPLATE + EXEC_PODS_TEMPLATE  # in single quotes
    for value, what in ((cluster, "cluster name"), (region, "region")):
        if value and (shlex.quote(value) != value or "@" in value):
            raise ValueError(f"invalid {what} {value!r}")
    for ns in namespaces or ():
        if not NAMESPACE_NAME.fullmatch(ns):
            raise ValueError(f"invalid namespace {ns!r} (a DNS label: a-z, 0-9 and -)")
    from .cloudtrail import check_hours
    from .sts_probe import parse_action

    hours = "" if cloudtrail_hours is None else str(check_hours(cloudtrail_hours))
    pairs = [parse_action(a) for a in actions]
    for action, resource in pairs:
        if not _RESOURCE.fullmatch(resource):
            raise ValueError(f"invalid resource {resource!r} for {action} in the collect script")
    return (
        _SCRIPT_FILE.read_text(encoding="utf-8")
        .replace("@CLOUDTRAIL_HOURS@", hours)
        .replace("@ACTIONS@", " ".join(f"{a}={r}" for a, r in pairs))
        .replace("@CLUSTER@", cluster or "")
        .replace("@REGION@", region or "")
        .replace("@BULK_MIN_ROLES@", str(BULK_MIN_ROLES))
        .replace("@SA_TEMPLATE@", SA_TEMPLATE)
        .replace("@POD_TEMPLATE@", POD_TEMPLATE)
        .replace("@EXEC_PODS_TEMPLATE@", EXEC_PODS_TEMPLATE)
        .replace("@EXEC@", "1" if exec else "0")
        .replace("@NAMESPACES@", " ".join(dict.fromkeys(namespaces or ())))
        .replace("@KEPT@", "|".join(KEPT_ENV_VALUES))
        .replace("@PROBE@", shlex.quote(PROBE_SCRIPT))
    )
