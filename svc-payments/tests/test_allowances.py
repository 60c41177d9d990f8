"""POST /allowances: a citizen claims a state allowance for themself (issue 15: no confused
deputy). The recipient is the caller, the amount and budget line are payments' own, the
eligibility is the owner's (identity, registry, through the gateway), and each (kind, subject)
is paid at most once — by a unique constraint, under concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from payments_harness import Payments, new_bin, new_iin, payments_service
from sqlalchemy import func, select

from egov_payments.adapters import orm
from egov_payments.adapters.repository import PayoutRepository
from egov_payments.domain import ledger
from egov_payments.domain.allowances import allowance_table
from meshkit.reference import mrp_tiyn

PROBLEM = "application/problem+json"
PAYOUT_COMPLETED = "kz.egov.payments.payout.completed.v1"
BUDGET = ledger.agency_budget("payments", "213050")


async def claim(
    svc: Payments,
    citizen: str,
    kind: str,
    subject: str,
    *,
    key: str | None = None,
    **extra: Any,
) -> httpx.Response:
    body = {"kind": kind, "subject_iin": subject, **extra}
    hdrs = svc.gw.headers(
        "payments", "POST", "/allowances", client="citizen", user=citizen, json=body
    )
    hdrs["Idempotency-Key"] = key or uuid.uuid4().hex
    return await svc.client.post("/allowances", json=body, headers=hdrs)


async def payouts_count(svc: Payments) -> int:
    return int(await svc.scalar(select(func.count()).select_from(orm.payouts)))


async def payout_postings(svc: Payments) -> int:
    t = orm.ledger_transactions
    return int(await svc.scalar(select(func.count()).select_from(t).where(t.c.kind == "payout")))


def family(svc: Payments) -> tuple[str, str, str]:
    mother, father = new_iin(), new_iin()
    child = svc.owners.person(mother=mother, father=father)
    return mother, father, child


async def test_a_mother_is_paid_38_mrp_for_her_child(svc: Payments) -> None:
    mother, _, child = family(svc)
    before = await svc.balance(BUDGET)
    r = await claim(svc, mother, "childbirth", child, reference="B-2026-0000001")
    assert r.status_code == 201, r.text
    payout = r.json()
    expected = 38 * mrp_tiyn(svc.clock.today())
    assert svc.clock.today().year != 2026 or expected == 38 * 432_500 == 16_435_000
    assert payout["amount_tiyn"] == expected
    assert payout["recipient_iin"] == mother
    assert (payout["agency"], payout["kbk"]) == ("payments", "213050")
    assert (payout["allowance_kind"], payout["subject_iin"]) == ("childbirth", child)
    assert payout["reference"] == "B-2026-0000001" and payout["status"] == "completed"
    # paid from the social benefits budget to the mother, with the event the gateway awaits
    assert before - await svc.balance(BUDGET) == expected
    assert await svc.balance(ledger.party(mother)) == expected
    events = await svc.events(PAYOUT_COMPLETED, payout["id"])
    assert [e["data"]["recipient_iin"] for e in events] == [mother]
    assert events[0]["data"]["amount_tiyn"] == expected
    # identity was asked through the gateway, on the mother's behalf, with the legal basis
    (asked,) = svc.owners.calls
    assert (asked["agency"], asked["path"], asked["user"]) == (
        "identity",
        f"/persons/{child}",
        mother,
    )
    assert "childbirth allowance" in asked["purpose"] and asked["assertion"]
    # the recipient sees it
    r = await svc.as_citizen("GET", f"/payouts/{payout['id']}", mother)
    assert r.status_code == 200 and r.json()["allowance_kind"] == "childbirth"


async def test_a_stranger_or_an_unknown_child_gets_nothing(svc: Payments) -> None:
    _, _, child = family(svc)
    stranger = new_iin()
    entries, balance = await svc.entry_count(), await svc.balance(BUDGET)
    r = await claim(svc, stranger, "childbirth", child)
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("/not-your-child")
    assert r.json()["detail"] == "you can only claim the childbirth allowance for your own child"
    # a random valid IIN identity does not know: the same answer, nothing more revealed
    unknown = new_iin()
    r2 = await claim(svc, stranger, "childbirth", unknown)
    assert r2.status_code == 403 and r2.json()["detail"] == r.json()["detail"]
    # a child without recorded parents, the claimant's own IIN: refused alike
    orphan = svc.owners.person()
    assert (await claim(svc, stranger, "childbirth", orphan)).status_code == 403
    assert (await claim(svc, stranger, "childbirth", stranger)).status_code == 403
    assert await payouts_count(svc) == 0
    assert await svc.entry_count() == entries and await svc.balance(BUDGET) == balance
    assert await svc.events(PAYOUT_COMPLETED) == []


async def test_funeral_allowance_needs_a_registered_death(svc: Payments) -> None:
    relative, living = new_iin(), new_iin()
    svc.owners.person(living)
    entries = await svc.entry_count()
    r = await claim(svc, relative, "funeral", living)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("/death-not-registered")
    assert r.json()["detail"] == f"no death of {living} is registered"
    assert await payouts_count(svc) == 0 and await svc.entry_count() == entries
    (asked,) = svc.owners.calls
    assert (asked["agency"], asked["path"], asked["query"]) == (
        "registry",
        "/deaths",
        {"iin": living},
    )
    assert asked["user"] == relative and "funeral allowance" in asked["purpose"]
    # a claim for one's own funeral is refused before anyone is asked
    r = await claim(svc, relative, "funeral", relative)
    assert r.status_code == 422 and len(svc.owners.calls) == 1

    act = svc.owners.register_death(living, declarant=relative)
    r = await claim(svc, relative, "funeral", living, reference=act)
    assert r.status_code == 201, r.text
    payout = r.json()
    assert payout["amount_tiyn"] == 52 * mrp_tiyn(svc.clock.today())
    assert (payout["recipient_iin"], payout["subject_iin"]) == (relative, living)
    assert (payout["allowance_kind"], payout["reference"]) == ("funeral", act)
    assert len(await svc.events(PAYOUT_COMPLETED, payout["id"])) == 1


async def test_the_funeral_allowance_goes_to_the_family_not_to_a_stranger(svc: Payments) -> None:
    """The attacker's test next to the family's: a registered death is no open purse."""
    stranger, declarant = new_iin(), new_iin()
    deceased = svc.owners.person()
    daughter = svc.owners.person(mother=deceased)
    svc.owners.register_death(deceased, declarant=declarant)
    r = await claim(svc, stranger, "funeral", deceased)
    assert r.status_code == 403 and r.json()["type"].endswith("/not-family")
    assert r.json()["detail"] == (
        "you can only claim the funeral allowance for a death you declared, or of your parent "
        "or child"
    )
    assert await payouts_count(svc) == 0
    r = await claim(svc, daughter, "funeral", deceased)  # a child of the deceased
    assert r.status_code == 201 and r.json()["recipient_iin"] == daughter


async def test_each_allowance_is_paid_once_per_subject(svc: Payments) -> None:
    mother, father, child = family(svc)
    first = await claim(svc, mother, "childbirth", child)
    assert first.status_code == 201
    r = await claim(svc, father, "childbirth", child)
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("/allowance-already-paid")
    assert r.json()["detail"] == (
        f"the childbirth allowance for this child was already paid (payout {first.json()['id']})"
    )
    # the mother again with a new key: the same refusal
    assert (await claim(svc, mother, "childbirth", child)).status_code == 409
    # the funeral allowance: once, whichever of the family claims (the declarant, then a child)
    declarant = new_iin()
    deceased = svc.owners.person()
    son = svc.owners.person(father=deceased)
    svc.owners.register_death(deceased, declarant=declarant)
    assert (await claim(svc, declarant, "funeral", deceased)).status_code == 201
    r = await claim(svc, son, "funeral", deceased)
    assert r.status_code == 409 and "this deceased person" in r.json()["detail"]
    assert await payouts_count(svc) == 2 and await payout_postings(svc) == 2


async def test_the_same_idempotency_key_returns_the_same_payout(svc: Payments) -> None:
    mother, _, child = family(svc)
    first = await claim(svc, mother, "childbirth", child, key="app-1:payout")
    again = await claim(svc, mother, "childbirth", child, key="app-1:payout")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len(svc.owners.calls) == 1  # a replay is answered without asking identity again
    # the same key with another body is a conflict
    r = await claim(svc, mother, "childbirth", child, key="app-1:payout", reference="other")
    assert r.status_code == 409 and r.json()["type"].endswith("/idempotency-key-reused")
    # another citizen's identical key is another scope (and is refused on its own merits)
    assert (await claim(svc, new_iin(), "childbirth", child, key="app-1:payout")).status_code == 403
    assert await payouts_count(svc) == 1


async def test_twenty_concurrent_claims_pay_once(svc: Payments) -> None:
    mother, father, child = family(svc)
    before = await svc.balance(BUDGET)
    claimants = [mother, father] * 10
    answers = await asyncio.gather(*(claim(svc, who, "childbirth", child) for who in claimants))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 19, [r.text for r in answers if r.status_code not in (201, 409)]
    (paid,) = [r.json() for r in answers if r.status_code == 201]
    for r in answers:
        if r.status_code == 409:
            assert r.json()["detail"].endswith(f"(payout {paid['id']})"), r.text
    assert await payouts_count(svc) == 1 and await payout_postings(svc) == 1
    assert before - await svc.balance(BUDGET) == paid["amount_tiyn"]
    assert len(await svc.events(PAYOUT_COMPLETED)) == 1
    assert await svc.ledger_total() == 0


async def test_the_unique_constraint_alone_refuses_a_second_payout(
    svc: Payments, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read before the insert is only for a friendly answer: blind it (as a concurrent
    claim that read before the first committed is), and the database still refuses."""
    mother, father, child = family(svc)
    first = await claim(svc, mother, "childbirth", child)
    assert first.status_code == 201
    real = PayoutRepository.allowance
    blind = [True]

    async def read_once_blind(self: PayoutRepository, kind: str, subject: str) -> Any:
        if blind and blind.pop():
            return None
        return await real(self, kind, subject)

    monkeypatch.setattr(PayoutRepository, "allowance", read_once_blind)
    entries = await svc.entry_count()
    r = await claim(svc, father, "childbirth", child)
    assert not blind  # the blinded read happened
    assert r.status_code == 409 and r.json()["type"].endswith("/allowance-already-paid")
    assert first.json()["id"] in r.json()["detail"]
    assert await payouts_count(svc) == 1 and await svc.entry_count() == entries
    assert len(await svc.events(PAYOUT_COMPLETED)) == 1


