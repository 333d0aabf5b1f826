"""Run the runbook notebook with papermill and save an evidence folder.

:func:`run_runbook` executes ``irsa_runbook.ipynb`` for one target and writes the folder
described in :mod:`irsa_nb.evidence`. Failures never raise: a cell error, a timeout or a dead
kernel is recorded in the result, the notebook (with a red banner) and the manifest.

Kernels: papermill starts the ``python3`` kernel (ipykernel of the running interpreter) with
its working directory set to the evidence folder (thread-safe, unlike papermill's ``cwd``),
quiet start-up logs, and one retry when the kernel dies before replying to ``kernel_info``
(a ZMQ port race when many kernels start at once).
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from . import evidence, text
from .checks import RESULT_COLUMNS
from .demo import is_demo_name
from .pipeline import Options, Source, Target, exit_code, status_counts
from .pipeline import verdict as worst_status
from .redact import mask_data

log = logging.getLogger(__name__)

RUNBOOK = "irsa_runbook.ipynb"
FLEET_SCAN = "irsa_fleet_scan.ipynb"
KERNEL_NAME = "python3"
STARTUP_RETRY_MESSAGE = "Kernel died before replying to kernel_info"
Status = Literal["ok", "failed", "timed out", "kernel died"]
#: Exception name of the runbook's verdict gate (a FAIL verdict, not a failed run).
GATE_ERROR = "ChecksFailed"


@dataclass
class RunbookResult:
    """What one runbook run produced.

    ``status`` says whether the notebook ran to the end (``ok``; a FAIL verdict is still
    ``ok``) or stopped (``failed``: a cell raised; ``timed out``; ``kernel died``).
    ``verdict`` is the worst result status (FAIL, ERROR, WARN, PASS, SKIP, EMPTY) or ``UNKNOWN``
    when no results were written.
    """

    folder: Path
    notebook: Path
    html: Path
    html_full: Path
    results: pd.DataFrame
    verdict: str
    status: Status
    error: str
    manifest: Path | None = None

    @property
    def exit_code(self) -> int:
        """0: no FAIL or ERROR; 1: a check is FAIL; 2: the run did not complete; 3: ERROR rows
        and no FAIL (could not check) -- :func:`irsa_nb.pipeline.exit_code`."""
        return exit_code(self.verdict, completed=self.status == "ok")


def notebook_path(name: str = RUNBOOK) -> Path:
    """Path of a shipped notebook (``irsa_runbook.ipynb`` or ``irsa_fleet_scan.ipynb``).

    Installed from a wheel they live in ``irsa_nb/notebooks/``; in a source checkout
    (``pip install -e .``) they are read from the repository's ``notebooks/`` folder.
    """
    packaged = resources.files("irsa_nb").joinpath("notebooks", name)
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "notebooks" / name
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"notebook {name} is not installed; reinstall irsa-nb")


def runbook_parameters(source: Source, target: Target, options: Options) -> dict[str, Any]:
    """The runbook's papermill parameters: one per field of ``source``, ``target`` and the
    runbook's ``options`` (absent is ``None``, so the notebook's demo defaults never leak
    into a run that did not ask for them)."""
    return {
        **asdict(source),
        **target.as_dict(),
        "sdk": dict(options.sdk),
        "lang": options.lang,
        "redact": options.redact,
        "probe": options.probe,
        "actions": " ".join(options.actions) or None,
        "cloudtrail_hours": options.cloudtrail_hours,
        "error_message": options.error_message,
    }


def run_runbook(
    out: str | Path,
    source: Source,
    target: Target | None = None,
    options: Options | None = None,
    *,
    timeout: float = 600,
    notebook: str | Path | None = None,
    kernel_name: str = KERNEL_NAME,
) -> RunbookResult:
    """Execute the runbook for one target and write an evidence folder ``out``.

    Parameters
    ----------
    out
        The evidence folder (created; files of a previous run in it are replaced).
    source, target, options
        What to check, as for :func:`irsa_nb.run` (the runbook takes the options ``sdk``,
        ``lang``, ``redact``, ``probe``, ``actions``, ``cloudtrail_hours`` and ``error_message``).
    timeout
        Seconds for the whole run (kernel start included); then the status is ``timed out``.
    notebook
        Another notebook with the same parameters (default: the shipped runbook).
    kernel_name
        Jupyter kernel (default ``python3``: the running interpreter's ipykernel).

    Returns
    -------
    RunbookResult
        Never raises for a failing run: see ``status`` and ``error``.

    Examples
    --------
    >>> from irsa_nb import Source, Target
    >>> from irsa_nb.runbook import run_runbook
    >>> res = run_runbook("evidence/cart", Source(bundle="demo"),
    ...                   Target("shop", "cart"))  # doctest: +SKIP
    >>> res.verdict, res.status, res.html.name  # doctest: +SKIP
    ('FAIL', 'ok', 'runbook.html')
    """
    target, options = target or Target(), options or Options()
    redact, lang = options.redact, options.lang
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (*evidence.FILES, evidence.MANIFEST):
        (folder / name).unlink(missing_ok=True)
    runbook = Path(notebook) if notebook else notebook_path(RUNBOOK)
    params = runbook_parameters(source, target, options)
    replacements: dict[str, str] = {}
    if params["bundle"] and not is_demo_name(params["bundle"]):
        given = params["bundle"]
        absolute = str(Path(given).expanduser().resolve())
        params["bundle"] = absolute  # the kernel runs inside the evidence folder
        replacements[absolute] = given if not os.path.isabs(given) else Path(given).name
    params["results_dir"] = "."
    nb_path = folder / evidence.NOTEBOOK
    started = dt.datetime.now(dt.UTC)
    status, error = execute(runbook, nb_path, params, timeout=timeout, kernel_name=kernel_name)
    finished = dt.datetime.now(dt.UTC)
    scrubber = evidence.PathScrubber.for_run(folder, replacements)
    error = scrubber.scrub(error)
    nb = _finish_notebook(nb_path, status, error, scrubber, redact, lang, timeout)
    for name in (evidence.RESULTS_JSON, evidence.RESULTS_CSV):
        evidence.sanitize_file(folder / name, scrubber, redact)
    results = _read_results(folder)
    if results is None:
        verdict, results = "UNKNOWN", pd.DataFrame(columns=RESULT_COLUMNS)
    else:
        verdict = worst_status(results)
    facts = evidence.run_facts(nb) if nb else {}
    if nb is not None:
        evidence.export_html(nb, folder / evidence.HTML, with_code=False)
        evidence.export_html(nb, folder / evidence.HTML_FULL, with_code=True)
    shown = {k: v for k, v in params.items() if k != "results_dir"}
    if shown["bundle"]:
        shown["bundle"] = scrubber.scrub(shown["bundle"])
    if redact:
        shown, _ = mask_data(shown)
    manifest = evidence.write_manifest(
        folder,
        {
            "run_id": str(uuid.uuid4()),
            "status": status,
            "verdict": verdict,
            "error": error,
            "started_utc": started.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "finished_utc": finished.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "duration_s": round((finished - started).total_seconds(), 3),
            "notebook": runbook.name,
            "parameters": shown,
            "timeout_s": timeout,
            "redacted": bool(redact),
            "counts": status_counts(results),
            "target": _target_facts(facts),
            "versions": evidence.package_versions(),
        },
    )
    return RunbookResult(
        folder=folder,
        notebook=nb_path,
        html=folder / evidence.HTML,
        html_full=folder / evidence.HTML_FULL,
        results=results,
        verdict=verdict,
        status=status,  # type: ignore[arg-type]
        error=error,
        manifest=manifest,
    )


def execute(
    source: Path,
    output: Path,
    parameters: Mapping[str, Any],
    *,
    timeout: float = 600,
    kernel_name: str = KERNEL_NAME,
) -> tuple[str, str]:
    """Run ``source`` into ``output`` with papermill; returns ``(status, error)``.

    The kernel's working directory is ``output``'s folder. ``timeout`` bounds the whole run.
    A kernel that dies before replying to ``kernel_info`` is started once more.
    """
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    declared = pm.inspect_notebook(str(source))
    parameters = {k: v for k, v in parameters.items() if k in declared}
    deadline = time.monotonic() + max(float(timeout), 1.0)
    for attempt in (1, 2):
        with tempfile.TemporaryFile(mode="w+b") as kernel_log:
            try:
                _own_event_loop(
                    pm.execute_notebook,
                    str(source),
                    str(output),
                    parameters=dict(parameters),
                    kernel_name=kernel_name,
                    progress_bar=False,
                    start_timeout=max(1, min(60, int(deadline - time.monotonic()))),
                    # nbclient options: the kernel's cwd, a whole-run deadline, quiet kernel
                    resources={"metadata": {"path": str(output.parent.resolve())}},
                    timeout_func=lambda cell: max(0.05, deadline - time.monotonic()),
                    kernel_manager_class=_kernel_manager_class(kernel_log),
                    extra_arguments=["--IPKernelApp.log_level=40"],
                )
                return "ok", ""
            except CellTimeoutError:
                return "timed out", f"the run took longer than {timeout:g} s"
            except DeadKernelError as exc:
                return "kernel died", _kernel_error(exc, kernel_log)
            except PapermillExecutionError as exc:  # a cell raised
                if exc.ename == GATE_ERROR:  # the verdict gate: a FAIL, not a failed run
                    return "ok", ""
                evalue = str(exc.evalue).splitlines()
                return "failed", f"{exc.ename}: {evalue[0] if evalue else ''}".strip()
            except Exception as exc:  # papermill, nbclient or the kernel itself
                if STARTUP_RETRY_MESSAGE in str(exc):
                    if attempt == 1 and time.monotonic() < deadline:
                        log.warning("%s; starting the kernel once more", STARTUP_RETRY_MESSAGE)
                        continue
                    return "kernel died", _kernel_error(exc, kernel_log)
                if isinstance(exc, TimeoutError) or "didn't respond" in str(exc):
                    return "timed out", f"{type(exc).__name__}: {_first_line(exc)}"
                return "failed", f"{type(exc).__name__}: {_first_line(exc)}"
    return "kernel died", STARTUP_RETRY_MESSAGE  # pragma: no cover - loop always returns


def _own_event_loop(func: Any, *args: Any, **kwargs: Any) -> Any:
    """``func`` (papermill) on an event loop of its own, closed after.

    nbclient runs its coroutines on the loop jupyter_core remembers in the current context.
    An executor that copies its caller's context into its threads (dask's in-process
    workers do) hands every run the same loop, and the second run at once fails with
    "This event loop is already running". In a thread whose loop is running (a kernel),
    jupyter_core already runs the work on a thread of its own.
    """
    from jupyter_core.utils import ensure_event_loop

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return func(*args, **kwargs)
    ctx = contextvars.Context()  # empty: no remembered loop, so a new one
    loop = ctx.run(ensure_event_loop)
    try:
        return ctx.run(func, *args, **kwargs)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def _kernel_error(exc: BaseException, kernel_log) -> str:
    """The exception's first line plus the last line the kernel wrote to stderr."""
    message = f"{type(exc).__name__}: {_first_line(exc)}"
    try:
        kernel_log.seek(0)
        tail = [ln for ln in kernel_log.read().decode("utf-8", "replace").splitlines() if ln]
    except (OSError, ValueError):
        tail = []
    return f"{message} (kernel: {tail[-1].strip()})" if tail else message


