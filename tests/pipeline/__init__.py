"""Tests of the pipeline: irsa_nb.run() and diagnose (error text -> causes -> checks)."""
