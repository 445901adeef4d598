"""What scoring knows about invoices and outreach, as plain values (no storage, no clock)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Hashable


@dataclass(frozen=True, slots=True)
class InvoiceFact:
    invoice_id: Hashable
    customer_id: Hashable
    issue_date: date
    due_date: date
    amount: float
    settled_on: date | None = None
    segment: str = "default"
    # The customer disputed this invoice on ``disputed_on`` (portal); resolved (task case) on the other.
    disputed_on: date | None = None
    dispute_resolved_on: date | None = None

    def __post_init__(self) -> None:
        # A payment recorded before its invoice is dated counts as paid on issue day.
        if self.settled_on is not None and self.settled_on < self.issue_date:
            object.__setattr__(self, "settled_on", self.issue_date)
        # Likewise a dispute cannot precede its invoice, nor a resolution its dispute.
        if self.disputed_on is not None and self.disputed_on < self.issue_date:
            object.__setattr__(self, "disputed_on", self.issue_date)
        if self.dispute_resolved_on is not None:
            if self.disputed_on is None:
                object.__setattr__(self, "dispute_resolved_on", None)
            elif self.dispute_resolved_on < self.disputed_on:
                object.__setattr__(self, "dispute_resolved_on", self.disputed_on)

    @property
    def terms_days(self) -> int:
        return (self.due_date - self.issue_date).days

    def days_late(self) -> int | None:
        return None if self.settled_on is None else (self.settled_on - self.due_date).days

    def days_to_pay(self) -> int | None:
        return None if self.settled_on is None else (self.settled_on - self.issue_date).days

    def is_late(self) -> bool | None:
        """Late means settled after the due date (the data set's definition)."""
        late = self.days_late()
        return None if late is None else late > 0


@dataclass(frozen=True)
class TouchFact:
    """One outreach message and how the customer reacted."""

    customer_id: Hashable
    sent_on: date
    channel: str
    hour: int
    engaged: bool  # opened, clicked or replied
    replied: bool = False
