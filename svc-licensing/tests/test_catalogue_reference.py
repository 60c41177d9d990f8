"""The licence catalogue is licensing's data file, read through meshkit.reference: fees in
MRP of the day (the one MRP table), the KBK the one payments budgets for licence fees."""

from __future__ import annotations

import json
from datetime import date
from importlib.resources import files

import pytest

from egov_licensing.domain.catalogue import CATALOGUE, LICENSE_FEE_KBK, catalogue, fee_tiyn, priced
from meshkit.reference import (
    LicenceCatalogue,
    ReferenceDataError,
    kbk_table,
    licence_catalogue,
    load_reference,
    mrp_tiyn,
)


def _raw() -> dict[str, object]:
    text = files("meshkit.reference").joinpath("licensing/licence_types.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def test_the_catalogue_is_the_data_file() -> None:
    records = licence_catalogue().types
    assert [t.code for t in CATALOGUE] == [r.code for r in records]
    assert licence_catalogue().owner.startswith("svc-licensing")


def test_licence_fees_use_the_one_mrp_table() -> None:
    for day in (date(2025, 6, 1), date(2026, 3, 20)):
        for t in catalogue(day):
            assert t.state_duty_tiyn == licence_catalogue().get(t.code).fee_mrp * mrp_tiyn(day)
            assert fee_tiyn(t.code, day) == t.state_duty_tiyn
    assert fee_tiyn("PHARMACY", date(2026, 3, 20)) == 10 * mrp_tiyn(date(2026, 3, 20))


def test_licence_fees_are_billed_on_a_kbk_payments_budgets() -> None:
    assert kbk_table().code("licence_fee") == LICENSE_FEE_KBK
    for t in CATALOGUE:
        assert kbk_table().budgeted(t.kbk), t.code
    assert {t.kbk for t in CATALOGUE} == {LICENSE_FEE_KBK}


def test_a_stored_type_is_billed_as_the_file_says_on_the_day() -> None:
    import dataclasses

    stale = dataclasses.replace(CATALOGUE[0], state_duty_tiyn=1, kbk="105315")
    now = priced(stale, date(2026, 3, 20))
    assert now.kbk == LICENSE_FEE_KBK
    assert now.state_duty_tiyn == fee_tiyn(stale.code, date(2026, 3, 20))


def test_a_malformed_catalogue_is_refused_with_the_field_named() -> None:
    raw = _raw()
    types = raw["types"]
    assert isinstance(types, list)
    broken = {**raw, "types": [{**types[0], "fee_mrp": -1}, *types[1:]]}
    with pytest.raises(ReferenceDataError, match=r"licence_types\.json.*types\.0\.fee_mrp"):
        load_reference(LicenceCatalogue, json.dumps(broken), name="licensing/licence_types.json")

    unbudgeted = {**raw, "types": [{**types[0], "kbk": "alcohol_fee"}, *types[1:]]}
    with pytest.raises(ReferenceDataError, match="not a line payments budgets"):
        load_reference(LicenceCatalogue, json.dumps(unbudgeted), name="licence_types.json")

    twice = {**raw, "types": [types[0], types[0]]}
    with pytest.raises(ReferenceDataError, match="listed twice"):
        load_reference(LicenceCatalogue, json.dumps(twice), name="licence_types.json")

    with pytest.raises(ReferenceDataError, match="not valid JSON"):
        load_reference(LicenceCatalogue, "{", name="licence_types.json")
