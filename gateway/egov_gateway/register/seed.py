"""The initial content of the Unified Register: the five agencies and the gateway as members,
their contract operations, 50+ public services (four composite) and the default grants.

Seeded idempotently (insert what is missing) on first start; operators edit it afterwards
through the admin API. Fees are in tiyn, multiples of the MRP (monthly calculation index) of
the year the register is seeded — read from ``meshkit.reference.mrp_tiyn``, the one MRP table
(``shared/meshkit/reference/mrp.json``; 2026: 4 325 KZT = 432 500 tiyn) — terms as the law
sets them. The ``lc-license-*`` services are generated from E-Licensing's own catalogue
(``shared/meshkit/reference/licensing/licence_types.json``, owned by svc-licensing): codes,
names, fees and terms are licensing's; a type licensing does not have cannot be offered here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from egov_gateway.register.domain.model import (
    CompositeStep,
    Localized,
    Member,
    OperationKey,
    PublicService,
    SlaTerm,
)
from meshkit.calendar import local_date
from meshkit.ids import next_bin
from meshkit.reference import licence_catalogue, mrp_tiyn


def seed_day() -> date:
    """The (Almaty) day the register is seeded: its fees are in that day's MRP."""
    return local_date(datetime.now(UTC))


#: 1 MRP in tiyn on the day of seeding — never a copy: ``meshkit.reference.mrp_tiyn``
MRP_TIYN = mrp_tiyn(seed_day())
AGENCIES = ("identity", "registry", "licensing", "payments", "notary")
DEFAULT_PORTS = {
    "identity": 8001,
    "registry": 8002,
    "licensing": 8003,
    "payments": 8004,
    "notary": 8005,
}


def default_agency_urls() -> dict[str, str]:
    return {a: f"http://127.0.0.1:{p}" for a, p in DEFAULT_PORTS.items()}


# -- the agreed contract operations of each agency ---------------------------------------------
CONTRACT_OPERATIONS: dict[str, list[str]] = {
    "identity": [
        "POST /persons",
        "GET /persons/{iin}",
        "PATCH /persons/{iin}",
        "GET /persons",
        "GET /persons/{iin}/family",
        "POST /consents",
        "GET /consents",
        "DELETE /consents/{id}",
        "GET /consents/check",
        "POST /ca/certificates",
        "POST /ca/certificates/{serial}/revoke",
        "POST /ca/verify",
        "POST /oauth/token",
        "POST /notifications/sms",
    ],
    "registry": [
        "POST /births",
        "GET /births/{act_number}",
        "POST /deaths",
        "GET /deaths",
        "GET /deaths/{act_number}",
        "POST /death-notices",
        "GET /death-notices/{id}",
        "POST /legal-entities",
        "GET /legal-entities/{bin}",
        "GET /legal-entities",
        "POST /legal-entities/{bin}/status",
        "POST /properties",
        "GET /properties/{cadastral_number}",
        "GET /properties",
        "POST /properties/{cadastral_number}/encumbrances",
        "POST /encumbrances/{id}/release",
        "POST /certificates",
        "GET /certificates/{number}",
        "GET /public/certificates/{number}",
        "POST /public/certificates/verify",
    ],
    "licensing": [
        "GET /license-types",
        "GET /license-types/{code}",
        "POST /applications",
        "GET /applications/{id}",
        "GET /applications",
        "POST /applications/{id}/decision",
        "GET /licenses/{number}",
        "POST /licenses/{number}/suspend",
        "POST /licenses/{number}/revoke",
        "GET /public/licenses/{number}",
        "POST /public/licenses/verify",
    ],
    "payments": [
        "POST /invoices",
        "GET /invoices/{id}",
        "GET /invoices",
        "POST /invoices/{id}/payments",
        "POST /invoices/{id}/cancel",
        "POST /invoices/{id}/refunds",
        "POST /payouts",
        "POST /allowances",
        "GET /payouts/{id}",
        "GET /reports/reconciliation",
    ],
    "notary": [
        "GET /notaries",
        "POST /notaries",
        "POST /acts",
        "GET /acts/{id_or_number}",
        "GET /acts/{id}/content",
        "POST /acts/{id}/signatures",
        "POST /acts/{id}/notary-signature",
        "POST /acts/{id}/revoke",
        "GET /public/acts/{number}",
    ],
}

PUBLIC_PREFIXES: dict[str, list[str]] = {
    "identity": ["/public/", "/ca/verify", "/oauth/token", "/auth/", "/.well-known/"],
}

# (registration year, month, first serial) of each member's BIN — deterministic
_BIN_SEEDS: dict[str, tuple[int, int, int]] = {
    "identity": (2019, 6, 1701),
    "registry": (1997, 3, 2204),
    "licensing": (2008, 10, 3112),
    "payments": (2011, 4, 4407),
    "notary": (2004, 9, 5019),
    "gateway": (2000, 5, 6120),
}

_NAMES: dict[str, Localized] = {
    "identity": Localized(
        "«Жеке тұлғалар» мемлекеттік дерекқоры және Ұлттық куәландырушы орталық",
        "Государственная база данных «Физические лица» и Национальный удостоверяющий центр",
        "State Database of Individuals and National Certification Authority",
    ),
    "registry": Localized(
        "Қазақстан Республикасы Әділет министрлігі — мемлекеттік тізілімдер",
        "Министерство юстиции Республики Казахстан — государственные регистры",
        "Ministry of Justice of Kazakhstan — state registers",
    ),
    "licensing": Localized(
        "«Е-лицензиялау» мемлекеттік дерекқоры",
        "Государственная база данных «Е-лицензирование»",
        "E-Licensing State Database",
    ),
    "payments": Localized(
        "Электрондық үкіметтің төлем шлюзі",
        "Платёжный шлюз электронного правительства",
        "E-Government Payment Gateway",
    ),
    "notary": Localized(
        "Республикалық нотариаттық палата — «Е-нотариат»",
        "Республиканская нотариальная палата — «Е-нотариат»",
        "Republican Notary Chamber — E-Notary",
    ),
    "gateway": Localized(
        "Электрондық үкімет шлюзі",
        "Шлюз электронного правительства",
        "E-Government Gateway",
    ),
}


def member_bin(code: str) -> str:
    year, month, serial = _BIN_SEEDS[code]
    return next_bin(year, month, "resident", "head", serial)[0]


def seed_members(agency_urls: dict[str, str]) -> list[Member]:
    out = [
        Member(
            code=code,
            member_class="GOV",
            member_code=member_bin(code),
            name=_NAMES[code],
            base_urls=[agency_urls[code]],
            public_prefixes=PUBLIC_PREFIXES.get(code, ["/public/"]),
            declared_operations=list(CONTRACT_OPERATIONS[code]),
        )
        for code in AGENCIES
    ]
    # the gateway is a client of the exchange (composite services), not a provider
    out.append(
        Member(
            code="gateway",
            member_class="GOV",
            member_code=member_bin("gateway"),
            name=_NAMES["gateway"],
            base_urls=[],
            provider=False,
            public_prefixes=[],
        )
    )
    return out


# -- default grants: who may call what -----------------------------------------------------
def _ops(agency: str, *names: str) -> list[str]:
    return [OperationKey.of(agency, n).id for n in names]


DEFAULT_GRANTS: dict[str, list[str]] = {
    "registry": _ops(
        "identity",
        "POST /persons",
        "GET /persons/{iin}",
        "PATCH /persons/{iin}",
        "GET /persons/{iin}/family",
        "GET /consents/check",
        # its document-signing key is certified by the national CA (meshkit.trust)
        "POST /ca/certificates",
    ),
    "licensing": [
        *_ops("registry", "GET /legal-entities/{bin}", "GET /legal-entities"),
        *_ops("identity", "GET /persons/{iin}", "POST /ca/certificates"),
        *_ops("payments", "POST /invoices", "GET /invoices/{id}", "POST /invoices/{id}/cancel"),
    ],
    "notary": [
        *_ops("identity", "GET /persons/{iin}", "POST /ca/verify"),
        *_ops(
            "registry",
            "GET /properties/{cadastral_number}",
            "GET /properties",
            "GET /legal-entities/{bin}",
        ),
        *_ops("payments", "POST /invoices", "GET /invoices/{id}", "POST /invoices/{id}/cancel"),
    ],
    "payments": [
        # eligibility of an allowance, checked with the owners of the facts: the child is the
        # claimant's (identity), the death is registered (registry)
        *_ops("identity", "GET /persons/{iin}"),
        *_ops("registry", "GET /deaths"),
    ],
    "gateway": [],  # only GATEWAY_GRANTS below, each with its reason
}

#: What the gateway's own client may call, and why. Nothing citizen-facing: every step of a
#: citizen's application runs on the citizen's own authority (the citizen's mandate,
#: egov_gateway/auth/mandate.py), never with these rights.
GATEWAY_GRANTS: dict[str, str] = {
    OperationKey.of("identity", "POST /notifications/sms").id: (
        "the single window texts a citizen the important notices of their own applications "
        "and offers (identity holds the phone numbers; the gateway never reads them)"
    ),
}

