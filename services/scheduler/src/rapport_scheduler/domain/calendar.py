"""Send windows: business hours on business days in the contact's time zone, holidays per country."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def local_day(self) -> date:
        return self.start.date()


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=128)
def _holidays(country: str | None, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    try:
        return frozenset(holidays.country_holidays(country.upper(), years=year).keys())
    except NotImplementedError:
        return frozenset()  # a country the package does not know: weekends still apply


@dataclass(frozen=True)
class SendCalendar:
    """Messages go out between ``opens`` and ``closes`` local time; nights are the quiet hours."""

    opens: time = time(9, 0)
    closes: time = time(17, 0)

    def is_business_day(self, day: date, country: str | None) -> bool:
        return day.weekday() < 5 and day not in _holidays(country, day.year)

    def local_today(self, now: datetime, tz: str) -> date:
        return _local_today(now, tz)

    def local_midnight(self, day: date, tz: str) -> datetime:
        return _local_midnight(day, tz)

    def next_window(self, now: datetime, tz: str, country: str | None) -> Window:
        """The window in progress, or the next one to open.

        A batch decides many customers at one ``now``; those sharing a time zone and country share the
        window, so it is worked out once per batch (windows are immutable).
        """
        key = (self.opens, self.closes, now, tz, country)
        window = _windows.get(key)
        if window is None:
            if len(_windows) >= _WINDOWS_KEPT:
                _windows.clear()
            window = _windows[key] = self._next_window(now, tz, country)
        return window

    def _next_window(self, now: datetime, tz: str, country: str | None) -> Window:
        zone = _zone(tz)
        local = now.astimezone(zone)
        day = local.date()
        if local.time() >= self.closes:
            day += timedelta(days=1)
        while not self.is_business_day(day, country):
            day += timedelta(days=1)
        start = datetime.combine(day, self.opens, zone)
        end = datetime.combine(day, self.closes, zone)
        return Window(max(start, local), end)

    @classmethod
    def quiet(cls, start: time, end: time) -> "SendCalendar":
        """The calendar that sends between the end of one night's quiet hours and the start of the next."""
        return _calendar(end, start)

    def contains(self, instant: datetime, tz: str, country: str | None) -> bool:
        local = instant.astimezone(_zone(tz))
        return self.is_business_day(local.date(), country) and self.opens <= local.time() <= self.closes


_WINDOWS_KEPT = 4096
_windows: dict[tuple, Window] = {}


@lru_cache(maxsize=4096)
def _local_today(now: datetime, tz: str) -> date:
    return now.astimezone(_zone(tz)).date()


@lru_cache(maxsize=4096)
def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0, 0), _zone(tz))


@lru_cache(maxsize=64)
def _calendar(opens: time, closes: time) -> SendCalendar:
    return SendCalendar(opens, closes)
