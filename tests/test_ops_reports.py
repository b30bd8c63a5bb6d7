"""Exhibit G / Exhibit H reports computed from a recorded run (tests.support.report_run): every figure
of the monthly report is checked against what the run injected through the meters, then the
quarterly and year-to-date variants, the prior-period comparison, the renderers and the console
commands."""
from __future__ import annotations

import asyncio
import csv
import io
import json
from types import SimpleNamespace

import pytest

from appliance.ops.commands import CommandError
from appliance.ops.reports import commands, make_report
from appliance.ops.reports.build import Sources, build
from appliance.ops.reports.periods import Period, PeriodError
from appliance.ops.reports.render_csv import render_csv
from appliance.ops.reports.render_text import render_text
from appliance.ops.reports.service_levels import notice_required_ms
from tests.support.meter_rig import ms
from tests.support.report_run import APRIL, AVAILABILITY, HOUR, INTERFACE_0001, MARCH, record_month


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("month")
    services, clock, log = asyncio.run(record_month(tmp))
    yield SimpleNamespace(services=services, store=services.store, now=clock(), log=log, tmp=tmp)
    services.close()


@pytest.fixture(scope="module")
def march(run):
    return build("management", Sources(run.store, run.tmp, run.log), Period.month(2026, 3), run.now)


def slr(report, number: str) -> dict:
    section = report.section("exhibit-g")
    row = next(r for r in section.rows if r[0] == number)
    return dict(zip(section.columns, row))


def rows(report, section_id: str) -> list[dict]:
    s = report.section(section_id)
    return [dict(zip(s.columns, r)) for r in s.rows]


# ---- Exhibit G, every figure -------------------------------------------------------------------
def test_slr1_service_availability_excludes_scheduled_time(march):
    """G(a) L86281, SLR 1 L86340: 30 min unscheduled down over March less 2 h scheduled -> 99.9328 %, met."""
    row = slr(march, "1")
    assert row["measured"] == f"{AVAILABILITY:.3f} % (30.0 min unavailable)" and row["status"] == "met"
    (service, *_) = rows(march, "availability")
    assert service["measured s"] == (APRIL - MARCH - 2 * HOUR) // 1000
    assert (service["scheduled s"], service["unavailable s"]) == (7200, 1800)
    assert service["availability %"] == f"{AVAILABILITY:.4f}"


def test_slr7_interface_availability_per_user(march):
    """G(b) L86285, SLR 7 L86508: 0001 lost its association for 1 h (99.865 %, missed); the service
    outage and scheduled time do not count against it; 0002 never dropped."""
    row = slr(march, "7")
    assert row["measured"] == f"0001 {INTERFACE_0001:.3f} %, 0002 100.000 %" and row["status"] == "missed"
    by_scope = {r["scope"]: r for r in rows(march, "availability")}
    assert by_scope["interface 0001"]["unavailable s"] == 3600
    assert by_scope["interface 0001"]["availability %"] == f"{INTERFACE_0001:.4f}"
    assert by_scope["interface 0002"]["availability %"] == "100.0000"


def test_slr3_p95_acknowledgement_leaves_out_queries_and_edits(march):
    """SLR 3 L86404: 90 actions at 200 ms and 10 at 2 500 ms -> p95 2 500 ms (met); the 10 queries of
    5 s and 2 refused edits are not in it."""
    row = slr(march, "3")
    assert row["measured"] == "p95 2500 ms over 100 transactions" and row["status"] == "met"


def test_slr4_mean_broadcast_time_of_activations(march):
    """SLR 4 L86430: activations of 30 s and 50 s -> mean 40 s (met); the 90 s modify is shown apart."""
    row = slr(march, "4")
    assert row["measured"] == "mean 40.000 s over 2" and row["status"] == "met"
    kinds = {r["broadcast kind"]: r for r in rows(march, "RP9-4.11")}
    assert kinds["activate"]["broadcasts"] == 2 and kinds["activate"]["mean broadcast time (ms)"] == 40000.0
    assert kinds["modify"]["mean broadcast time (ms)"] == 90000.0