#: Grants that earlier releases gave the gateway by default (it ran citizens' composite steps
#: as itself: a confused deputy — a citizen could act with the gateway's rights). Withdrawn
#: from every register on start; an operator who needs one must grant it again, on purpose.
WITHDRAWN_GATEWAY_GRANTS: tuple[str, ...] = tuple(
    OperationKey.of(agency, op).id
    for agency, op in (
        ("identity", "GET /persons/{iin}"),
        ("licensing", "POST /applications"),
        ("notary", "GET /acts/{id_or_number}"),
        ("notary", "POST /acts"),
        ("notary", "POST /acts/{id}/revoke"),
        ("payments", "GET /invoices"),
        ("payments", "GET /invoices/{id}"),
        ("payments", "POST /payouts"),
        ("registry", "GET /properties/{cadastral_number}"),
        ("registry", "POST /births"),
        ("registry", "POST /certificates"),
        ("registry", "POST /deaths"),
        ("registry", "POST /legal-entities"),
        ("registry", "POST /legal-entities/{bin}/status"),
    )
)


# -- public services -------------------------------------------------------------------------
def _schema(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": props,
        "additionalProperties": False,
    }


#: ``format`` iin/bin: the check digit (meshkit.ids), checked at submission (not a pattern)
IIN_S = {"type": "string", "pattern": "^[0-9]{12}$", "format": "iin", "description": "ИИН / IIN"}
BIN_S = {"type": "string", "pattern": "^[0-9]{12}$", "format": "bin", "description": "БИН / BIN"}
IIN_OR_BIN_S = {
    "type": "string",
    "pattern": "^[0-9]{12}$",
    "format": "iin-or-bin",
    "description": "ИИН/БИН / IIN or BIN",
}
NAME_S = {"type": "string", "minLength": 1, "maxLength": 100}
PLACE_S = {"type": "string", "minLength": 1, "maxLength": 200}
REASON_S = {"type": "string", "minLength": 3, "maxLength": 300}
UUID_S = {"type": "string", "format": "uuid", "minLength": 36, "maxLength": 36}
TIYN_S = {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999}
AGENCY_S = {"type": "string", "minLength": 2, "maxLength": 64}
ACTIVITY_CODES_S = {
    "type": "array",
    "items": {"type": "string", "pattern": "^[0-9]{2,5}$"},
    "maxItems": 20,
}
#: an exact share of ownership, numerator over denominator (the agencies' ``Share``)
SHARE_S = {
    "type": "object",
    "required": ["num", "den"],
    "properties": {
        "num": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "den": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
    },
    "additionalProperties": False,
}
CONSENT_CATEGORIES = [
    "personal",
    "contacts",
    "family",
    "civil_status",
    "property",
    "business",
    "licenses",
    "payments",
    "notarial",
]


def _holders(id_field: str, id_schema: dict[str, Any], max_items: int = 50) -> dict[str, Any]:
    """Founders, owners, sellers, buyers: at least one, each an identifier and a share."""
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": max_items,
        "items": {
            "type": "object",
            "required": [id_field, "share"],
            "properties": {id_field: id_schema, "share": SHARE_S},
            "additionalProperties": False,
        },
    }


CADASTRAL_S = {
    "type": "string",
    "pattern": "^[0-9]{2}:[0-9]{3}:[0-9]{3}:[0-9]{1,5}$",
    "description": "кадастровый номер",
}
TEXT_S = {"type": "string", "minLength": 1, "maxLength": 300}
DATE_S = {"type": "string", "format": "date"}
ONLINE = ["portal", "mobile"]
ONLINE_CSC = ["portal", "mobile", "public_service_center"]
INTERAGENCY = ["api"]


def _allowance_step(kind: str, subject: str, reference: str | None = None) -> CompositeStep:
    """A state allowance claimed by the applicant (the recipient is always the applicant,
    never an IIN typed into the form). Payments owns the amount, the budget line and the
    eligibility (the child is the applicant's, the death is registered; once per kind and
    subject); completed when payments reports the payout made."""
    body: dict[str, Any] = {"kind": kind, "subject_iin": subject}
    if reference is not None:
        body["reference"] = reference
    return CompositeStep(
        "payout",
        OperationKey.of("payments", "POST /allowances"),
        {"body": body},
        completes_on="kz.egov.payments.payout.completed.v1",
    )


def _svc(
    code: str,
    agency: str,
    name: tuple[str, str, str],
    description: tuple[str, str, str],
    ops: list[str],
    schema: dict[str, Any],
    *,
    fee_tiyn: int = 0,
    sla: tuple[int, str] = (15, "minutes"),
    channels: list[str] | None = None,
    citizen_facing: bool = True,
    public: bool = False,
    subject: str | None = None,
    recipients: list[str] | None = None,
    steps: list[CompositeStep] | None = None,
) -> PublicService:
    return PublicService(
        code=code,
        agency=agency,
        kind="simple",
        steps=steps or [],
        name=Localized(*name),
        description=Localized(*description),
        operations=[OperationKey.of(agency, o) for o in ops],
        input_schema=schema,
        fee_tiyn=fee_tiyn,
        sla=SlaTerm(sla[0], sla[1]),
        channels=channels or list(ONLINE),
        citizen_facing=citizen_facing,
        public=public,
        subject_param=subject,
        recipients=recipients or ["individual"],
    )


#: the register's license services → E-Licensing's license type (the code in licensing's
#: catalogue file, ``shared/meshkit/reference/licensing/licence_types.json``) and how the form
#: fills the type's ``details`` (its ``detail_fields``). The register codes stay stable (the
#: proactive offers prefill ``license_type``); a type licensing's catalogue lacks fails the seed.
#: ``design`` and ``transport`` were listed here once: E-Licensing has no such types, so the
#: register no longer offers them. EXPORT_IMPORT_ONEOFF, SUBSOIL_EXPLORATION and ADVOCACY (an
#: individual's, without a BIN) have no register form yet: E-Licensing serves them directly.
LICENSING_TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "construction": ("CONSTRUCTION_II", {"chief_engineer_iin": "$.payload.qualified_staff.0"}),
    "pharmacy": (
        "PHARMACY",
        {
            "premises_address": "$.payload.activity_address",
            "pharmacist_iin": "$.payload.qualified_staff.0",
        },
    ),
    "medical": (
        "MEDICAL_PRACTICE",
        {"clinic_address": "$.payload.activity_address", "specialty": "$.payload.specialty"},
    ),
    "education": (
        "EDUCATION_SECONDARY",
        {"school_address": "$.payload.activity_address", "capacity": "$.payload.capacity"},
    ),
    "alcohol-retail": ("ALCOHOL_RETAIL", {"premises_address": "$.payload.activity_address"}),
    "security": ("PRIVATE_SECURITY", {"office_address": "$.payload.activity_address"}),
    "tourism": ("TOUR_OPERATOR", {"insurance_contract": "$.payload.insurance_contract"}),
    "weapons-trade": ("WEAPONS_TRADE", {"store_address": "$.payload.activity_address"}),
    "audit": ("AUDIT", {"auditor_iin": "$.payload.qualified_staff.0"}),
}


def license_types() -> list[tuple[str, tuple[str, str, str], int, int]]:
    """(register code, names kk/ru/en, fee in MRP, term in working days) of each license
    service, all but the register code read from licensing's catalogue file."""
    out = []
    for code, (licensing_code, _) in LICENSING_TYPES.items():
        t = licence_catalogue().get(licensing_code)  # LookupError: licensing has no such type
        # licensing's names of the activity, marked as a license (what citizens search for)
        names = (f"{t.name.kk} (лицензия)", f"{t.name.ru} (лицензия)", f"{t.name.en} (license)")
        out.append((code, names, t.fee_mrp, t.sla_working_days))
    return out


#: code, names (kk, ru, en), fee in MRP, term in working days — licensing's, not a copy
LICENSE_TYPES: list[tuple[str, tuple[str, str, str], int, int]] = license_types()
#: form fields some license types need beyond the address and the staff
_LICENSE_EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "specialty": TEXT_S,
    "capacity": {"type": "integer", "minimum": 1},
    "insurance_contract": TEXT_S,
}


