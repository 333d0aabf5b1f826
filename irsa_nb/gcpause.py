"""Pause Python's cyclic garbage collector while big, acyclic evidence is built.

Parsing 20,000 pods creates millions of dicts and lists; as they pile up, the collector
traverses them again and again, which took about half of the collection and inventory time
(BENCHMARKS.md). The documents hold no reference cycles, so nothing is lost by waiting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block.

    If it was enabled, one full collection follows: it frees the few cycles the clients
    made meanwhile and files everything built as long-lived in one pass, where re-enabling
    alone would make the collector walk it three times as it ages.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.collect()
            gc.enable()
