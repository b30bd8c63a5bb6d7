"""Planned outages: the notice fields of production-support seed 000 §12.1 (L7-21), the lead times of
Exhibit G SLR 21 (seed 003 L86878-86910), the limits of SLR 2 (L86378-86402: 20 h per quarter excluding
non-routine tasks, no event over 10 h), and the notice reaching every Local SMS and then every SOA as
lnpNPAC-SMS-Operational-Information over CMIP (IIS flow 6.6)."""
import asyncio
import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from appliance.lnp.values import gtime
from appliance.npac.downtime import DowntimeNotices
from appliance.ops.business_calendar import BusinessCalendar
from appliance.ops.commands import CommandError
from appliance.ops.outage_rules import (
    EVENT_LIMIT_MS, TRANSITIONS, OutageNotice, OutageRuleError, annex_a, lead_time, quarter_bounds, quarter_of, quarter_totals)
from appliance.ops.outages import cancel, commands, complete, create, list_outages, notify, show, start, totals
from tests.support.npac_rig import T0, start_npac
from tests.support.ops_store_rig import OPERATOR, Live, store_context
from appliance.ops.context import OpsContext

CAL = BusinessCalendar()
CT = CAL.zone
H = 3_600_000
DAY = 24 * H
MON = int(dt.datetime(2026, 3, 2, 10, tzinfo=CT).timestamp() * 1000)


def ct(year, month, day, hour=0):
    return int(dt.datetime(year, month, day, hour, tzinfo=CT).timestamp() * 1000)


def iso(ms):
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fields(start_ms, hours=4, **over):
    base = {"interface": "SOA and LSMS CMIP interfaces", "description": "database server firmware upgrade",
            "impact": "no porting or queries nationwide", "start": iso(start_ms), "stop": iso(start_ms + hours * H),
            "workaround": "none", "contact_name": "NPAC help desk", "contact_number": "888-672-2435"}
    return {**base, **over}


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def ctx(tmp_path):
    """A node whose downtime-notice sender has no carrier associated (the carrier path is tested below)."""
    context = store_context(tmp_path, MON)
    services = context.services
    services.installed.append(SimpleNamespace(downtime=DowntimeNotices(
        services.writer, services.store, SimpleNamespace(connections=[]), services.clock_ms)))
    yield context
    services.store.close()


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


# ---- the notice --------------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["interface", "description", "impact", "start", "stop", "workaround",
                                     "contact_name", "contact_number"])
def test_notice_missing_a_section_12_1_field_is_refused_L9_L19(ctx, missing):
    """Each bullet of §12.1 (interface, activity, impact, date and start/stop times, work around, contact)
    must be in the notice; the refusal is one line naming the field, and nothing is recorded."""
    args = fields(MON + 20 * DAY)
    args[missing] = "" if missing != "start" else None
    with pytest.raises(CommandError) as err:
        run(create(ctx, OPERATOR, **args))
    assert missing in str(err.value) and "\n" not in str(err.value)
    assert ctx.services.store.select("planned_outages") == []


@pytest.mark.parametrize("over,message", [
    ({"contact_number": "12345"}, "10 digits"),
    ({"maintenance": "urgent"}, "routine, non-routine"),
    ({"start": "tomorrow"}, "not a GMT time"),
    ({"impact": "caf\u00e9 closed"}, "printable ASCII"),
    ({"description": "x" * 190, "impact": "y" * 190}, "at most 255"),
    ({"colour": "red"}, "unknown argument 'colour'"),
])
def test_bad_notice_input_is_refused_in_one_line(ctx, over, message):
    with pytest.raises(CommandError) as err:
        run(create(ctx, OPERATOR, **{**fields(MON + 20 * DAY), **over}))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_an_event_over_10_hours_is_refused_L86378():
    """SLR 2: "No Scheduled Service Unavailability event shall exceed ten (10) hours"."""
    with pytest.raises(OutageRuleError, match="exceeds the 10 h"):
        OutageNotice("i", "d", "x", MON, MON + EVENT_LIMIT_MS + 1, "none", "desk", "8886722435")
    assert OutageNotice("i", "d", "x", MON, MON + EVENT_LIMIT_MS, "none", "desk", "8886722435")