def _license_service(
    code: str, names: tuple[str, str, str], fee_mrp: int, days: int
) -> PublicService:
    """The applicant is the citizen (``$.applicant``: E-Licensing refuses a citizen applying
    in another's name) for the BIN they direct; the rest goes into the type's ``details``."""
    licensing_code, detail_map = LICENSING_TYPES[code]
    extra = {
        name: schema
        for name, schema in _LICENSE_EXTRA_FIELDS.items()
        if f"$.payload.{name}" in detail_map.values()
    }
    details = {
        "activity_address": "$.payload.activity_address",
        "qualified_staff": "$.payload.qualified_staff",
        **detail_map,
    }
    return _svc(
        f"lc-license-{code}",
        "licensing",
        names,
        (
            f"«Е-лицензиялау» арқылы берілетін рұқсат: {names[0].lower()}.",
            f"Выдача через «Е-лицензирование»: {names[1].lower()}; БИН заявителя проверяется в реестре юридических лиц, лицензионный сбор оплачивается через платёжный шлюз.",
            f"Issued through E-Licensing: {names[2].lower()}; the applicant's BIN is checked in the register of legal entities and the license fee is paid through the payment gateway.",
        ),
        ["POST /applications", "GET /applications/{id}", "GET /license-types/{code}"],
        _schema(
            ["applicant_bin", "license_type", "activity_address"],
            applicant_bin=BIN_S,
            license_type={"const": code},
            activity_address=TEXT_S,
            qualified_staff=_list_of(IIN_S),
            **extra,
        ),
        fee_tiyn=fee_mrp * MRP_TIYN,
        sla=(days, "working_days"),
        recipients=["legal_entity"],
        steps=[
            CompositeStep(
                "run",
                OperationKey.of("licensing", "POST /applications"),
                {
                    "body": {
                        # E-Licensing's own code (upper case); the register's form keeps its
                        # lower-case ``license_type`` (the proactive offers prefill it)
                        "license_type": licensing_code,
                        "applicant_iin": "$.applicant",
                        "applicant_bin": "$.payload.applicant_bin",
                        "details": details,
                    }
                },
            )
        ],
    )


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "maxItems": 50}


