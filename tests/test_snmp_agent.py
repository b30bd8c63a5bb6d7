"""The SNMP agent process against a real node, queried with net-snmp, notifications caught by snmptrapd.

One node (python -m appliance.node), one agent (python -m snmp.agent) on simulated hardware and one
snmptrapd serve the whole module; the tests that change the simulated hardware put it back.
"""
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from appliance.config import load_config
from appliance.control import ControlError, ControlServer, request, request_async
from appliance.lnp.keys import generate_key_list
from appliance.lnp.security import SOA, Identity
from appliance.osi.association import Address
from appliance.osi.transport import AssociationLost
from appliance.peers.carrier import CarrierAssociation, Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from appliance.status import (
    CarrierMeters, Ds1Line, HeartbeatPath, Link, Peer, Replication, ServiceLevels, StatusBoard, StatusError, breaches,
)
from snmp.config import ConfigError as AgentConfigError
from snmp.config import load_config as load_agent_config
from tests.support.snmp_rig import (
    NPAC, DEFAULT_HW, ROOT, NetSnmp, TrapReceiver, edit_json, eventually, free_port, net_snmp_env, start_agent,
    start_node, write_agent_config, write_hw_sim,
)

SYS = ".1.3.6.1.2.1.1"
IF_ENTRY = ".1.3.6.1.2.1.2.2.1"
IFX_ENTRY = ".1.3.6.1.2.1.31.1.1.1"
DS1 = ".1.3.6.1.2.1.10.18"
NODE, ASSOC, SECURITY, CHECKS = f"{NPAC}.1.1", f"{NPAC}.1.4", f"{NPAC}.1.7", f"{NPAC}.1.6"
TRAP_OID = ".1.3.6.1.6.3.1.1.4.1.0"
LINK_DOWN, LINK_UP = ".1.3.6.1.6.3.1.1.5.3", ".1.3.6.1.6.3.1.1.5.4"
DS1_LINE_STATUS_CHANGE = f"{DS1}.15.0.1"
ENGINE_ID = (bytes.fromhex("80007f5904") + b"npac-primary").hex()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("snmp")
    hw = write_hw_sim(tmp / "hw")
    trapd = TrapReceiver(tmp, ENGINE_ID)
    node, node_cfg_path, cmip_port = start_node(tmp)
    node_cfg = load_config(node_cfg_path)
    port = free_port(socket.SOCK_DGRAM)
    cfg = write_agent_config(tmp / "snmp.toml", port=port, control_socket=node_cfg.control_socket, hw_sim=hw,
                             trap_port=trapd.port)
    agent = start_agent(cfg)
    try:
        yield SimpleNamespace(tmp=tmp, hw=hw, trapd=trapd, node=node, node_cfg=node_cfg, cmip_port=cmip_port,
                              agent=agent, port=port, snmp=NetSnmp(port, net_snmp_env(tmp / "client")))
    finally:
        assert agent.stop() == 0
        assert node.stop() == 0
        trapd.stop()


def if_indexes(rig) -> dict[str, int]:
    names = rig.snmp.walk(f"{IFX_ENTRY}.1")
    return {name: int(oid.rsplit(".", 1)[1]) for oid, name in names.items()}


def node_status(rig) -> dict:
    return request(rig.node_cfg.control_socket, "status")


def carrier(rig, identity=None) -> CarrierAssociation:
    keys = DemoKeys(rig.tmp / "keys")
    return CarrierAssociation(identity or keys.carrier_identity("0001", SOA), keys.carrier_directory(),
                              frozenset({"soa.soaMgmt"}), npac_system_id=NPAC_SYSTEM_ID)


def hosts(rig) -> list[Host]:
    cfg = rig.node_cfg
    return [Host("127.0.0.1", rig.cmip_port, Address(cfg.tsap, cfg.ssap, cfg.psap))]


def test_system_group(rig):
    got = rig.snmp.get(*(f"{SYS}.{i}.0" for i in range(1, 8)))
    assert got[f"{SYS}.2.0"] == f"{NPAC}.3.1"  # sysObjectID npacSmsAppliance
    assert got[f"{SYS}.5.0"] == "npac-primary" and got[f"{SYS}.6.0"] == "test rack"
    assert got[f"{SYS}.4.0"] == "npac-ops@example.net"
    assert "NPAC SMS appliance" in got[f"{SYS}.1.0"]
    assert got[f"{SYS}.7.0"] == "72"
    first = int(got[f"{SYS}.3.0"])
    time.sleep(0.2)
    assert int(rig.snmp.get(f"{SYS}.3.0")[f"{SYS}.3.0"]) > first  # sysUpTime runs


