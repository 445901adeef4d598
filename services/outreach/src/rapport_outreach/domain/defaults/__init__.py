"""The default message texts shipped with Rapport, per locale.

Each locale module defines ``LABELS`` (table headings, greetings, sign-offs per tone) and
``TEXTS``: per template key a subject, an opening, a closing and an SMS, all Jinja sources.
``layout`` turns them into full plain-text and HTML emails.
"""
from __future__ import annotations

from types import ModuleType

from rapport_outreach.domain.defaults import de, en, es, fr

LOCALES: dict[str, ModuleType] = {"en": en, "fr": fr, "de": de, "es": es}
TEMPLATE_KEYS = (
    "pre_due_friendly", "due_today", "overdue_gentle", "overdue_firm", "final_notice",
    "plan_instalment", "promise_reminder", "broken_promise", "magic_link",
)
