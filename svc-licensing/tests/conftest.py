"""Fixtures of the svc-licensing tests: every flow runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

# tests import the harness by module name (pytest runs with --import-mode=importlib)
sys.path.insert(0, str(Path(__file__).parent))
