"""Proactive offers and their states (pure Python)."""
