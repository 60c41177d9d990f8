"""An in-process stand-in for the gateway's routed exchange, for agency tests.

It serves ``/x/{agency}/{path}`` by forwarding to in-process agency apps with a valid
``X-Mesh-Assertion`` (signed by a :class:`FakeGateway`), so an agency's outgoing calls hit
another agency's real routes — or a small contract double — without sockets.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from fastapi import FastAPI, Request, Response

from meshkit_testing.apps import FakeGateway


def routed_exchange(agencies: Mapping[str, FastAPI], gateway: FakeGateway) -> FastAPI:
    app = FastAPI()

    @app.api_route("/x/{agency}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def route(agency: str, path: str, request: Request) -> Response:
        target = agencies.get(agency)
        if target is None:
            return Response(status_code=404, content=b'{"title":"unknown agency"}')
        agency_path = "/" + path
        auth = request.headers.get("authorization", "")
        client = request.headers.get("x-test-client") or ("agency" if auth else "citizen")
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in {"host", "content-length", "authorization"}
        }
        # signed from the request as actually sent: its path, raw query and body
        signer = gateway.auth(
            agency,
            client=client,
            user=request.headers.get("x-mesh-user"),
            purpose=request.headers.get("x-mesh-purpose"),
            request_id=request.headers.get("x-request-id"),
        )
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://agency") as c:
            upstream = await c.request(
                request.method,
                agency_path,
                params=request.query_params,
                content=await request.body(),
                headers=headers,
                auth=signer,
            )
        return Response(
            content=upstream.content,
            status_code=upstream.status_code,
            headers={
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in {"content-length", "transfer-encoding"}
            },
        )

    return app


def transport_for(agencies: Mapping[str, FastAPI], gateway: FakeGateway) -> httpx.ASGITransport:
    """An httpx transport to hand to :class:`meshkit.gateway_client.GatewayClient`."""
    return httpx.ASGITransport(app=routed_exchange(agencies, gateway))
