"""Composite services end to end on the full mesh: the six services as separate processes,
each on its own PostgreSQL database, real Kafka, citizens logged in with password + SMS code.

One mesh serves the module (starting it is the slow part); each test uses its own citizens'
data so the order does not matter.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509

from meshkit import calendar
from meshkit.documents import DocumentSigner, load_pem_chain
from meshkit_testing.ca import make_csr, sign_content
from meshkit_testing.polling import eventually
from meshkit_testing.processes import ProcessMesh, single_window_mesh

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
MOTHER, MOTHER_PHONE = "920308400210", "+77021234568"
FATHER, FATHER_PHONE = "900115300122", "+77011234567"
OPERATOR, OPERATOR_PHONE = "880707300858", "+77471234573"


@pytest.fixture(scope="module")
def mesh(
    kafka: Any, postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProcessMesh]:
    # a step whose agency stays down fails after 4 s (then compensations run)
    with single_window_mesh(
        tmp_path_factory.mktemp("mesh"),
        kafka.bootstrap_servers,
        postgres,
        prefix="e2e",
        step_retry_for_s=4,
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


async def audited_as_the_applicant(
    gw: httpx.AsyncClient, operator: str, application: dict[str, Any], user: str
) -> list[dict[str, Any]]:
    """Every step's call is in the audit log as the applicant's own (client ``citizen``, the
    applicant as the user): the single window acts on the citizen's authority, never its own."""
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
        found = [rec for rec in r.json()["items"] if rec["client"] == "citizen"]
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
        assert [s["status"] for s in done["steps"]] == ["done"] * 5
        child = steps["register_birth"]["event"]["child_iin"]
        assert steps["confirm_child_record"]["result"]["iin"] == child
        # the birth certificate is issued for that child, in the applicant's name
        certificate = steps["birth_certificate"]["result"]
        assert certificate["kind"] == "birth" and certificate["subject"] == child, certificate
        assert done["result"]["type"] == "kz.egov.payments.payout.completed.v1"
        assert done["result"]["recipient_iin"] == MOTHER and done["result"]["amount_tiyn"] > 0
        assert steps["applicant_record"]["result"]["iin"] == MOTHER  # once-only
        await audited_as_the_applicant(gw, tokens[OPERATOR], done, MOTHER)
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
            assert steps["state_duty"]["status"] == "failed"
            assert failed["failure_reason"].startswith("state_duty:")
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


