"""Launch Rapport's real service processes for system tests (see ``stack.Stack``)."""
from harness.broker import PrivateBroker
from harness.db import SliceDb
from harness.ports import free_port
from harness.stack import Stack, destroy_private_slice, private_slice, processes_of
from harness.waiting import eventually

# The portal link secret every system-test stack is started with (tests mint links with it).
PORTAL_LINK_SECRET = "system-test-portal-link-secret"

__all__ = ["PORTAL_LINK_SECRET", "PrivateBroker", "SliceDb", "Stack", "destroy_private_slice", "eventually", "free_port", "private_slice", "processes_of"]
