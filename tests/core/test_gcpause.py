"""The cyclic GC is paused while evidence is built, and always left as it was found."""

from __future__ import annotations

import gc

import pytest

import irsa_nb
from irsa_nb.gcpause import gc_paused


@pytest.fixture(autouse=True)
def _restore_gc():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_and_restored_after_even_on_error():
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    irsa_nb.load_bundle("demo")
    assert not gc.isenabled()


def test_cycles_made_while_paused_are_freed_at_the_end():
    gc.enable()

    class Node:
        pass

    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert any(type(o) is Node for o in gc.get_objects())
    assert not any(type(o) is Node for o in gc.get_objects())
    irsa_nb.load_bundle("demo")
    assert gc.isenabled()
