"""Read models (cosmicpython "views"): the hot read of a person by IIN — one prebuilt
statement, no unit of work. On PostgreSQL it has its own small autocommit pool without
pre-ping: one round trip per read (no BEGIN/ROLLBACK, no ping); a connection found dead is
retried once on a fresh one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, literal, null, select, union_all
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from egov_identity.adapters import orm
from egov_identity.adapters.repositories import _PERSON_COLUMNS
from egov_identity.domain.persons import Person

_p = orm.persons
_IIN = bindparam("iin", type_=_p.c.iin.type)
_BLANKS = [null() for _ in _PERSON_COLUMNS[1:]]
#: the person (kind 0) and its children's IINs (kind 1) in one statement, built once
PERSON_RECORD: Any = union_all(
    select(literal(0).label("kind"), *(_p.c[c] for c in _PERSON_COLUMNS)).where(_p.c.iin == _IIN),
    select(literal(1), _p.c.iin, *_BLANKS).where(_p.c.mother_iin == _IIN),
    select(literal(1), _p.c.iin, *_BLANKS).where(_p.c.father_iin == _IIN),
)


def _person(rows: list[Any]) -> Person | None:
    person_row = next((r for r in rows if r[0] == 0), None)
    if person_row is None:
        return None
    children = sorted({r[1] for r in rows if r[0] == 1})
    data = dict(zip(_PERSON_COLUMNS, person_row[1:], strict=True))
    return Person(**data, children_iins=children)


class PersonReadModel:
    def __init__(self, engine: AsyncEngine, *, pool_size: int = 10) -> None:
        self._own = engine.dialect.name == "postgresql"
        self.engine = (
            create_async_engine(
                engine.url,
                isolation_level="AUTOCOMMIT",
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=False,
            )
            if self._own
            else engine
        )

    async def person(self, iin: str) -> Person | None:
        for attempt in range(2):
            try:
                async with self.engine.connect() as conn:
                    rows = (await conn.execute(PERSON_RECORD, {"iin": iin})).all()
                return _person(list(rows))
            except DBAPIError as exc:
                if attempt or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._own:
            await self.engine.dispose()
