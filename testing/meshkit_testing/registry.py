"""Test support for svc-registry (and for tests of services that talk to it): a contract
double of svc-identity's person paths, a revocation double, and a harness that calls the
registry as the gateway would. Not used at run time."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from egov_registry.bootstrap import Components
from egov_registry.settings import RegistrySettings
from meshkit.contracts.identity import FamilyOut, PersonCreate, PersonOut, PersonSummary
from meshkit.events import CloudEvent
from meshkit.gateway_client import GatewayClient
from meshkit.ids import next_iin
from meshkit.messaging.tables import outbox_journal
from meshkit.service import ServiceRuntime
from meshkit.trust import NationalTrust
from meshkit_testing.apps import FakeGateway
from meshkit_testing.ca import TestCA
from meshkit_testing.mesh import transport_for

# every event the service wrote, published (moved to outbox_sent) or not
journal = outbox_journal()

MOTHER = "920520446747"  # female, 1992
FATHER = "900115365296"  # male, 1990
FOUNDER_B = "851103376346"  # male, 1985
DECEASED = "700730377251"  # male, deceased
OTHER = "780308401018"  # female, 1978 — not a party to anything by default
UNKNOWN = "010101500003"  # a valid IIN that identity does not know


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": "error", "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


@dataclass
class IdentityDouble:
    """svc-identity's two contract paths the registry calls, and what it saw."""

    persons: dict[str, PersonOut] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    created_by_key: dict[str, tuple[str, str]] = field(default_factory=dict)
    serials: dict[tuple[date, str], int] = field(default_factory=dict)
    #: when set, the double also plays the national CA's ``POST /ca/certificates``
    ca: TestCA | None = None
    #: valid consents: (IIN, agency, category) — what ``GET /consents/check`` answers from
    consents: set[tuple[str, str, str]] = field(default_factory=set)

    def consent(self, iin: str, category: str = "business", agency: str = "registry") -> None:
        self.consents.add((iin, agency, category))

    def link(self, child: str, *, mother: str | None = None, father: str | None = None) -> None:
        """Record family links (as identity does on a birth)."""
        person = self.persons[child]
        self.persons[child] = person.model_copy(
            update={
                "mother_iin": mother or person.mother_iin,
                "father_iin": father or person.father_iin,
            }
        )

    def add(
        self,
        iin: str,
        sex: str,
        birth: date,
        *,
        status: str = "active",
        address: str | None = "Астана қ., Мәңгілік Ел даңғылы, 8",
        surname: str = "Тестов",
    ) -> None:
        self.persons[iin] = PersonOut(
            iin=iin,
            surname=surname,
            given_name="Әлия" if sex == "female" else "Нұрлан",
            birth_date=birth,
            sex=sex,
            citizenship="KZ",
            address=address,
            status=status,
            date_of_death=date(2024, 1, 1) if status == "deceased" else None,
        )

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/persons/{iin}")
        async def get_person(iin: str, request: Request) -> Any:
            self._record(request)
            person = self.persons.get(iin)
            if person is None:
                return _problem(404, f"no person {iin}")
            return JSONResponse(person.model_dump(mode="json"))

        @app.get("/persons/{iin}/family")
        async def family(iin: str, request: Request) -> Any:
            self._record(request)
            person = self.persons.get(iin)
            if person is None:
                return _problem(404, f"no person {iin}")

            def summary(p: PersonOut | None) -> dict[str, Any] | None:
                if p is None:
                    return None
                return PersonSummary.model_validate(p.model_dump()).model_dump(mode="json")

            out = FamilyOut(
                iin=iin,
                mother=summary(self.persons.get(person.mother_iin or "")),
                father=summary(self.persons.get(person.father_iin or "")),
                children=[
                    summary(p) for p in self.persons.values() if iin in (p.mother_iin, p.father_iin)
                ],
            )
            return JSONResponse(out.model_dump(mode="json"))

        @app.get("/consents/check")
        async def consent_check(iin: str, agency: str, category: str, request: Request) -> Any:
            self._record(request)
            allowed = (iin, agency, category) in self.consents
            return JSONResponse({"allowed": allowed, "consent_id": "c-1" if allowed else None})

        @app.post("/persons", status_code=201)
        async def create_person(
            body: PersonCreate,
            request: Request,
            idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
        ) -> Any:
            self._record(request, json.loads(await request.body()))
            fingerprint = body.model_dump_json()
            if idempotency_key and idempotency_key in self.created_by_key:
                iin, first = self.created_by_key[idempotency_key]
                if first != fingerprint:
                    return _problem(409, "idempotency key reused with another body")
                return JSONResponse(self.persons[iin].model_dump(mode="json"), status_code=201)
            start = self.serials.get((body.birth_date, body.sex), 0)
            iin, serial = next_iin(body.birth_date, body.sex, start)
            self.serials[(body.birth_date, body.sex)] = serial + 1
            self.persons[iin] = PersonOut(
                iin=iin,
                surname=body.surname,
                given_name=body.given_name,
                patronymic=body.patronymic,
                birth_date=body.birth_date,
                sex=body.sex,
                citizenship=body.citizenship,
                address=body.address,
                status="active",
                mother_iin=body.mother_iin,
                father_iin=body.father_iin,
            )
            if idempotency_key:
                self.created_by_key[idempotency_key] = (iin, fingerprint)
            return JSONResponse(self.persons[iin].model_dump(mode="json"), status_code=201)

        @app.post("/ca/certificates", status_code=201)
        async def certify(request: Request) -> Any:
            self._record(request)
            if self.ca is None:
                return _problem(404, "no CA here")
            body = json.loads(await request.body())
            csr = x509.load_pem_x509_csr(body["csr_pem"].encode())
            now = datetime.now(UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(csr.subject)
                .issuer_name(self.ca.cert.subject)
                .public_key(csr.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(minutes=5))
                .not_valid_after(now + timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(self.ca.key, hashes.SHA256())
            )
            pem = cert.public_bytes(serialization.Encoding.PEM).decode()
            return JSONResponse(
                {"serial": f"{cert.serial_number:x}", "certificate_pem": pem, "chain_pem": pem},
                status_code=201,
            )

        return app

    def _record(self, request: Request, body: Any = None) -> None:
        self.calls.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "user": request.headers.get("x-mesh-user"),
                "assertion": request.headers.get("x-mesh-assertion"),
                "purpose": request.headers.get("x-mesh-purpose"),
                "idempotency_key": request.headers.get("idempotency-key"),
                "body": body,
            }
        )

    def creations(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "POST"]


