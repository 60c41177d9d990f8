"""The portal in a real browser (Debian's Chromium, headless) against the whole mesh: the
citizen journey *birth of a child → accept the proactive offer → see the allowance paid* on a
phone-sized screen, and the operator's efficiency figures. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from meshkit.devsecrets import dev_secret
from meshkit_testing.polling import eventually

from .conftest import DESKTOP, PHONE, SCREENSHOTS, LiveMesh, PageProblems, Shots, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow]

FATHER = ("900115300122", "+77011234567")
MOTHER = ("920308400210", "+77021234568")
OPERATOR = ("880707300858", "+77471234573")


async def the_mother_consents(mesh: LiveMesh) -> None:
    """A father registers a birth only with the mother's consent to the registry (category
    family): she gives it in her own session, through the gateway, as a citizen would."""
    token = await mesh.login(*MOTHER)
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.post(
            f"{mesh.gateway}/x/identity/consents",
            json={
                "agency": "registry",
                "categories": ["family"],
                "purpose": "the father registers the birth of our child",
                "expires_at": (date.today() + timedelta(days=30)).isoformat() + "T00:00:00Z",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 201, r.text


async def sign_in(
    page: Any, mesh: LiveMesh, who: tuple[str, str], shots: Shots | None = None
) -> None:
    iin, phone = who
    before = await mesh.last_sms_id(phone)
    await page.goto(f"{mesh.gateway}/login")
    await page.get_by_label("IIN").fill(iin)
    await page.get_by_label("Password").fill(mesh.password())
    if shots:
        await shots.take(page, "login")
    await page.get_by_role("button", name="Continue").click()
    code_box = page.get_by_label("Code from the SMS")
    await page.locator("#otp-form, #login-error.alert").first.wait_for()
    if await page.locator("#login-error.alert").count():
        pytest.fail(f"login refused: {await page.locator('#login-error').inner_text()}")
    assert await code_box.evaluate("el => el === document.activeElement"), "focus moves to the code"
    await code_box.fill(await mesh.latest_code(phone, before))
    if shots:
        await shots.take(page, "one-time-code")
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#whoami", has_text=iin).wait_for()


async def reload_until(page: Any, locator: Any, *, within: float, what: str) -> None:
    """Reload the page until ``locator`` shows up (the app reads fresh state on every load)."""

    async def shown() -> bool:
        await page.reload()
        await page.locator("main h1").wait_for()
        return bool(await locator.count())

    try:
        await eventually(shown, within=within, what=what, interval=1.0)
    except pytest.fail.Exception:
        await page.screenshot(path=str(SCREENSHOTS / "timeout.png"), full_page=True)
        raise


def nav(page: Any, name: str) -> Any:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def real_errors(problems: PageProblems) -> list[str]:
    # a failed fetch is reported by the app itself; anything else (CSP, exceptions) is a bug
    return [e for e in problems.errors if "Failed to load resource" not in e]


async def test_birth_of_a_child_then_the_proactive_allowance_on_a_phone(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    mesh = live_mesh
    await the_mother_consents(mesh)
    async with new_page(browser, PHONE) as (page, problems):
        await sign_in(page, mesh, FATHER, shots)
        assert page.url.endswith("/applications")

        # the catalogue, searched in English, then in Kazakh
        await nav(page, "Services").click()
        await page.get_by_label("Find a service").fill("birth")
        await page.get_by_role("button", name="Search").click()
        card = page.locator('li.card[data-code="rg-birth-registration"]')
        await card.wait_for()
        await page.locator("#results-count", has_text=re.compile(r"Found: \d+")).wait_for()
        await page.locator("#status", has_text="Found:").wait_for()  # announced (aria-live)
        await shots.take(page, "catalogue-en")
        await page.locator("select#lang").select_option("kk")
        await page.locator("h1", has_text="Мемлекеттік қызметтер тізілімі").wait_for()
        assert await page.evaluate("document.documentElement.lang") == "kk"
        await page.locator("select#lang").select_option("en")
        await page.locator("h1", has_text="Register of public services").wait_for()

        # apply for the registration of the birth with the form made from its schema
        await page.locator('li.card[data-code="rg-birth-registration"] a.button').click()
        form = page.locator("#apply-form")
        await form.wait_for()
        await page.get_by_role("button", name="Submit").click()
        surname = page.get_by_label("Surname")
        assert await surname.get_attribute("aria-invalid") == "true", "empty required field flagged"
        born = (date.today() - timedelta(days=3)).isoformat()
        await surname.fill("Сәрсенбаев")
        await page.get_by_label("Given name").fill("Әлібек")
        await page.get_by_label("Patronymic").fill("Әлиханұлы")
        await page.get_by_label("Date of birth").fill(born)
        await page.get_by_label("Sex").select_option("male")
        await page.get_by_label("Place").fill("Алматы қ., Қазақстан")
        await page.get_by_label("Mother's IIN").fill(MOTHER[0])
        # once-only: the father's own IIN comes from his record, read-only (issue 18)
        father = page.get_by_label("Father's IIN")
        assert (
            await father.input_value() == FATHER[0]
            and await father.get_attribute("readonly") is not None
        )
        await shots.take(page, "apply-birth-registration")
        await page.get_by_role("button", name="Submit").click()
        await page.locator("#app-status").wait_for()
        assert re.search(r"/applications/[0-9a-f-]{8,}$", page.url), page.url
        await reload_until(
            page,
            page.locator('#app-status[data-status="completed"]'),
            within=90,
            what="the birth registration to complete",
        )
        await shots.take(page, "birth-registered")

        # rate the service rendered
        await page.get_by_label("5 ★").check()
        await page.get_by_label("Comment").fill("Өте жақсы — жылдам!")
        await page.get_by_role("button", name="Rate").click()
        await page.locator("#rating-done", has_text="★★★★★").wait_for()
        await page.locator("#status", has_text="Thank you").wait_for()

        # who accessed my data: my record was read for my application (once-only), on my own
        # authority through the single window — not by the gateway with its own rights
        await nav(page, "Who accessed my data").click()
        await page.locator("main table", has_text="You (through the single window)").wait_for()
        await shots.take(page, "data-access")

        # the inbox tells of the offer the state made by itself
        await nav(page, "Notifications").click()
        await reload_until(
            page,
            page.locator('li.card[data-kind="offer_made"]'),
            within=90,
            what="the notification of the offer",
        )
        await shots.take(page, "notifications-offer")

        # phone-sized: nothing wider than the screen; no CSP violation or script error so far
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"
        assert real_errors(problems) == []

        # the father accepts the allowance offer
        await nav(page, "Offers").click()
        offer = page.locator('li.card[data-service="pm-birth-allowance"]')
        await reload_until(page, offer, within=90, what="the proactive allowance offer")
        await shots.take(page, "offer")
        await offer.get_by_role("button", name=re.compile("^Accept")).click()
        await page.locator("#app-status").wait_for()
        await reload_until(
            page,
            page.locator('#app-status[data-status="completed"], #app-status[data-status="failed"]'),
            within=90,
            what="the allowance application to finish",
        )
        await shots.take(page, "allowance-application")
        if await page.locator('#app-status[data-status="failed"]').count():
            why = await page.locator("main .alert").first.inner_text()
            pytest.fail(f"the allowance application failed: {why}")

        # the allowance paid, in the inbox
        await nav(page, "Notifications").click()
        paid = page.locator('li.card[data-kind="payout_completed"]')
        await reload_until(page, paid, within=60, what="the 'payout made' notification")
        await shots.take(page, "notifications-paid")
        assert real_errors(problems) == []


def page_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


async def test_operator_figures_and_the_mesh_health(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    mesh = live_mesh
    async with new_page(browser, DESKTOP) as (page, problems):
        await sign_in(page, mesh, OPERATOR)
        assert page.url.endswith("/operator"), "an operator lands on the figures"
        await page.locator("#kpis").wait_for()
        async with httpx.AsyncClient(timeout=20) as c:
            stats = (await c.get(f"{mesh.gateway}/api/v1/stats")).json()
        kpi = page.locator('#kpis [data-key="applications"] .value')
        assert (await kpi.inner_text()).replace(",", "").replace("\u202f", "") == str(
            stats["overall"]["applications"]
        )
        assert await page.locator("#charts figure").count() >= 7
        titles = await page.locator("#charts svg[role=img] title").evaluate_all(
            "els => els.map(e => e.textContent)"
        )
        assert len(titles) >= 3 and all(t.strip() for t in titles), "charts have a text alternative"
        status_chart = page.locator("#chart-by-status svg g[data-label]")
        assert await status_chart.count() == len(stats["overall"]["by_status"])
        health = page.locator("#health li")
        assert await health.count() == 5
        await eventually(
            lambda: _all_up(page), within=30, what="every agency shown up", interval=1.0
        )
        await shots.take(page, "operator-figures")
        # the same page on a phone
        await page.set_viewport_size(PHONE)
        await page.reload()
        await page.locator("#kpis").wait_for()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await shots.take(page, "operator-figures-phone")
        assert real_errors(problems) == []


async def _all_up(page: Any) -> bool:
    states = await page.locator("#health li").evaluate_all("els => els.map(e => e.dataset.state)")
    if set(states) == {"up"}:
        return True
    await page.reload()
    await page.locator("#health").wait_for()
    return False


async def test_keyboard_only_use_and_a_visible_focus(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    async with new_page(browser, DESKTOP) as (page, problems):
        await page.goto(f"{live_mesh.gateway}/services")
        await page.locator("#services li").first.wait_for()
        await page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        assert await skip.evaluate("el => el === document.activeElement")
        outline = await skip.evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline != "none", "focus is visible"
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"
        # tab to the search box and search with the keyboard alone
        await page.get_by_label("Find a service").focus()
        await page.keyboard.type("business")
        await page.keyboard.press("Enter")
        await page.locator('li.card[data-code="cx-open-business"]').wait_for()
        heading = page.locator("main h1")
        assert await heading.evaluate("el => el === document.activeElement"), (
            "focus on the new page"
        )
        # landmarks
        for role in ("banner", "navigation", "main", "contentinfo"):
            assert await page.get_by_role(role).count() >= 1, role
        assert await page.locator("[aria-live=polite]").count() == 1
        await shots.take(page, "keyboard")
        assert real_errors(problems) == []


async def issue_invoice(mesh: LiveMesh, payer: str) -> str:
    """A licence fee billed by svc-licensing through the gateway (as an agency would)."""
    secret = dev_secret("client:licensing", mesh.data_dir)
    async with httpx.AsyncClient(timeout=20) as c:
        r = await c.post(
            f"{mesh.identity}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("licensing", secret),
        )
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        r = await c.post(
            f"{mesh.gateway}/x/payments/invoices",
            headers={
                "Authorization": f"Bearer {token}",
                "X-Mesh-Purpose": "licence fee",
                "Idempotency-Key": uuid.uuid4().hex,
            },
            json={
                "payer": payer,
                "amount_tiyn": 1_534_000,
                "currency": "KZT",
                "purpose": "Лицензиялық алым / Licence fee",
                "kbk": "108114",
                "beneficiary_agency": "licensing",
                "due_date": (date.today() + timedelta(days=10)).isoformat(),
                "reference": f"LIC-{uuid.uuid4().hex[:8]}",
            },
        )
        assert r.status_code == 201, r.text
        invoice_id: str = r.json()["id"]
        return invoice_id


async def test_a_citizen_pays_an_invoice_at_the_sandbox_bank(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    mesh = live_mesh
    invoice_id = await issue_invoice(mesh, FATHER[0])
    async with new_page(browser, DESKTOP) as (page, problems):
        await sign_in(page, mesh, FATHER)
        await nav(page, "Payments").click()
        card = page.locator(f'li.card[data-invoice="{invoice_id}"]')
        await card.wait_for()
        assert await card.locator('[data-status="issued"]').count() == 1
        due = await card.locator("time").inner_text()  # a due date: no time of day shown
        assert ":" not in due and due.strip(), due
        await shots.take(page, "invoice-issued")
        # the portal opens the bank's own page in a new tab (the portal never sees the card)
        async with page.context.expect_page() as opened:
            await card.get_by_role("button", name="Pay", exact=True).click()
        bank = await opened.value
        await bank.wait_for_load_state()
        assert "/sandbox-acquirer/pay/" in bank.url, bank.url
        await shots.take(bank, "sandbox-bank")
        await bank.get_by_role("button", name=re.compile("^Approve")).click()
        await bank.wait_for_load_state()
        await bank.close()
        await card.locator("#bank-" + invoice_id).wait_for()  # the link back to the bank
        # the bank's signed callback marks the invoice paid; the portal shows it on refresh
        await reload_until(
            page,
            page.locator(f'li.card[data-invoice="{invoice_id}"] [data-status="paid"]'),
            within=60,
            what="the invoice shown as paid",
        )
        await shots.take(page, "invoice-paid")
        assert await page.locator(f'li.card[data-invoice="{invoice_id}"] button.pay').count() == 0
        assert real_errors(problems) == []
