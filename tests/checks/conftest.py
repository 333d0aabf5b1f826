"""Fixtures for the check tests."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.checks.helpers import demo_docs, results


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    """Every check's results on the demo bundle (once per test module)."""
    return results(demo_docs())