def simple_services() -> list[PublicService]:
    s: list[PublicService] = [
        # ---------------------------------------------------------------- identity
        _svc(
            "id-personal-data",
            "identity",
            (
                "Жеке тұлға туралы мәліметтер",
                "Сведения о физическом лице",
                "Personal data of an individual",
            ),
            (
                "Азаматтың ЖТ МДҚ-дағы өз деректері.",
                "Собственные данные гражданина из ГБД ФЛ.",
                "A citizen's own record in the State Database of Individuals.",
            ),
            ["GET /persons/{iin}"],
            _schema(["iin"], iin=IIN_S),
            subject="iin",
        ),
        _svc(
            "id-address-certificate",
            "identity",
            ("Мекенжай анықтамасы", "Адресная справка", "Address certificate"),
            (
                "Тұрақты тіркелген жері туралы анықтама.",
                "Справка о регистрации по постоянному месту жительства.",
                "Certificate of registration at the permanent place of residence.",
            ),
            ["GET /persons/{iin}"],
            _schema(["iin"], iin=IIN_S),
            subject="iin",
            channels=ONLINE_CSC,
        ),
        _svc(
            "id-family-composition",
            "identity",
            (
                "Отбасы құрамы туралы анықтама",
                "Справка о составе семьи",
                "Certificate of family composition",
            ),
            (
                "Ата-аналар мен балалар туралы мәліметтер.",
                "Сведения о родителях и детях гражданина.",
                "Parents and children of a citizen.",
            ),
            ["GET /persons/{iin}/family"],
            # one's own family only (identity's rule): the applicant, never a form field
            _schema([]),
            subject="iin",
            channels=ONLINE_CSC,
            steps=[
                CompositeStep(
                    "run",
                    OperationKey.of("identity", "GET /persons/{iin}/family"),
                    {"path": {"iin": "$.applicant"}},
                )
            ],
        ),
        _svc(
            "id-personal-data-change",
            "identity",
            (
                "Байланыс деректерін өзгерту",
                "Изменение контактных данных",
                "Change of contact details",
            ),
            (
                "Тұрғылықты мекенжайды жаңарту (телефон нөмірі — ХҚКО-да: оған кіру кодтары келеді).",
                "Обновление адреса (номер телефона — в ЦОН: на него приходят коды входа).",
                "Update of the address (the phone number is changed at a public service centre: "
                "it receives the login codes).",
            ),
            ["PATCH /persons/{iin}"],
            # one's own record only: the applicant, never a form field
            _schema(["address"], address=TEXT_S),
            subject="iin",
            sla=(1, "working_days"),
            steps=[
                CompositeStep(
                    "run",
                    OperationKey.of("identity", "PATCH /persons/{iin}"),
                    {
                        "path": {"iin": "$.applicant"},
                        "body": {"address": "$.payload.address"},
                    },
                )
            ],
        ),
        _svc(
            "id-person-registration",
            "identity",
            (
                "Жеке тұлғаны тіркеу және ЖСН беру",
                "Регистрация физического лица и присвоение ИИН",
                "Registration of an individual and allocation of an IIN",
            ),
            (
                "Тіркеуші органдар үшін ведомствоаралық қызмет.",
                "Межведомственный сервис для регистрирующих органов.",
                "Inter-agency service for registering authorities.",
            ),
            ["POST /persons"],
            _schema(
                ["surname", "given_name", "birth_date", "sex"],
                surname=NAME_S,
                given_name=NAME_S,
                patronymic=NAME_S,
                birth_date=DATE_S,
                sex={"enum": ["male", "female"]},
                mother_iin=IIN_S,
                father_iin=IIN_S,
            ),
            citizen_facing=False,
            channels=INTERAGENCY,
            sla=(1, "minutes"),
        ),
        _svc(
            "id-person-search",
            "identity",
            ("Жеке тұлғаларды іздеу", "Поиск физических лиц", "Search of individuals"),
            (
                "Уәкілетті органдар үшін ЖТ МДҚ бойынша іздеу.",
                "Поиск по ГБД ФЛ для уполномоченных органов.",
                "Search in the State Database of Individuals for authorised agencies.",
            ),
            ["GET /persons"],
            _schema([], surname=NAME_S, birth_date=DATE_S),
            citizen_facing=False,
            channels=INTERAGENCY,
            sla=(1, "minutes"),
        ),
        _svc(
            "id-consent-grant",
            "identity",
            (
                "Дербес деректерге қол жеткізуге келісім беру",
                "Согласие на доступ к персональным данным",
                "Consent to access personal data",
            ),
            (
                "Азамат ведомствоға деректерге қол жеткізуге келісім береді.",
                "Гражданин даёт ведомству согласие на доступ к своим данным.",
                "A citizen lets an agency access categories of their data.",
            ),
            ["POST /consents"],
            _schema(
                ["agency", "categories", "purpose", "expires_at"],
                agency=AGENCY_S,
                categories={
                    "type": "array",
                    "items": {"enum": CONSENT_CATEGORIES},
                    "minItems": 1,
                    "maxItems": len(CONSENT_CATEGORIES),
                },
                purpose=REASON_S,
                expires_at={"type": "string", "format": "date-time"},
            ),
            sla=(1, "minutes"),
        ),
        _svc(
            "id-consent-list",
            "identity",
            ("Менің келісімдерім", "Мои согласия", "My consents"),
            (
                "Берілген келісімдер тізімі.",
                "Список выданных согласий.",
                "The consents a citizen has given.",
            ),
            ["GET /consents"],
            _schema([]),
            sla=(1, "minutes"),
        ),
        _svc(
            "id-consent-revoke",
            "identity",
            ("Келісімді кері қайтарып алу", "Отзыв согласия", "Revocation of a consent"),
            (
                "Бұрын берілген келісімді кері қайтару.",
                "Отзыв ранее выданного согласия.",
                "Withdraw a consent given before.",
            ),
            ["DELETE /consents/{id}"],
            _schema(["id"], id=TEXT_S),
            sla=(1, "minutes"),
        ),
        _svc(
            "id-consent-check",
            "identity",
            ("Келісімнің бар-жоғын тексеру", "Проверка наличия согласия", "Consent check"),
            (
                "Ведомство азаматтың келісімін тексереді.",
                "Ведомство проверяет согласие гражданина.",
                "An agency checks a citizen's consent.",
            ),
            ["GET /consents/check"],
            _schema(
                ["iin", "agency", "category"],
                iin=IIN_S,
                agency=AGENCY_S,
                category={"enum": CONSENT_CATEGORIES},
            ),
            citizen_facing=False,
            channels=INTERAGENCY,
            subject="iin",
            sla=(1, "minutes"),
        ),
        _svc(
            "id-eds-issue",
            "identity",
            (
                "ЭЦҚ тіркеу куәлігін алу",
                "Получение регистрационного свидетельства ЭЦП",
                "Issue of a digital signature certificate",
            ),
            (
                "ҚР Ұлттық куәландырушы орталығының тіркеу куәлігі.",
                "Регистрационное свидетельство Национального удостоверяющего центра РК.",
                "A certificate of the National Certification Authority for the citizen's key.",
            ),
            ["POST /ca/certificates"],
            _schema(["csr_pem"], csr_pem={"type": "string", "minLength": 100, "maxLength": 20000}),
            sla=(1, "working_days"),
            channels=ONLINE_CSC,
        ),
        _svc(
            "id-eds-revoke",
            "identity",
            (
                "ЭЦҚ тіркеу куәлігін кері қайтарып алу",
                "Отзыв регистрационного свидетельства ЭЦП",
                "Revocation of a digital signature certificate",
            ),
            (
                "Кілт жоғалған немесе ашылған кезде.",
                "При утере или компрометации ключа.",
                "When a key is lost or compromised.",
            ),
            ["POST /ca/certificates/{serial}/revoke"],
            _schema(
                ["serial", "reason"],
                serial=TEXT_S,
                reason={
                    "enum": [
                        "unspecified",
                        "key_compromise",
                        "affiliation_changed",
                        "superseded",
                        "cessation_of_operation",
                        "holder_deceased",
                    ]
                },
            ),
            sla=(1, "hours"),
        ),
        _svc(
            "id-signature-verify",
            "identity",
            (
                "Электрондық цифрлық қолтаңбаны тексеру",
                "Проверка электронной цифровой подписи",
                "Verification of a digital signature",
            ),
            (
                "Кез келген адам қолтаңбаның түпнұсқалығын тексере алады.",
                "Любой может проверить подлинность подписи.",
                "Anyone can verify a signature.",
            ),
            ["POST /ca/verify"],
            # a compact JWS (identity verifies the signature and the signer's certificate)
            _schema(["jws"], jws={"type": "string", "minLength": 1, "maxLength": 200000}),
            public=True,
            sla=(1, "minutes"),
            channels=["portal", "mobile", "api"],
        ),
        _svc(
            "id-notice-sms",
            "identity",
            (
                "Азаматқа SMS-хабарлама",
                "SMS-уведомление гражданина",
                "SMS notice to a citizen",
            ),
            (
                "Шлюз азаматтың тіркелген телефонына маңызды хабарламаларды жібереді.",
                "Шлюз отправляет важные уведомления на зарегистрированный телефон гражданина.",
                "The gateway sends important notices to a citizen's registered phone.",
            ),
            ["POST /notifications/sms"],
            _schema(["iin", "text"], iin=IIN_S, text=TEXT_S),
            citizen_facing=False,
            channels=INTERAGENCY,
            sla=(1, "minutes"),
        ),
        # ---------------------------------------------------------------- registry
        _svc(
            "rg-birth-registration",
            "registry",
            (
                "Баланың тууын мемлекеттік тіркеу",
                "Государственная регистрация рождения ребёнка",
                "State registration of the birth of a child",
            ),
            (
                "Туу туралы акт жазбасы, ЖСН беру және туу туралы куәлік.",
                "Актовая запись о рождении, присвоение ИИН и свидетельство о рождении.",
                "Birth record, allocation of the child's IIN and the birth certificate.",
            ),
            ["POST /births", "GET /births/{act_number}"],
            _schema(
                ["surname", "given_name", "birth_date", "sex", "place", "mother_iin"],
                surname=NAME_S,
                given_name=NAME_S,
                patronymic=NAME_S,
                birth_date=DATE_S,
                sex={"enum": ["male", "female"]},
                place=PLACE_S,
                mother_iin=IIN_S,
                father_iin=IIN_S,
            ),
            sla=(1, "working_days"),
            channels=ONLINE_CSC,
        ),
        _svc(
            "rg-birth-certificate",
            "registry",
            ("Туу туралы анықтама", "Справка о рождении", "Birth record certificate"),
            (
                "Туу туралы акт жазбасынан үзінді.",
                "Выписка из актовой записи о рождении.",
                "Extract from the birth record.",
            ),
            ["GET /births/{act_number}"],
            _schema(["act_number"], act_number=TEXT_S),
            subject="act_number",
        ),
        _svc(
            "rg-death-registration",
            "registry",
            (
                "Қайтыс болуды мемлекеттік тіркеу",
                "Государственная регистрация смерти",
                "State registration of a death",
            ),
            (
                "Қайтыс болу туралы акт жазбасы және куәлік.",
                "Актовая запись о смерти и свидетельство о смерти.",
                "Death record and death certificate.",
            ),
            ["POST /deaths", "GET /deaths/{act_number}"],
            _schema(
                ["iin", "date_of_death", "place"], iin=IIN_S, date_of_death=DATE_S, place=PLACE_S
            ),
            sla=(1, "working_days"),
            channels=ONLINE_CSC,
        ),
        _svc(
            "rg-death-certificate",
            "registry",
            ("Қайтыс болу туралы анықтама", "Справка о смерти", "Death record certificate"),
            (
                "Қайтыс болу туралы акт жазбасынан үзінді.",
                "Выписка из актовой записи о смерти.",
                "Extract from the death record.",
            ),
            ["GET /deaths/{act_number}"],
            _schema(["act_number"], act_number=TEXT_S),
            subject="act_number",
        ),
        _svc(
            "rg-llp-registration",
            "registry",
            (
                "Жауапкершілігі шектеулі серіктестікті тіркеу",
                "Государственная регистрация товарищества с ограниченной ответственностью",
                "State registration of a limited liability partnership (LLP)",
            ),
            (
                "Құрылтайшылар ЖТ МДҚ-да тексеріледі; БСН беріледі.",
                "Учредители проверяются в ГБД ФЛ; присваивается БИН.",
                "Founders are checked in the State Database of Individuals; a BIN is allocated.",
            ),
            ["POST /legal-entities", "GET /legal-entities/{bin}"],
            _schema(
                ["name_kk", "name_ru", "legal_form", "director_iin", "founders", "address"],
                name_kk=TEXT_S,
                name_ru=TEXT_S,
                legal_form={"const": "LLP"},
                director_iin=IIN_S,
                founders=_holders("id", IIN_OR_BIN_S),
                address=TEXT_S,
                activity_codes=ACTIVITY_CODES_S,
            ),
            fee_tiyn=26 * MRP_TIYN // 4,
            sla=(1, "working_days"),
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "rg-jsc-registration",
            "registry",
            (
                "Акционерлік қоғамды тіркеу",
                "Государственная регистрация акционерного общества",
                "State registration of a joint-stock company (JSC)",
            ),
            (
                "Акционерлік қоғамды тіркеу және БСН беру.",
                "Регистрация акционерного общества и присвоение БИН.",
                "Registration of a joint-stock company and allocation of a BIN.",
            ),
            ["POST /legal-entities", "GET /legal-entities/{bin}"],
            _schema(
                ["name_kk", "name_ru", "legal_form", "director_iin", "founders", "address"],
                name_kk=TEXT_S,
                name_ru=TEXT_S,
                legal_form={"const": "JSC"},
                director_iin=IIN_S,
                founders=_holders("id", IIN_OR_BIN_S),
                address=TEXT_S,
            ),
            fee_tiyn=26 * MRP_TIYN // 4,
            sla=(3, "working_days"),
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "rg-sole-proprietor-registration",
            "registry",
            (
                "Жеке кәсіпкерді тіркеу",
                "Регистрация индивидуального предпринимателя",
                "Registration of a sole proprietor",
            ),
            (
                "Жеке кәсіпкерлік субъектісін тіркеу.",
                "Регистрация субъекта индивидуального предпринимательства.",
                "Registration of an individual entrepreneur.",
            ),
            ["POST /legal-entities"],
            # the proprietor is the applicant: its director and sole founder
            _schema(
                ["name_kk", "name_ru", "address"],
                name_kk=TEXT_S,
                name_ru=TEXT_S,
                address=TEXT_S,
                activity_codes=ACTIVITY_CODES_S,
            ),
            sla=(1, "working_days"),
            steps=[
                CompositeStep(
                    "run",
                    OperationKey.of("registry", "POST /legal-entities"),
                    {
                        "body": {
                            "name_kk": "$.payload.name_kk",
                            "name_ru": "$.payload.name_ru",
                            "legal_form": "SOLE_PROPRIETOR",
                            "director_iin": "$.applicant",
                            "founders": [{"id": "$.applicant", "share": {"num": 1, "den": 1}}],
                            "address": "$.payload.address",
                            "activity_codes": "$.payload.activity_codes",
                        }
                    },
                )
            ],
        ),
        _svc(
            "rg-legal-entity-certificate",
            "registry",
            (
                "Заңды тұлғаны тіркеу туралы анықтама",
                "Справка о зарегистрированном юридическом лице",
                "Certificate of a registered legal entity",
            ),
            (
                "Заңды тұлғаның тіркеу деректері, құрылтайшылары және басшысы.",
                "Регистрационные данные, учредители и руководитель юридического лица.",
                "Registration data, founders and director of a legal entity.",
            ),
            ["GET /legal-entities/{bin}"],
            _schema(["bin"], bin=BIN_S),
            subject="bin",
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "rg-legal-entity-search",
            "registry",
            ("Заңды тұлғаларды іздеу", "Поиск юридических лиц", "Search of legal entities"),
            (
                "Ұлттық тізілім бойынша ведомствоаралық іздеу.",
                "Межведомственный поиск по Национальному реестру БИН.",
                "Inter-agency search of the national register of business identification numbers.",
            ),
            ["GET /legal-entities"],
            # the registry searches names and BINs by one text (``q``)
            _schema([], q={"type": "string", "minLength": 1, "maxLength": 100}),
            citizen_facing=False,
            channels=INTERAGENCY,
            sla=(1, "minutes"),
        ),
        _svc(
            "rg-legal-entity-liquidation",
            "registry",
            (
                "Заңды тұлғаның қызметін тоқтату",
                "Прекращение деятельности юридического лица",
                "Liquidation of a legal entity",
            ),
            (
                "Тоқтата тұру немесе тарату.",
                "Приостановление или ликвидация юридического лица.",
                "Suspension or liquidation of a legal entity.",
            ),
            ["POST /legal-entities/{bin}/status"],
            _schema(
                ["bin", "new_status", "reason"],
                bin=BIN_S,
                new_status={"enum": ["suspended", "liquidated", "active"]},
                reason=TEXT_S,
            ),
            subject="bin",
            sla=(3, "working_days"),
            recipients=["legal_entity"],
            # the registry's ``status`` (a citizen may only liquidate an entity they direct)
            steps=[
                CompositeStep(
                    "run",
                    OperationKey.of("registry", "POST /legal-entities/{bin}/status"),
                    {
                        "path": {"bin": "$.payload.bin"},
                        "body": {"status": "$.payload.new_status", "reason": "$.payload.reason"},
                    },
                )
            ],
        ),
        _svc(
            "rg-property-rights-registration",
            "registry",
            (
                "Жылжымайтын мүлікке құқықтарды мемлекеттік тіркеу",
                "Государственная регистрация прав на недвижимое имущество",
                "State registration of rights to real estate",
            ),
            (
                "Жылжымайтын мүлік объектісін және меншік иелерін тіркеу.",
                "Регистрация объекта недвижимости и его правообладателей.",
                "Registration of a real estate object and its owners.",
            ),
            ["POST /properties", "GET /properties/{cadastral_number}"],
            _schema(
                ["cadastral_number", "kind", "address", "area_m2", "owners"],
                cadastral_number=CADASTRAL_S,
                kind={
                    "enum": ["apartment", "house", "land_plot", "non_residential", "parking_space"]
                },
                address=TEXT_S,
                area_m2={"type": "number", "exclusiveMinimum": 0},
                owners=_holders("id", IIN_OR_BIN_S),
            ),
            fee_tiyn=MRP_TIYN // 2,
            sla=(3, "working_days"),
            channels=["public_service_center", "agency_office"],
            citizen_facing=False,  # registered by the registry's staff on the documents
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "rg-property-rights-certificate",
            "registry",
            (
                "Тіркелген құқықтар (ауыртпалықтар) туралы анықтама",
                "Справка о зарегистрированных правах (обременениях) на недвижимое имущество",
                "Certificate of registered rights (encumbrances) to real estate",
            ),
            (
                "Меншік иелері және белсенді ауыртпалықтар.",
                "Правообладатели объекта и действующие обременения.",
                "Owners of a property and its active encumbrances.",
            ),
            ["GET /properties/{cadastral_number}", "POST /certificates"],
            _schema(["cadastral_number"], cadastral_number=CADASTRAL_S),
            subject="cadastral_number",
            fee_tiyn=MRP_TIYN * 15 // 100,
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "rg-property-ownership-certificate",
            "registry",
            (
                "Жылжымайтын мүліктің бар (жоқ) екені туралы анықтама",
                "Справка о наличии (отсутствии) недвижимого имущества",
                "Certificate of (non-)ownership of real estate",
            ),
            (
                "Азаматқа тиесілі барлық жылжымайтын мүлік немесе оның жоқтығы.",
                "Все объекты недвижимости гражданина либо их отсутствие.",
                "All real estate a citizen owns, or that they own none.",
            ),
            ["GET /properties", "POST /certificates"],
            # the registry lists a holder's objects for the holder (or whoever directs it)
            _schema(["owner"], owner=IIN_S),
            subject="owner",
            fee_tiyn=MRP_TIYN * 15 // 100,
            steps=[
                CompositeStep(
                    "run",
                    OperationKey.of("registry", "GET /properties"),
                    {"query": {"holder": "$.payload.owner"}},
                )
            ],
        ),
        _svc(
            "rg-encumbrance-registration",
            "registry",
            (
                "Ауыртпалықты (ипотеканы) тіркеу",
                "Регистрация обременения (ипотеки)",
                "Registration of an encumbrance (mortgage)",
            ),
            (
                "Банктер мен соттар үшін ипотека немесе тыйым салуды тіркеу.",
                "Регистрация ипотеки или ареста для банков и судов.",
                "Registration of a mortgage or an arrest, for banks and courts.",
            ),
            ["POST /properties/{cadastral_number}/encumbrances"],
            _schema(
                ["cadastral_number", "kind"],
                cadastral_number=CADASTRAL_S,
                kind={"enum": ["mortgage", "arrest"]},
            ),
            citizen_facing=False,
            channels=INTERAGENCY,
            subject="cadastral_number",
            sla=(1, "working_days"),
            fee_tiyn=MRP_TIYN // 2,
        ),
        _svc(
            "rg-encumbrance-release",
            "registry",
            ("Ауыртпалықты алып тастау", "Снятие обременения", "Release of an encumbrance"),
            (
                "Ипотека өтелгеннен кейін немесе сот шешімімен.",
                "После погашения ипотеки или по решению суда.",
                "After a mortgage is repaid or by a court decision.",
            ),
            ["POST /encumbrances/{id}/release"],
            _schema(["id"], id={"type": "string", "minLength": 1, "maxLength": 36}),
            citizen_facing=False,
            channels=INTERAGENCY,
            sla=(1, "working_days"),
        ),
        _svc(
            "rg-certificate-verify",
            "registry",
            (
                "Анықтаманың түпнұсқалығын тексеру",
                "Проверка подлинности справки",
                "Verification of a certificate",
            ),
            (
                "Электрондық анықтаманың нөмірі немесе QR-коды бойынша.",
                "По номеру или QR-коду электронной справки.",
                "By the number or QR code of an electronic certificate.",
            ),
            ["GET /public/certificates/{number}", "POST /public/certificates/verify"],
            _schema(["number"], number={"type": "string", "minLength": 1, "maxLength": 60}),
            public=True,
            subject="number",
            sla=(1, "minutes"),
            channels=["portal", "mobile", "api"],
        ),
        # ---------------------------------------------------------------- licensing
        *[_license_service(code, names, fee, days) for code, names, fee, days in LICENSE_TYPES],
        _svc(
            "lc-license-types",
            "licensing",
            (
                "Лицензия түрлерінің анықтамалығы",
                "Справочник видов лицензий",
                "Catalogue of license types",
            ),
            (
                "Лицензиялау талаптары және алымдар.",
                "Квалификационные требования и сборы.",
                "Requirements and fees of every license type.",
            ),
            ["GET /license-types", "GET /license-types/{code}"],
            _schema([]),
            sla=(1, "minutes"),
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "lc-application-status",
            "licensing",
            (
                "Лицензия алуға өтінімнің мәртебесі",
                "Статус заявления на лицензию",
                "Status of a license application",
            ),
            (
                "Өтінімнің қаралу барысы.",
                "Ход рассмотрения заявления.",
                "How far the application has got.",
            ),
            ["GET /applications/{id}", "GET /applications"],
            _schema(["id"], id=TEXT_S),
            sla=(1, "minutes"),
            recipients=["legal_entity"],
        ),
        _svc(
            "lc-application-decision",
            "licensing",
            (
                "Лицензия беру туралы шешім",
                "Решение по заявлению на лицензию",
                "Decision on a license application",
            ),
            ("Лицензиарның шешімі.", "Решение лицензиара.", "The licensor's decision."),
            ["POST /applications/{id}/decision"],
            _schema(
                ["id", "decision", "reason"],
                id=TEXT_S,
                decision={"enum": ["approve", "reject"]},
                reason=REASON_S,
            ),
            citizen_facing=False,
            channels=["agency_office"],
            sla=(15, "working_days"),
        ),
        _svc(
            "lc-license-info",
            "licensing",
            ("Лицензия туралы мәліметтер", "Сведения о лицензии", "License details"),
            (
                "Лицензия иесі, түрі және мерзімі.",
                "Владелец, вид и срок действия лицензии.",
                "Holder, type and validity of a license.",
            ),
            ["GET /licenses/{number}"],
            _schema(["number"], number=TEXT_S),
            subject="number",
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "lc-license-suspension",
            "licensing",
            (
                "Лицензияның қолданылуын тоқтата тұру",
                "Приостановление действия лицензии",
                "Suspension of a license",
            ),
            (
                "Бақылау органдары үшін.",
                "Для контролирующих органов.",
                "For supervisory authorities.",
            ),
            ["POST /licenses/{number}/suspend"],
            _schema(["number", "reason"], number=TEXT_S, reason=REASON_S),
            citizen_facing=False,
            channels=INTERAGENCY,
            subject="number",
            sla=(1, "working_days"),
        ),
        _svc(
            "lc-license-revocation",
            "licensing",
            ("Лицензияны кері қайтарып алу", "Лишение (отзыв) лицензии", "Revocation of a license"),
            (
                "Сот шешімімен немесе иесінің өтініші бойынша.",
                "По решению суда или заявлению владельца.",
                "By a court decision or at the holder's request.",
            ),
            ["POST /licenses/{number}/revoke"],
            _schema(["number", "reason"], number=TEXT_S, reason=REASON_S),
            citizen_facing=False,
            channels=INTERAGENCY,
            subject="number",
            sla=(1, "working_days"),
        ),
        _svc(
            "lc-license-verify",
            "licensing",
            (
                "Лицензияның түпнұсқалығын тексеру",
                "Проверка подлинности лицензии",
                "Verification of a license",
            ),
            (
                "Кез келген адам лицензияны нөмірі бойынша тексере алады.",
                "Любой может проверить лицензию по номеру.",
                "Anyone can check a license by its number.",
            ),
            ["GET /public/licenses/{number}", "POST /public/licenses/verify"],
            _schema(["number"], number=TEXT_S),
            public=True,
            subject="number",
            sla=(1, "minutes"),
            channels=["portal", "mobile", "api"],
        ),
        # ---------------------------------------------------------------- payments
        _svc(
            "pm-state-duty-payment",
            "payments",
            (
                "Мемлекеттік бажды төлеу",
                "Оплата государственной пошлины",
                "Payment of a state duty",
            ),
            (
                "Төлем шлюзі арқылы шотты онлайн төлеу.",
                "Онлайн-оплата счёта через платёжный шлюз.",
                "Online payment of an invoice through the payment gateway.",
            ),
            ["POST /invoices/{id}/payments", "GET /invoices/{id}"],
            _schema(["id"], id=TEXT_S),
            subject="id",
            sla=(1, "minutes"),
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "pm-fine-payment",
            "payments",
            ("Айыппұлдарды төлеу", "Оплата штрафов", "Payment of fines"),
            (
                "Әкімшілік айыппұлдарды онлайн төлеу.",
                "Онлайн-оплата административных штрафов.",
                "Online payment of administrative fines.",
            ),
            ["GET /invoices", "POST /invoices/{id}/payments"],
            _schema(["payer"], payer=IIN_S),
            subject="payer",
            sla=(1, "minutes"),
        ),
        _svc(
            "pm-invoice-issue",
            "payments",
            (
                "Мемлекеттік алымға шот шығару",
                "Выставление счёта на государственный сбор",
                "Issue of an invoice for a state fee",
            ),
            (
                "Ведомстволар үшін шот шығару.",
                "Выставление счёта ведомствами.",
                "Agencies issue invoices.",
            ),
            ["POST /invoices"],
            _schema(
                [
                    "payer",
                    "amount_tiyn",
                    "purpose",
                    "kbk",
                    "beneficiary_agency",
                    "due_date",
                    "reference",
                ],
                payer=IIN_OR_BIN_S,
                amount_tiyn=TIYN_S,
                purpose=TEXT_S,
                kbk={"type": "string", "pattern": "^[0-9]{6}$"},
                beneficiary_agency={"type": "string", "minLength": 2, "maxLength": 50},
                due_date=DATE_S,
                reference={"type": "string", "minLength": 1, "maxLength": 100},
            ),
            citizen_facing=False,
            channels=INTERAGENCY,
            sla=(1, "minutes"),
        ),
        _svc(
            "pm-invoice-cancel",
            "payments",
            ("Шотты жою", "Аннулирование счёта", "Cancellation of an invoice"),
            (
                "Өтінім қайтарылғанда ведомство шотты жояды.",
                "Ведомство аннулирует счёт при отказе в заявлении.",
                "An agency cancels an invoice when an application is withdrawn.",
            ),
            ["POST /invoices/{id}/cancel"],
            _schema(["id", "reason"], id=TEXT_S, reason=TEXT_S),
            citizen_facing=False,
            channels=INTERAGENCY,
            subject="id",
            sla=(1, "minutes"),
        ),
        _svc(
            "pm-duty-refund",
            "payments",
            (
                "Артық төленген мемлекеттік бажды қайтару",
                "Возврат излишне уплаченной государственной пошлины",
                "Refund of an overpaid state duty",
            ),
            (
                "Төлеушінің шотына қаражатты қайтару.",
                "Возврат средств на счёт плательщика.",
                "Money goes back to the payer.",
            ),
            ["POST /invoices/{id}/refunds", "GET /invoices/{id}"],
            _schema(["id", "amount_tiyn", "reason"], id=TEXT_S, amount_tiyn=TIYN_S, reason=TEXT_S),
            subject="id",
            sla=(5, "working_days"),
            recipients=["individual", "legal_entity"],
        ),
        _svc(
            "pm-birth-allowance",
            "payments",
            (
                "Бала тууына байланысты біржолғы жәрдемақы",
                "Единовременное пособие в связи с рождением ребёнка",
                "One-off childbirth allowance",
            ),
            (
                "Бала туған кезде ата-анасының біріне төленеді.",
                "Выплачивается одному из родителей при рождении ребёнка.",
                "Paid to a parent when a child is born.",
            ),
            ["POST /allowances", "GET /payouts/{id}"],
            _schema(["child_iin"], child_iin=IIN_S),
            sla=(8, "working_days"),
            channels=ONLINE_CSC,
            steps=[_allowance_step("childbirth", "$.payload.child_iin")],
        ),
        _svc(
            "pm-funeral-allowance",
            "payments",
            (
                "Жерлеуге арналған біржолғы төлем",
                "Единовременная выплата на погребение",
                "One-off funeral allowance",
            ),
            (
                "Қайтыс болған адамның отбасы мүшесіне төленеді.",
                "Выплачивается члену семьи умершего.",
                "Paid to a family member of the deceased.",
            ),
            ["POST /allowances", "GET /payouts/{id}"],
            _schema(["deceased_iin"], deceased_iin=IIN_S),
            sla=(5, "working_days"),
            channels=ONLINE_CSC,
            steps=[_allowance_step("funeral", "$.payload.deceased_iin")],
        ),
        _svc(
            "pm-payout-status",
            "payments",
            ("Төлемнің мәртебесі", "Статус выплаты", "Status of a payout"),
            (
                "Жәрдемақы немесе төлем қай кезеңде.",
                "На каком этапе выплата пособия.",
                "Where an allowance payout stands.",
            ),
            ["GET /payouts/{id}"],
            _schema(["id"], id=TEXT_S),
            subject="id",
            sla=(1, "minutes"),
        ),
        _svc(
            "pm-reconciliation-report",
            "payments",
            (
                "Төлемдерді салыстыру есебі",
                "Отчёт сверки платежей",
                "Payment reconciliation report",
            ),
            (
                "Ведомстволар мен Қазынашылық үшін.",
                "Для ведомств и Казначейства.",
                "For agencies and the Treasury.",
            ),
            ["GET /reports/reconciliation"],
            _schema(["date"], date=DATE_S),
            citizen_facing=False,
            channels=INTERAGENCY,
            sla=(1, "hours"),
        ),
        # ---------------------------------------------------------------- notary
        _svc(
            "nt-power-of-attorney",
            "notary",
            (
                "Сенімхатты куәландыру",
                "Удостоверение доверенности",
                "Certification of a power of attorney",
            ),
            (
                "Электрондық нотариаттық сенімхат: тараптар мен нотариус ЭЦҚ-мен қол қояды.",
                "Электронная нотариальная доверенность: стороны и нотариус подписывают ЭЦП.",
                "An electronic notarial power of attorney signed by the parties and the notary.",
            ),
            [
                "POST /acts",
                "GET /acts/{id_or_number}",
                "POST /acts/{id}/signatures",
                "POST /acts/{id}/notary-signature",
            ],
            # the principal is the applicant (the notary refuses anyone else applying)
            _schema(
                ["notary_iin", "attorney_iin", "powers", "valid_until"],
                notary_iin=IIN_S,
                attorney_iin=IIN_S,
                powers={
                    **_list_of({"type": "string", "minLength": 3, "maxLength": 500}),
                    "minItems": 1,
                },
                valid_from=DATE_S,
                valid_until=DATE_S,
                may_delegate={"type": "boolean"},
            ),
            fee_tiyn=MRP_TIYN // 2,
            sla=(1, "working_days"),
            channels=["portal", "agency_office"],
            steps=[
                CompositeStep(
                    "run",
                    OperationKey.of("notary", "POST /acts"),
                    {
                        "body": {
                            "kind": "power_of_attorney",
                            "notary_iin": "$.payload.notary_iin",
                            "principal_iin": "$.applicant",
                            "attorney_iin": "$.payload.attorney_iin",
                            "powers": "$.payload.powers",
                            "valid_from": "$.payload.valid_from",
                            "valid_until": "$.payload.valid_until",
                            "may_delegate": "$.payload.may_delegate",
                        }
                    },
                )
            ],
        ),
        _svc(
            "nt-property-sale",
            "notary",
            (
                "Жылжымайтын мүлікті сатып алу-сату шартын куәландыру",
                "Удостоверение договора купли-продажи недвижимости",
                "Certification of a real estate sale contract",
            ),
            (
                "Тараптар мен мүлік тізілімде тексеріледі; тіркеуден кейін меншік ауысады.",
                "Стороны и объект проверяются в реестрах; после регистрации переходит право собственности.",
                "Parties and the property are checked in the registers; ownership passes on registration.",
            ),
            [
                "POST /acts",
                "GET /acts/{id_or_number}",
                "POST /acts/{id}/signatures",
                "POST /acts/{id}/notary-signature",
            ],
            # the applicant must be a buyer or a seller (the notary's rule); sellers omitted:
            # the registry's owners, with their shares
            _schema(
                ["notary_iin", "cadastral_number", "buyers", "price_tiyn"],
                notary_iin=IIN_S,
                cadastral_number=CADASTRAL_S,
                # the notary's HolderIn: ``iin`` and ``share`` (no sellers: the owners sell)
                sellers=_holders("iin", IIN_S, 20),
                buyers=_holders("iin", IIN_S, 20),
                price_tiyn=TIYN_S,
            ),
            fee_tiyn=MRP_TIYN,
            sla=(1, "working_days"),
            channels=["agency_office"],
            steps=[
                CompositeStep(
                    "run",
                    OperationKey.of("notary", "POST /acts"),
                    {
                        "body": {
                            "kind": "property_sale",
                            "notary_iin": "$.payload.notary_iin",
                            "cadastral_number": "$.payload.cadastral_number",
                            "sellers": "$.payload.sellers",
                            "buyers": "$.payload.buyers",
                            "price_tiyn": "$.payload.price_tiyn",
                        }
                    },
                    fails_when={"status": ["blocked"]},
                )
            ],
        ),
        _svc(
            "nt-copy-certification",
            "notary",
            (
                "Құжат көшірмесінің дұрыстығын куәландыру",
                "Свидетельствование верности копий документов",
                "Certification of true copies of documents",
            ),
            (
                "Нотариус көшірменің түпнұсқаға сәйкестігін растайды.",
                "Нотариус подтверждает соответствие копии оригиналу.",
                "A notary confirms a copy matches the original.",
            ),
            ["POST /acts", "POST /acts/{id}/notary-signature"],
            # a copy of the applicant's own document: the applicant, never a form field
            _schema(
                ["notary_iin", "document_title", "document_sha256", "pages"],
                notary_iin=IIN_S,
                document_title=TEXT_S,
                document_sha256={"type": "string", "pattern": "^[0-9a-f]{64}$"},
                pages={"type": "integer", "minimum": 1, "maximum": 1000},
            ),
            steps=[
                CompositeStep(
                    "run",
                    OperationKey.of("notary", "POST /acts"),
                    {
                        "body": {
                            "kind": "copy_certification",
                            "notary_iin": "$.payload.notary_iin",
                            "applicant_iin": "$.applicant",
                            "document_title": "$.payload.document_title",
                            "document_sha256": "$.payload.document_sha256",
                            "pages": "$.payload.pages",
                        }
                    },
                )
            ],
            fee_tiyn=MRP_TIYN * 3 // 100,
            sla=(1, "hours"),
            channels=["agency_office"],
        ),
        _svc(
            "nt-poa-revocation",
            "notary",
            ("Сенімхаттың күшін жою", "Отмена доверенности", "Revocation of a power of attorney"),
            (
                "Сенім білдіруші сенімхатты кері қайтарады.",
                "Доверитель отменяет выданную доверенность.",
                "The principal revokes a power of attorney.",
            ),
            ["POST /acts/{id}/revoke"],
            _schema(["id", "reason"], id=UUID_S, reason=REASON_S),
            fee_tiyn=MRP_TIYN // 10,
            sla=(1, "hours"),
            channels=["portal", "agency_office"],
        ),
        _svc(
            "nt-act-content",
            "notary",
            (
                "Нотариаттық әрекеттің мәтіні",
                "Текст нотариального действия",
                "Content of a notarial act",
            ),
            (
                "Тараптар үшін қол қойылған құжат.",
                "Подписанный документ для сторон.",
                "The signed document, for the parties.",
            ),
            ["GET /acts/{id}/content", "GET /acts/{id_or_number}"],
            _schema(["id"], id=UUID_S),
            sla=(1, "minutes"),
        ),
        _svc(
            "nt-act-verify",
            "notary",
            (
                "Нотариаттық әрекетті тексеру",
                "Проверка нотариального действия",
                "Verification of a notarial act",
            ),
            (
                "Кез келген адам актіні нөмірі бойынша тексере алады.",
                "Любой может проверить акт по номеру.",
                "Anyone can check a notarial act by its number.",
            ),
            ["GET /public/acts/{number}"],
            # the act's number and its verification code (printed on the act)
            _schema(
                ["number", "code"],
                number={"type": "string", "minLength": 3, "maxLength": 24},
                code={"type": "string", "minLength": 4, "maxLength": 16},
            ),
            public=True,
            subject="number",
            sla=(1, "minutes"),
            channels=["portal", "mobile", "api"],
        ),
        _svc(
            "nt-notary-search",
            "notary",
            ("Нотариусты іздеу", "Поиск нотариуса", "Find a notary"),
            (
                "Лицензиясы бар нотариустар тізілімі.",
                "Реестр нотариусов, имеющих лицензию.",
                "The register of licensed notaries.",
            ),
            ["GET /notaries"],
            _schema([], region={"type": "string", "minLength": 1, "maxLength": 100}),
            sla=(1, "minutes"),
        ),
        _svc(
            "nt-notary-registration",
            "notary",
            (
                "Нотариусты тізілімге енгізу",
                "Включение нотариуса в реестр",
                "Registration of a notary",
            ),
            (
                "Нотариаттық палата жаңа нотариусты тіркейді.",
                "Нотариальная палата регистрирует нового нотариуса.",
                "The Notary Chamber registers a new notary.",
            ),
            ["POST /notaries"],
            _schema(
                ["iin", "full_name", "license_number", "region"],
                iin=IIN_S,
                full_name={"type": "string", "minLength": 3, "maxLength": 200},
                license_number={
                    "type": "string",
                    "minLength": 3,
                    "maxLength": 40,
                    "pattern": "^[0-9A-Za-zА-Яа-я./-]+$",
                },
                region={"type": "string", "minLength": 2, "maxLength": 100},
            ),
            citizen_facing=False,
            channels=["agency_office"],
            sla=(5, "working_days"),
        ),
    ]
    return s


