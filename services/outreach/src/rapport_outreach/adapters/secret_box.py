"""Provider secrets at rest: encrypted with a key derived from ``RAPPORT_OUTREACH_CREDENTIALS_KEY``.

A database dump or a backup then holds no usable API key.
"""
from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, key: str) -> None:
        derived = hashlib.sha256(("rapport.outreach.credentials:" + key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secrets: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, str] | None:
        """None when the secrets were sealed under another key (the key was changed): unusable."""
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            return None