def _kernel_manager_class(kernel_log):
    """A kernel manager that runs ``python3`` with this interpreter and sends the kernel's
    own stderr (start-up warnings, shutdown noise) to ``kernel_log``."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            # python3 is always this interpreter's ipykernel, whatever kernelspec a user
            # directory registers under that name (it must import irsa_nb).
            cmd = super().format_kernel_cmd(extra_arguments=extra_arguments)
            if self.kernel_name == KERNEL_NAME and "ipykernel_launcher" in cmd:
                cmd[0] = sys.executable
            return cmd

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw.setdefault("stderr", kernel_log)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


def _finish_notebook(
    nb_path: Path,
    status: str,
    error: str,
    scrubber: evidence.PathScrubber,
    redact: bool,
    lang: str,
    timeout: float,
) -> dict | None:
    """Stamp the status (and a banner for timeouts / dead kernels), scrub paths, mask
    secrets and rewrite the executed notebook. None when papermill wrote nothing."""
    import nbformat

    if not nb_path.is_file():
        return None
    nb = nbformat.read(nb_path, as_version=4)
    banner = ""
    if status in ("timed out", "kernel died"):
        key = "banner_timed_out" if status == "timed out" else "banner_kernel_died"
        banner = text.render(
            lang,
            ("_runbook", key),
            {"seconds": f"{timeout:g}", "cell": evidence.cell_label(nb)},
        )
    evidence.stamp_status(nb, status, error, banner)
    evidence.sanitize_notebook(nb, scrubber, redact)
    nbformat.write(nb, nb_path)
    return nb


def _read_results(folder: Path) -> pd.DataFrame | None:
    """The results the notebook wrote, or None when it wrote none or they are unreadable
    (e.g. the kernel died while writing them)."""
    if not (folder / evidence.RESULTS_JSON).is_file():
        return None
    try:
        return evidence.read_evidence(folder)[RESULT_COLUMNS]
    except (ValueError, KeyError) as exc:
        log.warning("the results in %s cannot be read: %s", folder, exc)
        return None


def _target_facts(facts: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "when",
        "live",
        "bundle",
        "cluster",
        "cluster_arn",
        "account",
        "region",
        "issuer",
        "kubernetes_version",
        "target",
        "caller_identity",
        "redacted",
    )
    return {k: facts[k] for k in keys if k in facts}


__all__ = [
    "FLEET_SCAN",
    "RUNBOOK",
    "RunbookResult",
    "notebook_path",
    "run_runbook",
    "runbook_parameters",
]
