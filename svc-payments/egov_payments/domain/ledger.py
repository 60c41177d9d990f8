"""The double-entry ledger: accounts, entries, postings, and the rules they obey.

Every movement of money is a *posting*: at least two entries whose signed amounts sum to
zero. An account's balance is the sum of its entries; a positive balance means the account
holds money (an agency's budget account) and a negative one that money left it (the
treasury that allocates budgets, a payer who paid). Posted entries are never changed:
a correction is a new posting.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, Literal

from meshkit.errors import RuleViolation

TREASURY: Final = "treasury"
ACQUIRER_CLEARING: Final = "acquirer_clearing"
REFUNDS: Final = "refunds"

PostingKind = Literal[
    "budget_allocation",  # treasury → agency budget
    "payment",  # payer → acquirer clearing (the acquirer captured the payer's money)
    "settlement",  # acquirer clearing → agency budget (the invoice's KBK)
    "refund_reservation",  # agency budget → refunds payable (a refund was requested)
    "refund",  # refunds payable → payer (the acquirer returned the money)
    "refund_reversal",  # refunds payable → agency budget (the acquirer refused the refund)
    "payout",  # agency budget → citizen
]


def agency_budget(agency: str, kbk: str) -> str:
    return f"agency_budget:{agency}:{kbk}"


def party(iin_or_bin: str) -> str:
    """The clearing account of an outside party (a payer, or a payout's recipient)."""
    return f"payer:{iin_or_bin}"


def must_stay_non_negative(account: str) -> bool:
    """Budget accounts and refunds payable hold real money: they can never be overdrawn."""
    return account.startswith("agency_budget:") or account == REFUNDS


class InsufficientFunds(RuleViolation):
    def __init__(self, account: str, balance: int, needed: int) -> None:
        super().__init__(
            f"{account} holds {balance} tiyn; {needed} tiyn are needed",
            errors={"amount_tiyn": f"exceeds the balance of {account} ({balance} tiyn)"},
            code="insufficient-funds",
        )
        self.account = account


class UnbalancedPosting(ValueError):
    """A programming error: postings are built by this module's functions only."""


@dataclass(frozen=True)
class Entry:
    account: str
    amount_tiyn: int  # signed: + into the account, - out of it


@dataclass(frozen=True)
class Posting:
    kind: PostingKind
    reference: str  # unique per kind: one posting per payment, refund, payout …
    entries: tuple[Entry, ...]
    created_at: datetime
    business_date: date
    description: str = ""
    agency: str | None = None
    kbk: str | None = None
    invoice_id: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if len(self.entries) < 2:
            raise UnbalancedPosting("a posting has at least two entries")
        if sum(e.amount_tiyn for e in self.entries) != 0:
            raise UnbalancedPosting(f"entries of {self.kind} {self.reference} do not sum to 0")
        if any(e.amount_tiyn == 0 for e in self.entries):
            raise UnbalancedPosting("an entry moves a non-zero amount")

    @property
    def accounts(self) -> list[str]:
        return sorted({e.account for e in self.entries})

    def deltas(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for e in self.entries:
            out[e.account] += e.amount_tiyn
        return dict(out)

    def check_funds(self, balances: Mapping[str, int]) -> None:
        """Refuse the posting if it would overdraw an account that must stay non-negative."""
        for account, delta in sorted(self.deltas().items()):
            before = balances.get(account, 0)
            if must_stay_non_negative(account) and before + delta < 0:
                raise InsufficientFunds(account, before, -delta)


def transfer(
    kind: PostingKind,
    reference: str,
    *,
    source: str,
    destination: str,
    amount_tiyn: int,
    at: datetime,
    business_date: date,
    description: str = "",
    agency: str | None = None,
    kbk: str | None = None,
    invoice_id: str | None = None,
) -> Posting:
    """The common two-entry posting: ``amount`` leaves ``source`` and enters ``destination``."""
    if amount_tiyn <= 0:
        raise RuleViolation("an amount must be positive", errors={"amount_tiyn": "must be > 0"})
    return Posting(
        kind=kind,
        reference=reference,
        entries=(Entry(source, -amount_tiyn), Entry(destination, amount_tiyn)),
        created_at=at,
        business_date=business_date,
        description=description,
        agency=agency,
        kbk=kbk,
        invoice_id=invoice_id,
    )


def is_balanced(entries: Iterable[Entry]) -> bool:
    return sum(e.amount_tiyn for e in entries) == 0