# ---- SLR 21 lead times -------------------------------------------------------------------------------
def notice(start_ms, hours=4, maintenance="routine"):
    return OutageNotice("i", "d", "x", start_ms, start_ms + hours * H, "none", "desk", "8886722435", maintenance)


def test_routine_notice_two_weeks_ahead_L86882():
    start_ = ct(2026, 3, 21, 1)  # a Saturday night
    assert lead_time(notice(start_), start_ - 14 * DAY, CAL).met
    late = lead_time(notice(start_), start_ - 14 * DAY + 1, CAL)
    assert not late.met and late.short_by_ms == 1 and "2 weeks" in late.rule


def test_non_routine_notice_7_days_in_business_hours_24_hours_outside_L86886_L86890():
    weekday_noon = ct(2026, 3, 18, 12)
    overnight = ct(2026, 3, 18, 20)   # 20:00-24:00 Central: outside 07:00-19:00
    saturday = ct(2026, 3, 21, 9)
    evening_into_hours = ct(2026, 3, 18, 16)  # 16:00-20:00 touches business hours
    assert lead_time(notice(weekday_noon, maintenance="non-routine"), weekday_noon - 7 * DAY, CAL).met
    assert not lead_time(notice(weekday_noon, maintenance="non-routine"), weekday_noon - 7 * DAY + 1, CAL).met
    for start_ in (overnight, saturday):
        assert lead_time(notice(start_, maintenance="non-routine"), start_ - DAY, CAL).met
        assert not lead_time(notice(start_, maintenance="non-routine"), start_ - DAY + 1, CAL).met
    assert lead_time(notice(evening_into_hours, maintenance="non-routine"), evening_into_hours - DAY, CAL).required_ms == 7 * DAY
    holiday = ct(2026, 12, 24, 12)  # December 24 is not a Business Day (§1.7), so not business hours
    assert lead_time(notice(holiday, maintenance="non-routine"), holiday - DAY, CAL).met


@settings(max_examples=50, deadline=None)
@given(st.integers(ct(2026, 1, 1), ct(2028, 1, 1)), st.integers(1, 10), st.sampled_from(["routine", "non-routine"]),
       st.integers(0, 20 * DAY))
def test_property_lead_time_is_a_threshold(start_, hours, maintenance, ahead):
    """Met exactly when the notice precedes the start by the required lead; the required lead is one of
    SLR 21's three values."""
    n = notice(start_, hours, maintenance)
    lead = lead_time(n, start_ - ahead, CAL)
    assert lead.required_ms in (14 * DAY, 7 * DAY, DAY)
    assert lead.met == (ahead >= lead.required_ms) and lead.short_by_ms == max(0, lead.required_ms - ahead)
    assert (lead.required_ms == 14 * DAY) == (maintenance == "routine")


def test_late_notice_is_refused_unless_a_reason_is_given(ctx):
    with pytest.raises(CommandError, match="short of routine maintenance: 2 weeks"):
        run(create(ctx, OPERATOR, **fields(MON + 3 * DAY)))
    row = run(create(ctx, OPERATOR, **fields(MON + 3 * DAY), late_reason="vendor security fix"))
    assert row["lead_met"] is False and row["late_reason"] == "vendor security fix"
    assert row["state"] == "notified" and row["lead_required_hours"] == 14 * 24


