"""Base types for event payloads."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO-4217 code")]

# Money travels as a decimal string so no consumer ever sees a float.
Amount = Annotated[
    Decimal,
    Field(description="decimal amount, serialised as a string"),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Amount
    currency: CurrencyCode


class EventPayload(BaseModel):
    """A versioned event payload; subclasses set ``event_type`` (``rapport.<topic>.<name>.v<N>``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str] = ""
    topic: ClassVar[str] = ""


class Part(BaseModel):
    """A nested structure inside a payload (not an event on its own)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
