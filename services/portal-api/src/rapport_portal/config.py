"""Portal Api settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_PORTAL_*``."""
from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("portal")

    service_name: str = "portal-api"
    db_schema: str = "portal"
    http_port: int = 8005