def test_slr5_and_6_rates_per_user(march):
    """SLR 5 L86456, SLR 6 L86482: 90 % of 0001's actions within 500 ms (missed: 95 % needed); 80 % of
    the requests to LSMS 0002 within 100 ms (missed); rates while busy and the busiest second."""
    assert slr(march, "5")["status"] == "missed" and "lowest share within 500 ms 90.00 %" in slr(march, "5")["measured"]
    assert slr(march, "6")["status"] == "missed" and "lowest share within 100 ms 80.00 %" in slr(march, "6")["measured"]
    by = {(r["system"], r["interface"]): r for r in rows(march, "rates")}
    soa, lsms = by[("0001", "SOA")], by[("0002", "LSMS")]
    # the 100 actions answered back to back from 10:00:00.000: the seconds in which answers went out
    t, seconds = 0, set()
    for took in [200] * 90 + [2500] * 10:
        t += took
        seconds.add(t // 1000)
    assert soa["transactions"] == 100 and soa["% within 1/required s"] == "90.00" and soa["p95 ms"] == 2500
    assert soa["TPS while busy"] == round(100 / len(seconds), 3) and soa["errors"] == 2
    assert soa["busiest second"] == 5  # five 200 ms actions answered within one second
    assert lsms["transactions"] == 50 and lsms["% within 1/required s"] == "80.00" and lsms["p95 ms"] == 150
    # the requests to 0002 follow the SOA's 112 requests (93.1 s): answers per second from there
    t, per_second = 90 * 200 + 10 * 2500 + 10 * 5000 + 2 * 50, {}
    for took in [40] * 40 + [150] * 10:
        t += took
        per_second[t // 1000] = per_second.get(t // 1000, 0) + 1
    assert lsms["busiest second"] == max(per_second.values()) == 22
    assert lsms["TPS while busy"] == round(50 / len(per_second), 3)


def test_slr2_8_9_10_and_notices(march):
    """SLR 2 (2 h scheduled in the quarter), SLR 8 (6 min cutover), SLR 9 (20 h partial restoral),
    SLR 10 (none), SLR 21 (19 days' notice for routine work), SLR 22 (notified after 10 min), SLR 23
    (longest gap between updates 15 min)."""
    assert (slr(march, "2")["measured"], slr(march, "2")["status"]) == (
        "2.00 h in the quarter, longest 2.00 h, 1 events", "met")
    assert (slr(march, "8")["measured"], slr(march, "8")["status"]) == ("1 events, longest 6.0 min", "met")
    assert (slr(march, "9")["measured"], slr(march, "9")["status"]) == ("1 events, longest 1200.0 min", "met")
    assert slr(march, "10")["measured"] == "no events"
    assert (slr(march, "21")["measured"], slr(march, "21")["status"]) == ("1 scheduled, 0 notified late", "met")
    assert (slr(march, "22")["measured"], slr(march, "22")["status"]) == ("1 unscheduled, 0 notified late", "met")
    assert (slr(march, "23")["measured"], slr(march, "23")["status"]) == ("longest gap 15.0 min", "met")
    outages = rows(march, "outages")
    assert [(o["type"], o["start (GMT)"], o["end (GMT)"]) for o in outages] == [
        ("unscheduled", "2026-03-10 12:00:00", "2026-03-10 12:30:00"),
        ("scheduled", "2026-03-20 02:00:00", "2026-03-20 04:00:00")]
    assert [(c["event"], c["minutes"]) for c in rows(march, "cutovers")] == [("cutover", 6.0), ("restoral-partial", 1200.0)]


def test_slr18_security_and_operations_rows(march):
    """SLR 18 L86800: 2 invalid access attempts in March (a sequence violation, a refused
    association), the audit log chain intact; SLR 12/14/15/19 are help-desk records."""
    row = slr(march, "18")
    assert row["measured"].startswith("2 invalid access attempts recorded") and row["status"] == "met"
    assert {slr(march, n)["status"] for n in ("12", "14", "15", "19")} == {"not measured by the node"}
    attempts = rows(march, "RP9-5.20")
    assert [(a["event"], a["system / user"]) for a in attempts] == [("security-violation", "0001"),
                                                                    ("association-refused", "0007")]
    log = {r["event"]: r["records"] for r in rows(march, "RP9-5.19")}
    assert log == {"security-violation": 1, "association-refused": 1, "association-established": 1,
                   "operator-action": 1}


def test_prior_period_comparison(march):
    """Exhibit H monthly report: each SLR beside the prior month (February: 20 actions of 300 ms)."""
    row = slr(march, "3")
    assert row["prior measured"] == "p95 300 ms over 20 transactions" and row["change"] == "+2200.000"
    assert slr(march, "1")["prior measured"] == "100.000 % (0.0 min unavailable)"
    assert slr(march, "18")["prior measured"].startswith("1 invalid access attempts")
    assert march.compared_with == "2026-02"


def test_usage_counts_per_user_for_billing(march):
    """Exhibit E TN Porting Event, Exhibit K Table 8 SV transactions and associations per customer."""
    usage = {(r["NPAC customer"], r["service element"], r["subtype"]): r["quantity"] for r in rows(march, "usage")}
    assert usage == {("0001", "Mechanized Interface", "association"): 3, ("0001", "SV transactions", "activate"): 3,
                     ("0001", "SV transactions", "create"): 2, ("0001", "TN Porting Event", ""): 3,
                     ("0002", "Mechanized Interface", "association"): 2, ("0001", "Bulk Data Download", ""): 1}
    assert [(r["SPID"], r["transaction"], r["TNs"]) for r in rows(march, "RP9-6.25")] == [
        ("0001", "activate", 3), ("0001", "create", 2)]


def test_problems_top10_and_changes(march):
    """Exhibit H monthly items (3) changes, (4) problems, (5) Top 10 trouble reports (L87521)."""
    assert [(t["rank"], t["trouble report"], t["count"]) for t in rows(march, "top10")] == [
        (1, "LSMS timeout", 3), (2, "login refused", 1)]
    assert [(p["ticket"], p["defect"]) for p in rows(march, "problems")] == [("T-4", "software")]
    assert [(c["area"], c["change"]) for c in rows(march, "changes")] == [("software", "release 1.1")]


def test_individual_reports_rp9_and_rr9_present(march):
    """Exhibit H L87473: RP9-1..RP9-7 and RR9-1, the FRS items 1-27 (L18442-18630)."""
    ids = {s.id for s in march.sections}
    expected = {"RP9-1.1", "RP9-1.2", "RP9-1.3", "RP9-2.4", "RP9-2.5", "RP9-3.6", "RP9-3.7",
                *(f"RP9-4.{i}" for i in range(8, 17)), *(f"RP9-5.{i}" for i in range(17, 22)),
                *(f"RP9-6.{i}" for i in range(22, 28)), "RP9-7", "RR9-1"}
    assert expected <= ids
    integrity = {r["check"]: r["result"] for r in rows(march, "RR9-1")}
    assert set(integrity.values()) == {"ok"}
    assert {r["LSMS"]: r["transactions"] for r in rows(march, "RP9-4.10")} == {"0002": 50}


def test_quarter_and_year_to_date(run):
    """Exhibit H frequency key L87601: the quarterly report covers January-March (compared with the
    fourth quarter of 2025), the year to date runs to now (compared with the same stretch of 2025)."""
    src = Sources(run.store, run.tmp, run.log)
    q1 = build("management", src, Period.quarter(2026, 1), run.now)
    assert (q1.period, q1.compared_with) == ("2026-Q1", "2025-Q4")
    assert slr(q1, "3")["measured"] == "p95 2500 ms over 120 transactions"  # February's 20 and March's 100
    ytd = build("service-levels", src, Period.ytd(2026, run.now), run.now)
    assert (ytd.period, ytd.compared_with) == ("2026 YTD", "2025 YTD")
    assert slr(ytd, "2")["measured"] == "2.00 h in the quarter, longest 2.00 h, 1 events"
    assert slr(ytd, "1")["status"] == "met" and slr(ytd, "1")["prior measured"] == "-"


def test_one_sp_usage_report(run):
    """RP9-2 / Exhibit K L94026: an SP's version of a report holds only its own data."""
    report = build("usage", Sources(run.store), Period.month(2026, 3), run.now, sp="0002")
    assert [r["NPAC customer"] for r in rows(report, "usage")] == ["0002"]


# ---- periods ---------------------------------------------------------------------------------------
def test_periods_and_priors():
    """Months, quarters and year to date in GMT, and the period each is compared with."""
    now = ms("2026-03-15 10:00")
    assert Period.parse("month", "2026-01", now).prior().label == "2025-12"
    assert Period.parse("quarter", "2026-Q1", now).prior().label == "2025-Q4"
    assert Period.parse("quarter", None, now).label == "2026-Q1"
    ytd = Period.parse("ytd", None, now)
    assert (ytd.start_ms, ytd.end_ms) == (ms("2026-01-01 00:00"), now)
    assert (ytd.prior().start_ms, ytd.prior().end_ms) == (ms("2025-01-01 00:00"), ms("2025-03-15 10:00"))
    for kind, bad in (("month", "2026-13"), ("month", "March"), ("quarter", "2026-Q5"), ("ytd", "26")):
        with pytest.raises(PeriodError):
            Period.parse(kind, bad, now)


def test_slr21_notice_lead_times():
    """SLR 21 L86878: routine 2 weeks; non-routine 7 days when announced in Normal Business Hours
    (07:00-19:00 Central), 24 h otherwise."""
    day = 86_400_000
    assert notice_required_ms({"details": {"routine": True}}) == 14 * day
    business = ms("2026-03-04 15:00")  # 09:00 Central, a Wednesday
    night = ms("2026-03-04 04:00")     # 22:00 Central
    assert notice_required_ms({"details": {"routine": False, "notice_ms": business}}) == 7 * day
    assert notice_required_ms({"details": {"routine": False, "notice_ms": night}}) == day


# ---- renderers and commands --------------------------------------------------------------------------
def test_text_and_csv_carry_the_same_tables(march):
    text = render_text(march)
    assert "Exhibit G service levels, 2026-03 (prior: 2026-02)" in text and "p95 2500 ms over 100 transactions" in text
    blocks = render_csv(march).split("\n\n")
    exhibit_g = list(csv.reader(io.StringIO(next(b for b in blocks if b.startswith("# exhibit-g")))))
    assert exhibit_g[1][:5] == ["SLR", "service level", "commitment", "measured", "status"]
    assert ["3", "SOA/LSMS Acknowledgement Response Time"] == exhibit_g[4][:2] and exhibit_g[4][4] == "met"


def _ctx(run):
    log = SimpleNamespace(path=run.log)
    store = run.store
    return SimpleNamespace(live=SimpleNamespace(store=store), store=store, users=None, security_log=log,
                           data_dir=run.tmp)


def test_commands_render_each_format(run):
    """The console's report commands (read permission) in text, CSV, JSON and HTML."""
    by_name = {c.name: c for c in commands()}
    assert set(by_name) == {"report.monthly", "report.quarterly", "report.ytd", "report.service-levels",
                            "report.usage", "report.exhibit-h"}
    assert {c.permission for c in by_name.values()} == {"read"}
    ctx = _ctx(run)

    async def main():
        out = {}
        for fmt in ("text", "csv", "json", "html"):
            out[fmt] = await by_name["report.monthly"].handler(ctx, None, period="2026-03", format=fmt)
        out["usage"] = await by_name["report.usage"].handler(ctx, None, kind="quarter", period="2026-Q1",
                                                              format="csv")
        return out
    out = asyncio.run(main())
    assert out["text"]["content"].startswith("Monthly Management and Performance Report")
    assert out["csv"]["content"].startswith("# Monthly Management and Performance Report")
    data = json.loads(json.dumps(out["json"]["content"]))
    assert data["period"] == "2026-03" and data["sections"][0]["id"] == "exhibit-g"
    assert out["html"]["content"].startswith("<!DOCTYPE html>") and "<svg" in out["html"]["content"]
    assert out["usage"]["period"] == "2026-Q1" and "0001,TN Porting Event,,3" in out["usage"]["content"]


def test_commands_refuse_bad_arguments_in_one_line(run):
    ctx = _ctx(run)
    for kwargs, message in (({"format": "pdf"}, "format 'pdf'"), ({"period": "2026-3x"}, "expected YYYY-MM"),
                            ({"period": "2027-01"}, "has not started yet")):
        with pytest.raises(CommandError) as err:
            make_report(ctx, "management", "month", kwargs.get("period"), kwargs.get("format", "text"))
        assert message in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CommandError, match="no service provider 9999"):
        make_report(ctx, "usage", "month", "2026-03", "text", sp="9999")


def test_sp_report_counts_as_report_generation(tmp_path):
    """Exhibit K Table 8 "Report generation" / Exhibit E "An Ad Hoc Report": an SP's report run at the
    console is counted for that SP by the node's meters."""
    from appliance.ops.meters import install_meters
    from tests.support.meter_rig import Clock, Services

    async def main():
        clock = Clock(ms("2026-03-15 10:00"))
        services = Services(tmp_path / "npac.sqlite", clock)
        await services.writer.run("sp", lambda tx: tx.upsert("service_providers", {"sp_id": "0001", "name": "One"}))
        meters = install_meters(services, node="primary")
        services.installed = [meters]
        ctx = SimpleNamespace(live=SimpleNamespace(store=services.store, services=services), store=services.store,
                              users=None, security_log=SimpleNamespace(path=None), data_dir=tmp_path)
        answer = make_report(ctx, "usage", "month", None, "json", sp="0001")
        assert answer["period"] == "2026-03" and answer["content"]["sections"][0]["id"] == "usage"
        await meters.flush()
        usage = services.store.select("slr_buckets", "kind = ?", ["usage"])
        assert [(r["party"], r["count"]) for r in usage] == [("0001|Report generation|usage", 1)]
        services.close()
    asyncio.run(main())


def test_auditor_runs_reports_through_the_dispatcher(tmp_path):
    """R9-9 (the requester's viewing privileges): the report commands need a console session with read
    permission (an auditor has it); no session, no report."""
    from appliance.control import ControlError
    from appliance.ops.commands import control_handlers
    from appliance.ops.passwords import Hasher
    from appliance.ops.security_log import SecurityLog
    from appliance.ops.users import Users
    from tests.support.meter_rig import Clock, Services

    async def main():
        clock = Clock(ms("2026-03-15 10:00"))
        services = Services(tmp_path / "npac.sqlite", clock)
        log = SecurityLog(tmp_path / "security.log")
        users = Users(services.store, services.writer, clock, log, hasher=Hasher(n=2 ** 8))
        await users.init_admin("admin", "Kestrel-41x")
        admin = await users.login("admin", "Kestrel-41x")
        await users.add_user(users.authorize(admin.token, "administer"), "audit", "auditor", "Temp-pass99")
        auditor = await users.login("audit", "Temp-pass99", new_password="Osprey-9qq")
        ctx = SimpleNamespace(live=SimpleNamespace(store=services.store, services=None), store=services.store,
                              users=users, security_log=log, data_dir=tmp_path)
        handlers = control_handlers(ctx, commands())
        answer = await handlers["report.service-levels"](session=auditor.token, kind="month", format="text")
        assert answer["period"] == "2026-03" and "Exhibit G service levels, 2026-03" in answer["content"]
        with pytest.raises(ControlError):
            await handlers["report.monthly"](session=None, format="text")
        services.close()
    asyncio.run(main())


def test_log_file_reports_read_history_and_errors(run, tmp_path):
    """RP9-6 items 22, 23, 27 (L18572) from the transaction history and error logs of the period:
    counts by activity and user, errors by cause, NPAC personnel actions listed."""
    t = ms("2026-03-09 08:00")
    history = [
        {"time_ms": t, "date": "2026-03-09", "time": "08:00:00", "activity": "subscriptionVersionActivate",
         "userid": "0001", "sp_id": "0001", "status_flag": "success", "tn": "3035551234", "version_id": 4},
        {"time_ms": t + 1, "date": "2026-03-09", "time": "08:00:00", "activity": "subscriptionVersionActivate",
         "userid": "0001", "sp_id": "0001", "status_flag": "success", "tn": "3035551235", "version_id": 5},
        {"time_ms": t + 2, "date": "2026-03-09", "time": "08:00:00", "activity": "resend", "userid": "npac",
         "sp_id": None, "status_flag": "success", "tn": "3035551236", "version_id": 6,
         "initial_status": "download-failed", "new_status": "sending"},
        {"time_ms": ms("2026-02-09 08:00"), "activity": "old", "userid": "0001", "status_flag": "success"},
    ]
    (tmp_path / "history.log").write_text("".join(json.dumps(h) + "\n" for h in history) + '{"torn')
    (tmp_path / "errors.log").write_text(json.dumps({"time_ms": t, "activity": "subscriptionVersionActivate",
                                                     "sp_id": "0002", "cause": "wrong-status"}) + "\n")
    report = build("exhibit-h", Sources(run.store, tmp_path), Period.month(2026, 3), run.now)
    assert [(r["activity"], r["user"], r["records"]) for r in rows(report, "RP9-6.22")] == [
        ("resend", "npac", 1), ("subscriptionVersionActivate", "0001", 2)]
    assert [(r["SPID"], r["cause"], r["records"]) for r in rows(report, "RP9-6.23")] == [("0002", "wrong-status", 1)]
    assert [(r["TN"], r["from"], r["to"]) for r in rows(report, "RP9-6.27")] == [
        ("3035551236", "download-failed", "sending")]
