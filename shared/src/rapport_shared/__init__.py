"""Rapport's shared library: contracts and infrastructure only, no business rules."""
