"""Who is calling: a citizen (sub = IIN), an agency (sub = agency code) or an operator."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Principal(BaseModel):
    kind: Literal["citizen", "agency", "operator"]
    subject: str = Field(description="IIN for citizens, agency code for agencies")
    scopes: frozenset[str] = frozenset()
    #: an operator's roles (``meshkit.auth.roles``); empty for citizens and agencies
    roles: frozenset[str] = frozenset()
    token_id: str | None = None
    session_id: str | None = None
    expires_at: int | None = None
    #: set when the gateway's single window acts under the citizen's mandate (``gateway``):
    #: the call is the citizen's own, made for them within one application of one service
    actor: str | None = None
    mandate_service: str | None = None
    mandate_application: str | None = None

    @property
    def iin(self) -> str | None:
        return self.subject if self.kind == "citizen" else None

    @property
    def agency(self) -> str | None:
        return self.subject if self.kind == "agency" else None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def has_role(self, role: str) -> bool:
        """An operator holding ``role``; never a citizen or an agency, whatever they claim."""
        return self.kind == "operator" and role in self.roles

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        kind = claims.get("typ_principal") or claims.get("kind") or "citizen"
        scope = claims.get("scope", "")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset(scope or [])
        roles = claims.get("roles")
        return cls(
            kind=kind,
            subject=str(claims["sub"]),
            scopes=scopes,
            roles=frozenset(r for r in roles if isinstance(r, str))
            if isinstance(roles, list)
            else frozenset(),
            token_id=claims.get("jti"),
            session_id=claims.get("sid"),
            expires_at=claims.get("exp"),
        )
