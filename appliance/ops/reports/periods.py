"""Reporting periods (Exhibit H frequency key, L87601-87611): calendar months, quarters and the year to
date, in GMT (Exhibit K L94002), each with the period it is compared with."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

UTC = dt.timezone.utc


def _ms(day: dt.datetime) -> int:
    return int(day.timestamp() * 1000)


def _month_start(year: int, month: int) -> dt.datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.datetime(year, month, 1, tzinfo=UTC)


def utc_of(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, UTC)


class PeriodError(ValueError):
    """A period the operator named that does not parse."""


@dataclass(frozen=True)
class Period:
    kind: str    # month | quarter | ytd
    label: str   # 2026-11, 2026-Q4, 2026 YTD
    start_ms: int
    end_ms: int  # exclusive

    @staticmethod
    def month(year: int, month: int) -> "Period":
        start = _month_start(year, month)
        return Period("month", f"{start:%Y-%m}", _ms(start), _ms(_month_start(year, month + 1)))

    @staticmethod
    def quarter(year: int, quarter: int) -> "Period":
        first = 3 * (quarter - 1) + 1
        return Period("quarter", f"{year}-Q{quarter}", _ms(_month_start(year, first)),
                      _ms(_month_start(year, first + 3)))

    @staticmethod
    def ytd(year: int, until_ms: int) -> "Period":
        start = _ms(dt.datetime(year, 1, 1, tzinfo=UTC))
        end = min(max(until_ms, start), _ms(dt.datetime(year + 1, 1, 1, tzinfo=UTC)))
        return Period("ytd", f"{year} YTD", start, end)

    @staticmethod
    def month_of(ms: int) -> "Period":
        day = utc_of(ms)
        return Period.month(day.year, day.month)

    @staticmethod
    def parse(kind: str, text: str | None, now_ms: int) -> "Period":
        """The period an operator asked for: month "YYYY-MM", quarter "YYYY-Qn", ytd "YYYY"; none given
        = the one containing now."""
        now = utc_of(now_ms)
        if kind == "month":
            if not text:
                return Period.month(now.year, now.month)
            m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
            if not m or not 1 <= int(m[2]) <= 12:
                raise PeriodError(f"month {text!r}: expected YYYY-MM")
            return Period.month(int(m[1]), int(m[2]))
        if kind == "quarter":
            if not text:
                return Period.quarter(now.year, (now.month - 1) // 3 + 1)
            m = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", text.strip())
            if not m:
                raise PeriodError(f"quarter {text!r}: expected YYYY-Qn")
            return Period.quarter(int(m[1]), int(m[2]))
        if kind == "ytd":
            if not text:
                return Period.ytd(now.year, now_ms)
            if not re.fullmatch(r"\d{4}", text.strip()):
                raise PeriodError(f"year {text!r}: expected YYYY")
            year = int(text)
            return Period.ytd(year, now_ms if year == now.year else _ms(dt.datetime(year + 1, 1, 1, tzinfo=UTC)))
        raise PeriodError(f"unknown period kind {kind!r}")

    def prior(self) -> "Period":
        """The period this one is compared with: the month or quarter before, or the same stretch of
        the year before (year to date)."""
        start = utc_of(self.start_ms)
        if self.kind == "month":
            return Period.month(start.year, start.month - 1)
        if self.kind == "quarter":
            q = (start.month - 1) // 3 + 1
            return Period.quarter(start.year - (q == 1), 4 if q == 1 else q - 1)
        end = utc_of(self.end_ms)
        try:
            last_year_end = end.replace(year=end.year - 1)
        except ValueError:  # 29 February
            last_year_end = end.replace(year=end.year - 1, day=28)
        return Period("ytd", f"{start.year - 1} YTD", _ms(start.replace(year=start.year - 1)), _ms(last_year_end))

    def quarter_of_end(self) -> "Period":
        last = utc_of(self.end_ms - 1)
        return Period.quarter(last.year, (last.month - 1) // 3 + 1)

    def text(self) -> str:
        end = utc_of(self.end_ms)
        return f"{utc_of(self.start_ms):%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} GMT"
