"""E-mail through any SMTP server (aiosmtplib), for self-hosters."""
from __future__ import annotations

import aiosmtplib

from rapport_outreach.adapters.providers.sink import SinkProvider
from rapport_outreach.domain.model import Outgoing
from rapport_outreach.service_layer.ports import AmbiguousSendError, PermanentSendError, RetryableSendError


class SmtpProvider:
    name = "smtp"

    def __init__(self, host: str, port: int, username: str, password: str, starttls: bool,
                 composer: SinkProvider, timeout_s: float) -> None:
        self._options = {"hostname": host, "port": port, "start_tls": starttls, "timeout": timeout_s,
                         "username": username or None, "password": password or None}
        self._composer = composer

    async def send(self, message: Outgoing) -> str | None:
        mail = self._composer.compose(message)
        try:
            await aiosmtplib.send(mail, **self._options)
        except aiosmtplib.SMTPTimeoutError as exc:
            raise AmbiguousSendError(f"smtp timed out: {exc}") from None
        except aiosmtplib.SMTPResponseException as exc:
            reason = f"smtp answered {exc.code}: {exc.message}"
            if 400 <= exc.code < 500:
                raise RetryableSendError(reason) from None
            raise PermanentSendError(reason) from None
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError) as exc:
            raise RetryableSendError(f"smtp unreachable: {exc}") from None
        return mail["Message-ID"]
