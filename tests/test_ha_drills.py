"""Failover drills on the real primary/DR pair with simulated carriers connected (contract 12.4 and
Exhibit G SLR 8: cutover within 10 minutes; RN10-1..4 switchback; DECISIONS "Primary /
disaster-recovery pair": the cutover is measured from detection to the DR accepting associations).
Each drill's report must show every instant of its kind, in order, every LSMS's recovery complete
and every SOA back on the new live node, no acknowledged transaction lost, and its times within
the 600 s budget."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.config import load_config
from appliance.ops.commands import CommandError
from appliance.peers.demo_keys import DemoKeys
from ha.config import ConfigError as HaConfigError
from ha.config import load_config as load_ha_config
from ha.drill_report import REQUIRED, drill_id, verdict, write
from ha.drill_report import text as report_text
from ha.drills import DrillError, DrillRunner, commands, side_of
from tests.support.pair_carriers import LSMS_IDS, SOA_IDS, PairCarriers
from tests.support.pair_rig import LIVE, hosts, start_pair, wait_current_standby, wait_roles

REPO = Path(__file__).resolve().parents[1]


def check(report, kind, old, new):
    """The figures every drill report must show."""
    assert (report["kind"], report["from"], report["to"]) == (kind, old, new)
    marks = {m["mark"]: m["time_ms"] for m in report["marks"]}
    required = [*REQUIRED[kind], "first-association"]
    assert all(m in marks for m in required), (required, report["marks"])
    assert [marks[m] for m in required] == sorted(marks[m] for m in required), report["marks"]
    assert [m["time_ms"] for m in report["marks"]] == sorted(m["time_ms"] for m in report["marks"])
    assert sorted(report["carriers"]["lsms"]) == list(LSMS_IDS), report["carriers"]
    assert sorted(report["carriers"]["soa"]) == list(SOA_IDS), report["carriers"]
    assert all(marks[f"lsms {sp} recovery complete"] >= marks["live"] for sp in LSMS_IDS)
    assert report["carriers"]["missing"] == [] and report["transactions_lost"] == 0, report["journal"]
    assert 0 < report["cutover_s"] <= report["total_s"] < 600, (report["cutover_s"], report["total_s"])
    assert report["ok"] and report["problems"] == []


def test_planned_switchback_and_unplanned_drills_report_every_instant_and_lose_nothing(tmp_path):
    """Planned failover primary -> DR (in-process runner), switchback DR -> primary (the console's
    drill.run, which starts the runner as its own process), unplanned crash of the primary (npac-ha's
    drill.crash: heartbeats off, node SIGKILLed); then drill.list / drill.show give the reports back."""
    async def scenario():
        pair = await start_pair(tmp_path)
        carriers = PairCarriers(DemoKeys(tmp_path / "keys"), hosts(pair.ports))
        configs = {side: pair.files[side]["node"] for side in ("primary", "dr")}
        sides = (side_of(configs["primary"]), side_of(configs["dr"]))
        runner = DrillRunner(sides, poll_s=0.1)
        ctx = SimpleNamespace(config=load_config(configs["primary"]), data_dir=tmp_path / "primary")
        ops = {c.name: c for c in commands()}
        try:
            await carriers.start()
            await carriers.port("3035550301", tmp_path / "primary" / "npac.sqlite")

            with pytest.raises(DrillError, match="preferred primary"):
                await runner.run("switchback")  # the preferred primary leads: nothing to switch back
            planned = await runner.run("planned")
            check(planned, "planned", "primary", "dr")
            await wait_current_standby(pair, "primary", "dr", timeout=40)
            await carriers.port("3035550302", tmp_path / "dr" / "npac.sqlite")

            with pytest.raises(CommandError, match="kind"):
                await ops["drill.run"].handler(ctx, None, kind="sideways", peer_config=str(configs["dr"]))
            started = await ops["drill.run"].handler(ctx, None, kind="switchback", peer_config=str(configs["dr"]))
            assert ops["drill.run"].permission == "operate"
            switchback = await _report_file(Path(started["reports"]), "switchback", timeout=60)
            check(switchback, "switchback", "dr", "primary")
            await wait_roles(pair, {"primary": "primary-live"}, timeout=20)
            await wait_current_standby(pair, "dr", "primary", timeout=40)

            unplanned = await runner.run("unplanned")
            check(unplanned, "unplanned", "primary", "dr")
            marks = {m["mark"]: m["time_ms"] for m in unplanned["marks"]}
            assert marks["crash"] <= marks["detection"] <= marks["fence"] <= marks["promotion"]
            await wait_roles(pair, {"dr": LIVE}, timeout=10)
            with pytest.raises(DrillError, match="npac-ha of primary not reachable"):
                await runner.run("planned")  # the crashed side is powered off: no drill on half a pair

            listed = await ops["drill.list"].handler(ctx, None)
            assert [(r["kind"], r["ok"]) for r in listed] == [("switchback", True)]
            shown = await ops["drill.show"].handler(ctx, None, id=listed[0]["id"])
            assert shown["report"]["id"] == listed[0]["id"] and "result: PASS" in shown["text"]
            with pytest.raises(CommandError, match="no drill report"):
                await ops["drill.show"].handler(ctx, None, id="../../etc/passwd")
            for report in (planned, unplanned):  # the runner's files, as the console's run writes them
                json_path, text_path = write(report, tmp_path / "reports")
                assert json.loads(json_path.read_text()) == report and "result: PASS" in text_path.read_text()
            return planned, switchback, unplanned
        finally:
            await carriers.close()
            await pair.stop()

    reports = asyncio.run(asyncio.wait_for(scenario(), 170))
    print({r["kind"]: (r["cutover_s"], r["total_s"]) for r in reports})


async def _report_file(directory: Path, kind: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(directory.glob(f"drill-{kind}-*.json"))
        if found:
            return json.loads(found[-1].read_text())
        await asyncio.sleep(0.2)
    log = directory / "runner.log"
    raise AssertionError(f"no {kind} report; runner said: {log.read_text() if log.exists() else '-'}")


def test_drill_command_line_refuses_bad_input_with_one_line(tmp_path):
    """A drill needs both nodes named; a bad --side is a usage error; neither shows a traceback."""
    def run(*args):
        return subprocess.run([sys.executable, "-m", "ha.drills", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=30)
    one = run("run", "planned", "--side", f"a={tmp_path}/n.sock,{tmp_path}/h.sock", "--out", str(tmp_path))
    assert one.returncode == 2 and one.stderr.strip().count("\n") == 0 and "two nodes" in one.stderr
    bad = run("run", "planned", "--side", "nonsense", "--out", str(tmp_path))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--side" in bad.stderr
    gone = run("run", "unplanned", "--side", f"a={tmp_path}/n1,{tmp_path}/h1", "--side", f"b={tmp_path}/n2,{tmp_path}/h2",
               "--out", str(tmp_path))
    assert gone.returncode == 2 and gone.stderr.startswith("drill: npac-ha of a not reachable")
    assert "Traceback" not in gone.stderr


# --- the report's own rules (no pair needed) -------------------------------------------------------

def _report(kind, times, lost=0, missing=(), budget=600.0, drop=None):
    marks = [{"mark": m, "time_ms": t} for m, t in zip([*REQUIRED[kind], "first-association"], times) if m != drop]
    start = times[0] if times else 0
    last = max(times) if times else 0
    return {"id": drill_id(kind, start), "kind": kind, "from": "primary", "to": "dr", "started_ms": start,
            "marks": marks, "carriers": {"lsms_expected": [], "soa_expected": [], "missing": list(missing)},
            "journal": {"basis": "test"}, "transactions_lost": lost, "budget_s": budget,
            "cutover_s": (last - start) / 1000, "total_s": (last - start) / 1000}


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(("planned", "unplanned", "switchback")),
       gaps=st.lists(st.integers(min_value=0, max_value=120_000), min_size=7, max_size=7),
       swap=st.integers(min_value=0, max_value=5), lost=st.integers(min_value=0, max_value=3),
       drop=st.booleans())
def test_a_drill_passes_only_with_every_mark_in_order_nothing_lost_and_within_600_s(kind, gaps, swap, lost, drop):
    """Contract 12.4 / SLR 8: the verdict fails a report missing a required instant, with instants
    out of order, with an acknowledged transaction lost, or over the 10-minute budget."""
    times, t = [], 1_795_000_000_000
    for gap in gaps[:len(REQUIRED[kind]) + 1]:
        t += gap
        times.append(t)
    shuffled = list(times)
    if swap + 1 < len(REQUIRED[kind]) and shuffled[swap] != shuffled[swap + 1]:
        shuffled[swap], shuffled[swap + 1] = shuffled[swap + 1], shuffled[swap]
    report = _report(kind, shuffled, lost=lost, drop=REQUIRED[kind][swap % len(REQUIRED[kind])] if drop else None)
    problems = verdict(report)
    in_order = shuffled == sorted(shuffled)
    over = report["total_s"] > 600
    assert (problems == []) == (in_order and not drop and lost == 0 and not over), problems
    assert "PASS" in report_text({**report, "ok": not problems, "problems": problems}) or problems


def test_notice_timing_is_configurable_within_slr_22_and_23(tmp_path):
    """SLR 22 (first notice within 15 min) and SLR 23 (every 30 min): shorter is allowed, longer is a
    configuration error with one line."""
    base = (tmp_path / "ha.key")
    base.write_text("00" * 32 + "\n")
    base.chmod(0o600)
    body = ('[ha]\nnode = "a"\npeer = "b"\nrole = "primary"\nkey_file = "ha.key"\n{extra}\n'
            '[heartbeat]\nudp_peer = "127.0.0.1:1"\nserial = "/dev/null"\n[replication]\npeer = "127.0.0.1:2"\n')
    path = tmp_path / "ha.toml"
    path.write_text(body.format(extra=""))
    cfg = load_ha_config(path)
    assert (cfg.notice_first, cfg.notice_every) == (600.0, 1800.0)
    path.write_text(body.format(extra="notice_first = 2.5\nnotice_every = 4.0"))
    assert (load_ha_config(path).notice_first, load_ha_config(path).notice_every) == (2.5, 4.0)
    path.write_text(body.format(extra="notice_first = 1000.0"))
    with pytest.raises(HaConfigError, match="notice_first.*SLR 22"):
        load_ha_config(path)
    path.write_text(body.format(extra="notice_every = 1801"))
    with pytest.raises(HaConfigError, match="notice_every.*SLR 23"):
        load_ha_config(path)
