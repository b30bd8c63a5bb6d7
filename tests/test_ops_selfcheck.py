"""The node's self-checks (appliance.ops.selfcheck): FRS R10-6 line monitoring, R10-7 memory errors,
R10-9 self-checking, run periodically and on demand, kept in the status document (and so in SNMP)."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.hooks import HookResult
from appliance.node_status import NodeMonitor
from appliance.ops.commands import PERMISSIONS
from appliance.ops.selfcheck import (
    HOOKS_DIR, RUNNING, HookSettings, SelfChecks, commands, load_settings, read_hooks, run_selfcheck,
)
from appliance.status import CarrierMeters, ServiceLevels, StatusBoard
from appliance.tomlconfig import ConfigError
from snmp.demo import DEMO_HW
from snmp.model import Observed, Tracker
from snmp.oids import oid
from snmp.view import SystemInfo, build_snapshot

ROOT = Path(__file__).resolve().parents[1]
LINK_NAMES = {link["name"] for link in DEMO_HW["links.json"]["links"]}


def write_sim(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in DEMO_HW.items():
        (directory / name).write_text(json.dumps(body))
    return directory


class FakeHooks:
    """A run_hook stand-in: answers from `answers[hook]` (a HookResult or a dict to print), counting
    how many runs overlap."""

    def __init__(self, answers: dict[str, object], delay: float = 0.0):
        self.answers, self.delay = answers, delay
        self.calls: list[tuple[str, list[str], dict]] = []
        self.active = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, hooks_dir, name, args=None, **kwargs) -> HookResult:
        with self._lock:
            self.calls.append((name, list(args or []), kwargs))
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            time.sleep(self.delay)
            answer = self.answers[name]
            return answer if isinstance(answer, HookResult) else HookResult(name, True, data=dict(answer))
        finally:
            with self._lock:
                self.active -= 1


GOOD = {"selftest": {"checks": [{"name": "memory.mc0", "component": "memory", "status": "ok", "detail": "0"}]},
        "link-status": {"links": [{"name": "t1-0001-a", "kind": "ds1", "oper": "up"},
                                  {"name": "ic0", "kind": "interconnect", "oper": "up"}]}}


# ---- settings ------------------------------------------------------------------------------------

def test_settings_default_and_relative_paths(tmp_path):
    node = tmp_path / "node.toml"
    node.write_text("[node]\nname = 'x'\n")
    assert load_settings(node) == HookSettings()
    assert HookSettings().hooks_dir == HOOKS_DIR and (HOOKS_DIR / "selftest").exists()
    node.write_text("[selfcheck]\nhooks_dir = 'hooks'\nhw_sim = 'hw-a'\ninterval = 5\ntimeout = 2.5\n"
                    "mounts = ['/', '/var']\ninterconnect = ['eth1']\nserial = ['/dev/ttyS1']\n")
    got = load_settings(node)
    assert got.hooks_dir == (tmp_path / "hooks").absolute() and got.hw_sim == (tmp_path / "hw-a").absolute()
    assert (got.interval, got.timeout, got.mounts, got.interconnect, got.serial) == (
        5.0, 2.5, ("/", "/var"), ("eth1",), ("/dev/ttyS1",))


@pytest.mark.parametrize("text,needle", [
    ("selfcheck = 1\n", "'selfcheck' must be dict"),
    ("[selfcheck]\ninterval = 0\n", "'interval' must be more than 0 seconds"),
    ("[selfcheck]\ntimeout = -1\n", "'timeout' must be more than 0 seconds"),
    ("[selfcheck]\ninterval = 'often'\n", "'interval' must be float"),
    ("[selfcheck]\nmounts = '/'\n", "'mounts' must be list"),
    ("[selfcheck]\nserial = ['']\n", "'serial' must be a list of non-empty strings"),
])
def test_bad_settings_are_one_line(tmp_path, text, needle):
    node = tmp_path / "node.toml"
    node.write_text(text)
    with pytest.raises(ConfigError, match=needle) as err:
        load_settings(node)
    assert "\n" not in str(err.value)


def test_a_node_with_bad_selfcheck_settings_exits_2_with_one_line(tmp_path):
    from appliance.node import write_demo_config

    cfg = write_demo_config(tmp_path, 1)
    cfg.write_text(cfg.read_text().replace('hw_sim = "hw"', "interval = -5"))
    proc = subprocess.run([sys.executable, "-m", "appliance.node", "--config", str(cfg)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("npac-node: [selfcheck]: 'interval'") and len(proc.stderr.splitlines()) == 1


# ---- one run -------------------------------------------------------------------------------------

def test_the_real_hooks_on_the_simulated_hardware(tmp_path):
    s = HookSettings(hw_sim=write_sim(tmp_path / "hw"), timeout=20.0)
    readings = asyncio.run(read_hooks(s))
    assert [h["ok"] for h in readings.hooks] == [True, True]
    assert {c.name for c in readings.checks} == {"memory.mc0", "sensor.cpu0", "sensor.fan1", "disk./var", "raid.md0",
                                                 "watchdog"}
    assert all(c.status == "ok" for c in readings.checks)
    assert {link.name for link in readings.links} == LINK_NAMES
    (t1,) = [link for link in readings.links if link.name == "t1-0001-a"]
    assert t1.ds1 is not None and t1.ds1.circuit_id == "DEMO/T1/0001-A" and t1.speed == 1_544_000


def test_hook_arguments_come_from_the_settings():
    fake = FakeHooks(GOOD)
    s = HookSettings(hooks_dir=Path("/opt/hooks"), hw_sim=Path("/sim"), timeout=3.0, mounts=("/", "/var"),
                     interconnect=("eth1",), serial=("/dev/ttyS1",))
    asyncio.run(read_hooks(s, fake))
    calls = {name: (args, kw) for name, args, kw in fake.calls}
    assert calls["selftest"] == (["--mount", "/", "--mount", "/var"], {"timeout": 3.0, "hw_sim": Path("/sim")})
    assert calls["link-status"][0] == ["--interconnect", "eth1", "--serial", "/dev/ttyS1"]


def test_hooks_that_fail_or_print_the_wrong_shape_are_failed_checks():
    fake = FakeHooks({"selftest": {"checks": [{"name": "x"}]},  # no component, no status
                      "link-status": HookResult("link-status", False, error="no answer in 3 s (killed)")})
    readings = asyncio.run(read_hooks(HookSettings(), fake))
    assert readings.links is None
    failed = {c.name: c.detail for c in readings.checks}
    assert failed["hook.link-status"] == "link-status: no answer in 3 s (killed)"
    assert failed["hook.selftest"].startswith("selftest: printed JSON of the wrong shape")
    assert all(c.status == "failed" for c in readings.checks)
    assert readings.to_dict()["failed"] == ["hook.selftest", "hook.link-status"]


# ---- the periodic run and the status document -----------------------------------------------------

def test_runs_keep_the_status_document_and_a_failed_link_status_keeps_the_rows_as_unknown():
    monitor = SimpleNamespace(self_checks=[], links=[])
    answers = dict(GOOD)
    fake = FakeHooks(answers)
    checks = SelfChecks(HookSettings(), monitor, run=fake)

    async def body():
        await checks.run_now()
        assert [(link.name, link.oper) for link in monitor.links] == [("t1-0001-a", "up"), ("ic0", "up")]
        answers["link-status"] = HookResult("link-status", False, error="exit status 1")
        await checks.run_now()
    asyncio.run(body())
    assert [(link.name, link.oper) for link in monitor.links] == [("t1-0001-a", "unknown"), ("ic0", "unknown")]
    assert {c.name: c.status for c in monitor.self_checks} == {"memory.mc0": "ok", "hook.link-status": "failed"}
    assert checks.runs == 2


def test_periodic_runs_at_the_interval_and_stop_on_close():
    waits: list[float] = []
    fake = FakeHooks(GOOD)

    async def body():
        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            await asyncio.sleep(0)
        checks = SelfChecks(HookSettings(interval=42.0), SimpleNamespace(self_checks=[], links=[]), run=fake,
                            sleep=sleep)
        checks.start()
        while checks.runs < 3:
            await asyncio.sleep(0.01)
        await checks.close()
        runs = checks.runs
        await asyncio.sleep(0.05)
        return runs, checks.runs
    before, after = asyncio.run(asyncio.wait_for(body(), 10))
    assert before == after >= 3
    assert waits and set(waits) == {42.0}


def test_runs_asked_for_at_once_do_not_overlap():
    fake = FakeHooks(GOOD, delay=0.05)
    checks = SelfChecks(HookSettings(), None, run=fake)

    async def body():
        await asyncio.gather(*(checks.run_now() for _ in range(4)))
    asyncio.run(asyncio.wait_for(body(), 10))
    assert checks.runs == 4 and 1 <= fake.most <= 2  # the two hooks of one run at most, never two runs


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(["t1-a", "t1-b", "ic0", "ttyS1"]), unique=True)),
                min_size=1, max_size=6))
def test_the_document_holds_the_last_good_links_marked_unknown_after_a_failure(outcomes):
    """State machine over link-status outcomes (None = the hook failed): the rows are always the last
    good run's lines, `unknown` iff a failure came after it."""
    monitor = SimpleNamespace(self_checks=[], links=[])
    answers = dict(GOOD)
    checks = SelfChecks(HookSettings(), monitor, run=FakeHooks(answers))

    async def body():
        last_good: list[str] = []
        failed_since = False
        for names in outcomes:
            if names is None:
                answers["link-status"] = HookResult("link-status", False, error="exit status 1")
                failed_since = True
            else:
                answers["link-status"] = {"links": [{"name": n, "kind": "interconnect", "oper": "up"} for n in names]}
                last_good, failed_since = names, False
            await checks.run_now()
            assert [link.name for link in monitor.links] == last_good
            assert all(link.oper == ("unknown" if failed_since else "up") for link in monitor.links)
            assert any(c.name == "hook.link-status" for c in monitor.self_checks) == failed_since
    asyncio.run(body())


