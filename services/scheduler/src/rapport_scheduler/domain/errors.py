"""Domain errors: each names what the caller must fix."""
from __future__ import annotations


class SchedulerError(Exception):
    status = 400

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field


class InvalidPolicy(SchedulerError):
    status = 422


class InvalidRequest(SchedulerError):
    status = 422


class NotFound(SchedulerError):
    status = 404


class Conflict(SchedulerError):
    status = 409
