"""`npac` against the real primary/DR pair (appliance.pair: nodes, npac-ha, serial and UDP heartbeats,
sync replication) with simulated SOAs and LSMSs that follow the host list (issue 6: "Tests that drive
the console against a running node pair for each function").

One scenario, in order: the first administrator and a login on the primary; `npac status` on both
nodes; a planned outage whose lnpNPAC-SMS-Operational-Information reaches every associated SOA and
LSMS over CMIP (seed 000 §12.1 L7-19, IIS flow 6.6, SLR 21); a trouble ticket opened, noticed,
disposed and closed (seed 000 §12.3 L33-53); the monthly report as a self-contained HTML page holding
the ticket the test opened (Exhibit H); an auditor refused a change (R7-20 read-only role); a planned
failover drill run from the console with its report shown (contract 12.4, RN10-1..4); and the same
administrator's login on the new live node (users replicate to the DR)."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from appliance.console.__main__ import main
from appliance.peers.demo_keys import DemoKeys
from tests.support.pair_carriers import LSMS_IDS, SOA_IDS, PairCarriers
from tests.support.pair_rig import hosts, start_pair, wait_roles

PASSWORD = "Osprey-62kq"
AUDITOR_PASSWORD = "Plover-38tz"
_console_lock = asyncio.Lock()


def _cli(socket: Path, session: Path, argv: tuple[str, ...], stdin: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved_stdin, saved_env = sys.stdin, os.environ.get("NPAC_SESSION_FILE")
    sys.stdin, os.environ["NPAC_SESSION_FILE"] = io.StringIO(stdin), str(session)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--socket", str(socket), *argv])
    finally:
        sys.stdin = saved_stdin
        if saved_env is None:
            os.environ.pop("NPAC_SESSION_FILE", None)
        else:
            os.environ["NPAC_SESSION_FILE"] = saved_env
    return code, out.getvalue(), err.getvalue()


async def npac(socket: Path, session: Path, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """The console in a thread: the simulated carriers in this event loop keep answering meanwhile."""
    async with _console_lock:
        return await asyncio.to_thread(_cli, socket, session, argv, stdin)


def gmt(at: float) -> str:
    return dt.datetime.fromtimestamp(at, tz=dt.timezone.utc).strftime("%Y%m%d%H%M%S")


def stamp(at: float) -> str:
    """The reports' GMT form."""
    return dt.datetime.fromtimestamp(at, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


async def wait_notices(carriers: PairCarriers, needle: str, timeout: float = 20.0) -> dict[str, list]:
    """Every LSMS and SOA holds a notice whose text has `needle`."""
    deadline = time.monotonic() + timeout
    got: dict[str, list] = {}
    while time.monotonic() < deadline:
        got = {who: [n for n in notes if needle in json.dumps(n, default=str)]
               for who, notes in carriers.notices().items()}
        if all(got.values()):
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"notice {needle!r} missing at {[w for w, n in got.items() if not n]}")


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


