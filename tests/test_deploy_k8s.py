"""Static checks of the Kubernetes manifests in deploy/k8s (no cluster needed or called).

Every resource is validated against the Kubernetes JSON schemas shipped by
``kubernetes-validate`` (strict: unknown fields are errors), then checked for what an
operator relies on: probes, resources, non-root read-only containers, secrets only by
reference, selectors that select, consistency with deploy/docker-compose.yml (images,
ports, settings), network policies that keep agencies behind the gateway, and a
kustomization that lists every file.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"

SERVICES = {
    "gateway": ("GATEWAY", 8000),
    "identity": ("IDENTITY", 8001),
    "registry": ("REGISTRY", 8002),
    "licensing": ("LICENSING", 8003),
    "payments": ("PAYMENTS", 8004),
    "notary": ("NOTARY", 8005),
}
AGENCIES = [s for s in SERVICES if s != "gateway"]
by_service = pytest.mark.parametrize("service", list(SERVICES))

SECRET_LOOKING = re.compile(r"PASSWORD|SECRET|KEY|TOKEN|DATABASE_URL|CREDENTIAL", re.IGNORECASE)
SELECTOR_LABELS = {"app.kubernetes.io/name", "app.kubernetes.io/part-of"}


Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --- loading (parsed once; tests read, never write) ---------------------------------------------
def load_docs(path: Path) -> list[dict[str, Any]]:
    return copy.deepcopy(_parsed(path))


@cache
def _parsed(path: Path) -> list[dict[str, Any]]:
    docs = [d for d in yaml.load_all(path.read_text(), Loader=Loader) if d is not None]
    for d in docs:
        assert isinstance(d, dict), f"{path.name}: a document is not a mapping"
    return docs


def kustomization() -> dict[str, Any]:
    (data,) = _parsed(K8S / "kustomization.yaml")
    return data


@cache
def resources() -> list[dict[str, Any]]:
    """Every object the kustomization applies."""
    out: list[dict[str, Any]] = []
    for name in kustomization()["resources"]:
        out += load_docs(K8S / name)
    return out


def one(kind: str, name: str) -> dict[str, Any]:
    found = [r for r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def container(service: str) -> dict[str, Any]:
    containers = one("Deployment", service)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    c: dict[str, Any] = containers[0]
    return c


def compose() -> dict[str, Any]:
    (data,) = _parsed(COMPOSE)
    return data


def compose_env(service: str) -> dict[str, str]:
    env = compose()["services"][service].get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def env_of(service: str) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(service).get("env", [])}


def config_map() -> dict[str, str]:
    data: dict[str, str] = one("ConfigMap", "mesh-env")["data"]
    return data


# --- files and schemas --------------------------------------------------------------------------
def test_kustomization_lists_every_manifest_and_nothing_else() -> None:
    listed = kustomization()["resources"]
    on_disk = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)
    # the examples for the operators are deliberately not applied with the mesh
    assert not any(name.startswith("operators/") for name in listed)


def test_every_yaml_file_parses() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) >= 12
    for path in files:
        for doc in load_docs(path):
            assert doc.get("apiVersion") and doc.get("kind"), path.name
            if doc["kind"] != "Kustomization":
                assert doc["metadata"].get("name"), path.name


@pytest.mark.parametrize(
    "resource",
    resources(),
    ids=lambda r: f"{r['kind']}/{r['metadata']['name']}",
)
def test_resource_matches_the_kubernetes_schema(resource: dict[str, Any]) -> None:
    version = kubernetes_validate.latest_version()
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{resource['kind']}/{resource['metadata']['name']}: {exc.message}")


def test_the_schema_validation_can_fail() -> None:
    deployment = one("Deployment", "registry")
    broken = copy.deepcopy(deployment)
    broken["spec"]["replicas"] = "two"
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_no_secret_object_or_value_is_in_the_manifests() -> None:
    for r in resources():
        assert r["kind"] != "Secret", f"Secret {r['metadata']['name']} must not be in the repo"
    for key, value in config_map().items():
        assert not SECRET_LOOKING.search(key) or key == "KAFKA_BOOTSTRAP_SERVERS", key
        assert "@" not in value, f"{key} looks like a URL with credentials"


# --- every service ------------------------------------------------------------------------------
@by_service
def test_service_has_deployment_service_hpa_and_pdb(service: str) -> None:
    deployment = one("Deployment", service)
    assert deployment["spec"]["replicas"] == 2
    hpa = one("HorizontalPodAutoscaler", service)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": service,
    }
    assert hpa["spec"]["minReplicas"] == 2 <= hpa["spec"]["maxReplicas"]
    pdb = one("PodDisruptionBudget", service)
    # a node drain must stay possible with the minimum replicas
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for sel in (
        deployment["spec"]["selector"]["matchLabels"],
        one("Service", service)["spec"]["selector"],
        pdb["spec"]["selector"]["matchLabels"],
    ):
        assert set(sel) == SELECTOR_LABELS
        assert all(pod_labels.get(k) == v for k, v in sel.items()), (sel, pod_labels)
        assert sel["app.kubernetes.io/name"] == service


@by_service
def test_service_port_reaches_the_container(service: str) -> None:
    _, port = SERVICES[service]
    ports = container(service)["ports"]
    assert ports == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    svc_ports = one("Service", service)["spec"]["ports"]
    assert svc_ports == [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}]


@by_service
def test_probes_point_at_the_health_endpoints(service: str) -> None:
    c = container(service)
    assert c["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    # migrations run at start: a startup probe keeps liveness from killing a slow first start
    assert c["startupProbe"]["httpGet"]["path"] == "/health/live"
    budget = c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"]
    assert budget >= 120


@by_service
def test_resources_are_requested_and_limited(service: str) -> None:
    res = container(service)["resources"]
    for section in ("requests", "limits"):
        assert set(res[section]) >= {"cpu", "memory"}, (service, section)


@by_service
def test_runs_as_non_root_with_a_read_only_root_filesystem(service: str) -> None:
    pod = one("Deployment", service)["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] != 0
    # the uid the Dockerfile creates (useradd --uid 10001)
    dockerfile = ROOT / "deploy" / "Dockerfile"
    assert f"--uid {psc['runAsUser']}" in dockerfile.read_text()
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    csc = container(service)["securityContext"]
    assert csc["readOnlyRootFilesystem"] is True
    assert csc["allowPrivilegeEscalation"] is False
    assert csc["capabilities"]["drop"] == ["ALL"]
    # the only writable places are volumes: /tmp and the data directory (the Kafka CA is
    # mounted read-only)
    writable = {m["mountPath"] for m in container(service)["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp", config_map()["MESH_DATA_DIR"]}


@by_service
def test_secrets_come_from_the_service_secret_by_reference(service: str) -> None:
    env = env_of(service)
    assert container(service)["envFrom"] == [{"configMapRef": {"name": "mesh-env"}}]
    secret_vars = [name for name in env if SECRET_LOOKING.search(name)]
    assert secret_vars, "no secret-looking variable at all"
    for name in secret_vars:
        entry = env[name]
        assert "value" not in entry, f"{name} has an inline value"
        ref = entry["valueFrom"]["secretKeyRef"]
        assert ref["name"] == f"{service}-secrets", name
    for name, entry in env.items():
        if "value" in entry:
            assert not SECRET_LOOKING.search(name), name


def test_each_gateway_replica_keeps_its_own_audit_chain() -> None:
    # one hash chain per gateway instance: replicas must not share GATEWAY_INSTANCE_ID
    deployment = one("Deployment", "gateway")
    assert deployment["spec"]["replicas"] >= 2
    entry = env_of("gateway")["GATEWAY_INSTANCE_ID"]
    assert entry["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


# --- consistency with docker compose ---------------------------------------------------------------
@by_service
def test_image_and_port_match_compose(service: str) -> None:
    prefix, port = SERVICES[service]
    compose_image = compose()["services"][service]["image"].split(":")[0]
    image = container(service)["image"]
    assert image.split(":")[0] == compose_image
    assert compose_env(service)[f"{prefix}_PORT"] == str(port)
    assert env_of(service)[f"{prefix}_PORT"]["value"] == str(port)
    assert env_of(service)[f"{prefix}_HOST"]["value"] == "0.0.0.0"
    images = {i["name"] for i in kustomization()["images"]}
    assert compose_image in images


@by_service
def test_every_compose_setting_is_set_in_kubernetes(service: str) -> None:
    """Each variable compose gives a service is in its Deployment or the mesh ConfigMap, and
    a secret in compose is a secret here."""
    env = env_of(service)
    for name, value in compose_env(service).items():
        assert name in env or name in config_map(), f"{service}: {name} missing"
        if name in env and "${" in value and SECRET_LOOKING.search(name):
            assert "secretKeyRef" in env[name].get("valueFrom", {}), name


def test_mesh_wide_settings_match_compose() -> None:
    anchor = compose_env("registry")
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "MESH_GATEWAY_URL", "MESH_IDENTITY_URL"):
        assert name in anchor and name in config_map()
    assert config_map()["MESH_DEV_MODE"] == "false"
    gw_port, id_port = SERVICES["gateway"][1], SERVICES["identity"][1]
    assert config_map()["MESH_GATEWAY_URL"].startswith("http://gateway.")
    assert config_map()["MESH_GATEWAY_URL"].endswith(f":{gw_port}")
    assert config_map()["MESH_IDENTITY_URL"].endswith(f":{id_port}")


# --- network exposure -------------------------------------------------------------------------------
def policies() -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources() if r["kind"] == "NetworkPolicy"}


def test_everything_is_denied_unless_allowed() -> None:
    deny = policies()["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny


@pytest.mark.parametrize("agency", [a for a in AGENCIES if a != "identity"])
def test_agencies_accept_only_the_gateway(agency: str) -> None:
    spec = policies()[f"{agency}-ingress"]["spec"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == agency
    (rule,) = spec["ingress"]
    pods = [p for p in rule["from"] if "podSelector" in p]
    assert pods == [
        {
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "gateway",
                    "app.kubernetes.io/part-of": "egov-mesh",
                }
            }
        }
    ]
    others = [p for p in rule["from"] if "podSelector" not in p]
    assert others == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": SERVICES[agency][1]}]


def test_only_the_gateway_is_exposed() -> None:
    ingresses = [r for r in resources() if r["kind"] == "Ingress"]
    assert [i["metadata"]["name"] for i in ingresses] == ["gateway"]
    backends = {
        p["backend"]["service"]["name"]
        for rule in ingresses[0]["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
    assert ingresses[0]["spec"]["tls"]
    for service in SERVICES:
        assert one("Service", service)["spec"]["type"] == "ClusterIP"


def test_operator_examples_name_what_the_mesh_expects() -> None:
    strimzi = load_docs(K8S / "operators" / "strimzi-kafka.yaml")
    kafka = next(d for d in strimzi if d["kind"] == "Kafka")
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap.{kafka['metadata']['namespace']}"
    assert config_map()["KAFKA_BOOTSTRAP_SERVERS"].startswith(bootstrap)
    cnpg = load_docs(K8S / "operators" / "cloudnativepg.yaml")
    cluster = next(d for d in cnpg if d["kind"] == "Cluster")
    databases = {d["spec"]["name"] for d in cnpg if d["kind"] == "Database"}
    databases.add(cluster["spec"]["bootstrap"]["initdb"]["database"])
    assert databases == set(SERVICES), "one database per service"


# --- Kafka security ---------------------------------------------------------------------------------
@by_service
def test_service_connects_to_kafka_as_its_own_principal(service: str) -> None:
    assert config_map()["MESH_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config_map()["MESH_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    env = env_of(service)
    assert env["MESH_KAFKA_SASL_USERNAME"] == {"name": "MESH_KAFKA_SASL_USERNAME", "value": service}
    assert env["MESH_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": f"{service}-secrets",
        "key": "kafka-sasl-password",
    }
    # the CA file the clients verify the brokers with is a read-only mount of a Secret
    cafile = Path(config_map()["MESH_KAFKA_SSL_CAFILE"])
    (mount,) = [
        m for m in container(service)["volumeMounts"] if cafile.is_relative_to(m["mountPath"])
    ]
    assert mount["readOnly"] is True
    pod = one("Deployment", service)["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == "kafka-cluster-ca"
    assert {i["path"] for i in volume["secret"]["items"]} == {cafile.name}


def test_strimzi_kafka_requires_scram_and_enforces_acls() -> None:
    strimzi = load_docs(K8S / "operators" / "strimzi-kafka.yaml")
    kafka = next(d for d in strimzi if d["kind"] == "Kafka")["spec"]["kafka"]
    port = int(config_map()["KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    for listener in kafka["listeners"]:
        assert listener["authentication"]["type"] == "scram-sha-512", listener["name"]
        assert listener["tls"] is True, listener["name"]
    assert port in {listener["port"] for listener in kafka["listeners"]}
    assert kafka["authorization"]["type"] == "simple"
    egress = [
        rule
        for policy in policies().values()
        for rule in policy["spec"].get("egress", [])
        if any(
            t.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == "kafka"
            for t in rule["to"]
        )
    ]
    assert egress and all(p["port"] == port for rule in egress for p in rule["ports"])


def test_one_kafka_user_per_service_with_its_own_acls() -> None:
    from meshkit import kafka_acls

    strimzi = load_docs(K8S / "operators" / "strimzi-kafka.yaml")
    cluster = next(d for d in strimzi if d["kind"] == "Kafka")["metadata"]
    users = load_docs(K8S / "operators" / "kafka-users.yaml")
    assert {u["metadata"]["name"] for u in users} == set(SERVICES)
    for user in users:
        name = user["metadata"]["name"]
        assert user["kind"] == "KafkaUser"
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == cluster["name"]
        assert user["metadata"]["namespace"] == cluster["namespace"]
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        acls = user["spec"]["authorization"]["acls"]
        written = {a["resource"]["name"] for a in acls if "Write" in a["operations"]}
        assert written == set(kafka_acls.writable_topics(name))
        assert all(a["resource"]["patternType"] == "literal" for a in acls)
