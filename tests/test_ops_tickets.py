"""Trouble tickets: production-support seed 000 §12.3 (L35 severities, L41 tracking number and
disposition codes, L43-49 the four codes, L51 "Date TBD"), contract §10.2 (seed 003 L2060-2072: 1 hour /
2 Business Days, 30-minute status reports), §10.3 (L2084-2290 root-cause reports) and §21.3 (L3124:
correction within 30 / 60 days), on the §1.7 Business Day calendar."""
import asyncio
import datetime as dt
import re

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from appliance.ops.business_calendar import BusinessCalendar
from appliance.ops.commands import CommandError
from appliance.ops.ticket_rules import DISPOSITIONS, SEVERITIES, rca_schedule
from appliance.ops.tickets import close, commands, dispose, list_tickets, notice, open_ticket, rca, show
from tests.support.ops_store_rig import OPERATOR, store_context

CAL = BusinessCalendar()
CT = CAL.zone
MIN = 60_000
H = 60 * MIN
DAY = 24 * H
WED = int(dt.datetime(2026, 12, 23, 10, tzinfo=CT).timestamp() * 1000)  # Wednesday before Dec 24-25
MON = int(dt.datetime(2026, 3, 2, 10, tzinfo=CT).timestamp() * 1000)    # an ordinary Monday


def local_date(ms):
    return dt.datetime.fromtimestamp(ms / 1000, tz=CT).date()


def iso_date(text):
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).astimezone(CT).date()


@pytest.fixture
def ctx(tmp_path):
    context = store_context(tmp_path, MON)
    yield context
    context.services.store.close()


def run(coro):
    return asyncio.run(coro)


def at(ctx, ms):
    ctx.services.clock_ms.ms = ms


def test_tracking_number_is_given_at_once_L41(ctx):
    """"the Qwest IT Help Desk will assign an IT Trouble Ticket tracking number, which will be
    communicated to the CLEC at the time the CLEC reports the trouble" (L41); numbers are never reused."""
    first = run(open_ticket(ctx, OPERATOR, reporter="0001", severity=3, summary="audit results late"))
    second = run(open_ticket(ctx, OPERATOR, reporter="npac", severity="2", summary="LSMS broadcast slow",
                             affected_users="0001,0002"))
    assert re.fullmatch(r"TT2026-\d{6}", first["tracking"]) and first["tracking"] != second["tracking"]
    assert first["state"] == "open" and first["affected_users"] == ["0001"] and first["created_by"] == "oper1"
    assert second["reporter"] == "NPAC" and second["affected_users"] == ["0001", "0002"]
    assert first["notices"][0]["kind"] == "opened"
    assert run(show(ctx, OPERATOR, ticket=first["tracking"]))["summary"] == "audit results late"


@pytest.mark.parametrize("args,message", [
    ({"severity": 1, "summary": "x"}, "reporter"),
    ({"reporter": "0001", "summary": "x"}, "severity"),
    ({"reporter": "0001", "severity": 1}, "summary"),
    ({"reporter": "0001", "severity": 5, "summary": "x"}, "severity 5 is outside 1..4"),
    ({"reporter": "01", "severity": 1, "summary": "x"}, "reporter"),
    ({"reporter": "0001", "severity": 1, "summary": "x", "defect": "huge"}, "defect"),
])
def test_ticket_missing_or_bad_field_is_refused_in_one_line(ctx, args, message):
    with pytest.raises(CommandError) as err:
        run(open_ticket(ctx, OPERATOR, **args))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert ctx.services.store.select("trouble_tickets") == []