# ---- states and SLR 2 totals --------------------------------------------------------------------------
def test_states_and_actual_times(ctx):
    """scheduled -> notified -> started -> completed; cancelled before the start; the actual start and
    stop are recorded as the operator reports them."""
    row = run(create(ctx, OPERATOR, **fields(MON + 15 * DAY)))
    assert row["state"] == "notified" and row["notice"] == iso(MON) and row["created_by"] == "oper1"
    assert row["sent_within_2_days_of_scheduling"] is True and row["deliveries"] == []
    with pytest.raises(CommandError, match="notified; it cannot become completed"):
        run(complete(ctx, OPERATOR, outage=row["outage_id"]))
    started = run(start(ctx, OPERATOR, outage=row["outage_id"], at=iso(MON + 15 * DAY + 60_000)))
    assert started["state"] == "started" and started["actual_start"] == iso(MON + 15 * DAY + 60_000)
    with pytest.raises(CommandError, match="cannot end before it started"):
        run(complete(ctx, OPERATOR, outage=row["outage_id"], at=iso(MON)))
    with pytest.raises(CommandError, match="started; it cannot become cancelled"):
        run(cancel(ctx, OPERATOR, outage=row["outage_id"], reason="changed our minds"))
    done = run(complete(ctx, OPERATOR, outage=row["outage_id"], at=iso(MON + 15 * DAY + 3 * H)))
    assert done["state"] == "completed" and done["actual_hours"] == pytest.approx(2.983, abs=0.001)
    other = run(create(ctx, OPERATOR, **fields(MON + 16 * DAY)))
    with pytest.raises(CommandError, match="reason"):
        run(cancel(ctx, OPERATOR, outage=other["outage_id"]))
    gone = run(cancel(ctx, OPERATOR, outage=other["outage_id"], reason="moved to April"))
    assert gone["state"] == "cancelled" and gone["cancel_reason"] == "moved to April"
    with pytest.raises(CommandError, match="no longer sent"):
        run(notify(ctx, OPERATOR, outage=other["outage_id"]))
    assert [o["state"] for o in run(list_outages(ctx, OPERATOR))] == ["completed", "cancelled"]
    assert [o["outage"] for o in run(list_outages(ctx, OPERATOR, state="cancelled"))] == [other["outage_id"]]
    with pytest.raises(CommandError, match="no outage 99"):
        run(show(ctx, OPERATOR, outage=99))


def test_quarter_totals_against_slr_2_L86378_L86402(ctx):
    """20 h per calendar quarter of routine Scheduled Service Unavailability; non-routine tasks are
    excluded but reported; time beyond the approved window is charged per hour or part hour."""
    ids = []
    for n in range(3):  # three routine 8 h windows, 24 h in all: over the quarter's 20 h once taken
        ids.append(run(create(ctx, OPERATOR, **fields(MON + (15 + n) * DAY, hours=8)))["outage_id"])
    ids.append(run(create(ctx, OPERATOR, **fields(MON + 20 * DAY, hours=6, maintenance="non-routine")))["outage_id"])
    q = run(totals(ctx, OPERATOR))
    assert q["quarter"] == "2026-Q1" and q["routine_hours"] == 0 and q["planned_routine_hours"] == 24
    assert q["projected_breach"] is True and q["breach"] is False and q["non_routine_hours"] == 6
    for n, outage in enumerate(ids[:2]):
        begin = MON + (15 + n) * DAY
        run(start(ctx, OPERATOR, outage=outage, at=iso(begin)))
        run(complete(ctx, OPERATOR, outage=outage, at=iso(begin + 8 * H)))
    run(start(ctx, OPERATOR, outage=ids[2], at=iso(MON + 17 * DAY)))
    run(complete(ctx, OPERATOR, outage=ids[2], at=iso(MON + 17 * DAY + 9 * H + 60_000)))  # 1 h 1 min over
    q = run(totals(ctx, OPERATOR, year=2026, quarter=1))
    assert q["routine_hours"] == pytest.approx(25.017, abs=0.001) and q["breach"] is True
    assert q["excess_charged_hours"] == 6  # 5 h 1 min beyond 20 h: six hours or portions thereof
    over = next(e for e in q["events"] if e["outage"] == ids[2])
    assert over["overrun_charged_hours"] == 2 and not over["over_10h"]
    assert run(totals(ctx, OPERATOR, year=2026, quarter=2))["routine_hours"] == 0
    with pytest.raises(CommandError, match="quarter 5 is outside 1..4"):
        run(totals(ctx, OPERATOR, quarter=5))


