"""Keys, JWKS-verified tokens, principals and the gateway assertion agencies require."""

from meshkit.auth.assertion import AssertionVerifier, RoutedCall, sign_assertion
from meshkit.auth.jwks import JWKSClient, TokenInvalid
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.auth.principal import Principal

__all__ = [
    "AssertionVerifier",
    "JWKSClient",
    "KeyRing",
    "Principal",
    "RoutedCall",
    "SigningKey",
    "TokenInvalid",
    "sign_assertion",
]
