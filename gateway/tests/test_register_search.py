"""The catalogue search as people use it (ISSUE 18): word forms in Kazakh, Russian and English,
ё/е and Kazakh letters folded, synonyms and concepts kept as data, typos forgiven — measured
on a corpus of queries (``search_corpus.yaml``) through the HTTP API on SQLite and PostgreSQL;
and the analyser and the data's validation as units."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import select, update

from egov_gateway.bootstrap import components_of
from egov_gateway.register.adapters.tables import register_state, services
from egov_gateway.register.domain.search import (
    INDEX_VERSION,
    Catalogue,
    fold,
    kk_stem,
    parse_query,
    stems,
)
from egov_gateway.register.search_data import load_search_data, search_vocabulary
from egov_gateway.register.seed_data import RegisterDataError
from meshkit_testing.apps import running
from meshkit_testing.services import build_app

CORPUS = Path(__file__).with_name("search_corpus.yaml")
#: the corpus' hit rate may not fall below this (measured: see the report of ISSUE 18)
FLOOR = 0.95


@dataclass
class Gw:
    client: httpx.AsyncClient
    app: FastAPI


@pytest.fixture
async def gw(tmp_path: Path, database_url: str | None) -> AsyncIterator[Gw]:
    app = build_app(
        "gateway",
        tmp_path,
        kafka_enabled=False,
        database_url=database_url,
        agency_urls={a: f"http://{a}.test:80" for a in ("identity", "registry")},
        register_options={"background": False},
    )
    async with running(app) as client:
        yield Gw(client, app)


async def codes(c: httpx.AsyncClient, q: str, lang: str = "ru", **params: Any) -> list[str]:
    r = await c.get("/api/v1/services", params={"q": q, "lang": lang, "page_size": 50, **params})
    assert r.status_code == 200, r.text
    return [s["code"] for s in r.json()["items"]]


# -- the corpus --------------------------------------------------------------------------------
async def test_corpus_of_queries_hit_rate(gw: Gw, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["queries"]
    assert len(corpus) >= 40 and {e["lang"] for e in corpus} == {"kk", "ru", "en"}
    misses: list[str] = []
    by_lang: dict[str, list[int]] = {}
    for entry in corpus:
        top = int(entry.get("top", 5))
        found = await codes(gw.client, entry["q"], entry["lang"])
        hit = set(entry["expect"]) <= set(found[:top])
        by_lang.setdefault(entry["lang"], []).append(int(hit))
        if not hit:
            misses.append(f"{entry['q']!r} ({entry['lang']}): top {top} = {found[:top]}")
    hits = sum(sum(v) for v in by_lang.values())
    rate = hits / len(corpus)
    with capsys.disabled():
        per_lang = ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(by_lang.items()))
        print(f"\nsearch corpus: {hits}/{len(corpus)} = {rate:.1%} ({per_lang})")
        for m in misses:
            print("  miss:", m)
    assert rate >= FLOOR, misses


# -- what the corpus stands on, one behaviour each -----------------------------------------------
async def test_word_forms_and_folding(gw: Gw) -> None:
    c = gw.client
    # Russian cases, ё/е, upper case
    assert (await codes(c, "ЛИЦЕНЗИИ НА АПТЕКУ"))[0] == "lc-license-pharmacy"
    assert (await codes(c, "рождение ребёнка"))[:4] == (await codes(c, "рождение ребенка"))[:4]
    # Kazakh endings, and Kazakh typed without its letters
    kk = await codes(c, "лицензияның түрлері", "kk")
    assert kk[0] == "lc-license-types"
    assert await codes(c, "лицензиянын турлери", "kk") == kk
    # English plural / Latin i in a Kazakh word
    assert (await codes(c, "fines", "en"))[0] == "pm-fine-payment"
    assert "rg-legal-entity-search" in await codes(c, "заңды тулғаларды iздеу", "kk")


async def test_synonyms_and_concepts_find_what_no_name_says(gw: Gw) -> None:
    c = gw.client
    identity = {"id-personal-data", "id-address-certificate", "id-personal-data-change"}
    for q in ("паспорт", "passport", "удостоверение личности", "жеке куәлік", "пасспорт"):
        found = await codes(c, q)
        assert identity <= set(found[:5]), (q, found)
    for q in ("ИИН", "жсн", "IIN"):
        assert {"id-personal-data", "id-person-registration"} <= set(await codes(c, q)), q
    licence = set(await codes(c, "licence", "en"))
    assert licence == set(await codes(c, "license", "en")) == set(await codes(c, "лицензия"))
    assert "lc-license-pharmacy" in licence and "pm-fine-payment" not in licence
    # one word of a synonym phrase is not the phrase: "удостоверение" alone also names the
    # notary's certifications (удостоверение доверенности)
    assert "nt-power-of-attorney" in await codes(c, "удостоверение")
    assert "nt-power-of-attorney" not in await codes(c, "удостоверение личности")


async def test_most_words_met_first_and_nothing_for_nonsense(gw: Gw) -> None:
    c = gw.client
    found = await codes(c, "справка о рождении")
    assert found[0] == "rg-birth-certificate"
    # services meeting fewer of the words than the best are left out
    assert "rg-death-certificate" not in found and "cx-birth-of-child" not in found
    r = await c.get("/api/v1/services", params={"q": "квазиэкзистенциализм"})
    assert r.status_code == 200 and r.json() == {
        "items": [],
        "total": 0,
        "page": 1,
        "page_size": 20,
    }
    r = await c.get("/api/v1/services", params={"q": "%_\\ --- ..."})
    assert r.status_code == 200 and r.json()["total"] == 0  # LIKE's wildcards are no words
    # filters still apply, and pages page through the ranked answer
    only = await codes(c, "лицензия", citizen_facing="false")
    assert only and all(
        s in {"lc-application-decision", "lc-license-suspension", "lc-license-revocation"}
        for s in only
    )
    first = await c.get("/api/v1/services", params={"q": "лицензия", "page_size": 3})
    second = await c.get("/api/v1/services", params={"q": "лицензия", "page_size": 3, "page": 2})
    a, b = first.json(), second.json()
    assert a["total"] == b["total"] >= 9
    assert not {s["code"] for s in a["items"]} & {s["code"] for s in b["items"]}


async def test_an_old_index_is_rebuilt_at_start(gw: Gw, tmp_path: Path) -> None:
    """A register indexed before the analyser (or by an older one) is indexed anew at start."""
    register = components_of(gw.app).register
    engine = gw.app.state.runtime.engine
    async with engine.begin() as conn:
        await conn.execute(update(services).values(search_text=" stale "))
        await conn.execute(
            update(register_state)
            .where(register_state.c.key == "search_index_version")
            .values(value=INDEX_VERSION - 1)
        )
    assert await codes(gw.client, "паспорт") == [
        "id-address-certificate",
        "id-family-composition",
        "id-personal-data",
        "id-personal-data-change",
    ]  # only the concept is left to find them
    await register.ensure_search_index()
    async with engine.connect() as conn:
        text = await conn.scalar(
            select(services.c.search_text).where(services.c.code == "rg-birth-certificate")
        )
        version = await conn.scalar(
            select(register_state.c.value).where(register_state.c.key == "search_index_version")
        )
    assert version == INDEX_VERSION and " n:рожден " in text and " n:туу " in text
    assert (await codes(gw.client, "справка о рождении"))[0] == "rg-birth-certificate"


# -- units: the analyser and the data ------------------------------------------------------------
def test_kazakh_stems_and_folding() -> None:
    assert kk_stem("лицензияның") == kk_stem("лицензиянын") == "лицензия"
    assert kk_stem("анықтамасына") == "аныктама"
    assert kk_stem("куәлігін") == "куалик"  # the ending's voicing undone
    assert kk_stem("кітабы") == "китап"
    assert kk_stem("шот") == "шот"  # never fewer than three letters
    assert fold("Қызмет ӘЛЕУЕТІ ёлка") == "кызмет алеуети елка"
    assert stems("жеке") == {"жек", "жеке"}  # no Kazakh letter: Russian or Kazakh
    assert stems("тіркеу") == {"тиркеу"}  # Kazakh letters: Kazakh only


def test_typos_are_corrected_to_the_catalogue_only_when_nothing_matches() -> None:
    cat = Catalogue([" n:лиценз n:неке ", " n:жеке "], search_vocabulary())
    assert "лиценз" in parse_query("лицезия", cat).clauses[0].alternatives[0].terms[0]
    # a short word is not "corrected" into another (неке ≠ жеке)
    assert parse_query("некеге", Catalogue([" n:жеке "], search_vocabulary())).clauses[
        0
    ].alternatives[0].terms == (frozenset({"неке", "некег"}),)


def test_the_data_is_validated(tmp_path: Path) -> None:
    def load(text: str) -> None:
        (tmp_path / "search.yaml").write_text(text, encoding="utf-8")
        load_search_data(tmp_path, services={"id-personal-data"})

    load("owner: gateway\nsynonyms: [[a1, b1]]\n")
    with pytest.raises(RegisterDataError, match=r"search.yaml: synonyms.0: .*at least 2"):
        load("owner: gateway\nsynonyms: [[alone]]\n")
    with pytest.raises(RegisterDataError, match=r"listed twice"):
        load("owner: gateway\nsynonyms: [[Лицензия, лицензия]]\n")
    with pytest.raises(RegisterDataError, match=r"stopwords.en.0: Input should be a valid str"):
        load("owner: gateway\nstopwords: {en: [on]}\n")  # YAML's "on" is true
    with pytest.raises(RegisterDataError, match=r"concepts.0.services: no such service"):
        load("owner: gateway\nconcepts: [{words: [x1], services: [id-nothing]}]\n")
    with pytest.raises(RegisterDataError, match=r"synonym: Extra inputs"):
        load("owner: gateway\nsynonym: []\n")
