"""Two HA managers in one process, each with its own store, replication and heartbeats over a UDP
relay and a pty null modem (tests/support/ha_rig.py): one path lost is an alarm, both lost without
a fence is no cutover, both lost with a fence is a cutover, the old primary rejoins as standby,
switchback replays the DR's updates, forged and lying heartbeats change nothing (contract 12.4/12.5,
FRS RN10-1..4, IIS 5.3.1.2, SLR 8/22/23)."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.store import Store
from ha.cable import NullModem
from ha.config import ConfigError, load_config
from ha.control import ControlError, JsonlClient, serve_jsonl, serve_node
from ha.fence import run_fence
from ha.heartbeat import SESSION, PathTracker
from ha.manager import CLAIM_NOT_BACKED
from ha.node_link import LocalNode
from ha.receiver import DISCARDED, ReplicationReceiver
from ha.replication import Durability, ReplicationSender
from ha.roles import (FENCE_FAILED, NEEDS_OPERATOR, PEER_LOST, Aarq, BothPathsLost, PathLost, PathRestored,
                      PeerHeard, path_alarm)
from ha.wire import Heartbeat, seal, to_line
from tests.support.ha_rig import (DEAD_TIME, KEY, Pair, fence_calls, fence_script, key_file, put, run,
                                  wait_until)

FORMED = {"primary": "primary-live", "dr": "standby"}
ROOT = Path(__file__).resolve().parents[1]


async def formed(pair: Pair) -> None:
    await wait_until(lambda: pair.roles() == FORMED, what=f"the pair to form (roles {pair.roles()})")


async def idle(seconds: float) -> None:
    await asyncio.sleep(seconds)


def test_path_tracker_declares_each_path_and_the_peer_lost_after_the_dead_time():
    """Pure part: a path is down after the dead time of silence; the peer after both are."""
    tracker = PathTracker(["network", "serial"], 10.0, now=0.0)
    assert tracker.update(5.0) == []
    tracker.heard("serial", 9.0)
    assert tracker.update(10.0) == [PathLost("network")]
    assert tracker.update(18.9) == []
    assert tracker.update(19.0) == [PathLost("serial"), BothPathsLost()]
    tracker.heard("network", 30.0)
    assert tracker.update(30.0) == [PathRestored("network"), PeerHeard()]


def test_a_cold_start_elects_the_primary_and_the_dr_follows(tmp_path):
    """IIS 5.3.1.2 / RN10-1: the live primary accepts, the DR answers try-other-host; every write is
    held by the DR before the carrier is answered."""
    async def scenario() -> None:
        pair = await Pair.start(tmp_path)
        try:
            await formed(pair)
            primary, dr = pair.nodes["primary"], pair.nodes["dr"]
            assert primary.link and dr.link
            assert (primary.link.aarq_answer(), dr.link.aarq_answer()) == (Aarq.ACCEPT, Aarq.TRY_OTHER_HOST)
            assert primary.link.may_write() and not dr.link.may_write()
            assert await primary.sender.replicate(put(primary.store, 1)) is Durability.PEER
            assert primary.store.epoch == dr.store.epoch == 2
            assert dr.store.dump() == primary.store.dump()
        finally:
            await pair.close()
    run(scenario())


@pytest.mark.parametrize("path", ["network", "serial"])
def test_one_path_lost_is_an_alarm_never_a_cutover(tmp_path, path):
    """Contract 12.4 / ARCHITECTURE: losing one heartbeat path raises an alarm on both nodes; nobody
    fences, nobody promotes; restoring it clears the alarm."""
    async def scenario() -> None:
        pair = await Pair.start(tmp_path)
        try:
            await formed(pair)
            pair.cut(network=path == "network", serial=path == "serial")
            managers = [pair.nodes[n].manager for n in ("primary", "dr")]
            await wait_until(lambda: all(path_alarm(path) in m.alarms for m in managers if m), what="path alarms")
            await idle(3 * DEAD_TIME)
            assert pair.roles() == FORMED and not fence_calls(tmp_path, "fence-dr")
            assert all(PEER_LOST not in m.alarms for m in managers if m)
            pair.restore()
            await wait_until(lambda: all(path_alarm(path) not in m.alarms for m in managers if m), what="clear")
        finally:
            await pair.close()
    run(scenario())


def test_both_paths_lost_without_a_fence_is_no_cutover(tmp_path):
    """Never two writers: the fence hook says not fenced, so the DR stays standby and asks for an
    operator, while the primary keeps serving alone (isolated); afterwards the DR catches up. Carriers
    are not told of an outage they never had (SLR 22 counts from a confirmed outage)."""
    async def scenario() -> None:
        pair = await Pair.start(tmp_path, fenced=False)
        try:
            await formed(pair)
            primary, dr = pair.nodes["primary"], pair.nodes["dr"]
            assert primary.manager and dr.manager and primary.link
            pair.cut()
            await wait_until(lambda: NEEDS_OPERATOR in dr.manager.alarms, what="operator alarm")
            assert FENCE_FAILED in dr.manager.alarms and fence_calls(tmp_path, "fence-dr")[0] == "primary"
            await idle(2 * DEAD_TIME)
            assert pair.roles() == {"primary": "isolated", "dr": "standby"}
            assert primary.link.aarq_answer() is Aarq.ACCEPT and primary.link.may_write()
            assert await primary.sender.replicate(put(primary.store, 7)) is Durability.LOCAL
            pair.restore()
            await formed(pair)
            await wait_until(lambda: dr.store.last_sequence() == primary.store.last_sequence(), what="the DR caught up")
            assert dr.store.dump() == primary.store.dump()
            # a retried fence still out when the paths came back may report after them: the
            # broken-switch alarm may stand (it is about the device), nothing else
            await wait_until(lambda: set(dr.manager.alarms) <= {FENCE_FAILED}, what="the DR's alarms cleared")
            assert not fence_calls(tmp_path, "fence-primary")
            assert dr.link is not None and dr.link.notices == []  # silence was never a confirmed outage
        finally:
            await pair.close()
    run(scenario())


def test_cutover_with_a_fence_then_rejoin_and_switchback(tmp_path):
    """Contract 12.4: both paths lost + fence -> the DR accepts associations, with detection, decision
    and completion recorded; SLR 22/23 notices; the old primary returns at a lower epoch and rejoins as
    standby holding the DR's updates; switchback (RN10-2..4) hands the lead back with nothing lost."""
    async def scenario() -> None:
        pair = await Pair.start(tmp_path, fenced=True)
        try:
            await formed(pair)
            primary, dr = pair.nodes["primary"], pair.nodes["dr"]
            assert dr.manager and dr.link
            for n in range(5):
                await primary.sender.replicate(put(primary.store, n))
            pair.cut()
            await wait_until(lambda: pair.roles() == {"dr": "isolated"}, what="cutover")
            assert not primary.running and dr.link.aarq_answer() is Aarq.ACCEPT and dr.store.epoch == 3
            marks = dr.manager.cutover
            assert marks["detected"] <= marks["decided"] <= marks["completed"]
            assert marks["completed"] - marks["detected"] < 600_000
            kinds = [kind for kind, _ in dr.link.notices]
            assert kinds[:2] == ["unscheduled-unavailability", "service-restored"]
            assert dr.link.notices[1][1]["database"]["lost"] is False  # sync replication: nothing lost
            for n in range(100, 110):
                assert await dr.sender.replicate(put(dr.store, n, "0002")) is Durability.LOCAL
            pair.restore()
            old = await pair.boot("primary")
            assert old.link and old.manager and old.link.aarq_answer() is Aarq.TRY_OTHER_HOST
            await wait_until(lambda: pair.roles() == {"primary": "standby", "dr": "primary-live"},
                             what="the old primary rejoined")
            await wait_until(lambda: old.store.dump() == dr.store.dump(), what="DR updates replayed")
            assert old.store.epoch == 3 and dr.sender.status().at_risk is None
            assert await dr.manager.request_switchback() == "draining"
            await wait_until(lambda: pair.roles() == FORMED, what="switchback")
            assert old.store.epoch == 4 and dr.store.epoch == 4
            assert [k for k, _ in dr.link.notices if k.startswith("switchback")] == ["switchback"]
            assert await old.sender.replicate(put(old.store, 200)) is Durability.PEER
            assert old.link.aarq_answer() is Aarq.ACCEPT and dr.link.aarq_answer() is Aarq.TRY_OTHER_HOST
            assert old.store.dump() == dr.store.dump()
        finally:
            await pair.close()
    run(scenario(), timeout=90)


