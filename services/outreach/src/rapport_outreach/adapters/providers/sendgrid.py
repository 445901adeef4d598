"""E-mail through SendGrid's v3 mail send, its base URL overridable for local fakes.

The SendGrid SDK builds the request: the ``Mail`` helpers (categories, custom args, unsubscribe
group, reply-to) and the client's own headers (API key, User-Agent). It is sent over a pooled
keep-alive connection instead of the SDK's urllib transport, which opens a new connection and
builds a new opener per message and blocks a thread while it waits.
"""
from __future__ import annotations

import json
from functools import lru_cache

import aiohttp
from yarl import URL
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Asm, Category, CustomArg, From, GroupId, Mail, ReplyTo, To

from rapport_outreach.adapters.providers.http_pool import HttpPool, timeout, transport_error
from rapport_outreach.domain.model import Outgoing
from rapport_outreach.service_layer.ports import PermanentSendError, RetryableSendError


class SendGridProvider:
    name = "sendgrid"

    def __init__(self, api_key: str, base_url: str, from_email: str, from_name: str, *,
                 asm_group_id: int | None, reply_domain: str, timeout_s: float, pool: HttpPool | None = None) -> None:
        sdk = SendGridAPIClient(api_key=api_key, host=base_url.rstrip("/"))
        self._headers = {**sdk.client.request_headers, "Content-Type": "application/json"}
        self._url = URL(f"{sdk.host}/v3/mail/send")  # parsed once, not per message
        self._timeout = timeout(timeout_s)
        self._pool = pool or HttpPool()
        self._from = From(from_email, from_name)
        self._asm = Asm(GroupId(asm_group_id)) if asm_group_id else None  # read-only once built: shared
        self._reply_domain = reply_domain

    def mail(self, message: Outgoing) -> Mail:
        mail = Mail(from_email=self._from, to_emails=To(message.to_address, message.to_name),
                    subject=message.subject, plain_text_content=message.body_text,
                    html_content=message.body_html)
        # Replies come back through Inbound Parse addressed to the message they answer.
        mail.reply_to = ReplyTo(f"reply+{message.message_id}@{self._reply_domain}", self._from.name)
        for category in ("rapport", *(message.categories or ()), message.template_key or "message"):
            mail.add_category(_category(category))
        mail.add_custom_arg(CustomArg("rapport_message_id", str(message.message_id)))
        mail.add_custom_arg(CustomArg("rapport_tenant_id", str(message.tenant_id)))
        if self._asm is not None:
            mail.asm = self._asm
        return mail

    async def send(self, message: Outgoing) -> str | None:
        # UTF-8 as is and no padding: accented texts and amounts were escaped to \uXXXX, a larger body
        # for the socket and for SendGrid to parse.
        body = json.dumps(self.mail(message).get(), ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with self._pool.session().post(self._url, data=body, headers=self._headers,
                                                 timeout=self._timeout) as response:
                if response.status >= 300:
                    raise _classify(response.status, response.headers, await response.read())
                return response.headers.get("X-Message-Id")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_error("sendgrid", exc) from None


@lru_cache(maxsize=256)
def _category(name: str) -> Category:
    """Categories repeat (rapport, the template keys); the SDK only reads them when it builds the body."""
    return Category(name)


def _classify(status: int, headers, body: bytes | str) -> Exception:  # noqa: ANN001 - any mapping of headers
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    reason = f"sendgrid answered {status}: {text[:300]}"
    if status == 429 or status >= 500:
        return RetryableSendError(reason, retry_after(headers))
    return PermanentSendError(reason)


def retry_after(headers) -> float | None:  # noqa: ANN001 - any mapping of headers
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
