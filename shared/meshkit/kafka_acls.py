"""Per-agency Kafka ACLs, from one declaration: ``reference/kafka_acls.json``.

Each service is one SCRAM principal, ``User:<service>``. It may

* WRITE (and CREATE, so auto-creation works) its own topic ``egov.<service>`` and its
  dead-letter topics ``egov.<producer>.dlq.svc-<service>`` (one per topic it consumes);
* READ the topics ``egov.<producer>`` it declares under ``consumes``, and its consumer
  group ``svc-<service>``.

Nothing else: the brokers run with ``allow.everyone.if.no.acl.found=false``, so an agency
cannot read another agency's events (and the persons' IINs in them) unless the declaration
grants it. Every binding is LITERAL: a prefix would also match other agencies' DLQ topics.

Used by ``meshkit_testing.devinfra.kafka`` (local SASL broker, tests), by the compose init job
(``deploy/kafka/init-acls.sh``, rendered by ``python -m meshkit.kafka_acls script``) and
by the Strimzi ``KafkaUser`` resources in ``deploy/k8s/kafka-users.yaml``
(``python -m meshkit.kafka_acls strimzi``); tests keep both in step with this module.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from meshkit.messaging.kafka import dlq_topic

__all__ = [
    "AclBinding",
    "AclDeclaration",
    "bindings",
    "consumer_group",
    "declaration",
    "readable_topics",
    "render_init_script",
    "render_strimzi_users",
    "topic",
    "writable_topics",
]

Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE"]
ResourceType = Literal["TOPIC", "GROUP"]


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # producer -> why this service may read its events (they carry persons' data)
    consumes: dict[str, str] = Field(default_factory=dict)


class AclDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", alias="_comment")
    principals: dict[str, Grant]

    @model_validator(mode="after")
    def _producers_are_principals(self) -> AclDeclaration:
        for name, grant in self.principals.items():
            unknown = set(grant.consumes) - set(self.principals)
            if unknown:
                raise ValueError(f"{name} consumes unknown producers {sorted(unknown)}")
            if any(not reason.strip() for reason in grant.consumes.values()):
                raise ValueError(f"{name}: every grant needs its reason")
        return self


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ALLOW rule, LITERAL pattern, any host."""

    principal: str  # "User:identity"
    resource_type: ResourceType
    resource_name: str
    operation: Operation


@cache
def declaration() -> AclDeclaration:
    raw = files("meshkit.reference").joinpath("kafka_acls.json").read_text(encoding="utf-8")
    return AclDeclaration.model_validate(json.loads(raw))


def topic(producer: str, prefix: str = "") -> str:
    """The topic ``producer`` publishes to (as ``ServiceSettings.topic``)."""
    return f"{prefix}egov.{producer}"


def consumer_group(service: str) -> str:
    """The consumer group of ``service`` (``ServiceSettings.effective_consumer_group``
    unless ``<PREFIX>_CONSUMER_GROUP`` overrides it; then the ACLs must follow)."""
    return f"svc-{service}"


def readable_topics(service: str, prefix: str = "") -> list[str]:
    return sorted(topic(p, prefix) for p in declaration().principals[service].consumes)


def writable_topics(service: str, prefix: str = "") -> list[str]:
    group = consumer_group(service)
    dlqs = [dlq_topic(t, group) for t in readable_topics(service, prefix)]
    return [topic(service, prefix), *dlqs]


def bindings(services: Iterable[str] | None = None, prefix: str = "") -> list[AclBinding]:
    """Every ALLOW rule of ``services`` (default: all declared), topics under ``prefix``."""
    names = list(services) if services is not None else list(declaration().principals)
    rules: list[AclBinding] = []
    for service in names:
        principal = f"User:{service}"
        for name in writable_topics(service, prefix):
            rules += [AclBinding(principal, "TOPIC", name, op) for op in ("WRITE", "CREATE")]
        rules += [
            AclBinding(principal, "TOPIC", t, "READ") for t in readable_topics(service, prefix)
        ]
        if declaration().principals[service].consumes:
            rules.append(AclBinding(principal, "GROUP", consumer_group(service), "READ"))
    return rules


# --------------------------------------------------------------------------- renderings


def password_variable(service: str) -> str:
    """The environment variable holding ``service``'s Kafka password in deployments."""
    return f"KAFKA_{service.upper()}_PASSWORD"


