"""Two API worker processes on one database: sessions and sign-in limits hold across both."""
from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from portal_testkit import Processes, free_port, seed_account, wait_http

pytestmark = pytest.mark.integration
BIN = str(Path(sys.executable).parent / "rapport-portal")
ADMIN = {"X-Admin-Token": "dev-admin-token"}


@pytest.fixture(scope="module")
async def two_workers(infra, portal_migrated, tmp_path_factory):
    procs = Processes(tmp_path_factory.mktemp("two-workers"))
    urls = []
    for name in ("worker-a", "worker-b"):
        port = free_port()
        procs.start(name, [BIN, "api"], infra.env(
            RAPPORT_PORTAL_HTTP_PORT=str(port), RAPPORT_PORTAL_LOGIN_PER_EMAIL_PER_HOUR="3",
            RAPPORT_PORTAL_LOGIN_PER_IP_PER_MINUTE="1000", PYTHONUNBUFFERED="1"))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:  # generous: two cold Python processes on a busy machine
            await wait_http(f"{url}/healthz", timeout=240)
        yield urls
    finally:
        procs.stop_all()


async def _sign_in(c: httpx.AsyncClient, url: str, acct) -> dict[str, str]:
    link = await c.post(f"{url}/v1/admin/magic-links", headers=ADMIN,
                        json={"tenant_id": str(acct.tenant_id), "contact_id": str(acct.contact_id)})
    assert link.status_code == 201, link.text
    session = await c.post(f"{url}/v1/auth/session", json={"token": link.json()["token"]})
    assert session.status_code == 201, session.text
    return {"Authorization": f"Bearer {session.json()['session_token']}"}


async def test_portal_sign_out_on_one_worker_holds_on_the_other_at_once(two_workers, portal):
    a, b = two_workers
    acct = await seed_account(portal, invoices=4)
    async with httpx.AsyncClient() as c:
        headers = await _sign_in(c, a, acct)
        listing = await c.get(f"{b}/v1/invoices", headers=headers)
        assert listing.status_code == 200 and listing.json()["total"] == 4
        assert (await c.get(f"{b}/v1/invoices", headers=headers)).json() == listing.json()  # b's cached page
        assert (await c.post(f"{a}/v1/auth/logout", headers=headers)).status_code == 204
        # No waiting: b reads the session from Postgres on every request, its cache holds only pages.
        for path in ("/v1/invoices", "/v1/summary"):
            refused = await c.get(f"{b}{path}", headers=headers)
            assert refused.status_code == 401, path


async def test_portal_sign_in_limit_is_one_budget_across_workers(two_workers):
    a, b = two_workers
    body = {"email": "shared-budget@customer.test"}
    async with httpx.AsyncClient() as c:
        codes = [(await c.post(f"{url}/v1/auth/magic-link", json=body)).status_code for url in (a, b, a, b, a)]
        other = await c.post(f"{b}/v1/auth/magic-link", json={"email": "someone-else@customer.test"})
    assert codes == [202, 202, 202, 429, 429]  # 3 per hour in total, not 3 per worker
    assert other.status_code == 202  # the budget is per address
