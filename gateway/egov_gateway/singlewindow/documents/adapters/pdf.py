"""A document as a PDF a person prints (ReportLab; pure Python, no system libraries).

The font (Noto Sans, which has every Kazakh and Russian letter and the tenge sign) comes
from a wheel (``fontpkg-noto-sans``), so a fresh machine renders the same PDF.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import fontpkg_noto_sans
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from egov_gateway.singlewindow.documents.adapters.qr import modules
from egov_gateway.singlewindow.documents.domain.model import Document, format_date, lang_index

FONT = "NotoSans"

#: the printed words around the fields (kk, ru, en)
WORDS: dict[str, tuple[str, str, str]] = {
    "country": ("ҚАЗАҚСТАН РЕСПУБЛИКАСЫ", "РЕСПУБЛИКА КАЗАХСТАН", "REPUBLIC OF KAZAKHSTAN"),
    "number": ("Нөмірі", "Номер", "Number"),
    "issued_on": ("Берілген күні", "Дата выдачи", "Issued on"),
    "verify": (
        "Құжаттың түпнұсқалығын QR-код немесе сілтеме арқылы тексеріңіз:",
        "Подлинность документа проверьте по QR-коду или по ссылке:",
        "Check that this document is genuine with the QR code or at:",
    ),
    "signed": (
        "Құжат электрондық цифрлық қолтаңбамен қол қойылған.",
        "Документ подписан электронной цифровой подписью.",
        "The document is signed with a digital signature.",
    ),
}


@cache
def _font() -> str:
    files = Path(fontpkg_noto_sans.__file__).parent / "files"
    regular = next(p for p in sorted(files.glob("*.ttf")) if "Italic" not in p.name)
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    return FONT


def _wrap(text: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` (long words are cut, never overflow)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while pdfmetrics.stringWidth(word, FONT, size) > width:  # a very long word
            cut = len(word)
            while cut > 1 and pdfmetrics.stringWidth(word[:cut], FONT, size) > width:
                cut -= 1
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}".strip()
        if pdfmetrics.stringWidth(candidate, FONT, size) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines or [""]


def render(doc: Document, lang: str, verify_url: str) -> bytes:
    """One A4 page: issuer, title, number and date, the child's IIN (or the kind's main
    field) large, every field, and the verification QR code with its link."""
    font = _font()
    i = lang_index(lang)
    buf = io.BytesIO()
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    c = Canvas(buf, pagesize=A4)
    c.setTitle(f"{doc.title_in(lang)} {doc.number}")
    c.setAuthor(doc.issuer_in(lang))
    c.setSubject(doc.title_in(lang))
    y = height - 22 * mm
    c.setFont(font, 10)
    c.setFillColor(colors.HexColor("#4a5568"))
    c.drawCentredString(width / 2, y, WORDS["country"][i])
    y -= 6 * mm
    for line in _wrap(doc.issuer_in(lang), 10, right - left):
        c.drawCentredString(width / 2, y, line)
        y -= 5 * mm
    y -= 6 * mm
    c.setFillColor(colors.black)
    for line in _wrap(doc.title_in(lang), 20, right - left):
        c.setFont(font, 20)
        c.drawCentredString(width / 2, y, line)
        y -= 9 * mm
    c.setFont(font, 11)
    issued = format_date(doc.issued_on, lang) if doc.issued_on else ""
    c.drawCentredString(
        width / 2,
        y,
        f"{WORDS['number'][i]}: {doc.number}"
        + (f"   ·   {WORDS['issued_on'][i]}: {issued}" if issued else ""),
    )
    y -= 12 * mm
    fields = doc.fields(lang)
    main = doc.highlight()
    for f in fields:
        if f.key == main:
            c.setFillColor(colors.HexColor("#eef4ff"))
            c.rect(left, y - 12 * mm, right - left, 17 * mm, stroke=0, fill=1)
            c.setFillColor(colors.black)
            c.setFont(font, 10)
            c.drawString(left + 4 * mm, y, f.label)
            c.setFont(font, 22)
            c.drawString(left + 4 * mm, y - 9 * mm, f.value)
            y -= 22 * mm
    label_w = 62 * mm
    for f in fields:
        if f.key == main:
            continue
        c.setFont(font, 10)
        c.setFillColor(colors.HexColor("#4a5568"))
        label_lines = _wrap(f.label, 10, label_w - 4 * mm)
        value_lines = _wrap(f.value, 12, right - left - label_w)
        for n, line in enumerate(label_lines):
            c.drawString(left, y - n * 5 * mm, line)
        c.setFillColor(colors.black)
        c.setFont(font, 12)
        for n, line in enumerate(value_lines):
            c.drawString(left + label_w, y - n * 6 * mm, line)
        y -= max(len(label_lines) * 5, len(value_lines) * 6) * mm + 3 * mm
        if y < 80 * mm:  # the rest on a new page, the QR code at the bottom of the last
            c.showPage()
            y = height - 25 * mm
    # the verification block
    size = 34 * mm
    grid = modules(verify_url)
    cell = size / len(grid)
    x0, y0 = left, 22 * mm
    c.setFillColor(colors.black)
    for r, row in enumerate(grid):
        for col, dark in enumerate(row):
            if dark:
                c.rect(x0 + col * cell, y0 + size - (r + 1) * cell, cell, cell, stroke=0, fill=1)
    c.setFont(font, 10)
    tx = left + size + 6 * mm
    ty = y0 + size - 4 * mm
    for line in _wrap(WORDS["verify"][i], 10, right - tx):
        c.drawString(tx, ty, line)
        ty -= 5 * mm
    c.setFont(font, 9)
    for line in _wrap(verify_url, 9, right - tx):
        c.drawString(tx, ty, line)
        ty -= 4.5 * mm
    ty -= 2 * mm
    c.setFillColor(colors.HexColor("#4a5568"))
    for line in _wrap(WORDS["signed"][i] + " " + doc.issuer_in(lang), 9, right - tx):
        c.drawString(tx, ty, line)
        ty -= 4.5 * mm
    c.showPage()
    c.save()
    return buf.getvalue()
