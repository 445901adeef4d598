"""Outreach's own Prometheus metrics; dead letters and uncertain sends are the ones to alert on."""
from prometheus_client import Counter, Gauge, Histogram

SENDS = Counter("rapport_outreach_sends_total", "Provider calls by outcome", ["provider", "channel", "outcome"])
DEAD_LETTERS = Counter("rapport_outreach_dead_letters_total",
                       "Messages given up after every attempt (alert when it grows)", ["provider", "channel"])
UNCERTAIN = Counter("rapport_outreach_uncertain_total",
                    "Messages whose delivery is unknown after a crash or timeout (need a human)", ["provider"])
BREAKER_OPEN = Gauge("rapport_outreach_circuit_open", "1 while a provider's circuit breaker is open", ["provider"])
SEND_SECONDS = Histogram("rapport_outreach_provider_seconds", "Time a provider takes to accept a message",
                         ["provider"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
