"""Static checks of the operator deployment: deploy/docker-compose.yml, deploy/.env.example,
the postgres init script, the one service Dockerfile (deploy/Dockerfile, built once per
service with build args) and the root .dockerignore.

No Docker engine is needed (or called): files are parsed and checked for the properties an
operator relies on — health-gated start-up, database-per-service, no inline secrets,
non-root images that run their own package.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshkit.settings import MESH_WIDE_FALLBACKS

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
INIT_SCRIPT = DEPLOY / "postgres-init" / "create-databases.sh"
DOCKERIGNORE = ROOT / ".dockerignore"
DOCKERFILE = DEPLOY / "Dockerfile"


class Svc:
    def __init__(self, name: str, folder: str, prefix: str, port: int) -> None:
        self.name = name  # compose service, database and role name
        self.folder = folder  # workspace member folder
        self.prefix = prefix  # pydantic-settings env prefix
        self.port = port
        self.package = f"egov_{name}"
        self.dist = f"egov-{name}"

    def __repr__(self) -> str:
        return self.name


SERVICES = [
    Svc("gateway", "gateway", "GATEWAY", 8000),
    Svc("identity", "svc-identity", "IDENTITY", 8001),
    Svc("registry", "svc-registry", "REGISTRY", 8002),
    Svc("licensing", "svc-licensing", "LICENSING", 8003),
    Svc("payments", "svc-payments", "PAYMENTS", 8004),
    Svc("notary", "svc-notary", "NOTARY", 8005),
]
by_name = pytest.mark.parametrize("svc", SERVICES, ids=[s.name for s in SERVICES])

SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN")
# a value that only refers to a variable and carries no value of its own: ${VAR},
# ${VAR:?message}, ${VAR?message} or ${VAR:-} (an empty default) — never ${VAR:-literal}
PURE_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*|:?-)?\}$")
URL_CREDENTIALS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:(?P<password>[^@]+)@")
VAR_USE = re.compile(
    r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


# --- helpers -------------------------------------------------------------------------------
def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "compose file is not a mapping"
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever form (list or mapping) it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        out: dict[str, str] = {}
        for item in env:
            key, _, value = str(item).partition("=")
            out[key] = value
        return out
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {k: (v or {}).get("condition", "service_started") for k, v in deps.items()}


def healthcheck_text(service: dict[str, Any]) -> str:
    hc = service.get("healthcheck") or {}
    assert not hc.get("disable"), "healthcheck disabled"
    test = hc.get("test")
    assert test, "healthcheck has no test"
    return test if isinstance(test, str) else " ".join(str(t) for t in test)


def find_inline_secrets(compose_doc: dict[str, Any]) -> list[str]:
    """Every place where a secret is written into the compose file instead of referenced.

    Scans each service's environment and build args: a key naming a secret (PASSWORD,
    SECRET, KEY, TOKEN) must hold a pure ``${VAR}`` reference, and credentials inside a
    URL (``scheme://user:password@host``) must be one too.
    """
    problems: list[str] = []
    for sname, service in (compose_doc.get("services") or {}).items():
        build = service.get("build") if isinstance(service.get("build"), dict) else {}
        args = build.get("args") or {}
        if isinstance(args, list):
            args = dict(str(a).partition("=")[::2] for a in args)
        sources = {"environment": environment(service), "build.args": args}
        for where, mapping in sources.items():
            for key, raw in mapping.items():
                value = "" if raw is None else str(raw)
                if any(word in key.upper() for word in SECRET_WORDS) and not PURE_REF.match(value):
                    problems.append(f"{sname}.{where}.{key}: secret not a pure ${{...}} reference")
                m = URL_CREDENTIALS.match(value)
                if m and not PURE_REF.match(m.group("password")):
                    problems.append(f"{sname}.{where}.{key}: password inline in URL")
                if "-----BEGIN" in value:
                    problems.append(f"{sname}.{where}.{key}: PEM inline")
    return problems


def strings(node: Any) -> list[str]:
    """Every string (keys and values) of a parsed YAML document: what compose interpolates."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in (*strings(k), *strings(v))]
    if isinstance(node, list):
        return [t for item in node for t in strings(item)]
    return [node] if isinstance(node, str) else []


def env_example_vars() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def build_args(svc: Svc) -> dict[str, str]:
    args = load_compose()["services"][svc.name]["build"].get("args") or {}
    if isinstance(args, list):
        args = dict(str(a).partition("=")[::2] for a in args)
    return {str(k): str(v) for k, v in args.items()}


ARG_USE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


def dockerfile(svc: Svc) -> str:
    """deploy/Dockerfile as Docker reads it when compose builds ``svc``: every ``${ARG}`` of a
    build arg or an ARG default replaced (the shell's and the runtime's variables stay)."""
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} missing"
    text = DOCKERFILE.read_text()
    values = build_args(svc)

    def expand(line: str) -> str:
        return ARG_USE.sub(lambda u: values.get(u["name"], u[0]), line)

    for m in re.finditer(r"^ARG (\w+)=(\S+)$", text, re.MULTILINE):
        values.setdefault(m[1], expand(m[2]))
    return "\n".join(expand(line) for line in text.splitlines())


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        full = buf + stripped
        buf = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def final_stage(text: str) -> list[tuple[str, str]]:
    ins = instructions(text)
    last_from = max(i for i, (word, _) in enumerate(ins) if word == "FROM")
    return ins[last_from:]


