"""Every event of a license application carries the process it was filed in (DESIGN §5): the
single-window application's id when filed as one of its steps, else its own id — also the
events written later, on the payment's event or an officer's decision, and the state-duty
invoice asked for by the retry loop; their causationid is what moved them."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from licensing_harness import Mesh, bin_, iin, licensing_mesh

from meshkit.calendar import ALMATY
from meshkit_testing.polling import eventually

FRIDAY = datetime(2026, 3, 20, 10, 0, tzinfo=ALMATY)
TYPES = (
    "licensing.application.submitted",
    "licensing.application.decided",
    "licensing.license.issued",
)


async def business(m: Mesh, n: int) -> tuple[str, str]:
    director = m.doubles.person(iin(n))
    return director, m.doubles.entity(bin_(n), director, activity_codes=["47730", "79120", "69200"])


async def file_as_a_step(m: Mesh, director: str, bin_value: str, app_id: str) -> dict[str, str]:
    step = f"{app_id}.3.1"
    r = await m.as_citizen(
        "POST",
        "/applications",
        director,
        json={
            "license_type": "TOUR_OPERATOR",
            "applicant_iin": director,
            "applicant_bin": bin_value,
            "details": {"insurance_contract": "ДС-2026/0042"},
        },
        headers={"X-Request-Id": step, "X-Correlation-Id": app_id},
    )
    assert r.status_code == 201, r.text
    out: dict[str, str] = r.json()
    return out


async def test_a_step_filed_application_keeps_the_single_window_application(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await business(m, 1)
        app_id = str(uuid.uuid4())
        filed = await file_as_a_step(m, director, b, app_id)
        # the state duty was asked for in the step's process
        assert [c["correlation"] for c in m.doubles.calls if c["agency"] == "payments"] == [app_id]
        assert await m.pay(filed, event_id="evt-paid-0001")  # payments' event, later
        [submitted], [decided], [issued] = [await m.events(t) for t in TYPES]
        assert submitted["correlationid"] == decided["correlationid"] == app_id
        assert issued["correlationid"] == app_id
        assert submitted["causationid"] == f"{app_id}.3.1"
        # decided and issued on the payment: that event caused them
        assert decided["causationid"] == issued["causationid"] == "evt-paid-0001"


async def test_an_application_filed_directly_is_its_own_process(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await business(m, 2)
        r = await m.apply("TOUR_OPERATOR", director, b, insurance_contract="ДС-2")
        assert r.status_code == 201, r.text
        assert await m.pay(r.json(), event_id="evt-paid-0002")
        events = [e for t in TYPES for e in await m.events(t)]
        assert len(events) == 3
        assert {e["correlationid"] for e in events} == {r.json()["id"]}


async def test_the_invoice_retry_asks_in_the_applications_process(
    tmp_path: Path, database_url: str | None
) -> None:
    async with licensing_mesh(tmp_path, database_url=database_url, start=FRIDAY) as m:
        director, b = await business(m, 3)
        m.doubles.payments_down = True
        app_id = str(uuid.uuid4())
        filed = await file_as_a_step(m, director, b, app_id)
        assert filed["status"] == "awaiting_invoice"
        m.doubles.payments_down = False  # the retry loop, in no request, asks again

        async def invoiced() -> bool:
            r = await m.as_citizen("GET", f"/applications/{filed['id']}", director)
            return bool(r.json()["status"] == "awaiting_payment")

        await eventually(invoiced, within=10, what="the invoice retry")
        asked = [c["correlation"] for c in m.doubles.calls if c["agency"] == "payments"]
        assert len(asked) >= 2 and set(asked) == {app_id}, asked
