"""Dev-mode data: OAuth clients of the mesh's services, demo citizens and an operator.

Idempotent and fast: rows are written only when missing, and the password hashes (one the
demo citizens share, one of the demo administrator) are computed only when some account
lacks one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime

import structlog

from egov_identity.domain.credentials import Credential, PasswordHasher
from egov_identity.domain.persons import Person, PersonDetails
from egov_identity.domain.tokens import OAuthClient, token_digest
from egov_identity.service_layer.unit_of_work import IdentityUnitOfWork
from egov_identity.settings import IdentitySettings
from meshkit.auth.roles import AUDITOR, CENTRE_OPERATOR, IDENTITY_ADMIN, REGISTER_ADMIN
from meshkit.devsecrets import dev_secret

log = structlog.get_logger("identity.seed")

#: scopes each service's client may ask for (informational for the gateway's ACL)
CLIENT_SCOPES: dict[str, list[str]] = {
    # the single window acts for citizens on their own mandate, not with these scopes
    "gateway": ["mesh:route", "notifications:send"],
    "identity": ["persons:read", "ca:certify"],
    "registry": ["persons:read", "persons:write", "persons:search", "ca:certify"],
    "licensing": ["persons:read", "consents:check", "ca:certify"],
    "payments": ["persons:read", "consents:check", "ca:certify"],
    "notary": ["persons:read", "persons:search", "consents:check", "ca:certify"],
}


@dataclass(frozen=True)
class DemoPerson:
    iin: str
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: date
    sex: str
    phone: str
    address: str
    mother_iin: str | None = None
    father_iin: str | None = None
    role: str = "citizen"
    #: an operator's roles (meshkit.auth.roles)
    roles: frozenset[str] = frozenset()
    #: the dev secret holding the password (every demo citizen shares one)
    password_secret: str = "demo-citizen-password"


#: the demo mesh administrator (roles register-admin, identity-admin, auditor); its password
#: is ``dev_secret("demo-operator-password")`` in ``<data dir>/dev-secrets.json``
DEMO_ADMIN_IIN = "820312308607"
DEMO_ADMIN_PHONE = "+77011234574"
DEMO_ADMIN_PASSWORD_SECRET = "demo-operator-password"

_ALMATY = "Алматы қ., Абай даңғылы"
_ASTANA = "Астана қ., Қабанбай батыр даңғылы"
DEMO_PERSONS: tuple[DemoPerson, ...] = (
    DemoPerson(
        "900115300122",
        "Сәрсенбаев",
        "Әлихан",
        "Нұрланұлы",
        date(1990, 1, 15),
        "male",
        "+77011234567",
        f"{_ALMATY}, 15, 42 п.",
    ),
    DemoPerson(
        "920308400210",
        "Сәрсенбаева",
        "Гүлнұр",
        "Серікқызы",
        date(1992, 3, 8),
        "female",
        "+77021234568",
        f"{_ALMATY}, 15, 42 п.",
    ),
    DemoPerson(
        "190601500314",
        "Сәрсенбаев",
        "Нұрсұлтан",
        "Әлиханұлы",
        date(2019, 6, 1),
        "male",
        "+77011234567",
        f"{_ALMATY}, 15, 42 п.",
        mother_iin="920308400210",
        father_iin="900115300122",
    ),
    DemoPerson(
        "851123300454",
        "Қайратов",
        "Ерғали",
        "Болатұлы",
        date(1985, 11, 23),
        "male",
        "+77051234569",
        f"{_ASTANA}, 7, 118 п.",
    ),
    DemoPerson(
        "780430400520",
        "Өмірзақова",
        "Іңкәр",
        "Шаһмарданқызы",
        date(1978, 4, 30),
        "female",
        "+77071234570",
        "Шымкент қ., Тәуке хан даңғылы, 3",
    ),
    DemoPerson(
        "010917600630",
        "Ұлықбекова",
        "Үміт",
        "Ғалымқызы",
        date(2001, 9, 17),
        "female",
        "+77081234571",
        "Қарағанды қ., Бұқар жырау даңғылы, 21",
    ),
    DemoPerson(
        "680211300740",
        "Жаһанов",
        "Ғалым",
        "Өтегенұлы",
        date(1968, 2, 11),
        "male",
        "+77751234572",
        "Ақтөбе қ., Әбілқайыр хан даңғылы, 9",
    ),
    # an operator of the public service centre (kind "operator" tokens) who also reads the
    # audit log (as every operator could before roles)
    DemoPerson(
        "880707300858",
        "Тұрсынов",
        "Бауыржан",
        "Қанатұлы",
        date(1988, 7, 7),
        "male",
        "+77471234573",
        f"{_ASTANA}, 12, 5 п.",
        role="operator",
        roles=frozenset({CENTRE_OPERATOR, AUDITOR}),
    ),
    # the mesh's administrator: the register, identity's admin API and the audit log with
    # one sign-in (deploy/RUNBOOK.md, "Operator credentials"); its own dev password
    DemoPerson(
        DEMO_ADMIN_IIN,
        "Әкімшіұлы",
        "Ерлан",
        "Серікұлы",
        date(1982, 3, 12),
        "male",
        DEMO_ADMIN_PHONE,
        f"{_ASTANA}, 1, 1 п.",
        role="operator",
        roles=frozenset({REGISTER_ADMIN, IDENTITY_ADMIN, AUDITOR}),
        password_secret=DEMO_ADMIN_PASSWORD_SECRET,
    ),
)


async def seed_clients(uow: IdentityUnitOfWork, settings: IdentitySettings) -> int:
    written = 0
    for code, scopes in CLIENT_SCOPES.items():
        digest = token_digest(dev_secret(f"client:{code}", settings.data_dir))
        existing = await uow.tokens.get_client(code)
        if existing and existing.secret_digest == digest and existing.scopes == scopes:
            continue
        await uow.tokens.put_client(
            OAuthClient(
                client_id=code,
                agency_code=code,
                scopes=scopes,
                secret_digest=digest,
                jwks=existing.jwks if existing else None,
                created_at=existing.created_at if existing else _now(),
            )
        )
        written += 1
    return written


def _now() -> datetime:
    return datetime.now(UTC)


async def seed_people(
    uow: IdentityUnitOfWork, settings: IdentitySettings, hasher: PasswordHasher
) -> int:
    now = _now()
    present = await uow.persons.get_many([p.iin for p in DEMO_PERSONS])
    password_hashes: dict[str, str] = {}  # dev secret → its hash, computed once
    written = 0
    for demo in DEMO_PERSONS:  # parents come before children in the list
        if demo.iin not in present:
            details = PersonDetails(
                surname=demo.surname,
                given_name=demo.given_name,
                patronymic=demo.patronymic,
                birth_date=demo.birth_date,
                sex=demo.sex,
                address=demo.address,
                phone=demo.phone,
                birth_place="Қазақстан",
                mother_iin=demo.mother_iin,
                father_iin=demo.father_iin,
            )
            person = Person.register(demo.iin, details, now=now)
            person.events.clear()  # demo data is not news for the mesh
            await uow.persons.add(person)
            written += 1
        if await uow.credentials.get(demo.iin) is None:
            if demo.password_secret not in password_hashes:
                password = dev_secret(demo.password_secret, settings.data_dir)
                password_hashes[demo.password_secret] = await asyncio.to_thread(
                    hasher.hash, password
                )
            await uow.credentials.add(
                Credential(
                    iin=demo.iin,
                    role=demo.role,  # type: ignore[arg-type]
                    password_hash=password_hashes[demo.password_secret],
                    password_changed_at=now,
                    roles=demo.roles,
                )
            )
            written += 1
    return written


async def seed(uow: IdentityUnitOfWork, settings: IdentitySettings, hasher: PasswordHasher) -> None:
    # the dev admin token is written to dev-secrets.json at start, not on the first admin
    # call, so an operator (docs/integrating-an-agency.md) finds it before calling
    _ = settings.effective_admin_token  # reading it in dev mode writes it
    async with uow:
        clients = await seed_clients(uow, settings)
        people = await seed_people(uow, settings, hasher)
        await uow.commit()
    if clients or people:
        log.info("seed.done", clients=clients, rows=people)
