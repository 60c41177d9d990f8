"""Composite services end to end on the full mesh: the six services as separate processes,
each on its own PostgreSQL database, real Kafka, citizens logged in with password + SMS code.

One mesh serves the module (starting it is the slow part); each test uses its own citizens'
data so the order does not matter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from meshkit import calendar
from meshkit.testing.polling import eventually
from meshkit.testing.processes import ProcessMesh, process_mesh

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
MOTHER, MOTHER_PHONE = "920308400210", "+77021234568"
FATHER, FATHER_PHONE = "900115300122", "+77011234567"
OPERATOR, OPERATOR_PHONE = "880707300858", "+77471234573"


@pytest.fixture(scope="module")
def mesh(
    kafka: Any, postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProcessMesh]:
    run = uuid.uuid4().hex[:8]
    with process_mesh(
        tmp_path_factory.mktemp("mesh"),
        kafka.bootstrap_servers,
        database_url=lambda name: postgres.create_database(f"e2e_{run}_{name}"),
        extra_env={
            # a step whose agency stays down fails after this long (then compensations run)
            "GATEWAY_APPLICATIONS__STEP_RETRY_FOR_S": "4",
            "GATEWAY_APPLICATIONS__STEP_RETRY_BACKOFF_S": "0.5",
            "GATEWAY_APPLICATIONS__SWEEP_INTERVAL_S": "1",
            "GATEWAY_BREAKER_COOLDOWN_S": "1",
        },
        cwd=ROOT,
    ) as m:
        yield m


@pytest.fixture(scope="module")
def tokens(mesh: ProcessMesh) -> dict[str, str]:
    return {
        MOTHER: mesh.login(MOTHER, MOTHER_PHONE),
        FATHER: mesh.login(FATHER, FATHER_PHONE),
        OPERATOR: mesh.login(OPERATOR, OPERATOR_PHONE),
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def apply(
    gw: httpx.AsyncClient, token: str, service_code: str, payload: dict[str, Any]
) -> str:
    r = await gw.post(
        "/api/v1/applications",
        json={"service_code": service_code, "payload": payload},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.text
    app_id: str = r.json()["id"]
    return app_id


async def until(
    gw: httpx.AsyncClient, token: str, app_id: str, *statuses: str, within: float = 90
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        r = await gw.get(f"/api/v1/applications/{app_id}", headers=bearer(token))
        assert r.status_code == 200, r.text
        seen.clear()
        seen.update(r.json())
        assert seen["status"] != "failed" or "failed" in statuses, seen["failure_reason"]
        return seen["status"] in statuses

    await eventually(reached, within=within, what=f"application {app_id} → {statuses}")
    return seen


async def audited_as_gateway(
    gw: httpx.AsyncClient, operator: str, application: dict[str, Any], user: str
) -> list[dict[str, Any]]:
    """Every step's call is in the audit log: client gateway, on behalf of the applicant."""
    records = []
    for step in application["steps"]:
        if not step["request"]:
            continue
        r = await gw.get(
            "/api/v1/audit",
            params={"request_id": step["request"]["request_id"]},
            headers=bearer(operator),
        )
        assert r.status_code == 200, r.text
        # the agency's own onward calls carry the same request id: the chain is traceable
        found = [rec for rec in r.json()["items"] if rec["client"] == "gateway"]
        assert len(found) == 1, (step["name"], r.json()["items"])
        rec = found[0]
        assert rec["user"] == user and rec["status"] < 400
        assert application["id"] in rec["purpose"]
        records.append(rec)
    return records


def birth_payload() -> dict[str, Any]:
    from datetime import UTC, datetime

    born = calendar.local_date(datetime.now(UTC)) - timedelta(days=1)
    return {
        "surname": "Сәрсенбаев",
        "given_name": "Әмір",
        "patronymic": "Әлиханұлы",
        "birth_date": born.isoformat(),
        "sex": "male",
        "place": "Алматы қ., №1 перзентхана",
        "mother_iin": MOTHER,
        "father_iin": FATHER,
    }


