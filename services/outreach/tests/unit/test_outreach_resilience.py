"""Retry backoff with Retry-After, the token bucket and the circuit breaker, on injected clocks."""
import random
from datetime import datetime, timedelta, timezone

from rapport_outreach.domain.model import RetryPolicy, plan_channels
from rapport_outreach.service_layer.resilience import CircuitBreaker, TokenBucket

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Tick:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_backoff_grows_exponentially_within_jitter_and_gives_up() -> None:
    policy = RetryPolicy(max_attempts=4, base_s=1.0, cap_s=5.0)
    rng = random.Random(7)
    for attempt, ceiling in ((1, 1), (2, 2), (3, 4)):
        delay = (policy.next_attempt(NOW, attempt, None, rng) - NOW).total_seconds()
        assert 0 <= delay <= ceiling
    assert policy.next_attempt(NOW, 4, None, rng) is None


def test_retry_after_is_a_floor() -> None:
    policy = RetryPolicy(max_attempts=5, base_s=0.01, cap_s=1.0)
    assert policy.next_attempt(NOW, 1, 30.0) >= NOW + timedelta(seconds=30)


def test_token_bucket_allows_a_burst_then_paces() -> None:
    tick = Tick()
    bucket = TokenBucket(rate=10, burst=3, clock=tick)
    assert [bucket.try_take() for _ in range(3)] == [0, 0, 0]
    assert abs(bucket.try_take() - 0.1) < 1e-9
    tick.t += 0.1
    assert bucket.try_take() == 0


def test_breaker_opens_after_threshold_and_half_opens_after_reset() -> None:
    tick = Tick()
    breaker = CircuitBreaker(threshold=3, reset_s=30, clock=tick)
    for _ in range(3):
        assert breaker.allows()
        breaker.record_failure()
    assert breaker.state == "open" and not breaker.allows()
    tick.t += 30
    assert breaker.state == "half_open" and breaker.allows()
    breaker.record_failure()
    assert breaker.state == "open"
    tick.t += 30
    breaker.record_success()
    assert breaker.state == "closed"


def test_channel_plan_takes_the_first_usable_channel() -> None:
    assert plan_channels("email", ["sms"], {"sms"}) == "sms"
    assert plan_channels("email", ["sms"], set()) is None
