"""Risk bands, delinquency type, the no-chatter rule, and channel/hour recommendation."""
from datetime import date

import pytest

from rapport_scoring.domain import channels, risk
from rapport_scoring.domain.facts import TouchFact

D = date(2025, 5, 1)


@pytest.mark.parametrize(("p", "band"), [(0.0, "A"), (0.149, "A"), (0.15, "B"), (0.3, "C"), (0.5, "D"), (0.7, "E"), (1.0, "E")])
def test_risk_band(p, band):
    assert risk.risk_band(p) == band


def test_delinquency_kinds():
    assert risk.delinquency([-3, 0, -1], 0) == "none"
    assert risk.delinquency([-3, 12, -1, -2], 0) == "one_time"
    assert risk.delinquency([-3, -1], 1) == "one_time"
    assert risk.delinquency([5, -1, 8, -2, 9, -4], 0) == "chronic"
    assert risk.delinquency([30, 40, 50, -1, -1, -1, -1, -1, -1], 0) == "none"  # recovered: the streak is old


def _score(p=0.2, band=None, channel="email", hour=10, delinquency="none"):
    return risk.CustomerScore(band or risk.risk_band(p), p, delinquency, 30.0, channel, hour)


def test_small_moves_are_not_announced():
    assert risk.customer_changed(None, _score())
    assert not risk.customer_changed(_score(0.20), _score(0.26))
    assert risk.customer_changed(_score(0.20), _score(0.31))  # band B -> C
    assert risk.customer_changed(_score(0.20), _score(0.20, hour=14))
    assert risk.customer_changed(_score(0.20), _score(0.20, delinquency="one_time"))


def test_invoice_change_rule():
    old = risk.InvoiceScore(0.2, D, date(2025, 5, 10), date(2025, 5, 20))
    assert not risk.invoice_changed(old, risk.InvoiceScore(0.22, D, date(2025, 5, 12), date(2025, 5, 20)))
    assert risk.invoice_changed(old, risk.InvoiceScore(0.22, D, date(2025, 5, 13), date(2025, 5, 20)))
    assert risk.invoice_changed(old, risk.InvoiceScore(0.35, D, date(2025, 5, 10), date(2025, 5, 20)))


def _touch(channel, hour, engaged, customer="c"):
    return TouchFact(customer, D, channel, hour, engaged)


def test_posterior_mean_is_beta_binomial():
    # prior 0.2 with strength 5 -> alpha 1, beta 4; 3 of 5 engaged -> (3 + 1) / (5 + 5)
    assert channels.posterior_mean(3, 5, 0.2) == pytest.approx(0.4)


def test_customer_with_little_history_follows_the_segment():
    segment = [_touch("sms", 9, True, "o")] * 30 + [_touch("email", 9, False, "o")] * 30
    own = [_touch("email", 15, True)]  # one lucky email does not beat a strong segment signal
    assert channels.recommend(own, segment) == ("sms", 9)


def test_customer_with_strong_history_gets_its_own_channel_and_hour():
    segment = [_touch("sms", 9, True, "o")] * 10 + [_touch("email", 9, False, "o")] * 10
    own = [_touch("email", 15, True)] * 20 + [_touch("sms", 9, False)] * 10
    assert channels.recommend(own, segment) == ("email", 15)


def test_no_outreach_yet_gives_defaults():
    assert channels.recommend([], []) == (channels.DEFAULT_CHANNEL, channels.DEFAULT_HOUR)
