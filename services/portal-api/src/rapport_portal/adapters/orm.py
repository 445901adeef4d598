"""Tables of the ``portal`` schema (all SQL of this service lives in adapters/)."""
from rapport_shared.bus.tables import add_bus_tables
from rapport_shared.db import schema_metadata

metadata = schema_metadata("portal")
outbox, inbox = add_bus_tables(metadata)
