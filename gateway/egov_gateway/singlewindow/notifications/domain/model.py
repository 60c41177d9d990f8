"""Notifications of the citizen's inbox (pure domain): what each event tells whom.

A notification is written in the three languages of the register. *Important* ones (an offer,
an application completed or failed, a term (SLA) breach, an allowance paid) also go out as an
SMS to the phone identity holds for the citizen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def application_status(
    iin: str, application_id: str, service_code: str, status: str, reason: str | None
) -> NotificationDraft:
    title, important = _STATUS_TEXT.get(
        status,
        (
            text3("Өтініш мәртебесі өзгерді", "Статус заявления изменён", "Application updated"),
            False,
        ),
    )
    why = f" — {reason}" if reason else ""
    body = text3(
        f"{service_code}: {status}{why}",
        f"{service_code}: {status}{why}",
        f"{service_code}: {status}{why}",
    )
    kind = "sla_breach" if status == "overdue" else f"application_{status}"
    return NotificationDraft(iin, kind, title, body, "application", application_id, important)


def offer_made(iin: str, offer_id: str, title: Text3, expires_at: datetime) -> NotificationDraft:
    until = expires_at.date().isoformat()
    return NotificationDraft(
        iin,
        "offer_made",
        text3("Мемлекет сізге қызмет ұсынады", "Государство предлагает вам услугу", "An offer"),
        text3(
            f"{title['kk']}. Ұсыныс {until} дейін жарамды.",
            f"{title['ru']}. Предложение действует до {until}.",
            f"{title['en']}. The offer stands until {until}.",
        ),
        "offer",
        offer_id,
        important=True,
    )


def _kzt(tiyn: int) -> str:
    return f"{tiyn // 100}.{tiyn % 100:02d} KZT"


def invoice_issued(
    iin: str, invoice_id: str, amount_tiyn: int, due: str, reference: str
) -> NotificationDraft:
    return NotificationDraft(
        iin,
        "invoice_issued",
        text3("Төлеуге шот", "Счёт к оплате", "Invoice to pay"),
        text3(
            f"{_kzt(amount_tiyn)}, {due} дейін ({reference}).",
            f"{_kzt(amount_tiyn)}, оплатить до {due} ({reference}).",
            f"{_kzt(amount_tiyn)}, due {due} ({reference}).",
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
        text3(
            f"{_kzt(amount_tiyn)} ({reference}).",
            f"{_kzt(amount_tiyn)} ({reference}).",
            f"{_kzt(amount_tiyn)} ({reference}).",
        ),
        "invoice",
        invoice_id,
        important=False,
    )


def payout_completed(iin: str, payout_id: str, amount_tiyn: int, purpose: str) -> NotificationDraft:
    return NotificationDraft(
        iin,
        "payout_completed",
        text3("Төлем аударылды", "Выплата перечислена", "Payout made"),
        text3(
            f"{_kzt(amount_tiyn)}: {purpose}.",
            f"{_kzt(amount_tiyn)}: {purpose}.",
            f"{_kzt(amount_tiyn)}: {purpose}.",
        ),
        "payout",
        payout_id,
        important=True,
    )


def license_decided(
    iin: str, application_id: str, license_type: str, approved: bool, detail: str | None
) -> NotificationDraft:
    if approved:
        title = text3("Лицензия берілді", "Лицензия выдана", "License issued")
    else:
        title = text3("Лицензия беруден бас тартылды", "В лицензии отказано", "License refused")
    extra = f" — {detail}" if detail else ""
    return NotificationDraft(
        iin,
        "license_decided",
        title,
        text3(f"{license_type}{extra}", f"{license_type}{extra}", f"{license_type}{extra}"),
        "license_application",
        application_id,
        important=True,
    )


def license_overdue(iin: str, application_id: str, license_type: str) -> NotificationDraft:
    return NotificationDraft(
        iin,
        "sla_breach",
        _STATUS_TEXT["overdue"][0],
        text3(license_type, license_type, license_type),
        "license_application",
        application_id,
        important=True,
    )


def sms_text(n: NotificationDraft | Notification, lang: str = "ru") -> str:
    """The SMS body (short; Russian by default, as identity's SMS gateway sends)."""
    return f"eGov: {n.title.get(lang, n.title['en'])}. {n.body.get(lang, n.body['en'])}"[:300]
