"""A free loopback TCP port for a process a test or benchmark starts (never the fixed 800x ports)."""
from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
