"""The default provider without credentials: real ``.eml`` and ``.json`` files a person can open."""
from __future__ import annotations

import json
import os
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate
from pathlib import Path

from rapport_outreach.domain.model import Outgoing


class SinkProvider:
    name = "sink"

    def __init__(self, directory: Path, from_email: str, from_name: str) -> None:
        self.directory = directory
        self._from = formataddr((from_name, from_email), charset="utf-8")
        directory.mkdir(parents=True, exist_ok=True)

    async def send(self, message: Outgoing) -> str:
        folder = self.directory / str(message.tenant_id)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{message.message_id}"
        if message.channel == "email":
            _write_atomic(folder / f"{stem}.eml", bytes(self.compose(message)))
        _write_atomic(folder / f"{stem}.json", json.dumps(_summary(message), indent=2).encode())
        return f"sink-{message.message_id}"

    def compose(self, message: Outgoing) -> Message:
        # The classic (compat32) classes: the modern EmailMessage re-parses and refolds every header,
        # about 5 ms of CPU per message, for the same bytes a mail client reads.
        text = MIMEText(message.body_text, "plain", "utf-8")
        if message.body_html:
            # A boundary of our own: without one the generator compiles a new regular expression per
            # message to check its random boundary against the body (a fifth of the sink's CPU). The
            # parts are base64 (UTF-8), whose lines can never contain "=_".
            mail: Message = MIMEMultipart("alternative", boundary=f"=_rapport_{message.message_id.hex}")
            mail.attach(text)
            mail.attach(MIMEText(message.body_html, "html", "utf-8"))
        else:
            mail = text
        mail["From"] = self._from
        mail["To"] = formataddr((message.to_name or "", message.to_address), charset="utf-8")
        mail["Subject"] = Header(message.subject or "", "utf-8")
        mail["Date"] = formatdate(usegmt=True)
        # One id per message, the same on every attempt: a receiving server can drop a repeat.
        mail["Message-ID"] = f"<{message.message_id}@rapport.local>"
        mail["X-Rapport-Message-Id"] = str(message.message_id)
        return mail


def _summary(message: Outgoing) -> dict:
    return {"message_id": str(message.message_id), "tenant_id": str(message.tenant_id),
            "channel": message.channel, "to": message.to_address, "subject": message.subject,
            "template_key": message.template_key, "text": message.body_text}


def _write_atomic(path: Path, data: bytes) -> None:
    # A reader (or a crash) never sees half a file.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class NoopProvider:
    """Accepts everything and does nothing: the benchmark's reference for raw throughput."""

    name = "noop"

    async def send(self, message: Outgoing) -> str:
        return f"noop-{message.message_id}"
