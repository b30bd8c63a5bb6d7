"""SNMP monitoring of the real primary/DR pair (ARCHITECTURE "SNMP", FRS R10-6 line monitoring, R10-7 and
R10-9 self-checks, Exhibit G service levels, contract 12.4 cutover): both sides' node, npac-ha and SNMP
agent as processes, carriers associated with the demo keys, net-snmp's snmpget/snmpbulkwalk with the
demo SNMPv3 user, and snmptrapd catching what both agents send.

Every value read over SNMP is checked against the status document of the node that agent watches.
The tests share one pair and run in file order; the last one kills the live side.
"""
from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from appliance.control import ControlError, request
from appliance.lnp.keys import generate_key_list
from appliance.lnp.security import LOCAL_SMS, SOA, Identity
from appliance.osi.transport import AssociationLost
from appliance.pair import SIDES
from appliance.peers.carrier import CarrierAssociation
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from appliance.peers.lsms import LsmsSimulator
from appliance.peers.soa import SoaSimulator
from snmp.config import load_config as load_agent_config
from snmp.demo import DEMO_AUTH, DEMO_HW, DEMO_PRIV, DEMO_USER
from snmp.view import CHECK_STATUS, PATH_STATE, PEER_STATE, REPL_MODE, ROLE
from tests.support.pair_rig import FAST, LIVE, hosts, pair_ports, start_pair, wait_roles
from tests.support.snmp_rig import (
    NPAC, SNMPTRAPD, NetSnmp, Proc, TrapReceiver, edit_json, eventually, free_port, net_snmp_env,
)

SYS = ".1.3.6.1.2.1.1"
IF_ENTRY, IFX_ENTRY, DS1 = ".1.3.6.1.2.1.2.2.1", ".1.3.6.1.2.1.31.1.1.1", ".1.3.6.1.2.1.10.18"
NODE, PEER, REPL, ASSOC, SL, CHECKS, SECURITY = (f"{NPAC}.1.{i}" for i in range(1, 8))
TRAP_OID = ".1.3.6.1.6.3.1.1.4.1.0"
LINK_DOWN, LINK_UP = ".1.3.6.1.6.3.1.1.5.3", ".1.3.6.1.6.3.1.1.5.4"
DS1_LINE_STATUS_CHANGE = f"{DS1}.15.0.1"
ROLE_CHANGE, CHECK_FAILED, CHECK_CLEARED, SECURITY_VIOLATION = (f"{NPAC}.0.{i}" for i in (1, 4, 5, 6))
SNMP_ENGINE_ID = ".1.3.6.1.6.3.10.2.1.1.0"
TIMING = dataclasses.replace(FAST, selfcheck_every=1.0, snmp_poll=0.25, snmp_hooks=0.5)
ADMIN, PASSWORD = "opsadmin", "Kestrel-41x"


class DemoSnmp(NetSnmp):
    """net-snmp with the pair's demo SNMPv3 user (appliance/pair.py describe())."""

    def credentials(self, user: str = DEMO_USER, auth: str = DEMO_AUTH, priv: str = DEMO_PRIV) -> list[str]:
        return super().credentials(user, auth, priv)


class PairTraps(TrapReceiver):
    """snmptrapd knowing both agents' engine ids; each notification also says which agent sent it
    ("from": the sender's UDP port, the agent's own SNMP port)."""

    def __init__(self, tmp: Path, engine_ids: list[bytes]):
        self.port = free_port(socket.SOCK_DGRAM)
        conf = tmp / "snmptrapd.conf"
        conf.write_text("".join(f"createUser -e 0x{e.hex()} {DEMO_USER} SHA {DEMO_AUTH} AES {DEMO_PRIV}\n"
                                for e in engine_ids) + f"authUser log {DEMO_USER}\n")
        self.proc = Proc([SNMPTRAPD, "-f", "-C", "-c", str(conf), "-Lo", "-On", "-Oq", "-Oe", "-Ot", "-m", "ALL",
                          "-F", "TRAP\t%b\t%v\n", f"udp:127.0.0.1:{self.port}"], env=net_snmp_env(tmp / "trapd"))
        self.proc.wait_for("NET-SNMP version")
        self.seen = 0

    def notifications(self) -> list[dict[str, str]]:
        out = []
        for line in list(self.proc.output):
            if not line.startswith("TRAP\t"):
                continue
            _, source, *binds = line.rstrip("\n").split("\t")
            sender = re.search(r"\]:(\d+)->", source)
            n = {k: v.strip('"') for k, v in (vb.partition(" ")[::2] for vb in binds)}
            n["from"] = sender.group(1) if sender else "?"
            out.append(n)
        return out

    def count(self) -> int:
        return len(self.notifications())

    def wait_from(self, agent_port: int, trap_oid: str, match=lambda n: True, after: int = 0,
                  timeout: float = 20.0) -> dict[str, str]:
        """The first notification `trap_oid` from that agent, among those that came after the first `after`."""
        def found() -> dict[str, str] | None:
            for n in self.notifications()[after:]:
                if n["from"] == str(agent_port) and n.get(TRAP_OID) == trap_oid and match(n):
                    return n
            return None
        return eventually(found, timeout)


