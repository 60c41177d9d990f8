"""The register's seed keeps no copy of reference data: fees are the MRP of the day
(meshkit.reference.mrp_tiyn — the same function licensing and notary use) times the law's
multiple, and the license services are E-Licensing's own catalogue."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from egov_gateway.register import seed
from egov_gateway.register.seed import LICENSING_TYPES, seed_day, seed_services
from meshkit.reference import licence_catalogue, mrp_tiyn

SEED_FILE = Path(inspect.getfile(seed))


def test_the_seed_mrp_is_the_reference_mrp_of_the_year() -> None:
    assert mrp_tiyn(seed_day()) == seed.MRP_TIYN
    source = SEED_FILE.read_text(encoding="utf-8")
    # no MRP literal: the constant is assigned once, from meshkit.reference
    tree = ast.parse(source)
    assigned = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "MRP_TIYN" for t in n.targets)
    ]
    assert len(assigned) == 1 and not isinstance(assigned[0].value, ast.Constant)
    assert not re.search(r"\b(393_?200|432_?500)\b", source)


def test_fees_are_multiples_of_the_mrp_of_the_year() -> None:
    mrp = mrp_tiyn(seed_day())
    fees = {s.code: s.fee_tiyn for s in seed_services()}
    assert fees["lc-license-pharmacy"] == 10 * mrp
    assert fees["lc-license-alcohol-retail"] == 50 * mrp
    assert fees["nt-property-sale"] == mrp
    assert fees["nt-power-of-attorney"] == mrp // 2
    assert fees["rg-llp-registration"] == 26 * mrp // 4


def test_license_services_are_licensings_catalogue() -> None:
    catalogue = licence_catalogue()
    services = {s.code: s for s in seed_services() if s.code.startswith("lc-license-")}
    mrp = mrp_tiyn(seed_day())
    applied = {code: s for code, s in services.items() if s.steps}
    assert set(applied) == {f"lc-license-{code}" for code in LICENSING_TYPES}
    for code, (licensing_code, _) in LICENSING_TYPES.items():
        t = catalogue.get(licensing_code)
        s = services[f"lc-license-{code}"]
        assert s.name.kk.startswith(t.name.kk) and s.name.ru.startswith(t.name.ru)
        assert s.name.en == f"{t.name.en} (license)"
        assert s.fee_tiyn == t.fee_mrp * mrp
        assert (s.sla.amount, s.sla.unit) == (t.sla_working_days, "working_days")
        assert s.steps[0].input["body"]["license_type"] == licensing_code
        # the form fills every detail E-Licensing's type asks for
        assert set(t.rules.detail_fields) <= set(s.steps[0].input["body"]["details"])
    # types E-Licensing does not have are not offered
    assert "lc-license-design" not in services and "lc-license-transport" not in services


def test_proactive_offers_name_license_services_that_exist() -> None:
    source = (SEED_FILE.parent / "proactive_rules.py").read_text(encoding="utf-8")
    codes = {s.code for s in seed_services()}
    for code in set(re.findall(r"lc-license-[a-z-]+", source)):
        assert code in codes, code
