"""Upload rules: allowed types are decided by the bytes themselves, never by the name or header."""
from __future__ import annotations

import re
import unicodedata

from rapport_portal.domain.errors import Invalid

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def sniff(head: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def check_upload(content: bytes, max_bytes: int) -> str:
    """The content type of an acceptable document, or :class:`Invalid` naming the problem."""
    if not content:
        raise Invalid("the file is empty", "file")
    if len(content) > max_bytes:
        raise Invalid(f"the file is larger than {max_bytes} bytes", "file")
    content_type = sniff(content[:16])
    if content_type is None:
        raise Invalid("only PDF, PNG and JPEG documents are accepted (checked by content)", "file")
    return content_type


def display_name(filename: str | None, content_type: str) -> str:
    """A harmless name to show back: no directories, no control characters, the true extension."""
    base = (filename or "document").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base)
    stem = _UNSAFE.sub("_", base.rsplit(".", 1)[0]).strip(" .") or "document"
    return stem[:80] + EXTENSIONS[content_type]