class LoopThread:
    """The pair supervisor and the carriers live in an event loop of their own, so the tests can use
    the blocking net-snmp tools in between."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 90.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("snmp-pair")
    engines = [bytes.fromhex("80007f5904") + f"npac-{side}".encode() for side in SIDES]  # snmp/config.py default
    traps = PairTraps(tmp, engines)
    ports = dataclasses.replace(pair_ports(), trap=traps.port)
    runner = LoopThread()
    pair = None
    carriers: list[Any] = []
    try:
        pair = runner.run(start_pair(tmp, TIMING, snmp=True, ports=ports))
        keys = DemoKeys(tmp / "keys")

        async def associate() -> list[Any]:
            directory = keys.carrier_directory()
            soas = [SoaSimulator(keys.carrier_identity(sp, SOA), directory, npac_system_id=NPAC_SYSTEM_ID)
                    for sp in ("0001", "0002")]
            lsms = LsmsSimulator("0003", keys.carrier_identity("0003", LOCAL_SMS), directory,
                                 npac_system_id=NPAC_SYSTEM_ID)
            for soa in soas:
                await soa.open(hosts(ports))
            await lsms.associate(hosts(ports))
            return [*soas, lsms]
        carriers = runner.run(associate())
        agents = {side: load_agent_config(pair.files[side]["snmp"]) for side in SIDES}
        snmp = {side: DemoSnmp(agents[side].port, net_snmp_env(tmp / f"client-{side}")) for side in SIDES}
        yield SimpleNamespace(tmp=tmp, pair=pair, ports=ports, traps=traps, runner=runner, keys=keys, snmp=snmp,
                              agents=agents, engines=dict(zip(SIDES, engines)), carriers=carriers)
    finally:
        async def down() -> None:
            for c in carriers:
                if c.associated:
                    await c.abort() if asyncio.iscoroutinefunction(c.abort) else c.abort()
            if pair is not None:
                await pair.stop()
        try:
            runner.run(down(), timeout=60)
        finally:
            runner.close()
            traps.stop()


def status(rig, side: str) -> dict[str, Any]:
    return request(rig.pair.socket(side), "status", timeout=5.0)


def agreed(rig, side: str, read_snmp, compare, timeout: float = 20.0) -> None:
    """A reading over SNMP that matches the node's status document taken just before and just after
    it (the document moves: replication sequences, meters), retried until the agent has caught up."""
    def probe() -> bool:
        before = status(rig, side)
        got = read_snmp()
        after = status(rig, side)
        assert compare(got, before) or compare(got, after), (side, got, after)
        return True
    eventually(probe, timeout, every=0.25)


def if_indexes(rig, side: str) -> dict[str, int]:
    names = rig.snmp[side].walk(f"{IFX_ENTRY}.1")
    return {name: int(oid.rsplit(".", 1)[1]) for oid, name in names.items()}


def string_index(text: str) -> str:
    return ".".join(str(x) for x in (len(text), *text.encode()))


# ---- what both agents serve ------------------------------------------------------------------------

def test_system_group_and_engine_of_each_agent(rig):
    for side in SIDES:
        got = rig.snmp[side].get(f"{SYS}.5.0", f"{SYS}.2.0")
        assert got[f"{SYS}.5.0"] == f"npac-{side}"
        assert got[f"{SYS}.2.0"] == f"{NPAC}.3.1"  # npacSmsAppliance
        engine = rig.snmp[side].run("snmpget", SNMP_ENGINE_ID)  # a long hex string wraps over lines
        assert engine.returncode == 0, engine.stderr
        assert "".join(engine.stdout.split()[1:]).strip('"').lower() == rig.engines[side].hex()  # the traps' engine id


def test_role_epoch_peer_and_heartbeat_paths_match_each_node(rig):
    """RN10-x: the live node reads primaryLive, the other standby; epochs, the peer's role and both
    heartbeat paths as each node's status document has them."""
    roles = {side: status(rig, side)["role"] for side in SIDES}
    assert roles == {"primary": "primary-live", "dr": "standby"}
    for side in SIDES:
        def node_part(got, doc):
            paths = {p["name"]: p for p in doc["heartbeat"]}
            return (got[f"{NODE}.1.0"] == doc["node"] == side and got[f"{NODE}.3.0"] == str(ROLE[doc["role"]])
                    and got[f"{NODE}.4.0"] == str(doc["epoch"]) and got[f"{NODE}.6.0"] == "1"
                    and got[f"{PEER}.1.0"] == doc["peer"]["name"] and doc["peer"]["state"] == "reachable"
                    and got[f"{PEER}.2.0"] == str(ROLE[doc["peer"]["role"]])
                    and got[f"{PEER}.3.0"] == str(PEER_STATE["reachable"])
                    and {"network", "serial"} <= set(paths)
                    and all(got[f"{PEER}.4.1.2.{i}"] == name and paths[name]["state"] == "up"
                            and got[f"{PEER}.4.1.3.{i}"] == str(PATH_STATE["up"])
                            for name, i in (("network", 1), ("serial", 2))))
        agreed(rig, side, lambda s=side: rig.snmp[s].walk(f"{NPAC}.1.1") | rig.snmp[s].walk(PEER), node_part)
    # each names the other's role (read again until both agents polled: a standby that fell behind
    # for a moment under load is fenced until it catches up, and the agents follow within a poll)
    def peers_named() -> bool:
        assert rig.snmp["primary"].get(f"{PEER}.2.0")[f"{PEER}.2.0"] == str(ROLE["standby"])
        assert rig.snmp["dr"].get(f"{PEER}.2.0")[f"{PEER}.2.0"] == str(ROLE["primary-live"])
        return True
    eventually(peers_named, 20, every=0.25)


