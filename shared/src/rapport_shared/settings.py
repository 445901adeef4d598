"""Settings common to every service, read from the environment (pydantic-settings).

Every variable is prefixed ``RAPPORT_``; a service's own settings class subclasses
:class:`ServiceSettings` and adds fields read with its own prefix.
"""
from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class ServiceSettings(BaseSettings):
    """What every Rapport process needs to know about its surroundings."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "rapport"
    kafka_bootstrap: str = Field("127.0.0.1:19092", validation_alias=_env("RAPPORT_KAFKA_BOOTSTRAP"))
    topic_prefix: str = Field("", validation_alias=_env("RAPPORT_TOPIC_PREFIX"))
    admin_database_url: str = Field(
        "postgresql://rapport:rapport@127.0.0.1:15432/postgres", validation_alias=_env("RAPPORT_DATABASE_URL")
    )
    database_name: str = Field("rapport", validation_alias=_env("RAPPORT_DATABASE_NAME"))
    database_url: str = Field("", description="URL of this service's own login role; derived when empty")
    metrics_port: int = Field(0, description="side port for /metrics of worker processes (0: off)")
    db_schema: str = "public"
    http_host: str = Field("127.0.0.1", validation_alias=_env("RAPPORT_HTTP_HOST"))
    http_port: int = 8000
    log_level: str = Field("INFO", validation_alias=_env("RAPPORT_LOG_LEVEL"))
    log_json: bool = Field(True, validation_alias=_env("RAPPORT_LOG_JSON"))
    startup_timeout_s: float = Field(120.0, validation_alias=_env("RAPPORT_STARTUP_TIMEOUT_S"))
    relay_batch_size: int = Field(
        5000, ge=1, validation_alias=_env("RAPPORT_RELAY_BATCH_SIZE"), description="outbox rows per relay transaction",
    )
    relay_idle_poll_s: float = Field(0.05, validation_alias=_env("RAPPORT_RELAY_IDLE_POLL_S"))
    consumer_max_attempts: int = Field(3, validation_alias=_env("RAPPORT_CONSUMER_MAX_ATTEMPTS"))
    consumer_batch_size: int = Field(
        500, ge=1, validation_alias=_env("RAPPORT_CONSUMER_BATCH_SIZE"),
        description="records per consumer transaction (1: one transaction per record)",
    )
    consumer_batch_bytes: int = Field(
        4 * 1024 * 1024, ge=1, validation_alias=_env("RAPPORT_CONSUMER_BATCH_BYTES"),
        description="upper bound of the record bytes in one consumer transaction",
    )

    @model_validator(mode="after")
    def _derive_database_url(self) -> "ServiceSettings":
        if not self.database_url:
            from rapport_shared.infra.naming import service_database_url

            self.database_url = service_database_url(self.admin_database_url, self.service_name, self.database_name)
        return self


def service_settings_config(service: str) -> SettingsConfigDict:
    """The settings config for one service: its own variables are ``RAPPORT_<SERVICE>_*``."""
    prefix = f"RAPPORT_{service.upper().replace('-', '_')}_"
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", populate_by_name=True)
