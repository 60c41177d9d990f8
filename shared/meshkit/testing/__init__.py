"""Test helpers for egov-mesh: fixtures (plugin), infrastructure selection, polling."""
