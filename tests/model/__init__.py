"""Tests of the model: credentials (SDK credential chains), and the typed inventory."""
