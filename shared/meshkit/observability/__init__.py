"""Logs, metrics, health and tracing for every service."""