async def test_only_the_claimant_is_paid_and_only_a_citizen_claims(svc: Payments) -> None:
    mother, _, child = family(svc)
    # the recipient is never a field
    r = await claim(svc, mother, "childbirth", child, recipient_iin=new_iin())
    assert r.status_code == 422 and "recipient_iin" in r.json()["errors"]
    r = await claim(svc, mother, "childbirth", child, amount_tiyn=1)
    assert r.status_code == 422 and "amount_tiyn" in r.json()["errors"]
    # a bad check digit, an unknown kind
    bad = child[:-1] + str((int(child[-1]) + 1) % 10)
    r = await claim(svc, mother, "childbirth", bad)
    assert r.status_code == 422 and "subject_iin" in r.json()["errors"]
    assert (await claim(svc, mother, "pension", child)).status_code == 422
    # agencies (the gateway included) pay through POST /payouts, never through a citizen's claim
    for agency in ("gateway", "registry"):
        r = await svc.call(
            "POST",
            "/allowances",
            client=agency,
            user=mother,
            json_body={"kind": "childbirth", "subject_iin": child},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert r.status_code == 403 and r.json()["type"].endswith("/citizens-only")
    # an Idempotency-Key is required
    body = {"kind": "childbirth", "subject_iin": child}
    hdrs = svc.gw.headers(
        "payments", "POST", "/allowances", client="citizen", user=mother, json=body
    )
    r = await svc.client.post("/allowances", json=body, headers=hdrs)
    assert r.status_code == 422
    assert await payouts_count(svc) == 0 and svc.owners.calls == []


async def test_an_owner_that_cannot_answer_is_a_503_and_pays_nothing(svc: Payments) -> None:
    mother, _, child = family(svc)
    deceased = new_iin()
    svc.owners.register_death(deceased, declarant=mother)
    svc.owners.down = {"identity", "registry"}
    r = await claim(svc, mother, "childbirth", child, key="k-1")
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    assert r.headers["retry-after"] and "try again" in r.json()["detail"]
    r = await claim(svc, mother, "funeral", deceased, key="k-2")
    assert r.status_code == 503
    assert await payouts_count(svc) == 0
    # back up: the same request (same key) now succeeds
    svc.owners.down = set()
    assert (await claim(svc, mother, "childbirth", child, key="k-1")).status_code == 201
    assert (await claim(svc, mother, "funeral", deceased, key="k-2")).status_code == 201


async def test_an_exhausted_budget_pays_nothing(tmp_path: Path, database_url: str | None) -> None:
    async with payments_service(tmp_path, database_url, seed_budget_tiyn=20_000_000) as svc:
        mother = new_iin()
        first, second = (svc.owners.person(mother=mother) for _ in range(2))
        assert (await claim(svc, mother, "childbirth", first)).status_code == 201
        entries = await svc.entry_count()
        r = await claim(svc, mother, "childbirth", second)
        assert r.status_code == 422 and r.json()["type"].endswith("/insufficient-funds")
        assert await payouts_count(svc) == 1 and await svc.entry_count() == entries
        assert await svc.balance(BUDGET) == 20_000_000 - 38 * mrp_tiyn(svc.clock.today())


def test_the_allowance_table_is_payments_own() -> None:
    # the amounts come from the table: a claim cannot name one, and the table is complete
    table = allowance_table()
    assert table.payer_agency == "payments"
    assert {k: r.mrp for k, r in table.allowances.items()} == {"childbirth": 38, "funeral": 52}
    assert {r.kbk for r in table.allowances.values()} == {"213050"}


# -- GET /invoices?payer= as a citizen --------------------------------------------------------
async def test_a_director_lists_the_duty_of_the_new_llp(svc: Payments) -> None:
    director, llp = new_iin(), new_bin()
    duty = await svc.create_invoice(payer=llp, payer_representative_iin=director)
    other_rep = await svc.create_invoice(payer=llp, payer_representative_iin=new_iin())
    r = await svc.as_citizen("GET", f"/invoices?payer={llp}", director)
    assert r.status_code == 200 and [i["id"] for i in r.json()] == [duty["id"]]
    assert other_rep["id"] not in {i["id"] for i in r.json()}
    # someone else asking for the LLP's invoices sees none of them
    r = await svc.as_citizen("GET", f"/invoices?payer={llp}", new_iin())
    assert r.status_code == 200 and r.json() == []
    # a BIN with nothing yet (the duty is not issued): an empty list, not an error
    r = await svc.as_citizen("GET", f"/invoices?payer={new_bin()}", director)
    assert r.status_code == 200 and r.json() == []


async def test_nobody_reads_a_strangers_fines(svc: Payments) -> None:
    victim, attacker = new_iin(), new_iin()
    fine = await svc.create_invoice(payer=victim, agency="registry")
    r = await svc.as_citizen("GET", f"/invoices?payer={victim}", attacker)
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert r.json()["detail"] == "a citizen sees only their own invoices or those they pay for"
    assert fine["id"] not in r.text
    # the same for a person with no invoices at all (no oracle of who has fines)
    r = await svc.as_citizen("GET", f"/invoices?payer={new_iin()}", attacker)
    assert r.status_code == 403
    # the victim sees their own, with or without naming themself
    for path in ("/invoices", f"/invoices?payer={victim}"):
        r = await svc.as_citizen("GET", path, victim)
        assert r.status_code == 200 and [i["id"] for i in r.json()] == [fine["id"]]
