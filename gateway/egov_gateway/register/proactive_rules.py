"""The proactive rules declared in the Unified Register (see register/domain/proactive.py)."""

from __future__ import annotations

from egov_gateway.register.domain.model import Localized
from egov_gateway.register.domain.proactive import APPLICANT, ProactiveRule
from meshkit.contracts.registry import BirthRegistered, DeathRegistered, LegalEntityRegistered


def seed_proactive_rules() -> list[ProactiveRule]:
    return [
        # -- birth of a child: the allowance (one per child) and the birth record extract
        ProactiveRule(
            code="birth-allowance",
            event_type=BirthRegistered.event_type,
            service_code="pm-birth-allowance",
            recipients=("$.event.mother_iin", "$.event.father_iin"),
            payload={"child_iin": "$.event.child_iin"},
            title=Localized(
                "Бала тууына байланысты біржолғы жәрдемақыны алыңыз",
                "Получите единовременное пособие в связи с рождением ребёнка",
                "Receive the one-off childbirth allowance",
            ),
            valid_days=180,
            unless_applied=("pm-birth-allowance", "cx-birth-of-child"),
            exclusive=True,
        ),
        ProactiveRule(
            code="birth-record-extract",
            event_type=BirthRegistered.event_type,
            service_code="rg-birth-certificate",
            recipients=("$.event.mother_iin", "$.event.father_iin"),
            payload={"act_number": "$.event.act_number"},
            title=Localized(
                "Баланың туу туралы анықтамасын алыңыз",
                "Получите справку о рождении ребёнка",
                "Get the birth record certificate of your child",
            ),
            valid_days=90,
            unless_applied=("rg-birth-certificate",),
            important=False,
        ),
        # -- death of a relative: the person who declared the death
        ProactiveRule(
            code="funeral-allowance",
            event_type=DeathRegistered.event_type,
            service_code="pm-funeral-allowance",
            recipients=(APPLICANT,),
            payload={"deceased_iin": "$.event.iin"},
            title=Localized(
                "Жерлеуге арналған біржолғы төлемді алыңыз",
                "Получите единовременную выплату на погребение",
                "Receive the one-off funeral allowance",
            ),
            valid_days=180,
            unless_applied=("pm-funeral-allowance", "cx-death-of-relative"),
            exclusive=True,
        ),
        ProactiveRule(
            code="death-record-extract",
            event_type=DeathRegistered.event_type,
            service_code="rg-death-certificate",
            recipients=(APPLICANT,),
            payload={"act_number": "$.event.act_number"},
            title=Localized(
                "Қайтыс болу туралы анықтаманы алыңыз (мұраны ресімдеу үшін)",
                "Получите справку о смерти (для оформления наследства у нотариуса)",
                "Get the death record certificate (for the inheritance at a notary)",
            ),
            valid_days=180,
            unless_applied=("rg-death-certificate",),
            important=False,
        ),
        # -- a new business: its registration certificate and a license application
        ProactiveRule(
            code="business-certificate",
            event_type=LegalEntityRegistered.event_type,
            service_code="rg-legal-entity-certificate",
            recipients=("$.event.director_iin",),
            payload={"bin": "$.event.bin"},
            title=Localized(
                "Заңды тұлғаны тіркеу туралы анықтаманы алыңыз",
                "Получите справку о регистрации юридического лица",
                "Get the registration certificate of your company",
            ),
            valid_days=60,
            unless_applied=("rg-legal-entity-certificate",),
            important=False,
        ),
        ProactiveRule(
            code="business-construction-license",
            event_type=LegalEntityRegistered.event_type,
            service_code="lc-license-construction",
            recipients=("$.event.director_iin",),
            payload={"applicant_bin": "$.event.bin", "license_type": "construction"},
            title=Localized(
                "Құрылыс-монтаж жұмыстарына лицензияға өтініш беріңіз",
                "Подайте заявление на лицензию на строительно-монтажные работы",
                "Apply for the construction and installation works license",
            ),
            valid_days=90,
            unless_applied=("lc-license-construction", "cx-open-business"),
            citizen_supplies=("activity_address",),
        ),
    ]
