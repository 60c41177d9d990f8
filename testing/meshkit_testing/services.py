"""The six services of the mesh, for tests that run them in-process."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

SERVICES = ("gateway", "identity", "registry", "licensing", "payments", "notary")


def app_factory(service: str) -> tuple[Callable[..., FastAPI], type[Any]]:
    """(create_app, SettingsClass) of ``service``."""
    app_mod = importlib.import_module(f"egov_{service}.app")
    settings_mod = importlib.import_module(f"egov_{service}.settings")
    settings_cls = getattr(settings_mod, f"{service.capitalize()}Settings")
    return app_mod.create_app, settings_cls


def build_app(service: str, data_dir: Path, **overrides: Any) -> FastAPI:
    create_app, settings_cls = app_factory(service)
    settings = settings_cls(data_dir=data_dir, dev_mode=True, log_json=False, **overrides)
    return create_app(settings)
