"""The synthetic persons generator (the fast path is COPY on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from egov_identity.generator import generate, load
from meshkit.db import create_engine
from meshkit.ids import parse_iin
from meshkit_testing.apps import FakeGateway, running


def test_generated_rows_are_valid_unique_and_linked() -> None:
    rows = list(generate(5000, seed=3))
    iins = [r[0] for r in rows]
    assert len(set(iins)) == 5000
    by_iin = {r[0]: r for r in rows}
    for r in rows[:500]:
        info = parse_iin(r[0])
        assert (info.birth_date, info.sex) == (r[6], r[7])
    linked = [r for r in rows if r[15] or r[16]]
    assert len(linked) > 1000
    for r in linked[:200]:
        for parent in (r[15], r[16]):
            if parent:
                assert by_iin[parent][6] < r[6]  # parents are older
    assert any(ch in "".join(r[1] + r[2] for r in rows) for ch in "ӘҒҚҢӨҰҮҺІ")
    assert list(generate(50, seed=3)) != list(generate(50, seed=4))


async def test_load_then_allocation_continues_after_generated_serials(
    tmp_path: Path, database_url: str | None
) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'gen.db'}"
    result = await load(url, 3000, seed=5)
    assert result["total_persons"] == 3000
    again = await load(url, 2000, seed=6)  # a second run adds, never collides
    assert again["total_persons"] == 5000
    engine = create_engine(url)
    async with engine.connect() as conn:
        busiest = (
            await conn.execute(
                text(
                    "SELECT birth_date, sex FROM persons GROUP BY birth_date, sex "
                    "ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).one()
    await engine.dispose()
    from meshkit_testing.services import build_app

    gw = FakeGateway(tmp_path)
    app = build_app(
        "identity", tmp_path, database_url=url, kafka_enabled=False, gateway_jwks_url=gw.jwks_url
    )
    async with running(app) as client:
        body = {
            "surname": "Жаңа",
            "given_name": "Адам",
            "birth_date": str(busiest.birth_date),
            "sex": busiest.sex,
        }
        r = await client.post(
            "/persons",
            json=body,
            headers=gw.headers("identity", "POST", "/persons", client="registry", json=body),
        )
        assert r.status_code == 201, r.text
        assert str(parse_iin(r.json()["iin"]).birth_date) == str(busiest.birth_date)
