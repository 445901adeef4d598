"""E-mail through the SendGrid SDK (v3 mail send), its base URL overridable for local fakes."""
from __future__ import annotations

import asyncio
import socket
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Asm, Category, CustomArg, From, GroupId, Mail, ReplyTo, To

from rapport_outreach.domain.model import Outgoing
from rapport_outreach.service_layer.ports import AmbiguousSendError, PermanentSendError, RetryableSendError


class SendGridProvider:
    name = "sendgrid"

    def __init__(self, api_key: str, base_url: str, from_email: str, from_name: str, *,
                 asm_group_id: int | None, reply_domain: str, timeout_s: float) -> None:
        self._client = SendGridAPIClient(api_key=api_key, host=base_url.rstrip("/"))
        self._client.client.timeout = timeout_s
        self._from = From(from_email, from_name)
        self._asm_group_id = asm_group_id
        self._reply_domain = reply_domain

    async def send(self, message: Outgoing) -> str | None:
        return await asyncio.to_thread(self._send, message)

    def mail(self, message: Outgoing) -> Mail:
        mail = Mail(from_email=self._from, to_emails=To(message.to_address, message.to_name),
                    subject=message.subject, plain_text_content=message.body_text,
                    html_content=message.body_html)
        # Replies come back through Inbound Parse addressed to the message they answer.
        mail.reply_to = ReplyTo(f"reply+{message.message_id}@{self._reply_domain}")
        for category in ("rapport", *(message.categories or ()), message.template_key or "message"):
            mail.add_category(Category(category))
        mail.add_custom_arg(CustomArg("rapport_message_id", str(message.message_id)))
        mail.add_custom_arg(CustomArg("rapport_tenant_id", str(message.tenant_id)))
        if self._asm_group_id:
            mail.asm = Asm(GroupId(self._asm_group_id))
        return mail

    def _send(self, message: Outgoing) -> str | None:
        try:
            response = self._client.send(self.mail(message))
        except HTTPError as exc:
            raise _classify(exc.status_code, exc.headers, exc.body) from None
        except (TimeoutError, socket.timeout) as exc:
            raise AmbiguousSendError(f"sendgrid timed out: {exc}") from None
        except URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise AmbiguousSendError(f"sendgrid timed out: {exc.reason}") from None
            raise RetryableSendError(f"sendgrid unreachable: {exc.reason}") from None
        return response.headers.get("X-Message-Id")


def _classify(status: int, headers, body: bytes | str) -> Exception:  # noqa: ANN001 - http.client headers
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