def test_replication_lag_and_last_sequence_match_each_node(rig):
    """The standby holds what the live node has: lag and last journal sequence as the nodes say."""
    for side in SIDES:
        def repl(got, doc):
            r = doc["replication"]
            return [got[f"{REPL}.{c}.0"] for c in (1, 2, 3, 4)] == [
                str(REPL_MODE.get(r["mode"], 3)), str(r["lag_rows"]), str(round(r["lag_seconds"])),
                str(r["last_sequence"])]
        agreed(rig, side, lambda s=side: rig.snmp[s].get(*(f"{REPL}.{c}.0" for c in (1, 2, 3, 4))), repl)
    assert status(rig, "primary")["replication"]["last_sequence"] > 0


def test_if_table_and_ds1_rows_for_the_configured_links(rig):
    """FRS R10-6: one ifTable row per link of the side's link-status hook (hw-<side>/links.json), the
    same links the node's status document carries, and DS1-MIB rows for each DS-1."""
    configured = {link["name"] for link in DEMO_HW["links.json"]["links"]}
    ds1_lines = {link["name"]: link for link in DEMO_HW["links.json"]["links"] if link["kind"] == "ds1"}
    for side in SIDES:
        eventually(lambda s=side: {link["name"] for link in status(rig, s)["links"]} == configured)
        index = if_indexes(rig, side)
        assert set(index) == configured
        assert rig.snmp[side].get(".1.3.6.1.2.1.2.1.0")[".1.3.6.1.2.1.2.1.0"] == str(len(configured))
        table = rig.snmp[side].walk(IF_ENTRY)
        for link in status(rig, side)["links"]:
            i = index[link["name"]]
            assert table[f"{IF_ENTRY}.2.{i}"] == (link["description"] or link["name"])
            assert table[f"{IF_ENTRY}.8.{i}"] == "1" and link["oper"] == "up"
        config = rig.snmp[side].walk(f"{DS1}.6")
        assert {oid.rsplit(".", 1)[1] for oid in config} == {str(index[name]) for name in ds1_lines}
        for name, link in ds1_lines.items():
            i = index[name]
            assert config[f"{DS1}.6.1.8.{i}"] == link["ds1"]["circuit_id"]
            assert config[f"{DS1}.6.1.10.{i}"] == "1"  # dsx1NoAlarm