# ---- the command ---------------------------------------------------------------------------------

def test_the_command_is_read_permission_and_runs_the_hooks(tmp_path):
    (command,) = commands()
    assert (command.name, command.permission) == ("selfcheck.run", "read") and "read" in PERMISSIONS
    node = tmp_path / "node.toml"
    node.write_text(f"[selfcheck]\nhw_sim = '{write_sim(tmp_path / 'hw')}'\ntimeout = 20\n")
    monitor = SimpleNamespace(self_checks=[], links=[])
    ctx = SimpleNamespace(config=SimpleNamespace(path=node), monitor=monitor, extras={})
    result = asyncio.run(run_selfcheck(ctx, SimpleNamespace(user_id="audit", role="auditor")))
    assert result["failed"] == [] and {link["name"] for link in result["links"]} == LINK_NAMES
    assert isinstance(ctx.extras[RUNNING], SelfChecks)
    assert {c.name for c in monitor.self_checks} == {c["name"] for c in result["checks"]}
    json.dumps(result)  # the control socket's answer


def test_bad_settings_make_the_command_refuse_with_one_line(tmp_path):
    from appliance.ops.commands import CommandError

    node = tmp_path / "node.toml"
    node.write_text("[selfcheck]\ninterval = -1\n")
    ctx = SimpleNamespace(config=SimpleNamespace(path=node), monitor=None, extras={})
    with pytest.raises(CommandError, match="'interval' must be more than 0"):
        asyncio.run(run_selfcheck(ctx, None))


