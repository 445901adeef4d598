"""Magic links, sessions, CSRF, rate limits and the audit log, on real Postgres."""
from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
import structlog
import structlog.testing
from sqlalchemy import select

from rapport_shared.contracts import portal_link

from rapport_portal.adapters.orm import outbox
from rapport_portal.bootstrap import create_app

from portal_testkit import seed_account, sign_in

pytestmark = pytest.mark.integration


async def _outbox_types(portal) -> list[str]:
    async with portal.sessions() as session:
        return list((await session.execute(select(outbox.c.event_type, outbox.c.value))).all())


async def test_magic_link_request_answers_the_same_for_known_and_unknown_addresses(client, portal):
    acct = await seed_account(portal)
    before = len(await _outbox_types(portal))
    known = await client.post("/v1/auth/magic-link", json={"email": acct.email.upper()})
    unknown = await client.post("/v1/auth/magic-link", json={"email": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    rows = await _outbox_types(portal)
    new = [r for r in rows[before:] if r.event_type == "rapport.portal.magic_link_requested.v1"]
    assert len(new) == 1 and acct.email.encode() in new[0].value and b"/portal/login?token=" in new[0].value


async def test_magic_link_request_validates_the_address(client):
    response = await client.post("/v1/auth/magic-link", json={"email": "not-an-address"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "email"


async def test_a_link_works_once(client, portal):
    acct = await seed_account(portal)
    token, _ = _mint(portal, acct, minutes=30)
    first = await client.post("/v1/auth/session", json={"token": token})
    second = await client.post("/v1/auth/session", json={"token": token})
    assert first.status_code == 201
    assert second.status_code == 401 and "already used" in second.json()["detail"]


async def test_expired_forged_and_garbled_links_are_refused(client, portal, clock):
    acct = await seed_account(portal)
    expired = portal_link.mint(portal.link_secret, acct.tenant_id, acct.customer_id, acct.contact_id,
                               clock.now() - timedelta(seconds=1))
    forged = portal_link.mint("another-secret", acct.tenant_id, acct.customer_id, acct.contact_id,
                              clock.now() + timedelta(hours=1))
    for token, reason in ((expired, "expired"), (forged, "bad signature"), ("garbage-token-x", "malformed")):
        response = await client.post("/v1/auth/session", json={"token": token})
        assert response.status_code == 401 and reason in response.json()["detail"], token
    page = await client.get("/portal/login", params={"token": expired})
    assert page.status_code == 200 and "expired" in page.text and "rapport_portal_session" not in page.headers.get("set-cookie", "")


def _mint(portal, acct, minutes: int):
    expires = portal.clock.now() + timedelta(minutes=minutes)
    return portal_link.mint(portal.link_secret, acct.tenant_id, acct.customer_id, acct.contact_id, expires), expires


async def test_link_for_a_contact_the_portal_does_not_know_is_refused(client, portal):
    acct = await seed_account(portal)
    acct.contact_id = acct.customer_id  # a contact id that exists nowhere
    token, _ = _mint(portal, acct, 10)
    response = await client.post("/v1/auth/session", json={"token": token})
    assert response.status_code == 401


async def test_the_login_url_sets_a_hardened_cookie_and_cookie_writes_need_csrf(client, portal):
    acct = await seed_account(portal)
    token, _ = _mint(portal, acct, 10)
    login = await client.get("/portal/login", params={"token": token})
    assert login.status_code == 303 and login.headers["location"] == "/portal"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http in this test; https responses add it
    body = {"invoice_ids": [str(acct.invoice_ids[0])], "promised_date": "2026-06-20"}
    no_csrf = await client.post("/v1/promises", json=body)
    wrong = await client.post("/v1/promises", json=body, headers={"X-CSRF-Token": "nope"})
    assert no_csrf.status_code == wrong.status_code == 403
    me = await client.get("/v1/me")
    assert me.status_code == 200 and me.json()["customer_id"] == str(acct.customer_id)
    ok = await client.post("/v1/promises", json=body, headers={"X-CSRF-Token": me.json()["csrf_token"]})
    assert ok.status_code == 202
    form = await client.post(f"/portal/invoices/{acct.invoice_ids[1]}/promise", data={"promised_date": "2026-06-20"})
    assert form.status_code == 403  # the HTML form must carry the token too


async def test_secure_cookie_over_https(portal_app, portal):
    acct = await seed_account(portal)
    token, _ = _mint(portal, acct, 10)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=portal_app), base_url="https://portal.test") as c:
        response = await c.post("/v1/auth/session", json={"token": token})
    assert "secure" in response.headers["set-cookie"].lower()


async def test_logout_ends_the_session(client, portal):
    headers = await sign_in(client, await seed_account(portal))
    assert (await client.get("/v1/summary", headers=headers)).status_code == 200
    assert (await client.post("/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/v1/summary", headers=headers)).status_code == 401


async def test_no_session_no_data(client):
    for path in ("/v1/summary", "/v1/invoices", "/v1/me", "/v1/communications"):
        assert (await client.get(path)).status_code == 401
    assert (await client.get("/v1/summary", headers={"Authorization": "Bearer made-up"})).status_code == 401
    assert (await client.get("/portal")).headers["location"] == "/portal/login"


async def test_sign_in_is_rate_limited_per_ip_and_per_email(portal_settings, clock):
    app = create_app(portal_settings.model_copy(update={"login_per_ip_per_minute": 4, "login_per_email_per_hour": 2}), clock=clock)
    async with app.router.lifespan_context(app):
        # An address of its own: the counters are shared (in Postgres) with every other test's sign-ins.
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as c:
            codes = [(await c.post("/v1/auth/magic-link", json={"email": "same@x.test"})).status_code for _ in range(3)]
            assert codes == [202, 202, 429]
            other = [(await c.post("/v1/auth/magic-link", json={"email": f"o{n}@x.test"})).status_code for n in range(3)]
            assert other == [202, 429, 429]  # the per-IP budget (4) is spent too
            limited = await c.post("/v1/auth/session", json={"token": "x" * 20})
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


async def test_admin_endpoints_need_the_admin_token(client, portal):
    acct = await seed_account(portal)
    body = {"tenant_id": str(acct.tenant_id), "contact_id": str(acct.contact_id)}
    assert (await client.post("/v1/admin/magic-links", json=body)).status_code == 401
    assert (await client.post("/v1/admin/magic-links", json=body, headers={"X-Admin-Token": "wrong"})).status_code == 401
    other_tenant = body | {"tenant_id": str(acct.customer_id)}
    missing = await client.post("/v1/admin/magic-links", json=other_tenant, headers={"X-Admin-Token": "dev-admin-token"})
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "contact_id"


async def test_the_audit_log_records_what_the_contact_did(client, portal):
    acct = await seed_account(portal)
    headers = await sign_in(client, acct)
    await client.get(f"/v1/invoices/{acct.invoice_ids[0]}/pdf", headers=headers)
    await client.post("/v1/callbacks", json={"phone": "+4915112345678", "note": "after 3pm"}, headers=headers)
    audit = await client.get("/v1/admin/audit", params={"tenant_id": str(acct.tenant_id), "customer_id": str(acct.customer_id)},
                             headers={"X-Admin-Token": "dev-admin-token"})
    actions = [a["action"] for a in audit.json()["items"]]
    assert actions == ["callback_requested", "invoice_downloaded", "signed_in"]
    assert all(a["contact_id"] == str(acct.contact_id) for a in audit.json()["items"])


async def test_tokens_never_reach_the_logs(client, portal, caplog, capsys):
    acct = await seed_account(portal)
    token, _ = _mint(portal, acct, 10)
    with caplog.at_level(logging.DEBUG), structlog.testing.capture_logs() as events:
        login = await client.get("/portal/login", params={"token": token})
        session_token = client.cookies.get("rapport_portal_session")
        await client.get("/portal")
        await client.post("/v1/auth/session", json={"token": token})  # replay, refused
        await client.post("/v1/auth/magic-link", json={"email": acct.email})
    # The test's own HTTP client logs its URLs; what matters is what the service logs, wherever it goes.
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    text = "\n".join([r.getMessage() + str(r.__dict__) for r in server] + [str(e) for e in events]
                     + [capsys.readouterr().out])
    assert login.status_code == 303 and session_token
    assert "portal sign-in" in text and "already used" in text
    assert token not in text and session_token not in text and portal.link_secret not in text


async def test_the_magic_link_answer_goes_out_before_the_address_is_looked_up(portal_app, portal, monkeypatch):
    """The lookup and the sending happen after the response, so timing cannot tell known from unknown."""
    from rapport_portal.adapters import queries

    acct = await seed_account(portal)
    order: list[str] = []
    real_lookup = queries.contacts_by_email

    async def lookup(session, email):
        order.append("lookup")
        return await real_lookup(session, email)

    monkeypatch.setattr(queries, "contacts_by_email", lookup)

    async def watching(scope, receive, send):
        async def send_(message):
            if message["type"] == "http.response.start":
                order.append("response")
            await send(message)
        await portal_app(scope, receive, send_)

    before = len(await _outbox_types(portal))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=watching), base_url="http://portal.test") as c:
        for path, kwargs in (("/v1/auth/magic-link", {"json": {"email": acct.email}}),
                             ("/portal/magic-link", {"data": {"email": acct.email}})):
            order.clear()
            response = await c.post(path, **kwargs)
            assert response.status_code in (200, 202)
            assert order == ["response", "lookup"], path
    new = [r for r in (await _outbox_types(portal))[before:] if r.event_type == "rapport.portal.magic_link_requested.v1"]
    assert len(new) == 2  # both routes still sent the link, after answering


async def test_a_failed_send_after_the_answer_is_logged_not_raised(client, portal, monkeypatch):
    from rapport_portal.adapters import queries

    async def broken(session, email):
        raise RuntimeError("database went away")

    monkeypatch.setattr(queries, "contacts_by_email", broken)
    with structlog.testing.capture_logs() as events:
        response = await client.post("/v1/auth/magic-link", json={"email": "someone@x.test"})
    assert response.status_code == 202
    assert any(e["event"] == "magic link could not be sent" for e in events)
