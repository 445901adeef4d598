"""Rows of an uploaded file: parsed one by one, validated into commands or per-field errors."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import Field, ValidationError

from rapport_ingest.domain.commands import CreateInvoice, RecordPayment, UpsertCustomer
from rapport_ingest.domain.presets import Preset


@dataclass(frozen=True)
class RowError:
    row: int
    field: str | None
    reason: str


class ImportedInvoice(CreateInvoice):
    customer_name: str | None = Field(None, description="lets the import create the customer if unknown")


class ImportedCustomer(UpsertCustomer):
    external_id: str = Field(min_length=1)


MODELS = {"invoices": ImportedInvoice, "customers": ImportedCustomer, "payments": RecordPayment}


def parse_lines(lines: Iterable[bytes], fmt: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(row number, raw record) pairs; row numbers are 1-based data rows (CSV header excluded)."""
    if fmt == "ndjson":
        yield from _ndjson(lines)
    else:
        yield from _csv(lines)


def _ndjson(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    number = 0
    for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, RowError(number, None, f"malformed JSON: {exc}")
            continue
        yield number, record if isinstance(record, dict) else RowError(number, None, "a line must be a JSON object")


def _csv(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    text = io.TextIOWrapper(_BytesLines(lines), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        yield 1, RowError(1, None, f"unreadable header: {exc}")
        return
    number = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            number += 1
            yield number, RowError(number, None, f"malformed CSV: {exc}")
            continue
        if not any(v.strip() for v in values):
            continue
        number += 1
        if len(values) != len(header):
            yield number, RowError(number, None, f"expected {len(header)} columns, found {len(values)}")
            continue
        yield number, dict(zip(header, values))


class _BytesLines(io.RawIOBase):
    """Adapts an iterable of byte chunks to a readable stream (for the csv module)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not self._rest:
            try:
                self._rest = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._rest))
        buffer[:size], self._rest = self._rest[:size], self._rest[size:]
        return size


def count_rows(content: bytes, fmt: str) -> int:
    """Data rows of an upload, for the job's progress, without parsing the records themselves."""
    if fmt == "ndjson":
        return sum(1 for line in content.splitlines() if line.strip())
    return sum(1 for _ in _csv(content.splitlines(keepends=True)))


def validate(kind: str, preset: Preset, number: int, raw: dict[str, Any]) -> Any | list[RowError]:
    """A command, or the row's errors with the field each one is about."""
    try:
        return MODELS[kind].model_validate(preset.map_row(raw))
    except ValidationError as exc:
        return [RowError(number, ".".join(str(p) for p in e["loc"]) or None, e["msg"]) for e in exc.errors()]
