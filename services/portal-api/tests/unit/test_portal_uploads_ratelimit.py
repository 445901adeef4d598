"""Uploads are judged by their bytes; sign-in attempts are rate limited on an injected clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest


from rapport_portal.adapters.files import LocalFileStore
from rapport_portal.domain.errors import Invalid, RateLimited
from rapport_portal.domain.ratelimit import RateLimit
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


T0 = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
PER_MINUTE = RateLimit("ip", limit=3, window=timedelta(minutes=1))


def test_rate_limit_windows_are_aligned_the_same_in_every_worker():
    assert PER_MINUTE.window_start(T0 + timedelta(seconds=59)) == T0
    assert PER_MINUTE.window_start(T0 + timedelta(seconds=60)) == T0 + timedelta(minutes=1)
    hourly = RateLimit("email", 5, timedelta(hours=1))
    assert hourly.window_start(T0 + timedelta(minutes=59)) == T0


def test_rate_limit_allows_the_budget_then_refuses_with_the_wait():
    now = T0 + timedelta(seconds=30)
    for hits in (1, 2, 3):
        PER_MINUTE.check(now, hits, 0)
    with pytest.raises(RateLimited) as err:
        PER_MINUTE.check(now, 4, 0)
    # Next window at 60 s; there the 4 hits weigh 4 * (1 - f) + 1 <= 3 once f >= 1/2: 90 s from T0.
    assert err.value.retry_after_s == 60


def test_rate_limit_weighs_the_previous_window_so_a_boundary_burst_gets_no_double_budget():
    just_after = T0 + timedelta(seconds=1)  # previous window still overlaps 59/60
    with pytest.raises(RateLimited):
        PER_MINUTE.check(just_after, 1, 3)
    PER_MINUTE.check(T0 + timedelta(seconds=45), 1, 3)  # 3 * 0.25 + 1 <= 3
    with pytest.raises(RateLimited) as err:
        PER_MINUTE.check(T0 + timedelta(seconds=30), 2, 4)  # 4 * 0.5 + 2 > 3
    assert err.value.retry_after_s == 30  # a third hit fits when the previous window has faded out
