"""Proactive offers: a life event makes the state offer a service; the citizen confirms."""
