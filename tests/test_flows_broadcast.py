"""Broadcast of subscription versions to Local SMSs over real CMIP associations (IIS flows 6.4.1.6,
6.4.1.7, 6.4.1.11, 6.4.2; FRS R5-57..R5-61, R5-68, RR5-38, R10-19; DECISIONS "Retry Attempts").

The NPAC's clock is injected: the 8-minute retry schedule (first send + 3 resends, 2 minutes apart,
failure 2 minutes after the last) runs in milliseconds of wall time.
"""
import asyncio

import pytest

from appliance.lnp.oids import OIDS
from appliance.lnp.values import lrn_octets
from appliance.npac.lsms_wire import lsms_subscriptions, tn_filter
from appliance.npac.model import BroadcastKind, BroadcastOp, Status
from appliance.npac.tunables import Tunables
from appliance.osi import cmip
from appliance.peers.lsms_mib import plain_attributes
from appliance.store.broadcasts import BROADCASTS, HOLD_QUEUE
from tests.support.lsms_rig import MINUTE, eventually, start_lsms_rig

TN = "3125551234"
ALL = ("0001", "0002", "0003")


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def creates(sim, tn=TN):
    return [r for r in sim.received if r.kind in ("create", "action") and tn in (r.detail.get("tn"), *r.detail.get(
        "tns", ()))]


def rows(rig, version_id):
    return {r["lsms_sp_id"]: r for r in BROADCASTS.for_version(rig.store, version_id)}


def state(rig, version_id, lsms):
    return rows(rig, version_id).get(lsms, {}).get("state")


async def walk_retries(rig, minutes: int) -> None:
    """Move the clock two minutes at a time, letting each resend go out."""
    for _ in range(minutes // 2):
        await rig.advance(2 * MINUTE)
        await asyncio.sleep(0.05)


def test_active_version_create_goes_to_every_lsms(tmp_path, keys_dir):
    """Flow 6.4.1.6 (seed L32376-32424): M-CREATE subscriptionVersion under each LSMS's lnpSubscriptions
    with download reason new; the round completes when all succeeded (R5-59.1). R10-19 (L19068): the
    broadcast starts at once, before the NPAC's clock moves at all; R5-58.1: each answer logged."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            sims = await rig.lsms_up(*ALL)
            v = rig.add_version(TN)
            started = rig.clock()
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, None)
            await eventually(lambda: rig.completions)
            assert rig.completions == [(v.version_id, ALL, ())]
            for sim in sims:
                [create] = creates(sim)
                assert create.kind == "create" and create.name == "subscriptionVersion"
                held = sim.mib.versions()[TN]
                assert held["subscriptionVersionId"] == v.version_id
                assert held["subscriptionDownloadReason"] == "new1"
                assert held["subscriptionLRN"] == lrn_octets("3125550002")
                assert held["subscriptionNewCurrentSP"] == "0002"
                assert held["subscriptionCLASS-DPC"] == {"dpc-value": b"\x01\x02\x03"}
            assert all(r["state"] == "succeeded" and r["sends"] == 1 and r["first_sent_ms"] == started
                       for r in rows(rig, v.version_id).values())
        finally:
            await rig.close()
    run(body())


def test_create_action_answered_by_action_results(tmp_path, keys_dir):
    """Flow 6.4.1.7 (L32428-32474): an LSMS that prefers it gets subscriptionVersionLocalSMS-Create;
    its reply only says it can decode the action, and the round waits for the later
    subscriptionVersionLocalSMS-ActionResults (f-h). The others still get M-CREATE."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir, providers={"0003": {"tunables": {"sv-create-method": "action"}}})
        try:
            sims = await rig.lsms_up(*ALL)
            rig.lsms["0003"].silent_tns.add(TN)  # decodes and replies, but sends no results yet
            v = rig.add_version(TN)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, None)
            await eventually(lambda: state(rig, v.version_id, "0001") == state(rig, v.version_id, "0002") == "succeeded")
            [action] = creates(rig.lsms["0003"])
            assert action.kind == "action" and action.name == "subscriptionVersionLocalSMS-Create"
            assert rig.completions == [] and rows(rig, v.version_id)["0003"]["state"] == "sending"
            assert [c.kind for s in sims[:2] for c in creates(s)] == ["create", "create"]
            # at the first retry the action goes again; this time the LSMS reports its creates
            rig.lsms["0003"].silent_tns.clear()
            await rig.advance(2 * MINUTE, settle=lambda: rig.completions)
            assert rig.completions == [(v.version_id, ALL, ())]
            assert [a.detail["action_id"] for a in creates(rig.lsms["0003"])] == [1, 2]
            assert rig.lsms["0003"].mib.versions()[TN]["subscriptionVersionId"] == v.version_id
        finally:
            await rig.close()
    run(body())


