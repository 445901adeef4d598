"""Everything one rescoring needs about a customer, in two index lookups.

Rescoring runs for every event, so its reads are folded together: the customer with its last
announced score and whether it has any outreach touches; its invoices with their last
announced scores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scoring.adapters.orm import customer_scores, customers, invoice_scores, invoices, touches
from rapport_scoring.adapters.repository import dispute_summary
from rapport_scoring.domain.risk import CustomerScore, InvoiceScore

_SCORE_FIELDS = ("risk_band", "late_probability", "delinquency", "average_days_to_pay",
                 "recommended_channel", "recommended_send_hour")


@dataclass
class CustomerSnapshot:
    segment: str = "default"
    payment_terms_days: int | None = None
    has_touches: bool = False
    last_score: CustomerScore | None = None
    invoices: list[dict] = field(default_factory=list)
    # invoice id -> (last announced score, the model version that produced it)
    invoice_scores: dict[UUID, tuple[InvoiceScore, str]] = field(default_factory=dict)


def _customer_query(tenant_id, customer_id):
    anchor = select(customer_id.label("customer_id")).subquery()
    touched = exists().where(touches.c.tenant_id == tenant_id, touches.c.customer_id == customer_id)
    return (
        select(customers.c.segment, customers.c.payment_terms_days, touched.label("has_touches"),
               customer_scores.c.risk_band, *(customer_scores.c[f] for f in _SCORE_FIELDS[1:]))
        .select_from(anchor.outerjoin(customers, customers.c.customer_id == anchor.c.customer_id)
                     .outerjoin(customer_scores, customer_scores.c.customer_id == anchor.c.customer_id))
    )


def _invoices_query(tenant_id, customer_id):
    summary = dispute_summary(tenant_id, customer_id)
    return (
        select(invoices.c.invoice_id, invoices.c.customer_id, invoices.c.issue_date, invoices.c.due_date,
               invoices.c.currency, invoices.c.amount_total, invoices.c.open_amount, invoices.c.status,
               invoices.c.settled_on, invoice_scores.c.late_probability, invoice_scores.c.p10,
               invoice_scores.c.p50, invoice_scores.c.p90, invoice_scores.c.model_version,
               summary.c.disputed_on, summary.c.dispute_resolved_on)
        .select_from(invoices.outerjoin(invoice_scores, invoice_scores.c.invoice_id == invoices.c.invoice_id)
                     .outerjoin(summary, summary.c.invoice_id == invoices.c.invoice_id))
        .where(invoices.c.tenant_id == tenant_id, invoices.c.customer_id == customer_id)
    )


# Built once with bind parameters: building and compiling them per event cost more than running them.
_TENANT, _CUSTOMER = bindparam("tenant_id", type_=PG_UUID(as_uuid=True)), bindparam("customer_id", type_=PG_UUID(as_uuid=True))
_CUSTOMER_QUERY = _customer_query(_TENANT, _CUSTOMER)
_INVOICES_QUERY = _invoices_query(_TENANT, _CUSTOMER)


async def load(session: AsyncSession, tenant_id: UUID, customer_id: UUID) -> CustomerSnapshot:
    params = {"tenant_id": tenant_id, "customer_id": customer_id}
    row = (await session.execute(_CUSTOMER_QUERY, params)).one()
    snapshot = CustomerSnapshot(row.segment or "default", row.payment_terms_days, bool(row.has_touches))
    if row.risk_band is not None:
        snapshot.last_score = CustomerScore(*(row[i] for i in range(3, 3 + len(_SCORE_FIELDS))))
    for r in (await session.execute(_INVOICES_QUERY, params)).mappings():
        snapshot.invoices.append(dict(r))
        if r["model_version"] is not None:
            snapshot.invoice_scores[r["invoice_id"]] = (InvoiceScore(r["late_probability"], r["p10"], r["p50"], r["p90"]),
                                                        r["model_version"])
    return snapshot
