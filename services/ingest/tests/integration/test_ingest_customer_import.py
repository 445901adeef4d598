"""Customer imports are set-based (service_layer.customer_import) yet follow the API's rules row by row:
created, changed (version + 1), unchanged rows ignored, a customer named twice in one chunk updated in
file order, each change one event in order on the customer's key. (The native preset maps no
``updated_at`` for customers, so an import cannot be stale; the API tests cover that rule.)"""
from __future__ import annotations

import asyncio
import json

import pytest

from rapport_shared.testing.kafka import TopicWatcher

pytestmark = pytest.mark.integration


async def import_ndjson(tenant, rows: list[dict | str]) -> dict:
    body = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()
    response = await tenant.http.post("/v1/imports?kind=customers&format=ndjson", content=body, headers=tenant.headers)
    assert response.status_code in (200, 201, 202), response.text
    return await tenant.finished_import(response.json()["job_id"])


async def test_customer_import_applies_the_api_rules_set_wise(tenant, relay, infra):
    # The API's way, for comparison of the event it emits.
    api = await tenant.put("/v1/customers/API-1", {"name": "Kestrel Ltd", "currency": "GBP", "country": "GB",
                                                   "payment_terms_days": 45})
    assert api.status_code == 201
    async with TopicWatcher(infra.bootstrap, infra.topic("customer")) as watcher:
        first = await import_ndjson(tenant, [
            {"external_id": "K-1", "name": "Kestrel Ltd", "currency": "GBP", "country": "GB",
             "payment_terms_days": 45},
            {"external_id": "K-2", "name": "Osprey", "currency": "EUR"},
            {"external_id": "K-1", "name": "Kestrel Group", "currency": "GBP", "country": "GB"},  # again, later
            {"external_id": "K-3", "name": "Bad", "currency": "QQQ"},
            "{oops",
            {"external_id": "K-2", "name": "Osprey", "currency": "EUR"},  # unchanged: nothing to do
        ])
        assert (first["rows_done"], first["rows_failed"]) == (4, 2), first
        k1 = (await tenant.get("/v1/customers/K-1")).json()
        assert k1["name"] == "Kestrel Group" and k1["version"] == 2 and k1["payment_terms_days"] == 30
        second = await import_ndjson(tenant, [
            {"external_id": "K-1", "name": "Kestrel Group", "currency": "GBP", "country": "GB"},  # unchanged
            {"external_id": "K-2", "name": "Osprey", "currency": "EUR"},  # unchanged
            {"external_id": "K-2", "name": "Osprey AG", "currency": "EUR", "region": "DACH"},
        ])
        assert (second["rows_done"], second["rows_failed"]) == (3, 0), second
        ids = {k1["customer_id"]: "K-1", (await tenant.get("/v1/customers/K-2")).json()["customer_id"]: "K-2",
               api.json()["customer_id"]: "API-1"}
        await watcher.wait_for(lambda e: e.data.get("customer_id") in ids, count=5)
        await asyncio.sleep(0.5)  # nothing more may follow
    events = [e for e in watcher.events if e.data.get("customer_id") in ids]
    versions = {name: [e.data["version"] for e in events if ids[e.data["customer_id"]] == name] for name in ("K-1", "K-2")}
    assert versions == {"K-1": [1, 2], "K-2": [1, 2]}  # in order on each customer's key; nothing for unchanged rows
    k1_events = [e for e in events if ids[e.data["customer_id"]] == "K-1"]
    assert k1_events[0].data["name"] == "Kestrel Ltd" and k1_events[1].data["name"] == "Kestrel Group"
    assert all(e.partitionkey == f"{tenant.tenant_id}:{e.data['customer_id']}" for e in events)
    # The first K-1 row carries the same content as API-1: its event differs only in ids.
    api_event = next(e for e in events if ids[e.data["customer_id"]] == "API-1")
    differs = {"customer_id", "external_id"}
    assert {k: v for k, v in k1_events[0].data.items() if k not in differs} == {
        k: v for k, v in api_event.data.items() if k not in differs}
    k2 = (await tenant.get("/v1/customers/K-2")).json()
    assert k2["name"] == "Osprey AG" and k2["region"] == "DACH" and k2["version"] == 2
    assert (await tenant.get("/v1/customers/K-1")).json()["version"] == 2
    errors = (await tenant.get(f"/v1/imports/{first['job_id']}/errors")).json()
    assert sorted(e["row"] for e in errors) == [4, 5] and any(e["field"] == "currency" for e in errors)
    assert (await tenant.get("/v1/customers/K-3")).status_code == 404
