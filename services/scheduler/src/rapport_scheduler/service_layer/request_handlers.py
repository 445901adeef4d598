"""Handlers for what customers asked in the portal and what outreach saw happen to messages."""
from __future__ import annotations

from datetime import timedelta

from rapport_shared.contracts import outreach as oc, portal as prc
from rapport_shared.contracts.task import TaskClosedV1

from rapport_scheduler.adapters import policies as policy_store, portfolio as store, readmodel, worklist as work_store
from rapport_scheduler.domain.model import Instalment, Plan
from rapport_scheduler.domain.policy import DEFAULT_POLICY
from rapport_scheduler.service_layer import messages
from rapport_scheduler.service_layer.context import Ctx


async def dispute_opened(ctx: Ctx, e: prc.DisputeOpenedV1) -> bool:
    await readmodel.update_invoices(ctx.session, ctx.tenant_id, [e.invoice_id], disputed=True)
    await ctx.case(e.customer_id, "dispute", "open", [e.invoice_id], case_id=e.request_id)
    await ctx.task(e.customer_id, "dispute", f"dispute ({e.reason_code}): {e.comment or 'no comment'}", [e.invoice_id])
    await ctx.emit(messages.stage_changed(e.customer_id, e.invoice_id, "paused", None, paused="dispute"), e.customer_id)
    return True


async def promise_made(ctx: Ctx, e: prc.PromiseToPayMadeV1) -> bool:
    grace = await _grace_days(ctx, e.customer_id)
    until = e.promised_date + timedelta(days=grace)
    await readmodel.update_invoices(ctx.session, ctx.tenant_id, e.invoice_ids, promise_until=until)
    await ctx.case(e.customer_id, "promise", "open", e.invoice_ids, case_id=e.request_id, promised_date=e.promised_date,
                   amount=e.amount, currency=e.currency)
    await ctx.note(e.customer_id, "promise", f"promise to pay {e.amount} {e.currency} by {e.promised_date}", e.request_id)
    for invoice_id in e.invoice_ids:
        await ctx.emit(messages.stage_changed(e.customer_id, invoice_id, "paused", None, paused="promise"), e.customer_id)
    return True


async def _grace_days(ctx: Ctx, customer_id) -> int:
    customer = await work_store.get_customer(ctx.session, ctx.tenant_id, customer_id)
    for policy in await policy_store.current(ctx.session, ctx.tenant_id):
        if customer is not None and policy.policy_id == customer.policy_id:
            return policy.spec.promise_grace_days
    return DEFAULT_POLICY.spec.promise_grace_days


async def plan_requested(ctx: Ctx, e: prc.PaymentPlanRequestedV1) -> bool:
    plan = Plan(e.plan_id, list(e.invoice_ids), e.currency, [Instalment(i.due_date, i.amount) for i in e.instalments])
    status = "active" if e.auto_approved else "requested"
    await store.insert_rows(ctx.session, store.orm.plans, [{
        "tenant_id": ctx.tenant_id, "plan_id": e.plan_id, "customer_id": e.customer_id,
        "invoice_ids": [str(i) for i in e.invoice_ids], "currency": e.currency,
        "instalments": store.plan_instalments_json(plan), "status": status, "request_id": e.request_id}])
    if e.auto_approved:
        await readmodel.update_invoices(ctx.session, ctx.tenant_id, e.invoice_ids, plan_id=e.plan_id)
    else:
        await ctx.task(e.customer_id, "plan_review", f"payment plan {e.plan_id} of {len(e.instalments)} instalments "
                       "requested: approve or reject it (POST /v1/plans/<plan_id>/decision)", e.invoice_ids,
                       subject=("plan", e.plan_id))
    await ctx.emit(messages.case_changed(e.request_id, e.customer_id, "payment_plan", "approved" if e.auto_approved else "open",
                                         list(e.invoice_ids), currency=e.currency,
                                         instalments=[{"due_date": i.due_date, "amount": i.amount} for i in e.instalments]),
                   e.customer_id)
    await ctx.note(e.customer_id, "plan", f"payment plan {status}: {len(e.instalments)} instalments", e.plan_id)
    return True


async def callback_requested(ctx: Ctx, e: prc.CallbackRequestedV1) -> bool:
    await ctx.task(e.customer_id, "callback", f"customer asked for a call back ({e.preferred_time or 'any time'}): {e.note or ''}")
    return False


async def credit_application(ctx: Ctx, e: prc.CreditApplicationRequestedV1) -> bool:
    await ctx.task(e.customer_id, "review_payment", f"apply credit {e.amount} {e.currency} to invoice", [e.invoice_id])
    return False


