"""Saving and previewing templates: nothing is stored that would fail at send time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_shared.ids import new_id

from rapport_outreach.adapters import template_repository
from rapport_outreach.domain import catalog, templates
from rapport_outreach.domain.defaults import LOCALES, TEMPLATE_KEYS
from rapport_outreach.domain.errors import NotFound, TemplateInvalid
from rapport_outreach.domain.templates import Rendered, TemplateSource


@dataclass(frozen=True)
class TemplateVariant:
    key: str
    tone: str
    locale: str
    segment: str


def check_variant(variant: TemplateVariant) -> None:
    if variant.key not in TEMPLATE_KEYS:
        raise TemplateInvalid(f"unknown template key {variant.key!r}; known: {', '.join(TEMPLATE_KEYS)}", "key")
    if variant.locale not in LOCALES:
        raise TemplateInvalid(f"unsupported locale {variant.locale!r}; supported: {', '.join(LOCALES)}", "locale")
    if variant.tone not in ("", *catalog.TONES):
        raise TemplateInvalid(f"unknown tone {variant.tone!r}; known: {', '.join(catalog.TONES)}", "tone")


def validate(variant: TemplateVariant, source: TemplateSource, company: str, max_segments: int) -> Rendered:
    check_variant(variant)
    samples = catalog.sample_contexts(variant.key, variant.locale, variant.tone or "neutral", company)
    return templates.validate(source, samples, max_segments)


async def save(session: AsyncSession, tenant_id: UUID, variant: TemplateVariant, source: TemplateSource,
               now: datetime, company: str, max_segments: int):  # noqa: ANN201 - the stored row
    validate(variant, source, company, max_segments)
    row = {"id": new_id(), "tenant_id": tenant_id, "key": variant.key, "tone": variant.tone,
           "locale": variant.locale, "segment": variant.segment, "subject": source.subject,
           "body_text": source.text, "body_html": source.html, "sms": source.sms}
    return await template_repository.upsert_template(session, row, now)


async def effective_source(session: AsyncSession, tenant_id: UUID, variant: TemplateVariant) -> TemplateSource:
    """What a message for this variant would use right now (override or default)."""
    check_variant(variant)
    overrides = await template_repository.overrides_for(session, tenant_id, variant.key, variant.locale)
    return catalog.choose(overrides, variant.key, variant.tone or "neutral", variant.locale, variant.segment or None)


def preview(variant: TemplateVariant, source: TemplateSource, company: str, max_segments: int) -> Rendered:
    """Render against the sample customer with every optional value filled in."""
    check_variant(variant)
    rendered = templates.render(source, catalog.sample_contexts(
        variant.key, variant.locale, variant.tone or "neutral", company)[0])
    templates.check_sms(rendered, max_segments)
    return rendered


async def remove(session: AsyncSession, tenant_id: UUID, template_id: UUID) -> None:
    if not await template_repository.delete_template(session, tenant_id, template_id):
        raise NotFound(f"no template {template_id}", "template_id")
