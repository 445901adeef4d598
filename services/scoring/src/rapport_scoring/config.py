"""Scoring settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_SCORING_*``."""
from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("scoring")

    service_name: str = "scoring"
    db_schema: str = "scoring"
    http_port: int = 8004
