"""ISSUE 18 in a real browser (Debian's Chromium, headless) against the whole mesh: the operator's
efficiency page as an operator reads it — services and agencies by their names in the reader's
language, a refused application red (and hatched, and marked ✗: never colour alone), a real
technical failure of an agency (the process stopped, then resumed) in hours and minutes — and
the catalogue search as a citizen types it ("паспорт", "ИИН" find the identity services).
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import signal
from typing import Any

import httpx
import pytest

from meshkit_testing.polling import eventually

from .conftest import DESKTOP, PHONE, LiveMesh, Shots, new_page
from .test_portal_browser import FATHER, MOTHER, OPERATOR, real_errors, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow]

CODE = re.compile(r"^[a-z]+(-[a-z]+)+$")  # a service code, never shown
RED, GREEN = "rgb(164, 22, 26)", "rgb(27, 110, 45)"
# the operator page drawn in a language: <html lang> and its status legend in that language
RENDERED_IN = """([lang, word]) => document.documentElement.lang === lang
  && (document.querySelector('#status-legend')?.textContent || '').includes(word)
  && !!document.querySelector('#failures')"""
UNITS = {"ru": ("ч", "мин"), "kk": ("сағ", "мин"), "en": ("h", "min")}


def hours_minutes(seconds: float, lang: str) -> str:
    """What the page must write for a technical failure (pages/operator.js hoursMinutes)."""
    h_unit, m_unit = UNITS[lang]
    minutes = round(seconds / 60)
    if seconds > 0 and minutes == 0:
        return f"< 1 {m_unit}"
    hours, rest = divmod(minutes, 60)
    return f"{hours} {h_unit} {rest} {m_unit}" if hours else f"{rest} {m_unit}"


async def apply_and_wait(mesh: LiveMesh, token: str, code: str, payload: dict[str, Any]) -> str:
    """A citizen's application through the gateway, awaited to its end; its final status. An
    agency that refuses at once makes the submission answer its problem, and the application
    is there, failed (as tests/test_citizen_authority_e2e.py's ``refused`` knows)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=mesh.gateway, timeout=30) as c:

        async def mine() -> set[str]:
            r = await c.get("/api/v1/me/applications", params={"limit": 200}, headers=headers)
            assert r.status_code == 200, r.text
            return {a["id"] for a in r.json()["items"] if a["service_code"] == code}

        before = await mine()
        r = await c.post(
            "/api/v1/applications", json={"service_code": code, "payload": payload}, headers=headers
        )
        assert r.status_code in (201, 403), r.text
        new = await mine() - before
        assert len(new) == 1, (r.text, new)
        app_id = new.pop()
        seen: dict[str, Any] = {}

        async def ended() -> bool:
            got = await c.get(f"/api/v1/applications/{app_id}", headers=headers)
            seen.update(got.json())
            return seen.get("status") in {"completed", "failed"}

        await eventually(ended, within=60, what=f"{code} completed or failed", interval=0.5)
    return str(seen["status"])


async def a_technical_failure(mesh: LiveMesh, agency: str) -> float:
    """Stop an agency's process until the gateway's probes record an outage, then resume it
    and wait for the outage to close; the seconds the register counts for it."""
    pid = mesh.procs[agency].pid
    async with httpx.AsyncClient(base_url=mesh.gateway, timeout=30) as c:

        async def intervals() -> list[dict[str, Any]]:
            r = await c.get("/api/v1/outages", params={"agency": agency})
            r.raise_for_status()
            found = [a for a in r.json()["agencies"] if a["agency"] == agency]
            return found[0]["intervals"] if found else []

        async def opened() -> bool:
            return any(iv["ended_at"] is None for iv in await intervals())

        async def closed() -> bool:
            ivs = await intervals()
            return bool(ivs) and all(iv["ended_at"] for iv in ivs)

        os.kill(pid, signal.SIGSTOP)
        try:
            await eventually(opened, within=120, what=f"an outage of {agency} opened", interval=1)
        finally:
            os.kill(pid, signal.SIGCONT)
        await eventually(closed, within=120, what=f"the outage of {agency} closed", interval=1)
        r = await c.get("/api/v1/stats")
        return float(r.json()["technical_failures"]["by_agency"][agency]["seconds"])


async def names(mesh: LiveMesh, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    async with httpx.AsyncClient(base_url=mesh.gateway, timeout=30) as c:
        agencies = (await c.get("/api/v1/agencies", params={"lang": lang})).json()["items"]
        services = (
            await c.get("/api/v1/services", params={"lang": lang, "page_size": 100})
        ).json()["items"]
    return {a["code"]: a["name"] for a in agencies}, {s["code"]: s["name"] for s in services}


async def test_operator_page_names_colours_and_failures_in_hours_and_minutes(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    mesh = live_mesh
    father = await mesh.login(*FATHER)
    assert await apply_and_wait(mesh, father, "id-personal-data", {"iin": FATHER[0]}) == (
        "completed"
    )
    # another person's record: identity refuses, the application fails
    assert await apply_and_wait(mesh, father, "id-personal-data", {"iin": MOTHER[0]}) == "failed"
    notary_seconds = await a_technical_failure(mesh, "notary")
    agency_names, service_names = await names(mesh, "ru")

    async with new_page(browser, DESKTOP) as (page, problems):
        await sign_in(page, mesh, OPERATOR)
        await page.locator("#kpis").wait_for()
        await page.select_option("#lang", "ru")  # the page is drawn anew in Russian
        await page.wait_for_function(RENDERED_IN, arg=["ru", "отказано"])

        # services by their names, not codes
        shown = await page.locator("[data-service]").evaluate_all(
            "els => els.map(e => [e.dataset.service, e.textContent])"
        )
        assert ["id-personal-data", service_names["id-personal-data"]] in shown
        assert not [text for _, text in shown if CODE.match(text)]
        # agencies by name: the health list, the filter, the charts by agency
        health = await page.locator("#health li strong").all_inner_texts()
        assert sorted(health) == sorted(
            agency_names[c] for c in ("identity", "registry", "licensing", "payments", "notary")
        )
        options = await page.locator("#period-agency option").all_inner_texts()
        assert agency_names["registry"] in options and "registry" not in options
        rendered = await page.locator("#chart-rendered-by-agency g[data-key]").evaluate_all(
            "els => els.map(e => [e.dataset.key, e.dataset.label])"
        )
        assert ["identity", agency_names["identity"]] in rendered

        # what the statuses mean: refused red (hatched, ✗), rendered green (✓) — in words
        failed = page.locator('#chart-by-status g[data-key="failed"]')
        completed = page.locator('#chart-by-status g[data-key="completed"]')
        assert await failed.locator("rect.bar").evaluate("r => getComputedStyle(r).fill") == RED
        assert await completed.locator("rect.bar").evaluate("r => getComputedStyle(r).fill") == (
            GREEN
        )
        assert await failed.locator(".pattern-hatch").count() == 1
        failed_label = await failed.locator("text").first.text_content()
        assert failed_label == "✗ Отказано", failed_label
        assert (await completed.locator("text").first.text_content() or "").startswith("✓ ")
        assert "failed" not in await page.locator("#chart-by-status").inner_text()
        assert await page.locator("#status-legend").inner_text()

        # the technical failure: the agency by name, its duration in hours and minutes
        row = page.locator("#failures tr", has=page.locator('[data-agency="notary"]'))
        assert (await row.locator("th").inner_text()).strip() == agency_names["notary"]
        duration = (await row.locator(".failure-duration").inner_text()).strip()
        assert duration == hours_minutes(notary_seconds, "ru"), (duration, notary_seconds)
        assert re.fullmatch(r"(\d+ ч )?\d+ мин|< 1 мин", duration)
        total = await page.locator('#kpis [data-key="technical_failures"] .value').inner_text()
        assert re.fullmatch(r"(\d+ ч )?\d+ мин|< 1 мин", total.strip()), total
        bar = page.locator('#chart-failures-by-agency g[data-key="notary"]')
        assert await bar.get_attribute("data-label") == agency_names["notary"]
        await shots.take(page, "operator-ru")

        # the same in Kazakh, and on a phone
        await page.set_viewport_size(PHONE)
        await page.select_option("#lang", "kk")
        await page.wait_for_function(RENDERED_IN, arg=["kk", "көрсетілмеді"])
        kk_agencies, _ = await names(mesh, "kk")
        row = page.locator("#failures tr", has=page.locator('[data-agency="notary"]'))
        assert (await row.locator("th").inner_text()).strip() == kk_agencies["notary"]
        assert (await row.locator(".failure-duration").inner_text()).strip() == hours_minutes(
            notary_seconds, "kk"
        )
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await shots.take(page, "operator-kk-phone")
        assert real_errors(problems) == []


async def test_search_finds_the_identity_services_by_what_people_type(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    mesh = live_mesh
    _, service_names = await names(mesh, "ru")
    async with new_page(browser, DESKTOP, lang="ru") as (page, problems):
        await page.goto(f"{mesh.gateway}/services")
        box = page.get_by_label("Поиск услуги")
        for query in ("паспорт", "ИИН", "пасспорт"):  # the last with a typo
            await box.fill(query)
            await page.get_by_role("button", name="Найти").click()
            await page.wait_for_url(re.compile(r"/services\?q="))
            await page.locator("#services li").first.wait_for()
            codes = await page.locator("#services li").evaluate_all(
                "els => els.map(e => e.dataset.code)"
            )
            assert codes[0].startswith("id-") and "id-personal-data" in codes[:5], (query, codes)
            if query != "ИИН":
                assert "id-address-certificate" in codes[:5], (query, codes)
            titles = await page.locator("#services li h2").all_inner_texts()
            assert service_names["id-personal-data"] in titles
            assert not [t for t in titles if CODE.match(t)]
            await shots.take(page, f"search-{len(shots.taken) + 1}")
            box = page.get_by_label("Поиск услуги")
        # Kazakh without the Kazakh keyboard
        await page.goto(f"{mesh.gateway}/services?q=жеке+куалик")
        await page.select_option("#lang", "kk")
        await page.wait_for_function(
            "() => document.documentElement.lang === 'kk' && document.querySelector('#services li')"
        )
        codes = await page.locator("#services li").evaluate_all(
            "els => els.map(e => e.dataset.code)"
        )
        assert "id-personal-data" in codes[:5], codes
        await shots.take(page, "search-kk")
        assert real_errors(problems) == []
