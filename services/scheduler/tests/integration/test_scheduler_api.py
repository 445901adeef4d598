"""The HTTP API in-process against real Postgres: policies, bad input, admin clock, workspace."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from rapport_shared.db import make_session_factory

pytestmark = pytest.mark.integration

STEPS = [
    {"offset_days": -5, "channel": "email", "template_key": "pre_due_friendly", "tone": "friendly"},
    {"offset_days": 0, "channel": "email", "template_key": "due_today", "tone": "friendly"},
    {"offset_days": 10, "channel": "sms", "template_key": "overdue_firm", "tone": "firm"},
]


def policy(name="Enterprise", priority=10, steps=None, **segment):
    return {"name": name, "priority": priority, "segment": segment or {"sizes": ["enterprise"]},
            "steps": steps if steps is not None else STEPS}


async def count_policies(db, company) -> int:
    return len(await db.rows("SELECT 1 FROM scheduler.policies WHERE tenant_id = :t", t=company.tenant_id))


async def test_admin_token_and_tenant_are_required(sched_http, company):
    assert (await sched_http.get("/v1/policies", headers={"X-Tenant-Id": str(company.tenant_id)})).status_code == 401
    response = await sched_http.get("/v1/policies", headers={"X-Admin-Token": company.headers["X-Admin-Token"]})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "X-Tenant-Id"


async def test_default_policy_and_catalogue_are_there_out_of_the_box(sched_http, company):
    body = (await sched_http.get("/v1/policies", headers=company.headers)).json()
    assert body["policies"] == []
    assert [s["offset_days"] for s in body["default"]["spec"]["steps"]][:4] == [-3, 0, 7, 30]
    assert "broken_promise" in body["catalogue"]["template_keys"]


async def test_policy_versions_are_kept_and_audited(sched_http, db, company):
    created = await sched_http.post("/v1/policies", json=policy(), headers=company.headers)
    assert created.status_code == 201, created.text
    policy_id = created.json()["policy_id"]
    changed = policy(steps=STEPS[1:])
    updated = await sched_http.put(f"/v1/policies/{policy_id}", json=changed, headers=company.headers)
    assert updated.json()["version"] == 2
    versions = (await sched_http.get(f"/v1/policies/{policy_id}/versions", headers=company.headers)).json()
    assert [v["version"] for v in versions] == [1, 2] and len(versions[1]["spec"]["steps"]) == 2
    retired = await sched_http.delete(f"/v1/policies/{policy_id}", headers=company.headers)
    assert retired.json()["active"] is False
    assert (await sched_http.get("/v1/policies", headers=company.headers)).json()["policies"] == []


@pytest.mark.parametrize("steps, field, words", [
    ([{**STEPS[0], "template_key": "nope"}], "steps[0].template_key", "unknown template key 'nope'"),
    ([STEPS[0], {**STEPS[1], "channel": "fax"}], "steps[1].channel", "unknown channel 'fax'"),
    ([STEPS[1], STEPS[0]], "steps[1].offset_days", "increasing offset order"),
    ([STEPS[0], {**STEPS[1], "template_key": None}], "steps[1].template_key", "needs a template_key"),
    ([STEPS[2], {**STEPS[2], "offset_days": 20, "tone": "friendly"}], "steps[1].tone", "softer"),
])
async def test_incomplete_or_contradictory_policies_are_422_naming_the_step(sched_http, db, company, steps, field, words):
    before = await count_policies(db, company)
    response = await sched_http.post("/v1/policies", json=policy(steps=steps), headers=company.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field and words in response.json()["detail"]
    assert await count_policies(db, company) == before  # nothing half-saved


async def test_overlapping_segments_need_distinct_priorities(sched_http, db, company):
    assert (await sched_http.post("/v1/policies", json=policy(priority=5), headers=company.headers)).status_code == 201
    clash = await sched_http.post("/v1/policies", json=policy(name="Big", priority=5, sizes=["enterprise", "mid"]),
                                  headers=company.headers)
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "priority"
    disjoint = await sched_http.post("/v1/policies", json=policy(name="Small", priority=5, sizes=["small"]),
                                     headers=company.headers)
    assert disjoint.status_code == 201
    assert await count_policies(db, company) == 2


async def test_unknown_body_fields_are_rejected_by_name(sched_http, company):
    response = await sched_http.post("/v1/policies", json={**policy(), "colour": "red"}, headers=company.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "colour"


async def test_clock_advances_for_every_process(sched_http, db, company):
    before = (await sched_http.get("/v1/admin/clock", headers=company.headers)).json()
    after = (await sched_http.post("/v1/admin/clock/advance", json={"hours": 5}, headers=company.headers)).json()
    assert after["offset_seconds"] - before["offset_seconds"] == 5 * 3600
    assert (await sched_http.post("/v1/admin/clock/advance", json={}, headers=company.headers)).status_code == 422
    await db.advance(timedelta(hours=-5))


async def test_workspace_call_outcome_notes_tags_timeline_and_ranking(sched_http, db, feed, company):
    today = (await db.now()).date()
    small, events = company.customer(name="Small Co")
    await feed(*events, company.invoice(small, today - timedelta(days=46), "100")[1])
    big, events = company.customer(name="Big Co")
    inv, issued = company.invoice(big, today - timedelta(days=46), "90000")
    await feed(*events, issued)
    work = (await sched_http.get("/v1/worklist", headers=company.headers)).json()["tasks"]
    assert [t["customer_name"] for t in work] == ["Big Co", "Small Co"]  # call steps, ranked by expected value
    assert "90,000.00 open" in work[0]["priority_reason"]
    h = company.headers
    promised = today + timedelta(days=7)
    bad = await sched_http.post(f"/v1/customers/{big}/call-outcomes", json={"code": "maybe"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "code"
    ok = await sched_http.post(f"/v1/customers/{big}/call-outcomes", headers=h, json={
        "code": "promised", "invoice_ids": [str(inv.invoice_id)], "promised_date": promised.isoformat(), "note": "CFO agreed"})
    assert ok.status_code == 200, ok.text
    assert (await sched_http.post(f"/v1/customers/{big}/notes", json={"text": "nice people"}, headers=h)).status_code == 201
    tagged = await sched_http.put(f"/v1/invoices/{inv.invoice_id}/tags", json={"tags": ["remittance_received"]}, headers=h)
    assert tagged.status_code == 200
    bad_tag = await sched_http.put(f"/v1/invoices/{inv.invoice_id}/tags", json={"tags": ["urgent"]}, headers=h)
    assert bad_tag.status_code == 422 and bad_tag.json()["errors"][0]["field"] == "tags[0]"
    listed = (await sched_http.get("/v1/invoices", params={"tag": "remittance_received"}, headers=h)).json()["invoices"]
    assert [i["invoice_id"] for i in listed] == [str(inv.invoice_id)]
    assert listed[0]["promise_until"] == (promised + timedelta(days=3)).isoformat()
    kinds = [e["kind"] for e in (await sched_http.get(f"/v1/customers/{big}/timeline", headers=h)).json()["entries"]]
    assert kinds[:1] == ["touchpoint"] or "task" in kinds
    assert kinds[-3:] == ["call", "note", "tag"]
    remaining = (await sched_http.get("/v1/worklist", headers=h)).json()["tasks"]
    assert [t["customer_name"] for t in remaining] == ["Small Co"]  # the call task closed with the outcome
    missing = await sched_http.post(f"/v1/customers/{uuid.uuid4()}/notes", json={"text": "x"}, headers=h)
    assert missing.status_code == 404


async def test_hold_and_reassignment(sched_http, db, feed, company):
    today = (await db.now()).date()
    cid, events = company.customer()
    await feed(*events)
    h = company.headers
    assert (await sched_http.put(f"/v1/customers/{cid}/override", json={"hold": True}, headers=h)).status_code == 200
    await feed(company.invoice(cid, today - timedelta(days=8))[1])
    assert await db.rows("SELECT 1 FROM scheduler.touchpoints WHERE customer_id = :c", c=cid) == []
    await sched_http.put(f"/v1/customers/{cid}/override", json={"hold": False}, headers=h)
    assert len(await db.rows("SELECT 1 FROM scheduler.touchpoints WHERE customer_id = :c", c=cid)) == 1
    rule = await sched_http.post("/v1/assignment-rules", json={"collector": "Sam", "region": "EMEA"}, headers=h)
    assert rule.status_code == 201
    other, events = company.customer(region="EMEA")
    await feed(*events)
    assert (await db.rows("SELECT collector FROM scheduler.customers WHERE customer_id = :c", c=other))[0][0] == "Sam"
    await sched_http.put(f"/v1/customers/{other}/collector", json={"collector": "Lee"}, headers=h)
    assert (await db.rows("SELECT collector FROM scheduler.customers WHERE customer_id = :c", c=other))[0][0] == "Lee"
    # A later ERP upsert updates the customer but never undoes the manual assignment.
    erp = events[0].payload().model_copy(update={"version": 2, "name": "Renamed Ltd", "collector_name": "Erin",
                                                 "collector_email": "erin@example.com"})
    await feed(company.event(erp, other))
    row = (await db.rows("SELECT name, collector, collector_email FROM scheduler.customers WHERE customer_id = :c",
                         c=other))[0]
    assert (row.name, row.collector, row.collector_email) == ("Renamed Ltd", "Lee", None)
    bad = await sched_http.put(f"/v1/customers/{cid}/override", json={"policy_id": str(uuid.uuid4())}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "policy_id"


async def test_requested_plan_is_approved_and_replaces_the_cadence(sched_http, sched_settings, db, feed, company):
    from rapport_shared.contracts.catalogue import TopicNames
    from rapport_shared.contracts.portal import PaymentPlanRequestedV1

    from rapport_scheduler.service_layer.planning import Planner
    from rapport_scheduler.service_layer.ticker import Ticker

    now = await db.now()
    today = now.date()
    cid, events = company.customer()
    inv, issued = company.invoice(cid, today - timedelta(days=20), "900.00")
    await feed(*events, issued)
    plan_id = uuid.uuid4()
    request = PaymentPlanRequestedV1(
        request_id=uuid.uuid4(), customer_id=cid, requested_at=now, plan_id=plan_id, invoice_ids=[inv.invoice_id],
        currency="USD", auto_approved=False,
        instalments=[{"due_date": today + timedelta(days=3), "amount": "450.00"},
                     {"due_date": today + timedelta(days=33), "amount": "450.00"}])
    await feed(company.event(request, cid))
    h = company.headers
    kinds = [t["kind"] for t in (await sched_http.get("/v1/worklist", headers=h)).json()["tasks"] if t["customer_id"] == str(cid)]
    assert "plan_review" in kinds
    decided = await sched_http.post(f"/v1/plans/{plan_id}/decision", json={"approve": True}, headers=h)
    assert decided.status_code == 200 and decided.json()["status"] == "active"
    again = await sched_http.post(f"/v1/plans/{plan_id}/decision", json={"approve": True}, headers=h)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "plan_id"
    kinds = [t["kind"] for t in (await sched_http.get("/v1/worklist", headers=h)).json()["tasks"] if t["customer_id"] == str(cid)]
    assert "plan_review" not in kinds
    cases = await db.outbox(event_type="rapport.task.case_status_changed.v1", key=f"{company.tenant_id}:{cid}".encode())
    statuses = [(d["case_id"], d["kind"], d["status"]) for d in (json.loads(r.value)["data"] for r in cases)]
    # the portal matches case events to its request by id
    assert statuses == [(str(request.request_id), "payment_plan", "open"), (str(request.request_id), "payment_plan", "approved")]
    topics = TopicNames(sched_settings.topic_prefix)
    ticker = Ticker(make_session_factory(db.engine), Planner(topics))
    try:
        for _ in range(3):
            await db.advance(timedelta(days=1))
            await ticker.drain()
    finally:
        await db.advance(timedelta(days=-3))
    sent = await db.rows("SELECT template_key FROM scheduler.touchpoints WHERE customer_id = :c ORDER BY send_day", c=cid)
    assert [r.template_key for r in sent] == ["overdue_gentle", "plan_instalment"]
    await _second_request_is_rejected_from_the_worklist(sched_http, db, feed, company, cid, inv)


async def _second_request_is_rejected_from_the_worklist(sched_http, db, feed, company, cid, inv):
    from rapport_shared.contracts.portal import PaymentPlanRequestedV1

    now = await db.now()
    request = PaymentPlanRequestedV1(
        request_id=uuid.uuid4(), customer_id=cid, requested_at=now, plan_id=uuid.uuid4(), invoice_ids=[inv.invoice_id],
        currency="USD", auto_approved=False, instalments=[{"due_date": now.date() + timedelta(days=60), "amount": "450.00"}])
    await feed(company.event(request, cid))
    h = company.headers
    tasks = (await sched_http.get("/v1/worklist?kind=plan_review", headers=h)).json()["tasks"]
    review = next(t for t in tasks if t["customer_id"] == str(cid))
    assert str(request.plan_id) in review["reason"]
    closed = await sched_http.post(f"/v1/tasks/{review['task_id']}/close", json={"outcome": "rejected"}, headers=h)
    assert closed.status_code == 200
    status = await db.rows("SELECT status FROM scheduler.plans WHERE plan_id = :p", p=request.plan_id)
    assert [r.status for r in status] == ["rejected"]
    cases = await db.outbox(event_type="rapport.task.case_status_changed.v1", key=f"{company.tenant_id}:{cid}".encode())
    last = json.loads(cases[-1].value)["data"]
    assert (last["case_id"], last["status"]) == (str(request.request_id), "rejected")


async def test_tenant_quiet_hours_are_validated_and_shape_the_touchpoint(sched_http, db, feed, company):
    from datetime import time, timezone

    h = company.headers
    daytime = await sched_http.put("/v1/settings/quiet-hours", json={"start": "08:00", "end": "18:00"}, headers=h)
    assert daytime.status_code == 422 and daytime.json()["errors"][0]["field"] == "quiet_hours.end"
    malformed = await sched_http.put("/v1/settings/quiet-hours", json={"start": "25:00", "end": "07:00"}, headers=h)
    assert malformed.status_code == 422 and "start" in malformed.json()["errors"][0]["field"]
    assert (await sched_http.get("/v1/settings/quiet-hours", headers=h)).json()["source"] == "default"
    saved = await sched_http.put("/v1/settings/quiet-hours", json={"start": "20:00", "end": "07:00"}, headers=h)
    assert saved.status_code == 200
    assert (await sched_http.get("/v1/settings/quiet-hours", headers=h)).json() == {
        "quiet_hours": {"start": "20:00:00", "end": "07:00:00"}, "source": "tenant"}
    policy = {"name": "Quiet in the day?", "priority": 3, "steps": [
        {"offset_days": 0, "channel": "email", "template_key": "due_today"}], "quiet_hours": {"start": "09:00", "end": "17:00"}}
    rejected = await sched_http.post("/v1/policies", json=policy, headers=h)
    assert rejected.status_code == 422 and rejected.json()["errors"][0]["field"] == "quiet_hours.end"
    today = (await db.now()).date()
    cid, events = company.customer(tz="UTC")
    await feed(*events, company.invoice(cid, today - timedelta(days=8))[1])
    sent = await db.rows("SELECT send_not_after FROM scheduler.touchpoints WHERE customer_id = :c", c=cid)
    assert [r.send_not_after.astimezone(timezone.utc).time() for r in sent] == [time(20, 0)]
    rows = await db.outbox(event_type="rapport.touchpoint.due.v1", key=f"{company.tenant_id}:{cid}".encode())
    data = json.loads(rows[0].value)["data"]
    assert (data["quiet_hours_start"], data["quiet_hours_end"]) == ("20:00:00", "07:00:00")
