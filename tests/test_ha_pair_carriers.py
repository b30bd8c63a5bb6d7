"""Carriers across a cutover of the real primary/DR pair (node and npac-ha per side as processes, pty
serial cable, simulated power-switch fencing), driven by the LSMS and SOA simulators over CMIP.

- Unscheduled cutover (contract 12.4, RN10-1, IIS 5.3.1.2, flow 6.5.1): the LSMSs recover on the DR
  node and hold every active version it has; updates held for an absent LSMS on the old primary reach
  it from the DR; SOAs re-associate and get the notifications they are owed; users are told of the
  outage by lnpNPAC-SMS-Operational-Information (Exhibit G SLR 22/23) and the notice is on record.
- Planned switchback (RN10-2..4, DECISIONS "Primary / disaster-recovery pair"): the DR drains, the
  primary holds every DR-side row before it goes live, carriers are told the switchback.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import time

from appliance.control import request_async
from appliance.lnp.values import gtime
from appliance.npac.model import Status
from appliance.peers.demo_keys import DemoKeys
from tests.support.pair_carriers import (PairCarriers, active_versions, broadcast_states, held_for,
                                         held_versions, version_of, wait_status)
from tests.support.pair_rig import FAST, LIVE, hosts, journal_sequences, start_pair, wait_current_standby, wait_roles

# the first notice goes when the cutover is decided; notice_first only bounds a cutover never decided
TIMING = dataclasses.replace(FAST, notice_first=30.0, notice_every=60.0)
SAVC = "subscriptionVersionStatusAttributeValueChange"


def store(tmp_path, side):
    return tmp_path / side / "npac.sqlite"


def user_notices(tmp_path, side):
    path = tmp_path / side / "user-notices.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def assert_lsms_hold_every_active_version(carriers, db):
    """Every LSMS holds, for every TN, the version the live node has active (nothing missing)."""
    active = active_versions(db)
    assert active, "no active version to compare"
    for sp, sim in carriers.lsms.items():
        held = {tn: v["subscriptionVersionId"] for tn, v in sim.mib.versions().items()}
        missing = {tn: vid for tn, vid in active.items() if held.get(tn) != vid}
        assert not missing, f"LSMS {sp} lacks {missing} (holds {held})"


def security_records(tmp_path, side, event):
    path = tmp_path / side / "security.log"
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["event"] == event]


def status_changes(soa, version_id):
    return [r for r in soa.notifications(SAVC, version_id)]


def test_lsms_and_soas_resume_on_the_dr_node_after_kill_9_with_nothing_missing(tmp_path):
    """Contract 12.4 / RN10-1 / flow 6.5.1 / SLR 22-23: kill -9 of the live side; each LSMS recovers on
    the DR (recoveryMode, network then subscription download since its last good time,
    lnpRecoveryComplete) and then holds every active version of the DR's store, including the one
    the old primary held for the absent LSMS 0003; both SOAs re-associate and get the status change
    owed to them; the unscheduled-unavailability notice is recorded on the DR and reaches carriers."""
    async def scenario():
        pair = await start_pair(tmp_path, TIMING)
        carriers = PairCarriers(DemoKeys(tmp_path / "keys"), hosts(pair.ports))
        try:
            await carriers.start()
            primary, dr = store(tmp_path, "primary"), store(tmp_path, "dr")
            await carriers.port("3035550101", primary)
            await carriers.take_down("0003")            # an LSMS outage of its own
            held_b = await carriers.port("3035550102", primary, active=False)
            # the broadcast done as far as it can go, on both stores: 0001 and 0002 took it, it is
            # held for 0003 (a crash in mid-round is the retry interval's business, not recovery's)
            want = {"0001": "succeeded", "0002": "succeeded", "0003": "sending"}
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not all(
                    broadcast_states(db, held_b) == want and held_b in held_versions(db, "0003") for db in (primary, dr)):
                await asyncio.sleep(0.05)
            for db in (primary, dr):
                assert broadcast_states(db, held_b) == want and held_versions(db, "0003") == [held_b], db

            killed = time.time()
            pair.kill_side("primary")
            carriers.bring_back("0003")
            await wait_roles(pair, {"dr": LIVE}, timeout=40)
            await carriers.all_back(killed, timeout=40)
            # 0003 got the held version through its recovery: the round completes on the DR
            await wait_status(dr, "3035550102", Status.ACTIVE, timeout=20)
            await carriers.port("3035550103", dr)       # and the DR goes on broadcasting live

            assert_lsms_hold_every_active_version(carriers, dr)
            assert held_for(dr) == {}, "updates still held after every LSMS recovered"
            assert set(carriers.log.recovered) == {"0001", "0002", "0003"}
            recovering = {r["system_id"] for r in security_records(tmp_path, "dr", "association-established")
                          if r["recovery_mode"]}
            assert recovering == {"0001", "0002", "0003"}  # IIS 5.3.4.1: each LSMS bound in recovery mode
            for sp, soa in carriers.soas.items():
                owed = [r for r in status_changes(soa, held_b)
                        if r.values.get("subscriptionVersionStatus") == (Status.SENDING, Status.ACTIVE)]
                assert owed, f"SOA {sp} never told that {held_b} became active"

            kinds = [n["kind"] for n in user_notices(tmp_path, "dr")]
            assert "unscheduled-unavailability" in kinds and "service-restored" in kinds, kinds
            late = [n for n in user_notices(tmp_path, "dr") if n.get("late")]
            told = {f"{d['system_id']}/{d['role']}" for n in late for d in n["delivered"] if d["confirmed"]}
            assert {"0001/lsms", "0002/lsms", "0003/lsms", "0001/soa", "0002/soa"} <= told, told
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not all(carriers.notices().values()):
                await asyncio.sleep(0.05)
            since = gtime(int(killed * 1000) - 1000)
            for who, infos in carriers.notices().items():
                outage = [i for i in infos if i["down-time"]["startTime"] >= since
                          and i.get("additional-down-time-information", "").startswith("Unscheduled NPAC SMS outage")]
                assert outage, (who, infos)
                restored = [i for i in infos if i["down-time"].get("stopTime", "") >= since
                            and "restored on dr" in i.get("additional-down-time-information", "")]
                assert restored, (who, infos)
        finally:
            await carriers.close()
            await pair.stop()

    asyncio.run(asyncio.wait_for(scenario(), 150))


def test_planned_switchback_drains_the_dr_and_replays_every_dr_update_before_the_primary_goes_live(tmp_path):
    """RN10-2..4 / DECISIONS: after a cutover to the DR and SOA creates made there, the restarted
    primary catches up as standby; the switchback requested at the DR's npac-ha drains it (every
    association released, what is left aborted) after telling every carrier the switchback; the
    primary's journal holds every DR row before it raises its epoch and goes live; the carriers come
    back to the primary and the LSMSs hold every active version; the DR is the standby again."""
    async def scenario():
        pair = await start_pair(tmp_path, TIMING)
        carriers = PairCarriers(DemoKeys(tmp_path / "keys"), hosts(pair.ports))
        try:
            await carriers.start()
            primary, dr = store(tmp_path, "primary"), store(tmp_path, "dr")
            await carriers.port("3035550201", primary)
            killed = time.time()
            pair.kill_side("primary")
            await wait_roles(pair, {"dr": LIVE}, timeout=40)
            await carriers.all_back(killed, timeout=40)
            on_dr = [await carriers.port(tn, dr) for tn in ("3035550202", "3035550203")]
            await pair.start_side("primary")
            await wait_current_standby(pair, "primary", "dr", timeout=60)

            asked = time.time()
            assert await request_async(pair.socket("dr", "ha"), "switchback") == "draining"
            await wait_roles(pair, {"primary": LIVE, "dr": "standby"}, timeout=40)
            await carriers.all_back(asked, timeout=40)

            dr_marks = await request_async(pair.socket("dr"), "ha.drill_marks", since_ms=int(asked * 1000))
            events = [e["event"] for e in dr_marks["events"]]
            assert events.index("not-live") < events.index("drain") < events.index("drained"), events
            drain = next(e for e in dr_marks["events"] if e["event"] == "drain")
            drained = next(e for e in dr_marks["events"] if e["event"] == "drained")
            assert drain["associations"] == 5 and drained["still_open"] == 0, dr_marks
            released = [r for r in security_records(tmp_path, "dr", "association-released") if r.get("by") == "npac"]
            assert len(released) >= 5  # IIS 5.3.2: released first; an abort only for what did not answer
            assert all(any(t > asked for t in carriers.log.lost[who]) for who in carriers.log.lost), carriers.log.lost

            # every DR row was on the primary when it raised its epoch (before it went live)
            dr_final = drained["sequence"]
            assert drain["sequence"] == dr_final  # a draining node writes nothing
            report = await request_async(pair.socket("primary", "ha"), "status")
            assert report["database"]["sequence"] >= dr_final, (report["database"], dr_final)
            assert any(t["event"] == "SwitchbackReplayed" and t["after"] == "promoting" for t in report["history"])
            both = [await request_async(pair.socket(side), "ha.journal_digest", upto=dr_final)
                    for side in ("primary", "dr")]
            assert both[0] == both[1] and both[0]["rows"] == dr_final, both
            seq = journal_sequences(primary)
            assert seq == list(range(1, len(seq) + 1)) and seq[-1] > dr_final  # then its own epoch row
            assert all(version_of(primary, tn) == vid for tn, vid in zip(("3035550202", "3035550203"), on_dr))
            assert_lsms_hold_every_active_version(carriers, primary)

            since = gtime(int(asked * 1000) - 1000)
            for who, infos in carriers.notices().items():
                told = [i for i in infos if i["down-time"]["startTime"] >= since
                        and i.get("additional-down-time-information", "").startswith("Planned switchback")]
                assert told, (who, infos)
            kinds = [n["kind"] for n in user_notices(tmp_path, "dr")]
            assert "switchback" in kinds, kinds
            await carriers.port("3035550204", primary)  # the primary is live for carriers again
        finally:
            await carriers.close()
            await pair.stop()

    asyncio.run(asyncio.wait_for(scenario(), 150))
