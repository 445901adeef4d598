"""Uploads are judged by their bytes; sign-in attempts are rate limited on an injected clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rapport_shared.time import ManualClock

from rapport_portal.adapters.files import LocalFileStore
from rapport_portal.domain.errors import Invalid, RateLimited
from rapport_portal.domain.ratelimit import SlidingWindow
from rapport_portal.domain.uploads import check_upload, display_name, sniff

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


@pytest.mark.parametrize("content, expected", [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")])
def test_allowed_types_are_recognised_by_content(content, expected):
    assert sniff(content) == expected
    assert check_upload(content + b"x" * 100, max_bytes=1000) == expected


@pytest.mark.parametrize("content", [
    b"<html><script>alert(1)</script>", b"MZ\x90\x00 windows exe", b"GIF89a....", b"PK\x03\x04 zip", b" %PDF-1.4",
])
def test_other_content_is_refused_whatever_its_name(content):
    with pytest.raises(Invalid) as err:
        check_upload(content, max_bytes=1000)
    assert err.value.field == "file" and "checked by content" in err.value.reason


def test_size_limit_and_empty_files():
    assert check_upload(PDF + b"x" * (100 - len(PDF)), max_bytes=100) == "application/pdf"
    with pytest.raises(Invalid, match="larger than 100 bytes"):
        check_upload(PDF + b"x" * 100, max_bytes=100)
    with pytest.raises(Invalid, match="empty"):
        check_upload(b"", max_bytes=100)


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\system32\\evil.exe", "evil.pdf"),
    ("/abs/path/report.PDF", "report.pdf"),
    ("in\x00voice\n.pdf", "in_voice_.pdf"),
    ("..", "document.pdf"),
    (None, "document.pdf"),
])
def test_display_names_carry_no_path_and_the_true_extension(name, expected):
    assert display_name(name, "application/pdf") == expected


def test_file_store_uses_its_own_names_inside_its_root(tmp_path):
    store = LocalFileStore(tmp_path / "up")
    name = store.save(PDF, ".pdf")
    assert (tmp_path / "up" / name).read_bytes() == PDF
    assert "/" not in name and name.endswith(".pdf")
    assert store.read(name) == PDF
    for hostile in ("../../etc/passwd", "/etc/passwd", name + "/../x"):
        with pytest.raises(ValueError):
            store.read(hostile)


def test_sliding_window_limits_then_forgets():
    clock = ManualClock(datetime(2026, 6, 15, tzinfo=timezone.utc))
    window = SlidingWindow(clock, limit=3, window=timedelta(minutes=1))
    for _ in range(3):
        window.hit("ip:1")
    with pytest.raises(RateLimited) as err:
        window.hit("ip:1")
    assert 1 <= err.value.retry_after_s <= 61
    window.hit("ip:2")  # other keys are not affected
    clock.advance(timedelta(seconds=61))
    window.hit("ip:1")
