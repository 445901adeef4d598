"""SMS through the Twilio SDK (messaging service, status callback), base URL overridable for fakes."""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from rapport_outreach.adapters.providers.sendgrid import retry_after
from rapport_outreach.domain.model import Outgoing
from rapport_outreach.service_layer.ports import AmbiguousSendError, PermanentSendError, RetryableSendError

TWILIO_API = "https://api.twilio.com"


class _RedirectingHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to ``base_url`` instead of api.twilio.com and keeps the last headers."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s)
        self._base_url = base_url.rstrip("/")
        self.last_headers: dict = {}

    def request(self, method, url, *args, **kwargs):  # noqa: ANN001, ANN201 - the SDK's signature
        if url.startswith(TWILIO_API):
            url = self._base_url + url[len(TWILIO_API):]
        response = super().request(method, url, *args, **kwargs)
        self.last_headers = response.headers or {}  # keep case-insensitive lookups
        return response


class TwilioSmsProvider:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, messaging_service_sid: str, base_url: str,
                 status_callback_url: str | None, timeout_s: float) -> None:
        self._sid, self._token = account_sid, auth_token
        self._service = messaging_service_sid
        self._base_url, self._timeout = base_url, timeout_s
        self._callback = status_callback_url
        self._local = threading.local()  # one SDK client per worker thread: its HTTP session is not shared
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

    def _client(self) -> Client:
        if not hasattr(self._local, "client"):
            http = _RedirectingHttpClient(self._base_url, self._timeout)
            self._local.client = Client(self._sid, self._token, http_client=http)
        return self._local.client

    async def send(self, message: Outgoing) -> str | None:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: Outgoing) -> str | None:
        params = {"to": message.to_address, "body": message.body_text, "messaging_service_sid": self._service}
        if self._callback:
            params["status_callback"] = f"{self._callback}?message_id={message.message_id}"
        return self._guarded(lambda client: client.messages.create(**params).sid)

    def _guarded(self, call: Callable[[Client], str | None]) -> str | None:
        """Run one SDK call and translate its failures into retryable, permanent or ambiguous."""
        client = self._client()
        try:
            return call(client)
        except TwilioRestException as exc:
            reason = f"twilio answered {exc.status}: {exc.msg}"
            if exc.status == 429 or exc.status >= 500:
                raise RetryableSendError(reason, retry_after(client.http_client.last_headers)) from None
            raise PermanentSendError(reason) from None
        except requests.exceptions.ConnectTimeout as exc:
            raise RetryableSendError(f"twilio unreachable: {exc}") from None
        except requests.exceptions.Timeout as exc:
            raise AmbiguousSendError(f"twilio timed out: {exc}") from None
        except requests.exceptions.ConnectionError as exc:
            raise RetryableSendError(f"twilio unreachable: {exc}") from None