def test_a_stale_primary_stops_writing_and_rejoins_behind_the_promoted_dr(tmp_path):
    """An operator promoted the DR while the isolated primary was still writing alone. When they meet,
    the primary verifies the DR's higher epoch, stops writing at once, resynchronises (its lone rows
    kept for the lost-transaction report, contract 12.5) and becomes the standby."""
    async def scenario() -> None:
        pair = await Pair.start(tmp_path, fenced=False)
        try:
            await formed(pair)
            primary, dr = pair.nodes["primary"], pair.nodes["dr"]
            assert primary.manager and dr.manager and primary.link and primary.receiver
            pair.cut()
            await wait_until(lambda: NEEDS_OPERATOR in dr.manager.alarms, what="operator alarm")
            await primary.sender.replicate(put(primary.store, 1, "0009"))
            assert await dr.manager.confirm_promotion() == "promoting"
            await wait_until(lambda: dr.role == "isolated", what="DR promoted")
            pair.restore()
            await wait_until(lambda: pair.roles() == {"primary": "standby", "dr": "primary-live"}, what="rejoin")
            assert not primary.link.may_write() and primary.store.epoch == dr.store.epoch == 3
            assert DISCARDED in primary.receiver.alarms
            assert primary.store.dump() == dr.store.dump()
        finally:
            await pair.close()
    run(scenario())


