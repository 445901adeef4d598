"""SQL for tenants' template overrides."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_outreach.adapters.orm import templates
from rapport_outreach.domain.catalog import TemplateOverride
from rapport_outreach.domain.templates import TemplateSource


def to_override(row) -> TemplateOverride:  # noqa: ANN001 - a Row
    return TemplateOverride(row.key, row.tone, row.locale, row.segment,
                            TemplateSource(row.subject, row.body_text, row.body_html, row.sms))


def override_columns():  # noqa: ANN201 - a json_build_object of one template row
    """One override as a JSON object, so it can ride along in another query."""
    return func.json_build_object("key", templates.c.key, "tone", templates.c.tone, "locale", templates.c.locale,
                                  "segment", templates.c.segment, "subject", templates.c.subject,
                                  "text", templates.c.body_text, "html", templates.c.body_html, "sms", templates.c.sms)


def from_json(item: dict) -> TemplateOverride:
    return TemplateOverride(item["key"], item["tone"], item["locale"], item["segment"],
                            TemplateSource(item["subject"], item["text"], item["html"], item["sms"]))


async def overrides_for(session: AsyncSession, tenant_id: UUID, key: str, locale: str) -> list[TemplateOverride]:
    statement = select(templates).where(templates.c.tenant_id == tenant_id, templates.c.key == key,
                                        templates.c.locale == locale)
    return [to_override(r) for r in await session.execute(statement)]


async def list_templates(session: AsyncSession, tenant_id: UUID) -> list:
    statement = (select(templates).where(templates.c.tenant_id == tenant_id)
                 .order_by(templates.c.key, templates.c.locale, templates.c.tone, templates.c.segment))
    return list((await session.execute(statement)).all())


async def get_template(session: AsyncSession, tenant_id: UUID, template_id: UUID):  # noqa: ANN201
    statement = select(templates).where(templates.c.tenant_id == tenant_id, templates.c.id == template_id)
    return (await session.execute(statement)).first()


async def upsert_template(session: AsyncSession, row: dict, now: datetime):  # noqa: ANN201 - the stored Row
    """Insert, or replace the variant with the same key, tone, locale and segment."""
    statement = insert(templates).values(**row, updated_at=now)
    changing = ("subject", "body_text", "body_html", "sms", "updated_at")
    statement = statement.on_conflict_do_update(
        constraint="uq_templates_variant", set_={k: statement.excluded[k] for k in changing})
    return (await session.execute(statement.returning(*templates.c))).first()


async def delete_template(session: AsyncSession, tenant_id: UUID, template_id: UUID) -> bool:
    statement = delete(templates).where(templates.c.tenant_id == tenant_id, templates.c.id == template_id)
    return (await session.execute(statement.returning(templates.c.id))).first() is not None
