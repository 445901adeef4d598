"""The account timeline lists each touchpoint from the touchpoint row itself (no timeline row is written for it)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

pytestmark = pytest.mark.integration


async def test_a_touchpoint_is_one_timeline_line_naming_its_invoices(sched_http, db, feed, company):
    today = (await db.now()).date()
    cid, events = company.customer()
    await feed(*events)
    hold = f"/v1/customers/{cid}/override"
    # On hold while both invoices arrive, so the one touchpoint of the release lists both.
    assert (await sched_http.put(hold, json={"hold": True}, headers=company.headers)).status_code == 200
    await feed(company.invoice(cid, today - timedelta(days=8), number="INV-A1")[1],
               company.invoice(cid, today - timedelta(days=9), number="INV-B2")[1])
    assert (await sched_http.put(hold, json={"hold": False}, headers=company.headers)).status_code == 200
    [tp] = await db.rows("SELECT touchpoint_id, channel, template_key, stage, invoice_ids FROM scheduler.touchpoints "
                         "WHERE tenant_id = :t AND customer_id = :c", t=company.tenant_id, c=cid)
    numbers = dict(r for r in await db.rows("SELECT CAST(invoice_id AS text), number FROM scheduler.invoices "
                                            "WHERE customer_id = :c", c=cid))
    ids = tp.invoice_ids if isinstance(tp.invoice_ids, list) else json.loads(tp.invoice_ids)
    assert sorted(numbers[i] for i in ids) == ["INV-A1", "INV-B2"]
    written = await db.rows("SELECT kind FROM scheduler.timeline WHERE customer_id = :c AND kind = 'touchpoint'", c=cid)
    assert written == []  # the ticker no longer writes a line per touchpoint

    url = f"/v1/customers/{cid}/timeline"
    entries = (await sched_http.get(url, headers=company.headers)).json()["entries"]
    lines = [e for e in entries if e["kind"] == "touchpoint"]
    expected = f"{tp.channel} '{tp.template_key}' ({tp.stage}) for {', '.join(numbers[i] for i in ids)}"
    assert [(e["summary"], e["ref_id"], e["author"]) for e in lines] == [(expected, str(tp.touchpoint_id), None)]
    assert entries.index(lines[0]) == 0 or all(e["at"] <= lines[0]["at"] for e in entries[:entries.index(lines[0])])

    # A line written for a touchpoint before the derived lines existed is listed once, as written.
    await db.execute("INSERT INTO scheduler.timeline (tenant_id, customer_id, at, kind, summary, ref_id) "
                     "VALUES (:t, :c, now(), 'touchpoint', 'written before', :r)", t=company.tenant_id, c=cid,
                     r=tp.touchpoint_id)
    entries = (await sched_http.get(url, headers=company.headers)).json()["entries"]
    assert [e["summary"] for e in entries if e["kind"] == "touchpoint"] == ["written before"]

    other, events = company.customer(name="Other Co")
    await feed(*events)
    assert (await sched_http.get(f"/v1/customers/{other}/timeline", headers=company.headers)).json()["entries"] == []
