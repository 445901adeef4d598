"""Tasks name what they are about: the uncertain message outreach later settles, the plan a review decides."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from rapport_shared.contracts.outreach import MessageSettledV1, MessageUncertainV1
from rapport_shared.contracts.portal import PaymentPlanRequestedV1

pytestmark = pytest.mark.integration


def _uncertain(cid, message_id, invoice_ids, at):
    return MessageUncertainV1(message_id=message_id, touchpoint_id=uuid.uuid4(), customer_id=cid, channel="email",
                              provider="smtp", occurred_at=at, invoice_ids=invoice_ids, detail="timeout after DATA")


def _settled(cid, message_id, invoice_ids, at, resolution):
    return MessageSettledV1(message_id=message_id, customer_id=cid, channel="email", provider="smtp", occurred_at=at,
                            invoice_ids=invoice_ids, resolution=resolution, settled_by="kim@ar.example",
                            note="provider log checked")


async def test_settling_an_uncertain_message_closes_its_review_task_only(sched_http, db, feed, company):
    now = await db.now()
    cid, events = company.customer()
    inv, issued = company.invoice(cid, now.date() + timedelta(days=20))
    first, second = uuid.uuid4(), uuid.uuid4()
    await feed(*events, issued, company.event(_uncertain(cid, first, [inv.invoice_id], now), cid),
               company.event(_uncertain(cid, second, [inv.invoice_id], now), cid))
    h = company.headers
    tasks = (await sched_http.get("/v1/worklist?kind=uncertain_send", headers=h)).json()["tasks"]
    mine = {t["subject_id"]: t for t in tasks if t["customer_id"] == str(cid)}
    assert set(mine) == {str(first), str(second)} and {t["subject_kind"] for t in mine.values()} == {"message"}
    created = await db.outbox(event_type="rapport.task.created.v1", key=f"{company.tenant_id}:{cid}".encode())
    subjects = {json.loads(r.value)["data"]["task_id"]: json.loads(r.value)["data"] for r in created}
    # TaskCreatedV1 carries the subject the task row stores (consumers need not parse the reason text).
    assert {(d["subject_kind"], d["subject_id"]) for t, d in subjects.items() if t in
            {m["task_id"] for m in mine.values()}} == {("message", str(first)), ("message", str(second))}

    await feed(company.event(_settled(cid, first, [inv.invoice_id], now, "sent"), cid))
    tasks = (await sched_http.get("/v1/worklist?kind=uncertain_send", headers=h)).json()["tasks"]
    assert [t["subject_id"] for t in tasks if t["customer_id"] == str(cid)] == [str(second)]
    closed = await db.rows("SELECT status, outcome, note FROM scheduler.tasks WHERE task_id = :t",
                           t=uuid.UUID(mine[str(first)]["task_id"]))
    assert [(r.status, r.outcome) for r in closed] == [("closed", "sent")]
    assert "kim@ar.example" in closed[0].note and "provider log checked" in closed[0].note
    announced = await db.outbox(event_type="rapport.task.closed.v1", key=f"{company.tenant_id}:{cid}".encode())
    data = [json.loads(r.value)["data"] for r in announced]
    assert [(d["task_id"], d["outcome"]) for d in data] == [(mine[str(first)]["task_id"], "sent")]

    await feed(company.event(_settled(cid, second, [inv.invoice_id], now, "not_sent"), cid))
    outcome = await db.rows("SELECT outcome FROM scheduler.tasks WHERE task_id = :t",
                            t=uuid.UUID(mine[str(second)]["task_id"]))
    assert [r.outcome for r in outcome] == ["not_sent"]
    timeline = (await sched_http.get(f"/v1/customers/{cid}/timeline", headers=h)).json()
    entries = timeline["entries"] if isinstance(timeline, dict) else timeline
    settled = [e for e in entries if e["kind"] == "message_settled"]
    assert len(settled) == 2 and "did not go out" in settled[-1]["summary"]


async def test_a_settlement_for_an_unknown_message_closes_nothing(db, feed, company):
    now = await db.now()
    cid, events = company.customer()
    message = uuid.uuid4()
    await feed(*events, company.event(_uncertain(cid, message, [], now), cid),
               company.event(_settled(cid, uuid.uuid4(), [], now, "sent"), cid))
    open_tasks = await db.rows("SELECT subject_id FROM scheduler.tasks WHERE customer_id = :c AND status = 'open' "
                               "AND kind = 'uncertain_send'", c=cid)
    assert [r.subject_id for r in open_tasks] == [message]


async def test_plan_reviews_name_their_plan_and_deciding_one_plan_leaves_the_other(sched_http, db, feed, company):
    now = await db.now()
    cid, events = company.customer()
    a, a_issued = company.invoice(cid, now.date() - timedelta(days=5), "600.00")
    b, b_issued = company.invoice(cid, now.date() - timedelta(days=5), "800.00")
    requests = [PaymentPlanRequestedV1(
        request_id=uuid.uuid4(), customer_id=cid, requested_at=now, plan_id=uuid.uuid4(), invoice_ids=[inv.invoice_id],
        currency="USD", auto_approved=False, instalments=[{"due_date": now.date() + timedelta(days=30), "amount": amount}])
        for inv, amount in ((a, "600.00"), (b, "800.00"))]
    await feed(*events, a_issued, b_issued, *(company.event(r, cid) for r in requests))
    h = company.headers
    reviews = [t for t in (await sched_http.get("/v1/worklist?kind=plan_review", headers=h)).json()["tasks"]
               if t["customer_id"] == str(cid)]
    assert sorted((t["subject_kind"], t["subject_id"]) for t in reviews) == sorted(
        ("plan", str(r.plan_id)) for r in requests)
    by_plan = {t["subject_id"]: t for t in reviews}

    # deciding the first plan closes its review, not the other plan's
    decided = await sched_http.post(f"/v1/plans/{requests[0].plan_id}/decision", json={"approve": False}, headers=h)
    assert decided.status_code == 200
    left = [t["subject_id"] for t in (await sched_http.get("/v1/worklist?kind=plan_review", headers=h)).json()["tasks"]
            if t["customer_id"] == str(cid)]
    assert left == [str(requests[1].plan_id)]

    # closing the second review from the worklist decides exactly the plan it names
    closed = await sched_http.post(f"/v1/tasks/{by_plan[str(requests[1].plan_id)]['task_id']}/close",
                                   json={"outcome": "approved"}, headers=h)
    assert closed.status_code == 200
    status = {r.plan_id: r.status for r in await db.rows(
        "SELECT plan_id, status FROM scheduler.plans WHERE customer_id = :c", c=cid)}
    assert status == {requests[0].plan_id: "rejected", requests[1].plan_id: "active"}
