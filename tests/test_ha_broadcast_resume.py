"""Broadcasts carried on at once by a restarted or promoted node, and settled by an LSMS's recovery.

Issue text ("The promoted node carries on: pending timers fire, unfinished broadcasts and retries
continue, hold queues are kept"), R10-19 (broadcast within 60 s of activation), Exhibit K (the
activation time stamp means the broadcast is complete), R5-60.7/R5-60.8 and DECISIONS "Retry
Attempts" (first send + 3 resends; the limit holds across a take-over), IIS flow 6.5.1 / 5.3.4.1
(L34260-34304: the recovering LSMS is handed what it is owed in the lnpRecoveryComplete reply).

A `sending` row written by an earlier incarnation has no request behind it: the new one counts it
unanswered at once. The NPAC's schedule runs on an injected clock that these tests do not move
unless they say so, so "at once" means "without the retry interval passing".
"""
import asyncio
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.agent import NpacAgent
from appliance.lnp.values import gtime
from appliance.npac.lsms_side import install_lsms_side
from appliance.npac.model import BroadcastKind, BroadcastOp, LnpType, Status, SubscriptionVersion
from appliance.npac.tunables import Tunables
from appliance.npac.writer import Writer
from appliance.ops.security_log import SecurityLog
from appliance.peers.demo_keys import DemoKeys
from appliance.store.broadcasts import BROADCASTS, HOLD_QUEUE, SENDING
from appliance.store.network import SERVICE_PROVIDERS
from appliance.store.store import Store
from appliance.store.versions import VERSIONS
from tests.support.lnp_rig import NPAC_ADDRESS, network_tree
from tests.support.lsms_rig import MINUTE, T0, FakeClock, eventually, start_lsms_rig

TN = "3125551234"
HOUR = 60 * MINUTE


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def creates(sim, tn=TN):
    return [r for r in sim.received if r.kind in ("create", "action") and tn in (r.detail.get("tn"), *r.detail.get(
        "tns", ()))]


def row(store, version_id, lsms):
    return BROADCASTS.get(store, {"version_id": version_id, "lsms_sp_id": lsms})


def window(start):
    return {"startTime": gtime(start)}


async def take_over(rig):
    """What a node does when it goes live again on the same store and agent (appliance.node
    LiveServices): the LSMS side of the old incarnation stops, a new one is built and started."""
    await rig.side.close()

    async def on_complete(version_id, succeeded, failed):
        rig.completions.append((version_id, succeeded, failed))
    rig.side = install_lsms_side(rig.agent, rig.writer, rig.store, rig.clock, lambda: rig.tunables[0], on_complete)
    await rig.side.start()


def test_promoted_services_resend_an_unanswered_broadcast_at_once(tmp_path, keys_dir):
    """R10-19 / Exhibit K / issue text: the LSMS had not answered when the live services stopped; the
    new incarnation resends to the still-associated LSMS at once (the attempt counted), and the
    round completes without the 2-minute retry interval passing."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            (sim,) = await rig.lsms_up("0003")
            sim.silent_tns.add(TN)
            v = rig.add_version(TN)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, ("0003",))
            await eventually(lambda: creates(sim))
            sim.silent_tns.discard(TN)
            await take_over(rig)
            await eventually(lambda: rig.completions)
            assert rig.clock() == T0
            assert rig.completions == [(v.version_id, ("0003",), ())]
            assert len(creates(sim)) == 2 and row(rig.store, v.version_id, "0003")["sends"] == 2
            assert HOLD_QUEUE.held(rig.store, "0003") == []
        finally:
            await rig.close()
    run(body())


def test_restarted_node_holds_for_an_absent_lsms_and_its_recovery_completes_the_round(tmp_path, keys_dir):
    """Issue text / flow 6.5.1: the node restarts on its store while the LSMS that had not answered is
    away; the row is counted unanswered at once and the update held; when the LSMS recovers, the
    lnpRecoveryComplete reply carries it and the round completes, the clock not having moved."""
    async def body():
        db = tmp_path / "npac.db"
        rig = await start_lsms_rig(tmp_path / "a", keys_dir, store_path=db)
        (sim,) = await rig.lsms_up("0003")
        sim.silent_tns.add(TN)
        v = rig.add_version(TN)
        rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, ("0003",))
        await eventually(lambda: creates(sim))
        clock = rig.clock
        await rig.close()
        again = await start_lsms_rig(tmp_path / "b", keys_dir, store_path=db, clock=clock)
        try:
            assert row(again.store, v.version_id, "0003")["sends"] == 2
            assert [h["version_id"] for h in HOLD_QUEUE.held(again.store, "0003")] == [v.version_id]
            assert again.completions == []
            sim = again.simulator("0003")
            *_, done = await sim.recover(again.hosts(), window(T0 - HOUR))
            assert [(i["subscription-version-id"], i["subscription-data"]["subscription-download-reason"])
                    for i in done["subscriber-data"]] == [(v.version_id, "new1")]
            await eventually(lambda: again.completions)
            assert again.completions == [(v.version_id, ("0003",), ())]
            assert again.clock() == T0 and sim.received == []
            assert sim.mib.versions()[TN]["subscriptionVersionId"] == v.version_id
        finally:
            await again.close()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    run(body())


def test_take_over_respects_the_retry_limit(tmp_path, keys_dir):
    """R5-60.8 / App. C retry tunables: with 1 attempt at 1 minute, the first send and the one resend
    are spent before the take-over; the new incarnation does not send a third time, and the LSMS
    fails when the last interval ends."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        rig.tunables[0] = Tunables(activation_retry_attempts=1, activation_retry_interval=1)
        try:
            (sim,) = await rig.lsms_up("0003")
            sim.silent_tns.add(TN)
            v = rig.add_version(TN)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, ("0003",))
            await eventually(lambda: creates(sim))
            await rig.advance(MINUTE)
            await eventually(lambda: len(creates(sim)) == 2)
            await take_over(rig)
            await asyncio.sleep(0.2)
            assert len(creates(sim)) == 2 and row(rig.store, v.version_id, "0003")["sends"] == 2
            assert rig.completions == []
            await rig.advance(MINUTE, settle=lambda: rig.completions)
            assert rig.completions == [(v.version_id, (), ("0003",))]
        finally:
            await rig.close()
    run(body())


