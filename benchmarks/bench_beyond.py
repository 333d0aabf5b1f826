"""Cost of the beyond-the-article features at cluster scale (5,000 SAs, 20,000 pods).

Prints, measured in the same run: run_checks with the article's checks only (the baseline)
and with every check; predicted_identity over every container; diagnose() per message
without and with an inventory. Run: .venv/bin/python benchmarks/bench_beyond.py
"""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import irsa_nb
from irsa_nb.checks import REGISTRY
from irsa_nb.credentials import predicted_identity
from tests.builders.synthetic import synthetic_cluster, write_bundle_files

BEYOND = (
    "no_credentials_override",
    "pod_identity_precedence",
    "sts_endpoint_config",
    "partition_consistent",
    "trust_policy_not_overbroad",
    "webhook_configured",
    "token_expiration_valid",
    "containers_skipped",
)
MESSAGES = [
    "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity "
    "operation: Incorrect token audience",
    "WebIdentityErr: failed to retrieve credentials\\ncaused by: InvalidIdentityToken: No "
    "OpenIDConnect provider found in your account for https://oidc.eks.us-west-2.amazonaws.com"
    "/id/EXAMPLED539D4633E53DE1B716D3041E\\n\\tstatus code: 400",
    "User: arn:aws:sts::111122223333:assumed-role/node/i-0123456789abcdef0 is not authorized "
    "to perform: s3:GetObject",
    "segmentation fault",
]


def timed(fn, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    data = synthetic_cluster(n_service_accounts=5000, n_pods=20000, n_roles=1000)
    with tempfile.TemporaryDirectory() as tmp:
        write_bundle_files(data, Path(tmp))
        inv = irsa_nb.load_bundle(tmp)
    article = [c.id for c in REGISTRY.values() if c.seed_step is not None]
    others = [c for c in REGISTRY if c not in BEYOND]
    base, df_base = timed(lambda: irsa_nb.run_checks(inv, checks=article))
    rest, df_rest = timed(lambda: irsa_nb.run_checks(inv, checks=others))
    full, df_full = timed(lambda: irsa_nb.run_checks(inv))
    ident, df_id = timed(lambda: predicted_identity(inv), repeat=2)
    n = 200
    plain, _ = timed(lambda: [irsa_nb.diagnose(MESSAGES[i % 4]) for i in range(n)], repeat=1)
    sa = data["service_accounts"][0]["metadata"]
    with_inv, _ = timed(
        lambda: irsa_nb.diagnose(
            MESSAGES[0], inv, namespace=sa["namespace"], service_account=sa["name"]
        ),
    )
    print(
        f"machine: {platform.machine()} Python {platform.python_version()}, {platform.platform()}"
    )
    print(
        f"run_checks, article checks only ({len(article)}): {base:.2f} s, {len(df_base)} rows "
        "(baseline)"
    )
    print(f"run_checks, all but the beyond-the-article checks: {rest:.2f} s, {len(df_rest)} rows")
    print(
        f"run_checks, all {len(REGISTRY)} checks: {full:.2f} s, {len(df_full)} rows "
        f"({full / base:.2f}x baseline; the {len(BEYOND)} new checks add {full - rest:.2f} s)"
    )
    print(f"predicted_identity: {ident:.2f} s for {len(df_id)} containers")
    print(f"diagnose without inventory: {plain / n * 1000:.2f} ms per message")
    print(f"diagnose with inventory, one service account: {with_inv * 1000:.0f} ms")


if __name__ == "__main__":
    main()
