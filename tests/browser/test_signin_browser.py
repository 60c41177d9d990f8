"""Sign-in as a newcomer lives it, in a real browser against the whole mesh: the demo accounts
`make run` prints (the same source, deploy/local/accounts.py), the one-time code from the
portal's dev-mode banner — no other port, no source code — and a public service centre
operator applying for a citizen with the citizen's consent, which the citizen then finds
among their applications as made at a centre. Screenshots: test-artifacts/screenshots/."""

from __future__ import annotations

import re
import sys
import time
from typing import Any

import pytest

from .conftest import DESKTOP, PHONE, ROOT, LiveMesh, Shots, new_page

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow]

CENTRE_SERVICE = "id-address-certificate"  # a simple service: the citizen's own record


def printed_accounts(mesh: LiveMesh) -> dict[str, list[tuple[str, str, str]]]:
    """(IIN, password, purpose) per section of the block `make run` prints for this data dir."""
    sys.path.insert(0, str(ROOT / "deploy" / "local"))
    from accounts import demo_accounts, render

    text = render(
        demo_accounts(mesh.data_dir),
        portal=mesh.gateway,
        identity=mesh.identity,
        data_dir=mesh.data_dir,
    )
    sections: dict[str, list[tuple[str, str, str]]] = {"Citizens": [], "Operators": []}
    current = None
    for line in text.splitlines():
        if m := re.match(r"^  (Citizens|Operators) \(IIN / password\):$", line):
            current = m.group(1)
        elif current and (m := re.match(r"^    (\d{12})  (\S+)  .*?  (\S.*)$", line)):
            sections[current].append((m.group(1), m.group(2), m.group(3)))
    assert "client_id=registry" in text and "client_secret=" in text
    return sections


async def sign_in_with_banner(
    page: Any, mesh: LiveMesh, iin: str, password: str, shots: Shots, tag: str
) -> None:
    """As a person would: the login page, the code the dev banner shows, sign in."""
    await page.goto(f"{mesh.gateway}/login")
    await page.get_by_label("IIN").fill(iin)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Continue").click()
    await page.locator("#otp-form, #login-error.alert").first.wait_for()
    if await page.locator("#login-error.alert").count():
        pytest.fail(f"login refused: {await page.locator('#login-error').inner_text()}")
    banner = page.locator("#dev-banner")
    await banner.wait_for()
    assert "development mode" in (await banner.inner_text()).lower()
    shown = (await page.locator("#dev-code-value").inner_text()).strip()
    assert re.fullmatch(r"[0-9]{6}", shown), shown
    await shots.take(page, f"{tag}-dev-banner")
    await page.get_by_role("button", name="Use this code").click()
    assert await page.get_by_label("Code from the SMS").input_value() == shown
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#whoami", has_text=iin).wait_for()


async def test_first_sign_in_from_the_printed_demo_data(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    accounts = printed_accounts(live_mesh)
    iin, password, purpose = accounts["Citizens"][0]
    assert purpose and password == live_mesh.password()
    async with new_page(browser, PHONE) as (page, problems):
        started = time.monotonic()
        await sign_in_with_banner(page, live_mesh, iin, password, shots, "citizen")
        took = time.monotonic() - started
        await shots.take(page, "signed-in")
        assert took < 60, f"signing in took {took:.1f}s"
        # the banner showed the code of this login only, and it is gone once signed in
        assert await page.locator("#dev-banner").count() == 0
        assert not problems.errors, problems.errors


async def test_centre_operator_applies_for_a_citizen_who_then_sees_it(
    live_mesh: LiveMesh, browser: Any, shots: Shots
) -> None:
    accounts = printed_accounts(live_mesh)
    operators = [a for a in accounts["Operators"] if "/centre" in a[2]]
    assert operators, accounts["Operators"]
    op_iin, op_password, _ = operators[0]
    # an adult citizen of the demo data, not the one at the desk
    citizen_iin, citizen_password, _ = next(
        a for a in accounts["Citizens"] if "without family" in a[2]
    )
    async with new_page(browser, DESKTOP) as (page, problems):
        await sign_in_with_banner(page, live_mesh, op_iin, op_password, shots, "operator")
        await page.locator("#nav-centre").click()
        await page.locator("#centre-iin-form").wait_for()
        await page.get_by_label("Citizen's IIN").fill(citizen_iin)
        await shots.take(page, "centre-citizen-iin")
        await page.get_by_role("button", name="Send the code to the citizen").click()
        await page.locator("#centre-code-form, #centre-error.alert").first.wait_for()
        if await page.locator("#centre-error.alert").count():
            pytest.fail(f"refused: {await page.locator('#centre-error').inner_text()}")
        # in dev mode the banner stands in for the citizen's phone; the citizen tells the code
        await page.locator("#dev-banner").wait_for()
        await shots.take(page, "centre-consent-code")
        await page.get_by_role("button", name="Use this code").click()
        await page.get_by_role("button", name="Confirm consent").click()
        citizen = page.locator("#centre-citizen")
        await citizen.wait_for()
        assert citizen_iin in await citizen.inner_text()
        await page.locator("#centre-service").select_option(CENTRE_SERVICE)
        await page.get_by_role("button", name="Open the form").click()
        await page.locator("#apply-form").wait_for()
        assert await page.locator('#apply-form input[name="iin"]').input_value() == citizen_iin
        await shots.take(page, "centre-form")
        await page.locator("#apply-submit").click()
        await page.locator("#centre-done, #apply-error.alert").first.wait_for()
        if await page.locator("#apply-error.alert").count():
            pytest.fail(f"not submitted: {await page.locator('#apply-error').inner_text()}")
        await shots.take(page, "centre-submitted")
        assert not problems.errors, problems.errors

    async with new_page(browser, PHONE) as (page, problems):
        await sign_in_with_banner(page, live_mesh, citizen_iin, citizen_password, shots, "citizen")
        await page.goto(f"{live_mesh.gateway}/applications")
        await page.locator("main h1").wait_for()
        mine = await page.evaluate(
            """async () => {
              const s = JSON.parse(sessionStorage.getItem("egov.session"));
              const r = await fetch("/api/v1/me/applications", {headers: {Authorization: `Bearer ${s.access}`}});
              return (await r.json()).items;
            }"""
        )
        made = [a for a in mine if a["service_code"] == CENTRE_SERVICE and a["origin"] == "centre"]
        assert made, mine
        assert made[0]["channel"]["operator"] == op_iin
        # the citizen's list links to it
        await page.locator(f'a[href="/applications/{made[0]["id"]}"]').click()
        # and its page says, in words, where it was made
        origin = page.locator("#app-origin")
        await origin.wait_for()
        assert await origin.inner_text() in (
            "Халыққа қызмет көрсету орталығы арқылы",
            "Через центр обслуживания населения",
            "At a public service centre",
        )
        await shots.take(page, "citizen-sees-centre-application")
        assert not problems.errors, problems.errors
