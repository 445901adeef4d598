"""SMS through the Twilio SDK (messaging service, status callback), base URL overridable for fakes.

The SDK's asynchronous client (``create_async``) runs on the event loop over a pooled keep-alive
connection: no worker thread and no new connection per message.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from urllib.parse import quote, urlencode

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from rapport_outreach.adapters.providers.http_pool import HttpPool, timeout, transport_error
from rapport_outreach.adapters.providers.sendgrid import retry_after
from rapport_outreach.domain.model import Outgoing
from rapport_outreach.service_layer.ports import PermanentSendError, RetryableSendError

TWILIO_API = "https://api.twilio.com"
# The headers of the last answer seen by this task: the SDK's exception does not carry Retry-After.
_LAST_HEADERS: contextvars.ContextVar[dict] = contextvars.ContextVar("twilio_last_headers", default={})


class _PooledHttpClient(AsyncTwilioHttpClient):
    """The SDK's async client sending to ``base_url`` instead of api.twilio.com, over a shared pool."""

    def __init__(self, base_url: str, timeout_s: float, pool: HttpPool) -> None:
        super().__init__(pool_connections=False, timeout=timeout_s)
        self._base_url = base_url.rstrip("/")
        self._pool = pool
        self._timeout = timeout(timeout_s)

    async def request(self, method, url, params=None, data=None, headers=None, auth=None,  # noqa: ANN001, ANN201
                      timeout=None, allow_redirects=False):  # noqa: ANN001 - the SDK's signature
        if url.startswith(TWILIO_API):
            url = self._base_url + url[len(TWILIO_API):]
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = _basic_auth(auth[0], auth[1])
        if isinstance(data, dict):
            # The form the SDK built, encoded as its own (requests-based) client would: aiohttp's FormData
            # path took a fifth of an SMS's CPU for the same bytes.
            data = form_encode(data).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        async with self._pool.session().request(method.upper(), url, params=params, data=data, headers=headers,
                                                timeout=self._timeout,
                                                allow_redirects=allow_redirects) as response:
            _LAST_HEADERS.set(dict(response.headers))
            return Response(response.status, await response.text(), response.headers)


class _FormQuoter(dict):
    """Code point -> its application/x-www-form-urlencoded form, as ``quote_plus`` writes it, learnt on first use.

    ``str.translate`` with it quotes a text in C; ``urlencode`` quotes byte by byte in Python, which
    was most of the encoding cost of an SMS body.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = "+" if char == " " else quote(char, safe="")
        self[code] = value
        return value


_QUOTER = _FormQuoter()


def form_encode(data: dict) -> str:
    """``urlencode(data, doseq=True)``, byte for byte; faster for the common all-strings form."""
    if not all(type(k) is str and type(v) is str for k, v in data.items()):
        return urlencode(data, doseq=True)
    return "&".join(f"{k.translate(_QUOTER)}={v.translate(_QUOTER)}" for k, v in data.items())


@lru_cache(maxsize=64)
def _basic_auth(username: str, password: str) -> str:
    return aiohttp.encode_basic_auth(username, password)


class TwilioSmsProvider:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, messaging_service_sid: str, base_url: str,
                 status_callback_url: str | None, timeout_s: float, pool: HttpPool | None = None) -> None:
        self._service = messaging_service_sid
        self._callback = status_callback_url
        self._client = Client(account_sid, auth_token,
                              http_client=_PooledHttpClient(base_url, timeout_s, pool or HttpPool()))
        for name in ("twilio.http_client", "twilio.async_http_client"):  # they would log request details
            logging.getLogger(name).setLevel(logging.WARNING)

    async def send(self, message: Outgoing) -> str | None:
        params = {"to": message.to_address, "body": message.body_text, "messaging_service_sid": self._service}
        if self._callback:
            params["status_callback"] = f"{self._callback}?message_id={message.message_id}"
        return await self._guarded(lambda client: client.messages.create_async(**params))

    async def _guarded(self, call: Callable[[Client], Awaitable]) -> str | None:
        """Run one SDK call and translate its failures into retryable, permanent or ambiguous."""
        _LAST_HEADERS.set({})
        try:
            return (await call(self._client)).sid
        except TwilioRestException as exc:
            reason = f"twilio answered {exc.status}: {exc.msg}"
            if exc.status == 429 or exc.status >= 500:
                raise RetryableSendError(reason, retry_after(_LAST_HEADERS.get())) from None
            raise PermanentSendError(reason) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise transport_error("twilio", exc) from None
