"""Subscription-version creation and activation over real CMIP associations (IIS flows 6.4.1.x).

Each test drives a live NPAC node with SOA simulators and checks both sides: the action replies, the
notifications each SOA received (old SP's SOA before the new SP's, 05 §A.2), the statuses in the store
and in M-GET answers, and the timers on the fake business clock. Seed lines ("L31788") point into
shared/seeds/003_143becf4141144f2.txt.
"""
from __future__ import annotations

import asyncio

import pytest

from appliance.npac.model import BroadcastOp, Status
from appliance.peers.soa import routing
from appliance.store.timers import TIMERS
from tests.support.npac_rig import (
    DAY, H, LRN, MINUTE, NEW, OLD, T0, THIRD, TN, FakeBroadcaster, active_port, pending_port, start_npac,
)

OC, AVC = "objectCreation", "attributeValueChange"
SAVC = "subscriptionVersionStatusAttributeValueChange"
S = Status


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


BOTH = pytest.mark.parametrize("mode", ["fake", "lsms"])  # FakeBroadcaster, or the real LSMS side


def run(tmp_path, keys_dir, body, mode="fake"):
    async def main():
        rig = await start_npac(tmp_path, keys_dir, FakeBroadcaster if mode == "fake" else "lsms")
        try:
            await body(rig)
        finally:
            await rig.close()
    asyncio.run(asyncio.wait_for(main(), 60))


def test_6_4_1_1_old_sp_creates_first_and_6_4_1_3_new_sp_joins(tmp_path, keys_dir):
    """6.4.1.1 (L31788-31864): the old SP's create makes a pending version, objectCreation to the old
    SOA then the new SOA. 6.4.1.3 (L32024-32190): the new SP's create fills it in (an M-SET, not a
    new version) and both SOAs hear the changed attributes."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        due = T0 + 2 * DAY
        created = await old.old_sp_create(TN, NEW, due, True)
        assert created.ok and created.reply["status"] == "success"
        assert created.reply["invalid-data"]["subscription-old-sp"] == OLD  # mandatory echo, L43046
        await rig.settle()
        assert rig.seen() == [(OLD, OC, 1), (NEW, OC, 1)]
        v = rig.version(1)
        assert (v["status"], v["old_sp_authorization"], v["old_sp_authorization_ms"], v["creation_ms"]) == (
            S.PENDING, True, T0, T0)
        told = new.notifications(OC)[0].values
        assert (told["subscriptionVersionStatus"], told["subscriptionOldSP"], told["subscriptionNewCurrentSP"],
                told["subscriptionOldSP-DueDate"]) == (S.PENDING, OLD, NEW, due)

        rig.clock.advance(H)
        joined = await new.new_sp_create(TN, OLD, due, routing(LRN[NEW]))
        assert joined.ok and joined.reply["invalid-data"]["subscription-new-current-sp"] == NEW
        await rig.settle()
        assert rig.seen(AVC) == [(OLD, AVC, 1), (NEW, AVC, 1)]
        changes = old.notifications(AVC)[0].values
        assert changes["subscriptionNewSP-DueDate"] == (None, due)
        assert changes["subscriptionLRN"] == (None, LRN[NEW])
        assert changes["subscriptionNewSP-CreationTimeStamp"] == (None, T0 + H)
        assert [v["version_id"] for v in rig.store.select("subscription_versions")] == [1]
        (row,) = (await old.query(tn=TN)).reply
        assert (row["subscriptionVersionStatus"], row["subscriptionLRN"], row["subscriptionNewSP-CreationTimeStamp"],
                row["subscriptionModifiedTimeStamp"]) == (S.PENDING, LRN[NEW], T0 + H, T0 + H)
    run(tmp_path, keys_dir, body)


def test_6_4_1_2_new_sp_creates_first_and_6_4_1_4_old_sp_concurs(tmp_path, keys_dir):
    """6.4.1.2 (L31868-32020): the new SP's create (with its routing data) makes the pending version
    (DECISIONS: new-SP-first goes to pending); 6.4.1.4 (L32200-32314): the old SP's create adds its due
    date and authorization; attributeValueChange to the old SOA, then the new SOA."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        due = T0 + 3 * DAY
        created = await new.new_sp_create(TN, OLD, due, {**routing(LRN[NEW]), "billing_id": "B001"})
        assert created.ok
        await rig.settle()
        assert rig.seen() == [(OLD, OC, 1), (NEW, OC, 1)]
        assert old.notifications(OC)[0].values["subscriptionBillingId"] == "B001"
        assert rig.version(1)["new_sp_creation_ms"] == T0 and rig.version(1)["old_sp_authorization"] is None

        rig.clock.advance(2 * H)
        concurred = await old.old_sp_create(TN, NEW, due, True)
        assert concurred.ok
        await rig.settle()
        assert rig.seen(AVC) == [(OLD, AVC, 1), (NEW, AVC, 1)]
        changes = new.notifications(AVC)[0].values
        assert changes["subscriptionOldSP-DueDate"] == (None, due)
        assert changes["subscriptionOldSP-Authorization"] == (None, True)
        assert changes["subscriptionOldSP-AuthorizationTimeStamp"] == (None, T0 + 2 * H)
        assert rig.status(1) is S.PENDING
        assert not TIMERS.for_version(rig.store, 1) or all(  # concurrence complete: no T1/T2 left (R5-21.1)
            t["kind"] not in ("initial-concurrence", "final-concurrence") for t in TIMERS.for_version(rig.store, 1))
    run(tmp_path, keys_dir, body)


