"""Ingest settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_INGEST_*``."""
from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("ingest")

    service_name: str = "ingest"
    db_schema: str = "ingest"
    http_port: int = 8001
