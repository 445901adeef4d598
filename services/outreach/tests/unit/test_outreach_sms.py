"""SMS segment arithmetic (GSM-7 vs UCS-2), the look-alike fallback for accents, and the SMS form encoding."""
from urllib.parse import urlencode

from hypothesis import given, settings, strategies as st

from rapport_outreach.adapters.providers.twilio import form_encode
from rapport_outreach.domain import sms
from rapport_outreach.domain.sms import GSM7_EXTENSION


def test_gsm7_fits_160_in_one_segment_and_153_per_part_beyond() -> None:
    assert sms.measure("a" * 160) == sms.SmsLength("GSM-7", 160, 1)
    assert sms.measure("a" * 161) == sms.SmsLength("GSM-7", 161, 2)
    assert sms.measure("a" * 306).segments == 2 and sms.measure("a" * 307).segments == 3


def test_extension_characters_cost_two_septets() -> None:
    assert sms.measure("€" * 80) == sms.SmsLength("GSM-7", 160, 1)
    assert sms.measure("€" * 81).segments == 2


def test_one_non_gsm_character_switches_to_ucs2() -> None:
    assert sms.measure("a" * 69 + "ê") == sms.SmsLength("UCS-2", 70, 1)
    assert sms.measure("a" * 70 + "ê") == sms.SmsLength("UCS-2", 71, 2)
    assert sms.measure("😀").units == 2  # outside the BMP: two UTF-16 code units


def test_smart_encoding_replaces_accents_only_when_the_whole_text_becomes_gsm7() -> None:
    assert sms.smart_encode("Votre échéance arrêtée") == "Votre échéance arretée"
    assert sms.smart_encode("Café ☕") == "Café ☕"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=300), max_size=6))
def test_twilio_form_encoding_is_byte_for_byte_urlencode(form) -> None:
    assert form_encode(form) == urlencode(form, doseq=True)


def test_twilio_form_encoding_of_non_strings_falls_back_to_urlencode() -> None:
    form = {"To": "+33 6 12", "MediaUrl": ["https://a.example/x?y=1", "https://b.example/é"], "Attempt": 2}
    assert form_encode(form) == urlencode(form, doseq=True)


@given(st.text(alphabet=sorted(sms.GSM7_ALL), max_size=400))
def test_gsm7_units_count_extension_characters_twice(text) -> None:
    length = sms.measure(text)
    assert length.encoding == "GSM-7"
    assert length.units == sum(2 if c in GSM7_EXTENSION else 1 for c in text)
