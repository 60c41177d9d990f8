"""The event catalogue the gateway serves (DESIGN §4.1) and every service's /asyncapi.json."""

from __future__ import annotations

from typing import Any

import jsonschema

from meshkit_testing.gateway import Mesh


def message_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The payload schema of a message, its $refs resolvable inside the document."""
    return {**doc["components"]["messages"][name]["payload"], "components": doc["components"]}


def assert_asyncapi3(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    messages = doc["components"]["messages"]
    assert messages
    for channel_name, channel in doc["channels"].items():
        assert channel["address"].startswith("egov.")
        for ref in channel["messages"].values():
            assert ref["$ref"].removeprefix("#/components/messages/") in messages
        op = doc["operations"][f"publish_{channel_name}"]
        assert op["action"] == "send" and op["channel"] == {"$ref": f"#/channels/{channel_name}"}
    for name, message in messages.items():
        assert message["payload"]["$ref"] == f"#/components/schemas/{name}"
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        example = message["examples"][0]["payload"]
        jsonschema.validate(example, message_schema(doc, name))


async def test_the_catalogue_lists_every_event_type_with_a_valid_example(mesh: Mesh) -> None:
    r = await mesh.gateway.get("/api/v1/events/catalogue")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "public" in r.headers["cache-control"]
    doc = r.json()
    assert_asyncapi3(doc)
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert "kz.egov.payments.invoice.issued.v1" in names
    assert "kz.egov.gateway.mesh_echo.sent.v1" in names  # written by POST /mesh/echo
    assert sorted(doc["channels"]) == [
        "egov_gateway",
        "egov_identity",
        "egov_licensing",
        "egov_notary",
        "egov_payments",
        "egov_registry",
    ]
    issued = doc["components"]["schemas"]["kz_egov_payments_invoice_issued_v1"]
    assert issued["properties"]["currency"]["default"] == "KZT"
    # a cache revalidates with the ETag and gets no body
    again = await mesh.gateway.get(
        "/api/v1/events/catalogue", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and not again.content


async def test_the_catalogue_filters_by_agency(mesh: Mesh) -> None:
    r = await mesh.gateway.get("/api/v1/events/catalogue", params={"agency": "notary"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert list(doc["channels"]) == ["egov_notary"]
    assert all(
        m["name"].startswith("kz.egov.notary.") for m in doc["components"]["messages"].values()
    )
    missing = await mesh.gateway.get("/api/v1/events/catalogue", params={"agency": "nobody"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_the_gateway_serves_its_own_asyncapi(mesh: Mesh) -> None:
    r = await mesh.gateway.get("/asyncapi.json")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert_asyncapi3(doc)
    assert list(doc["channels"]) == ["egov_gateway"]
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert "kz.egov.gateway.application.submitted.v1" in names
