"""CloudTrail's record of ``AssumeRoleWithWebIdentity`` calls (opt-in ``--cloudtrail [HOURS]``).

:func:`lookup_web_identity` pages through ``cloudtrail:LookupEvents`` with
``EventName=AssumeRoleWithWebIdentity`` over the last ``hours`` and keeps the events whose
role is one of ``role_arns``: the document ``aws cloudtrail lookup-events --output json``
prints (``Events``; a ``NextToken`` when the lookup stopped early).

LookupEvents is limited to two requests per second per account and Region
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html): the
calls are paced at :data:`MIN_INTERVAL` seconds and botocore's retries (standard mode, as
for every collection call) back off on ``ThrottlingException``. A tqdm bar counts the pages
when asked; Ctrl-C stops the lookup and keeps the pages read so far (with ``NextToken``).
CloudTrail does not log the web-identity token; the records are masked anyway
(:func:`irsa_nb.live.aws.cli_json`). CloudTrail records a call in the Region of the STS
endpoint it reached: the cluster's Region for regional endpoints (the default of current
SDKs), ``us-east-1`` for the global endpoint (``sts_endpoint_config`` says which a pod uses);
the lookup reads the cluster's Region.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..bundle import CallFailed
from ..trail import EVENT_NAME, reduce_event
from . import aws

log = logging.getLogger(__name__)

#: The AWS operation this module calls (docs/permissions.md).
OPERATIONS = ("cloudtrail:LookupEvents",)
# Seconds between LookupEvents calls: under the 2 per second per account and Region, with room
# for the jitter between sending a request and CloudTrail counting it.
MIN_INTERVAL = 0.6
DEFAULT_HOURS = 24
MAX_HOURS = 90 * 24  # LookupEvents reaches back 90 days


class Pacer:
    """At most one call per ``interval`` seconds across threads (a client-side rate limit)."""

    def __init__(self, interval: float = MIN_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


_PACERS: dict[tuple[str, str], Pacer] = {}  # one per (credentials' account, region)


def check_hours(hours: Any) -> int:
    """``hours`` as a whole number of hours from 1 to 2160 (90 days); ValueError otherwise."""
    try:
        n = int(hours)
    except (TypeError, ValueError):
        n = 0
    if str(hours).strip() != str(n) or not 1 <= n <= MAX_HOURS:
        raise ValueError(
            f"--cloudtrail expects a whole number of hours from 1 to {MAX_HOURS}, got {hours!r}"
        )
    return n


def lookup_web_identity(
    client: Any,
    hours: int,
    role_arns: Collection[str],
    *,
    progress: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any] | CallFailed:
    """The ``AssumeRoleWithWebIdentity`` events of the last ``hours`` for ``role_arns``.

    Parameters
    ----------
    client
        A boto3 CloudTrail client (its region is the one looked up).
    hours
        How far back to look.
    role_arns
        Keep only the events for these roles (the target's).
    progress
        Show a tqdm bar of pages on stderr.

    Returns
    -------
    dict or CallFailed
        ``{"Events": [...]}`` as the AWS CLI prints it (``NextToken`` too when interrupted);
        a failure of the first page is a CallFailed (a later one keeps the pages read, with
        the NextToken to resume from).
    """
    hours = check_hours(hours)
    end = now or dt.datetime.now(dt.UTC)
    kwargs: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": EVENT_NAME}],
        "StartTime": end - dt.timedelta(hours=hours),
        "EndTime": end,
        "MaxResults": 50,
    }
    pacer = _PACERS.setdefault(
        (str(client.meta.endpoint_url), str(client.meta.region_name)), Pacer()
    )
    wanted = set(role_arns)
    if not wanted:  # no annotated role in scope: nothing to look for, no call made
        return {"Events": []}
    kept: list[dict[str, Any]] = []
    token: str | None = None
    bar = _bar(progress)
    pages = 0
    try:
        while True:
            pacer.wait()
            try:
                page = client.lookup_events(**kwargs, **({"NextToken": token} if token else {}))
            except aws.CREDENTIAL_ERRORS as exc:
                raise aws.AwsConfigError(f"{exc}: configure credentials") from None
            except (ClientError, BotoCoreError) as exc:
                if token is None:
                    return CallFailed(str(exc))
                log.warning("CloudTrail lookup stopped after %d events: %s", len(kept), exc)
                break
            for event in page.get("Events") or []:
                call = reduce_event(event)
                if call is not None and call.role_arn in wanted:
                    kept.append(event)
            token = page.get("NextToken") or None
            pages += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(events=len(kept), refresh=False)
            if not token:
                break
    except KeyboardInterrupt:
        if not pages:
            return CallFailed("the CloudTrail lookup was interrupted before its first page")
        log.warning("CloudTrail lookup interrupted: keeping the %d events read so far", len(kept))
    finally:
        if bar is not None:
            bar.close()
    out: dict[str, Any] = {"Events": kept}
    if token:
        out["NextToken"] = token
    return aws.cli_json(out)


def _bar(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=None, unit="page", desc="CloudTrail lookup", file=sys.stderr, leave=False)
