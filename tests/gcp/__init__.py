"""Tests of the GCP app stack."""
