"""No test kit in runtime code (issue 21): test support lives in the dev-only workspace
member ``testing/`` (distribution ``egov-mesh-testing``, package ``meshkit_testing``).

What a service ships — the packages its wheel is built from (``[tool.hatch.build.targets.
wheel] packages`` of every runtime member: meshkit, the gateway, the five agencies) and the
migrations beside them — imports nothing test-only, holds no test-kit module, and no runtime
member depends on the test kit, directly (pyproject) or through the lock.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_KIT_MEMBER = "testing"
TEST_KIT_DIST = "egov-mesh-testing"

#: top-level modules only tests may import (the kit itself and the test tools it builds on)
TEST_ONLY_MODULES = frozenset(
    {
        "meshkit_testing",
        "pytest",
        "_pytest",
        "pytest_asyncio",
        "pytest_timeout",
        "hypothesis",
        "schemathesis",
        "asgi_lifespan",
        "testcontainers",
        "playwright",
        "honcho",
        "unittest.mock",
    }
)
#: distributions no runtime member may depend on
TEST_ONLY_DISTS = frozenset(
    {
        TEST_KIT_DIST,
        "pytest",
        "pytest-asyncio",
        "pytest-timeout",
        "hypothesis",
        "schemathesis",
        "asgi-lifespan",
        "testcontainers",
        "playwright",
        "honcho",
    }
)
#: module or package names that say "test support" (kits, doubles, fixtures, tests)
TEST_KIT_NAMES = re.compile(r"^(testing|testkit|test_kit|conftest|tests?|test_.*|.*_test)$")


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def runtime_members() -> list[str]:
    members = _toml(ROOT / "pyproject.toml")["tool"]["uv"]["workspace"]["members"]
    return [str(m) for m in members if m != TEST_KIT_MEMBER]


def shipped_dirs(member: str) -> list[Path]:
    """What the member's wheel is built from, and its migrations (copied into the image)."""
    project = _toml(ROOT / member / "pyproject.toml")
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    dirs = [ROOT / member / str(p) for p in packages]
    if (ROOT / member / "migrations").is_dir():
        dirs.append(ROOT / member / "migrations")
    return dirs


def runtime_files() -> list[Path]:
    return [f for m in runtime_members() for d in shipped_dirs(m) for f in sorted(d.rglob("*.py"))]


def _test_only(module: str) -> bool:
    return any(module == t or module.startswith(t + ".") for t in TEST_ONLY_MODULES)


def find_test_only_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a test-only module in ``source``, including
    ``importlib.import_module("…")`` and ``__import__("…")`` with a literal name, and names
    imported from a package (``from unittest import mock``)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"import_module", "__import__"}
                )
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        hits = sorted({n for n in names if _test_only(n)})
        found += [(getattr(node, "lineno", 0), hits[0])] if hits else []
    return sorted(found)


def find_test_kit_modules(files: list[Path]) -> list[Path]:
    """Modules and packages among ``files`` whose name says test support."""
    out: set[Path] = set()
    for f in files:
        if TEST_KIT_NAMES.match(f.stem):
            out.add(f)
        out |= {p for p in f.parents if TEST_KIT_NAMES.match(p.name) and ROOT in p.parents}
    return sorted(out)


def _requirement_name(requirement: str) -> str:
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert name, f"unreadable requirement {requirement!r}"
    return re.sub(r"[-_.]+", "-", name[1]).lower()


def declared_dependencies(project: dict[str, Any]) -> set[str]:
    """Distribution names a member's wheel would require (dependencies and every extra)."""
    section = project.get("project", {})
    reqs = list(section.get("dependencies", []))
    for extra in section.get("optional-dependencies", {}).values():
        reqs += extra
    return {_requirement_name(r) for r in reqs}


def lock_closure(lock: dict[str, Any], dist: str) -> set[str]:
    """Every package ``dist`` installs according to ``uv.lock`` (dependencies, with the
    extras they ask for; no dev groups — what ``uv sync --no-dev --package`` installs)."""
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], []).append(package)
    seen: set[tuple[str, str]] = set()
    todo = [(dist, "")]  # (package, "" for its dependencies or the extra asked for)
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        for package in packages[name]:
            if extra:
                deps = package.get("optional-dependencies", {}).get(extra, [])
            else:
                deps = package.get("dependencies", [])
            for dep in deps:
                todo += [(dep["name"], e) for e in ("", *dep.get("extra", ()))]
    return {name for name, _ in seen}


