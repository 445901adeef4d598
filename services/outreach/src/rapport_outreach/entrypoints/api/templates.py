"""Template CRUD and preview: routes translate HTTP to the template service and back."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from rapport_outreach.adapters import template_repository
from rapport_outreach.domain.defaults import LOCALES, TEMPLATE_KEYS
from rapport_outreach.domain.errors import NotFound
from rapport_outreach.domain.templates import Rendered, TemplateSource
from rapport_outreach.entrypoints.api.common import reader, writer
from rapport_outreach.service_layer import template_service
from rapport_outreach.service_layer.template_service import TemplateVariant

router = APIRouter(prefix="/v1/templates", tags=["templates"])


class TemplateIn(BaseModel):
    key: str = Field(description=f"one of {', '.join(TEMPLATE_KEYS)}")
    tone: str = Field("", description="friendly|neutral|firm|final; empty = any tone")
    locale: str = Field(description=f"one of {', '.join(LOCALES)}")
    segment: str = Field("", max_length=64, description="customer segment; empty = any")
    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=50_000)
    html: str = Field(min_length=1, max_length=200_000)
    sms: str = Field(min_length=1, max_length=2_000)

    def variant(self) -> TemplateVariant:
        return TemplateVariant(self.key, self.tone, self.locale, self.segment)

    def source(self) -> TemplateSource:
        return TemplateSource(self.subject, self.text, self.html, self.sms)


class PreviewIn(BaseModel):
    key: str
    tone: str = ""
    locale: str = "en"
    segment: str = ""
    subject: str | None = Field(None, description="omit the four parts to preview the template in effect")
    text: str | None = None
    html: str | None = None
    sms: str | None = None


def _out(row) -> dict:  # noqa: ANN001 - a templates Row
    return {"id": str(row.id), "key": row.key, "tone": row.tone, "locale": row.locale, "segment": row.segment,
            "subject": row.subject, "text": row.body_text, "html": row.body_html, "sms": row.sms,
            "updated_at": row.updated_at.isoformat()}


def _rendered(r: Rendered) -> dict:
    return {"subject": r.subject, "text": r.text, "html": r.html, "sms": r.sms,
            "sms_encoding": r.sms_length.encoding, "sms_units": r.sms_length.units,
            "sms_segments": r.sms_length.segments}


@router.get("")
async def list_templates(request: Request, tenant: UUID = Depends(reader)) -> dict:
    async with request.app.state.sessions() as session:
        rows = await template_repository.list_templates(session, tenant)
    return {"templates": [_out(r) for r in rows], "keys": list(TEMPLATE_KEYS), "locales": list(LOCALES)}


@router.put("")
async def save_template(body: TemplateIn, request: Request, tenant: UUID = Depends(writer)) -> dict:
    app = request.app.state
    async with app.sessions() as session, session.begin():
        row = await template_service.save(session, tenant, body.variant(), body.source(), app.deps.clock.now(),
                                          app.settings.from_name, app.settings.max_sms_segments)
    return _out(row)


@router.post("/preview")
async def preview(body: PreviewIn, request: Request, tenant: UUID = Depends(reader)) -> dict:
    app = request.app.state
    variant = TemplateVariant(body.key, body.tone, body.locale, body.segment)
    parts = (body.subject, body.text, body.html, body.sms)
    if all(p is not None for p in parts):
        source = TemplateSource(*parts)  # type: ignore[arg-type]
    else:
        async with app.sessions() as session:
            source = await template_service.effective_source(session, tenant, variant)
    return _rendered(template_service.preview(variant, source, app.settings.from_name, app.settings.max_sms_segments))


@router.get("/{template_id}")
async def get_template(template_id: UUID, request: Request, tenant: UUID = Depends(reader)) -> dict:
    async with request.app.state.sessions() as session:
        row = await template_repository.get_template(session, tenant, template_id)
    if row is None:
        raise NotFound(f"no template {template_id}", "template_id")
    return _out(row)


@router.delete("/{template_id}", status_code=204)
async def delete_template(template_id: UUID, request: Request, tenant: UUID = Depends(writer)) -> None:
    async with request.app.state.sessions() as session, session.begin():
        await template_service.remove(session, tenant, template_id)