def test_console_runs_the_pair_outage_ticket_report_drill_and_roles(tmp_path):
    async def scenario() -> dict:
        pair = await start_pair(tmp_path)
        carriers = PairCarriers(DemoKeys(tmp_path / "keys"), hosts(pair.ports))
        primary, dr = pair.socket("primary"), pair.socket("dr")
        # one session file per console user and node: a session belongs to the node it was opened on
        admin, auditor, dr_admin = (tmp_path / f"{n}.session" for n in ("admin", "auditor", "dr-admin"))
        figures: dict = {}
        try:
            await carriers.start()

            # FRS §7.1-7.3: the first administrator, password on standard input; then a session
            code, out, err = await npac(primary, admin, "init-admin", "admin", stdin=PASSWORD + "\n")
            assert code == 0, err
            code, out, err = await npac(primary, admin, "login", "admin", stdin=PASSWORD + "\n")
            assert code == 0 and "logged in as admin (administrator)" in out, err

            # status at a glance on both nodes (issue 6): role, epoch, peer, both heartbeat paths,
            # replication, associations by carrier, open tickets
            code, out, err = await npac(primary, admin, "status")
            assert code == 0, err
            assert re.search(r"role primary-live\s+epoch \d+", out), out
            assert "heartbeat " in out and out.count("heartbeat ") >= 2, out
            assert "replication sync" in out and "open tickets: 0" in out, out
            assert re.search(r"answers waited for the standby: p50 [\d.]+ ms, p95 [\d.]+ ms", out), out
            for sp in LSMS_IDS:
                assert f"  {sp} local-sms: 1" in out or f"  {sp} soa-and-local-sms: 1" in out, out
            for sp in SOA_IDS:
                assert f"  {sp} soa: 1" in out or f"  {sp} soa-and-local-sms: 1" in out, out
            code, out, err = await npac(dr, admin, "status")
            assert code == 0 and "role standby" in out and "associations: 0" in out, (out, err)

            # the pair through npac-ha: both paths up, the peer following; a promotion is refused
            # while the peer is alive (R10-x: only a lost and powered-off peer is taken over)
            code, out, err = await npac(primary, admin, "pair", "status")
            assert code == 0 and "node primary (the preferred node): primary-live, peer lost: no" in out, (out, err)
            assert "heartbeat network: up" in out and "heartbeat serial: up" in out and "peer dr: standby" in out
            code, out, err = await npac(primary, admin, "pair", "confirm")
            assert code == 1 and one_line(err) and "no promotion" in err and "primary-live" in err, (out, err)
            # the DR's operators log in on their standby (checked against the replicated users, nothing
            # written there) to see the pair and, were the primary lost, confirm the promotion
            code, out, err = await npac(dr, dr_admin, "login", "admin", stdin=PASSWORD + "\n")
            assert code == 0 and "logged in as admin (administrator)" in out, err
            code, out, err = await npac(dr, dr_admin, "pair", "status")
            assert code == 0 and "node dr: standby, peer lost: no" in out and "peer primary: primary-live" in out, out
            code, out, err = await npac(dr, dr_admin, "pair", "confirm")
            assert code == 1 and one_line(err) and "no promotion" in err and "standby" in err, (out, err)
            code, out, err = await npac(dr, dr_admin, "pair", "switchback")
            assert code == 1 and one_line(err) and "no switchback" in err, (out, err)
            code, out, err = await npac(dr, dr_admin, "user", "add", "oper2", "operator")
            assert code == 1 and one_line(err) and "make changes on the live node" in err, (out, err)
            code, _, err = await npac(dr, dr_admin, "logout")
            assert code == 0, err
            assert "open tickets" not in out  # the primary's session means nothing to the standby

            # a planned outage: SLR 21 lead time checked (a routine one needs 2 weeks), then the
            # notice to every associated LSMS and SOA over CMIP (flow 6.6)
            start = time.time() + 20 * 86_400
            fields = ("--interface", "SOA and LSMS CMIP", "--description", "database software upgrade",
                      "--impact", "no CMIP associations", "--workaround", "none", "--contact-name", "NPAC help desk",
                      "--contact-number", "303-555-0100")
            code, _, err = await npac(primary, admin, "outage", "create", *fields, "--start", gmt(time.time() + 3600),
                                      "--stop", gmt(time.time() + 7200))
            assert code == 1 and one_line(err) and "short of routine maintenance" in err, err
            code, _, err = await npac(primary, admin, "outage", "create", *fields, "--start", "tomorrow",
                                      "--stop", gmt(start))
            assert code == 1 and one_line(err) and "not a GMT time" in err, err
            code, out, err = await npac(primary, admin, "outage", "create", *fields, "--start", gmt(start),
                                        "--stop", gmt(start + 4 * 3600))
            assert code == 0, err
            outage = re.search(r"^outage id\s+(\d+)$", out, re.M)
            assert outage and "state" in out and "notified" in out, out
            outage_id = outage[1]
            got = await wait_notices(carriers, f"Outage {outage_id} (routine) SOA and LSMS CMIP")
            figures["notice_reached"] = sorted(got)
            assert sorted(got) == sorted([f"lsms/{sp}" for sp in LSMS_IDS] + [f"soa/{sp}" for sp in SOA_IDS])
            code, out, err = await npac(primary, admin, "outage", "show", outage_id)
            assert code == 0 and f"notice deliveries: {len(LSMS_IDS) + len(SOA_IDS)}" in out, (out, err)
            code, out, err = await npac(primary, admin, "outage", "list")
            assert code == 0 and re.search(rf"^{outage_id}\s+notified\s+routine\s+SOA and LSMS CMIP", out, re.M), out
            code, out, err = await npac(primary, admin, "outage", "totals")
            assert code == 0 and "h left of 20 h" in out, (out, err)
            code, _, err = await npac(primary, admin, "outage", "complete", outage_id)
            assert code == 1 and one_line(err) and "cannot become completed" in err, err

            # a trouble ticket: open (tracking number), status notice, disposition, close (§12.3)
            code, out, err = await npac(primary, admin, "ticket", "open", "--reporter", "0002", "--severity", "2",
                                        "--summary", "LSMS 0002 misses broadcasts")
            assert code == 0, err
            tracking = re.search(r"^ticket (\S+) opened \(severity 2", out, re.M)
            assert tracking, out
            tracking = tracking[1]
            code, out, err = await npac(primary, admin, "status")
            assert code == 0 and "open tickets: 1" in out and tracking in out, out
            code, out, err = await npac(primary, admin, "ticket", "notice", tracking, "found: a filter on the LSMS")
            assert code == 0 and "status" in out and "found: a filter" in out, (out, err)
            code, _, err = await npac(primary, admin, "ticket", "dispose", tracking, "resolve-in-patch")
            assert code == 1 and one_line(err) and "patch_date" in err, err
            code, out, err = await npac(primary, admin, "ticket", "dispose", tracking, "resolved")
            assert code == 0 and re.search(r"^disposition\s+resolved$", out, re.M), (out, err)
            code, out, err = await npac(primary, admin, "ticket", "close", tracking)
            assert code == 0 and re.search(r"^state\s+closed$", out, re.M), (out, err)
            code, out, err = await npac(primary, admin, "ticket", "list", "--state", "closed")
            assert code == 0 and tracking in out, out
            code, _, err = await npac(primary, admin, "ticket", "show", "T-nonesuch")
            assert code == 1 and one_line(err) and "no trouble ticket T-nonesuch" in err, err

            # an emergency outage of a few seconds, inside the metered run: its notice is sent late
            # with the reason (SLR 21), then its actual start and end are recorded; the monthly report
            # must count exactly these seconds as scheduled time (SLR 2)
            taken_start = int(time.time()) + 2
            taken_stop = taken_start + 5
            month = dt.datetime.fromtimestamp(taken_start, tz=dt.timezone.utc)
            emergency = ("--interface", "NPAC SMS database", "--description", "emergency index rebuild",
                         "--impact", "requests refused", "--workaround", "resubmit after the outage",
                         "--contact-name", "NPAC help desk", "--contact-number", "3035550100",
                         "--maintenance", "non-routine", "--start", gmt(taken_start), "--stop", gmt(taken_stop))
            code, _, err = await npac(primary, admin, "outage", "create", *emergency)
            assert code == 1 and one_line(err) and "give late_reason" in err, err
            code, out, err = await npac(primary, admin, "outage", "create", *emergency,
                                        "--late-reason", "index corruption found at night")
            assert code == 0 and re.search(r"^lead met\s+no$", out, re.M), (out, err)
            taken = re.search(r"^outage id\s+(\d+)$", out, re.M)[1]
            assert (await npac(primary, admin, "outage", "start", taken, "--at", gmt(taken_start)))[0] == 0
            code, out, err = await npac(primary, admin, "outage", "complete", taken, "--at", gmt(taken_stop))
            assert code == 0 and re.search(r"^actual hours\s+", out, re.M), (out, err)
            await asyncio.sleep(max(0.0, taken_stop + 0.5 - time.time()))  # the report counts up to now

            # the monthly report as one self-contained HTML page, and as JSON, whose figures are the
            # ticket and the outage injected above (Exhibit H items (2), (4); SLR 2 scheduled time)
            period = month.strftime("%Y-%m")
            page = tmp_path / "monthly.html"
            code, out, err = await npac(primary, admin, "report", "monthly", "--period", period, "--format", "html",
                                        "--out", str(page))
            assert code == 0 and str(page) in out, err
            html = page.read_text()
            assert html.lstrip().lower().startswith("<!doctype html") and tracking in html
            assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"?https?:", html)  # nothing fetched
            code, out, err = await npac(primary, admin, "report", "monthly", "--period", period, "--format", "json")
            assert code == 0, err
            sections = {s["id"]: s for s in json.loads(out)["sections"]}
            problems = [r for r in sections["problems"]["rows"] if r[1] == tracking]
            assert [r[2:] for r in problems] == [["material", "closed", "LSMS 0002 misses broadcasts"]], problems
            outages = [r for r in sections["outages"]["rows"] if r[3] == "NPAC SMS database"]
            assert [r[:3] for r in outages] == [[stamp(taken_start), stamp(taken_stop), "scheduled"]], outages
            service = sections["availability"]["rows"][0]
            assert service[2] == taken_stop - taken_start, service  # scheduled seconds
            figures["report_scheduled_s"] = service[2]
            code, _, err = await npac(primary, admin, "report", "monthly", "--period", "2026-13")
            assert code == 1 and one_line(err) and "expected YYYY-MM" in err, err
            code, _, err = await npac(primary, admin, "report", "monthly", "--format", "pdf")
            assert code == 2 and one_line(err), err
            figures["report_bytes"] = len(html)

            # notices and calendar read back; an auditor may read but not change (R7-20)
            code, out, err = await npac(primary, admin, "calendar", "show")
            assert code == 0 and "business hours" in out, (out, err)
            code, out, err = await npac(primary, admin, "user", "add", "audit1", "auditor")
            assert code == 0, err
            one_time = out.rsplit(": ", 1)[1].strip()
            code, out, err = await npac(primary, auditor, "login", "audit1", stdin=f"{one_time}\n{AUDITOR_PASSWORD}\n")
            assert code == 0 and "logged in as audit1 (auditor)" in out, err
            code, out, err = await npac(primary, auditor, "outage", "list")
            assert code == 0 and outage_id in out, err
            code, _, err = await npac(primary, auditor, "ticket", "open", "--reporter", "NPAC", "--severity", "4",
                                      "--summary", "should not exist")
            assert code == 1 and one_line(err) and "audit1 (auditor) may not operate" in err, err
            code, _, err = await npac(primary, auditor, "outage", "cancel", outage_id, "--reason", "no")
            assert code == 1 and "may not operate" in err, err

            # a planned failover drill through the console; its report shown on the node that ran it
            dr_config = pair.files["dr"]["node"]
            code, _, err = await npac(primary, admin, "drill", "run", "planned", "--peer-config",
                                      str(tmp_path / "none.toml"))
            assert code == 2 and one_line(err) and "no such file" in err, err
            began = time.monotonic()
            code, out, err = await npac(primary, admin, "drill", "run", "planned", "--peer-config", str(dr_config),
                                        "--wait", "90")
            figures["drill_console_s"] = round(time.monotonic() - began, 1)
            assert code == 0, (out, err)
            assert "result: PASS" in out, out
            await wait_roles(pair, {"primary": "standby", "dr": "live"}, timeout=30)
            code, out, err = await npac(primary, admin, "drill", "list")
            assert code == 0, err
            drill_id = re.search(r"^(drill-planned-\S+)", out, re.M)
            assert drill_id, out
            code, out, err = await npac(primary, admin, "drill", "show", drill_id[1])
            assert code == 0 and "result: PASS" in out, (out, err)
            code, out, err = await npac(primary, admin, "--json", "drill", "show", drill_id[1])
            report = json.loads(out)["report"]
            assert (report["kind"], report["from"], report["to"], report["transactions_lost"]) == \
                ("planned", "primary", "dr", 0), report
            figures["cutover_s"], figures["total_s"] = report["cutover_s"], report["total_s"]
            code, _, err = await npac(primary, admin, "drill", "show", "drill-../../etc/passwd")
            assert code == 1 and one_line(err) and "no drill report" in err, err

            # users replicate: the same administrator logs in on the new live node, which has the
            # outage and the ticket too
            code, out, err = await npac(dr, dr_admin, "login", "admin", stdin=PASSWORD + "\n")
            assert code == 0 and "logged in as admin (administrator)" in out, err
            code, out, err = await npac(dr, dr_admin, "status")
            assert code == 0 and "role primary-live" in out, out
            code, out, err = await npac(dr, dr_admin, "outage", "show", outage_id)
            assert code == 0 and "notified" in out, (out, err)
            code, out, err = await npac(dr, dr_admin, "ticket", "show", tracking)
            assert code == 0 and re.search(r"^state\s+closed$", out, re.M), (out, err)
            code, out, err = await npac(primary, admin, "notice", "list")
            assert code == 0 and "switchback" in out, (out, err)
            code, out, err = await npac(primary, admin, "status")
            assert code == 0 and "role standby" in out and re.search(r"^  \S+ switchback: \d+ associations told$",
                                                                       out, re.M), out
            return figures
        finally:
            await carriers.close()
            await pair.stop()

    began = time.monotonic()
    figures = asyncio.run(asyncio.wait_for(scenario(), 170))
    figures["scenario_s"] = round(time.monotonic() - began, 1)
    print(figures)


