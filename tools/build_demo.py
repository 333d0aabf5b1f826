"""Regenerate the demo bundles in irsa_nb/data/demo/ (run: python tools/build_demo.py).

Each bundle holds what the real aws/kubectl/openssl commands print for a made-up
cluster. ``demo`` has one healthy service account and one per failure mode of the
AWS article; the small ones cover the cluster-wide cases.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import zlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from irsa_nb.bundle import provider_path, role_path, write_documents
from irsa_nb.inventory import sha1_thumbprint

ROOT = Path(__file__).resolve().parents[1] / "irsa_nb" / "data" / "demo"
ACCOUNT = "111122223333"
CREATED = "2026-11-02T09:14:07Z"
TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"


# --- AWS documents --------------------------------------------------------------------


def describe_cluster(name, region, issuer_id, version, partition="aws", private=False):
    suffix = ".amazonaws.com.cn" if partition == "aws-cn" else ".amazonaws.com"
    return {
        "cluster": {
            "name": name,
            "arn": f"arn:{partition}:eks:{region}:{ACCOUNT}:cluster/{name}",
            "createdAt": "2026-03-18T10:21:44.512000+00:00",
            "version": version,
            "endpoint": f"https://{issuer_id}.gr7.{region}.eks{suffix}",
            "roleArn": f"arn:{partition}:iam::{ACCOUNT}:role/{name}-cluster-role",
            "resourcesVpcConfig": {
                "subnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
                "securityGroupIds": ["sg-0123456789abcdef0"],
                "clusterSecurityGroupId": "sg-0fedcba9876543210",
                "vpcId": "vpc-0abc1234def567890",
                "endpointPublicAccess": not private,
                "endpointPrivateAccess": True,
                "publicAccessCidrs": ["0.0.0.0/0"] if not private else [],
            },
            "kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4"},
            "identity": {"oidc": {"issuer": issuer_url(region, issuer_id, partition)}},
            "status": "ACTIVE",
            "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},
            "platformVersion": "eks.12" if version >= "1.2" else "eks.9",
            "tags": {"team": "platform"},
        }
    }


def issuer_url(region, issuer_id, partition="aws"):
    suffix = ".amazonaws.com.cn" if partition == "aws-cn" else ".amazonaws.com"
    return f"https://oidc.eks.{region}{suffix}/id/{issuer_id}"


def provider_arn(region, issuer_id, partition="aws"):
    host = issuer_url(region, issuer_id, partition).removeprefix("https://")
    return f"arn:{partition}:iam::{ACCOUNT}:oidc-provider/{host}"


def provider_doc(region, issuer_id, thumbprint, partition="aws", client_ids=("sts.amazonaws.com",)):
    return {
        "Url": issuer_url(region, issuer_id, partition).removeprefix("https://"),
        "ClientIDList": list(client_ids),
        "ThumbprintList": [thumbprint],
        "CreateDate": "2026-03-18T10:40:02.118000+00:00",
        "Tags": [],
    }


def trust(region, issuer_id, sub, partition="aws", aud=True):
    host = issuer_url(region, issuer_id, partition).removeprefix("https://")
    cond = {f"{host}:sub": sub}
    if aud:
        cond[f"{host}:aud"] = "sts.amazonaws.com"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn(region, issuer_id, partition)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": cond},
            }
        ],
    }


def add_role(docs, name, trust_doc, attached=(), inline=(), partition="aws"):
    docs[role_path("get-role", name)] = {
        "Role": {
            "Path": "/",
            "RoleName": name,
            "RoleId": "AROA" + (name.upper().replace("-", "") + "X" * 17)[:17],
            "Arn": f"arn:{partition}:iam::{ACCOUNT}:role/{name}",
            "CreateDate": "2026-04-01T08:00:00+00:00",
            "AssumeRolePolicyDocument": trust_doc,
            "MaxSessionDuration": 3600,
            "RoleLastUsed": {},
        }
    }
    docs[role_path("list-attached-role-policies", name)] = {
        "AttachedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached]
    }
    docs[role_path("list-role-policies", name)] = {"PolicyNames": list(inline)}


def missing_role(docs, name):
    docs[role_path("get-role", name)] = _error(
        f"An error occurred (NoSuchEntity) when calling the GetRole operation: "
        f"The role with name {name} cannot be found."
    )


def _num(text):
    return zlib.crc32(text.encode())


def _error(message):
    from irsa_nb.bundle import CallFailed

    return CallFailed(message)


# --- Kubernetes documents -----------------------------------------------------------


def sa(ns, name, role=None, partition="aws", extra=None):
    annotations = dict(extra or {})
    if role:
        annotations["eks.amazonaws.com/role-arn"] = (
            role
            if role.startswith("arn:") or " " in role
            else f"arn:{partition}:iam::{ACCOUNT}:role/{role}"
        )
    meta = {
        "name": name,
        "namespace": ns,
        "uid": f"5a1e{_num(ns + name) % 10**8:08d}-0c1d-4e2f-8a9b-{_num(name) % 10**12:012d}",
        "resourceVersion": "48213",
        "creationTimestamp": "2026-10-20T12:00:00Z",
    }
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def pod(
    ns,
    name,
    sa_name,
    *,
    role=None,
    region="us-west-2",
    partition="aws",
    owner=None,
    containers=("app",),
    env=None,
    run_as_user=None,
    fs_group=None,
    default_region=True,
    image="public.ecr.aws/demo/app:1.4.2",
    node="ip-10-0-12-34.us-west-2.compute.internal",
):
    """An EKS pod; with ``role`` it carries what the pod identity webhook injects."""
    owner_kind, owner_name = owner or ("ReplicaSet", name.rsplit("-", 1)[0])
    cs = []
    for cname in containers:
        c_env = list(env or [])
        mounts = [
            {
                "name": "kube-api-access-x7k2p",
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "readOnly": True,
            }
        ]
        if role:
            c_env += [{"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}]
            if default_region:
                c_env += [
                    {"name": "AWS_DEFAULT_REGION", "value": region},
                    {"name": "AWS_REGION", "value": region},
                ]
            c_env += [
                {"name": "AWS_ROLE_ARN", "value": f"arn:{partition}:iam::{ACCOUNT}:role/{role}"},
                {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": f"{TOKEN_DIR}/token"},
            ]
            mounts.append({"name": "aws-iam-token", "mountPath": TOKEN_DIR, "readOnly": True})
        c = {
            "name": cname,
            "image": image,
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            "volumeMounts": mounts,
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
        }
        if c_env:
            c["env"] = c_env
        if run_as_user is not None:
            c["securityContext"] = {"runAsUser": run_as_user, "runAsNonRoot": run_as_user != 0}
        cs.append(c)
    volumes = [
        {
            "name": "kube-api-access-x7k2p",
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "name": "kube-root-ca.crt",
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "path": "namespace",
                                    "fieldRef": {
                                        "apiVersion": "v1",
                                        "fieldPath": "metadata.namespace",
                                    },
                                }
                            ]
                        }
                    },
                ],
            },
        }
    ]
    if role:
        volumes.insert(
            0,
            {
                "name": "aws-iam-token",
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {
                            "serviceAccountToken": {
                                "audience": "sts.amazonaws.com",
                                "expirationSeconds": 86400,
                                "path": "token",
                            }
                        }
                    ],
                },
            },
        )
    security = {"fsGroup": fs_group} if fs_group is not None else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"9f0e{_num(name) % 10**8:08d}-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
            "resourceVersion": "51877",
            "creationTimestamp": CREATED,
            "labels": {
                "app": owner_name.rsplit("-", 1)[0] if owner_kind == "ReplicaSet" else owner_name
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": owner_kind,
                    "name": owner_name,
                    "uid": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "serviceAccountName": sa_name,
            "serviceAccount": sa_name,
            "nodeName": node,
            "containers": cs,
            "volumes": volumes,
            "securityContext": security,
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            ],
        },
        "status": {"phase": "Running", "qosClass": "Burstable", "startTime": CREATED},
    }


def kube_list(items):
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def version(minor, git):
    return {
        "clientVersion": {
            "major": "1",
            "minor": "32",
            "gitVersion": "v1.32.4",
            "platform": "linux/amd64",
        },
        "kustomizeVersion": "v5.5.0",
        "serverVersion": {
            "major": "1",
            "minor": minor,
            "gitVersion": git,
            "gitCommit": "3a1e0b4c6f2d9e8a7b5c4d3e2f1a0b9c8d7e6f5a",
            "gitTreeState": "clean",
            "buildDate": "2026-09-10T18:22:31Z",
            "goVersion": "go1.24.4",
            "compiler": "gc",
            "platform": "linux/amd64",
        },
    }


def issuer_chain(host):
    """A made-up CA chain (root → intermediate → leaf) in openssl s_client -showcerts form."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def make(subject, issuer_name, key, issuer_key, ca, san=None):
        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    def name(cn):
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "irsa-nb demo"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    root_key, inter_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = make(name("Demo Root CA"), name("Demo Root CA"), root_key, root_key, True)
    inter = make(name("Demo Issuing CA"), root.subject, inter_key, root_key, True)
    leaf = make(name(host), inter.subject, leaf_key, inter_key, False, san=host)
    chain = [leaf, inter, root]
    out = ["CONNECTED(00000003)\n---\nCertificate chain\n"]
    for i, cert in enumerate(chain):
        out.append(f" {i} s:{cert.subject.rfc4514_string()}\n   i:{cert.issuer.rfc4514_string()}\n")
        out.append(cert.public_bytes(serialization.Encoding.PEM).decode())
    out.append("---\nServer certificate\n")
    return "".join(out), sha1_thumbprint(root.public_bytes(serialization.Encoding.DER))