def test_associations_per_carrier_on_the_live_node_only(rig):
    """SOA 0001, SOA 0002 and LSMS 0003 are associated with the live node; the standby has none."""
    def live(got, doc):
        per = {(a["system_id"], a["system_type"]) for a in doc["associations"]}
        rows = {(got[k], got[f"{ASSOC}.3.1.3.{k.rsplit('.', 1)[1]}"]) for k in got if k.startswith(f"{ASSOC}.3.1.2.")}
        return (per == {("0001", "soa"), ("0002", "soa"), ("0003", "local-sms")}
                and got[f"{ASSOC}.1.0"] == str(len(doc["associations"]))
                and rows == {("0001", "1"), ("0002", "1"), ("0003", "2")}
                and got.get(f"{ASSOC}.2.1.3.{string_index('0003')}.2") == "1"
                and got.get(f"{ASSOC}.2.1.3.{string_index('0001')}.1") == "1")
    agreed(rig, "primary", lambda: rig.snmp["primary"].walk(ASSOC), live)
    agreed(rig, "dr", lambda: rig.snmp["dr"].get(f"{ASSOC}.1.0"),
           lambda got, doc: got[f"{ASSOC}.1.0"] == "0" and doc["associations"] == [])


def test_service_levels_are_the_live_nodes_meters(rig):
    """Exhibit G over the current month: the live node's status document takes them from its meters
    (availability, p95 acknowledgement, mean broadcast, TPS per SOA and LSMS); a meter not yet
    measured has no instance rather than a 0."""
    month = time.strftime("%Y-%m", time.gmtime())

    def served(got, doc):
        sl = doc["service_levels"]
        want = {f"{SL}.1.0": sl["month"]}
        for c, key, scale in ((2, "availability", 1000), (3, "ack_p95_ms", 1), (4, "broadcast_mean_ms", 1)):
            if sl[key] is not None:
                want[f"{SL}.{c}.0"] = str(round(sl[key] * scale))
        for carrier in sl["carriers"]:
            i = string_index(carrier["system_id"])
            for c, key, scale in ((2, "soa_tps", 100), (3, "lsms_tps", 100), (4, "availability", 1000)):
                if carrier[key] is not None:
                    want[f"{SL}.5.1.{c}.{i}"] = str(round(carrier[key] * scale))
        return sl["month"] == month and got == want
    for side in SIDES:
        agreed(rig, side, lambda s=side: rig.snmp[s].walk(SL), served)
    # the live node's meters have it in service from its start; the standby meters nothing
    levels = status(rig, "primary")["service_levels"]
    assert levels["availability"] is not None and 0 < levels["availability"] <= 100, levels
    assert rig.snmp["primary"].get(f"{SL}.2.0")[f"{SL}.2.0"] == str(round(levels["availability"] * 1000))
    standby = status(rig, "dr")["service_levels"]
    assert standby["availability"] is None and standby["carriers"] == []


