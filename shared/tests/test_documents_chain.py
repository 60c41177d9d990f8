"""Certificate chains are checked by RFC 5280 path validation (cryptography.x509.verification):
path length, key usage of issuers and issuer/subject name chaining, not only signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from meshkit.documents import verify_chain

NOW = datetime.now(UTC)
Key = ec.EllipticCurvePrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: Key,
    issuer: str,
    issuer_key: Key,
    *,
    ca: bool,
    path_length: int | None = None,
    cert_sign: bool = True,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=cert_sign,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def test_a_chain_through_an_intermediate_verifies() -> None:
    root_key, mid_key, leaf_key = _key(), _key(), _key()
    root = _cert("Root", root_key, "Root", root_key, ca=True, path_length=1)
    mid = _cert("Mid", mid_key, "Root", root_key, ca=True, path_length=0)
    leaf = _cert("registry", leaf_key, "Mid", mid_key, ca=False)
    assert verify_chain([leaf, mid], [root], NOW) is None
    assert verify_chain([leaf, mid, root], [root], NOW) is None  # the root may be included


def test_path_length_of_the_root_is_enforced() -> None:
    root_key, mid_key, leaf_key = _key(), _key(), _key()
    root = _cert("Root", root_key, "Root", root_key, ca=True, path_length=0)
    mid = _cert("Mid", mid_key, "Root", root_key, ca=True, path_length=0)
    leaf = _cert("registry", leaf_key, "Mid", mid_key, ca=False)
    reason = verify_chain([leaf, mid], [root], NOW)
    assert reason is not None and "national CA" in reason


def test_an_issuer_without_key_cert_sign_is_refused() -> None:
    root_key, mid_key, leaf_key = _key(), _key(), _key()
    root = _cert("Root", root_key, "Root", root_key, ca=True, path_length=1)
    mid = _cert("Mid", mid_key, "Root", root_key, ca=True, path_length=0, cert_sign=False)
    leaf = _cert("registry", leaf_key, "Mid", mid_key, ca=False)
    assert verify_chain([leaf, mid], [root], NOW) is not None


def test_issuer_and_subject_names_must_chain() -> None:
    root_key, leaf_key = _key(), _key()
    root = _cert("Root", root_key, "Root", root_key, ca=True, path_length=0)
    # signed by the root's key, but naming another issuer
    leaf = _cert("registry", leaf_key, "Somebody Else", root_key, ca=False)
    assert verify_chain([leaf], [root], NOW) is not None
    good = _cert("registry", leaf_key, "Root", root_key, ca=False)
    assert verify_chain([good], [root], NOW) is None


def test_a_non_ca_cannot_issue() -> None:
    root_key, mid_key, leaf_key = _key(), _key(), _key()
    root = _cert("Root", root_key, "Root", root_key, ca=True, path_length=1)
    not_ca = _cert("Mid", mid_key, "Root", root_key, ca=False)
    leaf = _cert("registry", leaf_key, "Mid", mid_key, ca=False)
    assert verify_chain([leaf, not_ca], [root], NOW) is not None


def test_expiry_is_said_plainly() -> None:
    root_key, leaf_key = _key(), _key()
    root = _cert("Root", root_key, "Root", root_key, ca=True, path_length=0)
    leaf = _cert("registry", leaf_key, "Root", root_key, ca=False)
    reason = verify_chain([leaf], [root], NOW + timedelta(days=60))
    assert reason is not None and "was not valid at" in reason
