"""The message log: every message and what happened to it, per customer or per invoice."""
from __future__ import annotations

from uuid import UUID

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, StringConstraints

from rapport_outreach.adapters import repository
from rapport_outreach.domain.errors import NotFound
from rapport_outreach.entrypoints.api.common import reader, writer
from rapport_outreach.service_layer import settlement

router = APIRouter(prefix="/v1/messages", tags=["messages"])


def _out(row, events: list) -> dict:  # noqa: ANN001 - Rows
    return {
        "id": str(row.id), "touchpoint_id": str(row.touchpoint_id) if row.touchpoint_id else None,
        "customer_id": str(row.customer_id), "contact_id": str(row.contact_id) if row.contact_id else None,
        "channel": row.channel, "provider": row.provider, "state": row.state, "to": row.to_address,
        "template_key": row.template_key, "subject": row.subject, "preview": row.body_text[:300],
        "invoice_ids": row.invoice_ids, "attempts": row.attempts, "last_error": row.last_error,
        "created_at": row.created_at.isoformat(), "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "events": [{"kind": e.kind, "at": e.occurred_at.isoformat(), "detail": e.detail} for e in events],
    }


@router.get("")
async def message_log(request: Request, tenant: UUID = Depends(reader), customer_id: UUID | None = None,
                      invoice_id: UUID | None = None, limit: int = Query(100, ge=1, le=1000)) -> dict:
    async with request.app.state.sessions() as session:
        items = await repository.history(session, tenant, customer_id, invoice_id, limit)
    return {"messages": [_out(row, events) for row, events in items]}


@router.get("/{message_id}")
async def message(message_id: UUID, request: Request, tenant: UUID = Depends(reader)) -> dict:
    async with request.app.state.sessions() as session:
        row = await repository.get_message(session, message_id)
        if row is None or row.tenant_id != tenant:
            raise NotFound(f"no message {message_id}", "message_id")
        items = await repository.history(session, tenant, row.customer_id, None, 1000)
    events = next((e for r, e in items if r.id == message_id), [])
    return _out(row, events) | {"text": row.body_text, "html": row.body_html}


class SettleIn(BaseModel):
    resolution: Literal["sent", "not_sent"] = Field(
        description="sent: the provider has it (mark sent); not_sent: it never left (allow one more send)")
    settled_by: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="who checked, for the audit trail")
    note: str | None = Field(None, max_length=1000)


@router.post("/{message_id}/settle")
async def settle(message_id: UUID, body: SettleIn, request: Request, tenant: UUID = Depends(writer)) -> dict:
    """Settle an uncertain message; the only way one is ever sent again."""
    app = request.app.state
    async with app.sessions() as session, session.begin():
        row = await settlement.settle(session, app.deps, tenant, message_id, body.resolution, body.settled_by, body.note)
        items = await repository.history(session, tenant, row.customer_id, None, 1000)
    return _out(row, next((e for r, e in items if r.id == message_id), []))