async def test_birth_of_a_child_ends_with_the_allowance_paid(
    mesh: ProcessMesh, tokens: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30) as gw:
        app_id = await apply(gw, tokens[MOTHER], "cx-birth-of-child", birth_payload())
        done = await until(gw, tokens[MOTHER], app_id, "completed")
        steps = {s["name"]: s for s in done["steps"]}
        assert [s["status"] for s in done["steps"]] == ["done"] * 4
        child = steps["register_birth"]["event"]["child_iin"]
        assert steps["confirm_child_record"]["result"]["iin"] == child
        assert done["result"]["type"] == "kz.egov.payments.payout.completed.v1"
        assert done["result"]["recipient_iin"] == MOTHER and done["result"]["amount_tiyn"] > 0
        assert steps["applicant_record"]["result"]["iin"] == MOTHER  # once-only
        await audited_as_gateway(gw, tokens[OPERATOR], done, MOTHER)
        assert done["result"]["payout_id"] == steps["birth_allowance"]["result"]["id"]
        r = await gw.post(
            f"/api/v1/applications/{app_id}/rating",
            json={"rating": 5, "comment": "Бір өтініш — бәрі дайын"},
            headers=bearer(tokens[MOTHER]),
        )
        assert r.status_code == 200 and r.json()["rating"] == 5


async def test_a_failing_step_compensates_and_the_citizen_sees_why(
    mesh: ProcessMesh, tokens: dict[str, str]
) -> None:
    """Open a business while payments is down: the LLP is registered, the duty invoice cannot
    be issued, the LLP is liquidated again (compensation) and the application fails."""
    payload = {
        "name_kk": f"«Сынақ {uuid.uuid4().hex[:6]}» ЖШС",
        "name_ru": "ТОО «Сынақ»",
        "founders": [{"id": FATHER, "share": {"num": 1, "den": 1}}],
        "address": "Астана қ., Мәңгілік Ел д., 8",
    }
    mesh.kill("payments")
    try:
        async with httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30) as gw:
            app_id = await apply(gw, tokens[FATHER], "cx-open-business", payload)
            failed = await until(gw, tokens[FATHER], app_id, "failed", within=120)
            steps = {s["name"]: s for s in failed["steps"]}
            assert steps["register_llp"]["status"] == "compensated"
            assert steps["duty_invoice"]["status"] == "failed"
            assert failed["failure_reason"].startswith("duty_invoice:")
            assert "payments" in failed["failure_reason"]
            kinds = [t["kind"] for t in failed["timeline"]]
            assert kinds.index("step_failed") < kinds.index("compensated")
            bin_ = steps["register_llp"]["event"]["bin"]
            # licensing (which checks BINs in the register) sees the entity liquidated
            r = await gw.get(
                f"/x/registry/legal-entities/{bin_}",
                headers={
                    **bearer(mesh.agency_token("licensing")),
                    "X-Mesh-Purpose": "e2e: is the compensated LLP liquidated",
                },
            )
            assert r.status_code == 200 and r.json()["status"] == "liquidated", r.text
    finally:
        mesh.start("payments")


async def test_a_gateway_killed_mid_process_resumes_and_completes(
    mesh: ProcessMesh, tokens: dict[str, str]
) -> None:
    """SIGKILL the gateway while an application is in the middle of its steps (payments is
    down, so the allowance step is being retried): the restarted gateway picks the process up
    from its database, the agencies' events still reach it, and the allowance is paid."""
    mesh.kill("payments")
    gw = httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30)
    try:
        app_id = await apply(gw, tokens[MOTHER], "cx-birth-of-child", birth_payload())
        seen: dict[str, Any] = {}

        async def allowance_retrying() -> bool:
            r = await gw.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens[MOTHER]))
            seen.update(r.json())
            allowance = r.json()["steps"][-1]
            return bool(
                allowance["attempts"] >= 1 and allowance["status"] in ("pending", "calling")
            )

        await eventually(allowance_retrying, within=60, what="the allowance step retrying")
        mesh.kill("gateway")  # SIGKILL, mid-process
        assert seen["status"] not in ("completed", "failed")
        assert [s["status"] for s in seen["steps"][:3]] == ["done", "done", "done"]
    finally:
        await gw.aclose()
    # the restarted gateway waits for payments as long as it takes (no give-up while down)
    mesh.extra_env["GATEWAY_APPLICATIONS__STEP_RETRY_FOR_S"] = "600"
    mesh.start("payments", "gateway")
    async with httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30) as gw:
        done = await until(gw, tokens[MOTHER], app_id, "completed", within=120)
        assert done["result"]["recipient_iin"] == MOTHER
        allowance = done["steps"][-1]
        assert allowance["attempts"] >= 2  # called again by the new gateway
        await audited_as_gateway(gw, tokens[OPERATOR], done, MOTHER)
