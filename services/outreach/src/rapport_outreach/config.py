"""Outreach settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_OUTREACH_*``."""
from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("outreach")

    service_name: str = "outreach"
    db_schema: str = "outreach"
    http_port: int = 8003
