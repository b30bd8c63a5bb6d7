"""Business Days and Normal Business Hours: contract §1.7 (seed 003 L1078), §1.30 (L1176), DECISIONS
"Time and calendars" (07:00-19:00 Central, configurable holiday calendar)."""
import asyncio
import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from appliance.ops.business_calendar import (
    CONTRACT_HOLIDAYS, BusinessCalendar, CalendarError, easter_sunday, rule_date)
from appliance.ops.calendar_settings import commands, load_calendar, set_calendar, show_calendar
from appliance.ops.commands import CommandError
from tests.support.ops_store_rig import OPERATOR, store_context

CAL = BusinessCalendar()
CT = CAL.zone


def ms(year, month, day, hour=0, minute=0, tz=dt.timezone.utc):
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=tz).timestamp() * 1000)


def local(ms_):
    return dt.datetime.fromtimestamp(ms_ / 1000, tz=CT)


instants = st.integers(ms(2020, 1, 1), ms(2035, 12, 31))
counts = st.integers(1, 40)


def test_contract_holidays_2026_L1078():
    """§1.7: New Year's Day, Victoria Day, July 1, Labour Day, Easter (read as Good Friday), Canadian
    Thanksgiving Day, December 24 and December 25."""
    got = {d.isoformat(): n for d, n in CAL.holidays_of(2026).items()}
    assert got == {"2026-01-01": "New Year's Day", "2026-04-03": "Easter (Good Friday)",
                   "2026-05-18": "Victoria Day", "2026-07-01": "Canada Day (July 1)",
                   "2026-09-07": "Labour Day", "2026-10-12": "Thanksgiving Day",
                   "2026-12-24": "December 24", "2026-12-25": "December 25"}
    assert len(CONTRACT_HOLIDAYS) == 8


@pytest.mark.parametrize("year,expected", [(2024, "2024-03-31"), (2025, "2025-04-20"), (2026, "2026-04-05"),
                                           (2027, "2027-03-28"), (2038, "2038-04-25"), (2285, "2285-03-22")])
def test_easter_dates(year, expected):
    assert easter_sunday(year).isoformat() == expected


@given(st.integers(1900, 2500))
def test_easter_is_a_sunday_in_its_window(year):
    day = easter_sunday(year)
    assert day.weekday() == 6 and dt.date(year, 3, 22) <= day <= dt.date(year, 4, 25)


@given(st.integers(1990, 2100))
def test_victoria_day_is_the_monday_before_may_25(year):
    day = rule_date("05:mon:<25", year)
    assert day.weekday() == 0 and dt.date(year, 5, 18) <= day <= dt.date(year, 5, 24)


def test_weekends_and_holidays_are_not_business_days_L1078():
    assert CAL.is_business_day(dt.date(2026, 12, 23))
    assert not CAL.is_business_day(dt.date(2026, 12, 24)) and not CAL.is_business_day(dt.date(2026, 12, 26))
    assert not CAL.is_business_day(dt.date(2026, 4, 3))     # Good Friday
    assert CAL.is_business_day(dt.date(2026, 4, 6))          # Easter Monday is not in §1.7
    assert CAL.next_business_day(dt.date(2026, 12, 23)) == dt.date(2026, 12, 28)


def test_business_day_deadline_is_end_of_the_nth_following_business_day():
    """"within one (1) Business Day following detection" (§10.3.1 L2098): the day of detection does not
    count; the whole next Business Day does, in Central Time."""
    wednesday_noon_ct = ms(2026, 12, 23, 12, tz=CT)
    due = local(CAL.add_business_days(wednesday_noon_ct, 1))
    assert (due.date(), due.hour, due.minute) == (dt.date(2026, 12, 28), 23, 59)  # Dec 24-27 skipped
    friday_late = ms(2026, 3, 6, 23, 30, tz=CT)  # already Saturday in UTC: Central Time decides the day
    assert local(CAL.add_business_days(friday_late, 1)).date() == dt.date(2026, 3, 9)


def test_normal_business_hours_are_7_to_19_central_L1176():
    assert not CAL.in_business_hours(ms(2026, 3, 4, 6, 59, tz=CT))
    assert CAL.in_business_hours(ms(2026, 3, 4, 7, 0, tz=CT))
    assert CAL.in_business_hours(ms(2026, 3, 4, 18, 59, tz=CT))
    assert not CAL.in_business_hours(ms(2026, 3, 4, 19, 0, tz=CT))
    assert not CAL.in_business_hours(ms(2026, 3, 7, 12, tz=CT))  # Saturday
    # daylight saving: 07:00 Central is 13:00 UTC in winter and 12:00 UTC in summer
    assert CAL.in_business_hours(ms(2026, 1, 7, 13)) and not CAL.in_business_hours(ms(2026, 1, 7, 12, 59))
    assert CAL.in_business_hours(ms(2026, 7, 8, 12)) and not CAL.in_business_hours(ms(2026, 7, 8, 11, 59))


