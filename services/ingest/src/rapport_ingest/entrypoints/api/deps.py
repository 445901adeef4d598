"""Request plumbing: who is calling, one transaction per request, domain errors as HTTP errors."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from rapport_shared.web import ApiError

from rapport_ingest.domain.errors import Conflict, Forbidden, Invalid, LedgerError, NotFound
from rapport_ingest.service_layer.tenancy import Caller, authenticate
from rapport_ingest.service_layer.unit_of_work import UnitOfWork

T = TypeVar("T")
_STATUS = {Invalid: 422, NotFound: 404, Conflict: 409, Forbidden: 403}


def api_error(exc: LedgerError) -> ApiError:
    return ApiError(_STATUS.get(type(exc), 400), exc.reason, field=exc.field)


async def caller(request: Request, authorization: str | None = Header(None)) -> Caller:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "an API key is required (Authorization: Bearer <key>)", field="Authorization")
    found = await authenticate(request.app.state.sessions, token.strip(), request.app.state.key_cache)
    if found is None:
        raise ApiError(401, "unknown or revoked API key", field="Authorization")
    return found


def scoped(scope: str) -> Callable[..., Awaitable[Caller]]:
    async def dependency(who: Caller = Depends(caller)) -> Caller:
        try:
            who.require(scope)  # type: ignore[arg-type]
        except Forbidden as exc:
            raise api_error(exc) from None
        return who
    return dependency


async def in_transaction(request: Request, tenant_id: UUID, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction; a domain error rolls everything back."""
    state = request.app.state
    try:
        async with state.sessions() as session, session.begin():
            return await work(UnitOfWork(session, tenant_id, state.outbox, state.clock))
    except LedgerError as exc:
        raise api_error(exc) from None
    except IntegrityError:
        # Two requests raced to create the same row; the loser may simply retry.
        raise ApiError(409, "a concurrent request changed the same record; retry") from None


# A pooled connection found dead (Postgres restarted, the backend was terminated). The call is safe
# to repeat once on a fresh connection: a number stored with this content answers 200 with it.
_STALE_CONNECTION = (asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                     asyncpg.AdminShutdownError, ConnectionError)


async def post_invoice_fast(request: Request, tenant_id: UUID, body: Any) -> JSONResponse:
    """POST /v1/invoices without an Idempotency-Key (``service_layer.invoice_post``): same answers."""
    state = request.app.state
    for attempt in (1, 2):
        try:
            async with state.fast_pool.acquire() as conn:
                status, view = await state.invoice_poster.post(conn, tenant_id, body, state.clock.now())
            return JSONResponse(view, status_code=status)
        except LedgerError as exc:
            raise api_error(exc) from None
        except _STALE_CONNECTION:
            if attempt == 2:
                raise
            await state.fast_pool.expire_connections()  # its other idle connections died too: reopen them all
    raise AssertionError("unreachable")


async def idempotent(
    request: Request, tenant_id: UUID, key: str | None, body: Any,
    work: Callable[[UnitOfWork], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """With an ``Idempotency-Key``, a retry gets the first result, stored in the same transaction."""
    if not key:  # most ERP calls carry none: no fingerprint, no lookup
        status, result = await in_transaction(request, tenant_id, work)
        return JSONResponse(result, status_code=status)
    fingerprint = hashlib.sha256(json.dumps([request.url.path, body], sort_keys=True, default=str).encode()).hexdigest()

    async def guarded(uow: UnitOfWork) -> tuple[int, Any]:
        if key:
            seen = await uow.ledger.idempotent_response(key)
            if seen is not None:
                if seen.request_hash != fingerprint:
                    raise Invalid("this key was used for a different request", field="Idempotency-Key")
                return seen.status_code, seen.response
        status, result = await work(uow)
        if key:
            await uow.ledger.remember_response(key, fingerprint, status, result)
        return status, result

    status, result = await in_transaction(request, tenant_id, guarded)
    return JSONResponse(result, status_code=status)
