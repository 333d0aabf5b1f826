"""run_checks at cluster scale: 5,000 service accounts, 20,000 pods, 1,000 roles.

Prints load and check times, and a baseline measured in the same run: building a
DataFrame with as many result rows from ready-made dicts (the floor for producing the
output at all). Run: .venv/bin/python benchmarks/bench_checks.py
"""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
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


def main() -> None:
    n_sa, n_pods, n_roles = 5000, 20000, 1000
    t0 = time.perf_counter()
    data = synthetic_cluster(n_service_accounts=n_sa, n_pods=n_pods, n_roles=n_roles)
    gen = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        write_bundle_files(data, Path(tmp))
        load_med, load_min, inv = timed(lambda: irsa_nb.load_bundle(tmp), repeat=2)
    check_med, check_min, df = timed(lambda: irsa_nb.run_checks(inv))
    records = df.to_dict("records")
    base_med, _, _ = timed(lambda: pd.DataFrame(records, columns=irsa_nb.RESULT_COLUMNS))
    print(f"machine: {platform.machine()} {platform.python_version()}, {platform.platform()}")
    print(
        f"synthetic cluster: {n_sa} service accounts, {n_pods} pods, {n_roles} roles "
        f"(generated in {gen:.1f} s)"
    )
    print(f"load_bundle:  median {load_med:.2f} s (min {load_min:.2f} s)")
    print(
        f"run_checks:   median {check_med:.2f} s (min {check_min:.2f} s), {len(df)} rows, "
        f"{(df.status == 'FAIL').sum()} FAIL"
    )
    print(f"baseline (DataFrame of {len(df)} ready rows): median {base_med:.3f} s")
    print(f"ratio run_checks / baseline: {check_med / base_med:.1f}x")


if __name__ == "__main__":
    main()
