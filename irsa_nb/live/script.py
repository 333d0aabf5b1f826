"""``irsa-nb collect-script``: a POSIX sh script that writes the same bundle with aws/kubectl.

For customers who will not install Python: the script needs ``aws`` and ``kubectl`` (and
uses ``openssl`` for the issuer's certificate chain when present). Every call is read-only;
a failed command leaves its stderr in ``<path>.error.txt``. Kubernetes objects are reduced
by kubectl go-templates to the fields the checks read (as :func:`irsa_nb.k8s.slim_pod` does),
keeping env values only for the non-secret AWS SDK variables (others become ``***``).
"""

from __future__ import annotations

import shlex

from ..k8s import IRSA_PREFIX

#: Env vars whose values the script keeps (everything else that has a value becomes ***).
KEPT_ENV = (
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_PROFILE",
    "AWS_SDK_LOAD_CONFIG",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_EC2_METADATA_DISABLED",
)

_N = len(IRSA_PREFIX)
_KEPT = " ".join(f'"{n}"' for n in KEPT_ENV)

# Shared go-template definitions. "s": a JSON string (nil -> ""); "ann": eks.amazonaws.com/*
# annotations; "sc": the securityContext fields the checks read; "ctr": one container.
_DEFINES = (
    '{{define "s"}}{{if eq (printf "%v" .) "<nil>"}}""{{else}}{{printf "%q" .}}{{end}}{{end}}'
    '{{define "ann"}}{{$s := ""}}{{range $k, $v := .}}{{if ge (len $k) ' + str(_N) + "}}"
    '{{if eq (slice $k 0 ' + str(_N) + ') "' + IRSA_PREFIX + '"}}'
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

_LIST_OPEN = '{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n'
_META = (
    '"metadata":{"name":{{template "s" .metadata.name}},'
    '"namespace":{{template "s" .metadata.namespace}},"uid":{{template "s" .metadata.uid}},'
    '"creationTimestamp":{{template "s" .metadata.creationTimestamp}}'
    '{{with .metadata.annotations}},"annotations":{ {{- template "ann" . -}} }{{end}}'
)

SA_TEMPLATE = (
    _DEFINES + _LIST_OPEN + '{{range $i, $o := .items}}{{if $i}},\n{{end}}'
    '{"apiVersion":"v1","kind":"ServiceAccount",' + _META + "}}{{end}}\n]}\n"
)

POD_TEMPLATE = (
    _DEFINES + _LIST_OPEN + '{{range $i, $p := .items}}{{if $i}},\n{{end}}'
    '{"apiVersion":"v1","kind":"Pod",' + _META + "{{with .metadata.ownerReferences}}"
    ',"ownerReferences":[{{range $j, $o := .}}{{if $j}},{{end}}{"apiVersion":'
    '{{template "s" $o.apiVersion}},"kind":{{template "s" $o.kind}},"name":{{template "s" $o.name}}'
    '{{if ne (printf "%v" $o.controller) "<nil>"}},"controller":{{$o.controller}}{{end}}}{{end}}]'
    "{{end}}},"
    '"spec":{"serviceAccountName":{{template "s" .spec.serviceAccountName}},'
    '"serviceAccount":{{template "s" .spec.serviceAccount}},"nodeName":{{template "s" .spec.nodeName}}'
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
    "{{end}}\n]}\n"
)

_SCRIPT = r"""#!/bin/sh
# irsa-nb evidence bundle collector: writes the bundle `irsa-nb check --bundle` reads.
# Needs aws (AWS CLI v1 or v2) and kubectl; uses openssl when present. Read-only.
#
#   sh irsa-collect.sh [CLUSTER] [REGION]
#
# Environment: the usual AWS_PROFILE / AWS_REGION / AWS_ENDPOINT_URL ... and KUBECONFIG;
# IRSA_CONTEXT=NAME picks the kubeconfig context (default: the one whose server is the
# cluster's endpoint, else the current one); IRSA_OUT=DIR names the output (default
# ./irsa-bundle-CLUSTER, archived as DIR.tar.gz).
set -u
CLUSTER="${1:-@CLUSTER@}"
REGION="${2:-@REGION@}"
if [ -z "$CLUSTER" ]; then
    echo "usage: sh $0 CLUSTER [REGION]" >&2
    exit 2
fi
for tool in aws kubectl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$tool is required" >&2; exit 2; }
done
export AWS_PAGER=""
OUT="${IRSA_OUT:-irsa-bundle-$CLUSTER}"
FAILED=0

awsr() {
    if [ -n "$REGION" ]; then aws --region "$REGION" --output json "$@"
    else aws --output json "$@"; fi
}
kc() {
    if [ -n "$CTX" ]; then kubectl --context "$CTX" "$@"; else kubectl "$@"; fi
}
# run FILE COMMAND...: stdout to FILE, or stderr to FILE-without-extension.error.txt
run() {
    rel="$1"; file="$OUT/$1"; shift
    err="${file%.*}.error.txt"
    mkdir -p "$(dirname "$file")"
    if "$@" >"$file.part" 2>"$err.part"; then
        mv "$file.part" "$file"; rm -f "$err.part"
    else
        rm -f "$file.part"; mv "$err.part" "$err"
        FAILED=$((FAILED + 1))
        echo "failed: $rel (see ${err#"$OUT"/})" >&2
    fi
}
field() {  # field NAME FILE: the first "NAME": "value" in an AWS CLI JSON file
    sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$2" 2>/dev/null | head -n 1
}

rm -rf "$OUT"
mkdir -p "$OUT"
echo "collecting cluster $CLUSTER into $OUT" >&2

run aws/eks/describe-cluster.json awsr eks describe-cluster --name "$CLUSTER"
run aws/eks/list-pod-identity-associations.json awsr eks list-pod-identity-associations --cluster-name "$CLUSTER"
run aws/iam/list-open-id-connect-providers.json awsr iam list-open-id-connect-providers
ISSUER=$(field issuer "$OUT/aws/eks/describe-cluster.json")
ENDPOINT=$(field endpoint "$OUT/aws/eks/describe-cluster.json")
ISSUER_HOST_PATH=$(printf '%s' "$ISSUER" | sed -e 's|^https://||' -e 's|/*$||')

if [ -n "$ISSUER_HOST_PATH" ]; then
    for arn in $(sed -n 's/.*"Arn": *"\([^"]*\)".*/\1/p' "$OUT/aws/iam/list-open-id-connect-providers.json" 2>/dev/null); do
        res="${arn#*:oidc-provider/}"
        if [ "$res" = "$ISSUER_HOST_PATH" ]; then
            name=$(printf '%s' "$res" | tr '/' '_')
            run "aws/iam/get-open-id-connect-provider/$name.json" \
                awsr iam get-open-id-connect-provider --open-id-connect-provider-arn "$arn"
        fi
    done
fi

# kubeconfig context: IRSA_CONTEXT, else the one whose server is the cluster endpoint
CTX="${IRSA_CONTEXT:-}"
if [ -z "$CTX" ] && [ -n "$ENDPOINT" ]; then
    want=$(printf '%s' "$ENDPOINT" | sed 's|/*$||' | tr 'A-Z' 'a-z')
    kcluster=$(kubectl config view -o go-template='{{range .clusters}}{{.name}}{{"\t"}}{{.cluster.server}}{{"\n"}}{{end}}' 2>/dev/null \
        | awk -F '\t' -v w="$want" '{ s = tolower($2); sub(/\/+$/, "", s) } s == w { print $1; exit }')
    if [ -n "$kcluster" ]; then
        CTX=$(kubectl config view -o go-template='{{range .contexts}}{{.name}}{{"\t"}}{{.context.cluster}}{{"\n"}}{{end}}' 2>/dev/null \
            | awk -F '\t' -v c="$kcluster" '$2 == c { print $1; exit }')
    fi
fi
[ -n "$CTX" ] && echo "kubeconfig context: $CTX" >&2

run k8s/version.json kc version -o json
run k8s/serviceaccounts.json kc get serviceaccounts --all-namespaces --chunk-size=500 -o go-template='@SA_TEMPLATE@'
run k8s/pods.json kc get pods --all-namespaces --chunk-size=500 -o go-template='@POD_TEMPLATE@'
run k8s/mutatingwebhookconfigurations.json kc get mutatingwebhookconfigurations -o json

# One get-role / list-attached-role-policies / list-role-policies per distinct annotated role
for role in $(sed -n 's/.*"eks\.amazonaws\.com\/role-arn":"\([^"]*\)".*/\1/p' "$OUT/k8s/serviceaccounts.json" 2>/dev/null \
        | grep -E '^arn:aws[a-z0-9-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$' | sed 's|.*/||' | sort -u); do
    run "aws/iam/get-role/$role.json" awsr iam get-role --role-name "$role"
    run "aws/iam/list-attached-role-policies/$role.json" awsr iam list-attached-role-policies --role-name "$role"
    run "aws/iam/list-role-policies/$role.json" awsr iam list-role-policies --role-name "$role"
done

# The issuer's TLS chain, for the thumbprint check (openssl s_client -showcerts)
if [ -n "$ISSUER_HOST_PATH" ] && command -v openssl >/dev/null 2>&1; then
    hostport="${ISSUER_HOST_PATH%%/*}"
    host="${hostport%%:*}"
    case "$hostport" in *:*) ;; *) hostport="$hostport:443" ;; esac
    run tls/issuer-chain.pem sh -c 'openssl s_client -connect "$1" -servername "$2" -showcerts </dev/null' _ "$hostport" "$host"
fi

tar -czf "$OUT.tar.gz" -C "$(dirname "$OUT")" "$(basename "$OUT")"
echo "wrote $OUT.tar.gz ($FAILED failed commands)" >&2
"""


def collect_script(cluster: str | None = None, region: str | None = None) -> str:
    """The POSIX sh collector script, with ``cluster``/``region`` as its defaults.

    Examples
    --------
    >>> script = collect_script("prod", "eu-west-1")
    >>> script.startswith("#!/bin/sh")
    True
    """
    assert "'" not in SA_TEMPLATE + POD_TEMPLATE  # they sit in single quotes
    for value, what in ((cluster, "cluster name"), (region, "region")):
        if value and (shlex.quote(value) != value or "@" in value):
            raise ValueError(f"invalid {what} {value!r}")
    return (
        _SCRIPT.replace("@CLUSTER@", cluster or "")
        .replace("@REGION@", region or "")
        .replace("@SA_TEMPLATE@", SA_TEMPLATE)
        .replace("@POD_TEMPLATE@", POD_TEMPLATE)
    )
