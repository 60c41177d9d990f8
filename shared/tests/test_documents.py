from datetime import UTC, datetime

from cryptography import x509

from meshkit.documents import DocumentSigner, verify_document
from meshkit_testing.ca import TestCA


async def test_signed_document_verifies_and_names_the_signer() -> None:
    ca = TestCA()
    token = ca.signer("registry").sign(
        {"number": "C-1", "kind": "address", "iat": 1_900_000_000 - 10**8}
    )
    out = await verify_document(token, roots=[ca.cert])
    assert out.valid, out.reason
    assert out.signer == "registry" and out.payload and out.payload["number"] == "C-1"


async def test_tampered_document_is_invalid() -> None:
    ca = TestCA()
    token = ca.signer("registry").sign({"number": "C-1", "owner": "900115300122"})
    head, body, sig = token.split(".")
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(body + "=="))
    data["owner"] = "850101400123"
    forged_body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    out = await verify_document(f"{head}.{forged_body}.{sig}", roots=[ca.cert])
    assert not out.valid and "altered" in (out.reason or "")


async def test_foreign_ca_and_revocation_are_refused() -> None:
    ca, other = TestCA(), TestCA("Impostor CA")
    token = other.signer("registry").sign({"n": 1})
    out = await verify_document(token, roots=[ca.cert])
    assert not out.valid and "national CA" in (out.reason or "")

    signer = ca.signer("notary-1")
    token = signer.sign({"n": 2, "iat": int(datetime.now(UTC).timestamp())})

    async def revoked_long_ago(cert: x509.Certificate) -> datetime | None:
        return datetime(2020, 1, 1, tzinfo=UTC)

    async def revoked_in_future(cert: x509.Certificate) -> datetime | None:
        return datetime(2999, 1, 1, tzinfo=UTC)

    out = await verify_document(token, roots=[ca.cert], revocation=revoked_long_ago)
    assert not out.valid and "revoked" in (out.reason or "")
    # revoked after the signature: the signature made before stays valid
    out = await verify_document(token, roots=[ca.cert], revocation=revoked_in_future)
    assert out.valid


async def test_garbage_is_invalid_not_an_error() -> None:
    ca = TestCA()
    for junk in ["", "abc", "a.b.c", "eyJhbGciOiJub25lIn0.e30."]:
        out = await verify_document(junk, roots=[ca.cert])
        assert not out.valid
    assert DocumentSigner
