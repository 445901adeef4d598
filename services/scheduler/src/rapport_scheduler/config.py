"""Scheduler settings: the common ``RAPPORT_*`` ones plus ``RAPPORT_SCHEDULER_*``."""
from rapport_shared.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    model_config = service_settings_config("scheduler")

    service_name: str = "scheduler"
    db_schema: str = "scheduler"
    http_port: int = 8002
    admin_token: str = "dev-admin-token"
    tick_s: float = 0.2  # how long an event waits at most for the ticker to decide (plus the batch)
    tick_batch_size: int = 500
    # Batches one ticker process keeps in flight: while the database writes one, Python decides the next.
    tick_concurrency: int = 2
