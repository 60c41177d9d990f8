"""Public service centre channel: an operator applies for a citizen with the citizen's consent
(identity's consent token: the citizen as subject, the operator as actor), the application is
the citizen's and records where it was made; the attacker's tries next to the user's; the
share of electronic services counts centre applications as not electronic."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from meshkit.auth import SigningKey
from meshkit_testing.gateway import CITIZEN, ISSUER, OPERATOR, OTHER_CITIZEN
from meshkit_testing.gateway_offers import SingleWindowHarness
from meshkit_testing.polling import eventually

CENTRE_AUDIENCE = "egov-gateway/centre"
SERVICE = "id-address-certificate"  # a simple service a citizen applies for themselves
OTHER_OPERATOR = "870101300011"


def consent(
    sw: SingleWindowHarness,
    citizen: str = CITIZEN,
    operator: str = OPERATOR,
    *,
    ttl: int = 600,
    aud: str = CENTRE_AUDIENCE,
    now: float | None = None,
    key: SigningKey | None = None,
    scope: str = "centre:apply",
) -> str:
    """What identity's POST /auth/centre/consent/answer issues."""
    issued = int(now if now is not None else time.time())
    return (key or sw.identity.ring.current).sign(
        {
            "iss": ISSUER,
            "aud": aud,
            "sub": citizen,
            "kind": "citizen",
            "scope": scope,
            "act": {"sub": operator, "kind": "operator", "centre": "con-astana-1"},
            "amr": ["otp"],
            "jti": str(uuid.uuid4()),
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl,
        }
    )


def at_desk(sw: SingleWindowHarness, operator: str = OPERATOR) -> dict[str, str]:
    """An operator of a public service centre (role centre-operator)."""
    return sw.identity.bearer("operator", operator, roles=["centre-operator"])


async def apply(
    sw: SingleWindowHarness,
    token: str,
    *,
    iin: str = CITIZEN,
    operator: str = OPERATOR,
    headers: dict[str, str] | None = None,
) -> Any:
    return await sw.client.post(
        "/api/v1/centre/applications",
        json={"consent_token": token, "iin": iin, "service_code": SERVICE, "payload": {"iin": iin}},
        headers=headers if headers is not None else at_desk(sw, operator),
    )


async def test_operator_applies_for_the_citizen_on_their_consent(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    given = consent(sw)
    r = await apply(sw, given)
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["applicant_iin"] == CITIZEN and app["origin"] == "centre"
    channel = app["channel"]
    assert channel["kind"] == "centre" and channel["centre"] == "con-astana-1"
    assert channel["operator"] == OPERATOR and channel["consent_id"] and channel["consented_at"]
    # the citizen sees it among their applications, as made at a centre
    mine = await sw.client.get("/api/v1/me/applications", headers=sw.citizen(CITIZEN))
    [item] = [a for a in mine.json()["items"] if a["id"] == app["id"]]
    assert item["origin"] == "centre" and item["channel"]["kind"] == "centre"

    # every step runs on the citizen's behalf (the mandate), never as the operator
    async def steps_ran() -> bool:
        return len(sw.agencies.calls) >= 2

    await eventually(steps_ran, within=10, what="the application's steps")
    assert {c["on_behalf_of"] for c in sw.agencies.calls} == {CITIZEN}
    assert {c["application_id"] for c in sw.agencies.calls} == {app["id"]}


async def test_centre_attackers(single_window: SingleWindowHarness) -> None:
    sw = single_window
    given = consent(sw)
    # an operator without the citizen's consent
    r = await sw.client.post(
        "/api/v1/centre/applications",
        json={"iin": CITIZEN, "service_code": SERVICE, "payload": {}},
        headers=at_desk(sw),
    )
    assert r.status_code == 422
    assert (await apply(sw, "not.a.token")).status_code == 401
    # the operator's own token, or an ordinary token of the citizen, is no consent
    own = sw.identity.token("operator", OPERATOR)
    assert (await apply(sw, own)).status_code == 401
    assert (await apply(sw, sw.identity.token("citizen", CITIZEN))).status_code == 401
    # consent of citizen A cannot apply for citizen B
    r = await apply(sw, given, iin=OTHER_CITIZEN)
    assert r.status_code == 403 and "another citizen" in r.json()["detail"]
    # consent given to another operator
    r = await apply(sw, given, operator=OTHER_OPERATOR)
    assert r.status_code == 403 and "another operator" in r.json()["detail"]
    # an operator without the centre role (an auditor, an administrator)
    r = await apply(sw, given, headers=sw.identity.bearer("operator", OPERATOR, roles=["auditor"]))
    assert r.status_code == 403
    # a citizen (even the one who consented) cannot use the centre endpoints
    r = await apply(sw, given, headers=sw.citizen(CITIZEN))
    assert r.status_code == 403
    assert (await apply(sw, given, headers={})).status_code == 401
    # an expired consent, a forged one, one without the centre scope
    assert (await apply(sw, consent(sw, now=time.time() - 3600))).status_code == 401
    assert (await apply(sw, consent(sw, key=SigningKey.generate()))).status_code == 401
    assert (await apply(sw, consent(sw, scope="citizen"))).status_code == 401
    # the consent opens no other door: not the citizen's own endpoints
    r = await sw.client.get("/api/v1/me/applications", headers={"Authorization": f"Bearer {given}"})
    assert r.status_code == 401
    # nothing was applied for
    mine = await sw.client.get("/api/v1/me/applications", headers=sw.citizen(OTHER_CITIZEN))
    assert mine.json()["items"] == []
    mine = await sw.client.get("/api/v1/me/applications", headers=sw.citizen(CITIZEN))
    assert mine.json()["items"] == []


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


async def test_share_electronic_counts_centre_applications_as_not_electronic(
    single_window: SingleWindowHarness,
) -> None:
    sw = single_window
    for n, origin in enumerate(["portal", "api", "centre", "offer"]):
        await sw.add_application(
            id=f"00000000-0000-0000-0000-0000000001{n}",
            applicant_iin=CITIZEN,
            service_code=SERVICE,
            agency="identity",
            origin=origin,
            status="completed",
            submitted_at=_at(5 + n),
            due_at=_at(20),
            completed_at=_at(5 + n, 10),
        )
    r = await sw.client.get(
        "/api/v1/stats", params={"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    found = body["overall"]
    assert found["share_electronic"] == 0.75
    assert found["rendered_by_channel"] == {"centre": 1, "electronic": 3}
