"""The catalogue of license types (reference data, seeded at start, idempotently).

Modelled on the Law of the Republic of Kazakhstan "On permits and notifications" (16 May
2014 No. 202-V): licenses are unlimited in time unless a law says otherwise, the issuing
term is in working days, and the license fee (лицензионный сбор, Tax Code) is set in monthly
calculation indices (MRP).

The catalogue itself is data, owned by licensing and changed only with its release:
``shared/meshkit/reference/licensing/licence_types.json`` (validated by
:class:`meshkit.reference.LicenceCatalogue`; the gateway's register builds its
``lc-license-*`` services from the same file). Fees are ``fee_mrp × mrp_tiyn(day)``
(:func:`meshkit.reference.mrp_tiyn`, the one MRP table) in integer tiyn; the KBK is the line
payments budgets for licence fees (``payments/kbk.json``, key ``licence_fee``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from egov_licensing.domain.model import LicenseType, QualificationRules, Requirement
from meshkit.calendar import local_date
from meshkit.reference import LicenceType as LicenceRecord
from meshkit.reference import kbk, licence_catalogue

#: the budget line licence fees are paid to: payments' own code, never a copy
LICENSE_FEE_KBK = kbk("licence_fee")


def license_type(record: LicenceRecord, on: date) -> LicenseType:
    """The domain's license type from the catalogue record, its fee in the MRP of ``on``."""
    rules = record.rules
    return LicenseType(
        code=record.code,
        name_kk=record.name.kk,
        name_ru=record.name.ru,
        name_en=record.name.en,
        authority_code=record.authority.code,
        authority_kk=record.authority.kk,
        authority_ru=record.authority.ru,
        authority_en=record.authority.en,
        state_duty_tiyn=record.fee_tiyn(on),
        kbk=record.kbk_code(),
        sla_working_days=record.sla_working_days,
        validity_months=record.validity_months,
        requirements=tuple(
            Requirement(r.code, r.kk, r.ru, r.en, automatic=r.automatic)
            for r in record.requirements
        ),
        rules=QualificationRules(
            applicant_kinds=frozenset(rules.applicant_kinds),
            legal_forms=frozenset(rules.legal_forms) if rules.legal_forms is not None else None,
            activity_codes=tuple(rules.activity_codes),
            min_age=rules.min_age,
            detail_fields=tuple(rules.detail_fields),
        ),
        legal_basis=record.legal_basis,
    )


def catalogue(on: date) -> tuple[LicenseType, ...]:
    """Every license type of the catalogue file, fees in the MRP in force on ``on``."""
    return tuple(license_type(r, on) for r in licence_catalogue().types)


def fee_tiyn(code: str, on: date) -> int:
    """The license fee of ``code`` on a day: its MRP multiple × :func:`mrp_tiyn` of that day."""
    return licence_catalogue().get(code).fee_tiyn(on)


def priced(lt: LicenseType, on: date) -> LicenseType:
    """``lt`` with the fee and KBK of the catalogue file on the day of filing (a stored type
    seeded in an earlier year, or before a KBK change, is billed as the file says today)."""
    try:
        record = licence_catalogue().get(lt.code)
    except LookupError:
        return lt
    return dataclasses.replace(lt, state_duty_tiyn=record.fee_tiyn(on), kbk=record.kbk_code())


#: the catalogue as of the day the service starts (what ``seed_catalogue`` inserts)
CATALOGUE: tuple[LicenseType, ...] = catalogue(local_date(datetime.now(UTC)))
