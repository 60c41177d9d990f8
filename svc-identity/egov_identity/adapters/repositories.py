"""Repositories: the only code that speaks SQL. Rows in, domain objects out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, and_, delete, func, insert, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from egov_identity.adapters import orm
from egov_identity.domain.consents import Consent
from egov_identity.domain.credentials import (
    Credential,
    LoginAttempt,
    OtpChallenge,
    SignatureChallenge,
)
from egov_identity.domain.persons import Person, name_key
from egov_identity.domain.pki import Certificate
from egov_identity.domain.tokens import IssuerKey, OAuthClient, RefreshToken, RefreshTokenFamily


def _dialect_insert(session: AsyncSession, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support for the session's backend."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


# -- persons ---------------------------------------------------------------------------------
_PERSON_COLUMNS = (
    "iin",
    "surname",
    "given_name",
    "patronymic",
    "birth_date",
    "sex",
    "citizenship",
    "birth_place",
    "address",
    "phone",
    "status",
    "date_of_death",
    "death_act_number",
    "mother_iin",
    "father_iin",
    "created_at",
    "updated_at",
)
_PERSON_SELECT = select(*(orm.persons.c[c] for c in _PERSON_COLUMNS))


def _person_row(person: Person) -> dict[str, Any]:
    row = {c: getattr(person, c) for c in _PERSON_COLUMNS}
    row["surname_key"] = name_key(person.surname)
    row["given_key"] = name_key(person.given_name)
    return row


def _person(row: Row[Any], children: list[str]) -> Person:
    data = dict(row._mapping)
    return Person(**data, children_iins=children)


def _children_query(iin: str) -> Any:
    p = orm.persons
    return union_all(
        select(p.c.iin).where(p.c.mother_iin == iin), select(p.c.iin).where(p.c.father_iin == iin)
    )


@dataclass
class PersonSearch:
    iin: str | None = None
    surname: str | None = None
    given_name: str | None = None
    birth_date: date | None = None
    page: int = 1
    size: int = 20


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: dict[str, Person] = {}

    async def get(self, iin: str, *, for_update: bool = False) -> Person | None:
        query = _PERSON_SELECT.where(orm.persons.c.iin == iin)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        children = sorted(set((await self.session.execute(_children_query(iin))).scalars()))
        person = _person(row, children)
        self.seen[iin] = person
        return person

    async def get_many(self, iins: Sequence[str]) -> dict[str, Person]:
        if not iins:
            return {}
        rows = (await self.session.execute(_PERSON_SELECT.where(orm.persons.c.iin.in_(iins)))).all()
        return {r.iin: _person(r, []) for r in rows}

    async def exists(self, iin: str) -> bool:
        found = await self.session.execute(
            select(orm.persons.c.iin).where(orm.persons.c.iin == iin)
        )
        return found.first() is not None

    async def children(self, iin: str) -> list[Person]:
        p = orm.persons
        rows = (
            await self.session.execute(
                _PERSON_SELECT.where(or_(p.c.mother_iin == iin, p.c.father_iin == iin)).order_by(
                    p.c.birth_date
                )
            )
        ).all()
        return [_person(r, []) for r in rows]

    async def add(self, person: Person) -> None:
        await self.session.execute(insert(orm.persons).values(**_person_row(person)))
        self.seen[person.iin] = person

    async def save(self, person: Person) -> None:
        row = _person_row(person)
        row.pop("iin")
        row.pop("created_at")
        await self.session.execute(
            update(orm.persons).where(orm.persons.c.iin == person.iin).values(**row)
        )

    async def search(self, query: PersonSearch) -> tuple[list[Person], int]:
        p = orm.persons
        conditions = []
        if query.iin:
            conditions.append(p.c.iin == query.iin)
        if query.surname:
            conditions.append(p.c.surname_key == name_key(query.surname))
        if query.given_name:
            conditions.append(p.c.given_key.startswith(name_key(query.given_name), autoescape=True))
        if query.birth_date:
            conditions.append(p.c.birth_date == query.birth_date)
        where = and_(*conditions)
        total = (
            await self.session.execute(select(func.count()).select_from(p).where(where))
        ).scalar_one()
        page_query: Select[Any] = (
            _PERSON_SELECT.where(where)
            .order_by(p.c.surname_key, p.c.given_key, p.c.birth_date, p.c.iin)
            .limit(query.size)
            .offset((query.page - 1) * query.size)
        )
        rows = (await self.session.execute(page_query)).all()
        return [_person(r, []) for r in rows], int(total)

    async def next_serial(self, birth_date: date, sex: str) -> int:
        """Take the next IIN serial for (birth date, sex): one atomic upsert, no races."""
        t = orm.iin_serials
        stmt = (
            _dialect_insert(self.session, t)
            .values(birth_date=birth_date, sex=sex, next_serial=1)
            .on_conflict_do_update(
                index_elements=[t.c.birth_date, t.c.sex],
                set_={"next_serial": t.c.next_serial + 1},
            )
            .returning(t.c.next_serial)
        )
        taken = (await self.session.execute(stmt)).scalar_one()
        return int(taken) - 1

    # -- idempotency of POST /persons --------------------------------------------------------
    async def remembered_request(self, client: str, key: str) -> tuple[str, str] | None:
        t = orm.person_requests
        row = (
            await self.session.execute(
                select(t.c.request_digest, t.c.iin).where(
                    t.c.client == client, t.c.idempotency_key == key
                )
            )
        ).first()
        return (row.request_digest, row.iin) if row else None

    async def remember_request(
        self, client: str, key: str, digest: str, iin: str, now: datetime
    ) -> None:
        await self.session.execute(
            insert(orm.person_requests).values(
                client=client, idempotency_key=key, request_digest=digest, iin=iin, created_at=now
            )
        )

    # -- disclosures ("who holds which of my data") -----------------------------------------
    async def record_disclosures(self, rows: list[dict[str, Any]]) -> None:
        """One batched upsert (executemany) for a whole flush of the disclosure log."""
        if not rows:
            return
        t = orm.disclosures
        stmt = _dialect_insert(self.session, t)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.iin, t.c.agency, t.c.category],
            set_={
                "last_at": stmt.excluded.last_at,
                "times": t.c.times + stmt.excluded.times,
                "last_purpose": func.coalesce(stmt.excluded.last_purpose, t.c.last_purpose),
            },
        )
        await self.session.execute(stmt, rows)

    async def disclosures(self, iin: str) -> list[dict[str, Any]]:
        t = orm.disclosures
        rows = await self.session.execute(
            select(t).where(t.c.iin == iin).order_by(t.c.agency, t.c.category)
        )
        return [dict(r._mapping) for r in rows]


# -- login -----------------------------------------------------------------------------------
def _credential_of(row: Mapping[Any, Any]) -> Credential:
    values = dict(row)
    values["roles"] = frozenset((values.get("roles") or "").split())
    return Credential(**values)


def _credential_row(credential: Credential) -> dict[str, Any]:
    values = dict(credential.__dict__)
    values["roles"] = " ".join(sorted(credential.roles))
    return values


class CredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, iin: str, *, for_update: bool = False) -> Credential | None:
        query = select(orm.credentials).where(orm.credentials.c.iin == iin)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return _credential_of(row._mapping) if row else None

    async def add(self, credential: Credential) -> None:
        await self.session.execute(insert(orm.credentials).values(**_credential_row(credential)))

    async def save(self, credential: Credential) -> None:
        values = _credential_row(credential)
        values.pop("iin")
        await self.session.execute(
            update(orm.credentials).where(orm.credentials.c.iin == credential.iin).values(**values)
        )

    async def operators(self) -> list[Credential]:
        """Every person who signs in as an operator, by IIN."""
        t = orm.credentials
        rows = await self.session.execute(select(t).where(t.c.role == "operator").order_by(t.c.iin))
        return [_credential_of(r._mapping) for r in rows]

    async def record_attempt(self, attempt: LoginAttempt) -> None:
        await self.session.execute(insert(orm.login_attempts).values(**attempt.__dict__))

    async def attempts(self, iin: str, limit: int = 20) -> list[LoginAttempt]:
        t = orm.login_attempts
        rows = await self.session.execute(
            select(t.c.iin, t.c.method, t.c.succeeded, t.c.reason, t.c.at)
            .where(t.c.iin == iin)
            .order_by(t.c.id.desc())
            .limit(limit)
        )
        return [LoginAttempt(**r._mapping) for r in rows]

    # one-time codes
    async def add_otp(self, challenge: OtpChallenge) -> None:
        await self.session.execute(insert(orm.otp_challenges).values(**challenge.__dict__))

    async def get_otp(self, challenge_id: str) -> OtpChallenge | None:
        t = orm.otp_challenges
        row = (await self.session.execute(select(t).where(t.c.id == challenge_id))).first()
        return OtpChallenge(**row._mapping) if row else None

    async def save_otp(self, challenge: OtpChallenge) -> None:
        t = orm.otp_challenges
        await self.session.execute(
            update(t)
            .where(t.c.id == challenge.id)
            .values(attempts=challenge.attempts, used_at=challenge.used_at)
        )

    async def otps_sent_since(self, iin: str, since: datetime) -> int:
        t = orm.otp_challenges
        count = await self.session.execute(
            select(func.count()).select_from(t).where(t.c.iin == iin, t.c.created_at >= since)
        )
        return int(count.scalar_one())

    # signature challenges
    async def add_signature_challenge(self, challenge: SignatureChallenge) -> None:
        await self.session.execute(insert(orm.signature_challenges).values(**challenge.__dict__))

    async def get_signature_challenge(self, challenge_id: str) -> SignatureChallenge | None:
        t = orm.signature_challenges
        row = (await self.session.execute(select(t).where(t.c.id == challenge_id))).first()
        return SignatureChallenge(**row._mapping) if row else None

    async def save_signature_challenge(self, challenge: SignatureChallenge) -> None:
        t = orm.signature_challenges
        await self.session.execute(
            update(t).where(t.c.id == challenge.id).values(used_at=challenge.used_at)
        )


class SmsOutbox:
    """Texts to registered phones, written in the same transaction as the code they carry.

    A text is *claimed* (``sent_at`` set) before it goes to the provider, so two senders
    never send it twice; a failed delivery clears the claim and counts an attempt, and a
    text given up on keeps ``failed_at`` and the error."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, phone: str, text: str, purpose: str, now: datetime) -> int:
        result = await self.session.execute(
            insert(orm.sms_outbox)
            .values(phone=phone, text=text, purpose=purpose, created_at=now, attempts=0)
            .returning(orm.sms_outbox.c.id)
        )
        return int(result.scalar_one())

    async def for_phone(self, phone: str, limit: int = 10) -> list[dict[str, Any]]:
        t = orm.sms_outbox
        rows = await self.session.execute(
            select(t.c.id, t.c.phone, t.c.text, t.c.purpose, t.c.created_at, t.c.sent_at)
            .where(t.c.phone == phone)
            .order_by(t.c.id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]

    async def first_since(self, phone: str, purpose: str, since: datetime) -> dict[str, Any] | None:
        """The first text of a purpose to a phone written at or after ``since`` (the one a
        challenge created at ``since`` sent, being written in the same transaction)."""
        t = orm.sms_outbox
        row = (
            await self.session.execute(
                select(t.c.id, t.c.phone, t.c.text, t.c.purpose, t.c.created_at, t.c.sent_at)
                .where(t.c.phone == phone, t.c.purpose == purpose, t.c.created_at >= since)
                .order_by(t.c.id)
                .limit(1)
            )
        ).first()
        return dict(row._mapping) if row else None

    async def get(self, sms_id: int) -> dict[str, Any] | None:
        t = orm.sms_outbox
        row = (
            await self.session.execute(
                select(t.c.id, t.c.phone, t.c.text, t.c.purpose, t.c.sent_at, t.c.attempts).where(
                    t.c.id == sms_id
                )
            )
        ).first()
        return dict(row._mapping) if row else None

    async def unsent(
        self, limit: int = 100, *, except_purposes: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        t = orm.sms_outbox
        query = select(t.c.id, t.c.phone, t.c.text, t.c.purpose, t.c.attempts).where(
            t.c.sent_at.is_(None), t.c.failed_at.is_(None)
        )
        if except_purposes:
            query = query.where(t.c.purpose.not_in(except_purposes))
        rows = await self.session.execute(query.order_by(t.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def claim(self, sms_id: int, now: datetime) -> bool:
        """Take a text for sending; False when someone else took it (or it was given up)."""
        t = orm.sms_outbox
        result = await self.session.execute(
            update(t)
            .where(t.c.id == sms_id, t.c.sent_at.is_(None), t.c.failed_at.is_(None))
            .values(sent_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_sent(self, ids: list[int], now: datetime) -> None:
        t = orm.sms_outbox
        await self.session.execute(update(t).where(t.c.id.in_(ids)).values(sent_at=now))

    async def failed(self, sms_id: int, error: str, now: datetime, *, give_up: bool) -> None:
        """A delivery failed: release the claim, count the attempt, maybe give up."""
        t = orm.sms_outbox
        await self.session.execute(
            update(t)
            .where(t.c.id == sms_id)
            .values(
                sent_at=None,
                attempts=t.c.attempts + 1,
                error=error[:200],
                failed_at=now if give_up else None,
            )
        )


# -- tokens ----------------------------------------------------------------------------------
class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_family(self, family: RefreshTokenFamily) -> None:
        await self.session.execute(insert(orm.token_families).values(**family.__dict__))

    async def get_family(
        self, family_id: str, *, for_update: bool = False
    ) -> RefreshTokenFamily | None:
        t = orm.token_families
        query = select(t).where(t.c.id == family_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return RefreshTokenFamily(**row._mapping) if row else None

    async def families_of(self, subject: str) -> list[RefreshTokenFamily]:
        t = orm.token_families
        rows = await self.session.execute(
            select(t).where(t.c.subject == subject, t.c.revoked_at.is_(None))
        )
        return [RefreshTokenFamily(**r._mapping) for r in rows]

    async def save_family(self, family: RefreshTokenFamily) -> None:
        t = orm.token_families
        await self.session.execute(
            update(t)
            .where(t.c.id == family.id)
            .values(
                generation=family.generation,
                revoked_at=family.revoked_at,
                revoked_reason=family.revoked_reason,
            )
        )

    async def add_token(self, token: RefreshToken) -> None:
        await self.session.execute(insert(orm.refresh_tokens).values(**token.__dict__))

    async def get_token(self, digest: str) -> RefreshToken | None:
        t = orm.refresh_tokens
        row = (await self.session.execute(select(t).where(t.c.digest == digest))).first()
        return RefreshToken(**row._mapping) if row else None

    async def mark_used(self, token: RefreshToken) -> bool:
        """Conditional update: of two concurrent exchanges only one wins (the other is reuse)."""
        t = orm.refresh_tokens
        result = await self.session.execute(
            update(t)
            .where(t.c.digest == token.digest, t.c.used_at.is_(None))
            .values(used_at=token.used_at)
        )
        return cast(int, getattr(result, "rowcount", 0)) == 1

    # agency clients
    async def get_client(self, client_id: str) -> OAuthClient | None:
        t = orm.oauth_clients
        row = (await self.session.execute(select(t).where(t.c.client_id == client_id))).first()
        if row is None:
            return None
        data = dict(row._mapping)
        data["scopes"] = data["scopes"].split()
        return OAuthClient(**data)

    async def put_client(self, client: OAuthClient) -> None:
        t = orm.oauth_clients
        values = dict(client.__dict__)
        values["scopes"] = " ".join(client.scopes)
        existing = await self.get_client(client.client_id)
        if existing is None:
            await self.session.execute(insert(t).values(**values))
        else:
            values.pop("client_id")
            values.pop("created_at")
            await self.session.execute(
                update(t).where(t.c.client_id == client.client_id).values(**values)
            )

    async def use_assertion_jti(
        self, client_id: str, jti: str, expires_at: datetime, now: datetime
    ) -> bool:
        """Record a client assertion's jti; False when it was already used (a replay)."""
        t = orm.client_assertions
        await self.session.execute(delete(t).where(t.c.expires_at < now))
        stmt = (
            _dialect_insert(self.session, t)
            .values(client_id=client_id, jti=jti, expires_at=expires_at)
            .on_conflict_do_nothing()
        )
        result = await self.session.execute(stmt)
        return cast(int, getattr(result, "rowcount", 0)) == 1

    # issuer keys
    async def issuer_keys(self) -> list[IssuerKey]:
        t = orm.issuer_keys
        rows = await self.session.execute(select(t).order_by(t.c.created_at.desc()))
        return [IssuerKey(**r._mapping) for r in rows]

    async def add_issuer_key(self, key: IssuerKey) -> bool:
        t = orm.issuer_keys
        values = dict(key.__dict__)
        values.pop("meta")
        stmt = _dialect_insert(self.session, t).values(**values).on_conflict_do_nothing()
        result = await self.session.execute(stmt)
        return cast(int, getattr(result, "rowcount", 0)) == 1

    async def save_issuer_key(self, key: IssuerKey) -> None:
        t = orm.issuer_keys
        await self.session.execute(
            update(t)
            .where(t.c.kid == key.kid)
            .values(
                retired_at=key.retired_at, private_pem=key.private_pem, revoked_at=key.revoked_at
            )
        )


# -- national CA -----------------------------------------------------------------------------
class CertificateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def root_pem(self, fingerprint: str) -> str | None:
        t = orm.ca_roots
        found = await self.session.execute(
            select(t.c.certificate_pem).where(t.c.key_fingerprint == fingerprint)
        )
        return found.scalar_one_or_none()

    async def add_root(self, fingerprint: str, pem: str, now: datetime) -> None:
        stmt = (
            _dialect_insert(self.session, orm.ca_roots)
            .values(key_fingerprint=fingerprint, certificate_pem=pem, created_at=now)
            .on_conflict_do_nothing()
        )
        await self.session.execute(stmt)

    async def add(self, cert: Certificate) -> None:
        values = dict(cert.__dict__)
        values.pop("events")
        await self.session.execute(insert(orm.certificates).values(**values))

    async def get(self, serial: str) -> Certificate | None:
        t = orm.certificates
        row = (await self.session.execute(select(t).where(t.c.serial == serial))).first()
        return Certificate(**row._mapping) if row else None

    async def of_holder(self, holder: str) -> list[Certificate]:
        t = orm.certificates
        rows = await self.session.execute(
            select(t).where(t.c.holder == holder).order_by(t.c.issued_at)
        )
        return [Certificate(**r._mapping) for r in rows]

    async def save(self, cert: Certificate) -> None:
        t = orm.certificates
        await self.session.execute(
            update(t)
            .where(t.c.serial == cert.serial)
            .values(
                status=cert.status,
                revoked_at=cert.revoked_at,
                revocation_reason=cert.revocation_reason,
            )
        )


# -- consents --------------------------------------------------------------------------------
def _consent(row: Row[Any]) -> Consent:
    data = dict(row._mapping)
    data["categories"] = list(data["categories"])
    return Consent(**data)


class ConsentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, consent: Consent) -> None:
        values = dict(consent.__dict__)
        values.pop("events")
        await self.session.execute(insert(orm.consents).values(**values))

    async def get(self, consent_id: str) -> Consent | None:
        t = orm.consents
        row = (await self.session.execute(select(t).where(t.c.id == consent_id))).first()
        return _consent(row) if row else None

    async def save(self, consent: Consent) -> None:
        t = orm.consents
        await self.session.execute(
            update(t).where(t.c.id == consent.id).values(revoked_at=consent.revoked_at)
        )

    async def list(
        self, *, iin: str | None = None, agency: str | None = None, limit: int = 200
    ) -> list[Consent]:
        t = orm.consents
        query = select(t).order_by(t.c.granted_at.desc()).limit(limit)
        if iin:
            query = query.where(t.c.iin == iin)
        if agency:
            query = query.where(t.c.agency == agency)
        return [_consent(r) for r in await self.session.execute(query)]
