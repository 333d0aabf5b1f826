"""Tests of the faces: the CLI, the runbook and fleet notebooks, the widgets, the report."""