def test_severity_sets_defect_class_and_response_deadline_L2060_L2068(ctx):
    """Severities 1-2 are Material Defects (remedial effort within one hour), 3-4 Minor (within two
    Business Days, counted on the §1.7 calendar: Dec 24-25 and the weekend are skipped)."""
    assert [SEVERITIES[n].defect for n in (1, 2, 3, 4)] == ["material", "material", "minor", "minor"]
    at(ctx, WED)
    major = run(open_ticket(ctx, OPERATOR, reporter="0001", severity=1, summary="SOA associations refused"))
    minor = run(open_ticket(ctx, OPERATOR, reporter="0001", severity=4, summary="report header typo"))
    assert major["defect"] == "material" and minor["defect"] == "minor"
    assert major["response_due"] == "2026-12-23T17:00:00Z"  # 10:00 CST + 1 h
    assert iso_date(minor["response_due"]) == dt.date(2026, 12, 29)
    at(ctx, WED + H + MIN)
    assert "response" in run(show(ctx, OPERATOR, ticket=major["tracking"]))["overdue"]
    assert "response" not in run(show(ctx, OPERATOR, ticket=minor["tracking"]))["overdue"]
    not_defect = run(open_ticket(ctx, OPERATOR, reporter="0002", severity=4, summary="how to query", defect="none"))
    assert not_defect["response_due"] is None and not_defect["correction_due"] is None


def test_status_notices_every_30_minutes_for_material_defects_L2072(ctx):
    """§10.2: "updated system status reports ... approximately every 30 minutes"; the first notice is the
    response. A status notice brings the next one's due time forward."""
    t = run(open_ticket(ctx, OPERATOR, reporter="0002", severity=2, summary="modify requests time out"))
    assert t["next_status_due"] == "2026-03-02T16:30:00Z"
    at(ctx, MON + 31 * MIN)
    assert run(list_tickets(ctx, OPERATOR, overdue=True))[0]["overdue"] == ["status notice"]
    t = run(notice(ctx, OPERATOR, ticket=t["tracking"], text="fix under test"))
    assert t["responded"] == "2026-03-02T16:31:00Z" and t["overdue"] == []  # responded within the hour
    assert t["next_status_due"] == "2026-03-02T17:01:00Z"
    assert run(list_tickets(ctx, OPERATOR, overdue="no"))[0]["tracking"] == t["tracking"]


def test_minor_defect_status_notices_on_business_days(ctx):
    t = run(open_ticket(ctx, OPERATOR, reporter="0002", severity=3, summary="x"))
    assert iso_date(t["next_status_due"]) == dt.date(2026, 3, 3)
    t4 = run(open_ticket(ctx, OPERATOR, reporter="0002", severity=4, summary="y"))
    assert iso_date(t4["next_status_due"]) == dt.date(2026, 3, 9)


def test_date_tbd_keeps_the_ticket_open_without_status_notices_L51(ctx):
    """Severity 3 or 4 with the source identified but no schedule: "Date TBD", not closed; no more status
    notifications; listed (the CMP web-site list); a notice announcing the resolution takes it off the list."""
    t = run(open_ticket(ctx, OPERATOR, reporter="0003", severity=3, summary="wrong error text"))
    with pytest.raises(CommandError, match="source"):
        run(notice(ctx, OPERATOR, ticket=t["tracking"], text="known", date_tbd=True))
    t = run(notice(ctx, OPERATOR, ticket=t["tracking"], text="source found", date_tbd="yes",
                   source="message table entry 6012"))
    assert t["state"] == "date-tbd" and t["closed"] is None and t["next_status_due"] is None
    at(ctx, MON + 30 * DAY)
    assert "status notice" not in t["overdue"]
    assert [r["tracking"] for r in run(list_tickets(ctx, OPERATOR, state="date-tbd"))] == [t["tracking"]]
    with pytest.raises(CommandError, match="no status notices"):
        run(notice(ctx, OPERATOR, ticket=t["tracking"], text="still nothing"))
    t = run(notice(ctx, OPERATOR, ticket=t["tracking"], text="fixed in the April patch",
                   scheduled_for="2026-04-15", plan="Patch"))
    assert t["state"] == "open" and t["resolution_scheduled"] == "2026-04-15T00:00:00Z"
    assert t["notices"][-1]["kind"] == "scheduled" and run(list_tickets(ctx, OPERATOR, state="date-tbd")) == []


def test_date_tbd_only_for_severity_3_and_4_L51(ctx):
    t = run(open_ticket(ctx, OPERATOR, reporter="0003", severity=2, summary="x"))
    with pytest.raises(CommandError, match="only severity 3 and 4"):
        run(notice(ctx, OPERATOR, ticket=t["tracking"], text="later", date_tbd=True, source="y"))


