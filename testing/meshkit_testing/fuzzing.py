"""Contract fuzzing of a service's OpenAPI with schemathesis, sent through an in-process app.

Schemathesis generates the cases (hypothesis strategies from each operation's schema) and
validates the answers (status documented, content type and body match the schema); the
requests themselves go through :class:`meshkit_testing.live.LiveApp`, so the app's lifespan
runs once and every call lands on the loop that owns its database engine. Agency operations
get an ``X-Mesh-Assertion`` signed for exactly the generated request, so the fuzzer reaches
the real handlers behind ``routed_call``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckFunction, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from meshkit.ids import EXAMPLE_IIN
from meshkit_testing.contract import AGENCIES, problem_violations, service_openapi
from meshkit_testing.live import LiveApp

#: examples per operation and mode; ``MESH_FUZZ_EXAMPLES`` raises it for a deeper run
MAX_EXAMPLES = int(os.environ.get("MESH_FUZZ_EXAMPLES", "15"))
#: a fixed seed keeps CI reproducible; ``MESH_FUZZ_RANDOM=1`` explores new ground
DERANDOMIZE = os.environ.get("MESH_FUZZ_RANDOM", "") not in ("1", "true", "yes")

POSITIVE_CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS: list[CheckFunction] = [not_a_server_error, negative_data_rejection]

#: who a routed call comes from: an agency, the gateway itself, or a citizen about themself
CALLERS: list[tuple[str, str | None]] = [
    *((a, EXAMPLE_IIN) for a in AGENCIES),
    ("gateway", None),
    ("citizen", EXAMPLE_IIN),
]

ALL_PHASES = tuple(Phase)
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


class ContractViolation(AssertionError):
    """An operation broke its documented contract (the message has a curl to reproduce)."""


Signer = Callable[[httpx.Request, str, str | None], dict[str, str]]


@dataclass
class Target:
    """Where fuzzed requests go: straight to the service, or through the gateway."""

    name: str
    live: LiveApp
    prefix: str = ""  # "/x/<agency>" through the gateway
    sign: Signer | None = None  # adds the assertion (direct) or caller credentials (gateway)


_SCHEMAS: dict[str, Any] = {}


def schema_for(service: str) -> Any:
    """The schemathesis schema of ``service`` (loaded once per process)."""
    if service not in _SCHEMAS:
        schema = schemathesis.openapi.from_dict(service_openapi(service))
        # the harness itself signs the GatewayAssertion of every call (or deliberately omits
        # it): schemathesis must not generate, nor "invalidate", that security header
        schema.config.generation.update(with_security_parameters=False)
        _SCHEMAS[service] = schema
    return _SCHEMAS[service]


def operation(service: str, method: str, path: str) -> Any:
    return schema_for(service)[path][method]


def to_request(live: LiveApp, case: Case, prefix: str = "") -> httpx.Request:
    """The httpx request schemathesis would send for ``case`` (requests-style kwargs)."""
    kw = case.as_transport_kwargs(base_url="http://svc" + prefix)
    content: Any = None
    data: Any = None
    files: Any = kw.get("files")
    if "json" in kw:
        return live.build(
            kw["method"],
            kw["url"],
            headers=dict(kw.get("headers") or {}),
            params=kw.get("params"),
            json=kw["json"],
        )
    raw = kw.get("data")
    if isinstance(raw, (bytes, str)):
        content = raw
    elif raw is not None:
        data = raw
    return live.build(
        kw["method"],
        kw["url"],
        headers=dict(kw.get("headers") or {}),
        params=kw.get("params"),
        content=content,
        data=data,
        files=files,
    )


def routed_only(op: Any) -> bool:
    """An operation that documents the gateway's assertion as its credential: called around
    the gateway, its 401 must say so."""
    definition = getattr(op, "definition", None)
    raw = getattr(definition, "raw", definition) or {}
    return any("GatewayAssertion" in req for req in raw.get("security") or [])


def fuzz_operation(
    target: Target,
    service: str,
    method: str,
    path: str,
    *,
    mode: GenerationMode = GenerationMode.POSITIVE,
    examples: int = MAX_EXAMPLES,
    signed: bool = True,
    shrink: bool = True,
) -> None:
    """Fuzz one operation; raises (with a minimal failing case) when a check fails."""
    op = operation(service, method, path)
    checks = POSITIVE_CHECKS if mode == GenerationMode.POSITIVE else NEGATIVE_CHECKS

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        phases=ALL_PHASES if shrink else NO_SHRINK,
    )
    @given(case=op.as_strategy(generation_mode=mode), caller=st.sampled_from(CALLERS))
    def run(case: Case, caller: tuple[str, str | None]) -> None:
        request = to_request(target.live, case, target.prefix)
        if signed and target.sign is not None:
            request.headers.update(target.sign(request, *caller))
        response = target.live.send(request)
        case.validate_response(response, checks=checks)
        if response.status_code >= 400:
            problems = problem_violations(response)
            assert not problems, f"{method} {path} → {response.status_code}: {problems}"
        if response.status_code == 401:
            detail = str(response.json().get("detail", ""))
            if signed and target.sign is not None:
                # the harness signs every call: the fuzzer must reach the handler
                assert "assertion" not in detail, f"signed call refused: {detail}"
            elif service in AGENCIES and routed_only(op):
                assert "gateway" in detail, response.text

    try:
        run()
    except BaseExceptionGroup as group:  # schemathesis reports every failed check at once
        raise ContractViolation(f"{service}:{method} {path}: {group}") from group


# --- the gateway-routed variant ---------------------------------------------------------------
#: The gateway's test hook, looked up when the gateway publishes ``/x/{agency}/{path}``:
#:
#:   ``meshkit_testing.gateway.wire_routed_exchange(gateway: FastAPI,
#:        agencies: Mapping[str, FastAPI]) -> Callable[[str, str | None], dict[str, str]]``
#:
#: called on the running gateway (its lifespan and the agencies' already started on the same
#: event loop) so that its routed exchange reaches the in-process agency apps, and returning
#: a function that gives the credentials of a caller (client = agency code or "citizen",
#: user = IIN) — typically ``{"Authorization": "Bearer …"}`` — with every operation allowed
#: for the agency callers. The agency apps are built with default settings, so the hook
#: also makes their assertion verifiers trust this gateway's keys (e.g. a JWKS client over
#: an ASGI transport to the gateway app: no URL reaches an in-process app). It may be sync
#: or async.
GATEWAY_HOOK = ("meshkit_testing.gateway", "wire_routed_exchange")

CallerCredentials = Callable[[str, str | None], dict[str, str]]


def gateway_hook() -> Callable[..., CallerCredentials] | None:
    import importlib

    module_name, attr = GATEWAY_HOOK
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    hook = getattr(module, attr, None)
    return hook if callable(hook) else None