def _op(agency: str, name: str) -> OperationKey:
    return OperationKey.of(agency, name)


def composite_services() -> list[PublicService]:
    def composite(
        code: str,
        agency: str,
        name: tuple[str, str, str],
        description: tuple[str, str, str],
        steps: list[CompositeStep],
        schema: dict[str, Any],
        sla: tuple[int, str],
        fee_tiyn: int = 0,
    ) -> PublicService:
        return PublicService(
            code=code,
            agency=agency,
            kind="composite",
            name=Localized(*name),
            description=Localized(*description),
            operations=[st.operation for st in steps],
            input_schema=schema,
            fee_tiyn=fee_tiyn,
            sla=SlaTerm(sla[0], sla[1]),
            channels=["portal", "mobile"],
            citizen_facing=True,
            public=False,
            subject_param=None,
            steps=steps,
        )

    return [
        composite(
            "cx-birth-of-child",
            "registry",
            ("Баланың тууы", "Рождение ребёнка", "Birth of a child"),
            (
                "Бір өтініш: тууды тіркеу, баланың ЖСН-і және біржолғы жәрдемақы.",
                "Одно заявление: регистрация рождения, ИИН ребёнка и единовременное пособие.",
                "One application: birth registration, the child's IIN and the childbirth allowance.",
            ),
            [
                CompositeStep(
                    "register_birth",
                    _op("registry", "POST /births"),
                    {
                        "body": {
                            "surname": "$.payload.surname",
                            "given_name": "$.payload.given_name",
                            "patronymic": "$.payload.patronymic",
                            "birth_date": "$.payload.birth_date",
                            "sex": "$.payload.sex",
                            "place": "$.payload.place",
                            "mother_iin": "$.payload.mother_iin",
                            "father_iin": "$.payload.father_iin",
                        }
                    },
                    completes_on="kz.egov.registry.birth.registered.v1",
                ),
                CompositeStep(
                    "confirm_child_record",
                    _op("identity", "GET /persons/{iin}"),
                    {"path": {"iin": "$.steps.register_birth.event.child_iin"}},
                ),
                CompositeStep(
                    "birth_allowance",
                    _op("payments", "POST /allowances"),
                    {
                        "body": {
                            "kind": "childbirth",
                            "subject_iin": "$.steps.register_birth.event.child_iin",
                            "reference": "$.steps.register_birth.event.act_number",
                        }
                    },
                    completes_on="kz.egov.payments.payout.completed.v1",
                ),
            ],
            _schema(
                ["surname", "given_name", "birth_date", "sex", "place", "mother_iin"],
                surname=NAME_S,
                given_name=NAME_S,
                patronymic=NAME_S,
                birth_date=DATE_S,
                sex={"enum": ["male", "female"]},
                place=PLACE_S,
                mother_iin=IIN_S,
                father_iin=IIN_S,
            ),
            (8, "working_days"),
        ),
        composite(
            "cx-open-business",
            "registry",
            ("Бизнес ашу", "Открытие бизнеса", "Open a business"),
            (
                "ЖШС тіркеу, мемлекеттік бажды төлеу, тіркеу туралы анықтама; қажет болса — "
                "лицензияға өтініш, бәрі бір өтінішпен.",
                "Регистрация ТОО, оплата госпошлины, справка о регистрации; при желании — "
                "заявление на лицензию, всё одним заявлением.",
                "LLP registration, the state duty paid, the registration certificate; optionally "
                "a license application — all in one application.",
            ),
            [
                CompositeStep(
                    "register_llp",
                    _op("registry", "POST /legal-entities"),
                    {
                        "body": {
                            "name_kk": "$.payload.name_kk",
                            "name_ru": "$.payload.name_ru",
                            "legal_form": "LLP",
                            "director_iin": "$.applicant",
                            "founders": "$.payload.founders",
                            "address": "$.payload.address",
                            "activity_codes": "$.payload.activity_codes",
                            # payments issues the state duty with this reference
                            "application_ref": "$.application_id",
                        }
                    },
                    completes_on="kz.egov.registry.legal_entity.registered.v1",
                    compensation=_op("registry", "POST /legal-entities/{bin}/status"),
                    compensation_input={
                        "path": {"bin": "$.steps.register_llp.event.bin"},
                        "body": {
                            "status": "liquidated",
                            "reason": "composite service compensated",
                        },
                    },
                ),
                # payments itself issues the duty on registry.legal_entity.registered (payer:
                # the BIN, the director may pay it, reference: this application); the step
                # reads the entity's invoices and waits until that invoice is paid
                CompositeStep(
                    "state_duty",
                    _op("payments", "GET /invoices"),
                    {"query": {"payer": "$.steps.register_llp.event.bin"}},
                    completes_on="kz.egov.payments.invoice.paid.v1",
                    completes_when={"0.status": ["paid"]},
                    wait_for=["$.application_id"],
                ),
                CompositeStep(
                    "license_application",
                    _op("licensing", "POST /applications"),
                    {
                        "body": {
                            "license_type": "$.payload.license.license_type",
                            "applicant_iin": "$.applicant",
                            "applicant_bin": "$.steps.register_llp.event.bin",
                            "details": "$.payload.license.details",
                        }
                    },
                    when="$.payload.license",
                ),
                CompositeStep(
                    "registration_certificate",
                    _op("registry", "POST /certificates"),
                    {
                        "body": {
                            "kind": "legal_entity_registration",
                            "subject": "$.steps.register_llp.event.bin",
                        }
                    },
                ),
            ],
            _schema(
                ["name_kk", "name_ru", "founders", "address"],
                name_kk=TEXT_S,
                name_ru=TEXT_S,
                founders=_holders("id", IIN_OR_BIN_S),
                address=TEXT_S,
                activity_codes=ACTIVITY_CODES_S,
                license={
                    "type": "object",
                    "description": "optional: apply for a license for the new LLP at once",
                    "required": ["license_type"],
                    "properties": {
                        "license_type": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{1,39}$"},
                        "details": {"type": "object"},
                    },
                    "additionalProperties": False,
                },
            ),
            (1, "working_days"),
            fee_tiyn=26 * MRP_TIYN // 4,
        ),
        composite(
            "cx-buy-home",
            "notary",
            ("Үй сатып алу", "Покупка жилья", "Buy a home"),
            (
                "Нотариаттық сатып алу-сату шарты, алымды төлеу, қолтаңбалар, шартты тіркеу, "
                "меншікті тіркеу және меншік туралы анықтама.",
                "Нотариальный договор купли-продажи, оплата сбора, подписи, регистрация "
                "договора, переход права собственности и справка о собственности.",
                "Notarial sale contract, fee payment, signatures, registration of the act, "
                "transfer of ownership and the certificate of ownership.",
            ),
            [
                # the act is drafted, checked, and the notary bills its own fee (payments); the
                # notary takes the sellers (the owners and their shares) from the registry — a
                # buyer cannot read a stranger's property record, and needs not
                CompositeStep(
                    "sale_contract",
                    _op("notary", "POST /acts"),
                    {
                        "body": {
                            "kind": "property_sale",
                            "notary_iin": "$.payload.notary_iin",
                            "cadastral_number": "$.payload.cadastral_number",
                            "buyers": "$.payload.buyers",
                            "price_tiyn": "$.payload.price_tiyn",
                        }
                    },
                    # a failed check (arrest, a seller who does not own the share…) blocks it
                    fails_when={"status": ["blocked"]},
                    compensation=_op("notary", "POST /acts/{id}/revoke"),
                    compensation_input={
                        "path": {"id": "$.steps.sale_contract.result.id"},
                        "body": {"reason": "composite service compensated"},
                    },
                ),
                # that invoice, paid (not a second one)
                CompositeStep(
                    "notary_fee",
                    _op("payments", "GET /invoices/{id}"),
                    {"path": {"id": "$.steps.sale_contract.result.fee.invoice_id"}},
                    completes_on="kz.egov.payments.invoice.paid.v1",
                    completes_when={"status": ["paid"]},
                    wait_for=["$.steps.sale_contract.result.fee.invoice_id"],
                ),
                # the parties, then the notary, sign; nothing else is awaited (the act registers
                # itself on the last signature of a paid act)
                CompositeStep(
                    "signatures",
                    _op("notary", "GET /acts/{id_or_number}"),
                    {"path": {"id_or_number": "$.steps.sale_contract.result.id"}},
                    completes_on="kz.egov.notary.act.registered.v1",
                    completes_when={"awaiting": [[]]},
                    fails_when={"status": ["blocked", "revoked"]},
                    wait_for=["$.steps.sale_contract.result.id"],
                ),
                CompositeStep(
                    "registration",
                    _op("notary", "GET /acts/{id_or_number}"),
                    {"path": {"id_or_number": "$.steps.sale_contract.result.id"}},
                    completes_on="kz.egov.notary.act.registered.v1",
                    completes_when={"status": ["registered", "executed"]},
                    fails_when={"status": ["blocked", "revoked"]},
                    wait_for=["$.steps.sale_contract.result.id"],
                ),
                # the registry transfers the ownership on the registered act (and the notary
                # marks the act executed on the registry's event)
                CompositeStep(
                    "ownership_transferred",
                    _op("notary", "GET /acts/{id_or_number}"),
                    {"path": {"id_or_number": "$.steps.sale_contract.result.id"}},
                    completes_on="kz.egov.registry.property.transferred.v1",
                    completes_when={"status": ["executed"]},
                    fails_when={"status": ["rejected"]},
                    wait_for=["$.steps.registration.result.number"],
                ),
                CompositeStep(
                    "ownership_certificate",
                    _op("registry", "POST /certificates"),
                    {
                        "body": {
                            "kind": "property_ownership",
                            "subject": "$.applicant",
                            "cadastral_number": "$.payload.cadastral_number",
                        }
                    },
                ),
            ],
            _schema(
                ["cadastral_number", "notary_iin", "buyers", "price_tiyn"],
                cadastral_number=CADASTRAL_S,
                notary_iin=IIN_S,
                # the notary's HolderIn (``iin`` and ``share``); the sellers are the owners
                buyers=_holders("iin", IIN_S, 20),
                price_tiyn=TIYN_S,
            ),
            (3, "working_days"),
            fee_tiyn=MRP_TIYN,
        ),
        composite(
            "cx-death-of-relative",
            "registry",
            ("Жақын адамның қайтыс болуы", "Смерть близкого человека", "Death of a relative"),
            (
                "Қайтыс болуды тіркеу және жерлеуге арналған төлем.",
                "Регистрация смерти и выплата на погребение.",
                "Death registration and the funeral allowance.",
            ),
            [
                CompositeStep(
                    "register_death",
                    _op("registry", "POST /deaths"),
                    {
                        "body": {
                            "iin": "$.payload.deceased_iin",
                            "date_of_death": "$.payload.date_of_death",
                            "place": "$.payload.place",
                        }
                    },
                    completes_on="kz.egov.registry.death.registered.v1",
                ),
                CompositeStep(
                    "funeral_allowance",
                    _op("payments", "POST /allowances"),
                    {
                        "body": {
                            "kind": "funeral",
                            "subject_iin": "$.payload.deceased_iin",
                            "reference": "$.steps.register_death.event.act_number",
                        }
                    },
                    completes_on="kz.egov.payments.payout.completed.v1",
                ),
            ],
            _schema(
                ["deceased_iin", "date_of_death", "place"],
                deceased_iin=IIN_S,
                date_of_death=DATE_S,
                place=TEXT_S,
            ),
            (5, "working_days"),
        ),
    ]


def seed_services() -> list[PublicService]:
    return [*simple_services(), *composite_services()]


def seed_grants() -> list[tuple[str, str]]:
    """Default ACL: the agencies' documented flows, and the gateway's own needs (with reasons).
    Composite steps need no grant: they run as the applicant (the citizen's mandate)."""
    pairs = {(client, op) for client, ops in DEFAULT_GRANTS.items() for op in ops}
    pairs |= {("gateway", op) for op in GATEWAY_GRANTS}
    return sorted(pairs)


def withdrawn_grants() -> list[tuple[str, str]]:
    return [("gateway", op) for op in WITHDRAWN_GATEWAY_GRANTS if op not in GATEWAY_GRANTS]