def test_four_disposition_codes_and_closing_L41_L49(ctx):
    assert list(DISPOSITIONS.values()) == ["No Trouble Found", "Trouble to be Resolved in Patch",
                                           "CLEC Should Submit CMP CR", "Resolved"]
    t = run(open_ticket(ctx, OPERATOR, reporter="0001", severity=1, summary="x"))
    with pytest.raises(CommandError, match="no disposition code"):
        run(close(ctx, OPERATOR, ticket=t["tracking"]))
    with pytest.raises(CommandError, match="must be one of"):
        run(dispose(ctx, OPERATOR, ticket=t["tracking"], code="fixed"))
    with pytest.raises(CommandError, match="patch_date"):  # L45: "Qwest will provide a date"
        run(dispose(ctx, OPERATOR, ticket=t["tracking"], code="resolve-in-patch"))
    t = run(dispose(ctx, OPERATOR, ticket=t["tracking"], code="resolve-in-patch", patch_date="20260310000000"))
    assert t["state"] == "open" and t["patch_date"] == "2026-03-10T00:00:00Z"
    t = run(close(ctx, OPERATOR, ticket=t["tracking"]))
    assert t["state"] == "closed" and t["notices"][-1]["code"] == "resolve-in-patch"
    assert t["disposition_text"] == "Trouble to be Resolved in Patch" and t["next_status_due"] is None
    with pytest.raises(CommandError, match="closed"):
        run(notice(ctx, OPERATOR, ticket=t["tracking"], text="more"))
    other = run(open_ticket(ctx, OPERATOR, reporter="0002", severity=4, summary="y"))
    closed = run(close(ctx, OPERATOR, ticket=other["tracking"], code="submit-cmp-cr", text="a CMP CR is needed"))
    assert closed["disposition"] == "submit-cmp-cr" and closed["notices"][-2]["text"] == "a CMP CR is needed"
    with pytest.raises(CommandError, match="no trouble ticket"):
        run(show(ctx, OPERATOR, ticket="TT2026-999999"))


def test_correction_within_30_and_60_days_L3124(ctx):
    major = run(open_ticket(ctx, OPERATOR, reporter="0001", severity=2, summary="x"))
    minor = run(open_ticket(ctx, OPERATOR, reporter="0001", severity=3, summary="y"))
    assert major["correction_due"] == "2026-04-01T16:00:00Z" and minor["correction_due"] == "2026-05-01T16:00:00Z"
    at(ctx, MON + 31 * DAY)
    late = {r["tracking"]: r["overdue"] for r in run(list_tickets(ctx, OPERATOR, overdue=True))}
    assert "correction" in late[major["tracking"]] and "correction" not in late[minor["tracking"]]


