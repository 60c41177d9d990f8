"""Read models (cosmicpython "views"): the hot read of a person by IIN, one query, no unit of
work. On PostgreSQL it runs on an autocommit connection (one round trip: no BEGIN/ROLLBACK)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from egov_identity.adapters import orm
from egov_identity.adapters.repositories import _PERSON_COLUMNS
from egov_identity.domain.persons import Person

_p = orm.persons


def _record_query(iin: str) -> Any:
    person = select(literal(0).label("kind"), *(_p.c[c] for c in _PERSON_COLUMNS)).where(
        _p.c.iin == iin
    )
    blanks = [null() for _ in _PERSON_COLUMNS[1:]]
    as_mother = select(literal(1), _p.c.iin, *blanks).where(_p.c.mother_iin == iin)
    as_father = select(literal(1), _p.c.iin, *blanks).where(_p.c.father_iin == iin)
    return union_all(person, as_mother, as_father)


async def person_record(engine: AsyncEngine, iin: str) -> Person | None:
    autocommit = engine.dialect.name == "postgresql"
    async with engine.connect() as conn:
        if autocommit:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        rows = (await conn.execute(_record_query(iin))).all()
    person_row = next((r for r in rows if r[0] == 0), None)
    if person_row is None:
        return None
    children = sorted({r[1] for r in rows if r[0] == 1})
    data = dict(zip(_PERSON_COLUMNS, person_row[1:], strict=True))
    return Person(**data, children_iins=children)
