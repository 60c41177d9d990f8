"""A signed document as a person reads it.

Agencies issue documents as compact JWS (``meshkit.documents``): a number, a kind, a title in
the three languages, the issue date and the certified data. The single window shows them to
the applicant — never the JWS itself — with every field labelled in the reader's language,
values a person reads (dates with month names, sex in words), and a link (and QR code) to the
public verification page, which checks the signature against the national CA.

Pure: no HTTP, no storage. The signature is not checked here (the document came from the
agency through the exchange, and anyone checks it at the verification page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from egov_gateway.singlewindow.formatting import LANGS, format_date

__all__ = ["LANGS", "Document", "Field", "decode", "documents_in", "format_date"]

#: the agency that signs, as printed on its documents
ISSUERS: dict[str, tuple[str, str, str]] = {
    "registry": (
        "Қазақстан Республикасы Әділет министрлігі",
        "Министерство юстиции Республики Казахстан",
        "Ministry of Justice of the Republic of Kazakhstan",
    ),
    "licensing": (
        "Қазақстан Республикасының лицензиялау органы",
        "Лицензиар Республики Казахстан",
        "Licensing authority of the Republic of Kazakhstan",
    ),
    "notary": (
        "Қазақстан Республикасының нотариаты",
        "Нотариат Республики Казахстан",
        "Notariat of the Republic of Kazakhstan",
    ),
}

#: the labels of a document's fields (kk, ru, en); a field with none is not shown
LABELS: dict[str, tuple[str, str, str]] = {
    "child_iin": ("Баланың ЖСН-і", "ИИН ребёнка", "Child's IIN"),
    "surname": ("Тегі", "Фамилия", "Surname"),
    "given_name": ("Аты", "Имя", "Given name"),
    "patronymic": ("Әкесінің аты", "Отчество", "Patronymic"),
    "birth_date": ("Туған күні", "Дата рождения", "Date of birth"),
    "sex": ("Жынысы", "Пол", "Sex"),
    "place": ("Туған жері", "Место рождения", "Place of birth"),
    "mother_iin": ("Анасының ЖСН-і", "ИИН матери", "Mother's IIN"),
    "father_iin": ("Әкесінің ЖСН-і", "ИИН отца", "Father's IIN"),
    "act_number": ("Акт жазбасының нөмірі", "Номер актовой записи", "Civil record number"),
    "registered_at": ("Тіркелген күні", "Дата регистрации", "Registered on"),
    "iin": ("ЖСН", "ИИН", "IIN"),
    "bin": ("БСН", "БИН", "BIN"),
    "full_name": ("Аты-жөні", "ФИО", "Full name"),
    "holder": ("Құқық иесі", "Правообладатель", "Holder"),
    "holder_name": ("Құқық иесінің атауы", "Наименование правообладателя", "Holder's name"),
    "name_kk": ("Атауы (қазақша)", "Наименование (каз.)", "Name (Kazakh)"),
    "name_ru": ("Атауы (орысша)", "Наименование (рус.)", "Name (Russian)"),
    "legal_form": ("Ұйымдық-құқықтық нысаны", "Организационно-правовая форма", "Legal form"),
    "director_iin": ("Басшының ЖСН-і", "ИИН руководителя", "Director's IIN"),
    "address": ("Мекенжайы", "Адрес", "Address"),
    "activity_codes": ("Қызмет түрлері (ЭҚЖЖ)", "Виды деятельности (ОКЭД)", "Activities (OKED)"),
    "cadastral_number": ("Кадастрлық нөмірі", "Кадастровый номер", "Cadastral number"),
    "area_m2": ("Ауданы, м²", "Площадь, м²", "Area, m²"),
    "share": ("Үлесі", "Доля", "Share"),
}

#: values that are codes in the data, in words
VALUES: dict[str, tuple[str, str, str]] = {
    "male": ("ер", "мужской", "male"),
    "female": ("әйел", "женский", "female"),
    "LLP": (
        "жауапкершілігі шектеулі серіктестік",
        "товарищество с ограниченной ответственностью",
        "limited liability partnership",
    ),
    "JSC": ("акционерлік қоғам", "акционерное общество", "joint-stock company"),
    "SOLE_PROPRIETOR": ("жеке кәсіпкер", "индивидуальный предприниматель", "sole proprietor"),
    "apartment": ("пәтер", "квартира", "apartment"),
    "house": ("үй", "дом", "house"),
    "land_plot": ("жер учаскесі", "земельный участок", "land plot"),
}

#: the field shown prominently on each kind of document (the child's IIN after a birth)
HIGHLIGHT: dict[str, str] = {"birth": "child_iin", "legal_entity_registration": "bin"}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def lang_index(lang: str) -> int:
    return LANGS.index(lang) if lang in LANGS else 2


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    value: str


@dataclass(frozen=True)
class Document:
    """A signed document as issued (its claims), kept with the application's step."""

    number: str
    kind: str
    issuer: str
    title: Mapping[str, str]
    issued_on: str | None
    subject: str | None
    data: Mapping[str, Any]

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("ru") or self.title.get("kk") or self.number

    def issuer_in(self, lang: str) -> str:
        names = ISSUERS.get(self.issuer)
        return names[lang_index(lang)] if names else ISSUERS["registry"][lang_index(lang)]

    def highlight(self) -> str | None:
        key = HIGHLIGHT.get(self.kind)
        return key if key and self.data.get(key) else None

    def fields(self, lang: str) -> list[Field]:
        """Every labelled field of the data with a value, in the reader's language."""
        i = lang_index(lang)
        out: list[Field] = []
        for key, raw in self.data.items():
            labels = LABELS.get(key)
            text = _text(raw, lang)
            if labels is None or not text:
                continue
            out.append(Field(key, labels[i], text))
        return out