def test_create_fails_at_every_lsms_after_the_retries(tmp_path, keys_dir):
    """Flow 6.4.1.11 (L32618-32670): every LSMS fails or stays silent; each is sent the create four
    times, 2 minutes apart (R5-60.7, DECISIONS: Retry Attempts = 3 resends), fails 2 minutes after the
    last (R5-60.8), and the round ends with every LSMS in the failed list (R5-61.1)."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            sims = await rig.lsms_up(*ALL)
            sims[0].silent_tns.add(TN)
            sims[1].fail_tns.add(TN)
            sims[2].fail_tns.add(TN)
            v = rig.add_version(TN)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, None)
            await eventually(lambda: all(len(creates(s)) == 1 for s in sims))
            await walk_retries(rig, 6)
            await eventually(lambda: all(len(creates(s)) == 4 for s in sims))
            await rig.advance(2 * MINUTE - 1)
            assert rig.completions == []  # R5-60.9: still sending until the last interval has run out
            await rig.advance(1, settle=lambda: rig.completions)
            assert rig.completions == [(v.version_id, (), ALL)]
            assert all(r["state"] == "failed" and r["sends"] == 4 for r in rows(rig, v.version_id).values())
            assert all(len(creates(s)) == 4 for s in sims)
        finally:
            await rig.close()
    run(body())


def test_partial_failure_resends_only_to_the_silent_lsms_then_resend(tmp_path, keys_dir):
    """Flow 6.4.2 (L32674-32736): resends go only to the LSMS that has not responded (e); after the
    retries the round reports the succeeded and the failed LSMS (g, the failed-SP list). RR5-38
    (L14304-14374): NPAC personnel resend to the failed LSMS; only it is sent to again."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            sims = await rig.lsms_up(*ALL)
            sims[2].silent_tns.add(TN)
            v = rig.add_version(TN)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, None)
            await eventually(lambda: all(creates(s) for s in sims))
            # the answers travel in real time: the clock moves only once the NPAC has taken them
            await eventually(lambda: [state(rig, v.version_id, sp) for sp in ALL[:2]] == ["succeeded"] * 2)
            await walk_retries(rig, 8)
            await eventually(lambda: rig.completions)
            assert rig.completions == [(v.version_id, ("0001", "0002"), ("0003",))]
            assert [len(creates(s)) for s in sims] == [1, 1, 4]
            sims[2].silent_tns.clear()
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, ("0003",))
            await eventually(lambda: len(rig.completions) == 2)
            assert rig.completions[1] == (v.version_id, ("0003",), ())
            assert [len(creates(s)) for s in sims] == [1, 1, 5]
            assert rows(rig, v.version_id)["0003"]["sends"] == 1  # a resend is a fresh round
        finally:
            await rig.close()
    run(body())


