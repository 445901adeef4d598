"""The provider fakes themselves: they refuse what the real APIs refuse, so a passing SDK test means something."""
from __future__ import annotations

import base64
import json

import httpx
import pytest

from rapport_outreach.testing.provider_fakes import SendGridFake, TwilioFake

GOOD_MAIL = {"personalizations": [{"to": [{"email": "ap@example.com"}]}], "from": {"email": "ar@acme.example"},
             "subject": "Invoice", "content": [{"type": "text/plain", "value": "Hello"}],
             "custom_args": {"rapport_message_id": "m-1"}, "categories": ["rapport", "due_today"],
             "asm": {"group_id": 7}, "reply_to": {"email": "reply+m-1@r.example"}}
SG_AUTH = {"Authorization": f"Bearer {SendGridFake.api_key}", "Content-Type": "application/json"}
TW_AUTH = {"Authorization": "Basic " + base64.b64encode(
    f"{TwilioFake.account_sid}:{TwilioFake.auth_token}".encode()).decode()}
GOOD_SMS = {"To": "+33612345678", "Body": "Hello", "MessagingServiceSid": TwilioFake.service_sid,
            "StatusCallback": "https://outreach.example/webhooks/twilio/status?message_id=m-1"}


def _mail(url: str, body: object, headers: dict = SG_AUTH) -> httpx.Response:
    return httpx.post(f"{url}/v3/mail/send", content=json.dumps(body).encode(), headers=headers)


def test_sendgrid_fake_accepts_a_well_formed_request(sendgrid_fake) -> None:
    response = _mail(sendgrid_fake.url, GOOD_MAIL)
    assert response.status_code == 202 and len(response.headers["X-Message-Id"]) == 32
    assert sendgrid_fake.accepted[0]["message_id"] == "m-1" and sendgrid_fake.invalid == []


@pytest.mark.parametrize("change,problem", [
    ({"custom_args": {"rapport_message_id": "m-1", "attempt": 2}}, "custom_args values must be strings"),
    ({"categories": ["x"] * 11}, "categories must be at most 10"),
    ({"categories": ["rapport", "rapport"]}, "categories must be at most 10"),
    ({"asm": {"group_id": "7"}}, "asm.group_id must be an integer"),
    ({"reply_to": {"email": "nobody"}}, "reply_to.email is not an address"),
    ({"content": [{"type": "text/html", "value": "<p>x</p>"}]}, "content has no text/plain part"),
    ({"personalizations": []}, "personalizations[0].to[0].email missing"),
    ({"subject": ""}, "subject missing"),
])
def test_sendgrid_fake_refuses_what_sendgrid_refuses(sendgrid_fake, change, problem) -> None:
    response = _mail(sendgrid_fake.url, {**GOOD_MAIL, **change})
    assert response.status_code == 400 and problem in response.text
    assert sendgrid_fake.accepted == [] and problem in " ".join(sendgrid_fake.invalid[0]["problems"])


def test_sendgrid_fake_checks_the_key_content_type_and_json(sendgrid_fake) -> None:
    assert "bearer key" in _mail(sendgrid_fake.url, GOOD_MAIL, {**SG_AUTH, "Authorization": "Bearer SG.x"}).text
    assert "content-type" in _mail(sendgrid_fake.url, GOOD_MAIL, {**SG_AUTH, "Content-Type": "text/plain"}).text
    raw = httpx.post(f"{sendgrid_fake.url}/v3/mail/send", content=b"{not json", headers=SG_AUTH)
    assert raw.status_code == 400 and "not a JSON object" in raw.text
    assert _mail(sendgrid_fake.url, [GOOD_MAIL]).status_code == 400
    assert len(sendgrid_fake.invalid) == 4 and sendgrid_fake.accepted == []


def test_sendgrid_fake_scripts_answers_and_unknown_routes_are_404(sendgrid_fake) -> None:
    sendgrid_fake.retry_after_s = 7
    sendgrid_fake.answer_next("429", "500")
    limited = _mail(sendgrid_fake.url, GOOD_MAIL)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert _mail(sendgrid_fake.url, GOOD_MAIL).status_code == 500
    assert _mail(sendgrid_fake.url, GOOD_MAIL).status_code == 202
    assert httpx.get(f"{sendgrid_fake.url}/v3/nothing").status_code == 404
    assert httpx.get(f"{sendgrid_fake.url}/__stats").json() == {"seen": 3, "accepted": 1, "invalid": 0, "distinct": 1}


def _sms(url: str, form: dict, sid: str = TwilioFake.account_sid, headers: dict = TW_AUTH) -> httpx.Response:
    return httpx.post(f"{url}/2010-04-01/Accounts/{sid}/Messages.json", data=form, headers=headers)


def test_twilio_fake_accepts_a_well_formed_request(twilio_fake) -> None:
    response = _sms(twilio_fake.url, GOOD_SMS)
    assert response.status_code == 201 and response.json()["sid"].startswith("SM")
    assert twilio_fake.accepted[0]["message_id"] == "m-1"


@pytest.mark.parametrize("change,problem", [
    ({"To": "0612345678"}, "To is not an E.164 number"),
    ({"Body": "x" * 1601}, "Body is longer than 1600 characters"),
    ({"StatusCallback": "ftp://x"}, "StatusCallback is not an http(s) URL"),
    ({"MessagingServiceSid": "MG" + "2" * 32}, "MessagingServiceSid is not the configured one"),
    ({"Body": ""}, "Body missing"),
])
def test_twilio_fake_refuses_what_twilio_refuses(twilio_fake, change, problem) -> None:
    response = _sms(twilio_fake.url, {**GOOD_SMS, **change})
    assert response.status_code == 400 and problem in response.text and twilio_fake.accepted == []


def test_twilio_fake_checks_auth_and_the_account_in_the_path(twilio_fake) -> None:
    assert "basic auth" in _sms(twilio_fake.url, GOOD_SMS, headers={"Authorization": "Basic eDp5"}).text
    assert "account sid in the path" in _sms(twilio_fake.url, GOOD_SMS, sid="AC" + "9" * 32).text
    assert twilio_fake.accepted == [] and len(twilio_fake.invalid) == 2