def test_if_table_has_one_row_per_link(rig):
    index = if_indexes(rig)
    assert set(index) == {link["name"] for link in DEFAULT_HW["links.json"]["links"]}
    table = rig.snmp.walk(IF_ENTRY)

    def col(c: int, name: str) -> str:
        return table[f"{IF_ENTRY}.{c}.{index[name]}"]
    assert rig.snmp.get(".1.3.6.1.2.1.2.1.0")[".1.3.6.1.2.1.2.1.0"] == "5"
    assert [col(3, n) for n in ("t1-0001-a", "t1-0001-a/1-12", "ic0", "ttyS1")] == ["18", "82", "6", "33"]
    assert col(2, "t1-0001-a") == "DS-1 to carrier 0001, VPOP Montreal"
    assert col(5, "t1-0001-a") == "1544000" and col(5, "t1-0001-a/1-12") == "768000"
    assert all(col(8, n) == "1" for n in index)  # ifOperStatus up
    assert (col(10, "t1-0001-a"), col(16, "t1-0001-a"), col(14, "t1-0001-a")) == ("48000", "52000", "2")
    hc = rig.snmp.get(f"{IFX_ENTRY}.6.{index['ic0']}", f"{IFX_ENTRY}.15.{index['ic0']}")
    assert list(hc.values()) == [str(10**10), "1000"]  # ifHCInOctets past 2^32, ifHighSpeed in Mb/s
    stack = rig.snmp.walk(".1.3.6.1.2.1.31.1.2.1.3")
    assert stack[f".1.3.6.1.2.1.31.1.2.1.3.{index['t1-0001-a/1-12']}.{index['t1-0001-a']}"] == "1"


def test_ds1_tables(rig):
    index = if_indexes(rig)
    a, b = index["t1-0001-a"], index["t1-0002-a"]
    config = rig.snmp.walk(f"{DS1}.6")
    assert {oid.rsplit(".", 1)[1] for oid in config} == {str(a), str(b)}
    row = {c: config[f"{DS1}.6.1.{c}.{a}"] for c in (2, 3, 4, 5, 6, 8, 10, 14, 20)}
    assert row == {2: str(a), 3: "300", 4: "2", 5: "2", 6: "2", 8: "MTL/T1/0001-A", 10: "1", 14: "0", 20: "2"}
    assert (config[f"{DS1}.6.1.5.{b}"], config[f"{DS1}.6.1.6.{b}"]) == ("3", "5")  # D4, AMI
    current = rig.snmp.walk(f"{DS1}.7")
    assert (current[f"{DS1}.7.1.2.{a}"], current[f"{DS1}.7.1.11.{a}"]) == ("1", "7")  # ESs, LCVs
    intervals = rig.snmp.walk(f"{DS1}.8")
    assert [intervals[f"{DS1}.8.1.3.{a}.{n}"] for n in (1, 2, 3)] == ["3", "1", "9"]
    assert [intervals[f"{DS1}.8.1.13.{a}.{n}"] for n in (1, 2, 3)] == ["1", "1", "2"]  # ValidData
    total = rig.snmp.walk(f"{DS1}.9")
    assert total[f"{DS1}.9.1.2.{a}"] == "4"  # the invalid interval's 9 ESs do not count


def test_role_epoch_and_identity_match_the_node(rig):
    status = node_status(rig)
    got = rig.snmp.walk(NODE)
    assert got[f"{NODE}.1.0"] == status["node"] == "primary"
    assert got[f"{NODE}.2.0"] == status["system_id"]
    assert got[f"{NODE}.3.0"] == "1" and status["role"] == "primary-live"
    assert got[f"{NODE}.4.0"] == str(status["epoch"])
    assert got[f"{NODE}.6.0"] == "1"  # the status source answers
    assert got[f"{NODE}.8.0"] == status["software"]


def test_self_check_table(rig):
    table = rig.snmp.walk(f"{CHECKS}.3.1")
    names = {oid.rsplit(".", 1)[1]: v for oid, v in table.items() if oid.startswith(f"{CHECKS}.3.1.2.")}
    assert set(names.values()) == {"memory.mc0", "memory.mc1", "sensor.cpu0", "sensor.fan1", "disk./var",
                                   "raid.md0", "watchdog"}
    assert all(table[f"{CHECKS}.3.1.4.{i}"] == "1" for i in names)  # ok
    assert rig.snmp.get(f"{CHECKS}.2.0")[f"{CHECKS}.2.0"] == "0"


