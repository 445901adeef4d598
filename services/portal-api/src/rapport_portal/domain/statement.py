"""Statement of account for a period: opening balance, dated lines, running balance, closing balance."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rapport_portal.domain.account import ZERO


@dataclass(frozen=True)
class LedgerEntry:
    """One dated movement; ``debit`` raises what is owed (invoice), ``credit`` lowers it."""

    on: date
    kind: str  # invoice | payment | credit_note | reversal
    reference: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    balance: Decimal


@dataclass(frozen=True)
class Statement:
    currency: str
    period_start: date
    period_end: date
    opening_balance: Decimal
    lines: list[StatementLine]
    closing_balance: Decimal
    total_debits: Decimal
    total_credits: Decimal


def build_statement(entries: list[LedgerEntry], currency: str, start: date, end: date) -> Statement:
    if end < start:
        raise ValueError("period end is before its start")
    ordered = sorted(entries, key=lambda e: (e.on, e.kind != "invoice", e.reference))
    opening = sum((e.debit - e.credit for e in ordered if e.on < start), ZERO)
    balance = opening
    lines: list[StatementLine] = []
    for entry in (e for e in ordered if start <= e.on <= end):
        balance += entry.debit - entry.credit
        lines.append(StatementLine(entry, balance))
    debits = sum((line.entry.debit for line in lines), ZERO)
    credits = sum((line.entry.credit for line in lines), ZERO)
    return Statement(currency, start, end, opening, lines, balance, debits, credits)
