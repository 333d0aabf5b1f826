"""Tests spell a run as keywords; ``parts(**kw)`` sorts them into the pipeline's objects."""

from __future__ import annotations

from typing import Any

from irsa_nb import Options, Source, Target

SOURCE = ("bundle", "cluster", "region", "profile", "context")
TARGET = ("namespace", "service_account", "pod")


def parts(**kw: Any) -> tuple[Source, Target, Options]:
    """``parts(bundle="demo", namespace="shop", lang="zh")`` -> (Source, Target, Options)."""
    source = Source(**{k: kw.pop(k) for k in SOURCE if k in kw})
    target = Target(**{k: kw.pop(k) for k in TARGET if k in kw})
    return source, target, Options(**kw)


def run_runbook(out: Any, **kw: Any) -> Any:
    """:func:`irsa_nb.runbook.run_runbook` with the run spelled as keywords."""
    from irsa_nb.runbook import run_runbook as run

    how = {k: kw.pop(k) for k in ("timeout", "notebook", "kernel_name") if k in kw}
    kw.setdefault("bundle", None if kw.get("cluster") else "demo")
    return run(out, *parts(**kw), **how)