async def test_open_a_business_with_a_license_ends_with_the_registration_certificate(
    mesh: ProcessMesh, tokens: dict[str, str]
) -> None:
    """*Open a business*: the LLP registered, the state duty payments issued on the registry's
    event paid by the director at the sandbox bank, the license application filed in the same
    application, the registration certificate issued (and valid); every call audited."""
    token = tokens[FATHER]
    payload = {
        "name_kk": f"«Сауда {uuid.uuid4().hex[:6]}» ЖШС",
        "name_ru": "ТОО «Сауда»",
        "founders": [{"id": FATHER, "share": {"num": 1, "den": 1}}],
        "address": "Астана қ., Мәңгілік Ел д., 8",
        "license": {
            "license_type": "EXPORT_IMPORT_ONEOFF",
            "details": {"contract_number": "EX-2026-17", "hs_code": "090111"},
        },
    }
    async with httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30) as gw:
        app_id = await apply(gw, token, "cx-open-business", payload)
        # the director finds the duty among their invoices (payments issued it for the BIN)
        duty: dict[str, Any] = {}

        async def duty_issued() -> bool:
            r = await gw.get("/x/payments/invoices", headers=bearer(token))
            assert r.status_code == 200, r.text
            found = [i for i in r.json() if i["reference"] == app_id]
            duty.update(found[0] if found else {})
            return bool(found)

        await eventually(duty_issued, within=90, what="the state duty invoice")
        assert duty["status"] == "issued" and duty["kbk"] == "108114"
        approve_at_the_bank(mesh, await pay(mesh, gw, token, duty["id"]))
        done = await until(gw, token, app_id, "completed", within=120)

        steps = {s["name"]: s for s in done["steps"]}
        assert [s["status"] for s in done["steps"]] == ["done"] * 5, done["steps"]
        bin_ = steps["register_llp"]["event"]["bin"]
        assert duty["payer"] == bin_
        assert steps["state_duty"]["event"]["invoice_id"] == duty["id"]
        lic = steps["license_application"]["result"]
        assert lic["applicant_bin"] == bin_ and lic["license_type"] == "EXPORT_IMPORT_ONEOFF"
        assert lic["status"] != "rejected", lic
        cert = done["result"]
        assert cert == steps["registration_certificate"]["result"]
        assert cert["kind"] == "legal_entity_registration" and cert["subject"] == bin_
        r = await gw.get(f"/x/registry/public/certificates/{cert['number']}")
        assert r.status_code == 200 and r.json()["valid"] is True, r.text
        # one duty, not two: the composite pays the invoice payments issued (the BIN's other
        # invoice is the license fee licensing billed, its director may see and pay it too)
        r = await gw.get("/x/payments/invoices", headers=bearer(token))
        duties = [i["id"] for i in r.json() if i["payer"] == bin_ and i["kbk"] == duty["kbk"]]
        assert duties == [duty["id"]], r.json()
        assert [
            i["reference"] for i in r.json() if i["payer"] == bin_ and i["id"] != duty["id"]
        ] == [lic["id"]], r.json()
        done_steps = [t["step"] for t in done["timeline"] if t["kind"] == "step_done"]
        assert done_steps == [s["name"] for s in done["steps"]]
        await audited_as_the_applicant(gw, tokens[OPERATOR], done, FATHER)
        r = await gw.get("/api/v1/audit/verify", headers=bearer(tokens[OPERATOR]))
        assert r.status_code == 200 and r.json()["ok"] is True, r.text


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
        await audited_as_the_applicant(gw, tokens[OPERATOR], done, MOTHER)


# -- Buy a home --------------------------------------------------------------------------------
# demo citizens of identity (svc-identity/egov_identity/seed.py) none of the other e2e tests use
SELLER, SELLER_PHONE = "851123300454", "+77051234569"
BUYER, BUYER_PHONE = "780430400520", "+77071234570"
NOTARY, NOTARY_PHONE = "680211300740", "+77751234572"


def routed(token: str, purpose: str) -> dict[str, str]:
    return {**bearer(token), "X-Mesh-Purpose": purpose}


async def certify(
    gw: httpx.AsyncClient, token: str, iin: str, *, holder_iin: str | None = None
) -> DocumentSigner:
    """A signing key certified by the national CA (identity) from a CSR, through the gateway:
    a citizen for themselves, or the notary agency for one of its notaries (``holder_iin``)."""
    key, csr = make_csr(cn="whoever", serial=iin)
    body: dict[str, Any] = {"csr_pem": csr, "usage": "signing"}
    if holder_iin:
        body["holder_iin"] = holder_iin
    r = await gw.post(
        "/x/identity/ca/certificates", json=body, headers=routed(token, "e2e: signing key")
    )
    assert r.status_code == 201, r.text
    chain: list[x509.Certificate] = load_pem_chain(r.json()["certificate_pem"])
    return DocumentSigner(key, chain)


async def pay(mesh: ProcessMesh, gw: httpx.AsyncClient, token: str, invoice_id: str) -> str:
    """The payer opens a payment session (routed); returns the sandbox bank's payment id."""
    r = await gw.post(f"/x/payments/invoices/{invoice_id}/payments", headers=bearer(token))
    assert r.status_code == 201, r.text
    return str(r.json()["acquirer_payment_id"])