def test_recovery_hands_over_a_send_lost_with_the_association(tmp_path, keys_dir):
    """Flow 6.5.1 g / IIS 5.3.4.1: the LSMS's association went while a broadcast to it was unanswered
    (nothing held: it was live when sent); it re-associates in recovery mode, and the
    lnpRecoveryComplete reply carries that version, which settles the round at once."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            (sim,) = await rig.lsms_up("0003")
            sim.silent_tns.add(TN)
            v = rig.add_version(TN)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, ("0003",))
            await eventually(lambda: creates(sim))
            await sim.abort()
            assert HOLD_QUEUE.held(rig.store, "0003") == []
            *_, done = await sim.recover(rig.hosts(), window(T0 - HOUR))
            assert [i["subscription-version-id"] for i in done["subscriber-data"]] == [v.version_id]
            await eventually(lambda: rig.completions)
            assert rig.completions == [(v.version_id, ("0003",), ())]
            assert row(rig.store, v.version_id, "0003")["sends"] == 1
        finally:
            await rig.close()
    run(body())


def test_what_the_download_carried_is_settled_not_sent_twice(tmp_path, keys_dir):
    """Flow 6.5.1 d-g / R5-61 (resend of a partially failed version): the version resent to the LSMS
    is in its subscription download after the send; lnpRecoveryComplete settles the row as delivered
    and does not repeat the version in its reply."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            (sim,) = await rig.lsms_up("0003")
            sim.silent_tns.add(TN)
            v = rig.add_version(TN, status=Status.DOWNLOAD_FAILED_PARTIAL, failed_sp_list=["0003"])
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, ("0003",))
            await eventually(lambda: creates(sim))
            await sim.abort()
            rig.clock.ms += 1000
            _, subscriptions, done = await sim.recover(rig.hosts(), window(T0 - HOUR))
            assert [i["subscription-version-id"] for i in subscriptions["download-data"]["subscriber-data"]] == [
                v.version_id]
            assert done.get("subscriber-data") is None
            await eventually(lambda: rig.completions)
            assert rig.completions == [(v.version_id, ("0003",), ())]
            assert sim.mib.versions()[TN]["subscriptionVersionId"] == v.version_id
        finally:
            await rig.close()
    run(body())


# ---- the take-over rule as a property --------------------------------------------------------------

_KEYS: dict[str, DemoKeys] = {}


def _keys(keys_dir: Path) -> DemoKeys:
    if "k" not in _KEYS:
        _KEYS["k"] = DemoKeys(keys_dir, count=3)
    return _KEYS["k"]


async def _incarnation(keys: DemoKeys, db: Path, clock: FakeClock, tunables: Tunables) -> tuple[Store, object]:
    """A node's LSMS side started on `db` with no LSMS associated (every LSMS absent)."""
    store = Store(str(db), clock)
    writer = Writer(store, clock)
    agent = NpacAgent(identity=keys.npac_identity(), directory=keys.npac_directory(),
                      security_log=SecurityLog(db.parent / "security.log").record,
                      tree=network_tree(keys.carriers), local=NPAC_ADDRESS)

    async def on_complete(*_):
        return None
    side = install_lsms_side(agent, writer, store, clock, lambda: tunables, on_complete)
    await side.start()
    return store, side


