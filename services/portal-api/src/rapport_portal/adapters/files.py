"""Uploaded documents on disk, outside any web root, under names the portal chooses."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

_STORAGE_NAME = re.compile(r"^[a-f0-9]{32}\.(pdf|png|jpg)$")


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def save(self, content: bytes, extension: str) -> str:
        """Store under a random name (the client's filename never reaches the filesystem)."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = secrets.token_hex(16) + extension
        path = self.root / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        return name

    def read(self, storage_name: str) -> bytes:
        if not _STORAGE_NAME.match(storage_name):
            raise ValueError("not a storage name")
        return (self.root / storage_name).read_bytes()
