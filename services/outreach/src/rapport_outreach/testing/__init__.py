"""Test support shipped with the service: local HTTP fakes of the provider APIs."""
