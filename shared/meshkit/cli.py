"""``python -m egov_<service> [serve|migrate]`` for every service."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from meshkit.db import create_engine
from meshkit.migrations import upgrade_to_head
from meshkit.service import ServiceDefinition


def main(
    definition_factory: Callable[[], ServiceDefinition], app_factory: Callable[[], FastAPI]
) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    definition = definition_factory()
    settings = definition.settings
    if args.command == "migrate":

        async def migrate() -> None:
            engine = create_engine(settings.effective_database_url)
            try:
                await upgrade_to_head(engine, definition.migrations_dir)
            finally:
                await engine.dispose()

        asyncio.run(migrate())
        print(f"{definition.name}: database at head")
        return
    uvicorn.run(
        app_factory(),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )
