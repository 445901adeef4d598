"""The ticker's hot path writes events without pydantic: its JSON must equal what the contracts build."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from asyncpg.pgproto.pgproto import UUID as DriverUUID
from hypothesis import given, settings, strategies as st

from rapport_shared.bus import codec
from rapport_shared.contracts.catalogue import TopicNames
from rapport_shared.contracts.envelope import make_event
from rapport_shared.contracts.task import DunningStageChangedV1
from rapport_shared.contracts.touchpoint import TouchpointDueV1

from rapport_scheduler.adapters.ids import id_stream, new_ids
from rapport_scheduler.domain.calendar import SendCalendar
from rapport_scheduler.domain.engine import decide
from rapport_scheduler.domain.model import Contact, Customer, Invoice
from rapport_scheduler.domain.policy import DEFAULT_POLICY
from rapport_scheduler.service_layer import messages

NOW = datetime(2026, 3, 4, 13, 15, 2, 123456, tzinfo=timezone.utc)
names = st.text(min_size=1, max_size=20)  # quotes, backslashes, control characters, any script
maybe = lambda s: st.none() | s  # noqa: E731
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999"), places=4)


def driver_uuid() -> uuid.UUID:
    """What asyncpg hands the planner for every uuid column (a uuid.UUID subclass)."""
    return DriverUUID(uuid.uuid4().bytes)


@st.composite
def portfolios(draw):
    contact = None
    if draw(st.booleans()):
        contact = Contact(driver_uuid(), draw(names), email=draw(maybe(names)), phone=draw(maybe(names)),
                          locale=draw(maybe(st.sampled_from(["de", "fr-CA"]))),
                          time_zone=draw(maybe(st.sampled_from(["Europe/Berlin", "America/New_York"]))),
                          role=draw(maybe(names)), is_primary=True, consent_sms=True)
    customer = Customer(driver_uuid(), draw(names), external_id=draw(maybe(names)), country=draw(maybe(st.just("US"))),
                        size=draw(maybe(names)), collector=draw(maybe(names)), collector_email=draw(maybe(names)),
                        locale=draw(st.sampled_from(["en", "nl"])), time_zone=draw(st.sampled_from(["UTC", "Asia/Tokyo"])),
                        contacts=[contact] if contact else [])
    invoices = [Invoice(driver_uuid(), draw(names), date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 90))),
                        "USD", amount, amount, pdf_url=draw(maybe(names)))
                for amount in draw(st.lists(amounts, min_size=1, max_size=4))]
    return customer, invoices


def touch_for(customer, invoices):
    from rapport_scheduler.domain.engine import PlannedTouch

    window = SendCalendar().next_window(NOW, customer.time_zone, customer.country)
    return PlannedTouch("email", ["sms"], "overdue_firm", "firm", "d+30", 30, "USD", invoices, window,
                        customer.primary_contact(), audience=["cfo"], promised_date=date(2026, 3, 1),
                        instalment=(date(2026, 3, 9), Decimal("120.5000")), quiet_hours=(time(17), time(9)))


@settings(max_examples=60, deadline=None)
@given(portfolio=portfolios(), offset=st.sampled_from([0.0, 86400.0 * 30]))
def test_touchpoint_json_equals_the_contract_model(portfolio, offset):
    customer, invoices = portfolio
    touch = touch_for(customer, invoices)
    tp_id = new_ids(1)[0]
    fast = messages.touchpoint_data(tp_id, customer, touch, DEFAULT_POLICY, NOW.date(), offset)
    model = messages.touchpoint(tp_id, customer, touch, DEFAULT_POLICY, NOW.date())
    model = model.model_copy(update={"clock_offset_seconds": offset})
    assert TouchpointDueV1.model_validate_json(fast) == model
    # the same JSON a pydantic dump makes, key for key (strings, amounts as plain decimals, times)
    assert json.loads(fast) == json.loads(model.model_dump_json()) | {
        k: v for k, v in json.loads(fast).items() if k in ("send_not_before", "send_not_after")}


def test_touchpoint_json_of_an_engine_decision_round_trips_through_the_envelope():
    contact = Contact(driver_uuid(), 'Ann "AP" O\'Neil', email="ap@example.com", is_primary=True, time_zone="America/Chicago")
    customer = Customer(driver_uuid(), "Acme \\ Söhne", country="US", contacts=[contact])
    invoices = [Invoice(driver_uuid(), "INV-1", date(2026, 1, 1), date(2026, 2, 1), "USD", Decimal("100.5000"),
                        Decimal("100.5000"))]
    decision = decide(customer, invoices, [], DEFAULT_POLICY, NOW)
    tp_id, event_id = new_ids(2)
    data = messages.touchpoint_data(tp_id, customer, decision.touch, DEFAULT_POLICY, decision.today, 0.0)
    cause = make_event(DunningStageChangedV1(customer_id=customer.customer_id, invoice_id=uuid.uuid4(), stage="due"),
                       source="ingest", tenant_id=uuid.uuid4(), customer_key=customer.customer_id)
    tenant = uuid.uuid4()
    events = messages.Emitter(TopicNames("p."), NOW).customer(tenant, customer.customer_id, cause)
    row = events.raw(messages.TOUCHPOINT_TYPE, messages.TOUCHPOINT_TOPIC, data, event_id)
    envelope = codec.decode(row[5])  # validates the envelope and its payload like every consumer
    assert envelope.id == event_id and envelope.causation_id == cause.id
    assert envelope.correlation_id == cause.correlation_id and envelope.tenant_id == tenant
    assert row[2] == "p.touchpoint" and row[4] == f"{tenant}:{customer.customer_id}".encode()
    assert envelope.payload() == messages.touchpoint(tp_id, customer, decision.touch, DEFAULT_POLICY, decision.today)


def test_stage_changed_json_equals_the_contract_model():
    customer_id, invoice_id = driver_uuid(), uuid.uuid4()
    for at, paused in ((NOW, None), (None, "dispute")):
        fast = messages.stage_changed_data(customer_id, invoice_id, "d+7", at, paused)
        assert DunningStageChangedV1.model_validate_json(fast) == messages.stage_changed(customer_id, invoice_id,
                                                                                        "d+7", at, paused)


def test_instalment_amount_and_plan_fields_serialise_as_plain_decimal_strings():
    customer, invoices = Customer(driver_uuid(), "Co"), [
        Invoice(driver_uuid(), "I", date(2026, 1, 1), date(2026, 2, 1), "EUR", Decimal("1E+3"), Decimal("1E+3"))]
    touch = touch_for(customer, invoices)
    data = json.loads(messages.touchpoint_data(driver_uuid(), customer, touch, DEFAULT_POLICY, NOW.date(), 0.0))
    assert data["invoices"][0]["open_amount"] == "1000" and data["instalment_amount"] == "120.5000"
    assert data["total_open"] == "1000" and data["quiet_hours_start"] == "17:00:00"


def test_bulk_ids_are_uuid7_increasing_and_unique():
    ids = new_ids(5000) + new_ids(3)
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert [i.int for i in ids] == sorted(i.int for i in ids) and len({i.int for i in ids}) == len(ids)
    millis = ids[0].int >> 80
    assert abs(millis - datetime.now(timezone.utc).timestamp() * 1000) < 60_000
    stream = id_stream(4)
    streamed = [next(stream) for _ in range(10)]
    assert [i.int for i in streamed] == sorted(i.int for i in streamed) and streamed[0].int > ids[-1].int
    assert isinstance(streamed[0], uuid.UUID) and str(streamed[0]) == str(uuid.UUID(bytes=streamed[0].bytes))


def test_driver_errors_of_the_one_statement_invoice_path_are_classified_like_sqlalchemy_ones():
    import asyncpg

    from rapport_shared.bus.batch import is_transient

    from rapport_scheduler.adapters.readmodel import driver_error

    exceptions = asyncpg.exceptions
    retried = [exceptions.DeadlockDetectedError("d"), exceptions.SerializationError("s"),
               exceptions.ConnectionDoesNotExistError("gone"), exceptions.AdminShutdownError("shutdown"),
               exceptions.TooManyConnectionsError("busy")]
    the_records_own = [exceptions.NumericValueOutOfRangeError("overflow"), exceptions.NotNullViolationError("null")]
    assert [is_transient(driver_error("sql", e)) for e in retried] == [True] * len(retried)
    assert [is_transient(driver_error("sql", e)) for e in the_records_own] == [False] * len(the_records_own)
    assert driver_error("sql", the_records_own[0]).orig is the_records_own[0]


def test_stage_events_only_for_staged_invoices_the_touchpoint_does_not_list():
    """A listed invoice's stage and last touch travel in the touchpoint; a call step's invoice (no message)
    still gets its own DunningStageChangedV1."""
    from rapport_scheduler.adapters.portfolio import Portfolio
    from rapport_scheduler.service_layer.planning import Writes, _BatchOut

    contact = Contact(driver_uuid(), "AP", email="ap@example.com", is_primary=True)
    customer = Customer(driver_uuid(), "Co", country="US", contacts=[contact])
    mailed = Invoice(driver_uuid(), "M", date(2026, 1, 1), NOW.date() - timedelta(days=7), "USD", Decimal(10), Decimal(10))
    called = Invoice(driver_uuid(), "C", date(2026, 1, 1), NOW.date() - timedelta(days=46), "USD", Decimal(10), Decimal(10))
    pf = Portfolio(uuid.uuid4(), customer, None)
    pf.invoices = [mailed, called]
    decision = decide(customer, pf.invoices, [], DEFAULT_POLICY, NOW)
    assert set(decision.stages) == {mailed.invoice_id, called.invoice_id}
    assert [i.invoice_id for i in decision.touch.invoices] == [mailed.invoice_id]
    writes = Writes()
    _BatchOut(writes, messages.Emitter(TopicNames(), NOW), NOW).record(pf, DEFAULT_POLICY, decision, None)
    events = [codec.decode(row[5]) for row in writes.rows.table("obx")]
    [touch] = [e.payload() for e in events if e.type == messages.TOUCHPOINT_TYPE]
    [stage] = [e.payload() for e in events if e.type == messages.STAGE_TYPE]
    assert [(i.invoice_id, i.stage) for i in touch.invoices] == [(mailed.invoice_id, decision.stages[mailed.invoice_id][1])]
    assert (stage.invoice_id, stage.stage) == (called.invoice_id, decision.stages[called.invoice_id][1])
    rows = {r[1]: r for r in writes.rows.table("inv")}  # (t, id, off, stage, promise, touched, pid, pv)
    assert rows[mailed.invoice_id][3:6:2] == (touch.invoices[0].stage, True)
    assert rows[called.invoice_id][3:6:2] == (stage.stage, False)
