"""A citizen's documents: those the steps of their own application received from agencies.

Read through the applications' own access rule (the applicant, or nobody: another person's
application is as unknown as a missing one), so no document leaks to anyone else.
"""

from __future__ import annotations

from egov_gateway.singlewindow.applications.service_layer import service as applications
from egov_gateway.singlewindow.documents.domain.model import Document, documents_in
from meshkit.auth.principal import Principal
from meshkit.errors import NotFound


async def documents_of(
    ctx: applications.Applications, application_id: str, principal: Principal
) -> list[Document]:
    app = await applications.get_application(ctx, application_id, principal)
    return documents_in(step.result for step in app.steps)


async def document_of(
    ctx: applications.Applications, application_id: str, number: str, principal: Principal
) -> Document:
    for doc in await documents_of(ctx, application_id, principal):
        if doc.number == number:
            return doc
    raise NotFound(f"the application {application_id} has no document {number}")
