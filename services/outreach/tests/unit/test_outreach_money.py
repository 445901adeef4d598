"""The fast money formatter agrees with Babel everywhere it is used, and defers to it elsewhere."""
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from rapport_outreach.domain.money import _shape, format_money

AMOUNTS = [Decimal(v) for v in ("0", "0.004", "0.005", "1", "19.999", "1250", "1250.5", "43210.987", "7654321.12")]


@pytest.mark.parametrize("currency", ["EUR", "USD", "GBP", "CHF", "JPY", "BHD", "SEK"])
@pytest.mark.parametrize("locale", ["en", "fr", "de", "es", "de_CH", "sv", "en_IN", "ar"])
def test_fast_formatting_matches_babel(currency: str, locale: str) -> None:
    for amount in AMOUNTS + [-a for a in AMOUNTS]:
        assert format_money(amount, currency, locale) == format_currency(amount, currency, locale=locale)


def test_irregular_grouping_falls_back_to_babel() -> None:
    assert _shape("INR", "en_IN") is None and _shape("EUR", "fr") is not None
