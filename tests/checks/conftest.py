"""Fixtures for the check tests."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.checks.helpers import demo_docs, results


@pytest.fixture
def demo() -> pd.DataFrame:
    """Every check's results on the demo bundle, run anew for each test (a fraction of a second).

    Not module-scoped: mutation testing (``make mutation``) runs a mutant against the tests
    that call the mutated function, and a test reading a module fixture's cached results
    calls none."""
    return results(demo_docs())
