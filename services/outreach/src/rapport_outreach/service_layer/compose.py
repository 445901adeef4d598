"""From a touchpoint to a rendered draft: template choice, signed links, localised variables."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote
from uuid import UUID

from rapport_shared.contracts.portal_link import mint
from rapport_shared.contracts.touchpoint import TouchpointDueV1
from rapport_shared.time import Clock

from rapport_outreach.domain import catalog, context, templates
from rapport_outreach.domain.catalog import TemplateOverride
from rapport_outreach.domain.defaults import LOCALES, TEMPLATE_KEYS
from rapport_outreach.domain.model import Draft


@dataclass
class Composer:
    link_secret: str
    portal_base_url: str
    link_days: int
    company_name: str
    clock: Clock
    max_sms_segments: int = 4

    def links(self, tenant_id: UUID, tp: TouchpointDueV1) -> context.Links:
        expires = self.clock.now() + timedelta(days=self.link_days)
        contact = tp.recipient.contact_id or tp.customer.customer_id
        token = mint(self.link_secret, tenant_id, tp.customer.customer_id, contact, expires)
        portal = f"{self.portal_base_url.rstrip('/')}/portal/login?token={quote(token)}"
        return context.Links(portal_url=portal, pay_url=f"{portal}&next=pay")

    def draft(self, tenant_id: UUID, tp: TouchpointDueV1, channel: str, address: str,
              overrides: list[TemplateOverride]) -> Draft:
        locale = context.template_locale(tp.recipient.locale)
        source = catalog.choose(overrides, tp.template_key, tp.tone, locale, tp.customer.segment)
        variables = context.touchpoint_context(tp, self.links(tenant_id, tp), self.company_name,
                                               catalog.sign_off(locale, tp.tone))
        parts = ("sms",) if channel in ("sms", "voice") else templates.EMAIL_PARTS
        rendered = templates.render(source, variables, parts)
        if channel == "voice":  # an automated call speaks the short text
            return Draft("voice", address, None, rendered.sms, None)
        if channel == "sms":
            templates.check_sms(rendered, self.max_sms_segments)
            return Draft("sms", address, None, rendered.sms, None)
        return Draft("email", address, rendered.subject, rendered.text, rendered.html)

    def warm_up(self) -> int:
        """Compile every shipped template and fill the formatting caches before the first real message."""
        tenant, count = UUID(int=0), 0
        for locale in LOCALES:
            tp = catalog.sample_touchpoint(True, locale)
            for key in TEMPLATE_KEYS:
                if key == "magic_link":
                    continue
                for channel in ("email", "sms"):
                    self.draft(tenant, tp.model_copy(update={"template_key": key}), channel, "x", [])
                    count += 1
        return count

    def magic_link(self, contact_name: str, email: str, link_url: str, expires_at: datetime, tag: str,
                   overrides: list[TemplateOverride]) -> Draft:
        locale = context.template_locale(tag)
        source = catalog.choose(overrides, "magic_link", "neutral", locale, None)
        variables = context.magic_link_context(contact_name, link_url, expires_at, tag, self.company_name)
        rendered = templates.render(source, variables, templates.EMAIL_PARTS)
        return Draft("email", email, rendered.subject, rendered.text, rendered.html)
