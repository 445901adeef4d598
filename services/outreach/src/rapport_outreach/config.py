"""Outreach settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_OUTREACH_*``.

Provider credentials are ``SecretStr`` so they never appear in logs or reprs.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr

from rapport_shared.settings import ServiceSettings, service_settings_config

REPO_ROOT = Path(__file__).resolve().parents[4]


class Settings(ServiceSettings):
    model_config = service_settings_config("outreach")

    service_name: str = "outreach"
    db_schema: str = "outreach"
    http_port: int = 8003

    portal_link_secret: SecretStr = Field(
        SecretStr("dev-portal-link-secret"), validation_alias=AliasChoices("RAPPORT_PORTAL_LINK_SECRET"))
    portal_base_url: str = Field("http://127.0.0.1:8005", validation_alias=AliasChoices("RAPPORT_PORTAL_BASE_URL"))
    portal_link_days: int = 14
    public_base_url: str = Field("", description="URL providers call for webhooks (Twilio signs it)")

    sink_dir: Path = REPO_ROOT / ".local" / "sink"
    email_provider: str = Field("", description="sink|sendgrid|smtp; empty: sendgrid with a key, else sink")
    sms_provider: str = Field("", description="sink|twilio; empty: twilio with credentials, else sink")
    tenant_providers: dict[str, dict[str, str]] = Field(
        default_factory=dict, description='per tenant and channel, e.g. {"<tenant>": {"email": "smtp"}}')

    from_email: str = "accounts@rapport.local"
    from_name: str = "Accounts receivable"
    reply_domain: str = "replies.rapport.local"

    sendgrid_api_key: SecretStr = SecretStr("")
    sendgrid_base_url: str = "https://api.sendgrid.com"
    sendgrid_asm_group_id: int | None = None
    sendgrid_webhook_public_key: str = ""

    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_messaging_service_sid: str = ""
    twilio_base_url: str = "https://api.twilio.com"
    twilio_voice_from: str = Field("", description="caller id for automated reminder calls; empty: no voice")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False

    provider_timeout_s: float = 10.0
    provider_rate_per_s: float = 200.0
    provider_burst: int = 200
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    max_attempts: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    sender_batch_size: int = 100
    sender_concurrency: int = 16
    sender_idle_poll_s: float = 0.2
    max_sms_segments: int = 4
    inbound_parse_token: SecretStr = SecretStr("")
    admin_token: SecretStr = Field(
        SecretStr("dev-admin-token"),
        validation_alias=AliasChoices("RAPPORT_OUTREACH_ADMIN_TOKEN", "RAPPORT_ADMIN_TOKEN"),
        description="X-Admin-Token of the operator routes (tenants' API keys); set it in production")
    credentials_key: SecretStr = Field(SecretStr("dev-credentials-key"),
                                       description="encrypts tenants' provider secrets at rest")
