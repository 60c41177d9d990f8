"""Document signing keys of a service and trust in the national CA (svc-identity).

``DocumentKeys`` gives a service its :class:`DocumentSigner`: from settings (PEM key and
certificate chain) in deployment; in dev mode it generates a key and asks the national CA,
through the gateway, to certify it — retrying in the background until the CA answers.
``NationalTrust`` fetches the CA root and answers revocation questions for verification.

CA contract (svc-identity): ``POST /ca/certificates`` (routed) ``{csr_pem, usage}`` →
``{serial, certificate_pem, chain_pem}``; ``GET /ca/root.pem`` (public);
``GET /ca/certificates/{serial_hex}`` (public) → ``{status: good|revoked, revoked_at, ...}``.
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from meshkit.documents import DocumentSigner, load_pem_chain
from meshkit.errors import UpstreamUnavailable
from meshkit.gateway_client import GatewayClient

log = structlog.get_logger("meshkit.trust")


class DocumentKeys:
    def __init__(
        self,
        *,
        subject: str,
        key_pem: str | None = None,
        chain_pem: str | None = None,
    ) -> None:
        self.subject = subject
        self._signer: DocumentSigner | None = None
        if key_pem and chain_pem:
            key = serialization.load_pem_private_key(key_pem.encode(), password=None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            self._signer = DocumentSigner(key, load_pem_chain(chain_pem))

    def use(self, signer: DocumentSigner) -> None:
        """Install a signer directly (tests, key rotation)."""
        self._signer = signer

    @property
    def ready(self) -> bool:
        return self._signer is not None

    def signer(self) -> DocumentSigner:
        if self._signer is None:
            raise UpstreamUnavailable(
                "document signing is not available yet: the national CA has not certified "
                "this service's key",
                retry_after_s=5,
            )
        return self._signer

    async def obtain_from_ca(self, gateway: GatewayClient, *, max_backoff_s: float = 10.0) -> None:
        """Dev mode: generate a key, have the national CA certify it (retries until it does)."""
        if self._signer is not None:
            return
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, self.subject),
                        x509.NameAttribute(NameOID.SERIAL_NUMBER, self.subject),
                    ]
                )
            )
            .sign(key, hashes.SHA256())
        )
        csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode()
        # until the CA answers (identity may start after this service): 1, 2, 4… s, capped
        retrying = AsyncRetrying(
            wait=wait_exponential(multiplier=1, max=max_backoff_s),
            retry=retry_if_exception_type(Exception),
            before_sleep=_log_certify_retry,
        )
        async for attempt in retrying:
            with attempt:
                body = await gateway.post(
                    "identity",
                    "/ca/certificates",
                    json={"csr_pem": csr_pem, "usage": "signing"},
                    purpose="certify the document signing key of svc-" + self.subject,
                )
                chain = load_pem_chain(body["chain_pem"])
        self._signer = DocumentSigner(key, chain)
        log.info("trust.certified", subject=self.subject, serial=body.get("serial"))


def _log_certify_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else None
    log.info("trust.certify_retry", error=repr(exc)[:200], retry_in_s=wait)


class NationalTrust:
    """Roots and revocation status from the national CA, cached."""

    def __init__(self, identity_url: str, http: httpx.AsyncClient, *, ttl_s: float = 60.0) -> None:
        self._base = identity_url.rstrip("/")
        self._http = http
        self._ttl = ttl_s
        self._roots: list[x509.Certificate] = []
        self._roots_at = 0.0
        self._status: dict[int, tuple[float, datetime | None]] = {}

    def pin(self, roots: list[x509.Certificate]) -> None:
        """Trust these roots without asking (tests, offline verification)."""
        self._roots = list(roots)
        self._roots_at = float("inf")

    async def roots(self) -> list[x509.Certificate]:
        if not self._roots or time.monotonic() - self._roots_at > self._ttl:
            try:
                resp = await self._http.get(f"{self._base}/ca/root.pem")
                resp.raise_for_status()
            except httpx.HTTPError as exc:
                if self._roots:
                    return self._roots
                raise UpstreamUnavailable("the national CA is unreachable") from exc
            self._roots = load_pem_chain(resp.content)
            self._roots_at = time.monotonic()
        return self._roots

    async def revoked_at(self, cert: x509.Certificate) -> datetime | None:
        cached = self._status.get(cert.serial_number)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        try:
            resp = await self._http.get(f"{self._base}/ca/certificates/{cert.serial_number:x}")
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("the national CA is unreachable") from exc
        if resp.status_code == 404:
            raise UpstreamUnavailable("the national CA does not know this certificate")
        resp.raise_for_status()
        body = resp.json()
        revoked = (
            datetime.fromisoformat(body["revoked_at"])
            if body.get("status") == "revoked" and body.get("revoked_at")
            else None
        )
        self._status[cert.serial_number] = (time.monotonic(), revoked)
        return revoked
