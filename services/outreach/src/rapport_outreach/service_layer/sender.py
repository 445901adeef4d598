"""The sender: claims queued messages, calls providers, records what they answered.

A row is committed as ``sending`` before its provider is called. If the process dies before the
answer is recorded, the next start turns it into ``uncertain`` and tells the scheduler: a human
checks, nothing is resent on a guess.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_shared.contracts.outreach import MessageFailedV1, MessageSentV1, MessageUncertainV1
from rapport_shared.contracts.touchpoint import TouchpointDueV1
from rapport_shared.observability import get_logger

from rapport_outreach.adapters import repository
from rapport_outreach.domain.model import Outgoing, RetryPolicy, State, normalise_address
from rapport_outreach.service_layer import metrics
from rapport_outreach.service_layer.events import emit, envelope, outcome_fields
from rapport_outreach.service_layer.handlers import Deps, queue_touchpoint
from rapport_outreach.service_layer.ports import AmbiguousSendError, PermanentSendError, RetryableSendError
from rapport_outreach.service_layer.resilience import CircuitBreaker, TokenBucket

log = get_logger(__name__)
FLUSH_S = 0.25


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | retry | failed | uncertain
    detail: str | None = None
    provider_message_id: str | None = None
    retry_after_s: float | None = None


def outgoing(row) -> Outgoing:  # noqa: ANN001 - a claimed messages Row (repository.claim_due)
    return Outgoing(row.id, row.tenant_id, row.channel, row.to_address, row.subject, row.body_text, row.body_html,
                    template_key=row.template_key, to_name=row.to_name, locale=row.locale)


class Sender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], deps: Deps, policy: RetryPolicy,
                 buckets: dict[str, TokenBucket], breakers: dict[str, CircuitBreaker], *,
                 batch_size: int = 100, concurrency: int = 16,
                 limits: Callable[[], tuple[TokenBucket, CircuitBreaker]] | None = None) -> None:
        self._sessions, self._deps, self._policy = sessions, deps, policy
        self._buckets, self._breakers = buckets, breakers
        self._new_limits = limits  # for tenants' own accounts, made on first use
        self._batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)

    async def recover(self) -> int:
        """Turn messages a dead sender left ``sending`` into ``uncertain`` and surface each one."""
        now = self._deps.clock.now()
        async with self._sessions() as session, session.begin():
            rows = await repository.sending_to_uncertain(session, now)
            for row in rows:
                await self._surface_uncertain(session, row, row.last_error)
        if rows:
            log.warning("messages left mid-send are now uncertain", count=len(rows))
        return len(rows)

    async def run_once(self) -> int:
        claimed, accounts = await self._claim()
        if not claimed:
            return 0
        calls = {asyncio.ensure_future(self._deliver(row, accounts.get(row.tenant_id))): row for row in claimed}
        pending = set(calls)
        while pending:
            # Record what has been answered every FLUSH_S: one slow provider call does not leave the
            # rest of the batch unrecorded (and uncertain after a crash) until it ends.
            done, pending = await asyncio.wait(pending, timeout=FLUSH_S)
            await self._record_all([(calls[call], call.result()) for call in done])
        return len(claimed)

    async def _record_all(self, answered: list[tuple]) -> None:
        if not answered:
            return
        async with self._sessions() as session, session.begin():
            await self._record_sent(session, [(r, o) for r, o in answered if o.kind == "sent"])
            for row, outcome in answered:
                if outcome.kind != "sent":
                    await self._record(session, row, outcome)

    async def _record_sent(self, session: AsyncSession, sent: list[tuple]) -> None:
        """The common case in bulk: three statements for the whole batch instead of three per message."""
        if not sent:
            return
        now = self._deps.clock.now()
        await repository.mark_sent(session, [(row.id, o.provider_message_id) for row, o in sent], now)
        await repository.add_events(session, [{"message_id": row.id, "tenant_id": row.tenant_id, "kind": "sent",
                                               "occurred_at": now} for row, _ in sent])
        envelopes = [envelope(self._sent_payload(row, o, now), tenant_id=row.tenant_id, customer_id=row.customer_id,
                              correlation_id=row.correlation_id, time=now) for row, o in sent]
        await self._deps.outbox.add_many(session, envelopes)

    @staticmethod
    def _sent_payload(row, outcome: Outcome, now: datetime) -> MessageSentV1:  # noqa: ANN001
        return MessageSentV1(**outcome_fields(row, now), subject=row.subject, preview=row.body_text[:160],
                             provider_message_id=outcome.provider_message_id)

    async def _claim(self) -> tuple[list, dict]:
        now = self._deps.clock.now()
        skip = [name for name, breaker in self._breakers.items() if not breaker.allows()]
        async with self._sessions() as session, session.begin():
            rows = await repository.claim_due(session, now, self._batch_size, skip)
            keys = {r.id: (r.tenant_id, r.channel, normalise_address(r.channel, r.to_address)) for r in rows}
            suppressed = await repository.suppressed(session, list(set(keys.values())))
            expired = {r.id for r in rows if _window_closed(r, now)}
            sendable = [r for r in rows if keys[r.id] not in suppressed and r.id not in expired]
            for row in rows:
                if row.id in expired:
                    await self._expire(session, row)
                elif keys[row.id] in suppressed:
                    await self._divert(session, row)
            await repository.mark_sending(session, [r.id for r in sendable], now)
            # Read fresh for every batch: a tenant's changed credentials are used from the next batch on.
            accounts = await self._deps.accounts.refresh(session, list({r.tenant_id for r in sendable})) \
                if self._deps.accounts else {}
        return sendable, accounts

    async def _divert(self, session: AsyncSession, row) -> None:  # noqa: ANN001
        """Suppressed since it was queued: never send; try the touchpoint's fallback instead."""
        now = self._deps.clock.now()
        await repository.set_state(session, row.id, State.SUPPRESSED, now, last_error="address suppressed")
        await repository.add_event(session, row.id, row.tenant_id, "suppressed", now)
        stored = await repository.touchpoint_of(session, row.id) if row.has_touchpoint else None
        if stored:
            tp = TouchpointDueV1.model_validate(stored)
            await queue_touchpoint(session, self._deps, row.tenant_id, tp, row.correlation_id,
                                   exclude=frozenset({row.channel}))

    async def _expire(self, session: AsyncSession, row) -> None:  # noqa: ANN001
        """Held past the touchpoint's sending window (retries, an open breaker): too late to send now."""
        now = self._deps.clock.now()
        reason = "sending window closed before the message could be sent"
        await repository.set_state(session, row.id, State.FAILED, now, last_error=reason)
        await repository.add_event(session, row.id, row.tenant_id, "expired", now, detail=reason)
        await self._emit(session, row, MessageFailedV1(**outcome_fields(row, now), attempts=row.attempts,
                                                       detail=reason))

    async def _deliver(self, row, accounts: dict | None) -> Outcome:  # noqa: ANN001
        key, provider = self._deps.registry.resolve(row.provider, row.channel, accounts)
        bucket, breaker = self._limits(key)
        if breaker and not breaker.allows():  # a tenant's own account is down; others are unaffected
            return Outcome("retry", f"{row.provider}: circuit open for this account", retry_after_s=breaker.reset_s)
        async with self._slots:
            if bucket:
                await bucket.take()
            started = time.perf_counter()
            outcome = await _call(provider, outgoing(row))
            metrics.SEND_SECONDS.labels(row.provider).observe(time.perf_counter() - started)
        if breaker:
            breaker.record_success() if outcome.kind in ("sent", "failed") else breaker.record_failure()
            metrics.BREAKER_OPEN.labels(row.provider).set(0 if breaker.allows() else 1)
        metrics.SENDS.labels(row.provider, row.channel, outcome.kind).inc()
        return outcome

    def _limits(self, key: str) -> tuple[TokenBucket | None, CircuitBreaker | None]:
        if key not in self._breakers and self._new_limits is not None:
            self._buckets[key], self._breakers[key] = self._new_limits()
        return self._buckets.get(key), self._breakers.get(key)

    async def _record(self, session: AsyncSession, row, outcome: Outcome) -> None:  # noqa: ANN001
        now = self._deps.clock.now()
        attempts = row.attempts + 1
        if outcome.kind == "retry":
            when = self._policy.next_attempt(now, attempts, outcome.retry_after_s)
            if when is not None:
                await repository.set_state(session, row.id, State.QUEUED, now, next_attempt_at=when,
                                           last_error=outcome.detail)
                await repository.add_event(session, row.id, row.tenant_id, "retry_scheduled", now,
                                           detail=outcome.detail)
                return
        if outcome.kind in ("retry", "failed"):
            await self._dead_letter(session, row, attempts, outcome.detail or "failed")
            return
        await repository.set_state(session, row.id, State.UNCERTAIN, now, last_error=outcome.detail)
        await self._surface_uncertain(session, row, outcome.detail)

    async def _dead_letter(self, session: AsyncSession, row, attempts: int, reason: str) -> None:  # noqa: ANN001
        now = self._deps.clock.now()
        await repository.set_state(session, row.id, State.FAILED, now, last_error=reason)
        await repository.add_dead_letter(session, row.id, row.tenant_id, attempts, reason)
        await repository.add_event(session, row.id, row.tenant_id, "failed", now, detail=reason)
        await self._emit(session, row, MessageFailedV1(**outcome_fields(row, now), attempts=attempts, detail=reason))
        metrics.DEAD_LETTERS.labels(row.provider, row.channel).inc()
        log.error("message dead-lettered", message_id=str(row.id), attempts=attempts, reason=reason)

    async def _surface_uncertain(self, session: AsyncSession, row, reason: str | None) -> None:  # noqa: ANN001
        now = self._deps.clock.now()
        await repository.add_event(session, row.id, row.tenant_id, "uncertain", now, detail=reason)
        await self._emit(session, row, MessageUncertainV1(**outcome_fields(row, now), detail=reason))
        metrics.UNCERTAIN.labels(row.provider).inc()

    async def _emit(self, session: AsyncSession, row, payload) -> None:  # noqa: ANN001
        await emit(session, self._deps.outbox, payload, tenant_id=row.tenant_id, customer_id=row.customer_id,
                   correlation_id=row.correlation_id, time=payload.occurred_at)


def _window_closed(row, now: datetime) -> bool:  # noqa: ANN001 - a claimed messages Row
    until = row.send_not_after
    return bool(until) and datetime.fromisoformat(until) < now


async def _call(provider, message: Outgoing) -> Outcome:  # noqa: ANN001 - a Provider
    try:
        return Outcome("sent", provider_message_id=await provider.send(message))
    except RetryableSendError as exc:
        return Outcome("retry", exc.reason, retry_after_s=exc.retry_after_s)
    except PermanentSendError as exc:
        return Outcome("failed", exc.reason)
    except AmbiguousSendError as exc:
        return Outcome("uncertain", exc.reason)
    except Exception as exc:  # noqa: BLE001 - an unknown failure may have reached the provider
        return Outcome("uncertain", f"unexpected {type(exc).__name__}: {exc}")
