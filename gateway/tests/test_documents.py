"""A citizen's documents (issue 18): the birth certificate a completed birth of a child
issued, as fields a person reads in kk/ru/en, as a PDF with its verification QR code — only
for the applicant; the signed token itself is never handed out."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader

from egov_gateway.bootstrap import overrides_of
from egov_gateway.singlewindow.applications.domain.ports import CallOutcome
from egov_gateway.singlewindow.applications.service_layer.service import on_agency_event
from egov_gateway.singlewindow.documents.adapters import pdf, qr
from egov_gateway.singlewindow.documents.domain.model import (
    decode,
    documents_in,
    format_date,
    verification_url,
)
from meshkit.contracts.registry import BirthRegistered
from meshkit.events import TypedEvent, build_envelope
from meshkit_testing.apps import running
from meshkit_testing.ca import TestCA
from meshkit_testing.gateway import ISSUER, TestIdentity
from meshkit_testing.polling import eventually
from meshkit_testing.services import build_app

MOTHER = "920308400210"
OTHER = "900115300122"
CHILD = "260101600017"
NUMBER = "RC-2026-0000042-K7M2Q9XD"
BIRTH = {
    "surname": "Сәрсенбаева",
    "given_name": "Айгерім",
    "birth_date": "2026-01-01",
    "sex": "female",
    "place": "Алматы қ., №1 перинаталдық орталық",
    "mother_iin": MOTHER,
}
UUID_OR_CODE = ("register_birth", "birth_certificate", "child_iin", "eyJ")


def birth_certificate(ca: TestCA) -> str:
    """What the registry signs (svc-registry's ``birth_content``)."""
    return ca.signer("registry").sign(
        {
            "iss": "registry",
            "sub": CHILD,
            "number": NUMBER,
            "kind": "birth",
            "title": {
                "kk": "Туу туралы куәлік",
                "ru": "Свидетельство о рождении",
                "en": "Birth certificate",
            },
            "iat": int(datetime.now(UTC).timestamp()),
            "issued_on": "2026-12-04",
            "data": {
                "child_iin": CHILD,
                "surname": "Сәрсенбаева",
                "given_name": "Айгерім",
                "patronymic": None,
                "birth_date": "2026-01-01",
                "sex": "female",
                "place": "Алматы қ., №1 перинаталдық орталық",
                "act_number": "B-2026-0000001",
                "registered_at": "2026-12-04T06:00:00+00:00",
                "mother_iin": MOTHER,
                "father_iin": None,
            },
        }
    )


# -- the document as a person reads it (no I/O) -------------------------------------------------
def test_fields_are_labelled_and_written_for_people_in_three_languages() -> None:
    token = birth_certificate(TestCA())
    [doc] = documents_in([None, {"id": "x"}, {"number": NUMBER, "document": token}])
    assert doc.kind == "birth" and doc.highlight() == "child_iin"
    kk = {f.key: (f.label, f.value) for f in doc.fields("kk")}
    ru = {f.key: (f.label, f.value) for f in doc.fields("ru")}
    en = {f.key: (f.label, f.value) for f in doc.fields("en")}
    assert kk["child_iin"] == ("Баланың ЖСН-і", CHILD)
    assert ru["sex"] == ("Пол", "женский") and en["sex"] == ("Sex", "female")
    assert kk["birth_date"][1] == "1 қаңтар 2026 ж." and ru["birth_date"][1] == "1 января 2026 г."
    assert en["registered_at"][1] == "4 December 2026"
    # empty fields are left out; nothing is shown without a label
    assert "patronymic" not in ru and "father_iin" not in en
    assert doc.title_in("kk") == "Туу туралы куәлік" and doc.issuer_in("en").startswith("Ministry")
    assert format_date("2026-12-04", "kk") == "4 желтоқсан 2026 ж."
    # not a document: ignored
    assert decode("not-a-jws") is None and documents_in([{"document": "x", "number": "y"}]) == []


def test_the_pdf_names_the_child_and_carries_the_verification_link() -> None:
    doc = decode(birth_certificate(TestCA()))
    assert doc is not None
    url = verification_url("http://portal.example/", NUMBER)
    assert url == f"http://portal.example/verify/{NUMBER}"
    for lang, title in (("kk", "Туу туралы куәлік"), ("ru", "Свидетельство о рождении")):
        body = pdf.render(doc, lang, url)
        assert body.startswith(b"%PDF-")
        text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
        assert title in text and "Айгерім" in text and CHILD in text
        assert NUMBER in text and "verify" in text.replace("\n", "")
    # the QR code is a real one, of the link
    assert qr.svg_data_uri(url).startswith("data:image/svg+xml")
    grid = qr.modules(url)
    assert len(grid) == len(grid[0]) >= 21


# -- through the gateway: the applicant's own, nobody else's -------------------------------------
@dataclass
class Scripted:
    answers: dict[str, Callable[[], CallOutcome]]
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def call(self, request: Any, **kw: Any) -> CallOutcome:
        key = f"{request.method} {request.agency}{request.path}"
        self.calls.append({"key": key, **kw})
        for prefix, answer in self.answers.items():
            if key.startswith(prefix):
                return answer()
        return CallOutcome(False, 404, detail="no such operation in the script")


class _Refuse(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("agencies are not part of this test")


@pytest.fixture
async def gw(
    tmp_path: Path, db_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI, Scripted, TestIdentity]]:
    token = birth_certificate(TestCA())
    exchange = Scripted(
        {
            "GET identity/persons/": lambda: CallOutcome(True, 200, {"iin": MOTHER}),
            "POST registry/births": lambda: CallOutcome(
                True, 201, {"act_number": "B-2026-0000001", "child_iin": CHILD}
            ),
            "POST registry/certificates": lambda: CallOutcome(
                True, 201, {"number": NUMBER, "kind": "birth", "subject": CHILD, "document": token}
            ),
            "POST payments/allowances": lambda: CallOutcome(True, 201, {"id": "po-1"}),
        }
    )
    identity = TestIdentity(tmp_path)
    app = build_app(
        "gateway",
        tmp_path / "gw",
        kafka_enabled=False,
        database_url=db_url,
        identity_jwks_url=identity.jwks_url,
        identity_issuer=ISSUER,
        register_options={"background": False},
        applications={"sweep_interval_s": 0.2, "step_retry_for_s": 0.5},
    )
    overrides_of(app).register_transport = _Refuse()
    overrides_of(app).applications_caller = exchange
    async with running(app) as client:
        yield client, app, exchange, identity


async def test_the_applicant_reads_and_downloads_the_birth_certificate_nobody_else_does(
    gw: tuple[httpx.AsyncClient, FastAPI, Scripted, TestIdentity],
) -> None:
    client, app, exchange, identity = gw
    mother = identity.bearer("citizen", MOTHER)
    r = await client.post(
        "/api/v1/applications",
        json={"service_code": "cx-birth-of-child", "payload": BIRTH},
        headers=mother,
    )
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    births = [c for c in exchange.calls if c["key"] == "POST registry/births"]
    env = build_envelope(
        BirthRegistered(
            act_number="B-2026-0000001",
            child_iin=CHILD,
            surname="Сәрсенбаева",
            given_name="Айгерім",
            birth_date=date(2026, 1, 1),
            sex="female",
            place="Алматы қ.",
            mother_iin=MOTHER,
            registered_at=datetime.now(UTC),
        ),
        source="/svc-registry",
        subject=CHILD,
        correlation_id=births[0]["request_id"],
    )
    uow = app.state.runtime.uow_factory()
    async with uow:
        await on_agency_event(TypedEvent(envelope=env, data=env_data(env)), uow)
        await uow.commit()
    docs: list[dict[str, Any]] = []

    async def issued() -> bool:
        got = await client.get(
            f"/api/v1/applications/{app_id}/documents", params={"lang": "ru"}, headers=mother
        )
        assert got.status_code == 200, got.text
        docs[:] = got.json()
        return bool(docs)

    await eventually(issued, within=10, what="the birth certificate")
    [doc] = docs
    assert doc["title"] == "Свидетельство о рождении" and doc["number"] == NUMBER
    assert doc["highlight"] == {"key": "child_iin", "label": "ИИН ребёнка", "value": CHILD}
    assert doc["issued_on_text"] == "4 декабря 2026 г."
    assert doc["verify_url"].endswith(f"/verify/{NUMBER}")
    assert doc["qr_svg"].startswith("data:image/svg+xml")
    # never the signed token, never a step's code
    shown = str([doc["title"], doc["issuer"], [(f["label"], f["value"]) for f in doc["fields"]]])
    assert not any(code in shown for code in UUID_OR_CODE)
    one = await client.get(
        f"/api/v1/applications/{app_id}/documents/{NUMBER}", params={"lang": "kk"}, headers=mother
    )
    assert one.status_code == 200 and one.json()["title"] == "Туу туралы куәлік"
    pdf_r = await client.get(doc["pdf_url"], headers=mother)
    assert pdf_r.status_code == 200, pdf_r.text
    assert pdf_r.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf_r.content)).pages[0].extract_text()
    assert CHILD in text and "Айгерім" in text
    # the attacker: another citizen probes the application's documents — as unknown as a
    # missing application, in every form
    other = identity.bearer("citizen", OTHER)
    for path in (
        f"/api/v1/applications/{app_id}/documents",
        f"/api/v1/applications/{app_id}/documents/{NUMBER}",
        f"/api/v1/applications/{app_id}/documents/{NUMBER}.pdf",
    ):
        refused = await client.get(path, headers=other)
        assert refused.status_code == 404, (path, refused.text)
        assert CHILD not in refused.text
        assert (await client.get(path)).status_code == 401
    missing = await client.get(
        f"/api/v1/applications/{app_id}/documents/RC-2026-0000001-AAAAAAAA.pdf", headers=mother
    )
    assert missing.status_code == 404


def env_data(env: Any) -> Any:
    return BirthRegistered.model_validate(env.data)
