"""Keep-alive HTTP for provider calls: one aiohttp session (connection pool) per event loop.

Opening a TCP connection and building a urllib opener per message cost about 2 ms of CPU each
(the SendGrid SDK's own transport); a pooled connection costs a fraction of that and needs no
worker thread.
"""
from __future__ import annotations

import asyncio
import weakref

import aiohttp

from rapport_outreach.service_layer.ports import AmbiguousSendError, RetryableSendError

# Shorter than the idle timeout of common servers, so a pooled connection is not reused just as the
# other side closes it (which would turn a harmless reconnect into an uncertain send).
KEEPALIVE_S = 2.0


class HttpPool:
    def __init__(self, limit: int = 64) -> None:
        self._limit = limit
        self._sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, keepalive_timeout=KEEPALIVE_S)
            # Provider APIs authenticate each request by header and set no cookies worth keeping; the
            # default jar filtered its (empty) cookies for every request, some 15% of aiohttp's CPU per call.
            session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
            self._sessions[loop] = session
        return session

    async def close(self) -> None:
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()


def timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds, sock_connect=seconds)


def transport_error(provider: str, exc: Exception) -> Exception:
    """Classify a transport failure: nothing sent (retry) or perhaps sent (never resend blindly)."""
    if isinstance(exc, (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError)):
        return RetryableSendError(f"{provider} unreachable: {exc}")
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return AmbiguousSendError(f"{provider} timed out: {exc!r}")
    return AmbiguousSendError(f"{provider} connection failed after the request left: {exc!r}")
