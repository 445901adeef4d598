"""The SMTP provider (aiosmtplib) against a local SMTP server: the mail arrives whole, refusals are classified."""
import uuid
from email import policy
from email.parser import BytesParser

import pytest

from rapport_outreach.adapters.providers.sink import SinkProvider
from rapport_outreach.adapters.providers.smtp import SmtpProvider
from rapport_outreach.domain.model import Outgoing
from rapport_outreach.service_layer.ports import PermanentSendError, RetryableSendError
from rapport_outreach.testing.provider_fakes import SmtpFake


def _message() -> Outgoing:
    return Outgoing(uuid.uuid4(), uuid.uuid4(), "email", "zoe@example.com", "Facture échue : 1 250,00 €",
                    "Bonjour Zoë,\nmerci.", "<p>Bonjour Zoë,</p>", to_name="Zoë Dupont")


def _provider(port: int, tmp_path) -> SmtpProvider:
    return SmtpProvider("127.0.0.1", port, "", "", False, SinkProvider(tmp_path, "ar@acme.example", "Acme AR"), 5)


async def test_smtp_delivers_a_multipart_mail_a_client_can_read(tmp_path) -> None:
    message = _message()
    async with SmtpFake() as server:
        message_id = await _provider(server.port, tmp_path).send(message)
    [received] = server.accepted
    assert received["from"] == "<ar@acme.example>" and received["to"] == ["<zoe@example.com>"]
    mail = BytesParser(policy=policy.default).parsebytes(received["data"])
    assert mail["Message-ID"] == message_id and str(message.message_id) in message_id
    assert mail["Subject"] == "Facture échue : 1 250,00 €" and mail["To"] == "Zoë Dupont <zoe@example.com>"
    assert mail.get_body(("plain",)).get_content().startswith("Bonjour Zoë,")
    assert mail.get_body(("html",)).get_content().strip() == "<p>Bonjour Zoë,</p>"


@pytest.mark.parametrize("code,error", [("451", RetryableSendError), ("550", PermanentSendError)])
async def test_smtp_refusals_are_classified(tmp_path, code, error) -> None:
    async with SmtpFake() as server:
        server.answer_next(code)
        with pytest.raises(error, match=code):
            await _provider(server.port, tmp_path).send(_message())
    assert server.accepted == []


async def test_smtp_unreachable_is_retryable(tmp_path) -> None:
    with pytest.raises(RetryableSendError, match="unreachable"):
        await _provider(9, tmp_path).send(_message())
