"""Test support: real Kafka and Postgres per test session, isolated by database name and topic prefix."""
