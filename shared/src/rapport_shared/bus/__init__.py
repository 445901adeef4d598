"""The event bus: codec, idempotent producer, consumer runner, transactional outbox and inbox."""
