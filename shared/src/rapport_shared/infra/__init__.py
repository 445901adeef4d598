"""Provisioning of the project's own infrastructure: databases, roles, schemas, topics."""