def test_self_check_table_and_the_selfcheck_command(rig):
    """R10-9: the node runs its self-checks periodically (status document) and on demand
    (`selfcheck.run`, any logged-in role); the agent's table has the same checks and states."""
    for side in SIDES:
        def same(got, doc):
            names = {k.rsplit(".", 1)[1]: v for k, v in got.items() if k.startswith(f"{CHECKS}.3.1.2.")}
            mine = {c["name"]: c for c in doc["self_checks"]}
            return (set(names.values()) == set(mine) and len(mine) >= 6
                    and all(got[f"{CHECKS}.3.1.4.{i}"] == str(CHECK_STATUS[mine[n]["status"]]) for i, n in names.items())
                    and got[f"{CHECKS}.2.0"] == str(sum(c["status"] == "failed" for c in mine.values())))
        agreed(rig, side, lambda s=side: rig.snmp[s].walk(f"{CHECKS}.2") | rig.snmp[s].walk(f"{CHECKS}.3"), same)
    sock = rig.pair.socket("primary")
    with pytest.raises(ControlError, match="log in"):
        request(sock, "selfcheck.run")
    request(sock, "user.init", user_id=ADMIN, password=PASSWORD)
    token = request(sock, "login", user_id=ADMIN, password=PASSWORD)["token"]
    ran = request(sock, "selfcheck.run", session=token, timeout=30)
    assert [(h["hook"], h["ok"]) for h in ran["hooks"]] == [("selftest", True), ("link-status", True)]
    assert ran["failed"] == []
    assert {c["name"] for c in ran["checks"]} == {c["name"] for c in status(rig, "primary")["self_checks"]}
    assert {link["name"] for link in ran["links"]} == {link["name"] for link in DEMO_HW["links.json"]["links"]}


# ---- notifications ---------------------------------------------------------------------------------

def test_ds1_loss_of_signal_and_recovery_on_the_standby_side(rig):
    """R10-6: a DS-1 losing signal on the DR side: linkDown and dsx1LineStatusChange from the DR's agent,
    the DR node's own status document shows it too; recovery sends linkUp and the change back."""
    port = rig.agents["dr"].port
    index = if_indexes(rig, "dr")
    line = index["t1-0001-a"]
    links = rig.tmp / "hw-dr" / "links.json"
    mark = rig.traps.count()
    edit_json(links, lambda d: d["links"][0]["ds1"].update(line_status=["dsx1LossOfSignal"]))
    down = rig.traps.wait_from(port, LINK_DOWN, lambda n: n.get(f"{IF_ENTRY}.1.{line}") == str(line), mark)
    assert down[f"{IF_ENTRY}.8.{line}"] == "2"
    change = rig.traps.wait_from(port, DS1_LINE_STATUS_CHANGE, lambda n: n.get(f"{DS1}.6.1.10.{line}") == "64", mark)
    assert int(change[f"{DS1}.6.1.16.{line}"]) > 0  # dsx1LineStatusLastChange

    def node_sees(want_oper: str, want_status: list[str]) -> bool:
        (link,) = [x for x in status(rig, "dr")["links"] if x["name"] == "t1-0001-a"]
        return link["oper"] == want_oper and link["ds1"]["line_status"] == want_status
    eventually(lambda: node_sees("down", ["dsx1LossOfSignal"]))
    assert not [n for n in rig.traps.notifications()[mark:]
                if n["from"] == str(rig.agents["primary"].port) and n.get(TRAP_OID) in (LINK_DOWN, DS1_LINE_STATUS_CHANGE)]

    mark = rig.traps.count()
    edit_json(links, lambda d: d["links"][0]["ds1"].update(line_status=["dsx1NoAlarm"]))
    up = rig.traps.wait_from(port, LINK_UP, lambda n: n.get(f"{IF_ENTRY}.1.{line}") == str(line), mark)
    assert up[f"{IF_ENTRY}.8.{line}"] == "1"
    rig.traps.wait_from(port, DS1_LINE_STATUS_CHANGE, lambda n: n.get(f"{DS1}.6.1.10.{line}") == "1", mark)
    eventually(lambda: node_sees("up", ["dsx1NoAlarm"]))


