from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from payments_harness import Payments, payments_service


@pytest.fixture
async def svc(tmp_path: Path, database_url: str | None) -> AsyncIterator[Payments]:
    async with payments_service(tmp_path, database_url) as s:
        yield s