async def payment_initiated(ctx: Ctx, e: prc.PaymentInitiatedV1) -> bool:
    await ctx.note(e.customer_id, "payment", f"customer started paying {e.amount} {e.currency} in the portal")
    return False


async def preferences_changed(ctx: Ctx, e: prc.ContactPreferencesChangedV1) -> bool:
    values = {"opted_out": list(e.opted_out_channels)}
    if e.preferred_channel:
        values["preferred_channel"] = e.preferred_channel
    if e.locale:
        values["locale"] = e.locale
    await readmodel.set_contact_preferences(ctx.session, ctx.tenant_id, e.customer_id, e.contact_id, values)
    return True


async def replied(ctx: Ctx, e: oc.ReplyReceivedV1) -> bool:
    await readmodel.update_customer(ctx.session, ctx.tenant_id, e.customer_id, replied_at=e.occurred_at)
    await ctx.note(e.customer_id, "reply", f"reply: {e.body_excerpt or ''}"[:500], e.message_id)
    return True


async def sent(ctx: Ctx, e: oc.MessageSentV1) -> bool:
    await ctx.note(e.customer_id, "message_sent", f"{e.channel} sent: {e.subject or e.template_key or ''}", e.message_id)
    return False


async def suppressed(ctx: Ctx, e: oc.ChannelSuppressedV1) -> bool:
    await readmodel.suppress_channel(ctx.session, ctx.tenant_id, e.customer_id, e.contact_id, e.channel)
    await ctx.note(e.customer_id, "suppressed", f"{e.channel} to {e.address} suppressed ({e.reason})")
    return True


async def bounced(ctx: Ctx, e: oc.MessageBouncedV1) -> bool:
    if e.hard:
        await readmodel.suppress_channel(ctx.session, ctx.tenant_id, e.customer_id, e.contact_id, e.channel)
        await ctx.task(e.customer_id, "bounced_contact", f"{e.channel} bounced: {e.detail or 'hard bounce'}", e.invoice_ids)
    return e.hard


async def uncertain(ctx: Ctx, e: oc.MessageUncertainV1) -> bool:
    await ctx.task(e.customer_id, "uncertain_send", f"{e.channel} send may not have gone out; check before resending: "
                   f"{e.detail or ''}", e.invoice_ids, subject=("message", e.message_id))
    return False


async def settled(ctx: Ctx, e: oc.MessageSettledV1) -> bool:
    """A person settled an uncertain message in outreach: the review task for that message is done."""
    outcome = "sent" if e.resolution == "sent" else "not_sent"
    note = f"settled by {e.settled_by}" + (f": {e.note}" if e.note else "")
    closed = await work_store.close_subject_tasks(ctx.session, ctx.tenant_id, e.customer_id, "uncertain_send",
                                                  e.message_id, outcome, note, ctx.now)
    for task_id in closed:
        await ctx.emit(TaskClosedV1(task_id=task_id, customer_id=e.customer_id, outcome=outcome, note=note),
                       e.customer_id)
    verdict = "went out after all" if e.resolution == "sent" else "did not go out; outreach may send it once more"
    await ctx.note(e.customer_id, "message_settled", f"uncertain {e.channel} message {verdict} ({note})", e.message_id)
    return False


async def failed(ctx: Ctx, e: oc.MessageFailedV1) -> bool:
    await ctx.task(e.customer_id, "bounced_contact", f"{e.channel} failed after {e.attempts} attempts", e.invoice_ids)
    return False


async def call_requested(ctx: Ctx, e: oc.CallTaskRequestedV1) -> bool:
    await ctx.task(e.customer_id, "call", e.reason, e.invoice_ids)
    return False


HANDLERS = {
    prc.DisputeOpenedV1: dispute_opened, prc.PromiseToPayMadeV1: promise_made,
    prc.PaymentPlanRequestedV1: plan_requested, prc.CallbackRequestedV1: callback_requested,
    prc.CreditApplicationRequestedV1: credit_application, prc.PaymentInitiatedV1: payment_initiated,
    prc.ContactPreferencesChangedV1: preferences_changed,
    oc.ReplyReceivedV1: replied, oc.MessageSentV1: sent, oc.ChannelSuppressedV1: suppressed,
    oc.MessageBouncedV1: bounced, oc.MessageUncertainV1: uncertain, oc.MessageSettledV1: settled,
    oc.MessageFailedV1: failed,
    oc.CallTaskRequestedV1: call_requested,
}

NO_DECISION = frozenset({prc.CallbackRequestedV1, prc.CreditApplicationRequestedV1, prc.PaymentInitiatedV1,
                         oc.MessageSentV1, oc.MessageUncertainV1, oc.MessageSettledV1, oc.MessageFailedV1,
                         oc.CallTaskRequestedV1})
