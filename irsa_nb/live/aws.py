"""The AWS side of live collection: EKS and IAM read calls, as AWS CLI JSON documents.

Configuration is boto3's own (``AWS_PROFILE``, ``AWS_CONFIG_FILE``, ``AWS_ENDPOINT_URL``,
``AWS_RETRY_MODE``, ``AWS_MAX_ATTEMPTS``, ...). Retries default to botocore's ``standard``
mode with :data:`DEFAULT_MAX_ATTEMPTS`; a failed call becomes :class:`~irsa_nb.bundle.CallFailed`
carrying the message the AWS CLI would print, so one failure never loses the rest. A
profile's ``credential_process`` runs under :mod:`.credential_timeout`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import ProcessProvider
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from .. import bundle
from ..bundle import CallFailed
from ..redact import mask_data
from . import credential_timeout

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8  # total attempts per call (botocore standard mode: backoff ≤ 20 s)
CREDENTIAL_ERRORS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)

#: The AWS API operations live collection may call (docs/permissions.md lists them).
OPERATIONS = (
    "eks:DescribeCluster",
    "eks:ListPodIdentityAssociations",
    "iam:ListOpenIDConnectProviders",
    "iam:GetOpenIDConnectProvider",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
)


#: Fewer distinct roles than this are read per role (get-role and the two policy lists, in
#: parallel); from this many on, one ``get-account-authorization-details --filter Role``
#: (paginated) reads them all. Measured with 50 ms per AWS call and 8 connections
#: (``benchmarks/bench_collect.py --latency --crossover``, BENCHMARKS.md): 16 roles one by
#: one took 0.70 s, the bulk read 0.42 s of an account of 106 roles and 0.87 s of one of
#: 1,012 roles (8 roles: 0.37 s, 24 roles: 1.00 s); below 16 the bulk read costs as much or
#: more, and either way the reads overlap the pod listing.
BULK_MIN_ROLES = 16


class AwsConfigError(ValueError):
    """AWS cannot be called at all (no credentials, no region, unknown profile)."""


def make_session(
    profile: str | None = None,
    region: str | None = None,
    process_timeout: float = credential_timeout.TIMEOUT,
) -> boto3.Session:
    """A boto3 session the standard way (``profile_name``/``region_name``).

    Without ``region``, ``AWS_REGION`` (what the AWS CLI v2 and the other SDKs read) comes
    before boto3's own ``AWS_DEFAULT_REGION`` and the profile's region. A profile's
    ``credential_process`` gets ``process_timeout`` seconds.
    """
    from botocore.exceptions import ConfigParseError, ProfileNotFound

    try:
        session = boto3.Session(
            profile_name=profile, region_name=region or os.environ.get("AWS_REGION") or None
        )
    except ProfileNotFound as exc:
        raise AwsConfigError(f"{exc}; list profiles with `aws configure list-profiles`") from None
    except ConfigParseError as exc:
        raise AwsConfigError(f"{exc}: fix its syntax (AWS_CONFIG_FILE names the file)") from None
    core = session._session  # botocore's: its credential chain is a public component

    def bounded_popen(command: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(credential_timeout.bounded(command, process_timeout), **kw)

    bounded = ProcessProvider(
        profile_name=core.get_config_variable("profile") or "default",
        load_config=lambda: core.full_config,
        popen=bounded_popen,
    )
    chain = core.get_component("credential_provider")
    chain.providers = [bounded if p.METHOD == bounded.METHOD else p for p in chain.providers]
    return session


def caller_identity(profile: str | None = None, region: str | None = None) -> dict[str, str]:
    """``sts:GetCallerIdentity`` (Account, Arn, UserId; needs no IAM permission): who
    collected a live source. ``{"error": ...}`` when it cannot be called."""
    try:
        ident = make_session(profile, region).client("sts").get_caller_identity()
        return {k: str(ident[k]) for k in ("Account", "Arn", "UserId") if k in ident}
    except Exception as exc:  # evidence, not a failure: record why it is missing
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}


def _no_credentials(exc: Exception) -> AwsConfigError:
    reason = " ".join(str(exc).split())  # a credential_process's message may span lines
    return AwsConfigError(
        f"{reason}: configure credentials (aws configure, AWS_PROFILE or --profile)"
    )


def client_config(session: boto3.Session, max_pool: int) -> Config:
    """Retries in standard mode unless the user chose otherwise (env or profile)."""
    core = session._session  # botocore session: reads AWS_RETRY_MODE, retry_mode, ...
    retries: dict[str, Any] = {"mode": core.get_config_variable("retry_mode") or "standard"}
    if core.get_config_variable("max_attempts") is None:
        retries["total_max_attempts"] = DEFAULT_MAX_ATTEMPTS
    return Config(retries=retries, max_pool_connections=max_pool)


def cli_json(response: dict[str, Any]) -> dict[str, Any]:
    """A boto3 response as ``aws ... --output json`` prints it (no metadata, ISO dates),
    with secret-looking values (access keys, tokens in tags or descriptions) masked."""
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    return mask_data(json.loads(json.dumps(body, default=_json_default)), names=False)[0]


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def call(func: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | CallFailed:
    """Run one boto3 call; a failure becomes CallFailed with the AWS CLI's message.

    Credential problems are raised as :class:`AwsConfigError`: every call would fail alike.
    """
    try:
        return cli_json(func(**kwargs))
    except CREDENTIAL_ERRORS as exc:
        raise _no_credentials(exc) from None
    except NoRegionError:
        raise AwsConfigError("no AWS region: pass --region or set AWS_REGION") from None
    except ClientError as exc:
        return CallFailed(str(exc))
    except BotoCoreError as exc:
        return CallFailed(str(exc))


def paginate(client: Any, operation: str, **kwargs: Any) -> dict[str, Any] | CallFailed:
    """All pages of a paginated call merged, as the AWS CLI prints them."""
    try:
        result = client.get_paginator(operation).paginate(**kwargs).build_full_result()
    except CREDENTIAL_ERRORS as exc:
        raise _no_credentials(exc) from None
    except ClientError as exc:
        return CallFailed(str(exc))
    except BotoCoreError as exc:
        return CallFailed(str(exc))
    result.pop("IsTruncated", None)
    result.pop("Marker", None)
    return cli_json(result)


class AwsCollector:
    """EKS and IAM read calls for one cluster, each returning a bundle document.

    Parameters
    ----------
    session
        A boto3 session; clients are created once and shared by the worker threads.
    max_workers
        The size of the caller's thread pool (sets the HTTP connection pool).
    """

    def __init__(self, session: boto3.Session, max_workers: int = 8) -> None:
        cfg = client_config(session, max_workers)
        try:
            self.eks = session.client("eks", config=cfg)
            self.iam = session.client("iam", config=cfg)
        except NoRegionError:
            raise AwsConfigError("no AWS region: pass --region or set AWS_REGION") from None
        except CREDENTIAL_ERRORS as exc:  # a failing credential_process fails here
            raise _no_credentials(exc) from None
        self.region = self.eks.meta.region_name
        self._session, self._cfg = session, cfg

    def cloudtrail(self, region: str | None = None) -> Any:
        """A CloudTrail client for ``region`` (default: the session's), same retries."""
        try:
            return self._session.client("cloudtrail", region_name=region, config=self._cfg)
        except CREDENTIAL_ERRORS as exc:
            raise _no_credentials(exc) from None

    def describe_cluster(self, name: str) -> dict[str, Any] | CallFailed:
        return call(self.eks.describe_cluster, name=name)

    def list_pod_identity_associations(self, cluster: str) -> dict[str, Any] | CallFailed:
        return paginate(self.eks, "list_pod_identity_associations", clusterName=cluster)

    def list_providers(self) -> dict[str, Any] | CallFailed:
        return call(self.iam.list_open_id_connect_providers)

    def get_provider(self, arn: str) -> dict[str, Any] | CallFailed:
        return call(self.iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn)

    def authorization_details(self) -> dict[str, Any] | CallFailed:
        """``aws iam get-account-authorization-details --filter Role``: every role of the
        account with its trust policy, attached and inline policies, merged over all pages."""
        return paginate(
            self.iam,
            "get_account_authorization_details",
            Filter=["Role"],
            PaginationConfig={"PageSize": 1000},  # the most IAM returns per page
        )

    def role_documents(self, role_name: str) -> dict[str, Any]:
        """get-role, list-attached-role-policies and list-role-policies for one role."""
        docs: dict[str, Any] = {
            bundle.role_path("get-role", role_name): call(self.iam.get_role, RoleName=role_name)
        }
        got = docs[bundle.role_path("get-role", role_name)]
        if isinstance(got, CallFailed) and got.not_found:
            # No role, no policies: record the same answer without two more calls.
            for cmd in ("list-attached-role-policies", "list-role-policies"):
                docs[bundle.role_path(cmd, role_name)] = got
            return docs
        docs[bundle.role_path("list-attached-role-policies", role_name)] = paginate(
            self.iam, "list_attached_role_policies", RoleName=role_name
        )
        docs[bundle.role_path("list-role-policies", role_name)] = paginate(
            self.iam, "list_role_policies", RoleName=role_name
        )
        return docs
