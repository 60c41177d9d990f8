"""Signed certificates: issue, read, and public verification (by number or by document)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from meshkit.documents import cert_from_b64
from meshkit.trust import DocumentKeys
from meshkit_testing.ca import TestCA
from meshkit_testing.registry import FATHER, MOTHER, OTHER, UNKNOWN, Registry

FLAT = "21:318:010:123:4"


async def with_flat(registry: Registry) -> None:
    r = await registry.call(
        "POST",
        "/properties",
        json={
            "cadastral_number": FLAT,
            "kind": "apartment",
            "address": "Астана қ., Қабанбай батыр даңғылы, 11, 45-пәтер",
            "area_m2": "78.50",
            "owners": [{"id": MOTHER, "share": {"num": 1, "den": 1}}],
        },
    )
    assert r.status_code == 201, r.text


def claims(document: str) -> dict[str, Any]:
    out: dict[str, Any] = jwt.decode(document, options={"verify_signature": False})
    return out


def tamper(document: str, **changes: Any) -> str:
    head, body, sig = document.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


async def verify(registry: Registry, document: str) -> dict[str, Any]:
    r = await registry.client.post("/public/certificates/verify", json={"document": document})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_presence_certificate_is_signed_and_verifies(registry: Registry) -> None:
    await with_flat(registry)
    r = await registry.citizen(
        "POST", "/certificates", MOTHER, json={"kind": "real_estate_presence", "subject": MOTHER}
    )
    assert r.status_code == 201, r.text
    cert = r.json()
    assert cert["number"].startswith("RC-") and cert["subject"] == MOTHER
    expires = datetime.fromisoformat(cert["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    header = jwt.get_unverified_header(cert["document"])
    leaf = cert_from_b64(header["x5c"][0])
    assert leaf.issuer == registry.ca.cert.subject
    body = claims(cert["document"])
    assert body["number"] == cert["number"] and body["kind"] == "real_estate_presence"
    assert body["data"]["properties"][0]["cadastral_number"] == FLAT
    assert body["data"]["properties"][0]["share"] == "1/1"
    # anyone verifies it: by document and by number, without a gateway assertion
    verdict = await verify(registry, cert["document"])
    assert verdict["valid"] is True and verdict["number"] == cert["number"]
    assert verdict["signer"] == "registry" and verdict["subject"] == MOTHER
    public = await registry.client.get(f"/public/certificates/{cert['number']}")
    assert public.status_code == 200
    assert public.json()["valid"] is True and public.json()["kind"] == "real_estate_presence"
    assert (
        await registry.client.get("/public/certificates/RC-2026-0000001-XXXXXXXX")
    ).status_code == 404
    events = await registry.outbox_events("registry.certificate.issued")
    assert [e.data["number"] for e in events] == [cert["number"]]
    # the holder reads it again; somebody else cannot
    assert (await registry.citizen("GET", f"/certificates/{cert['number']}", MOTHER)).json() == cert
    assert (
        await registry.citizen("GET", f"/certificates/{cert['number']}", OTHER)
    ).status_code == 403


async def test_a_tampered_certificate_is_invalid(registry: Registry) -> None:
    await with_flat(registry)
    cert = (
        await registry.call(
            "POST", "/certificates", json={"kind": "real_estate_presence", "subject": MOTHER}
        )
    ).json()
    forged = tamper(cert["document"], sub=OTHER)
    verdict = await verify(registry, forged)
    assert verdict["valid"] is False and "altered" in verdict["reason"]
    assert (await verify(registry, "not-a-document"))["valid"] is False
    # signed by a key of the same national CA, but never issued by the registry
    impostor = registry.ca.signer("registry").sign({**claims(cert["document"]), "sub": OTHER})
    verdict = await verify(registry, impostor)
    assert verdict["valid"] is False and "not the document the registry issued" in verdict["reason"]
    # signed by a key certified by some other CA
    foreign = TestCA("Impostor CA").signer("registry").sign(claims(cert["document"]))
    verdict = await verify(registry, foreign)
    assert verdict["valid"] is False and "national CA" in verdict["reason"]


async def test_a_revoked_signing_key_invalidates(registry: Registry) -> None:
    await with_flat(registry)
    cert = (
        await registry.call(
            "POST", "/certificates", json={"kind": "real_estate_presence", "subject": MOTHER}
        )
    ).json()
    leaf = cert_from_b64(jwt.get_unverified_header(cert["document"])["x5c"][0])
    registry.revocation.revoked[leaf.serial_number] = datetime.now(UTC) - timedelta(days=1)
    verdict = await verify(registry, cert["document"])
    assert verdict["valid"] is False and "revoked" in verdict["reason"]


async def test_absence_address_and_registration_certificates(registry: Registry) -> None:
    await with_flat(registry)
    absent = await registry.citizen(
        "POST", "/certificates", FATHER, json={"kind": "real_estate_absence", "subject": FATHER}
    )
    assert (
        absent.status_code == 201 and claims(absent.json()["document"])["data"]["properties"] == []
    )
    wrong = await registry.citizen(
        "POST", "/certificates", MOTHER, json={"kind": "real_estate_absence", "subject": MOTHER}
    )
    assert wrong.status_code == 422
    nothing = await registry.citizen(
        "POST", "/certificates", FATHER, json={"kind": "real_estate_presence", "subject": FATHER}
    )
    assert nothing.status_code == 422
    address = await registry.citizen(
        "POST", "/certificates", MOTHER, json={"kind": "address", "subject": MOTHER}
    )
    assert address.status_code == 201
    assert (
        claims(address.json()["document"])["data"]["address"] == "Астана қ., Мәңгілік Ел даңғылы, 8"
    )
    homeless = await registry.call(
        "POST", "/certificates", json={"kind": "address", "subject": OTHER}
    )
    assert homeless.status_code == 422
    unknown = await registry.call(
        "POST", "/certificates", json={"kind": "address", "subject": UNKNOWN}
    )
    assert unknown.status_code == 422
    other = await registry.citizen(
        "POST", "/certificates", OTHER, json={"kind": "address", "subject": MOTHER}
    )
    assert other.status_code == 403

    entity = await registry.call(
        "POST",
        "/legal-entities",
        json={
            "name_kk": "«Береке» ЖШС",
            "name_ru": "ТОО «Береке»",
            "legal_form": "LLP",
            "founders": [{"id": FATHER, "share": {"num": 1, "den": 1}}],
            "director_iin": FATHER,
            "address": "Алматы қ., Абай даңғылы, 10",
        },
    )
    bin_ = entity.json()["bin"]
    reg = await registry.citizen(
        "POST", "/certificates", FATHER, json={"kind": "legal_entity_registration", "subject": bin_}
    )
    assert reg.status_code == 201, reg.text
    assert claims(reg.json()["document"])["data"]["name_kk"] == "«Береке» ЖШС"
    assert (await verify(registry, reg.json()["document"]))["valid"] is True
    not_director = await registry.citizen(
        "POST", "/certificates", MOTHER, json={"kind": "legal_entity_registration", "subject": bin_}
    )
    assert not_director.status_code == 403
    by_iin = await registry.call(
        "POST", "/certificates", json={"kind": "legal_entity_registration", "subject": MOTHER}
    )
    assert by_iin.status_code == 422
    missing = await registry.call(
        "POST",
        "/certificates",
        json={"kind": "legal_entity_registration", "subject": "190440872732"},
    )
    assert missing.status_code == 404


async def test_certificate_of_ownership_of_one_object(registry: Registry) -> None:
    await with_flat(registry)
    r = await registry.citizen(
        "POST",
        "/certificates",
        MOTHER,
        json={"kind": "property_ownership", "subject": MOTHER, "cadastral_number": FLAT},
    )
    assert r.status_code == 201, r.text
    body = claims(r.json()["document"])
    assert body["kind"] == "property_ownership"
    assert body["title"]["ru"] == "Справка о праве собственности на недвижимое имущество"
    data = body["data"]
    assert data["cadastral_number"] == FLAT and data["share"] == "1/1"
    assert data["owners"] == [{"id": MOTHER, "share": "1/1"}] and data["encumbrances"] == []
    assert data["holder_name"]
    assert (await verify(registry, r.json()["document"]))["valid"] is True
    # an agency (the single window) asks on behalf of the owner
    by_agency = await registry.call(
        "POST",
        "/certificates",
        json={"kind": "property_ownership", "subject": MOTHER, "cadastral_number": FLAT},
    )
    assert by_agency.status_code == 201, by_agency.text


async def test_certificate_of_ownership_is_refused_with_the_reason(registry: Registry) -> None:
    await with_flat(registry)
    not_owner = await registry.call(
        "POST",
        "/certificates",
        json={"kind": "property_ownership", "subject": FATHER, "cadastral_number": FLAT},
    )
    assert not_owner.status_code == 422
    assert not_owner.json()["errors"] == {"subject": "not an owner of this property"}
    unnamed = await registry.call(
        "POST", "/certificates", json={"kind": "property_ownership", "subject": MOTHER}
    )
    assert unnamed.status_code == 422
    assert "cadastral_number" in unnamed.json()["errors"]
    unknown = await registry.call(
        "POST",
        "/certificates",
        json={"kind": "property_ownership", "subject": MOTHER, "cadastral_number": "21:1:1:1"},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == {"cadastral_number": "not in the register"}
    someone_else = await registry.citizen(
        "POST",
        "/certificates",
        FATHER,
        json={"kind": "property_ownership", "subject": MOTHER, "cadastral_number": FLAT},
    )
    assert someone_else.status_code == 403


async def test_no_signing_key_yet_is_503_not_500(registry: Registry) -> None:
    registry.replace_components(keys=DocumentKeys(subject="registry"))
    await with_flat(registry)
    r = await registry.call(
        "POST", "/certificates", json={"kind": "real_estate_presence", "subject": MOTHER}
    )
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert await registry.outbox_events("registry.certificate.issued") == []


async def test_an_expired_certificate_is_invalid(registry: Registry) -> None:
    await with_flat(registry)
    # issued already past its expiry: what any certificate becomes when its term ends
    registry.replace_components(certificate_validity=timedelta(seconds=-1))
    cert = (
        await registry.call(
            "POST", "/certificates", json={"kind": "real_estate_presence", "subject": MOTHER}
        )
    ).json()
    verdict = await verify(registry, cert["document"])
    assert verdict["valid"] is False and "expired" in verdict["reason"]
    public = (await registry.client.get(f"/public/certificates/{cert['number']}")).json()
    assert public["status"] == "expired" and public["valid"] is False


BIRTH = {
    "surname": "Ахметова",
    "given_name": "Айгерім",
    "birth_date": "2026-01-05",
    "sex": "female",
    "place": "Астана қ., №1 перинаталдық орталық",
    "mother_iin": MOTHER,
    "father_iin": FATHER,
}


async def test_a_parent_gets_the_birth_certificate_and_anyone_verifies_it_by_number(
    registry: Registry,
) -> None:
    act = (await registry.citizen("POST", "/births", MOTHER, json=BIRTH)).json()
    child = act["child_iin"]
    r = await registry.citizen(
        "POST", "/certificates", FATHER, json={"kind": "birth", "subject": child}
    )
    assert r.status_code == 201, r.text
    cert = r.json()
    body = claims(cert["document"])
    assert body["kind"] == "birth" and body["sub"] == child
    assert body["title"]["en"] == "Birth certificate" and body["title"]["kk"] == "Туу туралы куәлік"
    assert body["data"]["child_iin"] == child and body["data"]["given_name"] == "Айгерім"
    assert body["data"]["act_number"] == act["act_number"]
    assert body["data"]["mother_iin"] == MOTHER and body["data"]["father_iin"] == FATHER
    # by the number printed on it (and in its QR code): the stored document is verified
    public = (await registry.client.get(f"/public/certificates/{cert['number']}")).json()
    assert public["valid"] is True and public["reason"] is None
    assert public["title"]["ru"] == "Свидетельство о рождении"
    # the attacker: a citizen who is not a parent on the act gets no certificate of the child
    refused = await registry.citizen(
        "POST", "/certificates", OTHER, json={"kind": "birth", "subject": child}
    )
    assert refused.status_code == 403, refused.text
    # and a person with no birth act on record has none
    missing = await registry.call("POST", "/certificates", json={"kind": "birth", "subject": OTHER})
    assert missing.status_code == 404, missing.text


async def test_the_public_check_by_number_fails_when_the_signing_key_is_revoked(
    registry: Registry,
) -> None:
    act = (await registry.citizen("POST", "/births", MOTHER, json=BIRTH)).json()
    cert = (
        await registry.call(
            "POST", "/certificates", json={"kind": "birth", "subject": act["child_iin"]}
        )
    ).json()
    leaf = cert_from_b64(jwt.get_unverified_header(cert["document"])["x5c"][0])
    registry.revocation.revoked[leaf.serial_number] = datetime.now(UTC) - timedelta(days=1)
    public = (await registry.client.get(f"/public/certificates/{cert['number']}")).json()
    assert public["valid"] is False and "revoked" in public["reason"]
