"""The firmware hooks (JSON on stdout, exit 0 = ran) and the runner that must survive bad ones."""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from appliance.hooks import run_hook
from appliance.status import Link, SelfCheck, from_json
from tests.support.snmp_rig import HOOKS, edit_json, write_hw_sim

HOOK_NAMES = ("selftest", "link-status", "fence", "watchdog")


@pytest.fixture
def sim(tmp_path):
    return write_hw_sim(tmp_path / "hw")


def hook(name: str, sim: Path | None, *args: str) -> dict:
    result = run_hook(HOOKS, name, list(args), timeout=20, hw_sim=sim)
    assert result.ok, result.error
    assert result.data["hook"] == name and result.data["source"] == ("sim" if sim else "linux")
    return result.data


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_hooks_are_executables_with_a_shebang(name):
    path = HOOKS / name
    assert os.access(path, os.X_OK)
    assert path.read_text().startswith("#!/usr/bin/env python3\n")


def statuses(data: dict) -> dict[str, str]:
    return {c["name"]: c["status"] for c in data["checks"]}


def test_selftest_on_healthy_simulated_hardware(sim):
    data = hook("selftest", sim)
    assert statuses(data) == {"memory.mc0": "ok", "memory.mc1": "ok", "sensor.cpu0": "ok", "sensor.fan1": "ok",
                              "disk./var": "ok", "raid.md0": "ok", "watchdog": "ok"}
    assert data["status"] == "ok"
    for check in data["checks"]:  # the status document's SelfCheck shape
        from_json(SelfCheck, check, "check")


@pytest.mark.parametrize("file,change,name,status", [
    ("edac.json", lambda d: d["controllers"][1].update(ce_count=3), "memory.mc1", "warning"),  # R10-7: corrected
    ("edac.json", lambda d: d["controllers"][0].update(ue_count=1), "memory.mc0", "failed"),
    ("sensors.json", lambda d: d["sensors"][0].update(value=97.5), "sensor.cpu0", "failed"),
    ("sensors.json", lambda d: d["sensors"][0].update(value=88), "sensor.cpu0", "warning"),
    ("sensors.json", lambda d: d["sensors"][1].update(value=0), "sensor.fan1", "failed"),
    ("disks.json", lambda d: d["arrays"][0].update(active=1), "raid.md0", "failed"),  # duplexing lost
    ("disks.json", lambda d: d["filesystems"][0].update(free_bytes=2**30), "disk./var", "failed"),
    ("disks.json", lambda d: d["filesystems"][0].update(free_bytes=15 * 2**30), "disk./var", "warning"),
])
def test_selftest_reports_each_fault(sim, file, change, name, status):
    edit_json(sim / file, change)
    data = hook("selftest", sim)
    assert statuses(data)[name] == status
    assert data["status"] == status
    assert sum(1 for s in statuses(data).values() if s != "ok") == 1


def test_selftest_says_unknown_for_what_it_cannot_see(sim):
    for name in ("edac.json", "sensors.json", "watchdog.json"):
        (sim / name).unlink()
    got = statuses(hook("selftest", sim))
    assert got["memory"] == got["sensors"] == got["watchdog"] == "unknown"


def test_selftest_on_this_machine_reads_real_sources():
    got = statuses(hook("selftest", None, "--mount", "/"))
    assert got["disk./"] in ("ok", "warning", "failed")  # statvfs works everywhere
    assert set(got.values()) <= {"ok", "warning", "failed", "unknown"}
    assert "memory" in got or any(n.startswith("memory.mc") for n in got)  # EDAC, or "unknown" without it


def test_link_status_fills_defaults_and_stacks_ds0_on_ds1(sim):
    links = {link["name"]: link for link in hook("link-status", sim)["links"]}
    assert set(links) == {"t1-0001-a", "t1-0001-a/1-12", "t1-0002-a", "ic0", "ttyS1"}
    for link in links.values():
        from_json(Link, link, "link")
    t1 = links["t1-0001-a"]
    assert (t1["kind"], t1["oper"], t1["speed"]) == ("ds1", "up", 1_544_000)
    assert t1["ds1"]["line_status"] == ["dsx1NoAlarm"] and t1["ds1"]["current"] == {"es": 1, "lcv": 7}
    assert links["t1-0001-a/1-12"]["speed"] == 12 * 64_000
    assert links["t1-0002-a"]["ds1"]["line_coding"] == "ami"

    edit_json(sim / "links.json", lambda d: d["links"][0]["ds1"].update(line_status=["dsx1LossOfSignal"]))
    links = {link["name"]: link for link in hook("link-status", sim)["links"]}
    assert links["t1-0001-a"]["oper"] == "down"
    assert links["t1-0001-a/1-12"]["oper"] == "lowerLayerDown"

    edit_json(sim / "links.json", lambda d: d["links"][2].update(admin="down"))
    assert {link["name"]: link for link in hook("link-status", sim)["links"]}["t1-0002-a"]["oper"] == "down"


