"""Notifications of the citizen's inbox (pure domain): what each event tells whom.

A notification is written in the three languages of the register. *Important* ones (an offer,
an application completed or failed, a term (SLA) breach, an allowance paid) also go out as an
SMS to the phone identity holds for the citizen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from egov_gateway.singlewindow.formatting import format_date, format_tenge
from meshkit.ids import is_valid_iin

Text3 = dict[str, str]  # {"kk": ..., "ru": ..., "en": ...}


def text3(kk: str, ru: str, en: str) -> Text3:
    return {"kk": kk, "ru": ru, "en": en}


@dataclass(frozen=True)
class NotificationDraft:
    citizen_iin: str
    kind: str
    title: Text3
    body: Text3
    ref_type: str | None = None
    ref_id: str | None = None
    important: bool = False


@dataclass
class Notification:
    id: int
    citizen_iin: str
    kind: str
    title: Text3
    body: Text3
    ref_type: str | None
    ref_id: str | None
    important: bool
    created_at: datetime
    read_at: datetime | None
    sms_status: str | None
    sms_attempts: int = 0


def for_citizen(iin: str | None) -> bool:
    """Only people have an inbox (a BIN payer's invoices reach its people through the BIN)."""
    return iin is not None and is_valid_iin(iin)


# -- what each event says ------------------------------------------------------------------------
_STATUS_TEXT: dict[str, tuple[Text3, bool]] = {
    "submitted": (text3("Өтініш қабылданды", "Заявление принято", "Application received"), False),
    "in_progress": (
        text3("Өтініш орындалуда", "Заявление исполняется", "Application in progress"),
        False,
    ),
    "waiting": (
        text3("Өтініш жауапты күтуде", "Заявление ожидает ответа", "Application awaiting a reply"),
        False,
    ),
    "completed": (
        text3("Қызмет көрсетілді", "Услуга оказана", "Service rendered"),
        True,
    ),
    "failed": (
        text3("Қызмет көрсетілмеді", "В оказании услуги отказано", "Service could not be rendered"),
        True,
    ),
    "compensating": (
        text3("Өтініш тоқтатылуда", "Заявление отменяется", "Application being rolled back"),
        False,
    ),
    "overdue": (
        text3(
            "Қызмет көрсету мерзімі бұзылды",
            "Нарушен срок оказания услуги",
            "The term of the service was breached",
        ),
        True,
    ),
}


#: a service the register does not name (any more)
A_SERVICE = text3("Мемлекеттік қызмет", "Государственная услуга", "A public service")

#: the bodies, per language: the service by name, what happened in words; never a code, an
#: agency's technical reason or an id (the application page has the details)
_STATUS_BODY: dict[str, Text3] = {
    "completed": text3(
        "«{service}»: нәтижесі өтініш бетінде.",
        "«{service}»: результат — на странице заявления.",
        "“{service}”: the result is on the application's page.",
    ),
    "failed": text3(
        "«{service}»: себебі өтініш бетінде.",
        "«{service}»: причина — на странице заявления.",
        "“{service}”: the reason is on the application's page.",
    ),
    "overdue": text3(
        "«{service}»: мерзімі {due} аяқталды.",
        "«{service}»: срок истёк {due}.",
        "“{service}”: the term ended on {due}.",
    ),
}
_DEFAULT_BODY = text3("«{service}».", "«{service}».", "“{service}”.")


def application_status(
    iin: str,
    application_id: str,
    service: Text3,
    status: str,
    *,
    due: datetime | None = None,
) -> NotificationDraft:
    """``service``: the service's name in the three languages (the register's)."""
    title, important = _STATUS_TEXT.get(
        status,
        (
            text3("Өтініш мәртебесі өзгерді", "Статус заявления изменён", "Application updated"),
            False,
        ),
    )
    template = _STATUS_BODY.get(status, _DEFAULT_BODY)
    body = {
        lang: template[lang].format(
            service=service.get(lang) or A_SERVICE[lang],
            due=format_date(due, lang) if due else "",
        )
        for lang in ("kk", "ru", "en")
    }
    kind = "sla_breach" if status == "overdue" else f"application_{status}"
    return NotificationDraft(iin, kind, title, body, "application", application_id, important)


def offer_made(iin: str, offer_id: str, title: Text3, expires_at: datetime) -> NotificationDraft:
    return NotificationDraft(
        iin,
        "offer_made",
        text3("Мемлекет сізге қызмет ұсынады", "Государство предлагает вам услугу", "An offer"),
        text3(
            f"{title['kk']}. Ұсыныс {format_date(expires_at, 'kk')} дейін жарамды.",
            f"{title['ru']}. Предложение действует до {format_date(expires_at, 'ru')}.",
            f"{title['en']}. The offer stands until {format_date(expires_at, 'en')}.",
        ),
        "offer",
        offer_id,
        important=True,
    )


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _ref(reference: str) -> str:
    """A reference a person can quote (an act or license number), never an internal id."""
    return "" if not reference or _UUID.match(reference) else f" ({reference})"


#: what payments pays, in words (its purposes are written for accountants, in one language)
_PURPOSES: dict[str, Text3] = {
    "childbirth": text3(
        "бала туғанда берілетін біржолғы жәрдемақы",
        "единовременное пособие при рождении ребёнка",
        "one-off childbirth allowance",
    ),
    "birth": text3(
        "бала туғанда берілетін біржолғы жәрдемақы",
        "единовременное пособие при рождении ребёнка",
        "one-off childbirth allowance",
    ),
    "funeral": text3("жерлеуге арналған жәрдемақы", "пособие на погребение", "funeral allowance"),
}
_A_PAYOUT = text3("мемлекеттік төлем", "государственная выплата", "a state payment")


def _purpose(purpose: str) -> Text3:
    low = purpose.casefold()
    return next((t for key, t in _PURPOSES.items() if key in low), _A_PAYOUT)


def invoice_issued(
    iin: str, invoice_id: str, amount_tiyn: int, due: str, reference: str
) -> NotificationDraft:
    ref = _ref(reference)
    return NotificationDraft(
        iin,
        "invoice_issued",
        text3("Төлеуге шот", "Счёт к оплате", "Invoice to pay"),
        text3(
            f"{format_tenge(amount_tiyn, 'kk')}, {format_date(due, 'kk')} дейін{ref}.",
            f"{format_tenge(amount_tiyn, 'ru')}, оплатить до {format_date(due, 'ru')}{ref}.",
            f"{format_tenge(amount_tiyn, 'en')}, due {format_date(due, 'en')}{ref}.",
        ),
        "invoice",
        invoice_id,
        important=False,
    )


def invoice_paid(iin: str, invoice_id: str, amount_tiyn: int, reference: str) -> NotificationDraft:
    return NotificationDraft(
        iin,
        "invoice_paid",
        text3("Төлем қабылданды", "Оплата получена", "Payment received"),
        {
            lang: f"{format_tenge(amount_tiyn, lang)}{_ref(reference)}."
            for lang in ("kk", "ru", "en")
        },
        "invoice",
        invoice_id,
        important=False,
    )


def payout_completed(iin: str, payout_id: str, amount_tiyn: int, purpose: str) -> NotificationDraft:
    return NotificationDraft(
        iin,
        "payout_completed",
        text3("Төлем аударылды", "Выплата перечислена", "Payout made"),
        {
            lang: f"{format_tenge(amount_tiyn, lang)}: {_purpose(purpose)[lang]}."
            for lang in ("kk", "ru", "en")
        },
        "payout",
        payout_id,
        important=True,
    )


def license_decided(
    iin: str, application_id: str, licence: Text3, approved: bool, detail: str | None
) -> NotificationDraft:
    """``licence``: the licence type's name in the three languages (licensing's catalogue)."""
    if approved:
        title = text3("Лицензия берілді", "Лицензия выдана", "License issued")
    else:
        title = text3("Лицензия беруден бас тартылды", "В лицензии отказано", "License refused")
    extra = f" — {detail}" if detail else ""
    return NotificationDraft(
        iin,
        "license_decided",
        title,
        {lang: f"{licence[lang]}{extra}" for lang in ("kk", "ru", "en")},
        "license_application",
        application_id,
        important=True,
    )


def license_overdue(iin: str, application_id: str, licence: Text3) -> NotificationDraft:
    return NotificationDraft(
        iin,
        "sla_breach",
        _STATUS_TEXT["overdue"][0],
        dict(licence),
        "license_application",
        application_id,
        important=True,
    )


#: a licence type licensing's catalogue does not (yet) name: still words, never its code
SOME_LICENCE = text3("Лицензия", "Лицензия", "Licence")


def sms_text(n: NotificationDraft | Notification, lang: str = "ru") -> str:
    """The SMS body (short; Russian by default, as identity's SMS gateway sends)."""
    return f"eGov: {n.title.get(lang, n.title['en'])}. {n.body.get(lang, n.body['en'])}"[:300]