def hb(node: str, role: str, epoch: int, boot: int, counter: int, time_ms: int | None = None) -> Heartbeat:
    return Heartbeat(node, role, epoch, 1, 0, node == "primary", boot, counter,
                     time_ms if time_ms is not None else time.time_ns() // 1_000_000)


def test_forged_replayed_and_lying_heartbeats_change_nothing(tmp_path):
    """Heartbeats are authenticated and fresh, or dropped; a valid heartbeat claiming a higher epoch or
    that nobody leads is checked against the peer's replication endpoint before anything moves."""
    async def scenario() -> None:
        pair = await Pair.start(tmp_path)
        try:
            await formed(pair)
            primary, dr = pair.nodes["primary"], pair.nodes["dr"]
            assert primary.manager and dr.manager and primary.udp and dr.udp
            to_primary, to_dr = primary.udp.address, dr.udp.address
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            dr_boot = dr.manager.heartbeats.boot
            before = primary.manager.heartbeats.dropped
            for data in (seal(bytes(32), hb("dr", "standby", 2, dr_boot, 10**6), SESSION),   # wrong key
                         seal(KEY, hb("primary", "standby", 2, dr_boot, 10**6), SESSION),   # its own name
                         seal(KEY, hb("dr", "standby", 2, dr_boot, 10**6, time_ms=0), SESSION),  # stale
                         seal(KEY, hb("dr", "standby", 2, dr_boot, 1), SESSION),            # replayed
                         b"\x00" * 40):
                sock.sendto(data, to_primary)
            pair.modem.inject(0, b"line noise\n" + to_line(seal(bytes(32), hb("dr", "fenced", 0, dr_boot, 10**6),
                                                                     SESSION)))
            await wait_until(lambda: primary.manager.heartbeats.dropped >= before + 5, what="drops")
            # the liar holds the key and owns the heartbeat paths (the real ones are cut), while the
            # replication endpoints still answer for the real nodes
            pair.udp.cut()
            pair.modem.cut()
            lie_boot = dr_boot + 10**6
            for counter in range(1, int(3 * DEAD_TIME / 0.05)):
                sock.sendto(seal(KEY, hb("dr", "primary-live", 99, lie_boot, counter), SESSION), to_primary)
                sock.sendto(seal(KEY, hb("primary", "fenced", 0, lie_boot, counter), SESSION), to_dr)
                await asyncio.sleep(0.05)
            sock.close()
            pair.restore()
            assert CLAIM_NOT_BACKED in primary.manager.alarms and ("epoch", "dr", False) in primary.manager.claims
            assert ("election", "primary", False) in dr.manager.claims
            assert pair.roles() == FORMED and primary.store.epoch == dr.store.epoch == 2
            assert not [t for t in dr.manager.history if t.after == "promoting"]
        finally:
            await pair.close()
    run(scenario())


# --- the npac-ha process ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_m_ha_runs_the_manager_against_a_node_socket(tmp_path):
    """`python -m ha --config FILE`: drives the node over its control socket (role pushed at start),
    alone it asks for an operator rather than promoting, answers status on its own socket, and stops
    cleanly on SIGTERM; a bad configuration is one line and exit code 2."""

    async def scenario() -> None:
        store = Store(tmp_path / "store.db")
        sender = ReplicationSender(store, KEY, node="primary")
        receiver = ReplicationReceiver(store, KEY, node="primary", peer=("127.0.0.1", free_port()), retry=0.2)
        link = LocalNode(store, sender, receiver)
        node_server = await serve_node(tmp_path / "node.sock", link)
        modem = NullModem()
        modem.start()
        config = tmp_path / "ha.toml"
        config.write_text(f"""
[ha]
node = "primary"
peer = "dr"
role = "primary"
key_file = "{key_file(tmp_path).name}"
interval = 0.05
dead_time = 0.3
control_socket = "ha.sock"
node_socket = "node.sock"
[heartbeat]
udp_bind = "127.0.0.1:{free_port()}"
udp_peer = "127.0.0.1:{free_port()}"
serial = "{modem.ends[0]}"
[fence]
command = ["{fence_script(tmp_path, True)}"]
timeout = 2.0
[replication]
peer = "127.0.0.1:{free_port()}"
""")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "ha", "--config", str(config), env=env,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            await wait_until(lambda: (tmp_path / "ha.sock").exists(), what="the control socket")
            console = JsonlClient(tmp_path / "ha.sock")
            status: dict = {}
            for _ in range(200):
                status = await console.call("status")
                if NEEDS_OPERATOR in status["alarms"]:
                    break
                await asyncio.sleep(0.02)
            assert status["role"] == "fenced" and PEER_LOST in status["alarms"] and NEEDS_OPERATOR in status["alarms"]
            assert str(link.role) == "fenced" and receiver.running and not link.may_write()
            assert not fence_calls(tmp_path)  # a fenced node never fences
            console.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await proc.communicate()
            node_server.close()
            await receiver.stop()
            modem.close()
            store.close()
        assert proc.returncode == 0, err.decode()[-2000:]
        assert not (tmp_path / "ha.sock").exists()

    run(scenario())
    bad = tmp_path / "bad.toml"
    bad.write_text('[ha]\nnode = "primary"\n')
    result = subprocess.run([sys.executable, "-m", "ha", "--config", str(bad)], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=30)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "npac-ha:" in result.stderr


def hook(folder: Path, body: str) -> str:
    path = folder / "hook"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o700)
    return str(path)