# ---- the status document and the SNMP view -------------------------------------------------------

def monitor_for(levels=None) -> NodeMonitor:
    cfg = SimpleNamespace(name="primary", system_id="NPAC SMS", role="primary")
    monitor = NodeMonitor(cfg, lambda *a, **k: None)
    monitor.service_levels = levels
    return monitor


def test_status_document_carries_checks_links_and_the_meters_and_snmp_serves_them(tmp_path):
    """Exhibit G SLR 1, 3, 4, 5, 6, 7 from the meters; R10-6/R10-9 from the node's own hook runs."""
    meters = ServiceLevels("2026-11", 99.95, 1200.0, 15000.0, [CarrierMeters("0001", 4.5, 12.25, 100.0)])
    monitor = monitor_for(lambda: meters)
    checks = SelfChecks(HookSettings(hw_sim=write_sim(tmp_path / "hw"), timeout=20.0), monitor)
    asyncio.run(checks.run_now())
    board = StatusBoard.from_dict(json.loads(json.dumps(monitor.status(SimpleNamespace(connections=[])).to_dict())))
    assert board.service_levels == meters
    assert {link.name for link in board.links} == LINK_NAMES and len(board.self_checks) == 6
    tracker = Tracker()
    obs = Observed(board, True, time.time(), board.links, board.self_checks, "2026-11-22T06:00:00Z")
    tracker.update(obs, 0)
    snap = build_snapshot(obs, tracker, SystemInfo("d", "c", "n", "l"), {})
    assert snap.get(oid("npacSlAvailability") + (0,)) == 99950
    assert snap.get(oid("npacSlAckTimeP95") + (0,)) == 1200
    assert snap.get(oid("npacSlCarrierLsmsTps") + (4, 48, 48, 48, 49)) == 1225
    assert snap.get(oid("ifNumber") + (0,)) == len(LINK_NAMES)
    names = {bytes(v).decode() for k, v in snap.walk(oid("npacSelfCheckName"))}
    assert names == {c.name for c in board.self_checks}


def test_without_meters_the_document_has_the_month_only():
    board = monitor_for(None).status(SimpleNamespace(connections=[]))
    assert board.service_levels.month == time.strftime("%Y-%m", time.gmtime())
    assert (board.service_levels.availability, board.service_levels.carriers) == (None, [])
    assert board.self_checks == [] and board.links == []
    standby = monitor_for(lambda: None).status(SimpleNamespace(connections=[]))  # a standby's meters: none
    assert standby.service_levels.availability is None
    assert dataclasses.asdict(standby)["links"] == []
