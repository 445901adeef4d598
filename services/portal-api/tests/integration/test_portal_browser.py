"""The reference page end to end in headless Chromium: sign in, summary, invoices, PDF, dispute, promise, plan,
call back, contact preferences, pay."""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from portal_testkit import PDF, STRIPE_KEY, Processes, events_for, free_port, seed_account, wait_http

pytestmark = [pytest.mark.integration, pytest.mark.browser]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
BIN = str(Path(sys.executable).parent / "rapport-portal")

if not CHROMIUM.exists():
    pytestmark.append(pytest.mark.skip(reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)"))


@pytest.fixture
async def live_portal(infra, portal_migrated, fake_stripe, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = Processes(tmp_path)
    procs.start("api", [BIN, "api"], infra.env(
        RAPPORT_PORTAL_HTTP_PORT=str(port), RAPPORT_PORTAL_BASE_URL=base, RAPPORT_PORTAL_STRIPE_API_BASE=fake_stripe.url,
        RAPPORT_PORTAL_STRIPE_API_KEY=STRIPE_KEY, RAPPORT_PORTAL_UPLOAD_DIR=str(tmp_path / "uploads"), PYTHONUNBUFFERED="1"))
    try:
        await wait_http(f"{base}/healthz", timeout=120)
        yield base, procs
    finally:
        procs.stop_all()


@pytest.fixture
def shots(repo_root):
    folder = repo_root / "test-artifacts" / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_a_customer_helps_itself_in_the_browser(live_portal, portal, shots):
    from playwright.async_api import async_playwright

    base, procs = live_portal
    today = date.today()
    acct = await seed_account(portal, invoices=4, today=today)
    async with httpx.AsyncClient(base_url=base) as http:
        link = (await http.post("/v1/admin/magic-links", headers={"X-Admin-Token": "dev-admin-token"},
                                json={"tenant_id": str(acct.tenant_id), "contact_id": str(acct.contact_id)})).json()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = await (await browser.new_context(accept_downloads=True)).new_page()
            await _sign_in_page(page, base, acct.email, shots)
            await _home(page, link["url"], shots)
            await _invoice_actions(page, acct, today, shots)
            await _contact(page, shots)
            await _pay(page, acct, shots)
            await _mobile(browser, base, page, shots)
        finally:
            await browser.close()
    kinds = [e.type.split(".")[2] for e in await events_for(portal, acct.customer_id)]
    assert {"dispute_opened", "promise_made", "plan_requested", "payment_initiated",
            "callback_requested", "preferences_changed"} <= set(kinds)
    events = {e.type.split(".")[2]: e.payload() for e in await events_for(portal, acct.customer_id)}
    assert events["callback_requested"].phone == "+4930123456" and "invoice 4711" in events["callback_requested"].note
    prefs = events["preferences_changed"]
    assert (prefs.preferred_channel, prefs.locale, list(prefs.opted_out_channels)) == ("sms", "de", ["call"])
    assert link["token"] not in procs.log_text("api")


async def _sign_in_page(page, base: str, email: str, shots: Path) -> None:
    await page.goto(f"{base}/portal/login")
    await page.get_by_label("Work email address").fill(email)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_role("status").wait_for()
    assert "sign-in link is on its way" in await page.get_by_role("status").inner_text()
    await page.screenshot(path=str(shots / "01-sign-in.png"), full_page=True)


async def _home(page, url: str, shots: Path) -> None:
    await page.goto(url)
    await page.get_by_role("heading", name="Acme GmbH").wait_for()
    assert (await page.get_by_test_id("total-due").inner_text()).startswith("402.00 EUR")
    assert await page.get_by_role("link", name="INV-0004").count() == 1
    await page.screenshot(path=str(shots / "02-summary-and-invoices.png"), full_page=True)
    await page.get_by_label("Show").select_option("overdue")
    await page.get_by_role("button", name="Apply").click()
    await page.wait_for_url("**status=overdue**")
    assert await page.get_by_role("link", name="INV-0001").count() == 1 and await page.get_by_role("link", name="INV-0002").count() == 0


async def _invoice_actions(page, acct, today: date, shots: Path) -> None:
    await page.get_by_role("link", name="INV-0001").click()
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download PDF").click()
    download = await download_info.value
    assert Path(await download.path()).read_bytes().startswith(b"%PDF-")
    await page.get_by_text("Dispute this invoice").click()
    await page.get_by_label("Reason").select_option("damaged")
    await page.get_by_label("Comment").fill("Two boxes arrived crushed.")
    await page.get_by_label("Supporting document").set_input_files(_proof(shots))
    await page.get_by_role("button", name="Send dispute").click()
    await page.get_by_role("status").wait_for()
    assert "dispute was sent" in await page.get_by_role("status").inner_text()
    assert "damaged" in await page.get_by_role("region", name="Your disputes").inner_text()
    await page.screenshot(path=str(shots / "03-dispute-sent.png"), full_page=True)

    await page.goto(page.url.split("/portal/")[0] + f"/portal/invoices/{acct.invoice_ids[1]}")
    await page.get_by_text("I will pay on a date").click()
    await page.get_by_label("Payment date", exact=True).fill((today + timedelta(days=7)).isoformat())
    await page.get_by_role("button", name="Promise to pay").click()
    await page.get_by_role("status").wait_for()
    assert "promise to pay" in await page.get_by_role("status").inner_text()

    await page.goto(page.url.split("/portal/")[0] + f"/portal/invoices/{acct.invoice_ids[2]}")
    await page.get_by_text("Request a payment plan").click()
    await page.get_by_label("Number of monthly instalments").fill("3")
    await page.get_by_label("First payment date").fill((today + timedelta(days=3)).isoformat())
    await page.get_by_role("button", name="Request plan").click()
    await page.get_by_role("status").wait_for()
    assert "payment plan is approved" in await page.get_by_role("status").inner_text()
    await page.screenshot(path=str(shots / "04-plan-approved.png"), full_page=True)


async def _contact(page, shots: Path) -> None:
    """Ask for a call back, then change channel, language and opt-outs; the page shows what was saved."""
    await page.get_by_role("link", name="Contact and preferences").click()
    await page.get_by_label("Phone number").fill("+49 30 123456")  # spaces are forgiven, like on a phone
    await page.get_by_label("Best time to call").fill("weekdays after 3 pm")
    await page.get_by_label("What is it about?").fill("A question about invoice 4711")
    await page.get_by_role("button", name="Request a call back").click()
    await page.get_by_role("status").wait_for()
    assert "call you back" in await page.get_by_role("status").inner_text()
    await page.get_by_label("Phone number").fill("12345")  # not a phone number: refused with the field named
    await page.evaluate("() => document.querySelector('#phone').removeAttribute('pattern')")  # past the browser's check
    await page.get_by_role("button", name="Request a call back").click()
    await page.get_by_role("alert").wait_for()
    assert "phone" in await page.get_by_role("alert").inner_text()

    await page.get_by_label("Preferred channel").select_option("sms")
    await page.get_by_label("Language").select_option("de")
    await page.get_by_role("group", name="Do not contact me by").get_by_label("Phone call").check()
    await page.get_by_role("button", name="Save preferences").click()
    await page.get_by_role("status").wait_for()
    assert "preferences are saved" in await page.get_by_role("status").inner_text()
    assert await page.get_by_label("Preferred channel").input_value() == "sms"
    assert await page.get_by_label("Language").input_value() == "de"
    assert await page.get_by_role("group", name="Do not contact me by").get_by_label("Phone call").is_checked()
    await page.screenshot(path=str(shots / "05-contact-and-preferences.png"), full_page=True)


def _proof(shots: Path) -> str:
    path = shots / "upload-proof.pdf"
    path.write_bytes(PDF)
    return str(path)


async def _pay(page, acct, shots: Path) -> None:
    await page.get_by_role("link", name="Invoices").click()
    for invoice_id in acct.invoice_ids[2:4]:
        await page.locator(f"#pay-{invoice_id}").check()
    await page.get_by_role("button", name="Pay selected invoices").click()
    await page.get_by_role("heading", name="Fake Stripe Checkout").wait_for()
    assert "/pay/cs_test_" in page.url
    await page.screenshot(path=str(shots / "06-stripe-checkout.png"), full_page=True)


async def _mobile(browser, base: str, signed_in_page, shots: Path) -> None:
    """A phone-sized view of the same session: labels and landmarks are there, nothing overflows."""
    context = await browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                        storage_state=await signed_in_page.context.storage_state())
    page = await context.new_page()
    await page.goto(f"{base}/portal")
    unlabelled = await page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]),select,textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).length""")
    overflow = await page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
    assert unlabelled == 0 and not overflow
    assert await page.get_by_role("main").count() == 1 and await page.get_by_role("navigation", name="Main").count() == 1
    assert await page.evaluate("() => document.documentElement.lang") == "en"
    await page.screenshot(path=str(shots / "07-mobile.png"), full_page=True)
    await context.close()