def approve_at_the_bank(mesh: ProcessMesh, acquirer_payment_id: str) -> None:
    """The payer approves at the sandbox acquirer's own (public) site — not via the gateway."""
    r = httpx.post(
        f"{mesh.url('payments')}/sandbox-acquirer/pay/{acquirer_payment_id}",
        json={"decision": "approve"},
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["status"] == "captured", r.text


async def step_waiting(gw: httpx.AsyncClient, token: str, app_id: str, name: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def waiting() -> bool:
        r = await gw.get(f"/api/v1/applications/{app_id}", headers=bearer(token))
        assert r.status_code == 200, r.text
        app = r.json()
        assert app["status"] != "failed", app["failure_reason"]
        step = {s["name"]: s for s in app["steps"]}[name]
        seen.update(step)
        return bool(step["status"] == "waiting" and step["result"])

    await eventually(waiting, within=90, what=f"step {name} waiting for its event")
    return seen


async def test_buy_a_home_survives_a_gateway_killed_mid_process(
    mesh: ProcessMesh, tokens: dict[str, str]
) -> None:
    """*Buy a home* with every precondition built through the services' real APIs (through
    the gateway): the operator grants two agencies what they need (admin ACL API), a flat
    owned by a demo citizen (registry), a licensed notary who is a demo citizen with a notary
    certificate of the national CA (notary + identity CA), the parties' signing certificates
    from CSRs (identity CA), every party signing the act's canonical content, the fees paid at
    the sandbox acquirer. The gateway is SIGKILLed while the application waits for the act's
    registration, which happens while it is down; restarted, it completes the process once."""
    tokens = {
        **tokens,
        **{
            iin: mesh.login(iin, phone)
            for iin, phone in ((SELLER, SELLER_PHONE), (BUYER, BUYER_PHONE), (NOTARY, NOTARY_PHONE))
        },
    }
    licensing, notary_agency = mesh.agency_token("licensing"), mesh.agency_token("notary")
    rnd = random.Random()
    cadastral = f"21:{rnd.randrange(100, 999)}:{rnd.randrange(100, 999)}:{rnd.randrange(1, 99999)}"
    gw = httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30)
    try:
        # -- the operator grants what the preconditions need (the register's admin API)
        admin = bearer(mesh.dev_secret("gateway-admin"))
        for client, operation in (
            ("licensing", "registry:POST /properties"),
            ("licensing", "notary:POST /notaries"),
            ("notary", "identity:POST /ca/certificates"),
        ):
            r = await gw.post(
                "/api/v1/admin/grants",
                json={"client": client, "operation_id": operation},
                headers=admin,
            )
            assert r.status_code in (200, 201), r.text

        # -- a flat owned by the seller (registry)
        async def property_registered() -> bool:
            r = await gw.post(
                "/x/registry/properties",
                json={
                    "cadastral_number": cadastral,
                    "kind": "apartment",
                    "address": "Астана қ., Қабанбай батыр д., 11, 42 п.",
                    "area_m2": "64.20",
                    "owners": [{"id": SELLER, "share": {"num": 1, "den": 1}}],
                },
                headers=routed(licensing, "e2e: a flat for sale"),
            )
            assert r.status_code in (201, 403), r.text  # 403 until the grant is loaded
            return r.status_code == 201

        await eventually(property_registered, within=30, what="the property registered")

        # -- a licensed notary (notary registrar: licensing) with a notary certificate
        r = await gw.post(
            "/x/notary/notaries",
            json={
                "iin": NOTARY,
                "full_name": "Жаһанов Ғалым Өтегенұлы",
                "license_number": f"E2E{rnd.randrange(10**6)}",
                "region": "Астана",
            },
            headers=routed(licensing, "e2e: license a notary"),
        )
        assert r.status_code == 201, r.text
        notary_signer = await certify(gw, notary_agency, NOTARY, holder_iin=NOTARY)
        signers = {iin: await certify(gw, tokens[iin], iin) for iin in (SELLER, BUYER)}

        # -- the buyer applies
        app_id = await apply(
            gw,
            tokens[BUYER],
            "cx-buy-home",
            {
                "cadastral_number": cadastral,
                "notary_iin": NOTARY,
                "buyers": [{"iin": BUYER, "share": {"num": 1, "den": 1}}],
                "price_tiyn": 3_200_000_000,
            },
        )
        # the act is drafted (the notary took the sellers from the registry: the buyer never
        # read the seller's property record) and the notary has
        # billed its fee: the application waits for that invoice to be paid
        fee_step = await step_waiting(gw, tokens[BUYER], app_id, "notary_fee")
        r = await gw.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens[BUYER]))
        contract = {s["name"]: s for s in r.json()["steps"]}["sale_contract"]
        act_id = contract["result"]["id"]
        parties = contract["result"]["parties"]
        assert [p["iin"] for p in parties if p["role"] == "seller"] == [SELLER]
        assert fee_step["result"]["id"] == contract["result"]["fee"]["invoice_id"]
        assert fee_step["result"]["beneficiary_agency"] == "notary"
        # the buyer opens the payment of the notary's fee ...
        bank_payment = await pay(mesh, gw, tokens[BUYER], fee_step["result"]["id"])
    finally:
        await gw.aclose()

    # ... the gateway dies (SIGKILL) while the application waits for the fee, which is paid at
    # the bank meanwhile: no gateway is there to hear of it
    mesh.kill("gateway")
    approve_at_the_bank(mesh, bank_payment)
    mesh.start("gateway")

    async with httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30) as gw:
        # restarted, it learns of the payment and waits for the signatures
        await step_waiting(gw, tokens[BUYER], app_id, "signatures")

        # -- the parties, then the notary, sign the act's canonical content
        async def sign(iin: str, signer: DocumentSigner, path: str) -> None:
            r = await gw.get(f"/x/notary/acts/{act_id}/content", headers=bearer(tokens[iin]))
            assert r.status_code == 200, r.text
            jws = sign_content(signer, r.json())
            r = await gw.post(
                f"/x/notary/acts/{act_id}/{path}", json={"jws": jws}, headers=bearer(tokens[iin])
            )
            assert r.status_code == 200, r.text

        await sign(SELLER, signers[SELLER], "signatures")
        await sign(BUYER, signers[BUYER], "signatures")
        await sign(NOTARY, notary_signer, "notary-signature")
        done = await until(gw, tokens[BUYER], app_id, "completed", within=120)

        steps = {s["name"]: s for s in done["steps"]}
        assert list(steps) == [
            "applicant_record",
            "sale_contract",
            "notary_fee",
            "signatures",
            "registration",
            "ownership_transferred",
            "ownership_certificate",
        ]
        assert [s["status"] for s in done["steps"]] == ["done"] * len(done["steps"])
        act_number = steps["registration"]["result"]["number"]
        assert steps["ownership_transferred"]["result"]["status"] == "executed" or (
            steps["ownership_transferred"]["event"]["act_number"] == act_number
        )
        # the certificate of ownership: the registry names the buyer as the sole owner
        cert = done["result"]
        assert cert["kind"] == "property_ownership" and cert["subject"] == BUYER
        data = jwt.decode(cert["document"], options={"verify_signature": False})["data"]
        assert data["cadastral_number"] == cadastral
        assert data["owners"] == [{"id": BUYER, "share": "1/1"}]
        r = await gw.get(f"/x/registry/public/certificates/{cert['number']}")
        assert r.status_code == 200 and r.json()["valid"] is True, r.text
        await audited_as_the_applicant(gw, tokens[OPERATOR], done, BUYER)
        r = await gw.get("/api/v1/audit/verify", headers=bearer(tokens[OPERATOR]))
        assert r.status_code == 200 and r.json()["ok"] is True, r.text

        # exactly once: the act drafted by one call, one fee (the notary's), registered and
        # executed once; the flat transferred once (a second transfer would have been
        # refused: the seller no longer owns it)
        assert steps["sale_contract"]["attempts"] == 1
        r = await gw.get("/x/payments/invoices", headers=bearer(tokens[BUYER]))
        assert [i["id"] for i in r.json()] == [steps["notary_fee"]["result"]["id"]], r.json()

        async def executed() -> bool:
            r = await gw.get(f"/x/notary/acts/{act_id}", headers=bearer(tokens[BUYER]))
            assert r.status_code == 200 and r.json()["status"] != "rejected", r.text
            return bool(r.json()["status"] == "executed")

        await eventually(executed, within=30, what="the sale executed by the registry")
        for holder, count in ((SELLER, 0), (BUYER, 1)):
            r = await gw.get(
                "/x/registry/properties",
                params={"holder": holder},
                headers=routed(notary_agency, "e2e: who holds the flat"),
            )
            assert r.status_code == 200, r.text
            held = [p["cadastral_number"] for p in r.json()["items"]]
            assert held.count(cadastral) == count, (holder, held)
