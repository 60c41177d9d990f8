"""Notifying a citizen, reading the inbox, the event handlers."""
