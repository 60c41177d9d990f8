"""The national CA: certificates from CSRs, status, revocation, verification, signature login,
and the meshkit.trust contract (DocumentKeys / NationalTrust) against the real service."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import timedelta
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

from meshkit.documents import DocumentSigner, load_pem_chain, verify_document
from meshkit.gateway_client import GatewayClient
from meshkit.trust import DocumentKeys, NationalTrust
from meshkit_testing.ca import make_csr
from meshkit_testing.mesh import transport_for

ALIKHAN, GULNUR = "900115300122", "920308400210"


async def certify(
    svc: Any, usage: str = "signing", iin: str = ALIKHAN
) -> tuple[Any, list[x509.Certificate], dict[str, Any]]:
    key, csr = make_csr()
    r = await svc.as_citizen("POST", "/ca/certificates", iin, json={"csr_pem": csr, "usage": usage})
    assert r.status_code == 201, r.text
    return key, load_pem_chain(r.json()["chain_pem"]), r.json()


async def test_citizen_certificate_names_the_citizen_whatever_the_csr_says(svc: Any) -> None:
    _, chain, body = await certify(svc)
    leaf, root = chain
    assert leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == ALIKHAN
    assert "СӘРСЕНБАЕВ ӘЛИХАН" in leaf.subject.rfc4514_string()
    assert body["serial"] == f"{leaf.serial_number:x}"
    assert (
        root.public_bytes(serialization.Encoding.PEM).decode()
        == (await svc.client.get("/ca/root.pem")).text
    )
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment  # signing: non-repudiation
    status = (await svc.client.get(f"/ca/certificates/{body['serial']}")).json()
    assert status["status"] == "good" and status["revoked_at"] is None
    assert status["usage"] == "signing" and ALIKHAN in status["subject"]
    r = await svc.client.get("/ca/certificates/abcdef0123")
    assert r.status_code == 404
    r = await svc.client.get("/ca/certificates/not-hex")
    assert r.status_code == 422


async def test_bad_csrs_are_refused(svc: Any) -> None:
    r = await svc.as_citizen("POST", "/ca/certificates", ALIKHAN, json={"csr_pem": "garbage"})
    assert r.status_code == 422 and "csr_pem" in r.json()["errors"]
    _, csr = make_csr()
    r = await svc.as_citizen(
        "POST", "/ca/certificates", ALIKHAN, json={"csr_pem": csr, "usage": "encryption"}
    )
    assert r.status_code == 422 and "usage" in r.json()["errors"]
    r = await svc.client.post("/ca/certificates", json={"csr_pem": csr})
    assert r.status_code == 401  # issuing is routed only


async def test_jws_verification_and_revocation_before_the_signature(svc: Any) -> None:
    clock = svc.use_clock()
    key, chain, body = await certify(svc)
    signer = DocumentSigner(key, chain)
    before = signer.sign({"doc": "шарт №1", "iat": int(clock.now().timestamp())})
    r = await svc.client.post("/ca/verify", json={"jws": before})
    result = r.json()
    assert r.status_code == 200 and result["valid"], result
    assert result["signer"] == ALIKHAN and result["certificate_status"] == "good"
    assert result["payload"]["doc"] == "шарт №1" and result["chain_valid"]
    clock.advance(seconds=60)
    r = await svc.as_citizen(
        "POST", f"/ca/certificates/{body['serial']}/revoke", GULNUR, json={"reason": "superseded"}
    )
    assert r.status_code == 403  # not hers
    r = await svc.as_citizen(
        "POST", f"/ca/certificates/{body['serial']}/revoke", ALIKHAN, json={"reason": "superseded"}
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    status = (await svc.client.get(f"/ca/certificates/{body['serial']}")).json()
    assert status["status"] == "revoked" and status["reason"] == "superseded"
    clock.advance(seconds=60)
    after = signer.sign({"doc": "шарт №2", "iat": int(clock.now().timestamp())})
    result = (await svc.client.post("/ca/verify", json={"jws": after})).json()
    assert not result["valid"] and "revoked" in result["reason"]
    assert result["certificate_status"] == "revoked"
    # signed while the certificate was good: still valid after the revocation
    assert (await svc.client.post("/ca/verify", json={"jws": before})).json()["valid"]
    events = await svc.events("identity.certificate.revoked.v1")
    assert [e["data"]["serial"] for e in events] == [body["serial"]]


async def test_key_compromise_dates_the_revocation_back(svc: Any) -> None:
    clock = svc.use_clock()
    key, chain, body = await certify(svc)
    signed_at = clock.now()
    doc = DocumentSigner(key, chain).sign({"n": 1, "iat": int(signed_at.timestamp())})
    clock.advance(seconds=3600)
    r = await svc.as_citizen(
        "POST",
        f"/ca/certificates/{body['serial']}/revoke",
        ALIKHAN,
        json={
            "reason": "key_compromise",
            "compromised_at": (signed_at - timedelta(seconds=5)).isoformat(),
        },
    )
    assert r.status_code == 200
    result = (await svc.client.post("/ca/verify", json={"jws": doc})).json()
    assert not result["valid"] and "revoked" in result["reason"]


async def test_detached_signature_over_a_digest(svc: Any) -> None:
    key, chain, body = await certify(svc)
    digest = hashlib.sha256("Сату-сатып алу шарты".encode()).digest()
    signature = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    leaf_pem = chain[0].public_bytes(serialization.Encoding.PEM).decode()
    req = {
        "digest": digest.hex(),
        "signature": base64.b64encode(signature).decode(),
        "certificate_pem": leaf_pem,
        "signed_at": svc.identity.clock.now().isoformat(),
    }
    result = (await svc.client.post("/ca/verify", json=req)).json()
    assert result["valid"], result
    assert result["signer"] == ALIKHAN and result["certificate_serial"] == body["serial"]
    other = hashlib.sha256(b"another document").hexdigest()
    result = (await svc.client.post("/ca/verify", json={**req, "digest": other})).json()
    assert not result["valid"] and "does not match" in result["reason"]
    foreign_key, _ = make_csr()
    foreign = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, ALIKHAN)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Impostor CA")]))
        .public_key(foreign_key.public_key())
        .serial_number(chain[0].serial_number)
        .not_valid_before(chain[0].not_valid_before_utc)
        .not_valid_after(chain[0].not_valid_after_utc)
        .sign(foreign_key, hashes.SHA256())
    )
    forged = {
        **req,
        "signature": base64.b64encode(
            foreign_key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        ).decode(),
        "certificate_pem": foreign.public_bytes(serialization.Encoding.PEM).decode(),
    }
    result = (await svc.client.post("/ca/verify", json=forged)).json()
    assert not result["valid"] and "national CA" in result["reason"]
    r = await svc.client.post("/ca/verify", json={"digest": digest.hex()})
    assert r.status_code == 422


async def test_login_by_digital_signature(svc: Any) -> None:
    key, chain, body = await certify(svc, usage="authentication")
    signer = DocumentSigner(key, chain)
    ch = (await svc.client.post("/auth/signature/challenge")).json()
    signed = signer.sign({"nonce": ch["nonce"], "iat": int(time.time())})
    r = await svc.client.post(
        "/auth/signature/answer", json={"challenge_id": ch["challenge_id"], "signed": signed}
    )
    assert r.status_code == 200, r.text
    jwks = (await svc.client.get("/.well-known/jwks.json")).json()
    from meshkit.auth import JWKSClient

    claims = await JWKSClient(jwks).verify(r.json()["access_token"], audience="egov-mesh")
    assert claims["sub"] == ALIKHAN and claims["amr"] == ["x509"] and claims["kind"] == "citizen"
    r = await svc.client.post(
        "/auth/signature/answer", json={"challenge_id": ch["challenge_id"], "signed": signed}
    )
    assert r.status_code == 401  # a challenge answers once
    # a signing certificate does not log in
    skey, schain, _ = await certify(svc, usage="signing")
    ch = (await svc.client.post("/auth/signature/challenge")).json()
    signed = DocumentSigner(skey, schain).sign({"nonce": ch["nonce"]})
    r = await svc.client.post(
        "/auth/signature/answer", json={"challenge_id": ch["challenge_id"], "signed": signed}
    )
    assert r.status_code == 401 and "authentication certificate" in r.json()["detail"]
    # a revoked one neither, even if the citizen backdates the signature
    await svc.as_citizen(
        "POST", f"/ca/certificates/{body['serial']}/revoke", ALIKHAN, json={"reason": "superseded"}
    )
    ch = (await svc.client.post("/auth/signature/challenge")).json()
    signed = signer.sign({"nonce": ch["nonce"], "iat": int(time.time()) - 30})
    r = await svc.client.post(
        "/auth/signature/answer", json={"challenge_id": ch["challenge_id"], "signed": signed}
    )
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


class _AsAgency(httpx.AsyncBaseTransport):
    """The routed exchange decides the caller from a test header: say which agency calls."""

    def __init__(self, inner: httpx.AsyncBaseTransport, agency: str) -> None:
        self.inner, self.agency = inner, agency

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["x-test-client"] = self.agency
        return await self.inner.handle_async_request(request)


async def test_meshkit_trust_contract_against_the_real_ca(svc: Any) -> None:
    """registry gets its document key certified through the gateway (DocumentKeys), signs a
    certificate, and anyone verifies it with NationalTrust (root + revocation online)."""
    transport = _AsAgency(transport_for({"identity": svc.app}, svc.gateway), "registry")
    gateway = GatewayClient("http://gateway", client_code="registry", transport=transport)
    keys = DocumentKeys(subject="registry")
    await keys.obtain_from_ca(gateway)
    await gateway.aclose()
    signer = keys.signer()
    leaf = signer.chain[0]
    assert leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "registry"
    assert len(signer.chain) == 2
    doc = signer.sign({"number": "C-2026-1", "kind": "address", "iat": int(time.time())})
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app), base_url="http://idp")
    trust = NationalTrust("http://idp", http)
    out = await verify_document(doc, roots=await trust.roots(), revocation=trust.revoked_at)
    assert out.valid and out.signer == "registry", out.reason
    result = (await svc.client.post("/ca/verify", json={"jws": doc})).json()
    assert result["valid"] and result["signer"] == "registry"
    # a notary's own key (a person) is certified by the notary agency only
    _, csr = make_csr()
    r = await svc.routed(
        "POST", "/ca/certificates", client="notary", json={"csr_pem": csr, "holder_iin": GULNUR}
    )
    assert r.status_code == 201
    notary_leaf = load_pem_chain(r.json()["certificate_pem"])[0]
    assert notary_leaf.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "notary"
    r = await svc.routed(
        "POST", "/ca/certificates", client="payments", json={"csr_pem": csr, "holder_iin": GULNUR}
    )
    assert r.status_code == 403
    await http.aclose()
