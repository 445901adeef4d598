import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from rapport_shared.db import make_engine

pytestmark = pytest.mark.integration


async def test_each_role_owns_its_schema_and_can_touch_no_other(infra):
    ingest = make_engine(infra.database_url("ingest"))
    scheduler = make_engine(infra.database_url("scheduler"))
    try:
        async with scheduler.begin() as conn:
            assert (await conn.execute(text("SHOW search_path"))).scalar_one() == "scheduler"
            await conn.execute(text("CREATE TABLE secrets (id int)"))
        async with ingest.begin() as conn:
            await conn.execute(text("CREATE TABLE mine (id int)"))
            assert (await conn.execute(text("SELECT count(*) FROM ingest.mine"))).scalar_one() == 0
        for statement in ("SELECT * FROM scheduler.secrets", "CREATE TABLE public.intruder (id int)",
                          "CREATE TABLE scheduler.intruder (id int)"):
            with pytest.raises(ProgrammingError, match="permission denied"):
                async with ingest.begin() as conn:
                    await conn.execute(text(statement))
    finally:
        # The slice is shared with the service suites, whose migration tests compare each schema
        # with its ORM: a table left behind here would show up there as drift.
        for engine, table in ((ingest, "mine"), (scheduler, "secrets")):
            async with engine.begin() as conn:
                await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await ingest.dispose()
        await scheduler.dispose()
