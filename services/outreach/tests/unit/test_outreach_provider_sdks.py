"""The real SendGrid and Twilio SDKs against local fakes that check every request."""
import uuid

import pytest

from rapport_outreach.adapters.providers.sendgrid import SendGridProvider
from rapport_outreach.adapters.providers.twilio import TwilioSmsProvider
from rapport_outreach.domain.model import Outgoing
from rapport_outreach.service_layer.ports import AmbiguousSendError, PermanentSendError, RetryableSendError
from rapport_outreach.testing.provider_fakes import SendGridFake, TwilioFake


def _email(to: str = "alex@example.com") -> Outgoing:
    return Outgoing(uuid.uuid4(), uuid.uuid4(), "email", to, "Invoice due", "text body", "<p>html</p>",
                    template_key="due_today", to_name="Alex")


def _sms() -> Outgoing:
    return Outgoing(uuid.uuid4(), uuid.uuid4(), "sms", "+33612345678", None, "Hello, 1 invoice due", None)


@pytest.fixture
def sendgrid(sendgrid_fake) -> SendGridProvider:
    return SendGridProvider(SendGridFake.api_key, sendgrid_fake.url, "ar@acme.example", "Acme AR",
                            asm_group_id=77, reply_domain="replies.acme.example", timeout_s=0.5)


@pytest.fixture
def twilio(twilio_fake) -> TwilioSmsProvider:
    return TwilioSmsProvider(TwilioFake.account_sid, TwilioFake.auth_token, TwilioFake.service_sid, twilio_fake.url,
                             "https://outreach.example/webhooks/twilio/status", timeout_s=0.5)


async def test_sendgrid_send_carries_categories_custom_args_and_unsubscribe_group(sendgrid, sendgrid_fake) -> None:
    message = _email()
    provider_id = await sendgrid.send(message)
    assert sendgrid_fake.invalid == [] and len(sendgrid_fake.accepted) == 1
    body = sendgrid_fake.accepted[0]["body"]
    assert provider_id and len(provider_id) == 32
    assert body["custom_args"] == {"rapport_message_id": str(message.message_id),
                                   "rapport_tenant_id": str(message.tenant_id)}
    assert set(body["categories"]) == {"rapport", "due_today"}
    assert body["asm"] == {"group_id": 77}
    assert body["reply_to"]["email"] == f"reply+{message.message_id}@replies.acme.example"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]


async def test_sendgrid_wrong_key_is_a_permanent_failure(sendgrid_fake) -> None:
    provider = SendGridProvider("SG.wrong", sendgrid_fake.url, "ar@acme.example", "Acme", asm_group_id=None,
                                reply_domain="r.example", timeout_s=0.5)
    with pytest.raises(PermanentSendError, match="400"):
        await provider.send(_email())
    assert sendgrid_fake.invalid[0]["problems"] == ["authorization header is not the expected bearer key"]


@pytest.mark.parametrize("mode,error,retry_after", [("429", RetryableSendError, 1.0),
                                                    ("500", RetryableSendError, None),
                                                    ("timeout", AmbiguousSendError, None)])
async def test_sendgrid_failures_are_classified(sendgrid, sendgrid_fake, mode, error, retry_after) -> None:
    sendgrid_fake.answer_next(mode)
    with pytest.raises(error) as caught:
        await sendgrid.send(_email())
    assert len(sendgrid_fake.seen) == 1 and sendgrid_fake.accepted == []
    if retry_after is not None:
        assert caught.value.retry_after_s == retry_after


async def test_sendgrid_unreachable_is_retryable() -> None:
    provider = SendGridProvider("SG.x", "http://127.0.0.1:9", "ar@acme.example", "Acme", asm_group_id=None,
                                reply_domain="r.example", timeout_s=0.5)
    with pytest.raises(RetryableSendError, match="unreachable"):
        await provider.send(_email())


async def test_twilio_send_uses_messaging_service_and_status_callback(twilio, twilio_fake) -> None:
    message = _sms()
    sid = await twilio.send(message)
    assert twilio_fake.invalid == [] and sid.startswith("SM")
    form = twilio_fake.accepted[0]["form"]
    assert form["To"] == "+33612345678" and form["Body"] == "Hello, 1 invoice due"
    assert form["MessagingServiceSid"] == TwilioFake.service_sid
    assert form["StatusCallback"] == f"https://outreach.example/webhooks/twilio/status?message_id={message.message_id}"


@pytest.mark.parametrize("mode,error", [("429", RetryableSendError), ("500", RetryableSendError),
                                        ("timeout", AmbiguousSendError)])
async def test_twilio_failures_are_classified(twilio, twilio_fake, mode, error) -> None:
    twilio_fake.answer_next(mode)
    with pytest.raises(error) as caught:
        await twilio.send(_sms())
    assert twilio_fake.accepted == [] and len(twilio_fake.seen) == 1
    if mode == "429":
        assert caught.value.retry_after_s == 1.0


async def test_twilio_wrong_token_is_permanent(twilio_fake) -> None:
    provider = TwilioSmsProvider(TwilioFake.account_sid, "wrong", TwilioFake.service_sid, twilio_fake.url, None, 0.5)
    with pytest.raises(PermanentSendError, match="400"):
        await provider.send(_sms())
    assert twilio_fake.invalid[0]["problems"] == ["basic auth is not sid:token"]


async def test_twilio_voice_call_speaks_the_text_without_links(twilio_fake) -> None:
    from rapport_outreach.adapters.providers.twilio_voice import TwilioVoiceProvider

    provider = TwilioVoiceProvider(TwilioFake.account_sid, TwilioFake.auth_token, TwilioFake.service_sid,
                                   twilio_fake.url, None, 0.5, from_number="+15550001234")
    message = Outgoing(uuid.uuid4(), uuid.uuid4(), "voice", "+33612345678", None,
                       "Bonjour Alex, 1 250,00 € sont échus. https://portal.example/login?token=abc", None, locale="fr")
    sid = await provider.send(message)
    assert sid.startswith("CA") and twilio_fake.invalid == []
    form = twilio_fake.accepted[0]["form"]
    assert form["From"] == "+15550001234" and form["To"] == "+33612345678"
    assert '<Say language="fr-FR">Bonjour Alex, 1 250,00 € sont échus.</Say>' in form["Twiml"]
    assert "https://" not in form["Twiml"]


async def test_sendgrid_body_is_utf8_json_with_accents_intact(sendgrid, sendgrid_fake) -> None:
    message = Outgoing(uuid.uuid4(), uuid.uuid4(), "email", "zoe@example.com", "Échéance : 1\u202f250,00\xa0€",
                       "Bonjour Zoé, 1\u202f250,00\xa0€ sont dus.", "<p>Bonjour Zoé</p>", template_key="due_today",
                       to_name="Zoé Müller")
    await sendgrid.send(message)
    body = sendgrid_fake.accepted[0]["body"]
    assert body["subject"] == message.subject and body["content"][0]["value"] == message.body_text
    assert body["personalizations"][0]["to"][0]["name"] == "Zoé Müller"
