"""The node's Business Day calendar as a persisted setting: the holiday list, zone and business hours
live in the store (`meta`, key "business-calendar"), so NPAC personnel change them like a tunable and the
disaster-recovery node computes the same deadlines. Unset, the calendar is contract §1.7 / §1.30's
(appliance.ops.business_calendar.CONTRACT_HOLIDAYS, Central Time, 07:00-19:00).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from appliance.ops.business_calendar import BusinessCalendar, CalendarError
from appliance.ops.commands import Command, CommandError
from appliance.ops.personnel_args import integer

META_KEY = "business-calendar"


def load_calendar(store: Any) -> BusinessCalendar:
    row = store.get("meta", META_KEY)
    if not row or not row["value"]:
        return BusinessCalendar()
    value = row["value"]
    return BusinessCalendar(holidays=dict(value["holidays"]), timezone=value["timezone"],
                            opens=value["opens"], closes=value["closes"])


def _calendar_view(cal: BusinessCalendar, year: int) -> dict[str, Any]:
    return {**cal.describe(), "year": year,
            "dates": [{"date": day.isoformat(), "name": name, "weekday": day.strftime("%a")}
                      for day, name in sorted(cal.holidays_of(year).items())]}


async def show_calendar(ctx: Any, session: Any, year: Any = None) -> dict[str, Any]:
    cal = load_calendar(ctx.store)
    now_year = dt.datetime.fromtimestamp(ctx.store.clock() / 1000, tz=dt.timezone.utc).year
    return _calendar_view(cal, integer(year, "year", 1900, 2999) if year is not None else now_year)


async def set_calendar(ctx: Any, session: Any, holidays: Any = None, timezone: Any = None, opens: Any = None,
                       closes: Any = None) -> dict[str, Any]:
    """Replace the holiday list (a JSON object name -> rule) and/or the zone and business hours."""
    current = load_calendar(ctx.services.store)
    if holidays is not None and (not isinstance(holidays, dict)
                                 or not all(isinstance(k, str) and isinstance(v, str) for k, v in holidays.items())):
        raise CommandError("holidays must be an object of name: rule")
    try:
        new = BusinessCalendar(holidays=dict(holidays) if holidays is not None else dict(current.holidays),
                               timezone=str(timezone or current.timezone), opens=str(opens or current.opens),
                               closes=str(closes or current.closes))
    except CalendarError as exc:
        raise CommandError(str(exc)) from None
    value = {"holidays": dict(new.holidays), "timezone": new.timezone, "opens": new.opens, "closes": new.closes}
    await ctx.services.writer.run("business calendar changed",
                                  lambda tx: tx.upsert("meta", {"key": META_KEY, "value": value}))
    return new.describe()


def commands() -> list[Command]:
    return [
        Command("calendar.show", show_calendar, "read", "Business Day calendar and a year's holidays"),
        Command("calendar.set", set_calendar, "administer", "change holidays, time zone or business hours"),
    ]
