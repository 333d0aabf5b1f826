"""irsa-nb: troubleshoot IAM Roles for Service Accounts (IRSA) on Amazon EKS.

Public API::

    r = irsa_nb.run(irsa_nb.Source(bundle="demo"), irsa_nb.Target("shop", "cart"))
    r.results                                  # one row per finding (RESULT_COLUMNS)

    inv = irsa_nb.load_bundle("demo")          # or a bundle directory / .tar.gz / .zip
    df = irsa_nb.run_checks(inv, namespace="shop", service_account="cart")
"""

from .bundle import BundleError
from .checks import REGISTRY, RESULT_COLUMNS, STATUSES, TargetNotFound, run_checks
from .demo import demo_bundle
from .diagnose import diagnose
from .inventory import Inventory, build_inventory, load_bundle
from .pipeline import Options, Run, Source, Target, run

__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: boto3 and kubernetes load only when collecting
    if name == "collect":
        from .live.collect import collect

        return collect
    if name == "read_evidence":
        from .evidence import read_evidence

        return read_evidence
    if name in ("run_batch", "run_runbook"):
        from . import batch, runbook

        return getattr(batch if name == "run_batch" else runbook, name)
    raise AttributeError(f"module 'irsa_nb' has no attribute {name!r}")


__all__ = [
    "REGISTRY",
    "RESULT_COLUMNS",
    "STATUSES",
    "BundleError",
    "Inventory",
    "Options",
    "Run",
    "Source",
    "Target",
    "TargetNotFound",
    "build_inventory",
    "collect",
    "demo_bundle",
    "diagnose",
    "load_bundle",
    "read_evidence",
    "run",
    "run_batch",
    "run_checks",
    "run_runbook",
]
