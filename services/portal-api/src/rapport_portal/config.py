"""Portal Api settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_PORTAL_*``."""
from pathlib import Path

from pydantic import AliasChoices as _env, Field

from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("portal")

    service_name: str = "portal-api"
    db_schema: str = "portal"
    http_port: int = 8005
    # Worker processes of `rapport-portal api`; sessions, list versions and sign-in limits live in
    # Postgres, so any number of them behave as one.
    http_workers: int = Field(1, ge=1, le=64)

    link_secret: str = Field("dev-portal-link-secret", validation_alias=_env("RAPPORT_PORTAL_LINK_SECRET"))
    base_url: str = Field("http://127.0.0.1:8005", validation_alias=_env("RAPPORT_PORTAL_BASE_URL"))
    admin_token: str = Field("dev-admin-token", validation_alias=_env("RAPPORT_PORTAL_ADMIN_TOKEN", "RAPPORT_ADMIN_TOKEN"))
    link_ttl_minutes: int = 60 * 24
    session_ttl_minutes: int = 8 * 60
    upload_dir: Path = Field(Path("var/portal-uploads"), validation_alias=_env("RAPPORT_PORTAL_UPLOAD_DIR"))
    upload_max_bytes: int = 5 * 1024 * 1024
    plan_max_instalments: int = 6
    plan_max_days: int = 180
    login_per_ip_per_minute: int = 20
    login_per_email_per_hour: int = 5
    stripe_api_key: str = Field("sk_test_rapport_dev", validation_alias=_env("RAPPORT_PORTAL_STRIPE_API_KEY", "STRIPE_API_KEY"))
    stripe_api_base: str | None = Field(None, validation_alias=_env("RAPPORT_PORTAL_STRIPE_API_BASE", "STRIPE_API_BASE"))