def test_an_open_association_is_in_the_mib(rig):
    async def body():
        c = carrier(rig)
        await c.open(hosts(rig))
        local_port = c.conn.transport.get_extra_info("sockname")[1]

        def seen():
            table = rig.snmp.walk(f"{ASSOC}.3.1")
            return table if any(v == str(local_port) for k, v in table.items() if k.startswith(f"{ASSOC}.3.1.6.")) \
                else None
        table = await asyncio.to_thread(eventually, seen)
        (row,) = [k.rsplit(".", 1)[1] for k, v in table.items()
                  if k.startswith(f"{ASSOC}.3.1.6.") and v == str(local_port)]
        status = node_status(rig)
        (mine,) = [a for a in status["associations"] if a["peer_port"] == local_port]
        assert (mine["system_id"], mine["system_type"], mine["peer_address"]) == ("0001", "soa", "127.0.0.1")
        assert table[f"{ASSOC}.3.1.2.{row}"] == "0001"
        assert table[f"{ASSOC}.3.1.3.{row}"] == "1"  # soa
        assert table[f"{ASSOC}.3.1.4.{row}"] == "1"  # ipv4
        assert table[f"{ASSOC}.3.1.5.{row}"].replace(" ", "").upper() == "7F000001"
        per_carrier = await asyncio.to_thread(rig.snmp.walk, f"{ASSOC}.2.1.3")
        assert per_carrier[f"{ASSOC}.2.1.3.4.48.48.48.49.1"] == "1"  # "0001", soa
        count = await asyncio.to_thread(rig.snmp.get, f"{ASSOC}.1.0")
        assert count[f"{ASSOC}.1.0"] == str(len(status["associations"]))
        await c.release()

        def gone():
            return rig.snmp.get(f"{ASSOC}.1.0")[f"{ASSOC}.1.0"] == "0"
        await asyncio.to_thread(eventually, gone)
    asyncio.run(asyncio.wait_for(body(), 60))


def test_a_forged_signature_is_counted_and_trapped(rig):
    before = node_status(rig)["security"]["signature"]

    async def body():
        impostor = Identity("0001", SOA, generate_key_list("0001", 1, count=1), 1)
        with pytest.raises(AssociationLost):
            await carrier(rig, impostor).open(hosts(rig))
    asyncio.run(asyncio.wait_for(body(), 30))
    assert node_status(rig)["security"]["signature"] == before + 1
    eventually(lambda: rig.snmp.get(f"{SECURITY}.1.0")[f"{SECURITY}.1.0"] == str(before + 1))
    trap = rig.trapd.wait_for(f"{NPAC}.0.6")
    assert trap[f"{SECURITY}.7.0"] == "signature" and trap[f"{SECURITY}.8.0"] == "0001"
    assert trap[f"{SECURITY}.9.0"].startswith("127.0.0.1:")


def test_ds1_loss_of_signal_and_recovery_are_trapped(rig):
    index = if_indexes(rig)
    line, group = index["t1-0001-a"], index["t1-0001-a/1-12"]
    links = rig.hw / "links.json"
    edit_json(links, lambda d: d["links"][0]["ds1"].update(line_status=["dsx1LossOfSignal"]))
    down = rig.trapd.wait_for(LINK_DOWN, lambda n: n.get(f"{IF_ENTRY}.1.{line}") == str(line))
    assert down[f"{IF_ENTRY}.8.{line}"] == "2"
    status = rig.trapd.wait_for(DS1_LINE_STATUS_CHANGE, lambda n: n.get(f"{DS1}.6.1.10.{line}") == "64")
    assert int(status[f"{DS1}.6.1.16.{line}"]) > 0
    rig.trapd.wait_for(LINK_DOWN, lambda n: n.get(f"{IF_ENTRY}.8.{group}") == "7")  # lowerLayerDown
    got = rig.snmp.get(f"{IF_ENTRY}.8.{line}", f"{IF_ENTRY}.9.{line}", f"{DS1}.6.1.10.{line}")
    assert got[f"{IF_ENTRY}.8.{line}"] == "2" and int(got[f"{IF_ENTRY}.9.{line}"]) > 0
    assert got[f"{DS1}.6.1.10.{line}"] == "64"

    edit_json(links, lambda d: d["links"][0]["ds1"].update(line_status=["dsx1NoAlarm"]))
    up = rig.trapd.wait_for(LINK_UP, lambda n: n.get(f"{IF_ENTRY}.1.{line}") == str(line))
    assert up[f"{IF_ENTRY}.8.{line}"] == "1"
    rig.trapd.wait_for(DS1_LINE_STATUS_CHANGE, lambda n: n.get(f"{DS1}.6.1.10.{line}") == "1")
    rig.trapd.wait_for(LINK_UP, lambda n: n.get(f"{IF_ENTRY}.1.{group}") == str(group))


