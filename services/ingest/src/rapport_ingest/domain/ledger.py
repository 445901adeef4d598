"""An invoice's balance: what was billed, what reduced it, and the status that follows."""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from rapport_ingest.domain.errors import Conflict, Invalid

ZERO = Decimal(0)
# Which column of the balance each kind of movement moves.
_BUCKET = {"payment": "paid", "credit_note": "credited", "write_off": "written_off"}


@dataclass(frozen=True)
class Balance:
    amount_total: Decimal
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    written_off: Decimal = ZERO
    voided: bool = False

    @property
    def open_amount(self) -> Decimal:
        return ZERO if self.voided else self.amount_total - self.paid - self.credited - self.written_off

    @property
    def status(self) -> str:
        if self.voided:
            return "void"
        if self.open_amount > 0:
            return "partially_paid" if self.open_amount < self.amount_total else "open"
        if self.written_off > 0:
            return "written_off"
        return "paid" if self.paid > 0 else "credited"

    @property
    def is_open(self) -> bool:
        return self.open_amount > 0

    def apply(self, kind: str, amount: Decimal) -> "Balance":
        """Move ``amount`` (negative to undo) onto the bucket of ``kind``; never below zero open."""
        bucket = _BUCKET[kind]
        if self.voided:
            raise Conflict("invoice is void", field="invoice_number")
        if amount > self.open_amount:
            raise Invalid(f"{amount} exceeds the open amount {self.open_amount}", field="amount")
        moved = getattr(self, bucket) + amount
        if moved < 0:
            raise Invalid(f"cannot undo more than was applied ({getattr(self, bucket)})", field="amount")
        return replace(self, **{bucket: moved})

    def void(self) -> "Balance":
        if self.paid > 0 or self.credited > 0:
            raise Conflict("invoice has payments or credits applied; reverse them first", field="kind")
        return replace(self, voided=True)

    def retotal(self, amount_total: Decimal) -> "Balance":
        """The ERP changed the billed amount; what was applied stays applied."""
        applied = self.paid + self.credited + self.written_off
        if amount_total < applied:
            raise Conflict(f"new amount {amount_total} is below what is already applied ({applied})", field="amount")
        return replace(self, amount_total=amount_total)
