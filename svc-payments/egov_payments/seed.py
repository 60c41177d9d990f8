"""Dev seed: fund demo budget accounts from the treasury so demo payouts and refunds work."""

from __future__ import annotations

from egov_payments.domain.allowances import allowance_table
from egov_payments.domain.kbk import (
    LICENSE_FEE,
    STATE_DUTY_LEGAL_ENTITY_REGISTRATION,
    STATE_DUTY_NOTARIAL_ACTIONS,
)
from egov_payments.service_layer import services
from meshkit.clock import BusinessClock

# (agency, KBK): the payer of the state allowances (payments itself, social benefits line, as
# its allowance table says; citizens claim them with POST /allowances); the others can refund
# the duties they collect. The gateway has no budget: it pays nothing on anyone's behalf.
DEMO_BUDGETS: tuple[tuple[str, str], ...] = (
    *sorted(
        {(allowance_table().payer_agency, r.kbk) for r in allowance_table().allowances.values()}
    ),
    ("registry", STATE_DUTY_LEGAL_ENTITY_REGISTRATION),
    ("licensing", LICENSE_FEE),
    ("notary", STATE_DUTY_NOTARIAL_ACTIONS),
)


async def seed_budgets(uows: services.UowFactory, clock: BusinessClock, amount_tiyn: int) -> int:
    """Idempotent: one allocation per (agency, KBK, year)."""
    year = clock.today().year
    posted = 0
    for agency, kbk in DEMO_BUDGETS:
        if await services.allocate_budget(
            uows,
            agency=agency,
            kbk=kbk,
            amount_tiyn=amount_tiyn,
            reference=f"dev-seed:{agency}:{kbk}:{year}",
            clock=clock,
        ):
            posted += 1
    return posted
