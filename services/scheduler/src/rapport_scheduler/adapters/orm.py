"""Tables of the ``scheduler`` schema (all SQL of this service lives in adapters/)."""
from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

metadata = schema_metadata("scheduler")
outbox, inbox = add_bus_tables(metadata)
