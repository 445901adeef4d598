"""Ingest settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_INGEST_*``."""
from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("ingest")

    service_name: str = "ingest"
    db_schema: str = "ingest"
    http_port: int = 8001
    admin_token: str = "dev-admin-token"
    stripe_webhook_secret: str = "whsec_dev"
    stripe_tolerance_s: int = 300
    max_upload_bytes: int = 64 * 1024 * 1024
    import_chunk_rows: int = 5000
    import_prebuild: bool = True  # render the next chunk's new invoices in a thread while Postgres writes this one
    import_poll_s: float = 0.5
    key_cache_ttl_s: float = 5.0
    fast_pool_size: int = 10  # asyncpg connections of the API's POST /v1/invoices path
