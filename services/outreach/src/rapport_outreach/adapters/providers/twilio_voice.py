"""Automated reminder calls through Twilio Voice: the short text is spoken with TwiML ``<Say>``."""
from __future__ import annotations

import re

from twilio.twiml.voice_response import VoiceResponse

from rapport_outreach.adapters.providers.twilio import TwilioSmsProvider
from rapport_outreach.domain.model import Outgoing

# Voices per language; a URL read aloud helps nobody, so links are dropped from the spoken text.
LANGUAGES = {"en": "en-GB", "fr": "fr-FR", "de": "de-DE", "es": "es-ES"}
_URL = re.compile(r"https?://\S+")


def twiml(text: str, locale: str | None) -> str:
    spoken = " ".join(_URL.sub("", text).split())
    response = VoiceResponse()
    response.say(spoken, language=LANGUAGES.get((locale or "en")[:2], "en-GB"))
    response.pause(length=1)
    response.say(spoken, language=LANGUAGES.get((locale or "en")[:2], "en-GB"))
    return str(response)


class TwilioVoiceProvider(TwilioSmsProvider):
    """Shares the SDK client set-up and error classification of the SMS provider."""

    name = "twilio_voice"

    def __init__(self, *args, from_number: str, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._from_number = from_number

    async def send(self, message: Outgoing) -> str | None:
        params = {"to": message.to_address, "from_": self._from_number,
                  "twiml": twiml(message.body_text, message.locale)}
        if self._callback:
            params["status_callback"] = f"{self._callback}?message_id={message.message_id}"
        return await self._guarded(lambda client: client.calls.create_async(**params))
