"""A tenant's own provider account per channel: which provider, its settings, and its secrets.

Secrets are only ever written: the API shows which ones are set, never their values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from rapport_outreach.domain.errors import OutreachError

PROVIDERS_BY_CHANNEL = {"email": ("sendgrid", "smtp", "sink"), "sms": ("twilio", "sink"), "voice": ("twilio_voice",)}


@dataclass(frozen=True)
class Shape:
    required_settings: tuple[str, ...] = ()
    optional_settings: tuple[str, ...] = ()
    required_secrets: tuple[str, ...] = ()
    optional_secrets: tuple[str, ...] = ()


SHAPES = {
    "sendgrid": Shape((), ("base_url", "from_email", "from_name", "asm_group_id", "reply_domain",
                           "webhook_public_key"), ("api_key",)),
    "twilio": Shape(("account_sid", "messaging_service_sid"), ("base_url",), ("auth_token",)),
    "twilio_voice": Shape(("account_sid", "from_number"), ("base_url",), ("auth_token",)),
    "smtp": Shape(("host",), ("port", "username", "starttls", "from_email", "from_name"), (), ("password",)),
    "sink": Shape(),
}


@dataclass(frozen=True)
class ProviderAccount:
    tenant_id: UUID
    channel: str
    provider: str
    settings: dict = field(default_factory=dict)
    secrets: dict = field(default_factory=dict, repr=False)  # never in a repr, so never in a log line
    updated_at: datetime | None = None

    @property
    def instance_key(self) -> str:
        """Rate limit and circuit breaker are per account: one tenant's outage is not another's."""
        return f"{self.provider}:{self.tenant_id}"


def validate(channel: str, provider: str, settings: dict, secrets: dict) -> None:
    """Refuse an account that could not send: unknown names, missing credentials, wrong types."""
    if channel not in PROVIDERS_BY_CHANNEL:
        raise OutreachError(f"unknown channel {channel!r}; one of {', '.join(PROVIDERS_BY_CHANNEL)}", "channel")
    if provider not in PROVIDERS_BY_CHANNEL[channel]:
        allowed = ", ".join(PROVIDERS_BY_CHANNEL[channel])
        raise OutreachError(f"{provider!r} does not send {channel}; one of {allowed}", "provider")
    shape = SHAPES[provider]
    _check_keys("settings", settings, shape.required_settings, shape.optional_settings)
    _check_keys("secrets", secrets, shape.required_secrets, shape.optional_secrets)
    for name, value in settings.items():
        if name in ("port", "asm_group_id") and not (isinstance(value, int) and value > 0):
            raise OutreachError("must be a positive whole number", f"settings.{name}")
        if name == "starttls" and not isinstance(value, bool):
            raise OutreachError("must be true or false", f"settings.{name}")
        if name not in ("port", "asm_group_id", "starttls") and not (isinstance(value, str) and value.strip()):
            raise OutreachError("must be a non-empty string", f"settings.{name}")
    for name, value in secrets.items():
        if not (isinstance(value, str) and value.strip()):
            raise OutreachError("must be a non-empty string", f"secrets.{name}")


def _check_keys(part: str, given: dict, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    for name in required:
        if name not in given:
            raise OutreachError("is required for this provider", f"{part}.{name}")
    for name in given:
        if name not in required + optional:
            allowed = ", ".join(required + optional) or "none"
            raise OutreachError(f"is not a setting of this provider (allowed: {allowed})", f"{part}.{name}")
