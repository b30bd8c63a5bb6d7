"""Argument checks shared by the NPAC-personnel commands: each bad value is refused with one line
naming the argument and what it should be (Exhibit K formats: TN, LRN and NPA-NXX digits, 4-character
SP ids, GMT time stamps), before anything is changed.

Arguments arrive as JSON values from the console, so every check also accepts the JSON spelling of
its type (a number or a string of digits for an id).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from appliance.ops.commands import CommandError

_SP_ID = re.compile(r"^[A-Za-z0-9]{4}$")
_TIME_FORMATS = ("%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%dT%H:%MZ", "%Y-%m-%d", "%Y%m%d")


def required(value: Any, what: str) -> Any:
    if value is None or value == "":
        raise CommandError(f"{what} is required")
    return value


def sp_id(value: Any, what: str = "SP id") -> str:
    """NPAC Customer ID: C(4), alphanumeric (FRS Table 3-1 L7635)."""
    text = str(required(value, what))
    if not _SP_ID.match(text):
        raise CommandError(f"{what} {text!r} must be 4 letters or digits")
    return text


def digits(value: Any, count: int, what: str) -> str:
    text = str(required(value, what)).replace("-", "")
    if len(text) != count or not text.isdigit():
        raise CommandError(f"{what} {value!r} must be {count} digits")
    return text


def tn(value: Any, what: str = "TN") -> str:
    return digits(value, 10, what)


def npa_nxx(value: Any, what: str = "NPA-NXX") -> str:
    return digits(value, 6, what)


def lrn(value: Any, what: str = "LRN") -> str:
    return digits(value, 10, what)


def integer(value: Any, what: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool):
        raise CommandError(f"{what} must be a whole number")
    try:
        number = int(str(required(value, what)).strip())
    except ValueError:
        raise CommandError(f"{what} {value!r} must be a whole number") from None
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"{low}..{high}" if low is not None and high is not None else (
            f">= {low}" if low is not None else f"<= {high}")
        raise CommandError(f"{what} {number} is outside {bounds}")
    return number


def flag(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(required(value, what)).lower()
    if text in ("yes", "true", "on", "1", "y"):
        return True
    if text in ("no", "false", "off", "0", "n"):
        return False
    raise CommandError(f"{what} {value!r} must be yes or no")


def choice(value: Any, options: Iterable[str], what: str) -> str:
    allowed = tuple(options)
    text = str(required(value, what))
    if text not in allowed:
        raise CommandError(f"{what} {text!r} must be one of: {', '.join(allowed)}")
    return text


def text(value: Any, what: str, longest: int, shortest: int = 1) -> str:
    """C(n) fields (FRS Table 3-1 legend): printable, at most `longest` characters."""
    out = str(value if value is not None else "")
    if not shortest <= len(out) <= longest or not out.isprintable():
        raise CommandError(f"{what} {out!r} must be {shortest}-{longest} printable characters")
    return out


def names(value: Any, what: str) -> list[str]:
    """A list given as JSON list or as one comma-separated string."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise CommandError(f"{what} must be a list of names")
    return [i.strip() for i in items if i.strip()]


def when_ms(value: Any, what: str) -> int:
    """A GMT time: YYYYMMDDhhmmss (Exhibit K), ISO 8601 with Z, a date (YYYY-MM-DD or YYYYMMDD), or
    milliseconds since 1970."""
    required(value, what)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raw = str(value).strip()
    for fmt in _TIME_FORMATS:
        try:
            moment = dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
        return int(moment.timestamp() * 1000)
    raise CommandError(f"{what} {raw!r} is not a GMT time (YYYYMMDDhhmmss or YYYY-MM-DDThh:mm:ssZ)")


def gmt14(ms: int | None) -> str:
    """yyyymmddhhmmss in GMT (Exhibit K download files, L94250ff); empty when there is no time."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y%m%d%H%M%S")


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
