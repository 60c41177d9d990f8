"""The event catalogue (DESIGN §4.1, §5): the AsyncAPI 3 document of every event type of the
mesh — payload schema, topic, Kafka key and an example each. Public and cacheable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from meshkit.catalogue import ASYNCAPI_MEDIA_TYPE, catalogue_response, known_producers
from meshkit.errors import NotFound
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1/events", tags=["events"], responses=PROBLEM_RESPONSES)


@router.get(
    "/catalogue",
    summary="AsyncAPI 3 document of every event type (or of one agency's)",
    response_class=Response,
    responses={200: {"content": {ASYNCAPI_MEDIA_TYPE: {}}}, 304: {"description": "unchanged"}},
)
async def event_catalogue(
    request: Request,
    agency: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=50,
            pattern=r"^[a-z][a-z0-9_-]*$",
            description="only the events this agency (or `gateway`) publishes",
        ),
    ] = None,
) -> Response:
    if agency is None:
        return catalogue_response(request)
    if agency not in known_producers():
        raise NotFound(f"no agency {agency!r} publishes events (known: {known_producers()})")
    return catalogue_response(request, (agency,), title=f"svc-{agency} events")
