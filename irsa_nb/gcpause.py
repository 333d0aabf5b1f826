"""Defer Python's full garbage collections while big, acyclic evidence is built.

Parsing 20,000 pods creates millions of dicts and lists. As they pile up, every full
collection walks all of them again, which took about half of the collection and inventory
time (BENCHMARKS.md). Young collections go on (they free the clients' short-lived cycles);
full ones wait until the outermost block ends, then one runs.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_NEVER = 1 << 30  # young collections before a full one: none within a block
_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] = (0, 0, 0)


@contextmanager
def full_gc_deferred() -> Iterator[None]:
    """No full collection inside the block (nested or from several threads: the outermost
    decides); the thresholds are restored after it, then one full collection runs."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], _NEVER)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            last = _depth == 0
            if last:
                gc.set_threshold(*_saved)
        if last and gc.isenabled():
            gc.collect()
