"""Fleet scale: ``read_evidence`` and the fleet-scan notebook at 20,000 and 200,000 result rows.

The evidence is what a batch over a fleet leaves behind: synthetic clusters of 500 service
accounts / 2,000 pods / 100 roles, every pod with IRSA, replicas of one template per service
account (``synthetic_cluster(irsa_fraction=1.0, replica_templates=True)``, about 18,100 rows
each), each really checked (``irsa_nb.run`` on its offline bundle, secrets masked) and written
with the product's own writers (``irsa_nb.report.save_results`` + ``evidence.write_manifest``)
in two shapes:

* ``clusters``: one evidence folder per cluster (a runbook over every service account);
* ``accounts``: one evidence folder per service account (a batch over a targets table; the
  cluster-wide rows in a folder of their own), so about 450 folders per cluster.

1 cluster gives the 20k-row point, 11 clusters (seeds 0-10) the 200k-row point. Prints:

* ``read_evidence`` of each set in a fresh process: time (median of 3) and peak RSS (VmHWM),
  beside the design before (a DataFrame per folder, then one concat) and a floor (only
  ``json.loads`` of every ``results.json``), same run;
* the fleet views of the 200k ``accounts`` set in this process, one by one, and the pivot
  rendered unbounded (the design before) for comparison;
* ``notebooks/irsa_fleet_scan.ipynb`` executed end to end with papermill (``-p evidence``,
  ``-p output_dir``: Parquet and CSV written too; once more at 200k without ``output_dir``):
  time, size of the executed notebook and the largest kernel's peak RSS,
  beside the same notebook on the evidence of the demo bundle (359 rows: kernel start,
  imports, chart), run before and after, and the ratio.

Run: nice -n 10 .venv/bin/python benchmarks/bench_fleet.py [--keep DIR]
(``--keep DIR`` builds the evidence into DIR once and reuses it on the next run.)
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import irsa_nb
from irsa_nb import evidence
from irsa_nb.report import save_results
from irsa_nb.runbook import notebook_path
from tests.builders.synthetic import synthetic_cluster, write_bundle_files

N_SA, N_PODS, N_ROLES = 500, 2000, 100
SHAPES = ("clusters", "accounts")
#: Facts an evidence manifest keeps about its target (as irsa_nb.runbook writes them).
TARGET_FACTS = ("when", "live", "bundle", "cluster", "account", "region", "issuer", "target")


def vmhwm_mb() -> float:
    """Peak RSS of this process so far (Linux VmHWM, reset by exec), in MB."""
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(ln for ln in status if ln.startswith("VmHWM:")).split()[1]) / 1024


def write_folder(folder: Path, results, facts: dict, target: dict) -> None:
    """One evidence folder as a run leaves it: results.json/.csv and manifest.json."""
    save_results(results, folder)
    evidence.write_manifest(
        folder,
        {
            "status": "ok",
            "verdict": irsa_nb.pipeline.verdict(results),
            "parameters": {"bundle": facts.get("bundle", ""), **target},
            "counts": irsa_nb.pipeline.status_counts(results),
            "target": {k: facts[k] for k in TARGET_FACTS if k in facts} | {"target": target},
        },
    )


def build(root: Path, n_clusters: int) -> dict[str, Path]:
    """The two evidence sets of ``n_clusters`` clusters under ``root``; returns their folders."""
    sets = {shape: root / shape for shape in SHAPES}
    for i in range(n_clusters):
        name = f"cluster-{i:02d}"
        with tempfile.TemporaryDirectory() as tmp:
            data = synthetic_cluster(
                N_SA,
                N_PODS,
                N_ROLES,
                seed=i,
                cluster_name=name,
                irsa_fraction=1.0,
                replica_templates=True,
            )
            write_bundle_files(data, Path(tmp))
            del data
            result = irsa_nb.run(irsa_nb.Source(bundle=tmp))
        facts, results = dict(result.facts, bundle=name), result.results
        write_folder(sets["clusters"] / name, results, facts, {})
        for (ns, sa), rows in results.groupby(["namespace", "service_account"], sort=False):
            target = {"namespace": ns, "service_account": sa} if sa else {}
            folder = sets["accounts"] / (f"{name}-{ns}-{sa}" if sa else f"{name}-cluster")
            write_folder(folder, rows, facts, target)
    return sets


def per_folder_frames(path: str):
    """read_evidence as it was: a DataFrame per folder, then one concat (the baseline)."""
    import pandas as pd

    frames = []
    for folder in evidence.evidence_folders(path):
        records = json.loads((folder / evidence.RESULTS_JSON).read_text("utf-8"))
        df = pd.DataFrame(records, columns=irsa_nb.RESULT_COLUMNS)
        df["run"] = str(folder)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)[[*irsa_nb.RESULT_COLUMNS, "run"]]


def json_floor(path: str) -> list:
    """Only parse every results.json (the floor of any reader of this format)."""
    folders = evidence.evidence_folders(path)
    return [json.loads((f / evidence.RESULTS_JSON).read_text("utf-8")) for f in folders]


def child_read(mode: str, path: str) -> None:
    """Read ``path`` three times (``mode``: new, before, floor); print rows, time, peak RSS."""
    fn = {"new": irsa_nb.read_evidence, "before": per_folder_frames, "floor": json_floor}[mode]
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        out = fn(path)
        times.append(time.perf_counter() - t0)
        rows = len(out) if mode != "floor" else sum(map(len, out))
        del out
    print(json.dumps({"rows": rows, "s": statistics.median(times), "peak_mb": vmhwm_mb()}))


def read_in_child(mode: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)], capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.splitlines()[-1])


def views(path: Path) -> None:
    """Time the fleet views of ``path`` in this process (what the notebook's cells do)."""
    from irsa_nb.fleet import FleetScan, _styled

    t0 = time.perf_counter()
    scan = FleetScan.from_evidence(path)
    print(f"fleet views, 200k accounts ({len(scan.results)} rows), in process:")
    print(f"  FleetScan.from_evidence: {time.perf_counter() - t0:.2f} s")
    for name in ("header", "counts", "pivot", "top_failures", "error_codes", "chart"):
        t0 = time.perf_counter()
        out = getattr(scan, name)()
        size = len(out.markup) if hasattr(out, "markup") else 0
        print(f"  {name}: {time.perf_counter() - t0:.2f} s, {size / 1024:.0f} KB of HTML")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        scan.save(tmp)
    print(f"  save (fleet.parquet + fleet.csv): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    table = scan.pivot_table()
    markup = _styled(table)
    print(
        f"  pivot unbounded (the design before): {len(table)} service accounts, "
        f"{time.perf_counter() - t0:.2f} s, {len(markup) / 2**20:.1f} MB of HTML"
    )


def children_peak_mb() -> float:
    """The largest peak RSS of the child processes waited for so far (the kernels), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def notebook(path: Path, out: Path, save: bool = True) -> tuple[float, float]:
    """Execute the fleet notebook on the evidence ``path`` (with ``save``, writing the full
    table into ``output_dir``); seconds and MB of the executed notebook."""
    import papermill as pm

    t0 = time.perf_counter()
    pm.execute_notebook(
        str(notebook_path("irsa_fleet_scan.ipynb")),
        str(out),
        parameters={"evidence": str(path), "output_dir": str(out.with_suffix("")) if save else ""},
        kernel_name="python3",
        progress_bar=False,
    )
    return time.perf_counter() - t0, out.stat().st_size / 2**20


def main() -> None:
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    tmp_dir = tempfile.TemporaryDirectory()
    root = Path(keep or tmp_dir.name)
    print(f"machine: {platform.machine()} {platform.python_version()}, {platform.platform()}")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    sets = {}
    for size, n_clusters in (("20k", 1), ("200k", 11)):
        folder = root / size
        done = folder.is_dir()
        sets[size] = {k: folder / k for k in SHAPES} if done else build(folder, n_clusters)
    demo = root / "demo"
    if not demo.is_dir():
        result = irsa_nb.run(irsa_nb.Source(bundle="demo"))
        write_folder(demo / "demo", result.results, result.facts, {})
    print(f"evidence built in {time.perf_counter() - t0:.0f} s")

    out = root / "out"
    out.mkdir(exist_ok=True)
    base, base_mb = notebook(demo, out / "demo.ipynb")
    print(f"fleet notebook, demo evidence (floor): {base:.1f} s, output {base_mb:.1f} MB")
    for size in ("20k", "200k"):
        for shape, path in sets[size].items():
            s, mb = notebook(path, out / f"{size}-{shape}.ipynb")
            print(
                f"fleet notebook, {size} ({shape}): {s:.1f} s ({s / base:.1f}x the floor), "
                f"output {mb:.1f} MB; largest kernel so far {children_peak_mb():.0f} MB"
            )
    s, _ = notebook(sets["200k"]["accounts"], out / "200k-accounts-nosave.ipynb", save=False)
    print(f"fleet notebook, 200k (accounts), no output_dir: {s:.1f} s ({s / base:.1f}x the floor)")
    base2, _ = notebook(demo, out / "demo.ipynb")
    print(f"fleet notebook, demo evidence again (floor): {base2:.1f} s")
    print(f"peak RSS of the largest kernel (the 200k accounts run): {children_peak_mb():.0f} MB")
    for size in ("20k", "200k"):
        for shape, path in sets[size].items():
            n = len(evidence.evidence_folders(path))
            r = {mode: read_in_child(mode, path) for mode in ("new", "before", "floor")}
            new, before, floor = r["new"], r["before"], r["floor"]
            print(
                f"read_evidence, {size} ({shape}: {n} folders, {new['rows']} rows): "
                f"median {new['s']:.2f} s, peak RSS {new['peak_mb']:.0f} MB; before "
                f"{before['s']:.2f} s, {before['peak_mb']:.0f} MB ({new['s'] / before['s']:.2f}x); "
                f"json.loads floor {floor['s']:.2f} s ({new['s'] / floor['s']:.1f}x)"
            )
    views(sets["200k"]["accounts"])
    tmp_dir.cleanup()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_read(sys.argv[2], sys.argv[3])
    else:
        main()
