"""Every event type an outbox can write is in the catalogue (DESIGN §4.1, §5).

A static scan of the services' code (the gateway, the agencies, meshkit): every payload class
(an ``EventData`` subclass) is registered with ``@event_type``, every ``uow.emit(Cls(...))``
names a registered class, and every registered type is in the served AsyncAPI document with
an example its schema accepts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jsonschema

from meshkit.catalogue import catalogue
from meshkit.contracts.diagnostics import ECHO_EVENTS
from meshkit.events import registry

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    *sorted(ROOT.glob("svc-*/egov_*")),
    ROOT / "gateway" / "egov_gateway",
    ROOT / "shared" / "meshkit",
]


def production_files() -> list[Path]:
    # the test kits (their demo types are not the mesh's) live in testing/, not scanned here
    return [f for src in SOURCES for f in sorted(src.rglob("*.py"))]


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def scan() -> tuple[dict[str, tuple[Path, bool]], list[tuple[Path, int, str]]]:
    """(payload classes: name → (file, decorated with event_type), emit(Cls(...)) sites)."""
    trees = [(f, ast.parse(f.read_text(encoding="utf-8"))) for f in production_files()]
    classes: dict[str, tuple[Path, bool]] = {}
    bases = {"EventData"}
    grew = True
    while grew:  # subclasses of subclasses, across files
        grew = False
        for f, tree in trees:
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef) or node.name in classes:
                    continue
                if any(_name(b) in bases for b in node.bases):
                    decorated = any(
                        isinstance(d, ast.Call) and _name(d.func) == "event_type"
                        for d in node.decorator_list
                    )
                    classes[node.name] = (f, decorated)
                    bases.add(node.name)
                    grew = True
    emits = []
    for f, tree in trees:
        for node in ast.walk(tree):
            # uow.emit(Cls(...)) and a service's own helper, e.g. payments' _emit(uow, inv, Cls(...))
            if not isinstance(node, ast.Call) or not (_name(node.func) or "").endswith("emit"):
                continue
            for arg in node.args:
                if isinstance(arg, ast.Call) and (called := _name(arg.func)) in classes:
                    emits.append((f, node.lineno, called))
    return classes, emits


def test_every_payload_class_is_registered() -> None:
    classes, _ = scan()
    assert "InvoiceIssued" in classes and "EchoSent" in classes  # the scan sees them
    registered = {t.__name__ for t in registry.types()}
    # EchoSent is the base of the per-service echo types (registered by meshkit.contracts)
    unregistered = {
        name: str(f.relative_to(ROOT))
        for name, (f, decorated) in classes.items()
        if not decorated and name not in registered and name != "EchoSent"
    }
    assert unregistered == {}, "payload classes without @event_type: not in the catalogue"


def test_every_emitted_class_is_in_the_catalogue() -> None:
    _, emits = scan()
    # the scan sees emit sites across the mesh (not a vacuous pass); notary's act raises domain
    # events that _contract_event maps to payload classes (covered by the registration test)
    assert len(emits) > 20
    assert {f.relative_to(ROOT).parts[0] for f, _, _ in emits} >= {
        "gateway",
        "svc-identity",
        "svc-licensing",
        "svc-payments",
        "svc-registry",
    }
    doc = catalogue()
    in_catalogue = {m["name"] for m in doc["components"]["messages"].values()}
    by_class = {t.__name__: t.event_type for t in registry.types()}
    missing = [
        f"{f.relative_to(ROOT)}:{line} emits {cls}"
        for f, line, cls in emits
        if by_class.get(cls) not in in_catalogue
    ]
    assert missing == []
    # the mesh echo every service writes (POST /mesh/echo) is a type of its own per service
    for svc, cls in ECHO_EVENTS.items():
        assert f"kz.egov.{svc}.mesh_echo.sent.v1" == cls.event_type
        assert cls.event_type in in_catalogue


def test_every_registered_type_has_an_example_its_schema_accepts() -> None:
    doc = catalogue()
    messages = doc["components"]["messages"]
    assert {m["name"] for m in messages.values()} == {t.event_type for t in registry.types()}
    for message in messages.values():
        schema = {**message["payload"], "components": doc["components"]}
        jsonschema.validate(message["examples"][0]["payload"], schema)


def test_money_in_events_always_has_its_currency() -> None:
    for t in registry.types():
        fields = t.model_fields
        if any(f.endswith("_tiyn") for f in fields):
            assert "currency" in fields, f"{t.event_type} carries money without its currency"
            assert t.model_fields["currency"].default == "KZT"
