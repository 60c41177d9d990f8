"""Efficiency figures of the single window (pure Python)."""
