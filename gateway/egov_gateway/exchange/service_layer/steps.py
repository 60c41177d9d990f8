"""The named steps of a routed call: resolve → authenticate → limit → authorize → size, then
sign and forward (:mod:`.exchange`), whose answer is audited.

Each step looks at the :class:`~.call.Call`, fills in what it learns (the operation, the
principal, the client, the user…) and either lets the call go on (``None``) or says why not
(a :class:`Refusal`). A step never writes the audit record nor renders the problem document:
the pipeline does both, once, for whichever step refused. So a step is tested alone with a
``Call`` and fakes of the ports it names.

The per-client limit comes before the access rules (as it always has): a denied call spends
its client's budget like an allowed one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from egov_gateway.exchange.adapters.mandate import MandateVerifier
from egov_gateway.exchange.adapters.tokens import SessionEnded, TokenVerifier
from egov_gateway.exchange.domain.access import client_of, decide
from egov_gateway.exchange.domain.headers import WHOLE_API, XRoadClient, xroad_user
from egov_gateway.exchange.domain.ratelimit import TokenBuckets
from egov_gateway.exchange.domain.register_port import RegisterPort
from egov_gateway.exchange.service_layer.call import MAX_PURPOSE, Call
from meshkit.auth.assertion import ASSERTION_HEADER, sign_assertion
from meshkit.auth.jwks import TokenInvalid
from meshkit.auth.keys import KeyRing


@dataclass(frozen=True)
class Refusal:
    """Why a call goes no further: rendered as problem+json and audited by the pipeline."""

    status: int
    code: str
    title: str
    detail: str
    headers: Mapping[str, str] | None = None
    errors: Mapping[str, str] | None = None
    outcome: str | None = None  # the audit outcome when it is not the problem code


class Step(Protocol):
    async def __call__(self, call: Call) -> Refusal | None: ...


def too_large(call: Call) -> Refusal:
    return Refusal(
        413,
        "payload-too-large",
        "Request too large",
        f"{call.agency} accepts bodies of at most {call.body_limit} bytes",
    )


def caller_gone() -> Refusal:
    """Nobody is listening any more; the record says so (nginx's 499)."""
    return Refusal(
        499,
        "client-closed-request",
        "Client closed request",
        "the caller disconnected before its request body arrived",
        outcome="caller-disconnected",
    )


@dataclass(frozen=True)
class Resolve:
    """The operation the call addresses, from the register's snapshot (no agency is asked)."""

    register: Callable[[], RegisterPort]

    async def __call__(self, call: Call) -> Refusal | None:
        purpose = call.request.headers.get("x-mesh-purpose")
        call.purpose = purpose.strip()[:MAX_PURPOSE] if purpose and purpose.strip() else None
        op = await self.register().resolve(
            call.agency, call.method, call.agency_path, dict(call.request.query_params)
        )
        if op is None:
            return Refusal(
                404,
                "unknown-operation",
                "Unknown operation",
                f"{call.agency} publishes no operation {call.method} {call.agency_path}",
            )
        call.op = op
        svc = call.xroad
        if svc is None:
            return None
        # X-Road addressing is exact: the serviceCode is a service whose endpoints list the
        # operation (as listMethods shows them) — an active public service running it, or
        # ``api`` (the member's whole API). The audit, the data tracker and the assertion then
        # name the service used; under ``api`` the operation's own service, as /x/ does.
        code = svc.service_code
        if svc.runs_operation(op.service_code, op.service_codes):
            if code != WHOLE_API and code != op.service_code:
                call.op = dataclasses.replace(op, service_code=code)
            return None
        call.op = dataclasses.replace(op, service_code=None)  # no service was used
        return Refusal(
            404,
            "unknown-service",
            "Unknown service",
            f"the service {code} does not run {op.method} {op.path_template} "
            f"(listMethods of {svc.instance}/{svc.member_class}/{svc.member_code}/"
            f"{svc.subsystem} lists its services)",
        )


@dataclass(frozen=True)
class Authenticate:
    """Who calls: a citizen's or agency's token, a single-window mandate, or nobody (public
    operations need no token, but a bad one is still refused)."""

    verifier: TokenVerifier
    mandates: MandateVerifier | None = None

    async def __call__(self, call: Call) -> Refusal | None:
        op = call.op
        assert op is not None
        try:
            call.principal = await self.verifier.principal(
                call.request.headers.get("authorization"), mandates=self.mandates
            )
        except TokenInvalid as exc:
            return Refusal(
                401,
                "unauthenticated",
                "Authentication required",
                exc.reason,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                outcome="session-ended" if isinstance(exc, SessionEnded) else None,
            )
        if call.principal is None and not op.public:
            return Refusal(
                401,
                "unauthenticated",
                "Authentication required",
                "this operation needs a citizen or agency token (Authorization: Bearer)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        call.client = client_of(call.principal)
        return None


@dataclass(frozen=True)
class Limit:
    """A token bucket per client (agency, citizen, or the anonymous caller's source)."""

    buckets: TokenBuckets
    source_of: Callable[[Call], str]

    async def __call__(self, call: Call) -> Refusal | None:
        principal = call.principal
        if principal is None:
            klass, key = "anonymous", self.source_of(call)
        else:
            klass = "citizen" if principal.kind == "citizen" else "agency"
            key = principal.subject
        allowed, retry_after = self.buckets.take(klass, key)
        if allowed:
            return None
        return Refusal(
            429,
            "rate-limited",
            "Too many requests",
            f"{call.client} exceeded its request rate; retry in {retry_after}s",
            headers={"Retry-After": str(retry_after)},
        )


@dataclass(frozen=True)
class Authorize:
    """The access rules: the X-Road caller is the authenticated one, an agency holds a grant,
    a citizen calls a citizen-facing operation, a mandate covers the operation, a purpose is
    given where a data subject is concerned (:func:`~egov_gateway.exchange.domain.access.decide`)."""

    register: Callable[[], RegisterPort]
    require_purpose: bool

    async def __call__(self, call: Call) -> Refusal | None:
        op = call.op
        assert op is not None
        principal = call.principal
        register = self.register()
        requested_user = call.request.headers.get("x-mesh-user") or None
        if call.xroad is not None:
            requested_user = xroad_user(call.request.headers.get("x-road-userid")) or requested_user
            refusal = await self._xroad_client(call, register)
            if refusal is not None:
                return refusal
        granted = False
        if principal is not None and principal.kind == "agency" and not op.public:
            granted = await register.is_granted(principal.subject, op.operation_id)
        covered = False
        if principal is not None and principal.mandate_service is not None:
            covered = await register.runs(principal.mandate_service, op.operation_id)
            if covered and call.xroad is None and op.service_code != principal.mandate_service:
                # the service actually used is the one applied for (audit, data tracker, svc)
                op = call.op = dataclasses.replace(op, service_code=principal.mandate_service)
        decision = decide(
            principal,
            op,
            requested_user=requested_user,
            purpose=call.purpose,
            granted=granted,
            require_purpose=self.require_purpose,
            mandate_covers=covered,
        )
        if decision.allowed:
            call.user = decision.user
            return None
        if principal is not None and principal.kind == "citizen":
            call.user = principal.subject  # a citizen's refusal is audited as theirs
        else:
            call.user = requested_user
        if decision.code == "member-suspended":
            return Refusal(
                503, "member-suspended", "Member suspended", decision.reason, outcome="suspended"
            )
        if decision.code == "purpose-required":
            return Refusal(
                422,
                "purpose-required",
                "Purpose required",
                decision.reason,
                errors={"header.X-Mesh-Purpose": "required for access to a data subject"},
                outcome="denied",
            )
        return Refusal(403, "forbidden", "Not allowed", decision.reason, outcome="denied")

    @staticmethod
    async def _xroad_client(call: Call, register: RegisterPort) -> Refusal | None:
        raw = call.request.headers.get("x-road-client")
        if not raw:
            return None
        client = XRoadClient.parse(raw)
        if client is None:
            return Refusal(
                422,
                "validation-error",
                "Your request is not valid",
                "X-Road-Client must be INSTANCE/CLASS/MEMBERCODE/SUBSYSTEM",
                errors={"header.X-Road-Client": "expected KZ/GOV/<BIN>/<subsystem>"},
            )
        principal = call.principal
        if principal is not None and principal.kind == "agency":
            who = await register.agency_for_xroad(
                client.instance, client.member_class, client.member_code, client.subsystem
            )
            if who != principal.subject:
                return Refusal(
                    403,
                    "forbidden",
                    "Not allowed",
                    f"X-Road-Client {client} is not the authenticated client {principal.subject}",
                    outcome="denied",
                )
        call.xroad_client = client
        return None


@dataclass(frozen=True)
class CheckSize:
    """The agency's own body limit, refused here before a byte of the body is read."""

    body_limit: Callable[[str], int]

    async def __call__(self, call: Call) -> Refusal | None:
        op = call.op
        assert op is not None
        call.body_limit = self.body_limit(op.agency)
        length = call.request.headers.get("content-length")
        declared = int(length) if length and length.isdigit() and len(length) < 19 else None
        if length and length.isdigit() and declared is None:
            declared = call.body_limit + 1  # absurdly large: refused below
        call.declared = declared
        if declared is not None and declared > call.body_limit:
            return too_large(call)
        return None


@dataclass(frozen=True)
class Sign:
    """The X-Mesh-Assertion of one delivery: agencies refuse a replayed nonce, so a retry
    carries a new one. Called once the whole body has been read (buffered or spooled), so
    ``call.request_hash`` is the digest of exactly the body forwarded."""

    keyring: Callable[[], KeyRing]

    def __call__(self, call: Call) -> tuple[str, str]:
        op = call.op
        assert op is not None
        # the query exactly as forwarded in raw_target (the agency compares its raw bytes)
        _, _, query = call.raw_target.partition(b"?")
        return (
            ASSERTION_HEADER,
            sign_assertion(
                self.keyring().current,
                agency=op.agency,
                method=call.method,
                path=call.agency_path,
                client=call.client,
                user=call.user,
                request_id=call.request_id,
                purpose=call.purpose,
                service_code=op.service_code,
                actor=call.principal.actor if call.principal is not None else None,
                query=query.decode("latin-1"),
                body_sha256=call.request_hash.digest(),
            ),
        )
