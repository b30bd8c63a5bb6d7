"""Business Days and Normal Business Hours (contract §1.7 L1078, §1.30 L1176; DECISIONS "Time and
calendars"), the clock of the root-cause report and defect deadlines (§10.2, §10.3) and of the
non-routine notice rule of Exhibit G SLR 21.

A Business Day is Monday to Friday, except the holidays of §1.7: New Year's Day, Victoria Day, July 1,
Labour Day, "Easter", Canadian Thanksgiving Day, December 24 and December 25. "Easter" (a Sunday)
cannot be meant literally; the default reads it as Good Friday, the Easter holiday of the Canadian
federal statutory list (Canada Labour Code s. 166), and the list is configurable so Easter Monday can
be added or substituted once the Customer confirms. Holidays are taken on their date: §1.7 names
dates, not observed days, so a July 1 on a Saturday gives no Monday off.

Normal Business Hours are 07:00-19:00 Central Time on Business Days, so Business Days are counted in
Central Time too. All instants are UTC milliseconds, as everywhere in the store.

Holiday rules are short strings:
  "MM-DD"            the same date every year (New Year's Day "01-01")
  "YYYY-MM-DD"       one date (a one-off closure)
  "easter+N" / "easter-N"   days from Easter Sunday (Good Friday "easter-2")
  "MM:dow:N"         the N-th weekday of a month, N=-1 the last (Labour Day "09:mon:1")
  "MM:dow:<DD"       the last such weekday before day DD (Victoria Day "05:mon:<25")
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_MS = 86_400_000
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# contract §1.7 (L1078), in its order
CONTRACT_HOLIDAYS: dict[str, str] = {
    "New Year's Day": "01-01",
    "Victoria Day": "05:mon:<25",
    "Canada Day (July 1)": "07-01",
    "Labour Day": "09:mon:1",
    "Easter (Good Friday)": "easter-2",
    "Thanksgiving Day": "10:mon:2",
    "December 24": "12-24",
    "December 25": "12-25",
}
CENTRAL = "America/Chicago"  # §1.30: Normal Business Hours are in Central Time

_FIXED = re.compile(r"^(\d\d)-(\d\d)$")
_ONE_OFF = re.compile(r"^(\d{4})-(\d\d)-(\d\d)$")
_EASTER = re.compile(r"^easter([+-]\d{1,2})?$")
_NTH = re.compile(r"^(\d\d):(mon|tue|wed|thu|fri|sat|sun):(-1|[1-5])$")
_BEFORE = re.compile(r"^(\d\d):(mon|tue|wed|thu|fri|sat|sun):<(\d\d)$")


class CalendarError(ValueError):
    """A holiday rule or calendar setting that cannot be used (one line)."""


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def _date(year: int, month: int, day: int, rule: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CalendarError(f"holiday rule {rule!r} names no real date") from None


def rule_date(rule: str, year: int) -> dt.date | None:
    """The day `rule` falls on in `year` (None: a one-off rule of another year)."""
    rule = rule.strip().lower()
    if m := _FIXED.match(rule):
        month, day = int(m[1]), int(m[2])
        if (month, day) == (2, 29):
            raise CalendarError("holiday rule '02-29' is not a yearly date")
        return _date(year, month, day, rule)
    if m := _ONE_OFF.match(rule):
        when = _date(int(m[1]), int(m[2]), int(m[3]), rule)
        return when if when.year == year else None
    if m := _EASTER.match(rule):
        return easter_sunday(year) + dt.timedelta(days=int(m[1] or 0))
    if m := _NTH.match(rule):
        month, dow, n = int(m[1]), WEEKDAYS.index(m[2]), int(m[3])
        _date(year, month, 1, rule)
        if n == -1:
            last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
            return last - dt.timedelta(days=(last.weekday() - dow) % 7)
        first = dt.date(year, month, 1)
        when = first + dt.timedelta(days=(dow - first.weekday()) % 7 + 7 * (n - 1))
        if when.month != month:
            raise CalendarError(f"holiday rule {rule!r}: month {month} has no weekday number {n}")
        return when
    if m := _BEFORE.match(rule):
        limit = _date(year, int(m[1]), int(m[3]), rule)
        dow = WEEKDAYS.index(m[2])
        back = (limit.weekday() - dow) % 7 or 7
        return limit - dt.timedelta(days=back)
    raise CalendarError(f"holiday rule {rule!r} is not MM-DD, YYYY-MM-DD, easter[+-N], MM:dow:N or MM:dow:<DD")


def _hhmm(value: str, what: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError):
        raise CalendarError(f"{what} {value!r} is not a time of day (HH:MM)") from None


@dataclass(frozen=True)
class BusinessCalendar:
    holidays: Mapping[str, str] = field(default_factory=lambda: dict(CONTRACT_HOLIDAYS))
    timezone: str = CENTRAL
    opens: str = "07:00"
    closes: str = "19:00"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"time zone {self.timezone!r} is unknown") from None
        if _hhmm(self.opens, "opening time") >= _hhmm(self.closes, "closing time"):
            raise CalendarError(f"business hours {self.opens}-{self.closes} do not run forwards")
        for rule in self.holidays.values():
            rule_date(rule, 2000)  # validates the rule's shape once, at configuration time

    # ---- plain days -------------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def holidays_of(self, year: int) -> dict[dt.date, str]:
        return _holidays(tuple(sorted(self.holidays.items())), year)

    def holiday(self, day: dt.date) -> str | None:
        return self.holidays_of(day.year).get(day)

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def local_date(self, ms: int) -> dt.date:
        return dt.datetime.fromtimestamp(ms / 1000, tz=self.zone).date()

    def next_business_day(self, day: dt.date) -> dt.date:
        """The first Business Day after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_business_day(day):
            day += dt.timedelta(days=1)
        return day

    def business_days_after(self, day: dt.date, n: int) -> dt.date:
        """The n-th Business Day after `day` (n >= 1); `day` itself does not count."""
        if n < 1:
            raise CalendarError(f"business day count {n} must be at least 1")
        for _ in range(n):
            day = self.next_business_day(day)
        return day

    def business_days_before(self, day: dt.date, n: int) -> dt.date:
        """The n-th Business Day before `day` (n >= 1)."""
        if n < 1:
            raise CalendarError(f"business day count {n} must be at least 1")
        for _ in range(n):
            day -= dt.timedelta(days=1)
            while not self.is_business_day(day):
                day -= dt.timedelta(days=1)
        return day

    def business_days_between(self, first: dt.date, last: dt.date) -> int:
        """How many Business Days lie in (first, last]."""
        count, day = 0, first
        while day < last:
            day += dt.timedelta(days=1)
            count += self.is_business_day(day)
        return count

    # ---- instants ---------------------------------------------------------------------------------
    def end_of_day_ms(self, day: dt.date) -> int:
        """The last millisecond of `day` in the calendar's zone."""
        nxt = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)
        return int(nxt.timestamp() * 1000) - 1

    def add_business_days(self, ms: int, n: int) -> int:
        """Deadline of "within n Business Days following" an instant: the end of the n-th Business Day
        after the day the instant falls on (the day of the event is not counted, and the whole last
        day is available, as deadlines in days are read)."""
        return self.end_of_day_ms(self.business_days_after(self.local_date(ms), n))

    def hours_of(self, day: dt.date) -> tuple[int, int] | None:
        """Normal Business Hours of `day` as [open, close) in UTC ms, None on other days."""
        if not self.is_business_day(day):
            return None
        opens = dt.datetime.combine(day, _hhmm(self.opens, "opening time"), tzinfo=self.zone)
        closes = dt.datetime.combine(day, _hhmm(self.closes, "closing time"), tzinfo=self.zone)
        return int(opens.timestamp() * 1000), int(closes.timestamp() * 1000)

    def in_business_hours(self, ms: int) -> bool:
        hours = self.hours_of(self.local_date(ms))
        return hours is not None and hours[0] <= ms < hours[1]

    def business_hours_overlap_ms(self, start_ms: int, stop_ms: int) -> int:
        """How much of [start, stop) lies in Normal Business Hours."""
        total = 0
        for opens, closes in self._hours_between(start_ms, stop_ms):
            total += max(0, min(stop_ms, closes) - max(start_ms, opens))
        return total

    def _hours_between(self, start_ms: int, stop_ms: int) -> Iterator[tuple[int, int]]:
        day, last = self.local_date(start_ms), self.local_date(max(start_ms, stop_ms - 1))
        while day <= last:
            hours = self.hours_of(day)
            if hours is not None:
                yield hours
            day += dt.timedelta(days=1)

    def describe(self) -> dict[str, object]:
        return {"holidays": dict(self.holidays), "timezone": self.timezone,
                "business_hours": f"{self.opens}-{self.closes}"}


@lru_cache(maxsize=256)
def _holidays(rules: tuple[tuple[str, str], ...], year: int) -> dict[dt.date, str]:
    out: dict[dt.date, str] = {}
    for name, rule in rules:
        when = rule_date(rule, year)
        if when is not None:
            out.setdefault(when, name)
    return out
