"""The gateway's floors: every import points down (issue 21).

``exchange`` (routing, access, tokens, assertion, transport, audit) is the ground floor, the
``register`` stands on it, the ``singlewindow`` on both; the entrypoints (``api``, ``portal``,
``app``, ``bootstrap``, ``handlers``) on everything. Inside an area a ``domain`` knows nothing
of its ``adapters`` or ``service_layer`` and nothing of HTTP or SQL. Imports inside functions
count too: a lazy import upward is still an arrow upward.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "egov_gateway"
ENTRYPOINTS = ("api", "portal", "app", "bootstrap", "handlers", "__main__")
#: area → the floors above it, which it must never import
ABOVE: dict[str, tuple[str, ...]] = {
    "exchange": ("register", "singlewindow", *ENTRYPOINTS),
    "register": ("singlewindow", *ENTRYPOINTS),
    "singlewindow": ENTRYPOINTS,
    "settings": ("exchange", "register", "singlewindow", "orm", *ENTRYPOINTS),
    "orm": ("exchange", "register", "singlewindow", *ENTRYPOINTS),
}
#: what a domain model must not know: its own area's outer rings, HTTP, SQL
DOMAIN_MUST_NOT = ("adapters", "service_layer", "sqlalchemy", "fastapi", "starlette", "httpx")


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def area_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def test_the_layout_has_its_areas() -> None:
    areas = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert {"exchange", "register", "singlewindow", "api", "portal"} <= areas
    for area in ("exchange", "register"):
        assert {"domain", "adapters", "service_layer"} <= {
            p.name for p in (PACKAGE / area).iterdir() if p.is_dir()
        }
    for sub in ("applications", "offers", "notifications", "stats"):
        assert (PACKAGE / "singlewindow" / sub / "domain").is_dir(), sub


@pytest.mark.parametrize("area", sorted(ABOVE))
def test_no_arrow_points_up(area: str) -> None:
    files = sorted((PACKAGE / area).rglob("*.py")) if (PACKAGE / area).is_dir() else []
    files += [PACKAGE / f"{area}.py"] if (PACKAGE / f"{area}.py").exists() else []
    assert files, area
    upward = [
        f"{f.relative_to(PACKAGE)}:{line} imports {module}"
        for f in files
        for line, module in imports(f)
        if module.startswith("egov_gateway.") and module.split(".")[1] in ABOVE[area]
    ]
    assert upward == []


def test_domain_models_know_no_outer_ring() -> None:
    bad = []
    for f in sorted(PACKAGE.rglob("domain/*.py")):
        for line, module in imports(f):
            parts = module.split(".")
            if parts[0] in DOMAIN_MUST_NOT or any(p in DOMAIN_MUST_NOT for p in parts[2:]):
                bad.append(f"{f.relative_to(PACKAGE)}:{line} imports {module}")
    assert bad == []


def test_the_scan_sees_imports() -> None:
    """Not a vacuous pass: the application model does import the register's mapping."""
    model = PACKAGE / "singlewindow" / "applications" / "domain" / "model.py"
    assert any(m == "egov_gateway.register.domain.mapping" for _, m in imports(model))
    assert area_of(model) == "singlewindow"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    name = ".".join(rel.parts)
    return name.removesuffix(".__init__")


def _load_time_imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules ``path`` imports when it is loaded (module level, not under
    ``if TYPE_CHECKING``); ``from pkg import mod`` counts as importing ``pkg.mod``."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found & modules


def test_no_import_loop() -> None:
    files = {_module_name(f): f for f in PACKAGE.rglob("*.py")}
    graph = {m: _load_time_imports(f, set(files)) - {m} for m, f in files.items()}
    assert sum(map(len, graph.values())) > 100  # the scan sees the package's imports
    loops: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(graph[module]):
            if state.get(nxt) == 1:
                loops.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert loops == []


def _owner(module: str) -> str:
    """The area a module belongs to: ``singlewindow.<sub>``, or the first floor below the
    package (``exchange``, ``register``, ``api``…)."""
    parts = module.split(".")[1:]
    return ".".join(parts[:2]) if parts[:1] == ["singlewindow"] else parts[0]


def test_an_area_reads_only_its_own_tables() -> None:
    """Another area's facts come from its service layer (a read model such as
    ``applications.service_layer.views``), never from its tables; only the composition root
    (``bootstrap``, ``app``, ``orm``) may name every table."""
    roots = {"bootstrap", "app", "orm", "__main__"}
    bad, seen = [], 0
    for f in sorted(PACKAGE.rglob("*.py")):
        me = _module_name(f)
        for line, module in imports(f):
            if not module.startswith("egov_gateway.") or "tables" not in module.split(".")[-1]:
                continue
            seen += 1
            if _owner(me) != _owner(module) and _owner(me) not in roots:
                bad.append(f"{f.relative_to(PACKAGE)}:{line} reads {module}")
    assert seen >= 5  # the scan sees the areas' own table imports
    assert bad == []
