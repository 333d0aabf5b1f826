"""run_checks at cluster scale: 5,000 service accounts, 20,000 pods (all with IRSA), 1,000 roles.

The world is issue 16's: every pod runs with IRSA and the pods of one service account are
replicas of one template (``synthetic_cluster(irsa_fraction=1.0, replica_templates=True)``),
except the pods the builder breaks on purpose. Prints, in one run:

* ``run_checks`` of the whole cluster, pod-scope checks once per pod template (the default)
  and per pod (``per_pod=True``, the design before), whether both give the same frame, and a
  floor: building a DataFrame with as many rows from ready-made dicts;
* the same split by scope: the pod-scope checks alone (both ways), the others alone;
* ``run_checks`` of one service account (the one with the most pods): the interactive case;
* peak RSS (VmHWM) of ``load_bundle`` + ``run_checks`` in a fresh process, both ways.

Run: nice -n 10 .venv/bin/python benchmarks/bench_checks.py
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
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import irsa_nb
from tests.builders.synthetic import synthetic_cluster, write_bundle_files


def timed(fn, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), result


def vmhwm_mb() -> float:
    """Peak RSS of this process so far (Linux VmHWM, reset by exec), in MB."""
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(ln for ln in status if ln.startswith("VmHWM:")).split()[1]) / 1024


def child(mode: str, bundle: str) -> None:
    """Load ``bundle`` and run every check (``mode``: shared or per_pod); print peak RSS."""
    inv = irsa_nb.load_bundle(bundle)
    loaded = vmhwm_mb()
    df = irsa_nb.run_checks(inv, per_pod=mode == "per_pod")
    print(json.dumps({"rows": len(df), "load_mb": loaded, "peak_mb": vmhwm_mb()}))


def peak_rss(mode: str, bundle: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, bundle],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    n_sa, n_pods, n_roles = 5000, 20000, 1000
    t0 = time.perf_counter()
    data = synthetic_cluster(
        n_service_accounts=n_sa,
        n_pods=n_pods,
        n_roles=n_roles,
        irsa_fraction=1.0,
        replica_templates=True,
    )
    gen = time.perf_counter() - t0
    tmp_dir = tempfile.TemporaryDirectory()
    tmp = tmp_dir.name
    write_bundle_files(data, Path(tmp))
    load_med, _, inv = timed(lambda: irsa_nb.load_bundle(tmp), repeat=1)
    del data
    print(f"machine: {platform.machine()} {platform.python_version()}, {platform.platform()}")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print(
        f"synthetic cluster: {n_sa} service accounts, {n_pods} pods (all with IRSA, replicas "
        f"of one template per service account), {n_roles} roles (generated in {gen:.1f} s)"
    )
    print(f"load_bundle:  {load_med:.2f} s")

    rounds = []
    for _ in range(2):  # alternate, so both see the same load
        per_pod = timed(lambda: irsa_nb.run_checks(inv, per_pod=True), repeat=1)
        shared = timed(lambda: irsa_nb.run_checks(inv), repeat=1)
        rounds.append((per_pod[0], shared[0]))
    df, ref = shared[2], per_pod[2]
    same = df.equals(ref) and df.dtypes.equals(ref.dtypes)
    records = df.to_dict("records")
    base_med, _, _ = timed(lambda: pd.DataFrame(records, columns=irsa_nb.RESULT_COLUMNS))
    pp = statistics.median(r[0] for r in rounds)
    sh = statistics.median(r[1] for r in rounds)
    print(f"run_checks, whole cluster: {len(df)} rows, {(df.status == 'FAIL').sum()} FAIL")
    for i, (a, b) in enumerate(rounds, 1):
        print(f"  round {i}: per pod {a:.2f} s, once per template {b:.2f} s")
    print(f"  per pod (baseline):     median {pp:.2f} s")
    print(f"  once per pod template:  median {sh:.2f} s")
    print(f"  ratio: {sh / pp:.2f}x the per-pod design; identical frames: {same}")
    print(f"  floor (DataFrame of {len(df)} ready rows): median {base_med:.3f} s")
    print(f"  ratio to the floor: {sh / base_med:.1f}x")

    pod_ids = [c.id for c in irsa_nb.REGISTRY.values() if c.scope == "pod"]
    other_ids = [c.id for c in irsa_nb.REGISTRY.values() if c.scope != "pod"]
    pod_pp, _, _ = timed(lambda: irsa_nb.run_checks(inv, checks=pod_ids, per_pod=True), 1)
    pod_sh, _, _ = timed(lambda: irsa_nb.run_checks(inv, checks=pod_ids), 1)
    other, _, rest = timed(lambda: irsa_nb.run_checks(inv, checks=other_ids), 1)
    print(f"by scope: the {len(pod_ids)} pod-scope checks per pod {pod_pp:.2f} s, once per "
          f"template {pod_sh:.2f} s ({pod_sh / pod_pp:.2f}x); the {len(other_ids)} others "
          f"(service account and cluster scope, {len(rest)} rows) {other:.2f} s")  # fmt: skip

    (ns, sa), n = Counter((p.namespace, p.service_account) for p in inv.pods).most_common(1)[0]
    one_pp, _, a = timed(lambda: irsa_nb.run_checks(inv, ns, sa, per_pod=True), repeat=5)
    one_sh, one_min, b = timed(lambda: irsa_nb.run_checks(inv, ns, sa), repeat=5)
    print(f"run_checks, one service account ({ns}/{sa}, {n} pods, {len(b)} rows):")
    print(f"  per pod (baseline):    median {one_pp:.3f} s")
    print(f"  once per pod template: median {one_sh:.3f} s (min {one_min:.3f} s)")
    print(f"  identical frames: {a.equals(b)}")

    for mode in ("per_pod", "shared"):
        r = peak_rss(mode, tmp)
        print(
            f"peak RSS, fresh process, load_bundle + run_checks ({mode}): {r['peak_mb']:.0f} MB "
            f"(after load_bundle {r['load_mb']:.0f} MB), {r['rows']} rows"
        )
    tmp_dir.cleanup()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    else:
        main()