def test_link_status_reads_real_interfaces():
    rx = Path("/sys/class/net/lo/statistics/rx_bytes")
    before = int(rx.read_text())
    links = hook("link-status", None, "--interconnect", "lo", "--interconnect", "nosuch0", "--serial", "/dev/nosuch")
    by_name = {link["name"]: link for link in links["links"]}
    assert before <= by_name["lo"]["counters"]["in_octets"] <= int(rx.read_text())
    assert (by_name["lo"]["kind"], by_name["lo"]["medium"]) == ("interconnect", "ethernet")
    assert by_name["nosuch0"]["oper"] == "notPresent" and by_name["nosuch"]["oper"] == "notPresent"
    assert by_name["nosuch"]["medium"] == "serial"


def test_fence_reports_the_simulated_outcome_and_logs_the_call(sim):
    data = hook("fence", sim, "--peer", "dr")
    assert (data["peer"], data["fenced"], data["method"]) == ("dr", True, "sim")
    edit_json(sim / "fence.json", lambda d: d.update(fenced=False, detail="PDU did not answer"))
    assert hook("fence", sim, "--peer", "dr")["fenced"] is False
    calls = [json.loads(line) for line in (sim / "fence.log").read_text().splitlines()]
    assert [c["fenced"] for c in calls] == [True, False]


def test_fence_takes_the_peer_from_npac_peer_too(sim):
    result = run_hook(HOOKS, "fence", [], hw_sim=sim, env={**os.environ, "NPAC_PEER": "primary"})
    assert result.ok and result.data["peer"] == "primary" and result.data["fenced"] is True
    assert not run_hook(HOOKS, "fence", [], hw_sim=sim, env={k: v for k, v in os.environ.items()
                                                             if k != "NPAC_PEER"}).ok


def test_fence_never_claims_a_fence_without_a_device():
    data = hook("fence", None, "--peer", "dr")
    assert data["fenced"] is False and data["method"] == "none"


def test_watchdog_status_and_kick(sim):
    status = hook("watchdog", sim)
    assert (status["present"], status["identity"], status["kicked"]) == (True, "sim_wdt", False)
    assert hook("watchdog", sim, "--kick")["kicked"] is True
    assert hook("watchdog", sim, "--kick")["kicked"] is True
    assert (sim / "watchdog.kicks").read_text() == "2"


def test_watchdog_status_does_not_open_the_device():
    data = hook("watchdog", None)
    assert data["kicked"] is False


# ---- the runner ------------------------------------------------------------------------------------

def make_hook(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


def test_a_hanging_hook_is_killed_with_its_children(tmp_path):
    pidfile = tmp_path / "child.pid"
    make_hook(tmp_path / "h", "selftest", f"sleep 60 & echo $! > {pidfile}\nsleep 60")
    start = time.monotonic()
    result = run_hook(tmp_path / "h", "selftest", timeout=0.5)
    assert time.monotonic() - start < 5
    assert not result.ok and "no answer in 0.5 s" in result.error
    assert result.failed_check() == {"name": "hook.selftest", "component": "hook", "status": "failed",
                                     "detail": "selftest: no answer in 0.5 s (killed)"}
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_a_hook_that_exits_early_but_leaves_a_child_holding_stdout_is_cut_off(tmp_path):
    make_hook(tmp_path / "h", "link-status", "echo '{}'\nsleep 60 &\nexit 0")
    result = run_hook(tmp_path / "h", "link-status", timeout=0.5)
    assert not result.ok and "no answer" in result.error


@pytest.mark.parametrize("body,error", [
    ("echo 'sensor bus stuck' >&2\nexit 3", "exit status 3: sensor bus stuck"),
    ("kill -SEGV $$", "signal 11"),
    ("echo 'temperature: hot'", "did not print JSON"),
    ("printf '\\377\\376garbage'", "did not print JSON"),
    ("echo '[1, 2, 3]'", "printed JSON that is not an object"),
    ("head -c 3000000 /dev/zero", "printed more than 1048576 bytes"),
])
def test_a_misbehaving_hook_is_a_failed_run_not_a_crash(tmp_path, body, error):
    make_hook(tmp_path / "h", "selftest", body)
    result = run_hook(tmp_path / "h", "selftest", timeout=10)
    assert not result.ok
    assert error in result.error


def test_a_missing_or_non_executable_hook_is_reported(tmp_path):
    assert "no executable hook" in run_hook(tmp_path, "selftest").error
    (tmp_path / "selftest").write_text("#!/bin/sh\necho '{}'\n")
    assert "no executable hook" in run_hook(tmp_path, "selftest").error


def test_the_runner_passes_npac_hw_sim(tmp_path):
    make_hook(tmp_path / "h", "selftest", 'printf \'{"sim": "%s"}\' "$NPAC_HW_SIM"')
    result = run_hook(tmp_path / "h", "selftest", hw_sim=tmp_path / "hw")
    assert result.ok and result.data == {"sim": str(tmp_path / "hw")}


def test_hooks_run_from_any_directory(sim, tmp_path):
    proc = subprocess.run([str(HOOKS / "selftest")], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "NPAC_HW_SIM": str(sim)}, timeout=30)
    assert proc.returncode == 0 and json.loads(proc.stdout)["hook"] == "selftest"