@BOTH
def test_6_4_1_5_activation_sending_then_active_at_every_lsms(tmp_path, keys_dir, mode):
    """6.4.1.5 (L32318-32366) and 6.4.1.6 (L32376-32424): the new SP activates; sending, then active once
    every LSMS took the create; status notifications to the old SOA then the new SOA each time. Run with
    the fake broadcaster and with the real LSMS side (M-CREATEs to three LSMS simulators)."""
    async def body(rig):
        version_id = await pending_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        rig.clock.advance(DAY)
        activated = await new.activate(version_id)
        assert activated.ok and activated.reply == "success"
        await rig.settle()
        if mode == "fake":
            assert rig.broadcaster.rounds == [(version_id, BroadcastOp.CREATE, (NEW, OLD, THIRD))]
        else:
            assert all(sim.mib.versions()[TN]["subscriptionVersionId"] == version_id for sim in rig.lsms.values())
            assert [r.name for r in rig.lsms[THIRD].received if r.kind == "event"] == ["subscriptionVersionNewNPA-NXX"]
        assert rig.seen(SAVC) == [(OLD, SAVC, 1), (NEW, SAVC, 1), (OLD, SAVC, 1), (NEW, SAVC, 1)]
        assert [r.values["subscriptionVersionStatus"] for r in old.notifications(SAVC)] == [
            (S.PENDING, S.SENDING), (S.SENDING, S.ACTIVE)]
        v = rig.version(version_id)
        assert (v["status"], v["activation_ms"], v["broadcast_ms"], v["download_reason"]) == (
            S.ACTIVE, T0 + DAY, T0 + DAY, 0)
        (row,) = (await new.query(version_id=version_id)).reply
        assert (row["subscriptionVersionStatus"], row["subscriptionActivationTimeStamp"],
                row["subscriptionDownloadReason"]) == (S.ACTIVE, T0 + DAY, 0)
        assert rig.store.get("npa_nxx", 1)["ported"]  # RR5-3: the NPA-NXX's first port
    run(tmp_path, keys_dir, body, mode)


@BOTH
def test_6_4_2_partial_failure_names_the_failed_lsms(tmp_path, keys_dir, mode):
    """6.4.2 (L32674-32736): an LSMS that fails after its retries leaves download-failed-partial, and the
    status notification carries subscriptionFailed-SP-List (L32724, L41926)."""
    async def body(rig):
        version_id = await pending_port(rig)
        rig.fail_at(THIRD, TN)
        assert (await (await rig.soa(NEW)).activate(TN)).ok
        await rig.settle()
        await rig.finish_broadcasts()
        assert rig.status(version_id) is S.DOWNLOAD_FAILED_PARTIAL
        last = (await rig.soa(OLD)).notifications(SAVC)[-1].values
        assert last["subscriptionVersionStatus"] == (S.SENDING, S.DOWNLOAD_FAILED_PARTIAL)
        assert last["failed"] == [THIRD]
        (row,) = (await (await rig.soa(OLD)).query(tn=TN)).reply
        assert row["subscriptionFailed-SP-List"] == [THIRD]
    run(tmp_path, keys_dir, body, mode)


