"""Test kit of the routed exchange: a test identity (token issuer), a contract-double agency,
an in-process multi-agency transport, an in-memory register and a running in-process mesh.

Used by the gateway's tests and benchmark; nothing here runs in production."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from egov_gateway.bootstrap import Components, components_of, overrides_of
from egov_gateway.exchange.adapters.register_memory import (
    InMemoryRegister,
    MemberSpec,
    OperationSpec,
)
from egov_gateway.exchange.adapters.tokens import TokenVerifier
from egov_gateway.exchange.domain.ratelimit import TokenBuckets
from meshkit.auth.assertion import AssertionVerifier, RoutedCall, routed_call
from meshkit.auth.jwks import JWKSClient
from meshkit.auth.keys import KeyRing, SigningKey
from meshkit.auth.roles import AUDITOR
from meshkit.routed import name_data_subject
from meshkit_testing.apps import running
from meshkit_testing.contract import operations as contract_operations
from meshkit_testing.services import build_app

ISSUER = "http://identity.test"
AUDIENCE = "egov-mesh"
CITIZEN = "900115300122"  # a citizen's IIN (checked elsewhere; the gateway treats it opaquely)
OPERATOR = "880707300858"  # an operator's IIN
OTHER_CITIZEN = "850302400133"
BINS = {
    "identity": "010140000011",
    "registry": "020240000022",
    "licensing": "030340000033",
    "payments": "040440000044",
    "notary": "050540000055",
}


class TestIdentity:
    """Issues tokens like svc-identity; its JWKS is pinned in a file the gateway reads."""

    __test__ = False

    def __init__(self, directory: Path) -> None:
        self.ring = KeyRing(SigningKey.generate())
        self.path = directory / "identity-jwks.json"
        self.publish()

    def publish(self) -> None:
        self.path.write_text(json.dumps(self.ring.jwks()))

    @property
    def jwks_url(self) -> str:
        return f"file://{self.path}"

    def token(
        self,
        kind: str,
        sub: str,
        *,
        aud: str = AUDIENCE,
        iss: str = ISSUER,
        ttl: int = 300,
        key: SigningKey | None = None,
        now: float | None = None,
        roles: list[str] | None = None,
        sid: str | None = None,
    ) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": iss,
            "aud": aud,
            "sub": sub,
            "kind": kind,
            "scope": "",
            "sid": sid or uuid.uuid4().hex,
            "jti": uuid.uuid4().hex,
            "iat": issued,
            "exp": issued + ttl,
        }
        if roles is not None:  # an operator's roles (meshkit.auth.roles)
            claims["roles"] = roles
        return (key or self.ring.current).sign(claims)

    def bearer(self, kind: str, sub: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(kind, sub, **kw)}"}


@dataclass
class DoubleState:
    """Controls and observations of the contract-double agency."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None  # answer this status instead
    fail_times: int | None = None  # … this many times (None: until cleared)
    delay_s: float = 0.0


def agency_double(name: str, gateway_jwks: str, state: DoubleState) -> FastAPI:
    """A small agency implementing only what the exchange tests need, behind the assertion."""
    app = FastAPI()
    app.state.assertion_verifier = AssertionVerifier(JWKSClient(gateway_jwks), agency=name)

    def seen(request: Request, call: RoutedCall, body: bytes = b"") -> dict[str, Any]:
        record = {
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "call": call.model_dump(),
            "path": request.url.path,
            "query": str(request.url.query),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_len": len(body),
        }
        state.calls.append(record)
        return record

    async def maybe_fail() -> Response | None:
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        if state.fail_with is None:
            return None
        status = state.fail_with
        if state.fail_times is not None:
            state.fail_times -= 1
            if state.fail_times <= 0:
                state.fail_with, state.fail_times = None, None
        return JSONResponse({"title": "failing"}, status_code=status)

    @app.get("/persons/{iin}")
    async def person(iin: str, request: Request, call: RoutedCall = Depends(routed_call)) -> Any:
        seen(request, call)
        failed = await maybe_fail()
        return failed or {"iin": iin, "name": "Әлия Қасымова", "seen_by": call.client}

    @app.api_route("/echo", methods=["POST", "PUT"])
    async def echo(request: Request, call: RoutedCall = Depends(routed_call)) -> Any:
        body = await request.body()
        rec = seen(request, call, body)
        failed = await maybe_fail()
        return failed or {"sha256": rec["body_sha256"], "len": len(body)}

    @app.get("/big")
    async def big(
        request: Request, size: int = 1_000_000, call: RoutedCall = Depends(routed_call)
    ) -> Any:
        seen(request, call)

        async def chunks() -> AsyncIterator[bytes]:
            left = size
            i = 0
            while left > 0:
                n = min(65536, left)
                yield bytes([65 + i % 26]) * n
                left -= n
                i += 1

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.get("/records/{record_id}")
    async def record(
        record_id: str, request: Request, call: RoutedCall = Depends(routed_call)
    ) -> Any:
        """A record asked for by its own id, whose owner is a person (like an invoice): the
        agency names that person for the audit (``meshkit.routed.name_data_subject``)."""
        seen(request, call)
        response = JSONResponse({"id": record_id, "owner": CITIZEN})
        name_data_subject(response, CITIZEN)
        return response

    @app.get("/public-info")
    async def public_info(request: Request, call: RoutedCall = Depends(routed_call)) -> Any:
        seen(request, call)
        return {"public": True, "client": call.client}

    return app


