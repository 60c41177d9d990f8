"""Submitting, advancing and reading applications; the process engine."""
