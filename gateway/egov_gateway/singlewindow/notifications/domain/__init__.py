"""Notifications and what deserves an SMS (pure Python)."""
