"""Every public service of the Unified Register applied for once, end to end (issue 17), on the
full process mesh: the six services as separate processes, each on its own PostgreSQL
database, real Kafka, citizens signed in with password + SMS code.

The catalogue is read from the running gateway (``GET /api/v1/services``, every page), never
from the seed: a service published without a case here fails
``test_every_service_of_the_register_has_a_case``. Each service has one case in ``CASES``
(keyed by its code; the parametrized test's ids are the codes), which says who applies, with
what (demo data, or what an earlier case or a precondition produced: an LLP's BIN for the
license services, a newborn for the allowance, a paid invoice, a registered act, …) and how it
ends:

* a citizen-facing service is applied for through the single window (``POST
  /api/v1/applications``) by a demo citizen signed in through the real login, and ends
  ``completed`` (its result checked where cheap) or in the business refusal the case
  documents (the agency's own words);
* a service citizens cannot apply for (``citizen_facing`` false — inter-agency, channel
  ``api``, or an agency's back office) is called the way its consumer calls it: an agency's
  client through ``/x/<agency>/…`` with its grant, the request built from the register's own
  definition (its first operation, the form's fields as path parameters and body/query) and
  the payload valid against the register's form. Where no member is granted the operation by
  default (a consumer outside the mesh: a bank, a court, the agency's own back office), the
  operator grants it through the admin API first, as the case says.

A case that ends ``failed`` — an agency's 403/422, a gateway contract error at submission —
fails with the service code, the step and the agency's answer. Cases whose cause lies in the
register's definitions or the gateway (owned elsewhere) are strict xfails naming the pending
fix, so they flag the day it lands.

Each case also says who it is (``BY``): a citizen's case fails if the register stops
offering the service to citizens and an agency's case if it starts to, so a changed
``citizen_facing`` is looked at, not silently applied for another way.

One mesh serves the module; preconditions are made once (memoised on the world) and shared.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from jsonschema import Draft202012Validator

from meshkit import calendar
from meshkit.documents import DocumentSigner, load_pem_chain
from meshkit_testing.ca import make_csr, sign_content
from meshkit_testing.polling import eventually
from meshkit_testing.processes import ProcessMesh, single_window_mesh

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
# demo citizens of identity (svc-identity/egov_identity/seed.py)
FATHER, FATHER_PHONE = "900115300122", "+77011234567"
MOTHER, MOTHER_PHONE = "920308400210", "+77021234568"
CHILD = "190601500314"  # their minor son
SELLER, SELLER_PHONE = "851123300454", "+77051234569"
BUYER, BUYER_PHONE = "780430400520", "+77071234570"
STRANGER, STRANGER_PHONE = "010917600630", "+77081234571"
NOTARY, NOTARY_PHONE = "680211300740", "+77751234572"  # licensed by a precondition
OPERATOR, OPERATOR_PHONE = "880707300858", "+77471234573"  # a public service centre operator
CITIZENS = (
    (FATHER, FATHER_PHONE),
    (MOTHER, MOTHER_PHONE),
    (SELLER, SELLER_PHONE),
    (BUYER, BUYER_PHONE),
    (STRANGER, STRANGER_PHONE),
    (NOTARY, NOTARY_PHONE),
    (OPERATOR, OPERATOR_PHONE),
)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def routed(token: str, purpose: str) -> dict[str, str]:
    return {**bearer(token), "X-Mesh-Purpose": purpose}


def today() -> date:
    return calendar.local_date(datetime.now(UTC))


def unique(word: str) -> str:
    return f"{word} {uuid.uuid4().hex[:8]}"


def cadastral() -> str:
    rnd = random.Random()
    return f"21:{rnd.randrange(100, 999)}:{rnd.randrange(100, 999)}:{rnd.randrange(1, 99999)}"


@pytest.fixture(scope="module")
def mesh(
    kafka: Any, postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProcessMesh]:
    with single_window_mesh(
        tmp_path_factory.mktemp("mesh"),
        kafka.bootstrap_servers,
        postgres,
        prefix="every",
        step_retry_for_s=4,
        cwd=ROOT,
    ) as m:
        yield m


# -- the world the cases share ------------------------------------------------------------------
@dataclass
class World:
    mesh: ProcessMesh
    gw: httpx.AsyncClient
    tokens: dict[str, str]
    #: the register's catalogue as the gateway publishes it: code → service
    catalogue: dict[str, dict[str, Any]]
    #: what preconditions and earlier cases produced (memoised by name)
    made: dict[str, Any] = field(default_factory=dict)
    agency_tokens: dict[str, str] = field(default_factory=dict)
    granted: set[tuple[str, str]] = field(default_factory=set)

    def token(self, iin: str) -> str:
        return self.tokens[iin]

    def agency_token(self, code: str) -> str:
        if code not in self.agency_tokens:
            self.agency_tokens[code] = self.mesh.agency_token(code)
        return self.agency_tokens[code]

    async def once(self, name: str, make: Callable[[], Awaitable[Any]]) -> Any:
        """``make()`` the first time ``name`` is needed (unless a case already produced it)."""
        if name not in self.made:
            self.made[name] = await make()
        return self.made[name]

    async def grant(self, client: str, operation: str) -> None:
        """The operator grants ``client`` an operation (the register's admin API)."""
        if (client, operation) in self.granted:
            return
        r = await self.gw.post(
            "/api/v1/admin/grants",
            json={"client": client, "operation_id": operation},
            headers=bearer(self.mesh.dev_secret("gateway-admin")),
        )
        assert r.status_code in (200, 201), r.text

        async def in_force() -> bool:
            r = await self.gw.get(f"/api/v1/clients/{client}/operations")
            assert r.status_code == 200, r.text
            return operation in [op["operation_id"] for op in r.json()["items"]]

        await eventually(in_force, within=30, what=f"{client} granted {operation}")
        self.granted.add((client, operation))


async def read_catalogue(gw: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Every service of the register, page after page, as the gateway publishes it."""
    services: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        r = await gw.get("/api/v1/services", params={"page": page, "page_size": 100})
        assert r.status_code == 200, r.text
        body = r.json()
        services.update({s["code"]: s for s in body["items"]})
        if not body["items"] or len(services) >= body["total"]:
            return services
        page += 1


@pytest.fixture(scope="module")
async def world(mesh: ProcessMesh) -> AsyncIterator[World]:
    tokens = {iin: mesh.login(iin, phone) for iin, phone in CITIZENS}
    async with httpx.AsyncClient(base_url=mesh.url("gateway"), timeout=30) as gw:
        yield World(mesh, gw, tokens, await read_catalogue(gw))


# -- applying through the single window ------------------------------------------------------
class ContractDrift(AssertionError):
    pass


def _steps_told(app: dict[str, Any]) -> str:
    return "; ".join(
        f"{s['name']}={s['status']}" + (f" ({s['error']})" if s.get("error") else "")
        for s in app.get("steps") or []
    )


async def _mine(w: World, who: str, code: str) -> set[str]:
    r = await w.gw.get(
        "/api/v1/me/applications", params={"limit": 200}, headers=bearer(w.token(who))
    )
    assert r.status_code == 200, r.text
    return {a["id"] for a in r.json()["items"] if a["service_code"] == code}


async def _application(w: World, who: str, app_id: str) -> dict[str, Any]:
    r = await w.gw.get(f"/api/v1/applications/{app_id}", headers=bearer(w.token(who)))
    assert r.status_code == 200, r.text
    app: dict[str, Any] = r.json()
    return app


async def submit(w: World, who: str, code: str, payload: dict[str, Any]) -> str:
    """``who`` applies; the application's id. A submission the single window refuses with
    the form's or the agency's contract (422 ``payload.…``) is contract drift: it fails here,
    with the problem. An agency's refusal answered at the door (the application exists and
    failed) is returned like any other application."""
    before = await _mine(w, who, code)
    r = await w.gw.post(
        "/api/v1/applications",
        json={"service_code": code, "payload": payload},
        headers=bearer(w.token(who)),
    )
    if r.status_code == 201:
        return str(r.json()["id"])
    new = await _mine(w, who, code) - before
    if not new:
        raise ContractDrift(
            f"{code}: the single window refused the submission ({r.status_code}) before any "
            f"agency was asked: {r.text[:2000]}"
        )
    assert len(new) == 1, new
    return new.pop()


async def settle(w: World, who: str, app_id: str, within: float = 60) -> dict[str, Any]:
    """Until the application completes or fails (compensations, if any, run first)."""
    seen: dict[str, Any] = {}

    async def settled() -> bool:
        seen.clear()
        seen.update(await _application(w, who, app_id))
        return seen["status"] in ("completed", "failed")

    await eventually(settled, within=within, what=f"application {app_id} to settle")
    return seen


def _drift_words(app: dict[str, Any]) -> str:
    failed = [s for s in app["steps"] if s["status"] == "failed"]
    step = failed[0] if failed else None
    where = f"step {step['name']}" if step else "no failed step"
    return (
        f"{app['service_code']}: failed at {where}: {app['failure_reason']!r} [{_steps_told(app)}]"
    )


async def completes(
    w: World, who: str, code: str, payload: dict[str, Any], *, within: float = 60
) -> dict[str, Any]:
    """``who`` applies for ``code`` and the application completes: its final state."""
    app = await settle(w, who, await submit(w, who, code, payload), within)
    if app["status"] != "completed":
        raise ContractDrift(_drift_words(app))
    assert all(s["status"] in ("done", "skipped") for s in app["steps"]), _steps_told(app)
    return app


async def refuses(
    w: World, who: str, code: str, payload: dict[str, Any], *, because: str, within: float = 60
) -> dict[str, Any]:
    """``who`` applies and an agency refuses the matter in the words ``because`` (a business
    refusal the case documents) — never a contract error."""
    app = await settle(w, who, await submit(w, who, code, payload), within)
    assert app["status"] == "failed", f"{code}: expected a refusal, got {app['status']}: {app}"
    if because not in (app["failure_reason"] or ""):
        raise ContractDrift(f"expected the refusal {because!r}; " + _drift_words(app))
    return app


async def waiting_step(
    w: World, who: str, app_id: str, name: str, within: float = 60
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def waiting() -> bool:
        app = await _application(w, who, app_id)
        if app["status"] == "failed":
            raise ContractDrift(_drift_words(app))
        step = {s["name"]: s for s in app["steps"]}[name]
        seen.update(step)
        return bool(step["status"] in ("waiting", "done") and step["result"])

    await eventually(waiting, within=within, what=f"step {name} of {app_id}")
    return seen


# -- calling as an agency (the services citizens do not apply for) -----------------------------
async def as_agency(
    w: World,
    client: str,
    code: str,
    payload: dict[str, Any],
    *,
    purpose: str | None = None,
    token: str | None = None,
) -> Any:
    """``client`` calls the service's operation through the gateway as its consumers do; the
    request is the register's own: the payload valid against the form, the form's fields as
    path parameters, the rest as the body (the query of a read)."""
    service = w.catalogue[code]
    errors = [e.message for e in Draft202012Validator(service["input_schema"]).iter_errors(payload)]
    assert not errors, f"{code}: the case's payload does not fit the register's form: {errors}"
    op = service["operations"][0]
    path = op["path"]
    rest = dict(payload)
    for name in [p.strip("{}") for p in path.split("/") if p.startswith("{")]:
        path = path.replace("{" + name + "}", str(rest.pop(name)))
    headers = routed(token or w.agency_token(client), purpose or f"e2e: {code}")
    read = op["method"] in ("GET", "DELETE")
    if not read:  # as the agencies' gateway client sends every write
        headers["Idempotency-Key"] = str(uuid.uuid4())
    r = await w.gw.request(
        op["method"],
        f"/x/{op['agency']}{path}",
        params=rest if read else None,
        json=None if read else rest,
        headers=headers,
    )
    if r.status_code >= 400:
        raise ContractDrift(
            f"{code}: {client} calling {op['operation_id']} was answered {r.status_code}: "
            f"{r.text[:2000]}"
        )
    return r.json() if r.content else None


# -- preconditions (made once, through the services' real APIs) --------------------------------
async def routed_post(
    w: World, token: str, path: str, body: dict[str, Any], *, purpose: str = "e2e"
) -> dict[str, Any]:
    r = await w.gw.post(path, json=body, headers=routed(token, purpose))
    assert r.status_code in (200, 201), f"precondition {path}: {r.status_code} {r.text}"
    out: dict[str, Any] = r.json()
    return out


async def routed_get(w: World, token: str, path: str, **params: Any) -> Any:
    r = await w.gw.get(path, params=params, headers=routed(token, "e2e: precondition"))
    assert r.status_code == 200, f"precondition {path}: {r.status_code} {r.text}"
    return r.json()


def birth_form(given_name: str) -> dict[str, Any]:
    return {
        "surname": "Сәрсенбаев",
        "given_name": given_name,
        "birth_date": (today() - timedelta(days=1)).isoformat(),
        "sex": "female",
        "place": "Алматы қ., №1 перзентхана",
        "mother_iin": MOTHER,
        "father_iin": FATHER,
    }


def company_form(legal_form: str, name: str, director: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name_kk": f"«{name}» ЖШС",
        "name_ru": f"ТОО «{name}»",
        "legal_form": legal_form,
        "director_iin": director,
        "founders": [{"id": director, "share": {"num": 1, "den": 1}}],
        "address": "Астана қ., Мәңгілік Ел д., 8",
    }
    if legal_form == "LLP":
        # activities (OKED) every license type of the register asks for: construction,
        # medicines, medical practice, education, alcohol, security, tourism, weapons, audit
        form["activity_codes"] = ["41200", "47730", "86100", "85310", "47250"]
        form["activity_codes"] += ["80100", "79120", "47780", "69200"]
    return form


async def a_newborn(w: World) -> dict[str, Any]:
    """MOTHER registers the birth of a child of hers (routed, her own login)."""
    return await routed_post(
        w, w.token(MOTHER), "/x/registry/births", birth_form(unique("Әмір")), purpose="e2e: birth"
    )


async def a_death(w: World) -> dict[str, Any]:
    """A newborn of MOTHER's whose death she registers (a parent declares it)."""
    child = (await a_newborn(w))["child_iin"]
    return await routed_post(
        w,
        w.token(MOTHER),
        "/x/registry/deaths",
        {"iin": child, "date_of_death": today().isoformat(), "place": "Алматы қ."},
        purpose="e2e: death",
    )


async def a_company(w: World, legal_form: str = "LLP") -> str:
    return str((await a_company_record(w, legal_form))["bin"])


async def a_company_record(w: World, legal_form: str = "LLP") -> dict[str, Any]:
    body = company_form(legal_form, unique("Дәрі"), FATHER)
    return await routed_post(w, w.token(FATHER), "/x/registry/legal-entities", body)


async def fathers_llp_record(w: World) -> dict[str, Any]:
    """FATHER's LLP (the case's, or registered routed): the license services' applicant."""
    llp: dict[str, Any] = await w.once("llp", lambda: a_company_record(w, "LLP"))
    return llp


async def fathers_llp(w: World) -> str:
    return str((await fathers_llp_record(w))["bin"])


async def licensed_notary(w: World) -> str:
    """NOTARY (a demo citizen) licensed by licensing, the notaries' registrar (as
    test_citizen_authority_e2e does: the operator grants it first)."""

    async def make() -> str:
        await w.grant("licensing", "notary:POST /notaries")

        async def licensed() -> bool:
            r = await w.gw.post(
                "/x/notary/notaries",
                json={
                    "iin": NOTARY,
                    "full_name": "Жаһанов Ғалым Өтегенұлы",
                    "license_number": f"EVERY{random.randrange(10**6)}",
                    "region": "Астана",
                },
                headers=routed(w.agency_token("licensing"), "e2e: license a notary"),
            )
            assert r.status_code in (201, 403, 409), r.text  # 403 until the grant is loaded
            return r.status_code in (201, 409)

        await eventually(licensed, within=30, what="NOTARY licensed")
        return NOTARY

    return str(await w.once("notary", make))


async def a_flat(w: World, name: str, owner: str = SELLER) -> str:
    """A flat of ``owner``'s, registered by the registry (licensing granted, as in the other
    e2e tests)."""

    async def make() -> str:
        await w.grant("licensing", "registry:POST /properties")
        number = cadastral()

        async def registered() -> bool:
            r = await w.gw.post(
                "/x/registry/properties",
                json={
                    "cadastral_number": number,
                    "kind": "apartment",
                    "address": "Астана қ., Қабанбай батыр д., 11, 42 п.",
                    "area_m2": "64.20",
                    "owners": [{"id": owner, "share": {"num": 1, "den": 1}}],
                },
                headers=routed(w.agency_token("licensing"), "e2e: a flat"),
            )
            assert r.status_code in (201, 403), r.text  # 403 until the grant is loaded
            return r.status_code == 201

        await eventually(registered, within=30, what="a flat registered")
        return number

    return str(await w.once(f"flat:{name}", make))


async def pay_and_approve(w: World, payer: str, invoice_id: str) -> None:
    """The payer opens a payment session (routed) and approves it at the sandbox acquirer's
    own site."""
    r = await w.gw.post(
        f"/x/payments/invoices/{invoice_id}/payments", headers=bearer(w.token(payer))
    )
    assert r.status_code == 201, r.text
    approve_at_the_bank(w, str(r.json()["acquirer_payment_id"]))


def approve_at_the_bank(w: World, acquirer_payment_id: str) -> None:
    r = httpx.post(
        f"{w.mesh.url('payments')}/sandbox-acquirer/pay/{acquirer_payment_id}",
        json={"decision": "approve"},
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["status"] == "captured", r.text


async def invoice_paid(w: World, payer: str, invoice_id: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def paid() -> bool:
        seen.update(await routed_get(w, w.token(payer), f"/x/payments/invoices/{invoice_id}"))
        return seen["status"] == "paid"

    await eventually(paid, within=30, what=f"invoice {invoice_id} paid")
    return seen


async def duty_of(w: World, bin_: str) -> dict[str, Any]:
    """The state duty payments issued for a newly registered legal entity (payer: its BIN)."""
    found: list[dict[str, Any]] = []

    async def issued() -> bool:
        found[:] = [
            i
            for i in await routed_get(w, w.token(FATHER), "/x/payments/invoices", payer=bin_)
            if i["payer"] == bin_
        ]
        return bool(found)

    await eventually(issued, within=30, what=f"the state duty of {bin_}")
    return found[0]


def pharmacy_form(bin_: str) -> dict[str, Any]:
    return {
        "applicant_bin": bin_,
        "license_type": "pharmacy",
        "activity_address": "Алматы қ., Абай даңғылы, 10",
        "qualified_staff": [MOTHER],
    }


async def license_application(w: World) -> dict[str, Any]:
    """A pharmacy license application of FATHER's LLP (the case's, or filed routed)."""

    async def make() -> dict[str, Any]:
        bin_ = await fathers_llp(w)
        return await routed_post(
            w,
            w.token(FATHER),
            "/x/licensing/applications",
            {
                "license_type": "PHARMACY",
                "applicant_iin": FATHER,
                "applicant_bin": bin_,
                "details": {
                    "activity_address": "Алматы қ., Абай даңғылы, 10",
                    "qualified_staff": [MOTHER],
                    "premises_address": "Алматы қ., Абай даңғылы, 10",
                    "pharmacist_iin": MOTHER,
                },
            },
        )

    app: dict[str, Any] = await w.once("license_application", make)
    return app


async def a_paid_application(w: World) -> dict[str, Any]:
    """The pharmacy application, its license fee paid by the director: awaiting an
    officer's decision (a pharmacy needs one)."""

    async def make() -> dict[str, Any]:
        app = await license_application(w)
        seen: dict[str, Any] = {}

        async def invoiced() -> bool:
            seen.update(
                await routed_get(w, w.token(FATHER), f"/x/licensing/applications/{app['id']}")
            )
            assert seen["status"] != "rejected", seen
            return bool((seen.get("state_duty") or {}).get("invoice_id"))

        await eventually(invoiced, within=30, what="the license fee invoice")
        await pay_and_approve(w, FATHER, seen["state_duty"]["invoice_id"])

        async def paid() -> bool:
            seen.update(
                await routed_get(w, w.token(FATHER), f"/x/licensing/applications/{app['id']}")
            )
            return bool(seen["state_duty"]["paid_at"])

        await eventually(paid, within=30, what="the license fee paid")
        return seen

    paid: dict[str, Any] = await w.once("paid_application", make)
    return paid


async def officer(w: World, operation: str) -> dict[str, str]:
    """Licensing's own back office through the gateway: its client with an 'officer…'
    purpose (svc-licensing's officers). Not granted by default: the operator grants it."""
    await w.grant("licensing", operation)
    return routed(w.agency_token("licensing"), "officer: license review")


async def a_license(w: World) -> str:
    """A license issued: the paid pharmacy application approved by an officer (or the one
    lc-application-decision approved)."""

    async def make() -> str:
        app = await a_paid_application(w)
        headers = await officer(w, "licensing:POST /applications/{id}/decision")
        seen: dict[str, Any] = {}

        async def approved() -> bool:
            r = await w.gw.post(
                f"/x/licensing/applications/{app['id']}/decision",
                json={"decision": "approve", "reason": "the premises were inspected"},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code in (200, 403), r.text  # 403 until the grant is loaded
            seen.update(r.json())
            return r.status_code == 200

        await eventually(approved, within=30, what="the license approved")
        return str(seen["license_number"])

    return str(await w.once("license", make))


async def certify(
    w: World, token: str, iin: str, *, holder_iin: str | None = None
) -> tuple[DocumentSigner, dict[str, Any]]:
    """A signing key certified by the national CA (identity) from a CSR, routed."""
    key, csr = make_csr(cn="whoever", serial=iin)
    body: dict[str, Any] = {"csr_pem": csr, "usage": "signing"}
    if holder_iin:
        body["holder_iin"] = holder_iin
    out = await routed_post(w, token, "/x/identity/ca/certificates", body, purpose="e2e: a key")
    chain: list[x509.Certificate] = load_pem_chain(out["certificate_pem"])
    return DocumentSigner(key, chain), out


async def notary_signer(w: World) -> DocumentSigner:
    async def make() -> DocumentSigner:
        await licensed_notary(w)
        await w.grant("notary", "identity:POST /ca/certificates")
        signer, _ = await certify(w, w.agency_token("notary"), NOTARY, holder_iin=NOTARY)
        return signer

    signer: DocumentSigner = await w.once("notary_signer", make)
    return signer


def poa_form() -> dict[str, Any]:
    return {
        "notary_iin": NOTARY,
        "attorney_iin": MOTHER,
        "powers": ["represent the principal before the real estate registry"],
        "valid_until": (today() + timedelta(days=365)).isoformat(),
    }


def copy_form() -> dict[str, Any]:
    return {
        "notary_iin": NOTARY,
        "document_title": "Диплом бакалавра",
        "document_sha256": uuid.uuid4().hex * 2,
        "pages": 2,
    }


async def an_act(w: World, kind: str) -> dict[str, Any]:
    """A notarial act FATHER asks for (routed, his own login)."""
    await licensed_notary(w)
    body: dict[str, Any]
    if kind == "power_of_attorney":
        body = {"kind": kind, "principal_iin": FATHER, **poa_form()}
    else:
        body = {"kind": kind, "applicant_iin": FATHER, **copy_form()}
    return await routed_post(w, w.token(FATHER), "/x/notary/acts", body)


async def a_registered_act(w: World) -> dict[str, Any]:
    """A certified copy, its fee paid and the notary's signature given: registered, with a
    number and a verification code."""

    async def make() -> dict[str, Any]:
        act = w.made.get("copy_act") or await an_act(w, "copy_certification")
        signer = await notary_signer(w)
        fee = (act.get("fee") or {}).get("invoice_id")
        if fee:
            await pay_and_approve(w, FATHER, fee)
            await invoice_paid(w, FATHER, fee)
        applicant, _ = await certify(w, w.token(FATHER), FATHER)
        content = await routed_get(w, w.token(FATHER), f"/x/notary/acts/{act['id']}/content")
        await routed_post(
            w,
            w.token(FATHER),
            f"/x/notary/acts/{act['id']}/signatures",
            {"jws": sign_content(applicant, content)},
        )
        content = await routed_get(w, w.token(NOTARY), f"/x/notary/acts/{act['id']}/content")
        await routed_post(
            w,
            w.token(NOTARY),
            f"/x/notary/acts/{act['id']}/notary-signature",
            {"jws": sign_content(signer, content)},
        )
        seen: dict[str, Any] = {}

        async def registered() -> bool:
            seen.update(await routed_get(w, w.token(FATHER), f"/x/notary/acts/{act['id']}"))
            return bool(seen.get("number") and seen.get("verification_code"))

        await eventually(registered, within=30, what="the certified copy registered")
        return seen

    act: dict[str, Any] = await w.once("registered_act", make)
    return act


async def a_certificate(w: World) -> str:
    """A registry certificate (of one's own real estate), routed as SELLER — or one a
    composite case issued."""

    async def make() -> str:
        flat = await a_flat(w, "certificate")
        out = await routed_post(
            w,
            w.token(SELLER),
            "/x/registry/certificates",
            {"kind": "property_ownership", "subject": SELLER, "cadastral_number": flat},
        )
        return str(out["number"])

    return str(await w.once("certificate", make))


async def a_consent(w: World, agency: str) -> dict[str, Any]:
    return await routed_post(
        w,
        w.token(FATHER),
        "/x/identity/consents",
        consent_form(agency),
        purpose="e2e: my consent",
    )


def consent_form(agency: str) -> dict[str, Any]:
    return {
        "agency": agency,
        "categories": ["personal"],
        "purpose": "e2e: every service of the register",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }


async def a_payout(w: World) -> str:
    async def make() -> str:
        child = (await a_newborn(w))["child_iin"]
        out = await routed_post(
            w,
            w.token(MOTHER),
            "/x/payments/allowances",
            {"kind": "childbirth", "subject_iin": child},
        )
        return str(out["id"])

    return str(await w.once("payout", make))


# -- the cases ---------------------------------------------------------------------------------
Case = Callable[[World], Awaitable[None]]
CASES: dict[str, Case] = {}
#: who the case is: ``citizen`` (applies through the single window), ``agency`` (calls as the
#: service's consumer: the register must not offer it to citizens), None (follows the register)
BY: dict[str, str | None] = {}
#: cases whose cause is a pending fix outside this file's owner (register data or gateway):
#: strict xfails, so the test says so the day the fix lands
PENDING: dict[str, str] = {}


def case(*codes: str, by: str | None = "citizen") -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        for code in codes:
            assert code not in CASES, code
            CASES[code] = fn
            BY[code] = by
        return fn

    return register


# identity ------------------------------------------------------------------------------------
@case("id-personal-data")
async def _personal_data(w: World) -> None:
    app = await completes(w, MOTHER, "id-personal-data", {"iin": MOTHER})
    assert app["result"]["iin"] == MOTHER


@case("id-address-certificate")
async def _address_certificate(w: World) -> None:
    app = await completes(w, FATHER, "id-address-certificate", {"iin": FATHER})
    assert app["result"]["iin"] == FATHER and app["result"]["address"]


@case("id-family-composition")
async def _family(w: World) -> None:
    app = await completes(w, MOTHER, "id-family-composition", {})
    assert CHILD in [c["iin"] for c in app["result"]["children"]]


@case("id-personal-data-change")
async def _change_address(w: World) -> None:
    address = unique("Астана қ., Сарыарқа д.,")
    app = await completes(w, SELLER, "id-personal-data-change", {"address": address})
    assert app["result"]["iin"] == SELLER and app["result"]["address"] == address


@case("id-person-registration", by="agency")
async def _person_registration(w: World) -> None:
    # inter-agency: the registry registers a person (e.g. on a birth registered at its office)
    out = await as_agency(
        w,
        "registry",
        "id-person-registration",
        {
            "surname": "Сәрсенбаева",
            "given_name": unique("Аружан"),
            "birth_date": (today() - timedelta(days=2)).isoformat(),
            "sex": "female",
            "mother_iin": MOTHER,
            "father_iin": FATHER,
        },
    )
    assert len(out["iin"]) == 12


@case("id-person-search", by="agency")
async def _person_search(w: World) -> None:
    # inter-agency: no member is granted the search by default; the operator grants the
    # registry (which holds the persons:search scope of identity)
    await w.grant("registry", "identity:GET /persons")
    out = await as_agency(w, "registry", "id-person-search", {"surname": "Сәрсенбаев"})
    assert FATHER in [p["iin"] for p in out["items"]], out


@case("id-consent-grant")
async def _consent_grant(w: World) -> None:
    app = await completes(w, FATHER, "id-consent-grant", consent_form("registry"))
    assert app["result"]["agency"] == "registry"
    w.made["consent"] = app["result"]


@case("id-consent-list")
async def _consent_list(w: World) -> None:
    consent = await w.once("consent", lambda: a_consent(w, "registry"))
    app = await completes(w, FATHER, "id-consent-list", {})
    assert consent["id"] in [c["id"] for c in app["result"] if c["active"]], app["result"]


@case("id-consent-revoke")
async def _consent_revoke(w: World) -> None:
    consent = await a_consent(w, "notary")
    await completes(w, FATHER, "id-consent-revoke", {"id": consent["id"]})


@case("id-consent-check", by="agency")
async def _consent_check(w: World) -> None:
    # inter-agency: the registry checks FATHER's consent to it
    await w.once("consent", lambda: a_consent(w, "registry"))
    out = await as_agency(
        w,
        "registry",
        "id-consent-check",
        {"iin": FATHER, "agency": "registry", "category": "personal"},
    )
    assert out["allowed"] is True, out


@case("id-eds-issue")
async def _eds_issue(w: World) -> None:
    key, csr = make_csr(cn="whoever", serial=BUYER)
    app = await completes(w, BUYER, "id-eds-issue", {"csr_pem": csr})
    chain = load_pem_chain(app["result"]["certificate_pem"])
    w.made["buyer_signer"] = DocumentSigner(key, chain)


@case("id-eds-revoke")
async def _eds_revoke(w: World) -> None:
    _, cert = await certify(w, w.token(BUYER), BUYER)
    app = await completes(
        w, BUYER, "id-eds-revoke", {"serial": cert["serial"], "reason": "superseded"}
    )
    assert app["result"]["status"] == "revoked", app["result"]


@case("id-signature-verify")
async def _signature_verify(w: World) -> None:
    async def make() -> DocumentSigner:
        return (await certify(w, w.token(BUYER), BUYER))[0]

    signer: DocumentSigner = await w.once("buyer_signer", make)
    jws = sign_content(signer, {"sha256": "ab" * 32})
    app = await completes(w, STRANGER, "id-signature-verify", {"jws": jws})
    assert app["result"]["valid"] is True, app["result"]


@case("id-notice-sms", by="agency")
async def _notice_sms(w: World) -> None:
    # inter-agency: the gateway's own client texts a citizen (its single grant, with reason)
    text = unique("Өтінішіңіз дайын")
    await as_agency(w, "gateway", "id-notice-sms", {"iin": MOTHER, "text": text})
    r = await w.gw.get(f"{w.mesh.url('identity')}/dev/sms", params={"phone": MOTHER_PHONE})
    assert text in r.text, r.text[:2000]


# registry: civil status ----------------------------------------------------------------------
@case("rg-birth-registration")
async def _birth(w: World) -> None:
    app = await completes(w, MOTHER, "rg-birth-registration", birth_form(unique("Айару")))
    assert app["result"]["mother_iin"] == MOTHER and len(app["result"]["child_iin"]) == 12
    w.made.setdefault("birth", app["result"])


@case("rg-birth-certificate")
async def _birth_certificate(w: World) -> None:
    birth = await w.once("birth", lambda: a_newborn(w))
    app = await completes(w, MOTHER, "rg-birth-certificate", {"act_number": birth["act_number"]})
    assert app["result"]["act_number"] == birth["act_number"], app["result"]


@case("rg-death-registration")
async def _death(w: World) -> None:
    child = (await a_newborn(w))["child_iin"]
    app = await completes(
        w,
        MOTHER,
        "rg-death-registration",
        {"iin": child, "date_of_death": today().isoformat(), "place": "Алматы қ."},
    )
    assert app["result"]["iin"] == child and app["result"]["declarant_iin"] == MOTHER
    w.made.setdefault("death", app["result"])


@case("rg-death-certificate")
async def _death_certificate(w: World) -> None:
    death = await w.once("death", lambda: a_death(w))
    app = await completes(w, MOTHER, "rg-death-certificate", {"act_number": death["act_number"]})
    assert app["result"]["act_number"] == death["act_number"], app["result"]


# registry: legal entities --------------------------------------------------------------------
async def _register_company(w: World, code: str, legal_form: str) -> None:
    app = await completes(w, FATHER, code, company_form(legal_form, unique("Өзім"), FATHER))
    assert app["result"]["director_iin"] == FATHER and app["result"]["legal_form"] == legal_form
    if legal_form == "LLP":
        w.made.setdefault("llp", app["result"])


case("rg-llp-registration")(lambda w: _register_company(w, "rg-llp-registration", "LLP"))
case("rg-jsc-registration")(lambda w: _register_company(w, "rg-jsc-registration", "JSC"))


@case("rg-sole-proprietor-registration")
async def _sole_proprietor(w: World) -> None:
    name = unique("ЖК Қайратов")
    form = {"name_kk": name, "name_ru": name, "address": "Ақтөбе қ., Әбілқайыр хан д., 9"}
    app = await completes(w, SELLER, "rg-sole-proprietor-registration", form)
    assert app["result"]["legal_form"] == "SOLE_PROPRIETOR"
    assert app["result"]["director_iin"] == SELLER


@case("rg-legal-entity-certificate")
async def _entity_certificate(w: World) -> None:
    bin_ = await fathers_llp(w)
    app = await completes(w, FATHER, "rg-legal-entity-certificate", {"bin": bin_})
    assert app["result"]["bin"] == bin_ and app["result"]["status"] == "active"


@case("rg-legal-entity-search", by="agency")
async def _entity_search(w: World) -> None:
    # inter-agency: licensing looks a company up (its default grant)
    llp = await fathers_llp_record(w)
    out = await as_agency(w, "licensing", "rg-legal-entity-search", {"q": llp["name_kk"]})
    assert [e["bin"] for e in out["items"]] == [llp["bin"]], out


@case("rg-legal-entity-liquidation")
async def _liquidation(w: World) -> None:
    bin_ = await a_company(w, "LLP")
    app = await completes(
        w,
        FATHER,
        "rg-legal-entity-liquidation",
        {"bin": bin_, "new_status": "liquidated", "reason": "the founders decided so"},
    )
    assert app["result"]["bin"] == bin_ and app["result"]["status"] == "liquidated"


# registry: real estate -----------------------------------------------------------------------
@case("rg-property-rights-registration", by="agency")
async def _property_registration(w: World) -> None:
    # registered by the registry's staff on the documents (public service centre, agency
    # office): no member is granted it by default; the operator grants licensing, which the
    # other e2e tests use as the registrar's stand-in
    await w.grant("licensing", "registry:POST /properties")
    number = cadastral()
    out = await as_agency(
        w,
        "licensing",
        "rg-property-rights-registration",
        {
            "cadastral_number": number,
            "kind": "apartment",
            "address": "Астана қ., Қабанбай батыр д., 13, 7 п.",
            "area_m2": 54.3,
            "owners": [{"id": BUYER, "share": {"num": 1, "den": 1}}],
        },
    )
    assert out["cadastral_number"] == number
    assert [o["id"] for o in out["owners"]] == [BUYER]


@case("rg-property-rights-certificate")
async def _property_rights_certificate(w: World) -> None:
    flat = await a_flat(w, "certificate")
    app = await completes(w, SELLER, "rg-property-rights-certificate", {"cadastral_number": flat})
    assert app["result"]["cadastral_number"] == flat


@case("rg-property-ownership-certificate")
async def _ownership_certificate(w: World) -> None:
    flat = await a_flat(w, "certificate")
    app = await completes(w, SELLER, "rg-property-ownership-certificate", {"owner": SELLER})
    assert flat in [p["cadastral_number"] for p in app["result"]["items"]]


async def _encumbrance_rights(w: World) -> str:
    # banks and courts are not members of the mesh: the operator grants the notary
    # (an arrest on a disputed sale) both operations
    await w.grant("notary", "registry:POST /properties/{cadastral_number}/encumbrances")
    await w.grant("notary", "registry:POST /encumbrances/{id}/release")
    return "notary"


@case("rg-encumbrance-registration", by="agency")
async def _encumbrance(w: World) -> None:
    client = await _encumbrance_rights(w)
    flat = await a_flat(w, "encumbered", owner=BUYER)
    out = await as_agency(
        w, client, "rg-encumbrance-registration", {"cadastral_number": flat, "kind": "arrest"}
    )
    assert out["kind"] == "arrest"
    w.made.setdefault("encumbrance", out)


@case("rg-encumbrance-release", by="agency")
async def _encumbrance_release(w: World) -> None:
    client = await _encumbrance_rights(w)

    async def make() -> dict[str, Any]:
        flat = await a_flat(w, "encumbered", owner=BUYER)
        r = await w.gw.post(
            f"/x/registry/properties/{flat}/encumbrances",
            json={"kind": "arrest"},
            headers=routed(w.agency_token(client), "e2e: an arrest"),
        )
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    enc = await w.once("encumbrance", make)
    out = await as_agency(w, client, "rg-encumbrance-release", {"id": enc["id"]})
    assert out["id"] == enc["id"] and out.get("released_at"), out


@case("rg-certificate-verify")
async def _certificate_verify(w: World) -> None:
    number = await a_certificate(w)
    app = await completes(w, STRANGER, "rg-certificate-verify", {"number": number})
    assert app["result"]["valid"] is True, app["result"]


# licensing -----------------------------------------------------------------------------------
#: what each license type's form needs beyond the address and the staff
LICENSE_EXTRAS: dict[str, dict[str, Any]] = {
    "medical": {"specialty": "терапия"},
    "education": {"capacity": 300},
    "tourism": {"insurance_contract": "СК-2026/117"},
}


async def _license(w: World, code: str) -> None:
    kind = code.removeprefix("lc-license-")
    bin_ = await fathers_llp(w)
    payload = {**pharmacy_form(bin_), "license_type": kind, **LICENSE_EXTRAS.get(kind, {})}
    app = await completes(w, FATHER, code, payload)
    lic = app["result"]
    assert lic["applicant_bin"] == bin_ and lic["applicant_iin"] == FATHER
    # E-Licensing decides on the merits; a completed application may carry its refusal
    assert lic["status"] != "rejected", lic
    if kind == "pharmacy":
        w.made.setdefault("license_application", lic)


LICENSE_SERVICES = (
    "lc-license-construction",
    "lc-license-pharmacy",
    "lc-license-medical",
    "lc-license-education",
    "lc-license-alcohol-retail",
    "lc-license-security",
    "lc-license-tourism",
    "lc-license-weapons-trade",
    "lc-license-audit",
)
for _code in LICENSE_SERVICES:
    case(_code)(lambda w, code=_code: _license(w, code))


@case("lc-license-types")
async def _license_types(w: World) -> None:
    app = await completes(w, STRANGER, "lc-license-types", {})
    assert "PHARMACY" in [t["code"] for t in app["result"]]


@case("lc-application-status")
async def _application_status(w: World) -> None:
    lic = await license_application(w)
    app = await completes(w, FATHER, "lc-application-status", {"id": lic["id"]})
    assert app["result"]["id"] == lic["id"]


@case("lc-application-decision", by="agency")
async def _decision(w: World) -> None:
    # licensing's officers (its back office: the licensing client, an 'officer…' purpose)
    await officer(w, "licensing:POST /applications/{id}/decision")
    if "license" in w.made:  # the shared application is decided already: a fresh one
        w.made.pop("license_application", None)
        w.made.pop("paid_application", None)
    app = await a_paid_application(w)
    out = await as_agency(
        w,
        "licensing",
        "lc-application-decision",
        {"id": app["id"], "decision": "approve", "reason": "the premises were inspected"},
        purpose="officer: license review",
    )
    assert out["status"] == "approved" and out["license_number"], out
    w.made.setdefault("license", out["license_number"])


@case("lc-license-info")
async def _license_info(w: World) -> None:
    number = await a_license(w)
    app = await completes(w, FATHER, "lc-license-info", {"number": number})
    assert app["result"]["number"] == number


@case("lc-license-verify")
async def _license_verify(w: World) -> None:
    number = await a_license(w)
    app = await completes(w, STRANGER, "lc-license-verify", {"number": number})
    assert app["result"]["number"] == number


@case("lc-license-suspension", by="agency")
async def _suspension(w: World) -> None:
    await officer(w, "licensing:POST /licenses/{number}/suspend")
    client = "licensing"
    number = await a_license(w)
    out = await as_agency(
        w,
        client,
        "lc-license-suspension",
        {"number": number, "reason": "an inspection found expired medicines"},
        purpose="officer: supervision",
    )
    assert out["status"] == "suspended", out


@case("lc-license-revocation", by="agency")
async def _revocation(w: World) -> None:
    await officer(w, "licensing:POST /licenses/{number}/revoke")
    client = "licensing"
    number = await a_license(w)
    out = await as_agency(
        w,
        client,
        "lc-license-revocation",
        {"number": number, "reason": "the holder asked to revoke it"},
        purpose="officer: revocation",
    )
    assert out["status"] == "revoked", out


# payments ------------------------------------------------------------------------------------
@case("pm-state-duty-payment")
async def _state_duty(w: World) -> None:
    duty = await duty_of(w, await a_company(w, "LLP"))
    app = await completes(w, FATHER, "pm-state-duty-payment", {"id": duty["id"]})
    approve_at_the_bank(w, app["result"]["acquirer_payment_id"])
    await invoice_paid(w, FATHER, duty["id"])


@case("pm-fine-payment")
async def _fines(w: World) -> None:
    app = await completes(w, FATHER, "pm-fine-payment", {"payer": FATHER})
    assert isinstance(app["result"], list)


async def an_invoice(w: World) -> dict[str, Any]:
    return await as_agency(
        w,
        "licensing",
        "pm-invoice-issue",
        {
            "payer": FATHER,
            "amount_tiyn": 432_500,
            "purpose": "Лицензиялық алым / Лицензионный сбор",
            "kbk": "105402",  # license fees
            "beneficiary_agency": "licensing",
            "due_date": (today() + timedelta(days=30)).isoformat(),
            "reference": str(uuid.uuid4()),
        },
    )


@case("pm-invoice-issue", by="agency")
async def _invoice_issue(w: World) -> None:
    # inter-agency: licensing bills a license fee (its default grant)
    out = await an_invoice(w)
    assert out["status"] == "issued" and out["payer"] == FATHER


@case("pm-invoice-cancel", by="agency")
async def _invoice_cancel(w: World) -> None:
    invoice = await an_invoice(w)
    out = await as_agency(
        w, "licensing", "pm-invoice-cancel", {"id": invoice["id"], "reason": "withdrawn"}
    )
    assert out["status"] == "cancelled", out


@case("pm-duty-refund", by="agency")
async def _refund(w: World) -> None:
    # the beneficiary agency's operation (payments refunds for it only; a payer refunding a
    # paid fee to themself would keep the licence and the money): licensing, which billed the
    # fee, refunds part of it to the payer (its default grant)
    invoice = await an_invoice(w)
    await pay_and_approve(w, FATHER, invoice["id"])
    await invoice_paid(w, FATHER, invoice["id"])
    refund = await as_agency(
        w,
        "licensing",
        "pm-duty-refund",
        {"id": invoice["id"], "amount_tiyn": 100_000, "reason": "paid twice by mistake"},
    )
    assert refund["amount_tiyn"] == 100_000 and refund["status"] in ("pending", "completed")


@case("pm-birth-allowance")
async def _birth_allowance(w: World) -> None:
    child = (await a_newborn(w))["child_iin"]
    app = await completes(w, MOTHER, "pm-birth-allowance", {"child_iin": child})
    assert app["result"]["recipient_iin"] == MOTHER and app["result"]["amount_tiyn"] > 0
    w.made.setdefault("payout", app["result"].get("payout_id") or app["result"]["id"])


@case("pm-funeral-allowance")
async def _funeral_allowance(w: World) -> None:
    death = await a_death(w)
    app = await completes(w, MOTHER, "pm-funeral-allowance", {"deceased_iin": death["iin"]})
    assert app["result"]["recipient_iin"] == MOTHER and app["result"]["amount_tiyn"] > 0


@case("pm-payout-status")
async def _payout_status(w: World) -> None:
    payout = await a_payout(w)
    app = await completes(w, MOTHER, "pm-payout-status", {"id": payout})
    assert app["result"]["id"] == payout


@case("pm-reconciliation-report", by="agency")
async def _reconciliation(w: World) -> None:
    # for agencies and the Treasury: no member is granted it by default; the operator grants
    # licensing, which sees its own totals
    await w.grant("licensing", "payments:GET /reports/reconciliation")
    out = await as_agency(w, "licensing", "pm-reconciliation-report", {"date": today().isoformat()})
    assert out["ledger_balanced"] is True and out["mismatches"] == [], out
    assert {line["agency"] for line in out["lines"]} <= {"licensing"}, out


# notary --------------------------------------------------------------------------------------
@case("nt-power-of-attorney")
async def _power_of_attorney(w: World) -> None:
    await licensed_notary(w)
    app = await completes(w, FATHER, "nt-power-of-attorney", poa_form())
    act = app["result"]
    assert act["kind"] == "power_of_attorney" and act["status"] != "blocked", act
    w.made.setdefault("poa", act)


@case("nt-property-sale")
async def _property_sale(w: World) -> None:
    await licensed_notary(w)
    flat = await a_flat(w, "sale")
    app = await completes(
        w,
        BUYER,
        "nt-property-sale",
        {
            "notary_iin": NOTARY,
            "cadastral_number": flat,
            "buyers": [{"iin": BUYER, "share": {"num": 1, "den": 1}}],
            "price_tiyn": 3_200_000_000,
        },
    )
    roles = sorted((p["role"], p["iin"]) for p in app["result"]["parties"])
    assert ("buyer", BUYER) in roles and ("seller", SELLER) in roles, roles


@case("nt-copy-certification")
async def _copy(w: World) -> None:
    await licensed_notary(w)
    app = await completes(w, FATHER, "nt-copy-certification", copy_form())
    act = app["result"]
    assert act["kind"] == "copy_certification" and act["status"] != "blocked", act
    w.made.setdefault("copy_act", act)


@case("nt-poa-revocation")
async def _poa_revocation(w: World) -> None:
    act = await an_act(w, "power_of_attorney")
    app = await completes(
        w, FATHER, "nt-poa-revocation", {"id": act["id"], "reason": "I no longer need it"}
    )
    assert app["result"]["status"] == "revoked", app["result"]


@case("nt-act-content")
async def _act_content(w: World) -> None:
    act = await w.once("poa", lambda: an_act(w, "power_of_attorney"))
    app = await completes(w, FATHER, "nt-act-content", {"id": act["id"]})
    assert app["result"]["sha256"], app["result"]


@case("nt-act-verify")
async def _act_verify(w: World) -> None:
    act = await a_registered_act(w)
    app = await completes(
        w, STRANGER, "nt-act-verify", {"number": act["number"], "code": act["verification_code"]}
    )
    assert app["result"]["number"] == act["number"], app["result"]


@case("nt-notary-search")
async def _notary_search(w: World) -> None:
    app = await completes(w, STRANGER, "nt-notary-search", {"region": "Алматы"})
    items = app["result"]["items"]
    assert items and all(n["region"] == "Алматы" for n in items), app["result"]


@case("nt-notary-registration", by="agency")
async def _notary_registration(w: World) -> None:
    # the notaries' registrar (licensing, as in the other e2e tests) at its office
    await w.grant("licensing", "notary:POST /notaries")
    out = await as_agency(
        w,
        "licensing",
        "nt-notary-registration",
        {
            "iin": SELLER,
            "full_name": "Қайратов Ерғали Болатұлы",
            "license_number": f"EVERY-{random.randrange(10**6)}",
            "region": "Астана",
        },
    )
    assert out["iin"] == SELLER and out["status"] == "active", out


# composites ----------------------------------------------------------------------------------
@case("cx-birth-of-child")
async def _birth_of_child(w: World) -> None:
    app = await completes(w, MOTHER, "cx-birth-of-child", birth_form(unique("Әмір")), within=90)
    assert app["result"]["recipient_iin"] == MOTHER and app["result"]["amount_tiyn"] > 0


@case("cx-death-of-relative")
async def _death_of_relative(w: World) -> None:
    child = (await a_newborn(w))["child_iin"]
    app = await completes(
        w,
        MOTHER,
        "cx-death-of-relative",
        {"deceased_iin": child, "date_of_death": today().isoformat(), "place": "Алматы қ."},
        within=90,
    )
    assert app["result"]["recipient_iin"] == MOTHER and app["result"]["amount_tiyn"] > 0


@case("cx-open-business")
async def _open_business(w: World) -> None:
    form = company_form("LLP", unique("Сауда"), FATHER)
    form = {k: v for k, v in form.items() if k not in ("legal_form", "director_iin")}
    app_id = await submit(w, FATHER, "cx-open-business", form)
    duty = await waiting_step(w, FATHER, app_id, "state_duty")
    invoice = duty["result"][0] if isinstance(duty["result"], list) else duty["result"]
    await pay_and_approve(w, FATHER, invoice["id"])
    app = await settle(w, FATHER, app_id, within=90)
    if app["status"] != "completed":
        raise ContractDrift(_drift_words(app))
    cert = app["result"]
    assert cert["kind"] == "legal_entity_registration", cert
    w.made.setdefault("certificate", cert["number"])


@case("cx-buy-home")
async def _buy_home(w: World) -> None:
    await licensed_notary(w)
    flat = await a_flat(w, "home")
    app_id = await submit(
        w,
        BUYER,
        "cx-buy-home",
        {
            "cadastral_number": flat,
            "notary_iin": NOTARY,
            "buyers": [{"iin": BUYER, "share": {"num": 1, "den": 1}}],
            "price_tiyn": 3_200_000_000,
        },
    )
    fee = await waiting_step(w, BUYER, app_id, "notary_fee")
    await pay_and_approve(w, BUYER, fee["result"]["id"])
    await waiting_step(w, BUYER, app_id, "signatures")
    contract = {s["name"]: s for s in (await _application(w, BUYER, app_id))["steps"]}
    act_id = contract["sale_contract"]["result"]["id"]
    signers = {
        SELLER: (await certify(w, w.token(SELLER), SELLER))[0],
        BUYER: (await certify(w, w.token(BUYER), BUYER))[0],
    }
    for iin, path in ((SELLER, "signatures"), (BUYER, "signatures"), (NOTARY, "notary-signature")):
        signer = signers[iin] if iin in signers else await notary_signer(w)
        content = await routed_get(w, w.token(iin), f"/x/notary/acts/{act_id}/content")
        await routed_post(
            w,
            w.token(iin),
            f"/x/notary/acts/{act_id}/{path}",
            {"jws": sign_content(signer, content)},
        )
    app = await settle(w, BUYER, app_id, within=90)
    if app["status"] != "completed":
        raise ContractDrift(_drift_words(app))
    cert = app["result"]
    assert cert["kind"] == "property_ownership" and cert["subject"] == BUYER, cert


# -- the tests ---------------------------------------------------------------------------------
def test_every_service_of_the_register_has_a_case(world: World) -> None:
    """A service the register publishes without a case here fails (write its case); a case
    for a service the register no longer publishes fails too (remove it)."""
    published = {code for code, s in world.catalogue.items() if s["status"] == "active"}
    assert len(published) >= 60, sorted(published)
    assert sorted(published - set(CASES)) == [], "services of the register without a case"
    assert sorted(set(CASES) - published) == [], "cases of services the register does not have"


def _params() -> list[Any]:
    return [
        pytest.param(
            code,
            marks=pytest.mark.xfail(strict=True, raises=ContractDrift, reason=PENDING[code])
            if code in PENDING
            else (),
            id=code,
        )
        for code in CASES
    ]


@pytest.mark.parametrize("code", _params())
async def test_the_service_is_rendered(world: World, code: str) -> None:
    service = world.catalogue.get(code)
    assert service is not None, f"{code} is not in the register the gateway publishes"
    assert service["status"] == "active", service
    if BY[code] is not None:  # the register says who may apply; the case agrees
        assert service["citizen_facing"] == (BY[code] == "citizen"), (
            f"{code}: the register has citizen_facing={service['citizen_facing']}, "
            f"channels {service['channels']}; the case applies as {BY[code]}: update the case"
        )
    await CASES[code](world)