class RevocationDouble:
    """The national CA's certificate status, as a test decides it."""

    def __init__(self) -> None:
        self.revoked: dict[int, datetime] = {}

    async def __call__(self, cert: x509.Certificate) -> datetime | None:
        return self.revoked.get(cert.serial_number)


@dataclass
class Registry:
    app: FastAPI
    client: httpx.AsyncClient
    gateway: FakeGateway
    identity: IdentityDouble
    ca: TestCA
    revocation: RevocationDouble
    backend: str

    @property
    def runtime(self) -> ServiceRuntime:
        rt: ServiceRuntime = self.app.state.runtime
        return rt

    @property
    def components(self) -> Components:
        return self.runtime.components_as(Components)

    def replace_components(self, **changes: Any) -> None:
        """Run on with other components (a key without a certificate, another validity)."""
        self.runtime.components = dataclasses.replace(self.components, **changes)

    async def call(
        self,
        method: str,
        path: str,
        *,
        client: str = "registry-operator",
        user: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """A call routed through the (fake) gateway: carries a valid assertion."""
        # signed from the request as sent: its query and body are bound too
        auth = self.gateway.auth("registry", client=client, user=user)
        return await self.client.request(
            method, path, json=json, headers=headers, params=params, auth=auth
        )

    async def citizen(self, method: str, path: str, iin: str, **kw: Any) -> httpx.Response:
        return await self.call(method, path, client="citizen", user=iin, **kw)

    async def outbox_events(self, short_type: str) -> list[CloudEvent]:
        wanted = f"kz.egov.{short_type}.v1"
        async with self.runtime.session_factory() as session:
            rows = (
                await session.execute(
                    select(journal.c.payload)
                    .where(journal.c.event_type == wanted)
                    .order_by(journal.c.id)
                )
            ).scalars()
            return [CloudEvent.from_json_bytes(p) for p in rows]


def default_identity() -> IdentityDouble:
    identity = IdentityDouble()
    identity.add(MOTHER, "female", date(1992, 5, 20), surname="Сәрсенбаева")
    identity.add(FATHER, "male", date(1990, 1, 15), surname="Сәрсенбаев")
    identity.add(FOUNDER_B, "male", date(1985, 11, 3), surname="Омаров")
    identity.add(OTHER, "female", date(1978, 3, 8), surname="Ахметова", address=None)
    identity.add(DECEASED, "male", date(1970, 7, 30), status="deceased")
    return identity


def registry_settings(
    tmp_path: Path, database_url: str | None, **overrides: Any
) -> RegistrySettings:
    gateway_jwks = overrides.pop("gateway_jwks_url")
    return RegistrySettings(
        data_dir=tmp_path,
        database_url=database_url,
        gateway_jwks_url=gateway_jwks,
        dev_mode=overrides.pop("dev_mode", False),
        log_json=False,
        kafka_enabled=overrides.pop("kafka_enabled", False),
        **overrides,
    )


def wire(app: FastAPI, fake: FakeGateway, identity: IdentityDouble, ca: TestCA) -> RevocationDouble:
    runtime: ServiceRuntime = app.state.runtime
    runtime.gateway = GatewayClient(
        "http://gateway",
        client_code="registry",
        static_token="agency-token",
        transport=transport_for({"identity": identity.app()}, fake),
    )
    revocation = RevocationDouble()

    def with_doubles(components: Components) -> Components:
        components.keys.use(ca.signer("registry"))
        assert isinstance(components.trust, NationalTrust)
        components.trust.pin([ca.cert])
        return dataclasses.replace(components, revocation=revocation)

    runtime.customise(with_doubles)
    return revocation


def now() -> datetime:
    return datetime.now(UTC)
