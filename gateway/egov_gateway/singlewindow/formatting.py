"""How the single window writes dates and money for people, in kk/ru/en (no codes, no tiyn).

``4 желтоқсан 2026 ж.`` / ``4 декабря 2026 г.`` / ``4 December 2026``;
``149 416,00 ₸`` (kk, ru) / ``₸149,416.00`` (en) — as the portal's Intl formatting writes them.
"""

from __future__ import annotations

from datetime import date, datetime

LANGS = ("kk", "ru", "en")

MONTHS: dict[str, tuple[str, ...]] = {
    "kk": (
        "қаңтар",
        "ақпан",
        "наурыз",
        "сәуір",
        "мамыр",
        "маусым",
        "шілде",
        "тамыз",
        "қыркүйек",
        "қазан",
        "қараша",
        "желтоқсан",
    ),
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def format_date(value: str | date, lang: str) -> str:
    """A calendar date (an ISO string's first ten characters, or a date/datetime)."""
    if isinstance(value, datetime):
        d = value.date()
    elif isinstance(value, date):
        d = value
    else:
        d = date.fromisoformat(str(value)[:10])
    month = MONTHS[lang if lang in MONTHS else "en"][d.month - 1]
    if lang == "kk":
        return f"{d.day} {month} {d.year} ж."
    if lang == "ru":
        return f"{d.day} {month} {d.year} г."
    return f"{d.day} {month} {d.year}"


def format_tenge(tiyn: int, lang: str) -> str:
    """An amount held in tiyn, written in tenge: 149 416,00 ₸ (no-break spaces), ₸149,416.00."""
    sign = "-" if tiyn < 0 else ""
    whole, cents = divmod(abs(int(tiyn)), 100)
    if lang == "en":
        return f"{sign}₸{whole:,}.{cents:02d}"
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{sign}{grouped},{cents:02d}\u00a0₸"