@pytest.mark.parametrize("body, fenced, error", [
    ('echo \'{"fenced": true, "method": "ipmi"}\'', True, ""),
    ('echo \'{"fenced": false}\'', False, "hook says not fenced"),
    ('echo \'{"fenced": "yes"}\'', False, "hook says not fenced"),  # only an explicit true counts
    ("echo '[true]'", False, "not a JSON object"),
    ("echo powered off", False, "not JSON"),
    ("echo 'ipmi: no route' >&2; exit 3", False, "exit 3: ipmi: no route"),
    ("sleep 5", False, "no answer within 0.3 s"),
])
def test_the_fence_hook_promotes_only_on_an_explicit_fenced_true(tmp_path, body, fenced, error):
    """Being wrong about a fence costs a second writer: anything but {"fenced": true} is a failure."""
    result = run(run_fence([hook(tmp_path, body)], 0.3, "dr"))
    assert result.fenced is fenced and error in result.error
    assert run(run_fence([str(tmp_path / "missing")], 0.3, "dr")).error.startswith("cannot run")


def test_the_fence_hook_is_told_which_peer(tmp_path):
    result = run(run_fence([hook(tmp_path, 'echo "{\\"fenced\\": true, \\"peer\\": \\"$NPAC_PEER\\"}"')], 2, "dr"))
    assert result.fenced and result.detail["peer"] == "dr"


