"""Scoring settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_SCORING_*``."""
from pydantic import Field

from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("scoring")

    service_name: str = "scoring"
    db_schema: str = "scoring"
    http_port: int = 8004
    admin_token: str = Field("dev-admin-token", description="X-Admin-Token for the analytics API (dev default)")
    retrain_interval_s: float = Field(6 * 3600.0, description="how often the trainer retrains every tenant")
    model_refresh_s: float = Field(30.0, description="how often the consumer looks for a newer model")
