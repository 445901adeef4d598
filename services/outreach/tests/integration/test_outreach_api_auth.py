"""The outreach API needs a real credential: a tenant's scoped API key, or the operator's token.

An X-Tenant-Id header alone opens nothing; a key sees only its own tenant's messages, templates
and provider accounts, whatever X-Tenant-Id says; a key's scope limits what it may change.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from rapport_outreach.adapters.orm import api_keys
from rapport_outreach.bootstrap import make_handler
from rapport_outreach.testing.auth import ADMIN_TOKEN, operator

pytestmark = pytest.mark.integration
ADMIN = {"X-Admin-Token": ADMIN_TOKEN}
SINK = {"provider": "sink", "settings": {}}
TEMPLATE = {"key": "due_today", "locale": "en", "subject": "Due: {{ total }}", "text": "Hi {{ contact_name }}",
            "html": "<p>Hi</p>", "sms": "{{ total }} due"}


async def _key(client, tenant: uuid.UUID, scope: str) -> dict[str, str]:
    response = await client.post("/v1/admin/api-keys", headers=ADMIN,
                                 json={"tenant_id": str(tenant), "name": f"{scope} key", "scope": scope})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["api_key"].startswith("rok_") and body["scope"] == scope
    return {"Authorization": f"Bearer {body['api_key']}", "key_id": body["key_id"]}


def _auth(key: dict[str, str], **extra: str) -> dict[str, str]:
    return {"Authorization": key["Authorization"], **extra}


@pytest.mark.parametrize("method,path", [("GET", "/v1/templates"), ("GET", "/v1/messages"),
                                         ("GET", "/v1/provider-accounts"), ("PUT", "/v1/provider-accounts/email"),
                                         ("DELETE", "/v1/provider-accounts/email"),
                                         ("POST", "/v1/templates/preview")])
async def test_a_tenant_header_alone_or_a_wrong_credential_is_401(client, method, path) -> None:
    tenant = str(uuid.uuid4())
    attempts = [({"X-Tenant-Id": tenant}, "Authorization"),
                ({"X-Tenant-Id": tenant, "X-Admin-Token": "wrong"}, "X-Admin-Token"),
                ({"X-Tenant-Id": tenant, "X-Admin-Token": ""}, "X-Admin-Token"),
                ({"Authorization": "Bearer rok_abc_not-a-key"}, "Authorization"),
                ({"Authorization": "Bearer garbage"}, "Authorization"),
                ({"Authorization": "Basic dXNlcjpwYXNz"}, "Authorization")]
    for headers, field in attempts:
        response = await client.request(method, path, headers=headers, json=SINK if method == "PUT" else None)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["errors"][0]["field"] == field


async def test_issuing_keys_needs_the_admin_token_and_never_stores_the_secret(client, sessions) -> None:
    tenant = uuid.uuid4()
    body = {"tenant_id": str(tenant), "name": "erp", "scope": "admin"}
    assert (await client.post("/v1/admin/api-keys", json=body)).status_code == 401
    assert (await client.post("/v1/admin/api-keys", json=body, headers={"X-Admin-Token": "x"})).status_code == 401
    bad = await client.post("/v1/admin/api-keys", json={**body, "scope": "root"}, headers=ADMIN)
    assert bad.status_code == 422 and "scope" in bad.text
    key = await _key(client, tenant, "admin")
    plaintext = key["Authorization"].split()[1]
    async with sessions() as session:
        row = (await session.execute(select(api_keys).where(api_keys.c.tenant_id == tenant))).one()
    assert plaintext not in repr(tuple(row)) and plaintext.split("_", 2)[2] not in repr(tuple(row))
    listed = (await client.get(f"/v1/admin/api-keys?tenant_id={tenant}", headers=ADMIN)).json()["keys"]
    assert [k["key_id"] for k in listed] == [key["key_id"]] and plaintext not in str(listed)
    assert (await client.get(f"/v1/admin/api-keys?tenant_id={tenant}", headers=_auth(key))).status_code == 401


async def test_a_key_sees_only_its_own_tenants_provider_accounts(client) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    key_a, key_b = await _key(client, a, "admin"), await _key(client, b, "admin")
    saved = await client.put("/v1/provider-accounts/email", headers=_auth(key_b), json={
        "provider": "sendgrid", "settings": {"from_email": "ar@b.example"}, "secrets": {"api_key": "SG.tenant-b"}})
    assert saved.status_code == 200, saved.text
    mine = await client.get("/v1/provider-accounts", headers=_auth(key_a))
    assert mine.status_code == 200 and mine.json()["accounts"] == []
    theirs = await client.get("/v1/provider-accounts", headers=_auth(key_b))
    assert [x["settings"]["from_email"] for x in theirs.json()["accounts"]] == ["ar@b.example"]
    for method in ("GET", "DELETE"):
        path = "/v1/provider-accounts" if method == "GET" else "/v1/provider-accounts/email"
        crossed = await client.request(method, path, headers=_auth(key_a, **{"X-Tenant-Id": str(b)}))
        assert crossed.status_code == 403 and crossed.json()["errors"][0]["field"] == "X-Tenant-Id"
    same = await client.get("/v1/provider-accounts", headers=_auth(key_a, **{"X-Tenant-Id": str(a)}))
    assert same.status_code == 200
    still = await client.get("/v1/provider-accounts", headers=_auth(key_b))
    assert len(still.json()["accounts"]) == 1  # A's DELETE with B's tenant id changed nothing


async def test_a_key_reads_only_its_own_tenants_messages(client, sessions, deps, sender, make_touchpoint,
                                                          make_envelope) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    tp = make_touchpoint()
    async with sessions() as session, session.begin():
        await make_handler(deps)(session, make_envelope(tp, b))
    while await sender.run_once():
        pass
    key_a, key_b = await _key(client, a, "read"), await _key(client, b, "read")
    path = f"/v1/messages?customer_id={tp.customer.customer_id}"
    theirs = (await client.get(path, headers=_auth(key_b))).json()["messages"]
    assert len(theirs) == 1
    assert (await client.get(path, headers=_auth(key_a))).json()["messages"] == []
    assert (await client.get(f"/v1/messages/{theirs[0]['id']}", headers=_auth(key_a))).status_code == 404
    assert (await client.get(path, headers=_auth(key_a, **{"X-Tenant-Id": str(b)}))).status_code == 403


async def test_scopes_limit_what_a_key_may_change(client) -> None:
    tenant = uuid.uuid4()
    read, write = await _key(client, tenant, "read"), await _key(client, tenant, "write")
    assert (await client.get("/v1/templates", headers=_auth(read))).status_code == 200
    refused = await client.put("/v1/templates", headers=_auth(read), json=TEMPLATE)
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "Authorization"
    assert (await client.get("/v1/provider-accounts", headers=_auth(read))).status_code == 403
    assert (await client.put("/v1/templates", headers=_auth(write), json=TEMPLATE)).status_code == 200
    assert (await client.put("/v1/provider-accounts/email", headers=_auth(write), json=SINK)).status_code == 403
    settle = await client.post(f"/v1/messages/{uuid.uuid4()}/settle", headers=_auth(read),
                               json={"resolution": "sent", "settled_by": "x"})
    assert settle.status_code == 403


async def test_a_revoked_key_is_refused(client) -> None:
    tenant = uuid.uuid4()
    key = await _key(client, tenant, "read")
    assert (await client.get("/v1/templates", headers=_auth(key))).status_code == 200
    assert (await client.delete(f"/v1/admin/api-keys/{key['key_id']}", headers=ADMIN)).status_code == 204
    assert (await client.delete(f"/v1/admin/api-keys/{key['key_id']}", headers=ADMIN)).status_code == 404
    refused = await client.get("/v1/templates", headers=_auth(key))
    assert refused.status_code == 401 and "revoked" in refused.json()["errors"][0]["reason"]


async def test_the_operator_acts_for_the_tenant_it_names(client) -> None:
    tenant = uuid.uuid4()
    assert (await client.get("/v1/provider-accounts", headers=operator(tenant))).status_code == 200
    missing = await client.get("/v1/provider-accounts", headers=ADMIN)
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "X-Tenant-Id"
