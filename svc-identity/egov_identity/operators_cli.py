"""``python -m egov_identity operators …``: the console way to manage operators' roles, for
the first identity admin of a deployment (no operator exists yet to grant the role) without
any static token. It needs what the service needs — its settings and database — so only
whoever may run the service's image against its database can use it (``kubectl exec``,
``docker compose exec``). A change is logged as ``admin.operator_roles_changed`` by
``console:<OS user>`` and ends the person's sessions like the admin API does (the running
service relays the ``session.revoked`` event from the outbox).

    python -m egov_identity operators list
    python -m egov_identity operators grant <IIN> identity-admin register-admin auditor
    python -m egov_identity operators revoke <IIN>        # no roles: a citizen again
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Sequence
from datetime import UTC, datetime

from egov_identity.service_layer import operators
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from egov_identity.settings import IdentitySettings
from meshkit.auth.roles import OPERATOR_ROLES
from meshkit.db import create_engine, session_factory
from meshkit.errors import DomainError
from meshkit.messaging.uow import UnitOfWorkFactory


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m egov_identity operators",
        description="Operators and their roles: "
        + "; ".join(f"{k}: {v}" for k, v in OPERATOR_ROLES.items()),
    )
    p.add_argument("--database-url", default=None, help="default: the service's settings")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every operator with roles")
    grant = sub.add_parser("grant", help="give a person exactly these roles")
    grant.add_argument("iin")
    grant.add_argument("roles", nargs="+", choices=sorted(OPERATOR_ROLES))
    revoke = sub.add_parser("revoke", help="take every role: a citizen again")
    revoke.add_argument("iin")
    return p


async def run(args: argparse.Namespace, settings: IdentitySettings) -> list[str]:
    engine = create_engine(args.database_url or settings.effective_database_url)
    factory = UnitOfWorkFactory(
        session_factory(engine),
        source=settings.source,
        topic=settings.own_topic,
        uow_class=IdentityUnitOfWork,
    )

    def new_uow() -> IdentityUnitOfWork:
        uow = factory()
        assert isinstance(uow, IdentityUnitOfWork)
        return uow

    try:
        if args.command == "list":
            views = await operators.list_operators(new_uow)
        else:
            roles = args.roles if args.command == "grant" else []
            actor = operators.AdminActor(f"console:{getpass.getuser()}")
            views = [
                await operators.set_roles(new_uow, args.iin, roles, by=actor, now=datetime.now(UTC))
            ]
    finally:
        await engine.dispose()
    return [
        f"{v.iin}  {' '.join(v.roles) or '(citizen)'}"
        + ("" if v.has_password else "  (no password yet: POST /auth/password/request)")
        + (f"  ({v.sessions_revoked} sessions ended)" if v.sessions_revoked else "")
        for v in views
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        lines = asyncio.run(run(args, IdentitySettings()))
    except DomainError as exc:
        print(f"refused: {exc}")
        return 1
    print("\n".join(lines) if lines else "no operators")
    return 0
