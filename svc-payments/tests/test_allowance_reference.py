"""Unit tests of the reference data (MRP, the allowance table) and of the gateway adapter that
asks identity and registry (a local fake of their answers: this module only)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from egov_payments.adapters.facts_gateway import GatewayFacts
from egov_payments.domain.allowances import AllowanceTable, allowance_table
from meshkit.errors import UpstreamUnavailable
from meshkit.gateway_client import GatewayClient
from meshkit.reference import MrpTable, mrp_table, mrp_tiyn

CHILD, MOTHER, FATHER, DEAD = "260110600109", "920520446747", "900115365296", "700730377251"


def test_mrp_by_year() -> None:
    assert mrp_tiyn(date(2026, 1, 1)) == 432_500  # 4 325 ₸
    assert mrp_tiyn(date(2025, 12, 31)) == 393_200
    assert mrp_tiyn(date(2031, 6, 1)) == 432_500  # not yet published: the latest known
    with pytest.raises(LookupError):
        mrp_tiyn(date(2019, 1, 1))
    assert mrp_table().by_year == {2025: 393_200, 2026: 432_500}


def test_a_malformed_mrp_table_is_refused() -> None:
    for bad in ({"by_year": {}}, {"by_year": {"2026": 0}}, {"by_year": {"26": 1}}, {"x": 1}):
        with pytest.raises(ValidationError):
            MrpTable.model_validate({"unit": "tiyn", **bad})


def test_the_allowance_table() -> None:
    table = allowance_table()
    assert table.amount_tiyn("childbirth", date(2026, 3, 1)) == 38 * 432_500
    assert table.amount_tiyn("funeral", date(2026, 3, 1)) == 52 * 432_500
    assert table.amount_tiyn("childbirth", date(2025, 3, 1)) == 38 * 393_200
    good = table.model_dump()
    with pytest.raises(ValidationError):  # every kind has a rule
        AllowanceTable.model_validate(
            {**good, "allowances": {"funeral": good["allowances"]["funeral"]}}
        )
    with pytest.raises(ValidationError):  # a KBK is 6 digits
        broken = json.loads(json.dumps(good))
        broken["allowances"]["funeral"]["kbk"] = "21305"
        AllowanceTable.model_validate(broken)


def facts(handler: Any) -> GatewayFacts:
    client = GatewayClient(
        "http://gateway.test",
        client_code="payments",
        static_token="t",
        transport=httpx.MockTransport(handler),
    )
    return GatewayFacts(lambda: client)


async def test_the_child_and_its_parents_come_from_identity() -> None:
    seen: list[httpx.Request] = []

    def identity(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path != f"/x/identity/persons/{CHILD}":
            return httpx.Response(404, json={"title": "Not found", "status": 404})
        return httpx.Response(
            200,
            json={
                "iin": CHILD,
                "surname": "Сәрсенбаева",
                "given_name": "Әйгерім",
                "birth_date": "2026-01-10",
                "sex": "female",
                "citizenship": "KZ",
                "status": "active",
                "mother_iin": MOTHER,
                "father_iin": None,
            },
        )

    f = facts(identity)
    child = await f.child(CHILD, on_behalf_of=MOTHER)
    assert child is not None and child.parents == frozenset({MOTHER})
    assert await f.child(FATHER, on_behalf_of=MOTHER) is None  # 404: no such person
    assert seen[0].headers["x-mesh-user"] == MOTHER
    assert "childbirth allowance" in seen[0].headers["x-mesh-purpose"]


async def test_registered_deaths_come_from_the_registry() -> None:
    def registry(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/x/registry/deaths"
        iin = request.url.params["iin"]
        acts = [
            {
                "act_number": "D-2026-0000001",
                "iin": DEAD,
                "date_of_death": "2026-11-30",
                "registered_at": "2026-12-01T09:00:00+00:00",
                "place": "Астана",
            }
        ]
        return httpx.Response(200, json=acts if iin == DEAD else [])

    f = facts(registry)
    assert await f.death_acts(DEAD, on_behalf_of=MOTHER) == ["D-2026-0000001"]
    assert await f.death_acts(FATHER, on_behalf_of=MOTHER) == []


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(503, json={"title": "down", "status": 503}),
        httpx.Response(
            429, json={"title": "slow down", "status": 429}, headers={"Retry-After": "2"}
        ),
        httpx.Response(403, json={"title": "Not allowed", "status": 403}),
        httpx.Response(404, json={"title": "unknown operation", "status": 404}),
        httpx.Response(200, json={"unexpected": True}),
    ],
    ids=["unreachable", "timeout", "503", "429", "not-granted", "no-route", "off-contract"],
)
async def test_an_owner_that_cannot_answer_is_unavailable(answer: Any) -> None:
    def owner(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    f = facts(owner)
    with pytest.raises(UpstreamUnavailable) as caught:
        await f.death_acts(DEAD, on_behalf_of=MOTHER)
    assert caught.value.retry_after_s
    if not (isinstance(answer, httpx.Response) and answer.status_code == 404):
        with pytest.raises(UpstreamUnavailable):
            await f.child(CHILD, on_behalf_of=MOTHER)