def test_outage_root_cause_report_deadlines_L2098_L2290(ctx):
    """A Material Defect affecting more than one User is an Outage: Preliminary within 1 Business Day;
    Definitive or Interim within 5 BD of the Preliminary; follow-ups every 5 BD after the Interim;
    Termination no earlier than 12 days; Corrective Action Plan 10 BD after the Preliminary, Definitive
    plan 10 BD after the Definitive report."""
    single = run(open_ticket(ctx, OPERATOR, reporter="0001", severity=1, summary="one SOA"))
    assert single["root_cause_outage"] is False
    with pytest.raises(CommandError, match="not an Outage"):
        run(rca(ctx, OPERATOR, ticket=single["tracking"], report="preliminary"))
    t = run(open_ticket(ctx, OPERATOR, reporter="npac", severity=1, summary="broadcasts stopped",
                        affected_users=["0001", "0002", "0003"]))
    reports = {r["kind"]: r for r in t["root_cause_reports"]}
    assert iso_date(reports["preliminary"]["due"]) == dt.date(2026, 3, 3)
    assert iso_date(reports["definitive-or-interim"]["due"]) == dt.date(2026, 3, 10)  # 6 BD: none delivered yet
    assert iso_date(reports["corrective-action-plan"]["due"]) == dt.date(2026, 3, 17)
    assert reports["termination"]["earliest"] == "2026-03-14T16:00:00Z"
    at(ctx, MON + 4 * H)
    run(rca(ctx, OPERATOR, ticket=t["tracking"], report="preliminary"))
    t = run(show(ctx, OPERATOR, ticket=t["tracking"]))
    assert iso_date({r["kind"]: r for r in t["root_cause_reports"]}["definitive-or-interim"]["due"]) == dt.date(2026, 3, 9)
    at(ctx, MON + 7 * DAY)  # Monday 9th: interim delivered on its last day
    run(rca(ctx, OPERATOR, ticket=t["tracking"], report="interim"))
    at(ctx, MON + 15 * DAY)  # Tuesday 17th: the first follow-up (due Monday 16th) was missed
    t = run(show(ctx, OPERATOR, ticket=t["tracking"]))
    follow = [r for r in t["root_cause_reports"] if r["kind"] == "follow-up"]
    assert [iso_date(r["due"]) for r in follow] == [dt.date(2026, 3, 16), dt.date(2026, 3, 23)]
    assert [r["overdue"] for r in follow] == [True, False] and "follow-up report" in t["overdue"]
    with pytest.raises(CommandError, match="no earlier than 12 days"):
        run(rca(ctx, OPERATOR, ticket=t["tracking"], report="termination", at="2026-03-13T00:00:00Z"))
    run(rca(ctx, OPERATOR, ticket=t["tracking"], report="corrective-action-plan"))
    run(rca(ctx, OPERATOR, ticket=t["tracking"], report="definitive"))
    t = run(show(ctx, OPERATOR, ticket=t["tracking"]))
    kinds = {r["kind"]: r for r in t["root_cause_reports"]}
    assert iso_date(kinds["definitive-corrective-action-plan"]["due"]) == dt.date(2026, 3, 31)
    assert [iso_date(r["due"]) for r in t["root_cause_reports"] if r["kind"] == "follow-up"] == [dt.date(2026, 3, 16)]
    with pytest.raises(CommandError, match="already recorded"):
        run(rca(ctx, OPERATOR, ticket=t["tracking"], report="definitive"))


DETECTIONS = st.integers(int(dt.datetime(2025, 1, 1).timestamp() * 1000), int(dt.datetime(2030, 1, 1).timestamp() * 1000))


@settings(max_examples=40, deadline=None)
@given(DETECTIONS, st.integers(0, 10 * DAY), st.integers(0, 60 * DAY), st.booleans())
def test_property_rca_schedule(detected, prelim_after, now_after, deliver_prelim):
    """Every deadline ends a Business Day; the second report is never later than 6 BD after detection;
    follow-ups are 5 BD apart and only one not-yet-due follow-up is listed."""
    delivered = {"preliminary": detected + prelim_after} if deliver_prelim else {}
    now = detected + now_after
    reports = rca_schedule(detected, delivered, now, CAL)
    for r in reports:
        if r.due_ms is not None:
            day = local_date(r.due_ms)
            assert CAL.is_business_day(day) and r.due_ms == CAL.end_of_day_ms(day)
    second = next(r for r in reports if r.kind in ("definitive-or-interim", "interim", "definitive"))
    assert second.due_ms <= CAL.add_business_days(detected, 6)
    follow = [r for r in reports if r.kind == "follow-up"]
    for a, b in zip(follow, follow[1:]):
        assert b.due_ms == CAL.add_business_days(a.due_ms, 5)
    assert sum(1 for r in follow if r.due_ms > now) <= 1
    if follow:
        assert follow[0].due_ms == CAL.add_business_days(second.due_ms, 5)


