"""Readiness probe for a Kafka broker, stdlib only.

Sends a real ApiVersions request and then a Metadata request over the Kafka
wire protocol and succeeds (exit 0) only when the broker answers with at least
one registered broker.  Used by scripts/kafka.sh so that readiness checks need
neither the JVM tools (slow to start) nor the project venv.

    python3 kafka_probe.py [--timeout SECONDS] [--quiet] HOST:PORT[,HOST:PORT...]
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys

API_METADATA = 3
API_VERSIONS = 18
CLIENT_ID = b"rapport-probe"


class ProbeError(Exception):
    pass


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ProbeError("truncated response")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str | None:
        length = self.take(">h")
        if length < 0:
            return None
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        return raw.decode("utf-8", "replace")


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ProbeError("connection closed by broker")
        buf.extend(chunk)
    return bytes(buf)


def _call(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> Reader:
    # Request header v1: api_key, api_version, correlation_id, client_id.
    header = struct.pack(">hhih", api_key, version, corr, len(CLIENT_ID)) + CLIENT_ID
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    reader = Reader(_recv_exact(sock, size))
    if reader.take(">i") != corr:  # response header v0
        raise ProbeError("correlation id mismatch")
    return reader


def probe(host: str, port: int, timeout: float) -> str:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)

        # ApiVersions v0: empty body; every broker version answers it.
        r = _call(sock, API_VERSIONS, 0, 1, b"")
        error = r.take(">h")
        if error:
            raise ProbeError(f"ApiVersions error code {error}")
        ranges = {}
        for _ in range(r.take(">i")):
            key, lo, hi = r.take(">h"), r.take(">h"), r.take(">h")
            ranges[key] = (lo, hi)
        if API_METADATA not in ranges:
            raise ProbeError("broker does not offer the Metadata API")
        lo, hi = ranges[API_METADATA]
        version = min(hi, 8)  # v9+ is the "flexible" encoding
        if version < max(lo, 1):
            raise ProbeError(f"no non-flexible Metadata version in {lo}..{hi}")

        # Metadata v1..v8 for no topics (empty array): brokers + controller only.
        body = struct.pack(">i", 0)
        if version >= 4:
            body += struct.pack(">b", 0)  # allow_auto_topic_creation
        if version >= 8:
            body += struct.pack(">bb", 0, 0)  # include_*_authorized_operations
        r = _call(sock, API_METADATA, version, 2, body)
        if version >= 3:
            r.take(">i")  # throttle_time_ms
        brokers = []
        for _ in range(r.take(">i")):
            node_id = r.take(">i")
            bhost = r.string()
            bport = r.take(">i")
            r.string()  # rack
            brokers.append(f"{node_id}@{bhost}:{bport}")
        cluster_id = r.string() if version >= 2 else None
        controller = r.take(">i")
        if not brokers:
            raise ProbeError("metadata lists no brokers yet")
        return f"brokers={','.join(brokers)} controller={controller} cluster_id={cluster_id}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bootstrap", help="HOST:PORT[,HOST:PORT...]")
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    errors = []
    for entry in args.bootstrap.split(","):
        entry = entry.strip()
        if "://" in entry:
            entry = entry.split("://", 1)[1]
        host, _, port = entry.rpartition(":")
        host = host.strip("[]")
        try:
            info = probe(host, int(port), args.timeout)
        except (OSError, ProbeError, ValueError) as exc:
            errors.append(f"{entry}: {exc}")
            continue
        if not args.quiet:
            print(f"{entry}: {info}")
        return 0
    if not args.quiet:
        print("; ".join(errors), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
