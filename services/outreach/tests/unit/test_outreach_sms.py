"""SMS segment arithmetic (GSM-7 vs UCS-2) and the look-alike fallback for accents."""
from rapport_outreach.domain import sms


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
