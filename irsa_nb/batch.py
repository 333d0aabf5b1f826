"""Batch runs: the runbook over many targets, one evidence folder each, plus ``index.csv``.

Targets are rows whose columns are runbook parameters (``bundle``, ``cluster``,
``namespace``, ``service_account``, ``pod``, ...; optional ``target`` names the row), spelled
as the fields of :class:`~irsa_nb.pipeline.Source`, :class:`~irsa_nb.pipeline.Target` and
:class:`~irsa_nb.pipeline.Options`.
Runs go to any :class:`concurrent.futures.Executor`: threads by default (each run is a
papermill kernel, so threads suffice and avoid the kernel port races of processes), or a
``dask.distributed`` client's ``client.get_executor()`` to spread them across machines
(the output folder must then be on a shared filesystem).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .checks import STATUSES
from .evidence import read_manifest
from .pipeline import Options, Source, Target, exit_code, status_counts
from .runbook import run_runbook, runbook_parameters
from .sdks import parse_sdk_spec
from .text import LANGUAGES

log = logging.getLogger(__name__)

INDEX = "index.csv"
#: Columns a targets table may have (runbook parameters, plus ``target`` as a name).
TARGET_COLUMNS = (
    "target",
    "bundle",
    "cluster",
    "region",
    "profile",
    "context",
    "namespace",
    "service_account",
    "pod",
    "sdk",
    "lang",
    "redact",
    "actions",
    "cloudtrail_hours",
    "error_message",
)
INDEX_COLUMNS = ["target", "status", "verdict", *STATUSES, "error", "duration_s", "path"]
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}


@dataclass(frozen=True)
class BatchTarget:
    """One row of a targets table: its unique folder ``name`` and what the runbook runs."""

    name: str
    source: Source
    target: Target
    options: Options


def normalize_targets(targets: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[BatchTarget]:
    """Validate a targets table and turn each row into a :class:`BatchTarget` with a
    unique, filesystem-safe name. A row without ``bundle`` and ``cluster`` uses the demo.

    Raises
    ------
    ValueError
        For unknown columns, an unreadable ``sdk``, ``lang`` or ``redact`` value, or a
        duplicate name.
    """
    df = targets if isinstance(targets, pd.DataFrame) else pd.DataFrame(list(targets))
    unknown = [c for c in df.columns if c not in TARGET_COLUMNS]
    if unknown:
        raise ValueError(
            f"unknown target column(s) {', '.join(map(str, unknown))}; "
            f"use: {', '.join(TARGET_COLUMNS)}"
        )
    rows: list[BatchTarget] = []
    seen: set[str] = set()
    for i, raw in enumerate(df.to_dict("records"), start=1):
        row = {k: _cell(v) or None for k, v in raw.items()}
        try:
            sdk = parse_sdk_spec(raw.get("sdk"))
        except ValueError as exc:
            raise ValueError(f"target row {i}: {exc}") from None
        lang = row.get("lang") or "en"
        if lang not in LANGUAGES:
            raise ValueError(
                f"target row {i}: lang must be one of {', '.join(LANGUAGES)}, got {lang!r}"
            )
        source = Source(
            bundle=row.get("bundle") or (None if row.get("cluster") else "demo"),
            cluster=row.get("cluster"),
            region=row.get("region"),
            profile=row.get("profile"),
            context=row.get("context"),
        )
        target = Target(row.get("namespace"), row.get("service_account"), row.get("pod"))
        try:
            options = Options(
                sdk=sdk,
                lang=lang,
                redact=_bool(row.get("redact"), i),
                actions=row.get("actions") or (),  # "s3:GetObject=ARN sqs:SendMessage"
                cloudtrail_hours=row.get("cloudtrail_hours"),
                error_message=row.get("error_message"),
            )
            source.validate(options)
        except ValueError as exc:
            raise ValueError(f"target row {i}: {exc}") from None
        name = target_name(source, target, options, row.get("target") or "")
        if name in seen:
            raise ValueError(f"target row {i}: duplicate target {name!r}")
        seen.add(name)
        rows.append(BatchTarget(name, source, target, options))
    return rows


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _bool(value: Any, row: int) -> bool:
    text = _cell(value).lower()
    if not text:
        return True
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"target row {row}: redact must be true or false, got {value!r}")


def target_name(source: Source, target: Target, options: Options, given: str = "") -> str:
    """A stable folder name for a target: the given name, or source-namespace-name plus a
    short hash of all parameters (so ``--resume`` finds the same folder again)."""
    if given:
        return _slug(given)
    parts = [
        source.cluster or Path(source.bundle or "demo").name,
        target.namespace,
        target.pod or target.service_account,
    ]
    stem = _slug("-".join(str(p) for p in parts if p)) or "target"
    params = runbook_parameters(source, target, options)
    for key in ("actions", "cloudtrail_hours"):  # opt-ins left out keep the names of old runs
        if not params.get(key):
            params.pop(key, None)
    digest = hashlib.sha256(
        json.dumps(params, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()[:8]
    return f"{stem[:80]}-{digest}"


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._-")[:120] or "target"


def run_target(
    out: str, item: BatchTarget, timeout: float, notebook: str | None = None
) -> dict[str, Any]:
    """Run one target (in a worker thread, process or dask worker) and return its index row.

    Never raises: anything that escapes :func:`run_runbook` becomes a ``failed`` row.
    """
    target = item.name
    folder = Path(out) / target
    try:
        result = run_runbook(
            folder, item.source, item.target, item.options, timeout=timeout, notebook=notebook
        )
    except Exception as exc:  # a bug or an unusable target: record it, keep the others
        log.exception("target %s failed", target)
        return index_row(target, folder, error=_first_line(f"{type(exc).__name__}: {exc}"))
    return index_row(
        target,
        result.folder,
        status=result.status,
        verdict=result.verdict,
        counts=status_counts(result.results),
        error=result.error,
        duration_s=read_manifest(folder).get("duration_s"),
    )


def index_row(
    target: str,
    folder: Path,
    *,
    status: str = "failed",
    verdict: str = "UNKNOWN",
    counts: Mapping[str, int] | None = None,
    error: str = "",
    duration_s: float | None = None,
) -> dict[str, Any]:
    """One row of ``index.csv`` (:data:`INDEX_COLUMNS`); the defaults describe a target
    that did not run (status ``failed``, verdict ``UNKNOWN``, zero counts)."""
    counts = counts or {}
    return {
        "target": target,
        "status": status,
        "verdict": verdict,
        **{s: int(counts.get(s, 0)) for s in STATUSES},
        "error": error,
        "duration_s": duration_s,
        "path": str(folder),
    }


def _row_from_manifest(folder: Path, target: str) -> dict[str, Any]:
    m = read_manifest(folder)
    return index_row(
        target,
        folder,
        status=m.get("status", "failed"),
        verdict=m.get("verdict", "UNKNOWN"),
        counts=m.get("counts", {}),
        error=m.get("error", ""),
        duration_s=m.get("duration_s"),
    )


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def is_finished(folder: Path) -> bool:
    """True when ``folder`` holds a completed run (manifest status ``ok``)."""
    return read_manifest(folder).get("status") == "ok"


def run_batch(
    targets: pd.DataFrame | Iterable[Mapping[str, Any]],
    out: str | Path,
    workers: int = 2,
    executor: Executor | None = None,
    resume: bool = False,
    timeout: float = 600,
    *,
    notebook: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run the runbook for every target and write ``out/<target>/`` plus ``out/index.csv``.

    Parameters
    ----------
    targets
        DataFrame (or records) whose columns are runbook parameters, see
        :data:`TARGET_COLUMNS`; ``sdk`` as ``"boto3=1.9.100;botocore=1.12.0"`` or JSON.
    out
        Output folder (created).
    workers
        Threads when no ``executor`` is given.
    executor
        Any :class:`concurrent.futures.Executor`, e.g. ``distributed.Client(...).get_executor()``.
    resume
        Skip targets whose folder already holds a completed run (status ``ok``).
    timeout
        Seconds per target (whole run).
    notebook
        Another notebook with the runbook's parameters (default: the shipped runbook).
    progress
        Show a tqdm progress bar (on stderr).

    Returns
    -------
    pandas.DataFrame
        The index: ``target, status, verdict``, a count per result status, ``error``,
        ``duration_s`` and ``path``, in the order of ``targets``. A failed, timed-out or
        crashed target is a row with that status; it never stops the others.

    Examples
    --------
    >>> import pandas as pd, irsa_nb
    >>> targets = pd.DataFrame({"namespace": ["shop", "shop"],
    ...                         "service_account": ["cart", "checkout"]})
    >>> index = irsa_nb.run_batch(targets, "evidence/", workers=2)   # doctest: +SKIP
    >>> index[["target", "verdict", "status"]]                       # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    rows = normalize_targets(targets)
    root = Path(out).resolve()  # executors (dask workers) may run in another directory
    root.mkdir(parents=True, exist_ok=True)
    nb = str(Path(notebook).resolve()) if notebook else None
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for row in rows:
        folder = root / row.name
        if resume and is_finished(folder):
            results[row.name] = _row_from_manifest(folder, row.name)
        else:
            todo.append(row)
    own = executor is None
    pool = ThreadPoolExecutor(max_workers=max(1, workers)) if own else executor
    bar = tqdm(total=len(rows), initial=len(results), disable=not progress, unit="target")
    try:
        futures: dict[Future, BatchTarget] = {
            pool.submit(run_target, str(root), r, timeout, nb): r for r in todo
        }
        for fut in as_completed(futures):
            target = futures[fut].name
            try:
                row = fut.result()
            except Exception as exc:  # the executor itself failed (e.g. a dask worker died)
                error = _first_line(f"{type(exc).__name__}: {exc}")
                row = index_row(target, root / target, error=error)
            results[target] = row
            bar.update(1)
            bar.set_postfix_str(f"{target}: {row['status']}/{row['verdict']}", refresh=False)
    finally:
        bar.close()
        if own:
            pool.shutdown(wait=True)
    index = pd.DataFrame([results[r.name] for r in rows], columns=INDEX_COLUMNS)
    index.to_csv(root / INDEX, index=False)
    return index


def batch_exit_code(index: pd.DataFrame) -> int:
    """The worst over the targets (:func:`irsa_nb.pipeline.exit_code`): 2 when a target did
    not run to the end, else 1 when a verdict is FAIL, else 3 when one is ERROR, else 0."""
    return exit_code(index["verdict"], completed=bool((index["status"] == "ok").all()))