def _text(value: Any, lang: str) -> str:
    i = lang_index(lang)
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return ("иә", "да", "yes")[i] if value else ("жоқ", "нет", "no")[i]
    if isinstance(value, str):
        if value in VALUES:
            return VALUES[value][i]
        if _DATE.match(value):
            try:
                return format_date(value, lang)
            except ValueError:
                return value
        return value
    if isinstance(value, list):
        return "; ".join(t for t in (_text(v, lang) for v in value) if t)
    if isinstance(value, Mapping):
        return ", ".join(t for t in (_text(v, lang) for v in value.values()) if t)
    return str(value)


def decode(token: str) -> Document | None:
    """The document a compact JWS carries (None when it is not one of ours)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    number, kind = claims.get("number"), claims.get("kind")
    if not isinstance(number, str) or not isinstance(kind, str):
        return None
    title = claims.get("title") if isinstance(claims.get("title"), Mapping) else {}
    data = claims.get("data") if isinstance(claims.get("data"), Mapping) else {}
    return Document(
        number=number,
        kind=kind,
        issuer=str(claims.get("iss") or "registry"),
        title={k: str(v) for k, v in (title or {}).items()},
        issued_on=claims.get("issued_on") if isinstance(claims.get("issued_on"), str) else None,
        subject=claims.get("sub") if isinstance(claims.get("sub"), str) else None,
        data=dict(data or {}),
    )


def documents_in(results: Iterable[Any]) -> list[Document]:
    """The signed documents among the steps' results (``{number, document, …}``), in order."""
    out: list[Document] = []
    for result in results:
        if not isinstance(result, Mapping) or not isinstance(result.get("document"), str):
            continue
        doc = decode(result["document"])
        if doc is not None and doc.number == result.get("number", doc.number):
            out.append(doc)
    return out


def verification_url(base_url: str, number: str) -> str:
    """The public page that checks a document by its number (printed and in the QR code)."""
    return f"{base_url.rstrip('/')}/verify/{number}"
