"""Free TCP ports for processes started by tests (never the fixed 800x ports of the demo)."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port the kernel just handed out; the tiny race until the service binds is acceptable."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