def render_init_script(prefix: str = "") -> str:
    """A POSIX shell script for the ``apache/kafka`` image that creates every principal's
    SCRAM credential (password from ``KAFKA_<SERVICE>_PASSWORD``) and its ACLs, as the
    admin over SASL PLAIN (``/tmp/admin.properties``, from ``KAFKA_ADMIN_PASSWORD``): the
    admin is declared in the broker's JAAS config, so it exists before any SCRAM user does.
    Idempotent."""
    lines = [
        "#!/bin/sh",
        "# GENERATED by `python -m meshkit.kafka_acls script` from",
        "# shared/meshkit/reference/kafka_acls.json: edit that file, then regenerate.",
        "# Creates each agency's SCRAM-SHA-512 user and its ACLs (re-running is harmless).",
        "set -eu",
        'BIN="${KAFKA_BIN:-/opt/kafka/bin}"',
        'BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"',
        "umask 077",
        "cat > /tmp/admin.properties <<EOF",
        "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanism=PLAIN",
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="admin" password="${KAFKA_ADMIN_PASSWORD:?}";',
        "EOF",
        'ADMIN="--bootstrap-server $BOOTSTRAP --command-config /tmp/admin.properties"',
    ]
    for service, grant in declaration().principals.items():
        var = password_variable(service)
        lines += [
            "",
            f"# --- {service}",
            f'"$BIN/kafka-configs.sh" $ADMIN --alter --entity-type users --entity-name {service} '
            f'--add-config "SCRAM-SHA-512=[password=${{{var}:?}}]"',
        ]
        writes = " ".join(f"--topic {t}" for t in writable_topics(service, prefix))
        lines.append(
            f'"$BIN/kafka-acls.sh" $ADMIN --add --allow-principal User:{service} '
            f"--operation Write --operation Create {writes}"
        )
        if grant.consumes:
            reads = " ".join(f"--topic {t}" for t in readable_topics(service, prefix))
            lines += [
                f"# reads: {'; '.join(f'{p}: {why}' for p, why in sorted(grant.consumes.items()))}",
                f'"$BIN/kafka-acls.sh" $ADMIN --add --allow-principal User:{service} '
                f"--operation Read {reads}",
                f'"$BIN/kafka-acls.sh" $ADMIN --add --allow-principal User:{service} '
                f"--operation Read --group {consumer_group(service)}",
            ]
    lines += ["", "rm -f /tmp/admin.properties", 'echo "Kafka principals and ACLs applied"']
    return "\n".join(lines) + "\n"


def strimzi_users(
    cluster: str = "egov-kafka", namespace: str = "kafka", prefix: str = ""
) -> list[dict[str, Any]]:
    """One Strimzi ``KafkaUser`` per principal (SCRAM-SHA-512, simple authorization).
    The User Operator generates each password into a Secret named as the user."""
    users: list[dict[str, Any]] = []
    for service in declaration().principals:
        operations: dict[tuple[str, str], list[str]] = {}
        for rule in bindings([service], prefix):
            key = (rule.resource_type.lower(), rule.resource_name)
            operations.setdefault(key, []).append(rule.operation.capitalize())
        acls = [
            {
                "resource": {"type": kind, "name": name, "patternType": "literal"},
                "operations": ops,
            }
            for (kind, name), ops in operations.items()
        ]
        users.append(
            {
                "apiVersion": "kafka.strimzi.io/v1beta2",
                "kind": "KafkaUser",
                "metadata": {
                    "name": service,
                    "namespace": namespace,
                    "labels": {"strimzi.io/cluster": cluster},
                },
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {"type": "simple", "acls": acls},
                },
            }
        )
    return users


def render_strimzi_users() -> str:
    """``deploy/k8s/operators/kafka-users.yaml`` (JSON is YAML; one document per user)."""
    header = (
        "# GENERATED by `python -m meshkit.kafka_acls strimzi` from\n"
        "# shared/meshkit/reference/kafka_acls.json: edit that file, then regenerate.\n"
        "# One Strimzi KafkaUser per agency: SCRAM-SHA-512, LITERAL ACLs (see RUNBOOK.md,\n"
        "# Kafka security). The User Operator writes each password into a Secret named as the\n"
        "# user (namespace kafka); copy it to <service>-secrets/KAFKA_SASL_PASSWORD.\n"
    )
    docs = [json.dumps(u, indent=2) for u in strimzi_users()]
    return header + "---\n".join(d + "\n" for d in docs)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    what = args[0] if args else ""
    if what == "script":
        sys.stdout.write(render_init_script())
    elif what == "strimzi":
        sys.stdout.write(render_strimzi_users())
    elif what == "bindings":
        rows = [rule.__dict__ for rule in bindings()]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        print("usage: python -m meshkit.kafka_acls script|strimzi|bindings", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