# --- the checks themselves catch what they are for -------------------------------------
def test_checker_reports_test_only_imports() -> None:
    doctored = (
        "import pytest\n"
        "from meshkit_testing.polling import eventually\n"
        "from unittest import mock\n"
        "import hypothesis.strategies as st\n"
        "import importlib\n"
        "kit = importlib.import_module('meshkit_testing.gateway')\n"
        "import httpx\n"
        "from meshkit.testing_tools import x\n"
    )
    assert [m for _, m in find_test_only_imports(doctored)] == [
        "pytest",
        "meshkit_testing.polling",
        "unittest.mock",
        "hypothesis.strategies",
        "meshkit_testing.gateway",
    ]


def test_checker_reports_test_kit_modules() -> None:
    base = ROOT / "gateway" / "egov_gateway"
    files = [base / "testkit.py", base / "testing" / "x.py", base / "api" / "routes.py"]
    assert find_test_kit_modules(files) == [base / "testing", files[0]]
    assert find_test_kit_modules([base / "contest.py", base / "attestation.py"]) == []


def test_checker_follows_the_lock() -> None:
    lock = {
        "package": [
            {"name": "egov-x", "dependencies": [{"name": "lib", "extra": ["dev"]}]},
            {"name": "lib", "optional-dependencies": {"dev": [{"name": TEST_KIT_DIST}]}},
            {"name": TEST_KIT_DIST, "dependencies": [{"name": "pytest"}]},
            {"name": "pytest"},
        ]
    }
    assert lock_closure(lock, "egov-x") == {"egov-x", "lib", TEST_KIT_DIST, "pytest"}
    assert declared_dependencies(
        {
            "project": {
                "dependencies": ["A_b>=1"],
                "optional-dependencies": {"t": ["Egov.Mesh-Testing"]},
            }
        }
    ) == {"a-b", TEST_KIT_DIST}


# --- the runtime tree --------------------------------------------------------------------
def test_runtime_members_are_known() -> None:
    """The walk covers meshkit, the gateway and the five agencies (a renamed member must not
    silently drop out of it) and the test kit is a member of its own."""
    shipped = {str(d.relative_to(ROOT)) for m in runtime_members() for d in shipped_dirs(m)}
    assert {"shared/meshkit", "gateway/egov_gateway"} <= shipped
    assert len({s for s in shipped if re.fullmatch(r"svc-\w+/egov_\w+", s)}) == 5
    assert (ROOT / TEST_KIT_MEMBER / "meshkit_testing" / "plugin.py").is_file()
    assert _toml(ROOT / TEST_KIT_MEMBER / "pyproject.toml")["project"]["name"] == TEST_KIT_DIST
    assert len(runtime_files()) > 100


def test_runtime_code_imports_nothing_test_only() -> None:
    offences = [
        f"{f.relative_to(ROOT)}:{line}: {module}"
        for f in runtime_files()
        for line, module in find_test_only_imports(f.read_text(encoding="utf-8"))
    ]
    assert not offences, "runtime code imports test support:\n" + "\n".join(offences)


def test_no_test_kit_module_in_runtime_packages() -> None:
    kits = [str(p.relative_to(ROOT)) for p in find_test_kit_modules(runtime_files())]
    assert not kits, f"test support inside a runtime package (move it to testing/): {kits}"


@pytest.mark.parametrize("member", runtime_members())
def test_runtime_member_does_not_depend_on_the_test_kit(member: str) -> None:
    project = _toml(ROOT / member / "pyproject.toml")
    named = declared_dependencies(project) & TEST_ONLY_DISTS
    assert not named, f"{member}/pyproject.toml requires {sorted(named)}"
    dist = project["project"]["name"]
    installed = lock_closure(_toml(ROOT / "uv.lock"), dist) & TEST_ONLY_DISTS
    assert not installed, f"uv.lock installs {sorted(installed)} with {dist}"


def test_the_root_takes_the_test_kit_as_a_dev_dependency_only() -> None:
    root = _toml(ROOT / "pyproject.toml")
    assert TEST_KIT_DIST not in declared_dependencies(root)
    dev = {_requirement_name(r) for r in root["dependency-groups"]["dev"]}
    assert TEST_KIT_DIST in dev
