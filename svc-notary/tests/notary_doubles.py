"""Contract doubles of the agencies svc-notary calls through the gateway: identity (persons,
CA verify with a revocation double), registry (properties) and payments (invoices). Each
implements only the paths svc-notary uses, with the shapes of ``meshkit.contracts``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cryptography import x509
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from meshkit.contracts.identity import PersonOut
from meshkit.contracts.payments import InvoiceCancel, InvoiceCreate, InvoiceOut
from meshkit.contracts.registry import PropertyOut
from meshkit.documents import DocumentSigner, verify_document
from meshkit_testing.ca import TestCA


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": "Not Found", "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


@dataclass
class MeshState:
    """What the doubles know; tests arrange it and inspect what was asked."""

    ca: TestCA = field(default_factory=TestCA)
    persons: dict[str, PersonOut] = field(default_factory=dict)
    properties: dict[str, PropertyOut] = field(default_factory=dict)
    invoices: dict[str, InvoiceOut] = field(default_factory=dict)  # by Idempotency-Key
    invoice_requests: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    #: ``POST /invoices/{id}/cancel`` asked: (invoice id, reason, X-Mesh-Client, X-Mesh-User)
    cancellations: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    payments_down: bool = False  # payments answers 503 to everything
    #: awaited by ``POST /invoices`` before it answers (with the new invoice's reference)
    on_invoice: Callable[[str], Awaitable[None]] | None = None

    def invoice(self, invoice_id: str) -> InvoiceOut | None:
        return next((i for i in self.invoices.values() if i.id == invoice_id), None)

    def set_invoice_status(self, invoice_id: str, status: str) -> None:
        for key, inv in self.invoices.items():
            if inv.id == invoice_id:
                self.invoices[key] = inv.model_copy(update={"status": status})

    revoked: dict[int, datetime] = field(default_factory=dict)  # certificate serial → when
    verify_calls: int = 0

    def add_person(
        self,
        iin: str,
        surname: str,
        given_name: str,
        patronymic: str | None = None,
        *,
        deceased_on: date | None = None,
    ) -> None:
        from meshkit.ids import parse_iin

        info = parse_iin(iin)
        self.persons[iin] = PersonOut(
            iin=iin,
            surname=surname,
            given_name=given_name,
            patronymic=patronymic,
            birth_date=info.birth_date,
            sex=info.sex,
            citizenship="KZ",
            status="deceased" if deceased_on else "active",
            date_of_death=deceased_on,
        )

    def signer(self, iin: str) -> DocumentSigner:
        return self.ca.signer(iin)

    def revoked_signer(self, iin: str, revoked_at: datetime) -> DocumentSigner:
        key, cert = self.ca.issue(iin)
        self.revoked[cert.serial_number] = revoked_at
        return DocumentSigner(key, [cert])


def identity_double(state: MeshState) -> FastAPI:
    app = FastAPI()

    @app.get("/persons/{iin}")
    async def person(iin: str) -> Any:
        found = state.persons.get(iin)
        if found is None:
            return _problem(404, f"no person with IIN {iin}")
        return found.model_dump(mode="json")

    async def revocation(cert: x509.Certificate) -> datetime | None:
        return state.revoked.get(cert.serial_number)

    @app.post("/ca/verify")
    async def verify(body: dict[str, Any]) -> Any:
        state.verify_calls += 1
        out = await verify_document(
            str(body.get("jws", "")), roots=[state.ca.cert], revocation=revocation
        )
        return {
            "valid": out.valid,
            "signer": out.signer,
            "signed_at": out.signed_at.isoformat() if out.signed_at else None,
            "reason": out.reason,
            "certificate_serial": out.signer_certificate_serial,
        }

    return app


def registry_double(state: MeshState) -> FastAPI:
    app = FastAPI()

    @app.get("/properties/{cadastral_number}")
    async def prop(cadastral_number: str) -> Any:
        found = state.properties.get(cadastral_number)
        if found is None:
            return _problem(404, f"no property {cadastral_number}")
        return found.model_dump(mode="json")

    return app


def payments_double(state: MeshState) -> FastAPI:
    app = FastAPI()

    @app.post("/invoices", status_code=201)
    async def create(body: InvoiceCreate, request: Request) -> Any:
        key = request.headers.get("idempotency-key")
        state.invoice_requests.append((key, body.model_dump(mode="json")))
        if key and key in state.invoices:
            return state.invoices[key].model_dump(mode="json")
        invoice = InvoiceOut(
            id=f"INV-{len(state.invoices) + 1:05d}",
            status="issued",
            created_at=datetime.now(UTC),
            **body.model_dump(),
        )
        state.invoices[key or invoice.id] = invoice
        if state.on_invoice is not None:
            await state.on_invoice(invoice.reference)
        return invoice.model_dump(mode="json")

    @app.middleware("http")
    async def down(request: Request, call_next: Any) -> Any:
        if state.payments_down:
            return _problem(503, "payments is down")
        return await call_next(request)

    @app.get("/invoices/{invoice_id}")
    async def get(invoice_id: str) -> Any:
        invoice = state.invoice(invoice_id)
        if invoice is None:
            return _problem(404, f"no invoice {invoice_id}")
        return invoice.model_dump(mode="json")

    @app.post("/invoices/{invoice_id}/cancel")
    async def cancel(invoice_id: str, body: InvoiceCancel, request: Request) -> Any:
        state.cancellations.append(
            (
                invoice_id,
                body.reason,
                request.headers.get("x-mesh-client"),
                request.headers.get("x-mesh-user"),
            )
        )
        invoice = state.invoice(invoice_id)
        if invoice is None:
            return _problem(404, f"no invoice {invoice_id}")
        if invoice.status != "issued":
            return _problem(409, f"invoice {invoice_id} is {invoice.status}")
        state.set_invoice_status(invoice_id, "cancelled")
        return state.invoice(invoice_id).model_dump(mode="json")  # type: ignore[union-attr]

    return app
