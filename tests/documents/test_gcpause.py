"""Full garbage collections wait while evidence is built; the collector is left as found."""

from __future__ import annotations

import gc
import threading

import pytest

import irsa_nb
from irsa_nb.gcpause import full_gc_deferred


@pytest.fixture(autouse=True)
def _restore_gc():
    enabled, thresholds = gc.isenabled(), gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


def test_no_full_collection_inside_and_thresholds_restored_after_even_on_error():
    gc.set_threshold(700, 10, 10)
    with full_gc_deferred():
        young, middle, full = gc.get_threshold()
        assert (young, middle) == (700, 10) and full > 10**6
        with full_gc_deferred():  # nested: the outermost block restores
            pass
        assert gc.get_threshold()[2] == full
    assert gc.get_threshold() == (700, 10, 10)
    with pytest.raises(RuntimeError), full_gc_deferred():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_blocks_in_threads_leave_the_thresholds_as_found():
    gc.set_threshold(700, 10, 10)
    inside, leave = threading.Barrier(2), threading.Event()

    def block(first: bool) -> None:
        with full_gc_deferred():
            inside.wait()
            if first:
                leave.set()  # the first block ends while the second is still open
            else:
                leave.wait()
                assert gc.get_threshold()[2] > 10**6

    threads = [threading.Thread(target=block, args=(i == 0,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.get_threshold() == (700, 10, 10)


def test_cycles_made_inside_are_freed_and_a_disabled_collector_stays_disabled():
    class Node:
        pass

    gc.enable()
    with full_gc_deferred():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
    assert not any(type(o) is Node for o in gc.get_objects())
    gc.disable()
    irsa_nb.load_bundle("demo")
    assert not gc.isenabled()