def test_a_failed_self_check_is_trapped_and_in_the_status_document(rig):
    """R10-7 / R10-9: an uncorrectable memory error on the primary: npacSelfCheckFailed from the primary's
    agent and a failed check in the node's status document; cleared when it goes."""
    port = rig.agents["primary"].port
    edac = rig.tmp / "hw-primary" / "edac.json"
    mark = rig.traps.count()
    edit_json(edac, lambda d: d["controllers"][0].update(ue_count=1))
    failed = rig.traps.wait_from(port, CHECK_FAILED, lambda n: "memory.mc0" in n.values(), mark)
    (name_oid,) = [k for k, v in failed.items() if v == "memory.mc0"]
    i = name_oid.rsplit(".", 1)[1]
    assert failed[f"{CHECKS}.3.1.4.{i}"] == str(CHECK_STATUS["failed"])
    assert "1 uncorrected" in failed[f"{CHECKS}.3.1.5.{i}"]
    eventually(lambda: any(c["name"] == "memory.mc0" and c["status"] == "failed"
                           for c in status(rig, "primary")["self_checks"]))
    edit_json(edac, lambda d: d["controllers"][0].update(ue_count=0))
    cleared = rig.traps.wait_from(port, CHECK_CLEARED, lambda n: n.get(f"{CHECKS}.3.1.2.{i}") == "memory.mc0", mark)
    assert cleared[f"{CHECKS}.3.1.4.{i}"] == str(CHECK_STATUS["ok"])
    eventually(lambda: all(c["status"] != "failed" for c in status(rig, "primary")["self_checks"]))


def test_a_bad_signature_on_an_association_is_trapped(rig):
    """IIS 5 / R7-x: an AARQ signed with a key that is not 0001's is aborted, counted by the live node
    and sent as npacSecurityViolation by its agent."""
    before = status(rig, "primary")["security"]["signature"]
    mark = rig.traps.count()

    async def impostor() -> None:
        fake = Identity("0001", SOA, generate_key_list("0001", 1, count=1), 1)
        assoc = CarrierAssociation(fake, rig.keys.carrier_directory(), frozenset({"soa.soaMgmt"}),
                                   npac_system_id=NPAC_SYSTEM_ID)
        with pytest.raises(AssociationLost):
            await assoc.open(hosts(rig.ports)[:1])
    rig.runner.run(impostor(), timeout=30)
    trap = rig.traps.wait_from(rig.agents["primary"].port, SECURITY_VIOLATION, after=mark)
    assert trap[f"{SECURITY}.7.0"] == "signature" and trap[f"{SECURITY}.8.0"] == "0001"
    assert trap[f"{SECURITY}.9.0"].startswith("127.0.0.1:")
    doc = status(rig, "primary")["security"]
    assert doc["signature"] == before + 1 and doc["last_kind"] == "signature"
    got = rig.snmp["primary"].get(f"{SECURITY}.1.0")
    assert got[f"{SECURITY}.1.0"] == str(before + 1)


def test_cutover_is_trapped_by_the_new_live_sides_agent(rig):
    """Contract 12.4 / RN10-x: kill -9 of the live side's node and npac-ha: the DR fences it and
    promotes; the DR's agent sends npacRoleChange with primaryLive and the DR's new (odd) epoch, and
    serves the peer as unreachable; the fenced side is powered off, its agent with it."""
    mark = rig.traps.count()

    async def kill() -> None:
        rig.pair.kill_side("primary")
    rig.runner.run(kill())
    rig.runner.run(wait_roles(rig.pair, {"dr": LIVE}, timeout=60), timeout=70)
    doc = status(rig, "dr")
    live = rig.traps.wait_from(rig.agents["dr"].port, ROLE_CHANGE,
                               lambda n: n.get(f"{NODE}.3.0") in (str(ROLE["primary-live"]), str(ROLE["isolated"])),
                               mark)
    epoch = int(live[f"{NODE}.4.0"])
    assert epoch % 2 == 1 and epoch == doc["epoch"]
    got = rig.snmp["dr"].get(f"{NODE}.3.0", f"{NODE}.4.0", f"{NODE}.5.0")
    assert got[f"{NODE}.3.0"] == str(ROLE[status(rig, "dr")["role"]]) and got[f"{NODE}.4.0"] == str(epoch)
    assert int(got[f"{NODE}.5.0"]) > 0  # npacNodeRoleLastChange
    agreed(rig, "dr", lambda: rig.snmp["dr"].get(f"{PEER}.3.0"),
           lambda got, doc: doc["peer"]["state"] == "unreachable" and got[f"{PEER}.3.0"] == str(PEER_STATE["unreachable"]))
    # the fence powered the whole primary side off, its agent with it
    silent = rig.snmp["primary"].run("snmpget", f"{SYS}.5.0", wait="0.5", retries="0")
    assert silent.returncode != 0 and "Timeout" in silent.stderr