def _left_by_an_earlier_incarnation(db: Path, clock: FakeClock, sends: int) -> int:
    store = Store(str(db), clock)
    writer = Writer(store, clock)

    def write(tx):
        SERVICE_PROVIDERS.put(tx, {"sp_id": "0003", "name": "Three", "allowable_functions": ["lsms-data-download"],
                                   "download_network_data": True, "created_ms": tx.now_ms})
        v = SubscriptionVersion(VERSIONS.next_id(tx), TN, Status.SENDING, "0001", "0002", lnp_type=LnpType.LSPP,
                                lrn="3125550002", broadcast_kind=BroadcastKind.ACTIVATE, creation_ms=tx.now_ms,
                                modified_ms=tx.now_ms, broadcast_ms=tx.now_ms)
        VERSIONS.put(tx, v.to_row())
        BROADCASTS.put(tx, {"version_id": v.version_id, "lsms_sp_id": "0003", "operation": "create",
                            "state": SENDING, "sends": sends, "first_sent_ms": tx.now_ms, "last_sent_ms": tx.now_ms,
                            "result_ms": None})
        return v.version_id
    version_id = writer.run_now("an earlier incarnation's round", write)
    store.close()
    return version_id


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sends=st.integers(1, 6), attempts=st.integers(1, 4), restarts=st.integers(1, 3))
def test_take_over_counts_one_attempt_within_the_limit_and_holds_once(keys_dir, sends, attempts, restarts):
    """R5-60.7/R5-60.8 across restarts: each incarnation that finds the row unanswered counts one
    attempt while attempts remain (none once the limit is spent), and the absent LSMS's hold queue
    has the update exactly once however often the node restarts."""
    keys = _keys(keys_dir)
    tunables = Tunables(activation_retry_attempts=attempts)

    async def body(db: Path) -> None:
        clock = FakeClock()
        version_id = _left_by_an_earlier_incarnation(db, clock, sends)
        expected = sends
        for _ in range(restarts):
            store, side = await _incarnation(keys, db, clock, tunables)
            try:
                expected += 1 if expected <= attempts else 0
                await asyncio.sleep(0)
                got = row(store, version_id, "0003")
                assert (got["state"], got["sends"]) == (SENDING, expected)
                assert [h["version_id"] for h in HOLD_QUEUE.held(store, "0003")] == [version_id]
            finally:
                await side.close()
                store.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(asyncio.wait_for(body(Path(tmp) / "npac.db"), 30))


# ---- across a cutover of the real pair ------------------------------------------------------------

def test_dr_completes_a_broadcast_the_killed_primary_left_unanswered_without_the_retry_wait(tmp_path):
    """Issue text / R10-19 / Exhibit K / flow 6.5.1: kill -9 of the live node while LSMS 0003 has not
    answered the activation broadcast of a version (0001 and 0002 took it). The DR takes over the
    row the dead process left `sending`; 0003 recovers on the DR and the version is active there
    within 60 s of the kill, well before the 2-minute retry interval (DECISIONS) would resend it."""
    from tests.support.pair_carriers import PairCarriers, broadcast_sends, version_of, wait_status
    from tests.support.pair_rig import FAST, LIVE, hosts, start_pair, wait_roles

    async def scenario():
        pair = await start_pair(tmp_path, FAST)
        carriers = PairCarriers(DemoKeys(tmp_path / "keys"), hosts(pair.ports))
        try:
            await carriers.start()
            primary, dr = tmp_path / "primary" / "npac.sqlite", tmp_path / "dr" / "npac.sqlite"
            tn = "3035550301"
            late = carriers.lsms["0003"]
            late.silent_tns.add(tn)
            version_id = await carriers.port(tn, primary, active=False)
            want = {"0001": ("succeeded", 1), "0002": ("succeeded", 1), "0003": ("sending", 1)}
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not all(broadcast_sends(db, version_id) == want for db in (primary, dr)):
                await asyncio.sleep(0.05)
            assert [broadcast_sends(db, version_id) for db in (primary, dr)] == [want, want]
            assert [r.detail.get("tn") for r in late.received if r.kind == "create"] == [tn]

            killed = time.monotonic()
            pair.kill_side("primary")
            late.silent_tns.discard(tn)  # the LSMS that comes back answers what it is sent
            await wait_roles(pair, {"dr": LIVE}, timeout=40)
            await wait_status(dr, tn, Status.ACTIVE, timeout=60 - (time.monotonic() - killed))
            took = time.monotonic() - killed
            assert took < 60, took
            assert version_of(dr, tn) == version_id
            state, sends = broadcast_sends(dr, version_id)["0003"]
            assert state == "succeeded" and sends == 2  # the take-over counted one attempt
            assert late.mib.versions()[tn]["subscriptionVersionId"] == version_id
            print(f"kill -9 to version active on the DR: {took:.1f} s")
        finally:
            await carriers.close()
            await pair.stop()

    asyncio.run(asyncio.wait_for(scenario(), 150))
