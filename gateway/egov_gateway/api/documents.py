"""A citizen's documents (issue 18): what their completed application issued, to read (the
portal's printable page), download as PDF and verify — never the signed token itself."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from egov_gateway.api.dependencies import require_citizen
from egov_gateway.singlewindow.applications.service_layer import service as applications
from egov_gateway.singlewindow.documents.adapters import pdf, qr
from egov_gateway.singlewindow.documents.domain.model import (
    Document,
    format_date,
    verification_url,
)
from egov_gateway.singlewindow.documents.service_layer import service
from meshkit.auth.principal import Principal
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["documents"], responses=PROBLEM_RESPONSES)

Citizen = Annotated[Principal, Depends(require_citizen)]
Lang = Annotated[Literal["kk", "ru", "en"], Query(description="the reader's language")]
AppId = Annotated[str, Path(max_length=36)]
Number = Annotated[str, Path(max_length=60, pattern=r"^[A-Za-z0-9-]+$")]


class FieldOut(BaseModel):
    key: str = Field(description="the data field (for styling and tests, not for display)")
    label: str
    value: str


class DocumentOut(BaseModel):
    number: str = Field(examples=["RC-2026-0000042-K7M2Q9XD"])
    kind: str = Field(examples=["birth"])
    title: str = Field(examples=["Туу туралы куәлік"])
    issuer: str = Field(description="the agency that signed it, by name")
    issued_on: str | None = Field(default=None, description="ISO date")
    issued_on_text: str | None = Field(default=None, examples=["4 желтоқсан 2026 ж."])
    highlight: FieldOut | None = Field(
        default=None, description="the field shown prominently (the child's IIN after a birth)"
    )
    fields: list[FieldOut]
    verify_url: str = Field(description="the public page that checks it (also in the QR code)")
    qr_svg: str = Field(description="the QR code of verify_url as an SVG data URI")
    pdf_url: str


def _ctx(request: Request) -> applications.Applications:
    return applications.applications_of(request.app.state.runtime)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _out(doc: Document, lang: str, application_id: str, request: Request) -> DocumentOut:
    url = verification_url(_base(request), doc.number)
    fields = [FieldOut(key=f.key, label=f.label, value=f.value) for f in doc.fields(lang)]
    main = doc.highlight()
    return DocumentOut(
        number=doc.number,
        kind=doc.kind,
        title=doc.title_in(lang),
        issuer=doc.issuer_in(lang),
        issued_on=doc.issued_on,
        issued_on_text=format_date(doc.issued_on, lang) if doc.issued_on else None,
        highlight=next((f for f in fields if f.key == main), None),
        fields=fields,
        verify_url=url,
        qr_svg=qr.svg_data_uri(url),
        pdf_url=f"/api/v1/applications/{application_id}/documents/{doc.number}.pdf?lang={lang}",
    )


@router.get(
    "/api/v1/applications/{application_id}/documents",
    response_model=list[DocumentOut],
    summary="The documents my application issued (a certificate…), to read in my language",
)
async def documents(
    application_id: AppId, citizen: Citizen, request: Request, lang: Lang = "kk"
) -> list[DocumentOut]:
    docs = await service.documents_of(_ctx(request), application_id, citizen)
    return [_out(d, lang, application_id, request) for d in docs]


# before the JSON route: ``{number}`` would otherwise take ``<number>.pdf`` and refuse it
@router.get(
    "/api/v1/applications/{application_id}/documents/{number}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the PDF"}},
    summary="One document of my application as a PDF to print (with its verification QR code)",
)
async def document_pdf(
    application_id: AppId, number: Number, citizen: Citizen, request: Request, lang: Lang = "kk"
) -> Response:
    doc = await service.document_of(_ctx(request), application_id, number, citizen)
    body = pdf.render(doc, lang, verification_url(_base(request), doc.number))
    return Response(
        content=body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{doc.number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/api/v1/applications/{application_id}/documents/{number}",
    response_model=DocumentOut,
    summary="One document of my application",
)
async def document(
    application_id: AppId, number: Number, citizen: Citizen, request: Request, lang: Lang = "kk"
) -> DocumentOut:
    doc = await service.document_of(_ctx(request), application_id, number, citizen)
    return _out(doc, lang, application_id, request)