class MultiASGI(httpx.AsyncBaseTransport):
    """Routes requests by host to in-process apps; an unknown host is a refused connection."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.transports = {
            host: httpx.ASGITransport(app=app, raise_app_exceptions=False)
            for host, app in apps.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.transports.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError("connection refused", request=request)
        return await transport.handle_async_request(request)


def ops(agency: str) -> list[OperationSpec]:
    return [
        OperationSpec("GET", "/mesh/whoami"),
        OperationSpec(
            "GET",
            "/persons/{iin}",
            service_code=f"{agency}-person",
            citizen_facing=True,
            subject_param="iin",
        ),
        OperationSpec("POST", "/echo"),
        OperationSpec("PUT", "/echo"),
        OperationSpec("GET", "/big"),
        OperationSpec("GET", "/public-info", public=True),
        OperationSpec("GET", "/records/{record_id}", subject_param="record_id"),
    ]


def make_register(agencies: list[str]) -> InMemoryRegister:
    members = [
        MemberSpec(agency=a, member_code=BINS[a], base_url=f"http://{a}.local", operations=ops(a))
        for a in agencies
    ]
    members.append(
        MemberSpec(
            agency="notary",
            member_code=BINS["notary"],
            base_url="http://notary.down",
            operations=ops("notary"),
        )
    )
    return InMemoryRegister(members)


@dataclass
class Mesh:
    gateway: httpx.AsyncClient
    app: FastAPI
    identity: TestIdentity
    register: InMemoryRegister
    doubles: dict[str, DoubleState]
    gateway_ring: KeyRing
    gateway_jwks: str
    registry_client: httpx.AsyncClient  # straight to the real registry agency (bypass)
    db_url: str

    @property
    def components(self) -> Components:
        return components_of(self.app)

    def agency(self, code: str, **kw: Any) -> dict[str, str]:
        return self.identity.bearer("agency", code, **kw)

    def citizen(self, iin: str = CITIZEN, **kw: Any) -> dict[str, str]:
        return self.identity.bearer("citizen", iin, **kw)

    def operator(self, *roles: str, **kw: Any) -> dict[str, str]:
        """An operator's token; by default an auditor (reads the audit log)."""
        return self.identity.bearer("operator", OPERATOR, roles=list(roles or [AUDITOR]), **kw)

    async def audit(self, **params: Any) -> list[dict[str, Any]]:
        r = await self.gateway.get("/api/v1/audit", params=params, headers=self.operator())
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    async def verify(self) -> dict[str, Any]:
        r = await self.gateway.get("/api/v1/audit/verify", headers=self.operator())
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out


async def start_mesh(
    tmp_path: Path, db_url: str, *, admin_disabled: bool = False, **gateway_overrides: Any
) -> AsyncIterator[Mesh]:
    """``admin_disabled``: no static (break-glass) admin token, as outside dev mode without
    GATEWAY_ADMIN_TOKEN."""
    identity = TestIdentity(tmp_path)
    gw_key = SigningKey.generate()
    gw_ring = KeyRing(gw_key)
    gw_jwks_path = tmp_path / "gateway-jwks.json"
    gw_jwks_path.write_text(json.dumps(gw_ring.jwks()))
    gw_jwks = f"file://{gw_jwks_path}"
    doubles = {"identity": DoubleState(), "licensing": DoubleState(), "payments": DoubleState()}
    async with AsyncExitStack() as stack:
        registry_dir = tmp_path / "registry"
        registry_app = build_app(
            "registry", registry_dir, kafka_enabled=False, gateway_jwks_url=gw_jwks
        )
        registry = await stack.enter_async_context(LifespanManager(registry_app))
        apps: dict[str, Any] = {"registry.local": registry.app}
        for name, st in doubles.items():
            apps[f"{name}.local"] = agency_double(name, gw_jwks, st)
        register = make_register(["identity", "registry", "licensing", "payments"])
        settings: dict[str, Any] = {
            "kafka_enabled": False,
            "database_url": db_url,
            "signing_key_pem": gw_key.private_pem().decode(),
            "identity_jwks_url": identity.jwks_url,
            "identity_issuer": ISSUER,
            "breaker_cooldown_s": 0.5,
            "jwks_min_refresh_s": 0.0,
            "upstream_retry_backoff_s": 0.0,
        }
        settings.update(gateway_overrides)
        app = build_app("gateway", tmp_path / "gw", **settings)
        overrides = overrides_of(app)
        overrides.routing_register = register
        overrides.upstream_transport = MultiASGI(apps)
        overrides.admin_disabled = admin_disabled
        client = await stack.enter_async_context(running(app))
        direct = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=registry.app), base_url="http://registry.local"
            )
        )
        yield Mesh(client, app, identity, register, doubles, gw_ring, gw_jwks, direct, db_url)