def workspace_members() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    assert isinstance(members, list)
    return [str(m) for m in members]


#: the dev-only workspace member with the test kit (meshkit_testing): never in an image
TEST_KIT = "testing"
TEST_KIT_DIST = "egov-mesh-testing"


def dockerignore_patterns() -> list[str]:
    pats = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pats.append(line.strip("/") if not line.startswith("!") else line)
    return pats


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Approximation of Docker's .dockerignore matching (the last matching pattern wins;
    a path is excluded when it or one of its parent folders matches; ``**/`` = any depth)."""
    parts = Path(path).parts
    ignored = False
    for pat in patterns:
        negate = pat.startswith("!")
        glob = pat.lstrip("!").strip("/")
        anywhere = glob.startswith("**/")
        glob = glob.removeprefix("**/")
        starts = range(len(parts)) if anywhere else range(1)
        if any(
            fnmatch.fnmatchcase("/".join(parts[j : i + 1]), glob)
            for j in starts
            for i in range(j, len(parts))
        ):
            ignored = not negate
    return ignored


# --- the checker itself must catch what it is for -------------------------------------------
def test_inline_secret_checker_reports_doctored_compose() -> None:
    doctored = {
        "services": {
            "bad": {
                "environment": {
                    "DB_PASSWORD": "hunter2",
                    "API_TOKEN": "${API_TOKEN:-default-token}",
                    "APP_DATABASE_URL": "postgresql+asyncpg://app:hunter2@postgres:5432/app",
                    # a PEM header the checker must spot, assembled so no key-like text is committed
                    "APP_SIGNING_KEY_PEM": "-----BEGIN " + "PRIVATE" + " KEY-----\n(truncated)",
                },
                "build": {"context": ".", "args": ["NPM_TOKEN=abc123"]},
            },
            "listform": {"environment": ["CLIENT_SECRET=s3cr3t"]},
            "good": {
                "environment": {
                    "DB_PASSWORD": "${DB_PASSWORD:?set it in .env}",
                    "OTHER_SECRET": "${OTHER_SECRET}",
                    "APP_DATABASE_URL": "postgresql+asyncpg://app:${DB_PASSWORD:?}@postgres/app",
                    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
                }
            },
        }
    }
    problems = find_inline_secrets(doctored)
    for needle in (
        "bad.environment.DB_PASSWORD",
        "bad.environment.API_TOKEN",
        "bad.environment.APP_DATABASE_URL",
        "bad.environment.APP_SIGNING_KEY_PEM",
        "bad.build.args.NPM_TOKEN",
        "listform.environment.CLIENT_SECRET",
    ):
        assert any(p.startswith(needle + ":") for p in problems), (needle, problems)
    assert not [p for p in problems if p.startswith("good.")], problems


def test_dockerignore_matcher_behaves() -> None:
    pats = ["**/tests", ".venv", "*.pem", "!keep.pem"]
    assert dockerignored("svc-x/tests/test_a.py", pats)
    assert dockerignored("tests", pats)
    assert dockerignored(".venv/bin/python", pats)
    assert dockerignored("a.pem", pats)
    assert not dockerignored("keep.pem", pats)
    assert not dockerignored("svc-x/egov_x/app.py", pats)


# --- compose: infrastructure ----------------------------------------------------------------
def test_compose_has_no_inline_secrets(compose: dict[str, Any]) -> None:
    assert find_inline_secrets(compose) == []
    text = COMPOSE_FILE.read_text()
    assert "-----BEGIN" not in text
    assert "PRIVATE KEY" not in text


def test_kafka_is_single_node_kraft_with_healthcheck(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:4.3.1"
    env = environment(kafka)
    assert str(env["KAFKA_NODE_ID"]) == "1"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    listeners = env["KAFKA_LISTENERS"]
    assert "INTERNAL://:9092" in listeners and "CONTROLLER://:9093" in listeners
    assert "INTERNAL://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    for name in listeners.split(","):
        assert name.split("://")[0] + ":" in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    for factor in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert str(env[factor]) == "1", factor
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]).lower() == "true"
    log_dir = env["KAFKA_LOG_DIRS"]
    assert any(
        str(v).split(":")[0] in compose["volumes"] and str(v).split(":")[1] == log_dir
        for v in kafka["volumes"]
    ), "kafka data not on a named volume"
    test = healthcheck_text(kafka)
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in test
    assert "--bootstrap-server localhost:9092" in test


def test_kafka_requires_sasl_and_enforces_acls(compose: dict[str, Any]) -> None:
    env = environment(compose["services"]["kafka"])
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    names = {listener.split("://")[0] for listener in env["KAFKA_LISTENERS"].split(",")}
    assert {protocols[n] for n in names} <= {"SASL_PLAINTEXT", "SASL_SSL"}, protocols
    assert "SCRAM-SHA-512" in env["KAFKA_SASL_ENABLED_MECHANISMS"].split(",")
    assert env["KAFKA_LISTENER_NAME_HOST_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert (
        env["KAFKA_AUTHORIZER_CLASS_NAME"]
        == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert env["KAFKA_SUPER_USERS"] == "User:admin"  # no agency is a super user
    assert str(env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"]).lower() == "false"
    jaas = {k: v for k, v in env.items() if k.endswith("_SASL_JAAS_CONFIG")}
    assert {k for k in jaas if "PLAIN_SASL" in k} == {
        "KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG",
        "KAFKA_LISTENER_NAME_INTERNAL_PLAIN_SASL_JAAS_CONFIG",
    }
    for key, value in jaas.items():
        passwords = re.findall(r'(?:password|user_\w+)="([^"]*)"', value)
        assert all(re.fullmatch(r"\$\{KAFKA_ADMIN_PASSWORD:\?[^}]+\}", p) for p in passwords), key
        # PLAIN declares the admin alone: an agency can only be a SCRAM user
        assert re.findall(r"user_(\w+)=", value) in ([], ["admin"]), key
    assert "--command-config" in healthcheck_text(compose["services"]["kafka"])


def test_kafka_acls_job_applies_the_declared_acls(compose: dict[str, Any]) -> None:
    from meshkit import kafka_acls

    job = compose["services"]["kafka-acls"]
    assert job["image"] == compose["services"]["kafka"]["image"]
    assert depends_on(job) == {"kafka": "service_healthy"}
    mounts = [str(v) for v in job["volumes"]]
    script_mount = next(m for m in mounts if m.endswith(":ro") and "init-acls.sh" in m)
    host = (DEPLOY / script_mount.split(":")[0]).resolve()
    assert host.read_text() == kafka_acls.render_init_script()
    assert script_mount.split(":")[1] in " ".join(job["entrypoint"])
    env = environment(job)
    for service in [*kafka_acls.declaration().principals, "admin"]:
        var = kafka_acls.password_variable(service)
        assert re.fullmatch(r"\$\{" + var + r":\?[^}]+\}", env[var]), var


@by_name
def test_service_connects_to_kafka_as_its_own_principal(compose: dict[str, Any], svc: Svc) -> None:
    from meshkit import kafka_acls

    service = compose["services"][svc.name]
    env = environment(service)
    assert env["MESH_KAFKA_SECURITY_PROTOCOL"] in ("SASL_PLAINTEXT", "SASL_SSL")
    assert env["MESH_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["MESH_KAFKA_SASL_USERNAME"] == svc.name
    assert svc.name in kafka_acls.declaration().principals
    var = kafka_acls.password_variable(svc.name)
    assert re.fullmatch(r"\$\{" + var + r":\?[^}]+\}", env["MESH_KAFKA_SASL_PASSWORD"])
    assert depends_on(service).get("kafka-acls") == "service_completed_successfully"


def test_postgres_creates_one_database_per_service(compose: dict[str, Any]) -> None:
    pg = compose["services"]["postgres"]
    assert pg["image"] == "postgres:15"
    env = environment(pg)
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", env["POSTGRES_PASSWORD"])
    assert "pg_isready" in healthcheck_text(pg)
    mounts = [str(v) for v in pg["volumes"]]
    assert any(
        m.split(":")[0] in compose["volumes"] and m.split(":")[1] == "/var/lib/postgresql/data"
        for m in mounts
    )
    init_mounts = [m for m in mounts if ":/docker-entrypoint-initdb.d" in m]
    assert init_mounts, "init script not mounted"
    for m in init_mounts:
        host = (DEPLOY / m.split(":")[0]).resolve()
        assert host.exists(), host
        assert host == INIT_SCRIPT or INIT_SCRIPT.is_relative_to(host)
    script = INIT_SCRIPT.read_text()
    assert script.startswith("#!")
    assert os.access(INIT_SCRIPT, os.X_OK), "init script not executable"
    for svc in SERVICES:
        var = f"{svc.prefix}_DB_PASSWORD"
        # postgres receives each password by reference; the script reads it by name
        assert re.fullmatch(r"\$\{" + var + r"(:\?[^}]*)?\}", env[var]), var
        assert svc.name in script
    assert "_DB_PASSWORD" in script
    assert "CREATE DATABASE" in script and "CREATE ROLE" in script


# --- compose: the six services ---------------------------------------------------------------
def test_compose_services_match_workspace(compose: dict[str, Any]) -> None:
    members = set(workspace_members()) - {"shared", TEST_KIT}
    assert {s.folder for s in SERVICES} == members
    assert {s.name for s in SERVICES} <= set(compose["services"])


@by_name
def test_service_builds_from_its_dockerfile(compose: dict[str, Any], svc: Svc) -> None:
    service = compose["services"][svc.name]
    build = service["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT, "build context must be the workspace root"
    path = context / build["dockerfile"]
    assert path == DOCKERFILE, "one Dockerfile for every service"
    args = build_args(svc)
    assert args["SERVICE"] == svc.name
    assert args.get("MEMBER", f"svc-{svc.name}") == svc.folder
    assert args["PORT"] == str(svc.port)


@by_name
def test_service_waits_for_healthy_infrastructure(compose: dict[str, Any], svc: Svc) -> None:
    service = compose["services"][svc.name]
    deps = depends_on(service)
    assert deps.get("kafka") == "service_healthy"
    assert deps.get("postgres") == "service_healthy"
    assert service.get("restart") == "unless-stopped"
    test = healthcheck_text(service)
    assert "/health/ready" in test and str(svc.port) in test


@by_name
def test_service_environment(compose: dict[str, Any], svc: Svc) -> None:
    env = environment(compose["services"][svc.name])
    url = env[f"{svc.prefix}_DATABASE_URL"]
    m = re.fullmatch(
        r"postgresql\+asyncpg://(?P<user>\w+):(?P<pw>\$\{[^}]+\})@postgres:5432/(?P<db>\w+)", url
    )
    assert m, url
    assert m["user"] == svc.name and m["db"] == svc.name
    assert m["pw"].startswith("${" + f"{svc.prefix}_DB_PASSWORD")
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["MESH_GATEWAY_URL"] == "http://gateway:8000"
    assert env["MESH_IDENTITY_URL"] == "http://identity:8001"
    assert env.get(f"{svc.prefix}_HOST", "0.0.0.0") == "0.0.0.0"
    assert str(env.get(f"{svc.prefix}_PORT", svc.port)) == str(svc.port)
    dev = {env.get("MESH_DEV_MODE", "false"), env.get(f"{svc.prefix}_DEV_MODE", "false")}
    assert {str(v).lower() for v in dev} <= {"false", "0", "no"}, "dev mode in production"


def test_gateway_signing_key_is_required(compose: dict[str, Any]) -> None:
    env = environment(compose["services"]["gateway"])
    assert re.fullmatch(r"\$\{GATEWAY_SIGNING_KEY_PEM:\?[^}]*\}", env["GATEWAY_SIGNING_KEY_PEM"])


def test_published_ports_are_loopback_only(compose: dict[str, Any]) -> None:
    for sname, service in compose["services"].items():
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", (sname, port)
            else:
                assert str(port).startswith("127.0.0.1:"), (sname, port)
    gw_ports = [str(p) for p in compose["services"]["gateway"].get("ports") or []]
    assert any(p.endswith(":8000") for p in gw_ports), gw_ports


# --- .env.example -----------------------------------------------------------------------------
def test_env_example_lists_every_compose_variable() -> None:
    used = {
        m["braced"] or m["bare"] for text in strings(load_compose()) for m in VAR_USE.finditer(text)
    }
    assert used, "compose uses no variables?"
    missing = used - set(env_example_vars())
    assert not missing, f"not in deploy/.env.example: {sorted(missing)}"


def test_env_example_holds_placeholders_only() -> None:
    text = ENV_EXAMPLE.read_text()
    assert "-----BEGIN" not in text
    for key, value in env_example_vars().items():
        if any(word in key for word in SECRET_WORDS):
            assert value.strip("\"'") == "change-me", f"{key} must be a placeholder"
    assert "openssl" in text, "say how to generate real secrets"
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in [line.strip() for line in gitignore], ".env must stay out of git"


# --- Dockerfiles ------------------------------------------------------------------------------
@by_name
def test_dockerfile_builds_and_runs_its_service(svc: Svc) -> None:
    text = dockerfile(svc)
    ins = instructions(text)
    froms = [rest for word, rest in ins if word == "FROM"]
    assert len(froms) >= 2, "multi-stage build expected"
    args = " ".join(rest for word, rest in ins if word == "ARG")
    assert all("python:3.11-slim" in f or "${PYTHON_IMAGE}" in f for f in froms)
    assert "python:3.11-slim" in args + " ".join(froms)
    runs = " ".join(rest for word, rest in ins if word == "RUN")
    assert re.search(r"pip install (--no-cache-dir )?uv==\d+\.\d+\.\d+", runs), "pin uv"
    assert "astral.sh" not in text and "curl" not in runs and "wget" not in runs
    assert re.search(rf"uv sync --frozen --no-dev (?:\S+ )*--package {svc.dist}\b", runs)

    # final stage: non-root user, port, healthcheck, command
    final = final_stage(text)
    users = [rest for word, rest in final if word == "USER"]
    assert users, "no USER in the final stage"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert str(svc.port) in " ".join(rest for word, rest in final if word == "EXPOSE")
    hc = " ".join(rest for word, rest in final if word == "HEALTHCHECK")
    assert "/health/live" in hc and "python" in hc and "curl" not in hc
    cmds = [rest for word, rest in final if word == "CMD" and not rest.startswith('["')]
    assert not cmds, "CMD must be in exec form"
    env = dict(
        pair.split("=", 1) for word, rest in final if word == "ENV" for pair in shlex.split(rest)
    )
    assert env["MESH_SERVICE"] == svc.name
    cmd = json.loads([rest for word, rest in final if word == "CMD"][-1])
    assert cmd[:2] == ["/bin/sh", "-c"] and cmd[2].startswith("exec ")
    runs_as = shlex.split(cmd[2].replace("${MESH_SERVICE}", svc.name))
    assert runs_as == ["exec", "python", "-m", svc.package, "serve"]
    # every service binds all interfaces in the container: MESH_HOST is its HOST fallback
    assert env["MESH_HOST"] == "0.0.0.0"
    assert MESH_WIDE_FALLBACKS["host"] == ("MESH_HOST",)


@by_name
def test_dockerfile_copies_what_uv_needs(svc: Svc) -> None:
    ins = instructions(dockerfile(svc))
    sources: list[str] = []
    for word, rest in ins:
        if word == "COPY" and "--from=" not in rest:
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]
            sources += parts[:-1]
    for src in sources:  # every source exists in the build context (the repo root)
        assert (ROOT / src).exists(), f"COPY source {src} missing"
    assert "pyproject.toml" in sources and "uv.lock" in sources
    for member in workspace_members():
        if member == TEST_KIT:  # dev only: a --no-dev sync of one service does not need it
            continue
        assert f"{member}/pyproject.toml" in sources, f"{member}/pyproject.toml not copied"
    copied = " ".join(sources)
    assert "shared/meshkit" in copied or "shared" in sources
    assert f"{svc.folder}/{svc.package}" in copied or svc.folder in sources
    assert f"{svc.folder}/migrations" in copied or svc.folder in sources
    patterns = dockerignore_patterns()
    for src in sources:
        assert not dockerignored(src, patterns), f".dockerignore hides {src}"


@by_name
def test_image_contains_no_test_kit(svc: Svc) -> None:
    """The test kit is a workspace member for development only: the image copies nothing of
    it, the build context does not even hold it, and the one sync installs no dev group."""
    assert TEST_KIT in workspace_members()
    kit = tomllib.loads((ROOT / TEST_KIT / "pyproject.toml").read_text())
    assert kit["project"]["name"] == TEST_KIT_DIST
    ins = instructions(dockerfile(svc))
    sources = [
        src
        for word, rest in ins
        if word == "COPY" and "--from=" not in rest
        for src in [p for p in shlex.split(rest) if not p.startswith("--")][:-1]
    ]
    assert sources, "no COPY found"
    for src in sources:
        assert Path(src).parts[0] != TEST_KIT, f"the image copies the test kit: COPY {src}"
        assert src not in {".", "./"}, "the image copies the whole build context"
    patterns = dockerignore_patterns()
    for path in ("testing/pyproject.toml", "testing/meshkit_testing/plugin.py"):
        assert dockerignored(path, patterns), f".dockerignore lets {path} into the context"
    syncs = [rest for word, rest in ins if word == "RUN" and "uv sync" in rest]
    assert syncs and all("--no-dev" in run for run in syncs), "every uv sync skips dev groups"
    assert all(TEST_KIT_DIST not in run and "--all-packages" not in run for run in syncs)


def test_one_dockerfile_for_every_service() -> None:
    strays = [p for p in ROOT.glob("*/Dockerfile") if p != DOCKERFILE]
    assert not strays, f"build every service from deploy/Dockerfile, not {strays}"


# --- .dockerignore ----------------------------------------------------------------------------
def test_dockerignore_keeps_local_state_out() -> None:
    patterns = dockerignore_patterns()
    for required in (".venv", ".cache", ".run", ".data", ".env"):
        assert required in patterns, f"{required} not in .dockerignore"
        assert dockerignored(required + "/x", patterns) or dockerignored(required, patterns)
