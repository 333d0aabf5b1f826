"""Fleet scale: ``read_evidence`` and the fleet-scan notebook at 20,000 and 200,000 result rows.

The evidence is what a batch over a fleet leaves behind: synthetic clusters of 500 service
accounts / 2,000 pods / 100 roles, every pod with IRSA, replicas of one template per service
account (``synthetic_cluster(irsa_fraction=1.0, replica_templates=True)``, about 19,500 rows
each), each really checked (``irsa_nb.run`` on its offline bundle, secrets masked) and written
with the product's own writers (``irsa_nb.report.save_results`` + ``evidence.write_manifest``)
in two shapes:

* ``clusters``: one evidence folder per cluster (a runbook over every service account);
* ``accounts``: one evidence folder per service account (a batch over a targets table; the
  cluster-wide rows in a folder of their own), so 500 folders per cluster.

1 cluster gives the 20k-row point, 11 clusters (seeds 0-10) the 200k-row point (18,100 rows each). Prints:

* ``read_evidence`` of each set: time (median of 3) and peak RSS (VmHWM) in a fresh process;
* ``notebooks/irsa_fleet_scan.ipynb`` executed end to end with papermill (``-p evidence``),
  time and the size of the executed notebook, beside the same notebook on the evidence of
  the demo bundle (the floor: kernel start, imports, chart) in the same run, and the ratio.

Run: nice -n 10 .venv/bin/python benchmarks/bench_fleet.py [--keep DIR]
"""

from __future__ import annotations

import json
import os
import platform
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
    sets = {"clusters": root / "clusters", "accounts": root / "accounts"}
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


def child_read(path: str) -> None:
    """Read ``path`` with read_evidence three times; print rows, median time, peak RSS."""
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        df = irsa_nb.read_evidence(path)
        times.append(time.perf_counter() - t0)
        rows, mem = len(df), df.memory_usage(deep=True).sum() / 2**20
        del df
    print(json.dumps({"rows": rows, "s": statistics.median(times), "peak_mb": vmhwm_mb(),
                      "frame_mb": mem}))  # fmt: skip


def read_in_child(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.splitlines()[-1])


def notebook(path: Path, out: Path) -> tuple[float, float]:
    """Execute the fleet notebook on the evidence ``path``; seconds and MB of the output."""
    import papermill as pm

    t0 = time.perf_counter()
    pm.execute_notebook(
        str(notebook_path("irsa_fleet_scan.ipynb")),
        str(out),
        parameters={"evidence": str(path), "output_dir": str(out.with_suffix(""))},
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
    small = root / "20k" if (root / "20k").is_dir() else None
    sets = {
        "20k": {k: root / "20k" / k for k in ("clusters", "accounts")} if small else None,
        "200k": {k: root / "200k" / k for k in ("clusters", "accounts")}
        if (root / "200k").is_dir()
        else None,
    }
    if sets["20k"] is None:
        sets["20k"] = build(root / "20k", 1)
    if sets["200k"] is None:
        sets["200k"] = build(root / "200k", 11)
    demo = root / "demo"
    if not demo.is_dir():
        result = irsa_nb.run(irsa_nb.Source(bundle="demo"))
        write_folder(demo / "demo", result.results, result.facts, {})
    print(f"evidence built in {time.perf_counter() - t0:.0f} s")

    for size in ("20k", "200k"):
        for shape, path in sets[size].items():
            n = len(evidence.evidence_folders(path))
            r = read_in_child(path)
            print(
                f"read_evidence, {size} ({shape}: {n} folders, {r['rows']} rows): "
                f"median {r['s']:.2f} s, peak RSS {r['peak_mb']:.0f} MB "
                f"(frame {r['frame_mb']:.0f} MB)"
            )
    out = root / "out"
    out.mkdir(exist_ok=True)
    base, base_mb = notebook(demo, out / "demo.ipynb")
    print(f"fleet notebook, demo evidence (floor): {base:.1f} s, output {base_mb:.1f} MB")
    for size in ("20k", "200k"):
        for shape, path in sets[size].items():
            s, mb = notebook(path, out / f"{size}-{shape}.ipynb")
            print(
                f"fleet notebook, {size} ({shape}): {s:.1f} s ({s / base:.1f}x the floor), "
                f"output {mb:.1f} MB"
            )
    base2, _ = notebook(demo, out / "demo.ipynb")
    print(f"fleet notebook, demo evidence again (floor): {base2:.1f} s")
    tmp_dir.cleanup()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_read(sys.argv[2])
    else:
        main()