def test_modify_and_disconnect_are_scoped_by_tn(tmp_path, keys_dir):
    """DECISIONS / flow 6.4.3.1 (L32744-32880): a modify reaches the LSMSs as a scoped/filtered M-SET
    by TN, download reason modified; a disconnect (flow 6.4.6.1, B.1.5) as a scoped/filtered M-DELETE
    by TN (IIS 4.1 L26959)."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            sims = await rig.lsms_up(*ALL)
            v = rig.add_version(TN)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, None)
            await eventually(lambda: rig.completions)
            # IIS 4.1 "SV Query to LSMS" (L27090): the NPAC reads the LSMS's copy by a scoped M-GET
            (conn,) = rig.side.link.associations("0003")
            query = await rig.agent.send_request(conn, cmip.GetRequest(
                OIDS.object_class("lnpSubscriptions").oid, lsms_subscriptions("0003"), cmip.FIRST_LEVEL_ONLY,
                tn_filter(TN)))
            [copy] = query.linked
            assert plain_attributes(dict(copy.attributes))["subscriptionTN"] == TN
            v = rig.update_version(v, status=Status.ACTIVE)
            modified = rig.add_version(TN, kind=BroadcastKind.MODIFY, modifies_version_id=v.version_id,
                                       lidb_dpc="009008007")
            rig.side.broadcaster.start(modified.version_id, BroadcastOp.MODIFY, None)
            await eventually(lambda: len(rig.completions) == 2)
            assert rig.completions[1] == (modified.version_id, ALL, ())
            for sim in sims:
                [change] = [r for r in sim.received if r.kind == "set"]
                assert change.name == "lnpSubscriptions" and change.detail["tns"] == [TN]
                held = sim.mib.versions()[TN]
                assert held["subscriptionLIDB-DPC"] == {"dpc-value": bytes([9, 8, 7])}
                assert held["subscriptionDownloadReason"] == "modified"
                assert held["subscriptionVersionId"] == v.version_id  # the LSMS keeps its object (by TN)
            gone = rig.add_version(TN, kind=BroadcastKind.DISCONNECT)
            rig.side.broadcaster.start(gone.version_id, BroadcastOp.DELETE, None)
            await eventually(lambda: len(rig.completions) == 3)
            assert rig.completions[2] == (gone.version_id, ALL, ())
            assert all(TN not in sim.mib.versions() for sim in sims)
            assert all([r.detail["tns"] for r in sim.received if r.kind == "delete"] == [[TN]] for sim in sims)
        finally:
            await rig.close()
    run(body())


def test_absent_lsms_is_held_and_counts_its_retries(tmp_path, keys_dir):
    """IIS 5.3.4 / 6.5.1 (L34260-34304): an LSMS that is not associated gets the update in its hold
    queue; the round does not wait for it beyond the retries (R5-60.8), so the version is partially
    failed with that LSMS listed (R5-60.11)."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            await rig.lsms_up("0001", "0002")
            v = rig.add_version(TN)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, None)
            await eventually(lambda: state(rig, v.version_id, "0001") == "succeeded")
            [held] = HOLD_QUEUE.held(rig.store, "0003")
            assert (held["version_id"], held["operation"], held["payload"]) == (v.version_id, "create", {"tn": TN})
            await walk_retries(rig, 8)
            await eventually(lambda: rig.completions)
            assert rig.completions == [(v.version_id, ("0001", "0002"), ("0003",))]
            assert rows(rig, v.version_id)["0003"]["sends"] == 4
            assert len(HOLD_QUEUE.held(rig.store, "0003")) == 1  # held once, owed until recovery
        finally:
            await rig.close()
    run(body())


def test_retry_tunables_shorten_the_schedule(tmp_path, keys_dir):
    """App. C Table 11-2 (L21644-21700): retry attempts and interval are tunables; with 1 attempt at
    1 minute, a silent LSMS is sent twice and fails after 2 minutes."""
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
            await rig.advance(MINUTE, settle=lambda: rig.completions)
            assert rig.completions == [(v.version_id, (), ("0003",))]
        finally:
            await rig.close()
    run(body())


def test_unfinished_round_resumes_after_restart(tmp_path, keys_dir):
    """DECISIONS (timers survive restart and cutover), ARCHITECTURE "pending broadcasts live in the
    store": the NPAC stops mid-round; the next one resumes from the broadcasts table. The row left
    `sending` has no request behind it any more, so the restarted NPAC counts it unanswered at once
    (held for the LSMS, absent then), and the schedule goes on from there to complete the round."""
    async def body():
        db = tmp_path / "npac.db"
        rig = await start_lsms_rig(tmp_path / "a", keys_dir, store_path=db)
        (sim,) = await rig.lsms_up("0003")
        sim.silent_tns.add(TN)
        v = rig.add_version(TN)
        rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, ("0003",))
        await eventually(lambda: creates(sim))
        await rig.advance(2 * MINUTE)
        await eventually(lambda: len(creates(sim)) == 2)
        clock = rig.clock
        await rig.close()
        again = await start_lsms_rig(tmp_path / "b", keys_dir, store_path=db, clock=clock)
        try:
            (sim,) = await again.lsms_up("0003")
            assert rows(again, v.version_id)["0003"]["sends"] == 3
            assert [h["version_id"] for h in HOLD_QUEUE.held(again.store, "0003")] == [v.version_id]
            await again.advance(2 * MINUTE, settle=lambda: again.completions)
            assert again.completions == [(v.version_id, ("0003",), ())]
            assert len(creates(sim)) == 1 and rows(again, v.version_id)["0003"]["sends"] == 4
        finally:
            await again.close()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    run(body())