def test_6_4_1_8_and_6_4_1_9_old_sp_silent_concurrence_request_then_conflict(tmp_path, keys_dir):
    """6.4.1.8 (L32478-32510): T1 (18 h, R5-21.1) runs out with the old SP silent ->
    subscriptionVersionOldSP-ConcurrenceRequest to the old SOA only (§C #9); 6.4.1.9 (L32514-32568):
    T2 (18 h more) runs out -> conflict, status to the old SOA then the new SOA."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        assert (await new.new_sp_create(TN, OLD, T0 + 5 * DAY, routing(LRN[NEW]))).ok
        await rig.settle()
        assert await rig.advance(18 * H - MINUTE) == 0
        assert await rig.advance(MINUTE) == 1
        (request,) = old.notifications("subscriptionVersionOldSP-ConcurrenceRequest")
        assert request.version_id == 1
        assert {k: request.info[k] for k in ("tn", "version-id", "service-prov-id", "service-prov-due-date")} == {
            "tn": TN, "version-id": 1, "service-prov-id": NEW, "service-prov-due-date": "20260106120000Z"}
        assert not new.notifications("subscriptionVersionOldSP-ConcurrenceRequest")
        assert rig.status(1) is S.PENDING

        assert await rig.advance(18 * H) == 1
        assert rig.status(1) is S.CONFLICT and rig.version(1)["conflict_ms"] == T0 + 36 * H
        assert rig.seen(SAVC) == [(OLD, SAVC, 1), (NEW, SAVC, 1)]
        assert new.notifications(SAVC)[0].values["subscriptionVersionStatus"] == (S.PENDING, S.CONFLICT)
    run(tmp_path, keys_dir, body)


def test_6_4_1_10_new_sp_silent_create_request_then_cancel_pending(tmp_path, keys_dir):
    """6.4.1.10 (L32572-32608): the new SP silent through T1 -> subscriptionVersionNewSP-CreateRequest
    to the new SOA (L41814); through T2 -> cancel-pending, pre-cancellation status pending (L36326)."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        assert (await old.old_sp_create(TN, NEW, T0 + 5 * DAY, True)).ok
        await rig.settle()
        await rig.advance(18 * H)
        (request,) = new.notifications("subscriptionVersionNewSP-CreateRequest")
        assert request.info["service-prov-old-authorization"] is True
        assert request.info["version-create-request"]["service-prov-id"] == OLD
        assert not old.notifications("subscriptionVersionNewSP-CreateRequest")
        await rig.advance(18 * H)
        v = rig.version(1)
        assert (v["status"], v["pre_cancellation_status"]) == (S.CANCEL_PENDING, S.PENDING)
        assert rig.seen(SAVC) == [(OLD, SAVC, 1), (NEW, SAVC, 1)]
        (row,) = (await old.query(tn=TN)).reply
        assert row["subscriptionPreCancellationStatus"] == S.PENDING
    run(tmp_path, keys_dir, body)


