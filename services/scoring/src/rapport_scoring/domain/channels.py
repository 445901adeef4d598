"""Best channel and send hour from outreach outcomes, smoothed toward the segment (Beta-binomial).

Each channel (and hour) has an engagement rate; a customer's own rate is the posterior mean
of a Beta prior centred on the segment's rate with ``PRIOR_STRENGTH`` pseudo-messages, so a
customer with two messages barely moves away from its segment, one with fifty mostly speaks
for itself.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapport_scoring.domain.facts import TouchFact

PRIOR_STRENGTH = 5.0
DEFAULT_CHANNEL = "email"
DEFAULT_HOUR = 10


@dataclass(frozen=True)
class Tally:
    sent: Counter
    engaged: Counter

    @classmethod
    def of(cls, touches: Iterable[TouchFact], key) -> "Tally":
        sent, engaged = Counter(), Counter()
        for touch in touches:
            sent[key(touch)] += 1
            engaged[key(touch)] += 1 if touch.engaged else 0
        return cls(sent, engaged)

    def rate(self, option) -> float | None:
        return self.engaged[option] / self.sent[option] if self.sent[option] else None


def posterior_mean(successes: int, trials: int, prior_rate: float, strength: float = PRIOR_STRENGTH) -> float:
    alpha, beta = prior_rate * strength, (1 - prior_rate) * strength
    return (successes + alpha) / (trials + alpha + beta)


def _best(own: Tally, segment: Tally, default):
    options = set(segment.sent) | set(own.sent)
    if not options:
        return default
    overall = sum(segment.engaged.values()) / max(sum(segment.sent.values()), 1)

    def score(option) -> tuple[float, int]:
        prior = segment.rate(option)
        mean = posterior_mean(own.engaged[option], own.sent[option], overall if prior is None else prior)
        return mean, own.sent[option] + segment.sent[option]

    return max(sorted(options), key=score)


def recommend(own: Iterable[TouchFact], segment: Iterable[TouchFact]) -> tuple[str, int]:
    """(channel, send hour) with the highest smoothed engagement for this customer."""
    own, segment = list(own), list(segment)
    channel = _best(Tally.of(own, lambda t: t.channel), Tally.of(segment, lambda t: t.channel), DEFAULT_CHANNEL)
    on_channel = [t for t in own if t.channel == channel]
    segment_on_channel = [t for t in segment if t.channel == channel]
    hour = _best(Tally.of(on_channel, lambda t: t.hour), Tally.of(segment_on_channel, lambda t: t.hour), DEFAULT_HOUR)
    return channel, hour
