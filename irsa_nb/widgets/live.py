"""What the Explorer offers for a live cluster: kube contexts, AWS profiles, regions, clusters.

boto3 and the Kubernetes client are imported inside the functions; every failure is a
:class:`LiveError` whose message says what to do.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

#: The AWS operations these helpers call (docs/permissions.md lists them): the cluster list.
OPERATIONS = ("eks:ListClusters",)
_EKS_ARN = re.compile(r"^arn:aws[\w-]*:eks:(?P<region>[a-z0-9-]+):\d{12}:cluster/(?P<name>[^/]+)$")
NO_CREDENTIALS_HINT = (
    "configure credentials (aws configure, aws sso login, or choose a profile); "
    "without credentials use the demo or a bundle"
)


class LiveError(Exception):
    """A live look-up failed; the message is meant for the user."""


@dataclass(frozen=True)
class KubeContext:
    """A kubeconfig context; ``eks_cluster``/``region`` are set when it names an EKS ARN."""

    name: str
    cluster: str
    eks_cluster: str | None = None
    region: str | None = None


def kubeconfig_path() -> str:
    """``$KUBECONFIG`` (read now, may list several files) or ``~/.kube/config``."""
    return os.environ.get("KUBECONFIG") or os.path.join("~", ".kube", "config")


def kube_contexts(config_file: str | None = None) -> tuple[list[KubeContext], str | None]:
    """Contexts of the kubeconfig and the current one's name.

    Raises
    ------
    LiveError
        When there is no readable kubeconfig.
    """
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    path = config_file or kubeconfig_path()
    try:
        contexts, active = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
        raise LiveError(
            f"No usable kubeconfig at {path} ({_one_line(exc)}); live mode needs one "
            "(aws eks update-kubeconfig --name CLUSTER); the demo and bundles work without"
        ) from None
    except Exception as exc:  # e.g. yaml.YAMLError from a damaged file
        raise LiveError(f"Cannot read the kubeconfig {path}: {_one_line(exc)}") from None
    out = []
    for ctx in contexts or []:
        name = str(ctx.get("name", ""))
        cluster = str((ctx.get("context") or {}).get("cluster", ""))
        m = _EKS_ARN.match(cluster) or _EKS_ARN.match(name)
        out.append(
            KubeContext(
                name, cluster, m.group("name") if m else None, m.group("region") if m else None
            )
        )
    current = active.get("name") if isinstance(active, dict) else None
    return out, current


def aws_profiles() -> list[str]:
    """Profile names from the AWS config and credentials files (none is fine)."""
    import botocore.session

    try:
        return sorted(botocore.session.Session().available_profiles)
    except Exception:  # unreadable config files: offer no profiles rather than fail
        return []


def default_region(profile: str | None = None) -> str:
    """The region the AWS configuration selects (``AWS_REGION``, profile), or ``""``."""
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        session = botocore.session.Session(profile=profile or None)
        return session.get_config_variable("region") or ""
    except BotoCoreError:
        return ""


def eks_regions() -> list[str]:
    """Regions where EKS exists, from botocore's bundled endpoint data (no network)."""
    import boto3

    session = boto3.session.Session(region_name="us-east-1")
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("eks", partition_name=partition))
    return sorted(regions)


def eks_clusters(region: str | None, profile: str | None = None) -> list[str]:
    """Names ``aws eks list-clusters`` returns for ``region``.

    Raises
    ------
    LiveError
        No region, unknown profile, no credentials, access denied, unreachable endpoint.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    if not region:
        raise LiveError("Choose a region to list its EKS clusters.")
    where = f"eks list-clusters in {region}" + (f" (profile {profile})" if profile else "")
    try:
        session = boto3.session.Session(profile_name=profile or None)
        client = session.client(
            "eks",
            region_name=region,
            config=Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3}),
        )
        names: list[str] = []
        for page in client.get_paginator("list_clusters").paginate():
            names.extend(page.get("clusters", []))
    except NoCredentialsError:
        raise LiveError(f"{where}: no AWS credentials found; {NO_CREDENTIALS_HINT}") from None
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code, message = err.get("Code", "Error"), err.get("Message", "")
        raise LiveError(f"{where} failed: {code}: {_one_line(message)}") from None
    except BotoCoreError as exc:
        raise LiveError(f"{where} failed: {_one_line(exc)}") from None
    return sorted(names)


def _one_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
