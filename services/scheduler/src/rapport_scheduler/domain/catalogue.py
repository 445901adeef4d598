"""What the scheduler may ask of outreach: the template keys it guarantees, channels, tones."""
from __future__ import annotations

# The templates the outreach service ships; a policy naming anything else would never render.
TEMPLATE_KEYS: frozenset[str] = frozenset({
    "pre_due_friendly", "due_today", "overdue_gentle", "overdue_firm", "final_notice",
    "plan_instalment", "promise_reminder", "broken_promise",
})
MESSAGE_CHANNELS: frozenset[str] = frozenset({"email", "sms"})
HUMAN_CHANNELS: frozenset[str] = frozenset({"call", "internal", "agency"})
CHANNELS: frozenset[str] = MESSAGE_CHANNELS | HUMAN_CHANNELS
TONES: tuple[str, ...] = ("friendly", "neutral", "firm", "final")
RISK_BANDS: tuple[str, ...] = ("A", "B", "C", "D", "E")
INTERNAL_AUDIENCES: frozenset[str] = frozenset({"account_executive", "customer_success", "cfo"})
CALL_OUTCOMES: frozenset[str] = frozenset({
    "no_answer", "left_voicemail", "promised", "disputed", "paid", "wrong_contact",
})
INVOICE_TAGS: frozenset[str] = frozenset({"sent_to_customer", "remittance_received", "payment_on_the_way"})
