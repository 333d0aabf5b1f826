"""Tests of the documents layer: bundle layout and safe reading/writing, redaction, gcpause."""
