"""Results for people, in a real browser against the whole mesh (issue 18): a birth of a child
ends with the birth certificate as a document — a printable page, a PDF carrying the child's
name and IIN, a QR code and link to the public verification page that says "valid" in words —
and the allowance in tenge, in Kazakh, Russian and English, with no code, id, tiyn or
untranslated key on the citizen's pages; the form fills the applicant's own IIN from their
record and refuses a wrong IIN before anything is sent. Screenshots in
test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from .conftest import DESKTOP, PHONE, LiveMesh, Shots, new_page
from .test_portal_browser import real_errors, reload_until, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow]

MOTHER = ("920308400210", "+77021234568")
FATHER = ("900115300122", "+77011234567")
ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "gateway" / "tests" / "data" / "id_vectors.json"

# what never reaches a citizen's page: snake_case keys and statuses, UUIDs, tiyn, step codes,
# service codes, agency operations, event types
LEAKS = [
    re.compile(r"\b[a-z]+_[a-z0-9_]+\b"),
    re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
    re.compile(r"tiyn|тиын|\bKZT\b", re.I),
    re.compile(r"\b(cx|rg|pm|id|lc|nt)-[a-z]+(-[a-z]+)*\b"),
    re.compile(r"\b(GET|POST|PATCH) /"),
    re.compile(r"kz\.egov\."),
]
TENGE = {
    "kk": re.compile(r"\d[\d\u00a0\u202f ]*,\d{2}[\u00a0 ]₸"),
    "ru": re.compile(r"\d[\d\u00a0\u202f ]*,\d{2}[\u00a0 ]₸"),
    "en": re.compile(r"₸[\d,]+\.\d{2}"),
}
WORDS = {  # the words each language's pages must show
    "kk": {"rendered": "Көрсетілді", "title": "Туу туралы куәлік", "valid": "Құжат жарамды"},
    "ru": {
        "rendered": "Услуга оказана",
        "title": "Свидетельство о рождении",
        "valid": "Документ действителен",
    },
    "en": {
        "rendered": "Service rendered",
        "title": "Birth certificate",
        "valid": "The document is valid",
    },
}


def leaks(text: str) -> list[str]:
    return [m.group(0) for rx in LEAKS for m in rx.finditer(text)]


async def main_text(page: Any) -> str:
    return str(await page.locator("main").inner_text())


async def goto(page: Any, url: str, lang: str) -> None:
    """A full load (new_page's init script sets English again), then the reader's language."""
    await page.goto(url)
    await page.locator("main h1").wait_for()
    await set_lang(page, lang)


async def set_lang(page: Any, lang: str) -> None:
    await page.locator("select#lang").select_option(lang)
    await page.wait_for_function(f"document.documentElement.lang === '{lang}'")
    await page.locator("main[aria-busy]").wait_for(state="detached")


async def test_a_birth_ends_with_the_certificate_to_read_print_and_verify_in_three_languages(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    mesh = live_mesh
    async with new_page(browser, DESKTOP, lang="en") as (page, problems):
        await sign_in(page, mesh, MOTHER)
        await page.goto(f"{mesh.gateway}/apply/cx-birth-of-child")
        await page.locator("#apply-form").wait_for()
        # once-only: the mother's own IIN and her details come from her record, read-only
        mother = page.get_by_label("Mother's IIN")
        assert await mother.input_value() == MOTHER[0]
        assert await mother.get_attribute("readonly") is not None
        await page.locator("#my-record", has_text=MOTHER[0]).wait_for()
        await page.get_by_label("Surname").fill("Сәрсенбаева")
        await page.get_by_label("Given name").fill("Айгерім")
        await page.get_by_label("Date of birth").fill("2026-11-30")
        await page.get_by_label("Sex").select_option("female")
        await page.get_by_label("Place").fill("Алматы қ., №1 перинаталдық орталық")
        await shots.take(page, "apply-birth-of-child-prefilled")
        await page.get_by_role("button", name="Submit").click()
        await page.locator("#app-status").wait_for()
        app_url = page.url
        await reload_until(
            page,
            page.locator('#app-status[data-status="completed"]'),
            within=120,
            what="the birth of a child to complete",
        )
        doc_card = page.locator("#documents li.document-card[data-kind='birth']")
        await doc_card.wait_for()
        child_iin = (await doc_card.locator(".highlight-value").inner_text()).strip()
        assert re.fullmatch(r"\d{12}", child_iin), child_iin
        number = await doc_card.get_attribute("data-number")
        assert number and number.startswith("RC-")

        for lang in ("kk", "ru", "en"):
            words = WORDS[lang]
            await goto(page, app_url, lang)
            await page.locator("#app-status", has_text=words["rendered"]).wait_for()
            text = await main_text(page)
            assert child_iin in text, "the child's IIN is shown on the application"
            assert words["title"] in text
            amounts = await page.locator("#amounts").inner_text()
            assert TENGE[lang].search(amounts), (lang, amounts)
            assert leaks(text) == [], (lang, leaks(text))
            await shots.take(page, f"application-{lang}")

            # the certificate as a printable page
            await doc_card.get_by_role("link").click()
            await page.locator("#document[data-kind='birth']").wait_for()
            text = await main_text(page)
            assert words["title"] in text and child_iin in text and "Айгерім" in text
            assert await page.locator("#document img.qr").count() == 1
            assert leaks(text) == [], (lang, leaks(text))
            await shots.take(page, f"certificate-{lang}")
            # print CSS: only the document is printed
            await page.emulate_media(media="print")
            assert not await page.locator("#download-pdf").is_visible()
            assert not await page.locator("header.site-header").is_visible()
            await shots.take(page, f"certificate-{lang}-print")
            await page.emulate_media(media="screen")

            # the PDF: a real PDF naming the child, with the number
            async with page.expect_download() as downloading:
                await page.locator("#download-pdf").click()
            download = await downloading.value
            body = await asyncio.to_thread(Path(await download.path()).read_bytes)
            assert body.startswith(b"%PDF-")
            pdf_text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
            assert child_iin in pdf_text and "Айгерім" in pdf_text and number in pdf_text
            assert words["title"] in pdf_text, (lang, pdf_text[:300])

            # the verification link (the QR code's) opens the public page: valid, in words
            verify_url = await page.locator("#verify-link").get_attribute("href")
            assert verify_url and verify_url.endswith(f"/verify/{number}")
            await goto(page, verify_url, lang)
            await page.locator("#verdict[data-verdict='valid']", has_text=words["valid"]).wait_for()
            text = await main_text(page)
            assert "eyJ" not in text and leaks(text) == [], (lang, leaks(text))
            await shots.take(page, f"verify-{lang}")

            # the inbox: templates in the reader's language, amounts in tenge
            await goto(page, f"{mesh.gateway}/notifications", lang)
            await page.locator("#notifications").wait_for()
            text = await main_text(page)
            assert leaks(text) == [], (lang, leaks(text))
            await shots.take(page, f"notifications-{lang}")

        # a forged number is refused in words, not with an error page
        await page.goto(f"{mesh.gateway}/verify/RC-2026-0000001-XXXXXXXX")
        await page.locator("#verdict[data-verdict='not_found']").wait_for()
        assert real_errors(problems) == []


async def test_the_form_refuses_a_wrong_iin_before_sending_anything(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    mesh = live_mesh
    async with new_page(browser, PHONE, lang="en") as (page, problems):
        await sign_in(page, mesh, FATHER)
        sent: list[str] = []
        page.on(
            "request",
            lambda r: (
                sent.append(r.url)
                if r.method == "POST" and "/api/v1/applications" in r.url
                else None
            ),
        )
        await goto(page, f"{mesh.gateway}/apply/cx-birth-of-child", "ru")
        await page.locator("#apply-form").wait_for()
        # the father's own IIN is his record's; the mother's is typed — with a wrong check digit
        assert await page.locator("#f-father_iin").input_value() == FATHER[0]
        await page.locator("#f-surname").fill("Сәрсенбаев")
        await page.locator("#f-given_name").fill("Әлібек")
        await page.locator("#f-birth_date").fill("2026-11-30")
        await page.locator("#f-sex").select_option("male")
        await page.locator("#f-place").fill("Алматы")
        wrong = MOTHER[0][:11] + str((int(MOTHER[0][11]) + 1) % 10)
        await page.locator("#f-mother_iin").fill(wrong)
        await page.get_by_role("button", name="Отправить").click()
        error = page.locator("#f-mother_iin-error")
        await error.wait_for()
        assert "контрольная цифра" in await error.inner_text()
        assert await page.locator("#f-mother_iin").get_attribute("aria-invalid") == "true"
        assert await page.evaluate("document.activeElement.id") == "f-mother_iin"
        await shots.take(page, "wrong-iin-refused")
        # too short: said so, still nothing sent
        await page.locator("#f-mother_iin").fill("92030840")
        await page.get_by_role("button", name="Отправить").click()
        await page.locator("#f-mother_iin-error", has_text="12").wait_for()
        assert sent == [], sent

        # founders of a new LLP: rows with an IIN/BIN and a share, added and removed — no JSON
        await goto(page, f"{mesh.gateway}/apply/cx-open-business", "ru")
        await page.locator("#apply-form").wait_for()
        founders = page.locator("fieldset.list[data-path='founders']")
        assert await founders.locator(".rows > fieldset.group").count() == 1
        assert await page.locator("textarea[name='founders']").count() == 0
        await founders.locator("button.add-row").click()
        assert await founders.locator(".rows > fieldset.group").count() == 2
        await founders.locator("button.remove-row").last.click()
        assert await founders.locator(".rows > fieldset.group").count() == 1
        await page.locator("#f-founders-0-id").fill("900115300123")
        await page.locator("#f-founders-0-share-num").fill("1")
        await page.locator("#f-founders-0-share-den").fill("1")
        await page.locator("#f-name_kk").fill("«Дала» ЖШС")
        await page.locator("#f-name_ru").fill("ТОО «Дала»")
        await page.locator("#f-address").fill("Алматы, " + "Абай" * 30)
        await page.get_by_role("button", name="Отправить").click()
        await page.locator("#f-founders-0-id-error", has_text="неверен").wait_for()
        assert sent == [], sent
        # long words wrap: nothing wider than the phone
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        await shots.take(page, "founders-editor")
        assert real_errors(problems) == []


async def test_the_browser_and_python_agree_on_iin_and_bin_checks(
    live_mesh: LiveMesh, browser: Any
) -> None:
    """The shared vectors (also read by gateway/tests/test_id_vectors.py) through ids.js."""
    vectors = json.loads(VECTORS.read_text())
    async with new_page(browser, DESKTOP) as (page, problems):
        await page.goto(f"{live_mesh.gateway}/services")
        results = await page.evaluate(
            """async ([cases, today]) => {
              const ids = await import('/portal/ids.js');
              const at = new Date(today + 'T12:00:00');
              return cases.map((c) => ids.idProblem(c.value, c.format, at) === null);
            }""",
            [vectors["cases"], vectors["today"]],
        )
        expected = [c["valid"] for c in vectors["cases"]]
        wrong = [
            c
            for c, got, want in zip(vectors["cases"], results, expected, strict=True)
            if got != want
        ]
        assert wrong == [], wrong
        assert real_errors(problems) == []


async def test_the_record_is_read_with_the_citizens_own_authority(live_mesh: LiveMesh) -> None:
    """Once-only reads the applicant's record with their own token through the gateway: the
    attacker — a signed-in citizen asking for somebody else's record — is refused."""
    token = await live_mesh.login(*MOTHER)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30) as c:
        own = await c.get(f"{live_mesh.gateway}/x/identity/persons/{MOTHER[0]}", headers=headers)
        assert own.status_code == 200, own.text
        assert own.json()["iin"] == MOTHER[0] and own.json()["sex"] == "female"
        other = await c.get(f"{live_mesh.gateway}/x/identity/persons/{FATHER[0]}", headers=headers)
        assert other.status_code in (403, 404), other.text
        assert FATHER[0] not in other.text or "surname" not in other.text
        # nor by claiming to act for him
        spoofed = await c.get(
            f"{live_mesh.gateway}/x/identity/persons/{FATHER[0]}",
            headers={**headers, "X-Mesh-User": FATHER[0]},
        )
        assert spoofed.status_code in (403, 404), spoofed.text
        assert "surname" not in spoofed.text
        anonymous = await c.get(f"{live_mesh.gateway}/x/identity/persons/{MOTHER[0]}")
        assert anonymous.status_code == 401, anonymous.text
