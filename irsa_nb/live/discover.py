"""Finding a live cluster: kube contexts, AWS profiles, regions, EKS clusters (the Explorer's
pickers).

boto3 and the Kubernetes client (through :mod:`irsa_nb.live.kube`) are imported inside the
functions; every failure is a :class:`LiveError` whose message says what to do.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kube import KubeContext

#: The AWS operations these helpers call (docs/permissions.md lists them): the cluster list.
OPERATIONS = ("eks:ListClusters",)
_EKS_ARN = re.compile(r"^arn:aws[\w-]*:eks:(?P<region>[a-z0-9-]+):\d{12}:cluster/(?P<name>[^/]+)$")
NO_CREDENTIALS_HINT = (
    "configure credentials (aws configure, aws sso login, or choose a profile); "
    "without credentials use the demo or a bundle"
)


class LiveError(Exception):
    """A live look-up failed; the message is meant for the user."""


def kube_contexts(config_file: str | None = None) -> tuple[list[KubeContext], str | None]:
    """Contexts of the kubeconfig (:func:`irsa_nb.live.kube.list_contexts`) and the current
    one's name.

    Raises
    ------
    LiveError
        When there is no readable kubeconfig.
    """
    from . import kube

    path = config_file or kube.kubeconfig_path()
    try:
        return kube.list_contexts(path)
    except kube.KubeConfigError as exc:
        raise LiveError(
            f"No usable kubeconfig at {path} ({exc.reason}); live mode needs one "
            "(aws eks update-kubeconfig --name CLUSTER); the demo and bundles work without"
        ) from None


def eks_cluster(context: KubeContext) -> tuple[str, str] | None:
    """``(name, region)`` of the EKS cluster a context points at, read from the cluster ARN
    that ``aws eks update-kubeconfig`` uses as the cluster entry's (or context's) name."""
    m = _EKS_ARN.match(context.cluster) or _EKS_ARN.match(context.name)
    return (m.group("name"), m.group("region")) if m else None


def aws_profiles() -> list[str]:
    """Profile names from the AWS config and credentials files (none is fine)."""
    import botocore.session

    try:
        return sorted(botocore.session.Session().available_profiles)
    except Exception:  # unreadable config files: offer no profiles rather than fail
        return []


def default_region(profile: str | None = None) -> str:
    """The region the AWS configuration selects (``AWS_REGION``, profile), or ``""``."""
    from botocore.exceptions import BotoCoreError

    from .aws import AwsConfigError, make_session

    try:
        return make_session(profile or None).region_name or ""
    except (AwsConfigError, BotoCoreError):
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
