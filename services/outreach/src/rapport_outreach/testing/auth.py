"""Credentials for tests of the outreach API: the operator's token acting for a tenant."""
from __future__ import annotations

from uuid import UUID

ADMIN_TOKEN = "test-outreach-admin-token"


def operator(tenant_id: UUID | str, token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"X-Admin-Token": token, "X-Tenant-Id": str(tenant_id)}
