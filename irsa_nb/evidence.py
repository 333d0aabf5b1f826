"""Evidence folders: redaction, path scrubbing, HTML export, manifest, and reading them back.

An evidence folder (written by :func:`irsa_nb.runbook.run_runbook`) holds::

    runbook.ipynb        the executed notebook (secrets masked, local paths removed)
    runbook.html         HTML without code cells (for the ticket / the auditor)
    runbook-full.html    HTML with code cells
    results.json/.csv    the result rows (columns irsa_nb.RESULT_COLUMNS)
    manifest.json        UTC start/end, parameters, versions, target facts, status, sha256 of files

:func:`read_evidence` turns one or many such folders back into one DataFrame.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .checks import RESULT_COLUMNS
from .redact import mask_data, mask_text

log = logging.getLogger(__name__)

NOTEBOOK = "runbook.ipynb"
HTML = "runbook.html"
HTML_FULL = "runbook-full.html"
RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
MANIFEST = "manifest.json"
#: MIME type of the run facts the runbook's header cell emits (read back into manifest.json).
RUN_MIME = "application/vnd.irsa-nb.run+json"
#: Every file an evidence folder may hold, in manifest order.
FILES = (NOTEBOOK, HTML, HTML_FULL, RESULTS_JSON, RESULTS_CSV)
MANIFEST_VERSION = 1
ERROR_TAG = "papermill-error-cell-tag"  # papermill removes cells with this tag on re-run

_PACKAGES = (
    "irsa-nb",
    "pandas",
    "papermill",
    "nbclient",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "jupyter_client",
    "boto3",
    "botocore",
    "kubernetes",
)


# --- redaction ---------------------------------------------------------------------------


class PathScrubber:
    """Replaces local absolute paths in text: longest path first.

    Examples
    --------
    >>> PathScrubber({"/home/ana/cases/x": ".", "/home/ana": "~"}).scrub("/home/ana/cases/x/a")
    './a'
    """

    def __init__(self, replacements: Mapping[str, str]):
        pairs = [(str(k).rstrip("/"), v) for k, v in replacements.items() if k and str(k) != "/"]
        self.pairs = sorted(pairs, key=lambda kv: len(kv[0]), reverse=True)

    def scrub(self, value: str) -> str:
        for path, repl in self.pairs:
            if path in value:
                value = value.replace(path, repl)
        return value

    @classmethod
    def for_run(cls, folder: Path, extra: Mapping[str, str] | None = None) -> PathScrubber:
        """Scrubber for a run writing to ``folder``: the folder becomes ``.``, the irsa-nb
        source tree ``<irsa-nb>``, the Python prefix ``<python>``, the home directory ``~``,
        plus ``extra`` (e.g. an absolute bundle path → the name the user gave)."""
        repl: dict[str, str] = dict(extra or {})
        repl[str(folder.resolve())] = "."
        if str(folder.absolute()) != str(folder.resolve()):
            repl[str(folder.absolute())] = "."
        repl[str(Path(__file__).resolve().parent.parent)] = "<irsa-nb>"
        home = os.path.expanduser("~")
        if home not in ("", "/", "~"):
            repl[home] = "~"
        # A virtualenv or a Python under the home directory names the user; a system
        # prefix such as /usr does not, and scrubbing it would alter cluster data.
        for prefix in {sys.prefix, sys.base_prefix}:
            if prefix == sys.prefix != sys.base_prefix or prefix.startswith(home + os.sep):
                repl[prefix] = "<python>"
        return cls(repl)


def sanitize_notebook(nb: dict, scrubber: PathScrubber, redact: bool = True) -> int:
    """Make an executed notebook safe to share, in place.

    ``metadata.papermill.input_path``/``output_path`` become basenames; local absolute paths
    are scrubbed from every string (sources, outputs, metadata); with ``redact``, secrets are
    masked everywhere (and by key name in the papermill parameters). Images are left alone.
    Returns how many secrets were masked.
    """
    masked = 0
    pm = nb.get("metadata", {}).get("papermill")
    if isinstance(pm, dict):
        for key in ("input_path", "output_path"):
            if pm.get(key):
                pm[key] = os.path.basename(str(pm[key]))
        if redact and isinstance(pm.get("parameters"), dict):
            pm["parameters"], masked = mask_data(pm["parameters"])
    return masked + _walk(nb, scrubber, redact)


def _walk(node: Any, scrubber: PathScrubber, redact: bool) -> int:
    count = 0
    if isinstance(node, dict):
        for key in list(node):
            value = node[key]
            if isinstance(key, str) and key.startswith("image/"):
                continue
            if isinstance(value, str):
                node[key], n = _clean(value, scrubber, redact)
                count += n
            else:
                count += _walk(value, scrubber, redact)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, str):
                node[i], n = _clean(value, scrubber, redact)
                count += n
            else:
                count += _walk(value, scrubber, redact)
    return count


def _clean(value: str, scrubber: PathScrubber, redact: bool) -> tuple[str, int]:
    value = scrubber.scrub(value)
    return mask_text(value) if redact else (value, 0)


def sanitize_file(path: Path, scrubber: PathScrubber, redact: bool = True) -> None:
    """Scrub paths (and mask secrets) in a text file in place."""
    if not path.is_file():
        return
    raw = path.read_text("utf-8")
    clean, _ = _clean(raw, scrubber, redact)
    if clean != raw:
        path.write_text(clean, "utf-8")


# --- notebook status ------------------------------------------------------------------------


def interrupted_cell(nb: dict) -> int | None:
    """Index of the code cell that started but never replied (a timeout or a dead kernel)."""
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        ex = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" not in ex:
            return i
        if any(o.get("ename") == "KeyboardInterrupt" for o in cell.get("outputs", [])):
            return i
    return None


def stamp_status(nb: dict, status: str, error: str, banner: str) -> None:
    """Record the run status in ``metadata.irsa_nb`` and, when it is not ``ok``/``failed``
    (papermill marks those itself), put a red banner at the top and mark the interrupted
    cell ``failed`` and the cells after it ``pending``."""
    meta = nb.setdefault("metadata", {})
    meta["irsa_nb"] = {"status": status, "error": error}
    if status in ("ok", "failed") or not banner:
        return
    # papermill leaves `exception` unset when the kernel timed out or died: tools that read
    # only papermill's metadata must not take the run for a success
    meta.setdefault("papermill", {})["exception"] = True
    cells = nb.setdefault("cells", [])
    idx = interrupted_cell(nb)
    if idx is not None:
        for j, cell in enumerate(cells[idx:]):
            pm = cell.setdefault("metadata", {}).setdefault("papermill", {})
            pm["status"] = "failed" if j == 0 else "pending"
    from nbformat import v4

    source = f'<span style="color:red;font-size:1.6em">{_escape(banner)}</span>'
    cell = v4.new_markdown_cell(source, id="irsa-nb-status-banner")
    cell.metadata["tags"] = [ERROR_TAG]
    cells.insert(0, cell)


def cell_label(nb: dict) -> str:
    """``In [n]`` (or the cell's position) of the interrupted cell, ``?`` when unknown."""
    idx = interrupted_cell(nb)
    if idx is None:
        return "?"
    count = nb["cells"][idx].get("execution_count")
    return f"In [{count}]" if count else f"#{idx + 1}"


def _escape(value: str) -> str:
    import html

    return html.escape(value, quote=True)


def run_facts(nb: dict) -> dict[str, Any]:
    """The run facts the runbook's header cell emitted (see :data:`RUN_MIME`)."""

    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if RUN_MIME in data:
                value = data[RUN_MIME]
                return json.loads(value) if isinstance(value, str) else dict(value)
    return {}


# --- HTML and manifest -------------------------------------------------------------------


def export_html(nb: Any, path: Path, with_code: bool) -> Path:
    """Render ``nb`` to ``path`` with nbconvert's lab template (no widgets needed);
    without code cells, input prompts and output prompts unless ``with_code``."""
    import nbformat

    node = nbformat.from_dict(nb) if isinstance(nb, dict) else nb
    body, _ = _exporter(with_code).from_notebook_node(
        node, resources={"metadata": {"name": path.stem}}
    )
    path.write_text(body, "utf-8")
    return path


_local = threading.local()


def _exporter(with_code: bool):
    """One HTMLExporter per thread and flavour (loading the template is the slow part)."""
    cache = _local.__dict__.setdefault("exporters", {})
    if with_code not in cache:
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(template_name="lab")
        if not with_code:
            exporter.exclude_input = True
            exporter.exclude_input_prompt = True
            exporter.exclude_output_prompt = True
        cache[with_code] = exporter
    return cache[with_code]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_hashes(folder: Path, names: Iterable[str] = FILES) -> dict[str, str]:
    """sha256 of each of ``names`` present in ``folder``."""
    return {n: sha256(folder / n) for n in names if (folder / n).is_file()}


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shaped the evidence."""
    out = {"python": sys.version.split()[0]}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest.json`` (adds the sha256 of every evidence file)."""
    data = {"irsa_nb_evidence": MANIFEST_VERSION, **manifest, "files": file_hashes(folder)}
    path = folder / MANIFEST
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    return path


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of an evidence folder (``{}`` when there is none or it is unreadable)."""
    try:
        return json.loads((Path(folder) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


#: What the runbook calls to record who looked (docs/permissions.md: needs no IAM permission).
NO_PERMISSION_OPERATIONS = ("sts:GetCallerIdentity",)


# --- reading back -------------------------------------------------------------------------


def evidence_folders(path_or_glob: str | Path) -> list[Path]:
    """Evidence folders under ``path_or_glob``: a folder, a ``results.json``/manifest file,
    a batch output folder (its sub-folders), or a glob of any of these."""
    pattern = str(path_or_glob)
    matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
    found: dict[Path, None] = {}
    for m in matches:
        p = Path(m)
        if p.is_file():
            p = p.parent
        if not p.is_dir():
            continue
        if (p / RESULTS_JSON).is_file() or (p / MANIFEST).is_file():
            found[p] = None
        else:
            for child in sorted(p.iterdir()):
                if child.is_dir() and (child / RESULTS_JSON).is_file():
                    found[child] = None
    return list(found)


def read_evidence(path_or_glob: str | Path) -> pd.DataFrame:
    """Read the results of one or many evidence folders into one DataFrame.

    Parameters
    ----------
    path_or_glob
        An evidence folder, a batch output folder, or a glob such as ``"evidence/*"``.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`irsa_nb.RESULT_COLUMNS` plus ``run`` (the folder the row came
        from). Folders whose run produced no results contribute no rows.

    Raises
    ------
    FileNotFoundError
        When nothing matches.
    ValueError
        When a ``results.json`` is not a list of rows (objects).

    Examples
    --------
    >>> import irsa_nb
    >>> df = irsa_nb.read_evidence("evidence/*")            # doctest: +SKIP
    >>> df.groupby("run").status.value_counts()             # doctest: +SKIP
    """
    folders = evidence_folders(path_or_glob)
    if not folders:
        raise FileNotFoundError(f"no evidence folder matches {str(path_or_glob)!r}")
    # Rows are gathered into chunks of about CHUNK_ROWS, each turned into one DataFrame: a
    # frame per folder costs more than its rows when a batch left thousands of small
    # folders, and one frame of every row would keep millions of Python objects alive at
    # once (200,000 rows: +180 MB).
    return _results_frame(folders)


#: Rows per DataFrame chunk of :func:`read_evidence`.
CHUNK_ROWS = 20_000
#: The dtype pandas infers for strings (``str`` with pandas 3, ``object`` before).
_STRINGS = pd.Series([""]).dtype


def _results_frame(folders: list[Path]) -> pd.DataFrame:
    """The rows of every folder's results.json, plus ``run``, as one DataFrame."""
    frames: list[pd.DataFrame] = []
    rows: list[dict[str, Any]] = []
    runs: list[str] = []
    for folder in folders:
        path = folder / RESULTS_JSON
        if not path.is_file():
            continue
        records = json.loads(path.read_text("utf-8"))
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError(f"{path} is not a list of result rows")
        rows += records
        runs += [str(folder)] * len(records)
        if len(rows) >= CHUNK_ROWS:
            frames.append(_frame(rows, runs))
    if rows or not frames:
        frames.append(_frame(rows, runs))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _frame(rows: list[dict[str, Any]], runs: list[str]) -> pd.DataFrame:
    """The DataFrame of ``rows`` plus their ``runs`` (both lists are emptied)."""
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame["run"] = pd.Series(runs, dtype=_STRINGS)
    rows.clear()
    runs.clear()
    return frame
