"""The budget classification payments budgets is one data file it owns
(``shared/meshkit/reference/payments/kbk.json``); ``domain/kbk.py`` and the other agencies read
it, nobody keeps a copy."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from egov_payments.domain import kbk
from egov_payments.domain.allowances import allowance_table
from egov_payments.seed import DEMO_BUDGETS
from meshkit.reference import KbkTable, ReferenceDataError, kbk_table, load_reference


def test_the_named_codes_are_the_data_file() -> None:
    table = kbk_table()
    assert "svc-payments" in table.owner
    assert table.code("licence_fee") == kbk.LICENSE_FEE
    assert table.code("state_duty_notarial_actions") == kbk.STATE_DUTY_NOTARIAL_ACTIONS
    assert (
        table.code("state_duty_legal_entity_registration")
        == kbk.STATE_DUTY_LEGAL_ENTITY_REGISTRATION
    )
    assert table.code("social_benefits") == kbk.SOCIAL_BENEFITS
    assert set(kbk.NAMES) == {line.code for line in table.codes.values()}


def test_every_budgeted_line_and_allowance_is_in_the_table() -> None:
    for _agency, code in DEMO_BUDGETS:
        assert kbk_table().budgeted(code), code
    for rule in allowance_table().allowances.values():
        assert kbk_table().budgeted(rule.kbk)


def test_a_malformed_table_is_refused_with_the_field_named() -> None:
    raw = json.loads(files("meshkit.reference").joinpath("payments/kbk.json").read_text("utf-8"))
    bad = {**raw, "codes": {**raw["codes"], "licence_fee": {"code": "1054", "name": "x"}}}
    with pytest.raises(ReferenceDataError, match=r"kbk\.json.*codes\.licence_fee"):
        load_reference(KbkTable, json.dumps(bad), name="payments/kbk.json")
    twice = {**raw, "codes": {**raw["codes"], "again": {**raw["codes"]["licence_fee"]}}}
    with pytest.raises(ReferenceDataError, match="listed twice"):
        load_reference(KbkTable, json.dumps(twice), name="payments/kbk.json")
    with pytest.raises(LookupError, match="no KBK line"):
        kbk_table().code("no_such_line")
