"""Runbook batches: throughput with 2 workers vs sequential, and per-notebook overhead.

Measured in one run:

* baseline: kernel start-up and shutdown, i.e. the same papermill path as a runbook run
  (same kernel manager, parameters cell, one trivial cell, no post-processing);
* one runbook run (:func:`irsa_nb.runbook.run_runbook`: kernel, the checks, the report cells,
  redaction, two HTML renderings, manifest), sequentially; its overhead beyond the baseline
  is what the runbook itself costs per notebook;
* a batch of demo targets with ``workers=1`` and ``workers=2`` (threads).

Run: ``.venv/bin/python benchmarks/bench_batch.py [--targets 40] [--baseline-runs 5]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd

from irsa_nb import Source, Target
from irsa_nb.batch import run_batch
from irsa_nb.runbook import execute, run_runbook

DEMO = Source(bundle="demo")

# Service accounts of the demo bundle (healthy and broken ones: real work for every check).
DEMO_SERVICE_ACCOUNTS = [
    "cart",
    "checkout",
    "payments",
    "search",
    "inventory",
    "notifications",
    "recommender",
    "analytics",
    "emailer",
    "reports",
]


def trivial_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('namespace: str = ""  # target namespace')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "trivial.ipynb"
    nbformat.write(nb, path)
    return path


def targets(n: int) -> pd.DataFrame:
    rows = [
        {
            "target": f"t{i:03d}-{DEMO_SERVICE_ACCOUNTS[i % len(DEMO_SERVICE_ACCOUNTS)]}",
            "bundle": "demo",
            "namespace": "shop",
            "service_account": DEMO_SERVICE_ACCOUNTS[i % len(DEMO_SERVICE_ACCOUNTS)],
        }
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def timed_runs(fn, n: int) -> list[float]:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=40)
    ap.add_argument("--baseline-runs", type=int, default=5)
    args = ap.parse_args()

    cpu = (
        next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}"
    )
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}; load average at start: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trivial = trivial_notebook(root)
        # warm-up: imports, first kernel start, template loading
        run_runbook(root / "warm", DEMO, Target("shop", "cart"))
        execute(trivial, root / "warm.ipynb", {"namespace": ""})

        n = args.baseline_runs
        kernel = timed_runs(lambda i: execute(trivial, root / f"k{i}.ipynb", {"namespace": ""}), n)
        runbook = timed_runs(
            lambda i: run_runbook(
                root / f"r{i}",
                DEMO,
                Target("shop", DEMO_SERVICE_ACCOUNTS[i % len(DEMO_SERVICE_ACCOUNTS)]),
            ),
            n,
        )
        k_med, r_med = statistics.median(kernel), statistics.median(runbook)
        print(
            f"\nbaseline (kernel start-up + shutdown, trivial notebook), median of {n}: "
            f"{k_med:.2f} s (min {min(kernel):.2f})"
        )
        print(
            f"one runbook run (run_runbook, sequential), median of {n}: {r_med:.2f} s "
            f"(min {min(runbook):.2f})"
        )
        print(
            f"per-notebook overhead beyond kernel start-up: {r_med - k_med:.2f} s (target <= 1.5 s)"
        )

        batch = targets(args.targets)
        results = {}
        for workers in (1, 2):
            t0 = time.perf_counter()
            index = run_batch(batch, root / f"batch{workers}", workers=workers, progress=False)
            elapsed = time.perf_counter() - t0
            bad = int((index["status"] != "ok").sum())
            results[workers] = elapsed
            print(
                f"\nbatch of {len(batch)} demo targets, workers={workers}: {elapsed:.1f} s, "
                f"{len(batch) / elapsed * 60:.1f} targets/min, {elapsed / len(batch):.2f} s/target"
                f"{f', {bad} not ok' if bad else ''}"
            )
        print(f"\nspeed-up with 2 workers vs sequential: {results[1] / results[2]:.2f}x")
        print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