def test_concurrence_timers_survive_a_node_restart(tmp_path, keys_dir):
    """DECISIONS "Timers are persisted in the store and keep running across restart": the node stops
    17 h into T1 and starts again on its store; T1 and then T2 still fire (6.4.1.10)."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        assert (await old.old_sp_create(TN, NEW, T0 + 5 * DAY, True)).ok
        await rig.settle()
        await rig.advance(17 * H)
        await rig.restart()
        assert [t["kind"] for t in TIMERS.for_version(rig.store, 1)] == ["initial-concurrence", "pending-expiration"]
        await rig.advance(H)
        assert [r.version_id for r in new.notifications("subscriptionVersionNewSP-CreateRequest")] == [1]
        await rig.restart()
        await rig.advance(18 * H)
        assert rig.status(1) is S.CANCEL_PENDING
        assert [r.values["subscriptionVersionStatus"] for r in new.notifications(SAVC)] == [
            (S.PENDING, S.CANCEL_PENDING)]
    run(tmp_path, keys_dir, body)


def test_invalid_creates_and_activations_get_the_named_error_and_commit_nothing(tmp_path, keys_dir):
    """Exhibit 79 / errors.py: invalid data -> invalidArgumentValue (6.4.1.1 b, 6.4.1.2 b); not the SP the
    request speaks for -> accessDenied (6.4.1.3 b, 6.4.1.5 d); no version to activate ->
    invalidArgumentValue (6.4.1.5 d); a business rule -> processingFailure with lnpSpecificInfo
    (Exhibit 80). Nothing is committed: the journal does not move (R5-20.2) and no notification waits."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        due = T0 + 2 * DAY
        cases = [
            (new.new_sp_create(TN, OLD, due), "invalidArgumentValue"),  # routing data missing
            (new.new_sp_create(TN, OLD, T0 - 2 * DAY, routing(LRN[NEW])), "invalidArgumentValue"),  # R5-18.3
            (new.new_sp_create("4045551234", OLD, due, routing(LRN[NEW])), "invalidArgumentValue"),  # R5-18.4
            (new.new_sp_create(TN, OLD, due, routing(LRN[OLD])), "invalidArgumentValue"),  # R5-18.6 LRN owner
            (new.new_sp_create(TN, OLD, due, routing(LRN[THIRD]), new_sp=THIRD), "accessDenied"),
            (old.old_sp_create(TN, OLD, due, True), "invalidArgumentValue"),  # new = old, L41446
            (new.activate(TN), "invalidArgumentValue"),  # nothing pending
            (old.action("subscriptionVersionActivate", b"\x30\x00"), "invalidArgumentValue"),  # undecodable
        ]
        before = rig.journal()
        for request, error in cases:
            answer = await request
            assert answer.error_name == error, (answer, error)
        assert rig.journal() == before and not rig.outbox()

        assert (await new.new_sp_create(TN, OLD, due, routing(LRN[NEW]))).ok
        await rig.settle()
        before = rig.journal()
        not_concurred = await new.activate(TN)
        assert not_concurred.error_name == "processingFailure"
        assert "authorized" in not_concurred.specific_info  # R5-53.1 concurrence missing
        assert (await old.activate(TN)).error_name == "accessDenied"  # only the new SP activates
        again = await new.new_sp_create(TN, OLD, due, routing(LRN[NEW]))
        assert again.error_name == "processingFailure"  # R5-18.8 version-create-already-exists
        assert rig.journal() == before and not rig.outbox() and rig.status(1) is S.PENDING
    run(tmp_path, keys_dir, body)


def test_a_tn_range_create_and_activation_makes_one_version_per_tn(tmp_path, keys_dir):
    """R5-5 (L11366), 6.4.1.1 b / 6.4.1.5 a: a TN range gives one version, one M-CREATE and one
    notification per TN; the activation of the range sends each."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        span = ("3035551000", "1002")
        assert (await old.old_sp_create(span, NEW, T0 + DAY, True)).ok
        assert (await new.new_sp_create(span, OLD, T0 + DAY, routing(LRN[NEW]))).ok
        await rig.settle()
        assert [(r.sp, r.version_id) for r in old.notifications(OC)] == [(OLD, 1), (OLD, 2), (OLD, 3)]
        assert [v["tn"] for v in rig.store.select("subscription_versions")] == ["3035551000", "3035551001",
                                                                                "3035551002"]
        assert (await new.activate(span)).ok
        await rig.settle()
        assert [rig.status(n) for n in (1, 2, 3)] == [S.ACTIVE] * 3
        assert [r[0] for r in rig.broadcaster.rounds] == [1, 2, 3]
    run(tmp_path, keys_dir, body)


def test_a_second_port_of_an_active_tn_retires_the_previous_version(tmp_path, keys_dir):
    """R5-59.2 / T22 (L11034): when the next port of the TN activates, the previous active version
    becomes old; a query shows both (6.4.11, R6-5.2)."""
    async def body(rig):
        first = await active_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        due = rig.clock() + DAY
        assert (await old.new_sp_create(TN, NEW, due, routing(LRN[OLD]))).ok
        assert (await new.old_sp_create(TN, OLD, due, True)).ok
        assert (await old.activate(TN)).ok
        await rig.settle()
        assert (rig.status(first), rig.status(2)) == (S.OLD, S.ACTIVE)
        rows = (await new.query(tn=TN)).reply
        assert [(r["subscriptionVersionId"], r["subscriptionVersionStatus"]) for r in rows] == [
            (first, S.OLD), (2, S.ACTIVE)]
    run(tmp_path, keys_dir, body)