def test_a_failed_self_check_is_trapped_and_cleared(rig):
    edac = rig.hw / "edac.json"
    edit_json(edac, lambda d: d["controllers"][1].update(ue_count=1))
    failed = rig.trapd.wait_for(f"{NPAC}.0.4", lambda n: "memory.mc1" in n.values())
    (name_oid,) = [k for k, v in failed.items() if v == "memory.mc1"]
    i = name_oid.rsplit(".", 1)[1]
    assert failed[f"{CHECKS}.3.1.4.{i}"] == "3"
    assert "1 uncorrected" in failed[f"{CHECKS}.3.1.5.{i}"]
    assert rig.snmp.get(f"{CHECKS}.2.0")[f"{CHECKS}.2.0"] == "1"
    edit_json(edac, lambda d: d["controllers"][1].update(ue_count=0))
    cleared = rig.trapd.wait_for(f"{NPAC}.0.5", lambda n: n.get(f"{CHECKS}.3.1.2.{i}") == "memory.mc1")
    assert cleared[f"{CHECKS}.3.1.4.{i}"] == "1"


def test_wrong_credentials_are_refused_and_the_agent_still_answers(rig):
    snmp = rig.snmp
    name = f"{SYS}.5.0"
    wrong_auth = snmp.run("snmpget", name, creds=snmp.credentials(auth="not-the-password"))
    assert wrong_auth.returncode != 0 and "Authentication failure" in wrong_auth.stderr
    unknown = snmp.run("snmpget", name, creds=snmp.credentials(user="mallory"))
    assert unknown.returncode != 0 and "Unknown user name" in unknown.stderr
    wrong_priv = snmp.run("snmpget", name, creds=snmp.credentials(priv="not-the-priv-key"), wait="0.5", retries="0")
    assert wrong_priv.returncode != 0 and "npac-primary" not in wrong_priv.stdout
    no_priv = snmp.run("snmpget", name, creds=["-v3", "-l", "authNoPriv", "-u", "nms", "-a", "SHA", "-A",
                                               "maplewood-auth-1"])
    assert no_priv.returncode != 0
    for community in ("public", "private", "npac"):
        guess = snmp.run("snmpget", name, creds=["-v2c", "-c", community], wait="0.3", retries="0")
        assert guess.returncode != 0 and "Timeout" in guess.stderr
    got = snmp.get(name, ".1.3.6.1.6.3.15.1.1.3.0", ".1.3.6.1.6.3.15.1.1.5.0", f"{SYS[:-2]}.11.4.0")
    assert got[name] == "npac-primary"
    assert int(got[".1.3.6.1.6.3.15.1.1.3.0"]) >= 1  # usmStatsUnknownUserNames
    assert int(got[".1.3.6.1.6.3.15.1.1.5.0"]) >= 1  # usmStatsWrongDigests
    assert int(got[f"{SYS[:-2]}.11.4.0"]) >= 3  # snmpInBadCommunityNames


def test_nothing_is_writable(rig):
    refused = rig.snmp.run("snmpset", f"{SYS}.5.0", "s", "hijacked")
    assert refused.returncode != 0 and "notWritable" in refused.stdout + refused.stderr
    role = rig.snmp.run("snmpset", f"{NODE}.3.0", "i", "4")
    assert role.returncode != 0
    got = rig.snmp.get(f"{SYS}.5.0", f"{NODE}.3.0")
    assert list(got.values()) == ["npac-primary", "1"]


