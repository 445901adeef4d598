"""Read a slice's database as the admin role, to count the effects services wrote."""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport_shared.db import make_engine
from rapport_shared.infra.naming import database_url_with_name
from rapport_shared.testing.infra import TestInfra


class SliceDb:
    def __init__(self, infra: TestInfra) -> None:
        self._engine: AsyncEngine = make_engine(database_url_with_name(infra.admin_url, infra.database), pool_size=2)

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(r._mapping) for r in result]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self._engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def inbox_has(self, schema: str, event_id: object) -> bool:
        """True once the service's consumer committed its transaction for this event."""
        found = await self.scalar(f'SELECT count(*) FROM "{schema}".inbox WHERE event_id = :id', id=event_id)
        return bool(found)

    async def close(self) -> None:
        await self._engine.dispose()