def test_event_running_past_10_hours_is_flagged_and_split_across_quarters():
    start_ = int(dt.datetime(2026, 3, 31, 20, tzinfo=dt.timezone.utc).timestamp() * 1000)
    row = {"outage_id": 7, "state": "completed", "maintenance": "routine", "start_ms": start_,
           "stop_ms": start_ + 8 * H, "actual_start_ms": start_, "actual_stop_ms": start_ + 11 * H}
    q1, q2 = quarter_totals([row], 2026, 1, start_ + DAY), quarter_totals([row], 2026, 2, start_ + DAY)
    assert q1["routine_hours"] == 4 and q2["routine_hours"] == 7
    assert q1["events_over_10h"] == [7] == q2["events_over_10h"]
    running = {**row, "state": "started", "actual_stop_ms": None}
    assert quarter_totals([running], 2026, 2, start_ + 5 * H)["routine_hours"] == 1


def test_annex_a_request_10_business_days_before_report_4_after_L86386(ctx):
    """SLR 2: the request for maintenance "not less than ten (10) business days prior to", the report "not
    less than four (4) business days after" each event (both apply besides SLR 21's notice)."""
    begin = ct(2026, 3, 21, 1)  # Saturday; the 10th Business Day before is Monday 9 March
    row = {"start_ms": begin, "stop_ms": begin + 4 * H, "scheduled_ms": ct(2026, 3, 9, 18), "actual_stop_ms": None}
    assert annex_a(row, CAL) == {"request_by": "2026-03-09", "request_met": True}
    assert annex_a({**row, "scheduled_ms": ct(2026, 3, 10, 8)}, CAL)["request_met"] is False
    done = annex_a({**row, "actual_stop_ms": begin + 4 * H}, CAL)
    assert CAL.local_date(done["report_due_ms"]) == dt.date(2026, 3, 26)
    shown = run(create(ctx, OPERATOR, **fields(MON + 15 * DAY)))
    assert shown["slr2_request_by"] == "2026-03-03" and shown["slr2_request_met"] is True
    assert shown["slr2_report_due"] is None


@given(st.integers(0, 2 ** 41))
def test_property_quarters_tile_time(ms):
    year, q = quarter_of(ms)
    first, last = quarter_bounds(year, q)
    assert first <= ms < last


class OutageMachine(RuleBasedStateMachine):
    """Any sequence of console actions on one outage keeps to the state table: a refused action changes
    nothing; an outage never started has no actual times; a completed one ended after it started; a
    cancelled one never started."""

    def __init__(self):
        super().__init__()
        self.loop = asyncio.new_event_loop()

    @initialize()
    def schedule(self):
        import tempfile
        from pathlib import Path
        self.tmp = tempfile.TemporaryDirectory()
        self.ctx = store_context(Path(self.tmp.name), MON)
        services = self.ctx.services
        services.installed.append(SimpleNamespace(downtime=DowntimeNotices(
            services.writer, services.store, SimpleNamespace(connections=[]), services.clock_ms)))
        self.id = self.act(create, **fields(MON + 15 * DAY))["outage_id"]
        self.history = ["notified"]

    def act(self, fn, **args):
        return self.loop.run_until_complete(fn(self.ctx, OPERATOR, **args))

    def row(self):
        return self.ctx.services.store.get("planned_outages", self.id)

    def attempt(self, fn, **args):
        before = self.row()
        try:
            after = self.act(fn, outage=self.id, **args)
        except CommandError:
            assert self.row() == before
            return
        assert after["state"] in TRANSITIONS[before["state"]]
        self.history.append(after["state"])

    @rule(hours=st.integers(0, 12))
    def wait(self, hours):
        self.ctx.services.clock_ms.ms += hours * H

    @rule()
    def start_(self):
        self.attempt(start)

    @rule()
    def complete_(self):
        self.attempt(complete)

    @rule()
    def cancel_(self):
        self.attempt(cancel, reason="moved")

    @rule()
    def notify_(self):
        self.attempt(notify)

    @invariant()
    def consistent(self):
        if not hasattr(self, "ctx"):
            return
        r = self.row()
        assert (r["actual_start_ms"] is None) == (r["state"] in ("notified", "cancelled"))
        assert (r["actual_stop_ms"] is not None) == (r["state"] == "completed")
        if r["state"] == "completed":
            assert r["actual_stop_ms"] >= r["actual_start_ms"]
        assert ("cancelled" in self.history) <= ("started" not in self.history)

    def teardown(self):
        if hasattr(self, "ctx"):
            self.ctx.services.store.close()
            self.tmp.cleanup()
        self.loop.close()


OutageMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=10, deadline=None)
test_outage_state_machine = OutageMachine.TestCase


# ---- end to end: the notice over CMIP -----------------------------------------------------------------
def test_outage_notice_reaches_every_lsms_then_every_soa_over_cmip(tmp_path, keys_dir):
    """Created through the console handler, the notice goes as a signed, confirmed
    lnpNPAC-SMS-Operational-Information to the three associated LSMSs first and then to the SOAs (flow
    6.6 c-f), carrying the down time, the contact number and the other §12.1 fields in its text; a
    cancellation is announced the same way."""
    async def body():
        rig = await start_npac(tmp_path, keys_dir, "lsms")
        try:
            soas = [await rig.soa(sp) for sp in ("0001", "0002")]
            ctx = OpsContext(config=None, live=Live(rig.services), security_log=None)  # type: ignore[arg-type]
            begin = T0 + 20 * DAY
            row = await create(ctx, OPERATOR, **fields(begin, hours=5, interface="LSMS CMIP interface"))
            deliveries = row["deliveries"]
            assert [d["role"] for d in deliveries] == ["lsms"] * 3 + ["soa"] * 2
            assert {d["system_id"] for d in deliveries[:3]} == {"0001", "0002", "0003"}
            assert all(d["confirmed"] for d in deliveries) and row["state"] == "notified"
            for sim in rig.lsms.values():
                name, info = sim.notifications[-1]
                assert name == "lnpNPAC-SMS-Operational-Information"
                assert info["down-time"] == {"startTime": gtime(begin), "stopTime": gtime(begin + 5 * H)}
                assert info["npac-contact-number"] == "8886722435"
            text = rig.lsms["0003"].notifications[-1][1]["additional-down-time-information"]
            for part in ("LSMS CMIP interface", "database server firmware upgrade", "no porting or queries",
                         "Workaround: none", "NPAC help desk", "routine"):
                assert part in text
            got = [await soa.wait_for("lnpNPAC-SMS-Operational-Information") for soa in soas]
            assert all(g[0].info["npac-contact-number"] == "8886722435" for g in got)
            stored = await show(ctx, OPERATOR, outage=row["outage_id"])
            assert stored["deliveries"] == deliveries
            rig.clock.advance(H)  # a second send adds its deliveries; SLR 21 keeps measuring the first
            again = await notify(ctx, OPERATOR, outage=row["outage_id"])
            assert len(again["deliveries"]) == 10 and again["notice"] == row["notice"] == iso(T0)
            await soas[0].wait_for("lnpNPAC-SMS-Operational-Information", count=2)
            await cancel(ctx, OPERATOR, outage=row["outage_id"], reason="vendor postponed")
            cancelled = rig.lsms["0001"].notifications[-1][1]["additional-down-time-information"]
            assert cancelled.startswith(f"CANCELLED: Outage {row['outage_id']}")
            await soas[1].wait_for("lnpNPAC-SMS-Operational-Information", count=3)
        finally:
            await rig.close()
    asyncio.run(asyncio.wait_for(body(), 60))


def test_outage_commands_and_permissions():
    perms = {c.name: c.permission for c in commands()}
    assert perms == {"outage.create": "operate", "outage.notify": "operate", "outage.cancel": "operate",
                     "outage.start": "operate", "outage.complete": "operate", "outage.list": "read",
                     "outage.show": "read", "outage.totals": "read"}