def test_business_hours_overlap():
    day = CAL.hours_of(dt.date(2026, 3, 4))
    assert day[1] - day[0] == 12 * 3_600_000
    assert CAL.business_hours_overlap_ms(ms(2026, 3, 4, 0, tz=CT), ms(2026, 3, 5, 0, tz=CT)) == 12 * 3_600_000
    assert CAL.business_hours_overlap_ms(ms(2026, 3, 4, 19, tz=CT), ms(2026, 3, 5, 7, tz=CT)) == 0
    assert CAL.business_hours_overlap_ms(ms(2026, 3, 6, 18, tz=CT), ms(2026, 3, 9, 8, tz=CT)) == 2 * 3_600_000


@settings(max_examples=60, deadline=None)
@given(instants, counts)
def test_property_deadline_ends_a_business_day_n_business_days_on(t, n):
    due = CAL.add_business_days(t, n)
    day = CAL.local_date(due)
    assert CAL.is_business_day(day) and due == CAL.end_of_day_ms(day) and due > t
    assert CAL.business_days_between(CAL.local_date(t), day) == n


@settings(max_examples=60, deadline=None)
@given(instants, counts, counts)
def test_property_deadlines_compose(t, n, m):
    assert CAL.add_business_days(CAL.add_business_days(t, n), m) == CAL.add_business_days(t, n + m)


@settings(max_examples=60, deadline=None)
@given(instants, instants, counts)
def test_property_deadlines_are_monotone(a, b, n):
    early, late = sorted((a, b))
    assert CAL.add_business_days(early, n) <= CAL.add_business_days(late, n)
    assert CAL.add_business_days(early, n) < CAL.add_business_days(early, n + 1)


@settings(max_examples=60, deadline=None)
@given(st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)), counts)
def test_property_business_days_before_inverts_after(day, n):
    back = CAL.business_days_before(day, n)
    # (back, day] holds the n-1 Business Days strictly between, and `day` itself when it is one
    assert CAL.is_business_day(back) and CAL.business_days_between(back, day) == n - 1 + CAL.is_business_day(day)
    if CAL.is_business_day(day):
        assert CAL.business_days_after(back, n) == day


@settings(max_examples=40, deadline=None)
@given(instants, st.integers(0, 5 * 86_400_000))
def test_property_overlap_is_bounded_and_additive(start, length):
    stop, mid = start + length, start + length // 2
    whole = CAL.business_hours_overlap_ms(start, stop)
    assert 0 <= whole <= length
    assert whole == CAL.business_hours_overlap_ms(start, mid) + CAL.business_hours_overlap_ms(mid, stop)


@pytest.mark.parametrize("rule", ["13-01", "02-30", "easter+x", "09:mon:6", "09:xyz:1", "02-29", "sometime"])
def test_bad_holiday_rules_are_refused_in_one_line(rule):
    with pytest.raises(CalendarError) as err:
        BusinessCalendar(holidays={"bad": rule})
    assert "\n" not in str(err.value)


def test_calendar_is_a_persisted_setting(tmp_path):
    """The holiday list is configurable (DECISIONS: configurable holiday calendar; requirements §14 note
    on "Easter"): replacing Good Friday by Easter Monday changes the deadlines; bad input is refused."""
    async def body():
        ctx = store_context(tmp_path, ms(2026, 4, 1))
        shown = await show_calendar(ctx, OPERATOR)
        assert shown["year"] == 2026 and len(shown["dates"]) == 8 and shown["business_hours"] == "07:00-19:00"
        holidays = {**{k: v for k, v in CONTRACT_HOLIDAYS.items() if "Easter" not in k}, "Easter Monday": "easter+1"}
        await set_calendar(ctx, OPERATOR, holidays=holidays)
        cal = load_calendar(ctx.services.store)
        assert cal.is_business_day(dt.date(2026, 4, 3)) and not cal.is_business_day(dt.date(2026, 4, 6))
        with pytest.raises(CommandError, match="not a time of day"):
            await set_calendar(ctx, OPERATOR, opens="seven")
        with pytest.raises(CommandError, match="unknown"):
            await set_calendar(ctx, OPERATOR, timezone="Mars/Olympus")
        with pytest.raises(CommandError, match="name: rule"):
            await set_calendar(ctx, OPERATOR, holidays=["01-01"])
        assert load_calendar(ctx.services.store).holidays == holidays  # refusals changed nothing
        ctx.services.store.close()
    asyncio.run(body())
    perms = {c.name: c.permission for c in commands()}
    assert perms == {"calendar.show": "read", "calendar.set": "administer"}
