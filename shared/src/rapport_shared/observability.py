"""JSON logs with correlation ids (structlog) and the platform's Prometheus metrics."""
from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "rapport_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "rapport_http_request_seconds", "HTTP request latency", ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_CONSUMED = Counter(
    "rapport_events_consumed_total", "Events handled by a consumer", ["service", "topic", "outcome"]
)
EVENTS_PRODUCED = Counter("rapport_events_produced_total", "Events published to Kafka", ["service", "topic"])
EVENTS_DEAD_LETTERED = Counter(
    "rapport_events_dead_lettered_total", "Poison records sent to a dead-letter topic", ["service", "topic"]
)
CONSUMER_LAG = Gauge("rapport_consumer_lag", "Records behind the end of the partition", ["service", "topic", "partition"])
HANDLER_LATENCY = Histogram(
    "rapport_event_handler_seconds", "Time to handle one event including its transaction", ["service", "topic"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
OUTBOX_BACKLOG = Gauge("rapport_outbox_backlog", "Outbox rows not yet published (a packed row holds many events)", ["service"])
OUTBOX_PUBLISHED = Counter("rapport_outbox_published_total", "Events published from the outbox (packed rows counted by their events)", ["service"])


def configure_logging(service: str, level: str = "INFO", json_output: bool = True) -> None:
    """Route stdlib and structlog records through one JSON renderer with context vars merged in."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


def bind_event_context(correlation_id: object, event_id: object, event_type: str) -> None:
    structlog.contextvars.bind_contextvars(
        correlation_id=str(correlation_id), event_id=str(event_id), event_type=event_type
    )


def clear_event_context() -> None:
    structlog.contextvars.unbind_contextvars("correlation_id", "event_id", "event_type")