# --- the console's own checks and forms (no node needed) ------------------------------------------

def test_bad_command_lines_are_one_line_and_exit_2_before_any_node_is_asked(tmp_path):
    """Issue 6 "Bad input": every verb validates its arguments; a usage error never reaches the node."""
    sock, session = tmp_path / "none.sock", tmp_path / "s"
    for argv, words in ((("outage", "show", "one"), "invalid int value"),
                        (("outage", "create", "--interface", "x"), "required"),
                        (("ticket", "open", "--reporter", "0001", "--severity", "5", "--summary", "s"), "invalid choice"),
                        (("ticket", "close", "TT1", "fixed"), "invalid choice"),
                        (("report", "monthly", "--format", "pdf"), "invalid choice"),
                        (("report", "usage", "--kind", "week"), "invalid choice"),
                        (("drill", "run", "sideways", "--peer-config", "x"), "invalid choice"),
                        (("drill", "run", "planned"), "--peer-config"),
                        (("calendar", "set", "--holiday", "no-rule"), "must be NAME=RULE"),
                        (("outage", "totals", "--quarter", "5"), "invalid choice")):
        code, out, err = _cli(sock, session, argv, "")
        assert code == 2 and out == "" and one_line(err) and words in err, (argv, err)


def test_report_out_refuses_a_directory_and_writes_whole_files(tmp_path):
    from appliance.console.report_cmds import write_out
    from appliance.console.verbs import UsageError

    with pytest.raises(UsageError, match="is a directory"):
        write_out(str(tmp_path), "x")
    with pytest.raises(UsageError, match="no directory"):
        write_out(str(tmp_path / "missing" / "r.html"), "x")
    path = write_out(str(tmp_path / "r.csv"), "a,b\n")
    assert path.read_text() == "a,b\n" and [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_drill_wait_finds_the_new_report_and_gives_up_on_time():
    """`npac drill run --wait`: the report that was not there before; the node may be unreachable
    for a moment (the drill restarts roles) without ending the wait; the wait is bounded."""
    from appliance.console.client import Refused, Unreachable
    from appliance.console.drill_cmds import wait_for_report

    class Node:
        def __init__(self, answers):
            self.answers = list(answers)

        def call(self, op, **_):
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            if isinstance(answer, Exception):
                raise answer
            return [{"id": i} for i in answer]

    now = [0.0]
    clock, sleep = (lambda: now[0]), (lambda s: now.__setitem__(0, now[0] + s))
    node = Node([["drill-old"], Unreachable("down"), ["drill-old", "drill-planned-1"]])
    assert wait_for_report(node, "t", {"drill-old"}, 10, clock, sleep) == "drill-planned-1"
    with pytest.raises(Refused, match="no drill report after 3 s"):
        wait_for_report(Node([["drill-old"]]), "t", {"drill-old"}, 3, clock, sleep)


def test_status_shows_the_last_user_notices_and_links_not_up():
    from appliance.console.status_cmds import render_status

    text = render_status({"role": "primary-live", "epoch": 2,
                          "links": [{"name": "ds1-0001", "oper": "down"}, {"name": "eth0", "oper": "up"}],
                          "user_notices": [{"time_ms": 1795329653446, "kind": "switchback",
                                            "delivered": [{"system_id": "0001"}, {"system_id": "0002"}]}]})
    assert "links: 2, not up: ds1-0001 down" in text
    assert "last notices to users: 1" in text and "  2026-11-22T06:40:53Z switchback: 2 associations told" in text
    assert "user notices" not in text