class ProcessMeshKit:
    """What a gateway and a real agency run as *processes* need (``python -m egov_gateway``):
    a test identity, the gateway's signing key with its JWKS pinned in a file the agency
    reads, a static register (svc-registry's ``GET /mesh/whoami``, granted to licensing) and
    the environments of both processes. Several gateway replicas share one kit."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.identity = TestIdentity(directory)
        self.gateway_key = SigningKey.generate()
        self.gateway_jwks_path = directory / "gw-jwks.json"
        self.gateway_jwks_path.write_text(json.dumps(KeyRing(self.gateway_key).jwks()))
        self.register_file = directory / "register.json"

    def write_register(self, registry_port: int) -> None:
        self.register_file.write_text(
            json.dumps(
                {
                    "members": [
                        {
                            "agency": "registry",
                            "member_code": BINS["registry"],
                            "base_url": f"http://127.0.0.1:{registry_port}",
                            "operations": [{"method": "GET", "path": "/mesh/whoami"}],
                        }
                    ],
                    "grants": [["licensing", "registry:GET /mesh/whoami"]],
                }
            )
        )

    def registry_env(self, port: int, **extra: str) -> dict[str, str]:
        return {
            "REGISTRY_PORT": str(port),
            "REGISTRY_DATA_DIR": str(self.directory / f"registry-{port}"),
            "REGISTRY_KAFKA_ENABLED": "false",
            "REGISTRY_GATEWAY_JWKS_URL": f"file://{self.gateway_jwks_path}",
            "REGISTRY_LOG_LEVEL": "WARNING",
            **extra,
        }

    def gateway_env(self, port: int, db_url: str, **extra: str) -> dict[str, str]:
        return {
            "GATEWAY_PORT": str(port),
            "GATEWAY_DATA_DIR": str(self.directory / f"gw-{port}"),
            "GATEWAY_DATABASE_URL": db_url,
            "GATEWAY_KAFKA_ENABLED": "false",
            "GATEWAY_SIGNING_KEY_PEM": self.gateway_key.private_pem().decode(),
            "GATEWAY_IDENTITY_JWKS_URL": self.identity.jwks_url,
            "GATEWAY_IDENTITY_ISSUER": ISSUER,
            "GATEWAY_REGISTER_FILE": str(self.register_file),
            "GATEWAY_RATE_LIMIT_AGENCY_RPS": "0",
            "GATEWAY_RATE_LIMIT_SOURCE_RPS": "0",  # load from one address: not under test
            "GATEWAY_LOG_LEVEL": "WARNING",
            **extra,
        }


def wire_routed_exchange(
    gateway: FastAPI, agencies: Mapping[str, FastAPI]
) -> Callable[[str, str | None], dict[str, str]]:
    """The contract-fuzzing hook (``meshkit_testing.fuzzing.GATEWAY_HOOK``), on a running
    gateway and running agency apps of one event loop: the routed exchange reaches the
    in-process agencies, every operation they document is in the register and granted to every
    agency caller (and citizen-facing), the agencies trust this gateway's assertions, and the
    returned function gives a caller's credentials (client = agency code or "citizen").

    What is fuzzed through it is the whole routed path — token check, register lookup, ACL,
    purpose, assertion signing, forwarding, audit — against each agency's own contract."""
    runtime = gateway.state.runtime
    components = components_of(gateway)
    exchange = components.exchange
    wiring = Path(runtime.settings.data_dir) / "routed-fuzz"
    wiring.mkdir(parents=True, exist_ok=True)
    identity = TestIdentity(wiring)
    gateway_jwks = components.keyring.jwks()
    for name, app in agencies.items():
        app.state.assertion_verifier = AssertionVerifier(JWKSClient(gateway_jwks), agency=name)
    members = [
        MemberSpec(
            agency=name,
            member_code=BINS[name],
            base_url=f"http://{name}.fuzz",
            operations=[
                OperationSpec(op.method, op.path, citizen_facing=True)
                for op in contract_operations(name)
            ],
        )
        for name in agencies
    ]
    register = InMemoryRegister(members)
    for operation_id in register.operation_ids():
        for client in ("gateway", *agencies):
            register.grant(client, operation_id)
    exchange.register = register
    exchange.transport = MultiASGI({f"{name}.fuzz": app for name, app in agencies.items()})
    exchange.verifier = TokenVerifier(
        identity.jwks_url, issuer=ISSUER, audience=AUDIENCE, http=runtime.http
    )
    exchange.buckets = TokenBuckets({})  # the fuzzer's bursts are not what is under test

    def credentials(client: str, user: str | None) -> dict[str, str]:
        if client == "citizen":
            headers = identity.bearer("citizen", user or CITIZEN, ttl=3600)
        else:
            headers = identity.bearer("agency", client, ttl=3600)
            if user:
                headers["X-Mesh-User"] = user
        headers["X-Mesh-Purpose"] = "contract fuzzing"
        return headers

    return credentials
