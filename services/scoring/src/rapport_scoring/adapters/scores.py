"""The last score announced per customer and per invoice (what "changed meaningfully" compares to)."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_scoring.adapters.orm import customer_scores, invoice_scores
from rapport_scoring.domain.risk import CustomerScore, InvoiceScore

_CUSTOMER_FIELDS = ("risk_band", "late_probability", "delinquency", "average_days_to_pay",
                    "recommended_channel", "recommended_send_hour")


async def last_customer_score(session: AsyncSession, customer_id: UUID) -> CustomerScore | None:
    row = (await session.execute(
        select(*(customer_scores.c[f] for f in _CUSTOMER_FIELDS)).where(customer_scores.c.customer_id == customer_id)
    )).first()
    return CustomerScore(*row) if row else None


async def save_customer_score(session: AsyncSession, tenant_id: UUID, customer_id: UUID, score: CustomerScore,
                              version: str, at: datetime) -> None:
    values = {f: getattr(score, f) for f in _CUSTOMER_FIELDS} | {"model_version": version, "scored_at": at}
    statement = insert(customer_scores).values(customer_id=customer_id, tenant_id=tenant_id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[customer_scores.c.customer_id], set_=values))


async def last_invoice_scores(session: AsyncSession, invoice_ids: list) -> dict:
    if not invoice_ids:
        return {}
    result = await session.execute(
        select(invoice_scores.c.invoice_id, invoice_scores.c.late_probability, invoice_scores.c.p10,
               invoice_scores.c.p50, invoice_scores.c.p90).where(invoice_scores.c.invoice_id.in_(invoice_ids))
    )
    return {r[0]: InvoiceScore(r[1], r[2], r[3], r[4]) for r in result}


async def save_invoice_score(session: AsyncSession, tenant_id: UUID, customer_id: UUID, invoice_id: UUID,
                             score: InvoiceScore, version: str, at: datetime) -> None:
    values = {"late_probability": score.late_probability, "p10": score.p10, "p50": score.p50, "p90": score.p90,
              "model_version": version, "scored_at": at, "customer_id": customer_id}
    statement = insert(invoice_scores).values(invoice_id=invoice_id, tenant_id=tenant_id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[invoice_scores.c.invoice_id], set_=values))


def _score_upsert():
    statement = insert(invoice_scores)
    return statement.on_conflict_do_update(
        index_elements=[invoice_scores.c.invoice_id],
        set_={k: statement.excluded[k] for k in ("late_probability", "p10", "p50", "p90", "model_version", "scored_at")},
    )


# Built once and run with one parameter set per invoice: a multi-row VALUES of a new length each time
# was compiled again per event.
_UPSERT_SCORE = _score_upsert()


async def save_invoice_scores(session: AsyncSession, tenant_id: UUID, customer_id: UUID,
                              scored: list[tuple[UUID, InvoiceScore]], version: str, at: datetime) -> None:
    """One statement (executed for every invoice whose score moved)."""
    if not scored:
        return
    rows = [{"invoice_id": invoice_id, "tenant_id": tenant_id, "customer_id": customer_id,
             "late_probability": s.late_probability, "p10": s.p10, "p50": s.p50, "p90": s.p90,
             "model_version": version, "scored_at": at} for invoice_id, s in scored]
    await session.execute(_UPSERT_SCORE, rows)


async def forget_settled(session: AsyncSession, customer_id: UUID, open_ids: list) -> None:
    """Drop scores of invoices no longer open, so the forecast never counts them."""
    condition = invoice_scores.c.customer_id == customer_id
    if open_ids:
        condition = condition & invoice_scores.c.invoice_id.not_in(open_ids)
    await session.execute(delete(invoice_scores).where(condition))
