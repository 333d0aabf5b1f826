"""The bad-input corpus: bundles that are damaged, hostile or oddly shaped, and what each must
give. Every case ends in a one-line error (``usage``: BundleError from ``load_bundle``, exit 2
from the CLI) or in result rows whose statuses are exactly ``expect`` (never a wrong PASS).

A case builds its bundle under a temporary folder; ``target`` selects the rows looked at
(``run_checks`` keywords, turned into ``-n/-s/-p`` for the CLI).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .helpers import Member, demo_docs, demo_members, tar_archive, write_bundle, zip_archive

CHECKOUT = {"namespace": "shop", "service_account": "checkout"}
ROLE = "aws/iam/get-role/irsa-checkout.json"
CLUSTER = "aws/eks/describe-cluster.json"
PROVIDER = (
    "aws/iam/get-open-id-connect-provider/"
    "oidc.eks.us-west-2.amazonaws.com_id_5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C.json"
)
ROLE_ARN = "arn:aws:iam::111122223333:role/irsa-checkout"
ROLE_CHECKS = ("role_exists", "role_has_policies", "trust_policy_allows_service_account")
TRUST = "trust_policy_allows_service_account"
# Unicode that renders deceptively: right-to-left override, zero-width space, emoji.
RTL_NAMESPACE = "\u202eprod-\U0001f525"
ZW_NAME = "app\u200b"
LONG = "x" * 10_000


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], Path]
    target: dict[str, str] = field(default_factory=dict)
    usage: str = ""  # the one-line error names this
    expect: dict[str, str] = field(default_factory=dict)  # check id -> status of all its rows
    mentions: str = ""  # in the detail of the expected ERROR/FAIL rows
    never_pass: tuple[str, ...] = ()
    same_as_clean: bool = False  # the rows equal the unbroken demo's
    argv: tuple[str, ...] = ()  # extra CLI arguments


CASES: list[Case] = []


def case(**kw: Any) -> None:
    CASES.append(Case(**kw))


def _docs_with(changes: dict[str, Any]) -> Callable[[Path], Path]:
    """A directory bundle: the demo with ``{path: document or raw bytes}`` replaced."""

    def build(tmp: Path) -> Path:
        docs = demo_docs()
        docs.update(changes)
        return write_bundle(docs, tmp / "bundle")

    return build


def _mutated(mutate: Callable[[dict[str, Any]], None]) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        docs = demo_docs()
        mutate(docs)
        return write_bundle(docs, tmp / "bundle")

    return build


def _set(path: str, *keys: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(docs: dict[str, Any]) -> None:
        node = docs[path]
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return mutate


def _archive(kind: str, extra: list[Member], drop: str = "") -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        members = [m for m in demo_members("bundle/") if m.name != "bundle/" + drop]
        maker = tar_archive if kind == "tar" else zip_archive
        return maker(tmp / f"hostile.{'tar.gz' if kind == 'tar' else 'zip'}", members + extra)

    return build


def _demo_tar_bytes(tmp: Path) -> bytes:
    return tar_archive(tmp / "inner.tar.gz", demo_members()).read_bytes()


# --- archives and paths: refused with one line ----------------------------------------------

for kind in ("tar", "zip"):
    case(
        id=f"{kind}-dotdot",
        build=_archive(kind, [Member("bundle/../../escape.json", b"{}")]),
        usage="unsafe path",
    )
    case(
        id=f"{kind}-absolute",
        build=_archive(kind, [Member("/tmp/irsa-nb-hardening-absolute.json", b"{}")]),
        usage="unsafe path",
    )
    case(
        id=f"{kind}-symlink",
        build=_archive(
            kind,
            [Member("bundle/k8s/pods.json", kind="symlink", target="/etc/passwd")],
            drop="k8s/pods.json",
        ),
        usage="link",
    )
case(
    id="zip-backslash-dotdot",
    build=_archive("zip", [Member("bundle\\..\\..\\escape.json", b"{}")]),
    usage="unsafe path",
)
case(
    id="tar-hardlink",
    build=_archive(
        "tar",
        [Member("bundle/k8s/pods.json", kind="hardlink", target="/etc/passwd")],
        drop="k8s/pods.json",
    ),
    usage="link",
)
case(
    id="tar-dir-symlink",
    build=_archive("tar", [Member("bundle/aws/iam/x", kind="symlink", target="/")]),
    usage="link",
)
case(
    id="nested-archive",  # a bundle inside a bundle is not opened
    build=lambda tmp: zip_archive(
        tmp / "outer.zip", [Member("bundle.tar.gz", _demo_tar_bytes(tmp))]
    ),
    usage="holds no aws/ or k8s/ files",
)
case(
    id="damaged-archive",
    build=lambda tmp: _write(tmp / "cut.tar.gz", _demo_tar_bytes(tmp)[:3000]),
    usage="damaged archive",
)
case(
    id="not-a-bundle",
    build=lambda tmp: _write(tmp / "bundle.bin", bytes(range(256)) * 64),
    usage="is not a directory, .tar.gz or .zip bundle",
)
case(
    id="empty-directory",
    build=lambda tmp: _mkdir(tmp / "empty"),
    usage="holds no aws/ or k8s/ files",
)
case(
    id="missing-bundle",
    build=lambda tmp: tmp / "no-such-bundle",
    usage="bundle not found",
)
case(  # reading a device or a FIFO never ends
    id="device-as-bundle",
    build=lambda tmp: Path("/dev/zero"),
    usage="is not a regular file or directory",
)
case(
    id="fifo-as-bundle",
    build=lambda tmp: _fifo(tmp / "bundle.fifo"),
    usage="is not a regular file or directory",
)


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _finder(kind: str) -> Callable[[Path], Path]:
    """An archive as macOS makes it: AppleDouble ``._*`` forks (under ``__MACOSX/`` in Finder's
    zip, next to the files in bsdtar's tar) and a .DS_Store around ``customer-bundle/``."""
    fork = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "

    def build(tmp: Path) -> Path:
        members = demo_members("customer-bundle/")
        extra = [Member("customer-bundle/.DS_Store", b"\x00\x00\x00\x01Bud1")]
        for m in members:
            parent, _, base = m.name.rpartition("/")
            name = f"{parent}/._{base}"
            extra.append(Member(f"__MACOSX/{name}" if kind == "zip" else name, fork))
        maker = tar_archive if kind == "tar" else zip_archive
        out = tmp / f"customer-bundle.{'tar.gz' if kind == 'tar' else 'zip'}"
        return maker(out, [*members, *extra])

    return build


for kind in ("tar", "zip"):
    case(id=f"{kind}-macos-metadata", build=_finder(kind), target=CHECKOUT, same_as_clean=True)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


# --- damaged documents: ERROR rows ------------------------------------------------------------


def _symlinked_pods(tmp: Path) -> Path:
    root = write_bundle(demo_docs(), tmp / "bundle")
    secret = tmp / "outside-secret.json"
    secret.write_text(json.dumps({"items": [], "leak": "OUTSIDE-SECRET-CONTENT"}))
    (root / "k8s/pods.json").unlink()
    (root / "k8s/pods.json").symlink_to(secret)
    return root


case(
    id="document-symlink-not-followed",
    build=_symlinked_pods,
    expect={"pod_uses_service_account": "SKIP"},
    mentions="k8s/pods.json",
)
case(
    id="archive-as-document",
    build=lambda tmp: write_bundle(
        {**demo_docs(), "k8s/pods.json": _demo_tar_bytes(tmp)}, tmp / "bundle"
    ),
    expect={"pod_uses_service_account": "ERROR"},
    mentions="not UTF-8",
)
case(
    id="truncated-json",
    build=lambda tmp: write_bundle(
        {**demo_docs(), "k8s/pods.json": json.dumps(demo_docs()["k8s/pods.json"]).encode()[:5000]},
        tmp / "bundle",
    ),
    expect={"pod_uses_service_account": "ERROR"},
    mentions="not valid JSON",
)
case(
    id="deeply-nested-json",
    build=_docs_with({"k8s/pods.json": b"[" * 200_000 + b"]" * 200_000}),
    expect={"pod_uses_service_account": "ERROR"},
    mentions="k8s/pods.json",
)
case(
    id="binary-garbage",
    build=_docs_with({ROLE: b"\xff\xfe\x00\x01garbage\x80"}),
    target=CHECKOUT,
    expect={"role_exists": "ERROR", "role_has_policies": "SKIP", TRUST: "SKIP"},
    mentions="not UTF-8",
)
case(
    id="empty-file",
    build=_docs_with({CLUSTER: b""}),
    target=CHECKOUT,
    expect={"oidc_provider_exists": "ERROR", TRUST: "ERROR"},
    mentions="not valid JSON",
)
case(
    id="json-with-bom",
    build=_docs_with({CLUSTER: b"\xef\xbb\xbf" + json.dumps(demo_docs()[CLUSTER]).encode()}),
    target=CHECKOUT,
    same_as_clean=True,
)


def _yaml_bundle(text: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        docs = demo_docs()
        del docs["k8s/serviceaccounts.json"]
        root = write_bundle(docs, tmp / "bundle")
        (root / "k8s/serviceaccounts.yaml").write_text(text)
        return root

    return build


_BOMB = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
case(
    id="yaml-alias-bomb",
    build=_yaml_bundle(_BOMB + "items: *i\n"),
    target=CHECKOUT,
    expect={"service_account_exists": "ERROR"},
    mentions="aliases are not allowed",
)
case(
    id="yaml-truncated",
    build=_yaml_bundle("apiVersion: v1\nitems:\n- metadata: {name: checkout, namespace: [shop\n"),
    target=CHECKOUT,
    expect={"service_account_exists": "ERROR"},
    mentions="not valid YAML",
)
case(
    id="yaml-python-tag",
    build=_yaml_bundle(
        "items: !!python/object/apply:os.system ['touch /tmp/irsa-nb-hardening-pwned']\n"
    ),
    target=CHECKOUT,
    expect={"service_account_exists": "ERROR"},
    mentions="not valid YAML",
)
_HUGE = "9" * 5000  # beyond Python's int digit limit (int() raises a plain ValueError)
case(
    id="json-huge-integer",
    build=lambda tmp: _raw_replace(tmp, ROLE, '"MaxSessionDuration": 3600', f'"X": {_HUGE}'),
    target=CHECKOUT,
    expect={"role_exists": "ERROR", "role_has_policies": "SKIP", TRUST: "SKIP"},
    mentions="holds a number too large to read",
)
case(
    id="yaml-huge-integer",
    build=_yaml_bundle(f"apiVersion: v1\nkind: List\nitems: []\nresourceVersion: {_HUGE}\n"),
    target=CHECKOUT,
    expect={"service_account_exists": "ERROR"},
    mentions="holds a number too large to read",
)
case(
    id="version-huge-integer",  # only that file is unreadable; the cluster's version is used
    build=_docs_with({"k8s/version.json": f'{{"serverVersion": {{"minor": {_HUGE}}}}}'.encode()}),
    target=CHECKOUT,
    same_as_clean=True,
)


def _raw_replace(tmp: Path, path: str, old: str, new: str) -> Path:
    root = write_bundle(demo_docs(), tmp / "bundle")
    text = (root / path).read_text()
    assert old in text, f"{path} has no {old!r}"
    (root / path).write_text(text.replace(old, new))
    return root


case(
    id="huge-error-text",
    build=lambda tmp: _error_txt(tmp, "<html>" + "502 Bad Gateway " * 70_000 + "</html>"),
    target=CHECKOUT,
    expect={"role_exists": "ERROR", "role_has_policies": "SKIP", TRUST: "SKIP"},
    mentions="more characters",
)


def _error_txt(tmp: Path, text: str) -> Path:
    docs = demo_docs()
    del docs[ROLE]
    root = write_bundle(docs, tmp / "bundle")
    (root / ROLE.replace(".json", ".error.txt")).write_text(text)
    return root


# --- wrong shapes, null everywhere, numbers as names ------------------------------------------

case(
    id="null-everywhere",
    build=lambda tmp: write_bundle({k: None for k in demo_docs()}, tmp / "bundle"),
    expect={
        "pod_uses_service_account": "ERROR",
        "service_account_exists": "ERROR",
        "oidc_provider_exists": "ERROR",
        "webhook_configured": "ERROR",
    },
    mentions="holds null",
    never_pass=("*",),
)
for label, doc in {
    "list": [],
    "string": "describe-cluster",
    "cluster-null": {"cluster": None},
    "arn-number": {"cluster": {"name": "shop-prod", "arn": 42}},
    "arn-malformed": {"cluster": {"name": "shop-prod", "arn": "arn:aws:eks:::cluster/shop-prod"}},
    "issuer-http": None,  # filled below
}.items():
    if label == "issuer-http":
        doc = demo_docs()[CLUSTER]
        doc["cluster"]["identity"]["oidc"]["issuer"] = "http://oidc.example.com/id/X"
    case(
        id=f"describe-cluster-{label}",
        build=_docs_with({CLUSTER: doc}),
        target=CHECKOUT,
        expect={"oidc_provider_exists": "ERROR", TRUST: "ERROR"},
        mentions="describe-cluster",
        never_pass=("oidc_provider_exists", TRUST, "provider_audience_matches"),
    )

for label, doc in {
    "list": [ROLE_ARN],
    "role-string": {"Role": ROLE_ARN},
    "arn-null": {"Role": {"Arn": None, "AssumeRolePolicyDocument": {}}},
    "arn-malformed": {"Role": {"Arn": "irsa-checkout", "AssumeRolePolicyDocument": {}}},
    "arn-not-a-role": {"Role": {"Arn": "arn:aws:iam::111122223333:user/irsa-checkout"}},
    "null": None,
}.items():
    case(
        id=f"get-role-{label}",
        build=_docs_with({ROLE: doc}),
        target=CHECKOUT,
        expect={"role_exists": "ERROR", "role_has_policies": "SKIP", TRUST: "SKIP"},
        mentions="get-role",
        never_pass=ROLE_CHECKS,
    )

case(
    id="policy-lists-are-strings",
    build=_mutated(
        lambda d: (
            d["aws/iam/list-attached-role-policies/irsa-checkout.json"].update(
                AttachedPolicies="arn:aws:iam::aws:policy/AdministratorAccess"
            ),
            d["aws/iam/list-role-policies/irsa-checkout.json"].update(PolicyNames=7),
        )
    ),
    target=CHECKOUT,
    expect={"role_has_policies": "ERROR"},
    mentions="list-attached-role-policies",
)
case(
    id="provider-list-is-a-string",
    build=_mutated(
        _set(
            "aws/iam/list-open-id-connect-providers.json",
            "OpenIDConnectProviderList",
            value="arn:aws:iam::111122223333:oidc-provider/x",
        )
    ),
    target=CHECKOUT,
    expect={"oidc_provider_exists": "ERROR", "provider_audience_matches": "ERROR"},
    mentions="list-open-id-connect-providers",
)
case(
    id="thumbprints-are-a-number",
    build=_mutated(_set(PROVIDER, "ThumbprintList", value=12345)),
    target=CHECKOUT,
    expect={"provider_thumbprint_matches": "ERROR", "provider_audience_matches": "ERROR"},
    mentions="get-open-id-connect-provider",
)
case(
    id="service-account-items-are-a-string",
    build=_mutated(_set("k8s/serviceaccounts.json", "items", value="checkout")),
    target=CHECKOUT,
    expect={"service_account_exists": "ERROR"},
    mentions="k8s/serviceaccounts.json",
)
case(
    id="webhook-metadata-is-a-string",
    build=_mutated(
        _set("k8s/mutatingwebhookconfigurations.json", "items", 0, "metadata", value="x")
    ),
    target=CHECKOUT,
    expect={"webhook_configured": "ERROR"},
    mentions="MutatingWebhookConfiguration",
)
case(
    id="webhook-rules-are-numbers",
    build=_mutated(
        lambda d: [
            h.update(rules=[{"operations": 1, "resources": 2, "apiGroups": 3}])
            for h in d["k8s/mutatingwebhookconfigurations.json"]["items"][0]["webhooks"]
        ]
    ),
    target=CHECKOUT,
    expect={"webhook_configured": "FAIL"},
    mentions="no rule for CREATE of pods",
)
case(
    id="pem-garbage",
    build=_docs_with(
        {
            "tls/issuer-chain.pem": "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n"
            "-----END CERTIFICATE-----\n"
        }
    ),
    target=CHECKOUT,
    expect={"provider_thumbprint_matches": "ERROR"},
    mentions="not a base64 DER certificate",
)


def _numbers_as_names(docs: dict[str, Any]) -> None:
    sas = docs["k8s/serviceaccounts.json"]["items"]
    sas.append(
        {
            "kind": "ServiceAccount",
            "metadata": {
                "name": 12345,
                "namespace": 678,
                "annotations": {"eks.amazonaws.com/role-arn": ROLE_ARN, 42: None},
            },
        }
    )


case(
    id="numbers-as-names",
    build=_mutated(_numbers_as_names),
    target={"namespace": "678", "service_account": "12345"},
    expect={"service_account_exists": "PASS", "role_exists": "PASS", TRUST: "FAIL"},
    mentions="system:serviceaccount:678:12345",
)

# Pods of the wrong shape: the pod checks say which field, instead of judging a spec they
# cannot read (no "every container is skipped", no "created before the annotation").
CART_POD = {"namespace": "shop", "pod": "cart-5f6d8b7c9-q4w8e"}
POD_CHECKS = (
    "pod_uses_service_account",
    "pod_has_irsa_env",
    "pod_can_read_token",
    "pod_matches_annotation",
    "containers_skipped",
)


def _cart(mutate: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(docs: dict[str, Any]) -> None:
        mutate(
            next(
                p
                for p in docs["k8s/pods.json"]["items"]
                if p["metadata"]["name"] == CART_POD["pod"]
            )
        )

    return apply


for label, (mutate, field_) in {
    "containers-object": (lambda p: p["spec"].update(containers={"app": {}}), "spec.containers"),
    "spec-null": (lambda p: p.update(spec=None), "spec is null"),
    "service-account-list": (
        lambda p: p["spec"].update(serviceAccountName=["cart"]),
        "spec.serviceAccountName",
    ),
    "env-string": (lambda p: p["spec"]["containers"][0].update(env="AWS_ROLE_ARN=x"), "env"),
}.items():
    case(
        id=f"pod-{label}",
        build=_mutated(_cart(mutate)),
        target=CART_POD,
        expect=dict.fromkeys(POD_CHECKS, "ERROR"),
        mentions=field_,
        never_pass=POD_CHECKS,
    )

# --- trust policies: URL-encoded, odd but valid, and broken ---------------------------------


def _trust(value: Callable[[dict[str, Any]], Any]) -> Callable[[Path], Path]:
    def mutate(docs: dict[str, Any]) -> None:
        role = docs[ROLE]["Role"]
        role["AssumeRolePolicyDocument"] = value(role["AssumeRolePolicyDocument"])

    return _mutated(mutate)


def _stmt(p: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**p, "Statement": [{**p["Statement"][0], **changes}]}


for label, value in {
    "url-encoded": lambda p: urllib.parse.quote(json.dumps(p)),
    "json-string": lambda p: json.dumps(p),
    "single-statement-object": lambda p: {**p, "Statement": p["Statement"][0]},
    "action-list": lambda p: _stmt(p, Action=["sts:AssumeRoleWithWebIdentity"]),
}.items():
    case(id=f"trust-{label}", build=_trust(value), target=CHECKOUT, same_as_clean=True)

for label, (value, reason) in {
    "url-encoded-truncated": (lambda p: urllib.parse.quote(json.dumps(p))[:-25], "not valid JSON"),
    "statement-string": (lambda p: {**p, "Statement": "Allow"}, "Statement must be"),
    "statement-null": (lambda p: {**p, "Statement": None}, "Statement must be"),
    "statement-list-of-strings": (lambda p: {**p, "Statement": ["x"]}, "must be an object"),
    "action-number": (lambda p: _stmt(p, Action=42), "Action must be"),
    "unknown-operator": (
        lambda p: _stmt(
            p, Condition={"StringEqualsMaybe": p["Statement"][0]["Condition"]["StringEquals"]}
        ),
        "unknown condition operator",
    ),
    "extra-unknown-operator": (
        lambda p: _stmt(p, Condition={**p["Statement"][0]["Condition"], "Foo": {"a": "b"}}),
        "unknown condition operator",
    ),
    "condition-list": (lambda p: _stmt(p, Condition=[p["Statement"][0]["Condition"]]), "Condition"),
    "effect-lowercase": (lambda p: _stmt(p, Effect="allow"), "Effect"),
    "document-list": (lambda p: [p], "must be a JSON object"),
    "document-number": (lambda p: 7, "must be a JSON object"),
    "document-empty": (lambda p: "", "empty"),
}.items():
    case(
        id=f"trust-{label}",
        build=_trust(value),
        target=CHECKOUT,
        expect={TRUST: "ERROR", "trust_policy_not_overbroad": "ERROR"},
        mentions=reason,
        never_pass=(TRUST, "trust_policy_not_overbroad"),
    )

# --- malformed role ARNs in the annotation ----------------------------------------------------

for label, arn in {
    "empty-name": "arn:aws:iam::111122223333:role/",
    "short-account": "arn:aws:iam::11112222333:role/irsa-checkout",
    "leading-space": " " + ROLE_ARN,
    "trailing-newline": ROLE_ARN + "\n",
    "user-not-role": "arn:aws:iam::111122223333:user/irsa-checkout",
    "s3-bucket": "arn:aws:s3:::irsa-checkout",
    "upper-case": ROLE_ARN.upper(),
    "not-an-arn": "irsa-checkout",
    "ten-thousand-chars": "arn:aws:iam::111122223333:role/" + LONG + "!",
    "unicode": "arn:aws:iam::111122223333:role/irsa-check\u200bout",
}.items():
    case(
        id=f"annotation-arn-{label}",
        build=_mutated(
            lambda d, arn=arn: next(
                s
                for s in d["k8s/serviceaccounts.json"]["items"]
                if s["metadata"]["name"] == "checkout"
            )["metadata"]["annotations"].update({"eks.amazonaws.com/role-arn": arn})
        ),
        target=CHECKOUT,
        expect={
            "service_account_role_annotation": "FAIL",
            "role_exists": "SKIP",
            "role_has_policies": "SKIP",
            TRUST: "SKIP",
        },
        mentions="",
        never_pass=ROLE_CHECKS,
    )

# --- unicode and very long names ---------------------------------------------------------------


def _unicode_names(docs: dict[str, Any]) -> None:
    sa = {
        "kind": "ServiceAccount",
        "metadata": {
            "name": ZW_NAME,
            "namespace": RTL_NAMESPACE,
            "annotations": {
                "eks.amazonaws.com/role-arn": ROLE_ARN,
                "eks.amazonaws.com/audience": "sts.amazonaws.com",
                "example.com/notes": LONG,
            },
        },
    }
    docs["k8s/serviceaccounts.json"]["items"].append(sa)
    pods = docs["k8s/pods.json"]["items"]
    checkout = next(p for p in pods if p["metadata"]["name"].startswith("checkout"))
    pod = json.loads(json.dumps(checkout))
    pod["metadata"].update(name="\U0001f525-pod-" + "y" * 200, namespace=RTL_NAMESPACE)
    pod["metadata"]["annotations"] = {"eks.amazonaws.com/skip-containers": LONG}
    pod["spec"]["serviceAccountName"] = pod["spec"]["serviceAccount"] = ZW_NAME
    pods.append(pod)


case(
    id="unicode-and-long-names",
    build=_mutated(_unicode_names),
    target={"namespace": RTL_NAMESPACE, "service_account": ZW_NAME},
    expect={
        "service_account_exists": "PASS",
        "service_account_role_annotation": "PASS",
        "role_exists": "PASS",
        TRUST: "FAIL",  # the role trusts shop:checkout, not this service account
        "pod_uses_service_account": "PASS",
    },
    mentions=f"system:serviceaccount:{RTL_NAMESPACE}:{ZW_NAME}",
)

# --- bad command lines: one line, exit 2 --------------------------------------------------------

case(
    id="cli-missing-pod",
    build=lambda tmp: write_bundle(demo_docs(), tmp / "bundle"),
    target={"namespace": "shop", "pod": "no-such-pod"},
    usage="pod no-such-pod not found",
)
case(
    id="cli-bad-sdk",
    build=lambda tmp: write_bundle(demo_docs(), tmp / "bundle"),
    argv=("--sdk", "boto3"),
    usage="--sdk expects NAME=VERSION",
)


CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate corpus case ids"
