"""Notarial fees use the one MRP table (meshkit.reference.mrp_tiyn) and are billed on the KBK
payments budgets for notarial duties; an operator's override stays possible but is not the
default."""

from __future__ import annotations

from datetime import UTC, datetime

from egov_notary.api.deps import fees
from egov_notary.settings import NotarySettings
from meshkit.calendar import local_date
from meshkit.reference import kbk, kbk_table, mrp_tiyn


def test_notarial_fees_use_the_reference_mrp_and_payments_kbk() -> None:
    s = NotarySettings()
    assert s.mrp_tiyn is None  # no copy of the MRP in settings
    policy = fees(s)
    assert policy.mrp_tiyn == mrp_tiyn(local_date(datetime.now(UTC)))
    assert policy.kbk == kbk("state_duty_notarial_actions")
    assert kbk_table().budgeted(policy.kbk)


def test_an_operator_override_is_still_honoured() -> None:
    policy = fees(NotarySettings(mrp_tiyn=400_000, fee_kbk="108111"))
    assert (policy.mrp_tiyn, policy.kbk) == (400_000, "108111")