# --- the bundles ------------------------------------------------------------------------


def main_demo():
    region, iid = "us-west-2", "5C6D1A7E0B9F4E2D8A3C1B7F9E0D2A4C"
    docs = {"aws/eks/describe-cluster.json": describe_cluster("shop-prod", region, iid, "1.29")}
    parn = provider_arn(region, iid)
    chain, thumb = issuer_chain(issuer_url(region, iid).removeprefix("https://").split("/")[0])
    docs["tls/issuer-chain.pem"] = chain
    docs["aws/iam/list-open-id-connect-providers.json"] = {
        "OpenIDConnectProviderList": [
            {"Arn": parn},
            {"Arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
        ]
    }
    docs[provider_path(parn)] = provider_doc(region, iid, thumb)
    s3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    sqs = "arn:aws:iam::aws:policy/AmazonSQSFullAccess"

    def t(ns, name, aud=True):
        return trust(region, iid, f"system:serviceaccount:{ns}:{name}", aud=aud)

    add_role(
        docs,
        "AmazonEKS_CNI_Role",
        t("kube-system", "aws-node"),
        ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"],
    )
    add_role(docs, "irsa-checkout", t("shop", "checkout"), [sqs], ["checkout-dynamodb"])
    add_role(docs, "irsa-cart", t("default", "cart"), [s3])  # wrong namespace in sub
    missing_role(docs, "irsa-payments")
    add_role(docs, "irsa-search", t("shop", "search"))  # no policies
    add_role(docs, "irsa-orders", t("shop", "orders"), [sqs])
    add_role(docs, "irsa-notifications", t("shop", "notifications"), [sqs])
    add_role(docs, "irsa-recommender", t("shop", "recommender"), [s3])
    add_role(docs, "irsa-analytics", t("shop", "analytics", aud=False), [s3])
    add_role(
        docs, "irsa-emailer", t("shop", "emailer"), ["arn:aws:iam::aws:policy/AmazonSESFullAccess"]
    )
    add_role(docs, "irsa-reports", t("shop", "reports"), [s3])
    # Beyond the article (irsa_nb/checks/precedence.py, sts.py, trust_scope.py, webhook.py).
    add_role(docs, "irsa-ledger", t("shop", "ledger"), [s3])
    add_role(docs, "irsa-fulfillment", t("shop", "fulfillment"), [sqs])
    audit_trust = t("shop", "audit")
    audit_cond = audit_trust["Statement"][0]["Condition"]
    audit_cond["StringLike"] = {
        k: "system:serviceaccount:*:audit" for k in audit_cond["StringEquals"] if k.endswith(":sub")
    }
    audit_cond["StringEquals"] = {
        k: v for k, v in audit_cond["StringEquals"].items() if not k.endswith(":sub")
    }
    add_role(docs, "irsa-audit", audit_trust, [s3])  # sub matches "audit" in any namespace
    add_role(docs, "irsa-exporter", t("shop", "exporter"), [s3])
    add_role(docs, "irsa-batch", t("shop", "batch"), [s3])
    missing_role(docs, "irsa-mirror")  # annotated with an aws-cn ARN in an aws cluster

    sas = [
        sa("kube-system", "aws-node", "AmazonEKS_CNI_Role"),
        sa("kube-system", "coredns"),
        sa("kube-system", "default"),
        sa("shop", "default"),
        sa("shop", "checkout", "irsa-checkout"),  # healthy
        sa("shop", "cart", "irsa-cart"),  # trust policy names namespace "default"
        sa("shop", "payments", "irsa-payments"),  # role does not exist
        sa("shop", "search", "irsa-search"),  # role has no policies
        sa("shop", "inventory", "arn:aws:iam:::111122223333:role/irsa-inventory"),  # malformed
        sa("shop", "orders", "irsa-orders"),  # its pod names a service account that is gone
        sa("shop", "notifications", "irsa-notifications"),  # pod created before annotation
        sa("shop", "recommender", "irsa-recommender"),  # annotation changed, pod not recreated
        sa(
            "shop",
            "analytics",
            "irsa-analytics",
            extra={"eks.amazonaws.com/audience": "sts.amazon.com"},
        ),  # audience typo
        sa("shop", "emailer", "irsa-emailer"),  # hand-written AWS_ROLE_ARN blocks injection
        sa("shop", "reports"),  # annotation removed, pods still carry the old role
        sa("shop", "ledger", "irsa-ledger"),  # pod also gets static keys from a secret
        sa("shop", "fulfillment", "irsa-fulfillment"),  # a Pod Identity association wins
        sa("shop", "audit", "irsa-audit"),  # trust policy admits any namespace
        sa("shop", "exporter", "irsa-exporter"),  # skip-containers skips a container using AWS
        sa(
            "shop",
            "batch",
            "irsa-batch",
            extra={"eks.amazonaws.com/token-expiration": "24h"},
        ),  # not an integer: ignored by the webhook
        sa("shop", "mirror", "irsa-mirror", partition="aws-cn"),  # wrong partition
    ]
    pods = [
        pod(
            "kube-system",
            "aws-node-8xk2q",
            "aws-node",
            role="AmazonEKS_CNI_Role",
            owner=("DaemonSet", "aws-node"),
            containers=("aws-node",),
            image="602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.2",
        ),
        pod(
            "kube-system",
            "coredns-6b9575c64c-2tq7m",
            "coredns",
            image="602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.4",
        ),
        pod(
            "shop",
            "checkout-7d4b9c6f5-k2x9p",
            "checkout",
            role="irsa-checkout",
            containers=("checkout", "otel-collector"),
            run_as_user=1000,
        ),
        pod("shop", "cart-5f6d8b7c9-q4w8e", "cart", role="irsa-cart"),
        pod("shop", "payments-84c7d9f6b-m3n5t", "payments", role="irsa-payments"),
        pod("shop", "search-6c5b8d7f4-z8y7x", "search", role="irsa-search"),
        pod(
            "shop",
            "inventory-5d4c7b9f8-r6t2u",
            "inventory",
            role="irsa-inventory",
        ),
        pod("shop", "orders-api-7b6c5d4f3-h8j9k", "order"),
        pod("shop", "notifications-9f8e7d6c5-a1b2c", "notifications"),
        pod("shop", "recommender-6d5c4b3a2-p0o9i", "recommender", role="irsa-recommender-v1"),
        pod("shop", "analytics-8e7d6c5b4-l1k2j", "analytics", role="irsa-analytics"),
        pod(
            "shop",
            "emailer-5c4b3a2f1-e3r4t",
            "emailer",
            env=[{"name": "AWS_ROLE_ARN", "value": f"arn:aws:iam::{ACCOUNT}:role/irsa-emailer"}],
        ),
        pod("shop", "reports-4b3a2f1e0-w5e6r", "reports", role="irsa-reports"),
        pod("shop", "frontend-7f6e5d4c3-t7y8u", "default"),
        pod(
            "shop",
            "ledger-6a5b4c3d2-g7h8j",
            "ledger",
            role="irsa-ledger",
            env=[
                {
                    "name": name,
                    "valueFrom": {"secretKeyRef": {"name": "ledger-aws-keys", "key": key}},
                }
                for name, key in (
                    ("AWS_ACCESS_KEY_ID", "access-key-id"),
                    ("AWS_SECRET_ACCESS_KEY", "secret-access-key"),
                )
            ],
        ),
        pod(
            "shop",
            "fulfillment-3c2b1a0f9-d4f5g",
            "fulfillment",
            env=[
                {
                    "name": "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "value": "http://169.254.170.23/v1/credentials",
                },
                {
                    "name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                    "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/"
                    "eks-pod-identity-token",
                },
            ],
        ),
        pod("shop", "audit-2b1a0f9e8-s6d7f", "audit", role="irsa-audit"),
        pod(
            "shop",
            "exporter-1a0f9e8d7-k9l0z",
            "exporter",
            role="irsa-exporter",
            containers=("exporter", "metrics"),
        ),
        pod("shop", "batch-0f9e8d7c6-x2c3v", "batch", role="irsa-batch"),
        pod("shop", "mirror-9e8d7c6b5-b4n5m", "mirror", role="irsa-mirror", partition="aws-cn"),
    ]
    # The inventory pod: injected with the malformed ARN exactly as the webhook does.
    for c in pods[6]["spec"]["containers"]:
        for e in c["env"]:
            if e["name"] == "AWS_ROLE_ARN":
                e["value"] = "arn:aws:iam:::111122223333:role/irsa-inventory"
    # The analytics pod's token carries the annotated audience.
    pods[10]["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["audience"] = (
        "sts.amazon.com"
    )
    # The exporter pod: the webhook skipped "metrics", which talks to CloudWatch via AWS_REGION.
    exporter = next(p for p in pods if p["metadata"]["name"].startswith("exporter-"))
    exporter["metadata"]["annotations"] = {"eks.amazonaws.com/skip-containers": "metrics"}
    metrics = exporter["spec"]["containers"][1]
    metrics["env"] = [
        {"name": "AWS_REGION", "value": region},
        {"name": "CLOUDWATCH_NAMESPACE", "value": "shop/exporter"},
    ]
    metrics["volumeMounts"] = [m for m in metrics["volumeMounts"] if m["name"] != "aws-iam-token"]
    docs["k8s/serviceaccounts.json"] = kube_list(sas)
    docs["k8s/pods.json"] = kube_list(pods)
    docs["k8s/version.json"] = version("29+", "v1.29.10-eks-7f9249a")
    docs["k8s/mutatingwebhookconfigurations.json"] = kube_list([eks_webhook_configuration()])
    docs["aws/eks/list-pod-identity-associations.json"] = {
        "associations": [
            {
                "clusterName": "shop-prod",
                "namespace": "shop",
                "serviceAccount": "fulfillment",
                "associationArn": f"arn:aws:eks:{region}:{ACCOUNT}:podidentityassociation/"
                "shop-prod/a-4fqbz1xkvmd0cwrpe",
                "associationId": "a-4fqbz1xkvmd0cwrpe",
            }
        ]
    }
    return docs


def eks_webhook_configuration():
    """The EKS-managed pod identity webhook as ``kubectl get mutatingwebhookconfigurations``."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": "pod-identity-webhook",
            "uid": "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a",
            "resourceVersion": "412",
            "creationTimestamp": "2026-03-18T10:33:12Z",
        },
        "webhooks": [
            {
                "name": "iam-for-pods.amazonaws.com",
                "admissionReviewVersions": ["v1beta1"],
                "clientConfig": {
                    "url": "https://127.0.0.1:23443/mutate",
                    "caBundle": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkemVtbwotLS0tLUVORCBD"
                    "RVJUSUZJQ0FURS0tLS0tCg==",
                },
                "failurePolicy": "Ignore",
                "matchPolicy": "Equivalent",
                "namespaceSelector": {},
                "objectSelector": {},
                "reinvocationPolicy": "IfNeeded",
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["pods"],
                        "scope": "*",
                    }
                ],
                "sideEffects": "None",
                "timeoutSeconds": 10,
            }
        ],
    }


def small_demo(
    name, cluster, region, iid, k8s, *, partition="aws", provider=True, thumb_ok=True, pods_spec=()
):
    docs = {"aws/eks/describe-cluster.json": describe_cluster(cluster, region, iid, k8s, partition)}
    parn = provider_arn(region, iid, partition)
    host = issuer_url(region, iid, partition).removeprefix("https://").split("/")[0]
    chain, thumb = issuer_chain(host)
    docs["tls/issuer-chain.pem"] = chain
    arns = [{"Arn": parn}] if provider else []
    docs["aws/iam/list-open-id-connect-providers.json"] = {"OpenIDConnectProviderList": arns}
    if provider:
        docs[provider_path(parn)] = provider_doc(
            region,
            iid,
            thumb if thumb_ok else "9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
            partition,
        )
    sas, pods = [], []
    for ns, sa_name, pod_name, kw in pods_spec:
        role = f"{cluster}-{sa_name}"
        add_role(
            docs,
            role,
            trust(region, iid, f"system:serviceaccount:{ns}:{sa_name}", partition),
            [f"arn:{partition}:iam::aws:policy/AmazonS3ReadOnlyAccess"],
            partition=partition,
        )
        sas.append(sa(ns, sa_name, role, partition))
        pods.append(pod(ns, pod_name, sa_name, role=role, region=region, partition=partition, **kw))
    docs["k8s/serviceaccounts.json"] = kube_list(sas)
    docs["k8s/pods.json"] = kube_list(pods)
    minor = k8s.split(".")[1] + "+"
    docs["k8s/version.json"] = version(minor, f"v{k8s}.15-eks-{iid[:7].lower()}")
    return docs


def main():
    bundles = {
        "demo": main_demo(),
        "no-oidc": small_demo(
            "no-oidc",
            "billing-staging",
            "eu-west-1",
            "A1B2C3D4E5F60718293A4B5C6D7E8F90",
            "1.30",
            provider=False,
            pods_spec=[("billing", "invoicer", "invoicer-6f5e4d3c2-b9n8m", {})],
        ),
        "k8s-118": small_demo(
            "k8s-118",
            "legacy-batch",
            "us-east-1",
            "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
            "1.18",
            thumb_ok=False,
            pods_spec=[
                ("batch", "exporter", "exporter-5d4c3b2a1-x1c2v", {"run_as_user": 1000}),
                (
                    "batch",
                    "importer",
                    "importer-4c3b2a1f0-v3b4n",
                    {"run_as_user": 1000, "fs_group": 2000},
                ),
            ],
        ),
        "china": small_demo(
            "china",
            "shop-cn",
            "cn-north-1",
            "7E6D5C4B3A291807F6E5D4C3B2A19080",
            "1.30",
            partition="aws-cn",
            pods_spec=[
                ("shop", "catalog", "catalog-7c6b5a4f3-q2w3e", {}),
                ("shop", "pricing", "pricing-6b5a4f3e2-r4t5y", {"default_region": False}),
            ],
        ),
        # Opt-in region: a pod without AWS_REGION calls global STS, whose tokens are rejected.
        "opt-in": small_demo(
            "opt-in",
            "media-capetown",
            "af-south-1",
            "3B4C5D6E7F8091A2B3C4D5E6F708192A",
            "1.31",
            pods_spec=[
                ("media", "thumbnailer", "thumbnailer-5e4d3c2b1-h6j7k", {}),
                ("media", "transcoder", "transcoder-4d3c2b1a0-l8z9x", {"default_region": False}),
            ],
        ),
    }
    for name, docs in bundles.items():
        out = ROOT / name
        shutil.rmtree(out, ignore_errors=True)
        write_documents(docs, out)
        print(f"wrote {out} ({len(docs)} documents)")


if __name__ == "__main__":
    main()