GARBAGE = [
    b"",
    b"\x00",
    b"hello, agent",
    b"\x30\x84\xff\xff\xff\xff",  # a SEQUENCE claiming 4 GB
    b"\x30\x03\x02\x01\x03",  # v3, cut short
    b"\x30\x29\x02\x01\x01\x04\x06public\xa0\x1c\x02\x04\x00\x00\x00\x01\x02\x01\x00\x02\x01\x00\x30\x0e\x30\x0c"
    b"\x06\x08\x2b\x06\x01\x02\x01\x01\x05\x00\x05\x00",  # a well-formed v2c GET with a community guess
    b"\x30\x0f\x02\x01\x07" + b"\x04\x0apublicxxxx",  # an unknown version
    bytes(range(256)) * 4,
    b"\x30\x82\xff\xf0" + os.urandom(65000),  # as big as UDP over IPv4 allows
]


def test_garbage_datagrams_do_not_disturb_the_agent(rig):
    before = int(rig.snmp.get(f"{SYS[:-2]}.11.1.0")[f"{SYS[:-2]}.11.1.0"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        for _ in range(20):
            for datagram in GARBAGE:
                s.sendto(datagram, ("127.0.0.1", rig.port))
            s.sendto(os.urandom(512), ("127.0.0.1", rig.port))
    got = rig.snmp.get(f"{SYS}.5.0", f"{SYS[:-2]}.11.1.0", f"{SYS[:-2]}.11.6.0")
    assert got[f"{SYS}.5.0"] == "npac-primary"
    assert int(got[f"{SYS[:-2]}.11.1.0"]) > before
    assert int(got[f"{SYS[:-2]}.11.6.0"]) > 0  # snmpInASNParseErrs
    assert rig.agent.popen.poll() is None


# ---- a status document the test writes: cutover, heartbeat paths, service levels, bad hooks --------

class FakeNode:
    """The node's control socket, serving a status document the test edits."""

    def __init__(self, path):
        self.board = StatusBoard(
            node="dr", system_id="NPAC SMS", role="standby", epoch=3, started="2026-11-01T00:00:00Z", software="t",
            peer=Peer("primary", "primary-live", "reachable"),
            heartbeat=[HeartbeatPath("network", "up", 0.4, 0), HeartbeatPath("serial", "up", 0.9, 2)],
            replication=Replication("sync", 2, 1.6, 1234567),
            service_levels=ServiceLevels("2026-11", 99.95, 1200.0, 15000.0,
                                         [CarrierMeters("0001", 4.5, 12.25, 100.0)]))
        self.loop = asyncio.new_event_loop()
        self.server = ControlServer(path, {"status": lambda: self.board.to_dict()})
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def stop(self):
        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def dr(rig):
    """A second agent, sending informs, reading FakeNode, with hooks that hang and print garbage."""
    tmp = rig.tmp / "dr"
    tmp.mkdir()
    hooks = tmp / "hooks"
    hooks.mkdir()
    for name, body in (("selftest", "echo 'ECC: all good, I think'"), ("link-status", "exec sleep 60")):
        (hooks / name).write_text(f"#!/bin/sh\n{body}\n")
        (hooks / name).chmod(0o755)
    fake = FakeNode(tmp / "control.sock")
    port = free_port(socket.SOCK_DGRAM)
    cfg = write_agent_config(tmp / "snmp.toml", port=port, control_socket=tmp / "control.sock", hw_sim=None,
                             trap_port=rig.trapd.port, hooks_dir=hooks, kind="inform", hook_timeout=1.0,
                             community="dr-read-only-7")
    agent = start_agent(cfg)
    try:
        yield SimpleNamespace(fake=fake, agent=agent, snmp=NetSnmp(port, net_snmp_env(tmp / "client")))
    finally:
        assert agent.stop() == 0
        fake.stop()


PEER, REPL, SL = f"{NPAC}.1.2", f"{NPAC}.1.3", f"{NPAC}.1.5"


def test_status_document_values_are_served(dr):
    got = dr.snmp.walk(f"{NPAC}.1")
    assert (got[f"{NODE}.1.0"], got[f"{NODE}.3.0"], got[f"{NODE}.4.0"]) == ("dr", "2", "3")  # standby, epoch 3
    assert (got[f"{PEER}.1.0"], got[f"{PEER}.2.0"], got[f"{PEER}.3.0"]) == ("primary", "1", "1")
    assert [got[f"{PEER}.4.1.{c}.2"] for c in (2, 3, 4, 5)] == ["serial", "1", "1", "2"]
    assert [got[f"{REPL}.{c}.0"] for c in (1, 2, 3, 4)] == ["1", "2", "2", "1234567"]
    assert [got[f"{SL}.{c}.0"] for c in (1, 2, 3, 4)] == ["2026-11", "99950", "1200", "15000"]
    carrier_row = ".4.48.48.48.49"
    assert [got[f"{SL}.5.1.{c}{carrier_row}"] for c in (2, 3, 4)] == ["450", "1225", "100000"]
    assert f"{SL}.6.0" not in got  # accessible-for-notify only


def test_v2c_when_configured_is_read_only(dr):
    v2c = ["-v2c", "-c", "dr-read-only-7"]
    assert dr.snmp.get(f"{NODE}.1.0", creds=v2c) == {f"{NODE}.1.0": "dr"}
    refused = dr.snmp.run("snmpset", f"{SYS}.5.0", "s", "x", creds=v2c)
    assert refused.returncode != 0 and "notWritable" in refused.stdout + refused.stderr
    guess = dr.snmp.run("snmpget", f"{NODE}.1.0", creds=["-v2c", "-c", "dr-read-only-8"], wait="0.3", retries="0")
    assert guess.returncode != 0 and "Timeout" in guess.stderr
    v1 = dr.snmp.run("snmpget", f"{NODE}.1.0", creds=["-v1", "-c", "dr-read-only-7"])
    assert v1.returncode != 0 and "dr" not in v1.stdout  # the community is for SNMPv2c only


def test_hooks_that_hang_or_print_garbage_are_failed_checks(dr):
    def failed_checks():
        table = dr.snmp.walk(f"{CHECKS}.3.1")
        names = {oid.rsplit(".", 1)[1]: v for oid, v in table.items() if oid.startswith(f"{CHECKS}.3.1.2.")}
        found = {names[i]: table[f"{CHECKS}.3.1.5.{i}"] for i in names if table[f"{CHECKS}.3.1.4.{i}"] == "3"}
        return found if len(found) == 2 else None
    found = eventually(failed_checks)
    assert found == {"hook.selftest": "selftest: did not print JSON",
                     "hook.link-status": "link-status: no answer in 1 s (killed)"}
    assert dr.agent.popen.poll() is None


def test_cutover_path_loss_and_breach_are_sent_as_informs(rig, dr):
    board = dr.fake.board
    board.role, board.epoch = "primary-live", 4
    board.heartbeat[1].state = "down"
    board.service_levels.availability = 99.8
    board.service_levels.carriers[0].lsms_tps = 7.5
    notified = rig.trapd.wait_for(f"{NPAC}.0.1", lambda n: n.get(f"{NODE}.3.0") == "1")
    assert notified[f"{NODE}.4.0"] == "4" and notified[f"{PEER}.3.0"] == "1"
    lost = rig.trapd.wait_for(f"{NPAC}.0.2")
    assert (lost[f"{PEER}.4.1.2.2"], lost[f"{PEER}.4.1.3.2"]) == ("serial", "2")
    availability = rig.trapd.wait_for(f"{NPAC}.0.7", lambda n: n.get(f"{SL}.6.0") == "1")
    assert (availability[f"{SL}.8.0"], availability[f"{SL}.9.0"], availability[f"{SL}.7.0"]) == ("99800", "99900", "")
    lsms = rig.trapd.wait_for(f"{NPAC}.0.7", lambda n: n.get(f"{SL}.6.0") == "6")
    assert (lsms[f"{SL}.7.0"], lsms[f"{SL}.8.0"], lsms[f"{SL}.9.0"]) == ("0001", "750", "1000")
    got = dr.snmp.get(f"{NODE}.3.0", f"{NODE}.5.0")
    assert got[f"{NODE}.3.0"] == "1" and int(got[f"{NODE}.5.0"]) > 0
    board.heartbeat[1].state = "up"
    rig.trapd.wait_for(f"{NPAC}.0.3", lambda n: n.get(f"{PEER}.4.1.2.2") == "serial")


def test_a_silent_node_reads_as_role_unknown(rig, dr):
    dr.fake.stop()
    rig.trapd.wait_for(f"{NPAC}.0.1", lambda n: n.get(f"{NODE}.3.0") == "5")
    got = dr.snmp.get(f"{NODE}.3.0", f"{NODE}.6.0", f"{NODE}.1.0")
    assert list(got.values()) == ["5", "2", "dr"]  # unknown, not reachable, last values kept


# ---- the contract pieces on their own --------------------------------------------------------------

def test_status_document_round_trip_and_type_checks():
    board = StatusBoard(role="fenced", epoch=9, links=[Link("t1", "ds1", ds1=Ds1Line())])
    assert StatusBoard.from_dict(json.loads(json.dumps(board.to_dict()))) == board
    newer = {**board.to_dict(), "a_field_from_a_later_writer": 1}
    assert StatusBoard.from_dict(newer) == board  # unknown keys are ignored
    for bad in ({"role": "boss"}, {"epoch": "9"}, {"epoch": True}, {"links": [{"kind": "ds1"}]},
                {"security": {"signature": 1.5}}, [], None):
        with pytest.raises(StatusError):
            StatusBoard.from_dict(bad)


def test_breaches_follow_exhibit_g():
    levels = ServiceLevels("2026-11", 99.9, 3000.0, 60000.0, [CarrierMeters("0001", 2.0, 10.0, 99.9)])
    assert breaches(levels) == []
    levels = ServiceLevels("2026-11", 99.899, 3001.0, 60001.0, [CarrierMeters("0001", 1.99, 9.99, 99.8)])
    assert [(b.slr, b.carrier, b.value, b.objective) for b in breaches(levels)] == [
        (1, "", 99899, 99900), (3, "", 3001, 3000), (4, "", 60001, 60000),
        (5, "0001", 199, 200), (6, "0001", 999, 1000), (7, "0001", 99800, 99900)]


def test_control_socket_answers_bad_requests_and_keeps_the_connection(tmp_path):
    async def body():
        server = ControlServer(tmp_path / "c.sock", {"status": lambda: {"role": "standby"},
                                                     "boom": lambda: 1 / 0})
        await server.start()
        reader, writer = await asyncio.open_unix_connection(str(tmp_path / "c.sock"), limit=1 << 20)
        answers = []
        for line in (b"not json\n", b'["op"]\n', b'{"op": "reboot"}\n', b'{"op": "boom"}\n',
                     b'{"op": "status"}\n'):
            writer.write(line)
            answers.append(json.loads(await reader.readline()))
        writer.write(b"x" * 100_000 + b"\n")
        answers.append(json.loads(await reader.readline()))
        writer.close()
        assert [a["ok"] for a in answers] == [False, False, False, False, True, False]
        assert "unknown op 'reboot'" in answers[2]["error"] and "ZeroDivisionError" in answers[3]["error"]
        assert answers[4]["result"] == {"role": "standby"} and "longer than" in answers[5]["error"]
        assert (await request_async(tmp_path / "c.sock", "status"))["role"] == "standby"
        with pytest.raises(OSError, match="in use"):
            await ControlServer(tmp_path / "c.sock", {}).start()
        await server.close()
        assert not (tmp_path / "c.sock").exists()
        with pytest.raises(ControlError):
            await request_async(tmp_path / "c.sock", "status")
    asyncio.run(asyncio.wait_for(body(), 20))


@pytest.mark.parametrize("text,needle", [
    ("[agent\n", "not valid TOML"),
    ('[agent]\ncontrol_socket="c"\n', "no [[user]] and no [v2c]"),
    ('[agent]\ncontrol_socket="c"\n[[user]]\nname="n"\nauth="MD5"\nauth_key="12345678"\npriv_key="12345678"\n',
     "'auth' must be one of"),
    ('[agent]\ncontrol_socket="c"\n[[user]]\nname="n"\nauth_key="short"\npriv_key="12345678"\n', "at least 8"),
    ('[agent]\ncontrol_socket="c"\n[v2c]\ncommunity="public"\n', "at least 8"),
    ('[agent]\ncontrol_socket="c"\nport=0\n[v2c]\ncommunity="longenough"\n', "'port' must be 1..65535"),
    ('[agent]\ncontrol_socket="c"\n[v2c]\ncommunity="longenough"\n[[trap_target]]\nhost="h"\nuser="x"\n',
     "'user' 'x' is not a [[user]]"),
])
def test_agent_config_errors_are_one_line_and_exit_2(tmp_path, text, needle):
    path = tmp_path / "snmp.toml"
    path.write_text(text)
    with pytest.raises(AgentConfigError, match=re.escape(needle)):
        load_agent_config(path)
    proc = subprocess.run([sys.executable, "-m", "snmp.agent", "--config", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("npac-snmp: ") and len(proc.stderr.splitlines()) == 1