def test_config_errors_are_one_clear_line(tmp_path):
    key = key_file(tmp_path)
    good = {"ha": f'node = "primary"\npeer = "dr"\nrole = "primary"\nkey_file = "{key.name}"\n',
            "heartbeat": 'udp_peer = "192.0.2.2:694"\nserial = "/dev/ttyS1"\n',
            "replication": 'peer = "192.0.2.2:7410"\n'}

    def load(**override: str):
        text = "".join(f"[{table}]\n{override.get(table, body)}" for table, body in good.items())
        (tmp_path / "ha.toml").write_text(text)
        return load_config(tmp_path / "ha.toml")

    cfg = load()
    assert cfg.preferred and cfg.key == KEY and cfg.fence_command[0].endswith("firmware-hooks/fence")
    assert cfg.udp_bind == ("0.0.0.0", 694) and cfg.replication.policy.value == "async"
    for table, body, message in (
            ("heartbeat", 'udp_peer = "192.0.2.2:694"\nserial = ""\n', "'serial' is required"),
            ("heartbeat", 'udp_peer = "nowhere"\nserial = "/dev/ttyS1"\n', "must be host:port"),
            ("ha", good["ha"] + "interval = 5\ndead_time = 10\n", "at least 3 heartbeat intervals"),
            ("ha", good["ha"].replace('"primary"\n', '"dr"\n', 1), "two different names"),
            ("ha", good["ha"].replace('role = "primary"', 'role = "backup"'), "primary or dr"),
            ("replication", 'peer = "192.0.2.2:7410"\npolicy = "maybe"\n', "async or refuse")):
        with pytest.raises(ConfigError, match=message):
            load(**{table: body})
    key.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load()


def test_the_control_socket_answers_each_request_and_names_bad_ones(tmp_path):
    async def scenario() -> None:
        async def echo(text: str) -> str:
            return text

        server = await serve_jsonl(tmp_path / "c.sock", {"echo": echo})
        client = JsonlClient(tmp_path / "c.sock")
        try:
            assert await client.call("echo", text="hi") == "hi"
            with pytest.raises(ControlError, match="unknown op 'nope'"):
                await client.call("nope")
            with pytest.raises(ControlError, match="unexpected keyword"):
                await client.call("echo", wrong=1)
            assert oct((tmp_path / "c.sock").stat().st_mode & 0o777) == "0o600"
        finally:
            client.close()
            server.close()
        with pytest.raises(ControlError):
            await JsonlClient(tmp_path / "absent.sock", timeout=0.5).call("echo", text="x")
    run(scenario())
