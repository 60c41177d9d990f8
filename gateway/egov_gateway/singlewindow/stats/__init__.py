"""Efficiency figures of the single window, computed from the gateway's own records."""