class TicketMachine(RuleBasedStateMachine):
    """Any sequence of console actions keeps the seed's rules: closed only with a disposition code;
    Date TBD only for severity 3-4 and never closed by it; no status notice owed unless open; a refused
    action changes nothing."""

    def __init__(self):
        super().__init__()
        self.loop = asyncio.new_event_loop()

    @initialize(severity=st.integers(1, 4))
    def start(self, severity):
        import tempfile
        from pathlib import Path
        self.tmp = tempfile.TemporaryDirectory()
        self.ctx = store_context(Path(self.tmp.name), MON)
        self.tracking = self.act(open_ticket, reporter="0001", severity=severity, summary="trouble")["tracking"]

    def act(self, fn, **args):
        return self.loop.run_until_complete(fn(self.ctx, OPERATOR, **args))

    def row(self):
        return self.ctx.services.store.select("trouble_tickets")[0]

    def attempt(self, fn, **args):
        before = self.row()
        try:
            self.act(fn, ticket=self.tracking, **args)
        except CommandError:
            assert self.row() == before

    @rule(minutes=st.integers(0, 3000))
    def wait(self, minutes):
        self.ctx.services.clock_ms.ms += minutes * MIN

    @rule()
    def status(self):
        self.attempt(notice, text="status")

    @rule()
    def date_tbd(self):
        self.attempt(notice, text="tbd", date_tbd=True, source="found")

    @rule()
    def schedule(self):
        self.attempt(notice, text="scheduled", scheduled_for="2026-06-01", plan="Release")

    @rule(code=st.sampled_from([*DISPOSITIONS, "bogus"]))
    def dispose_(self, code):
        self.attempt(dispose, code=code, patch_date="2026-05-01")

    @rule()
    def close_(self):
        self.attempt(close)

    @invariant()
    def rules_hold(self):
        if not hasattr(self, "ctx"):
            return
        r = self.row()
        assert r["state"] != "closed" or r["disposition"] in DISPOSITIONS
        assert r["state"] != "date-tbd" or r["severity"] in (3, 4)
        assert (r["state"] == "closed") == (r["closed_ms"] is not None)
        view = self.act(show, ticket=self.tracking)
        assert (view["next_status_due"] is not None) == (r["state"] == "open")

    def teardown(self):
        if hasattr(self, "ctx"):
            self.ctx.services.store.close()
            self.tmp.cleanup()
        self.loop.close()


TicketMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=12, deadline=None)
test_ticket_state_machine = TicketMachine.TestCase


def test_ticket_commands_and_permissions():
    perms = {c.name: c.permission for c in commands()}
    assert perms == {"ticket.open": "operate", "ticket.notice": "operate", "ticket.dispose": "operate",
                     "ticket.close": "operate", "ticket.rca": "operate", "ticket.list": "read", "ticket.show": "read"}


def test_ticket_commands_through_the_console_dispatcher(ctx):
    """Served on the control socket: an auditor (read) may list but not open tickets; an operator's
    ticket.open is recorded in the security audit log (FRS §7: who did what)."""
    import random

    from appliance.ops.commands import control_handlers
    from appliance.ops.passwords import Hasher
    from appliance.ops.users import Users

    async def body():
        users = Users(ctx.services.store, ctx.services.writer, ctx.services.clock_ms, ctx.security_log,
                      random.Random(7), hasher=Hasher(n=16, r=1, p=1))
        ctx.users = users
        await users.init_admin("admin", "Adm1n!pass")
        admin = users.authorize((await users.login("admin", "Adm1n!pass", "tty1")).token, "administer")
        tokens = {}
        for user_id, role, password in (("oper1", "operator", "W0rk!shift"), ("aud1", "auditor", "Ch3ck&look")):
            temp = (await users.add_user(admin, user_id, role))["password"]
            tokens[user_id] = (await users.login(user_id, temp, f"tty-{user_id}", new_password=password)).token
        handlers = control_handlers(ctx, commands())
        with pytest.raises(CommandError, match="may not operate"):
            await handlers["ticket.open"](session=tokens["aud1"], reporter="0001", severity=2, summary="x")
        opened = await handlers["ticket.open"](session=tokens["oper1"], reporter="0001", severity=2, summary="x")
        assert opened["created_by"] == "oper1"
        listed = await handlers["ticket.list"](session=tokens["aud1"])
        assert [t["tracking"] for t in listed] == [opened["tracking"]]
        actions = [r for r in ctx.security_log.records() if r["event"] == "operator-action"]
        assert [(a["user"], a["command"]) for a in actions] == [("oper1", "ticket.open")]
    run(body())
