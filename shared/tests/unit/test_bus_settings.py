import pytest
from pydantic import ValidationError

from rapport_shared.settings import ServiceSettings


def test_consumer_batching_is_on_by_default_and_batch_size_one_is_the_per_record_mode(monkeypatch):
    assert ServiceSettings().consumer_batch_size == 500
    monkeypatch.setenv("RAPPORT_CONSUMER_BATCH_SIZE", "1")
    monkeypatch.setenv("RAPPORT_CONSUMER_BATCH_BYTES", "65536")
    settings = ServiceSettings()
    assert (settings.consumer_batch_size, settings.consumer_batch_bytes) == (1, 65536)


def test_a_batch_size_below_one_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("RAPPORT_CONSUMER_BATCH_SIZE", "0")
    with pytest.raises(ValidationError, match="RAPPORT_CONSUMER_BATCH_SIZE"):
        ServiceSettings()
