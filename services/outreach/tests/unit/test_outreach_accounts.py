"""Tenants' provider accounts: validation, sealed secrets, and which client sends a message."""
import uuid
from datetime import datetime, timezone

import pytest

from rapport_outreach.adapters.secret_box import SecretBox
from rapport_outreach.domain.accounts import ProviderAccount, validate
from rapport_outreach.domain.errors import OutreachError
from rapport_outreach.service_layer.registry import ProviderRegistry


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name

    async def send(self, message) -> str:  # noqa: ANN001
        return self.name


def _registry(built: list) -> ProviderRegistry:
    def factory(account: ProviderAccount) -> _Named:
        built.append(account)
        return _Named(f"own-{account.provider}-{account.settings.get('v')}")

    return ProviderRegistry({"sink": _Named("sink"), "sendgrid": _Named("sendgrid")},
                            {"email": "sendgrid", "sms": "sink"}, factory=factory)


def test_secret_box_round_trips_and_a_foreign_key_opens_nothing() -> None:
    sealed = SecretBox("key-one").seal({"api_key": "SG.secret"})
    assert "SG.secret" not in sealed
    assert SecretBox("key-one").open(sealed) == {"api_key": "SG.secret"}
    assert SecretBox("key-two").open(sealed) is None


def test_account_repr_never_shows_secrets() -> None:
    account = ProviderAccount(uuid.uuid4(), "email", "sendgrid", {}, {"api_key": "SG.secret"})
    assert "SG.secret" not in repr(account) and "SG.secret" not in str(account)


@pytest.mark.parametrize("channel,provider,settings,secrets,field", [
    ("email", "twilio", {}, {}, "provider"),
    ("voice", "twilio_voice", {"account_sid": "AC1"}, {"auth_token": "t"}, "settings.from_number"),
    ("email", "smtp", {"host": " "}, {}, "settings.host"),
    ("email", "smtp", {"host": "mail", "starttls": "yes"}, {}, "settings.starttls"),
    ("email", "sendgrid", {}, {"api_key": "k", "extra": "x"}, "secrets.extra"),
])
def test_validation_names_the_field(channel, provider, settings, secrets, field) -> None:
    with pytest.raises(OutreachError) as caught:
        validate(channel, provider, settings, secrets)
    assert caught.value.field == field


def test_a_tenant_account_sends_its_own_messages_and_a_changed_one_gets_a_new_client() -> None:
    built: list = []
    registry = _registry(built)
    tenant = uuid.uuid4()
    v1 = ProviderAccount(tenant, "email", "sendgrid", {"v": 1}, {"api_key": "a"}, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert registry.choose(tenant, "email", {"email": v1}) == "sendgrid"
    key, client = registry.resolve("sendgrid", "email", {"email": v1})
    assert key == f"sendgrid:{tenant}" and client.name == "own-sendgrid-1"
    assert registry.resolve("sendgrid", "email", {"email": v1})[1] is client and len(built) == 1
    v2 = ProviderAccount(tenant, "email", "sendgrid", {"v": 2}, {"api_key": "b"}, datetime(2026, 1, 2, tzinfo=timezone.utc))
    assert registry.resolve("sendgrid", "email", {"email": v2})[1].name == "own-sendgrid-2"
    assert registry.resolve("sendgrid", "email", None) == ("sendgrid", registry.providers["sendgrid"])


def test_a_removed_account_falls_back_to_the_channel_default() -> None:
    registry = _registry([])
    assert registry.resolve("smtp", "email", {}) == ("sendgrid", registry.providers["sendgrid"])
    assert registry.supports("voice") is False
    own_voice = ProviderAccount(uuid.uuid4(), "voice", "twilio_voice", {}, {})
    assert registry.supports("voice", {"voice": own_voice}) is True
