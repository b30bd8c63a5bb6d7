"""Disconnect, conflict and intra-SP ports over real CMIP associations (IIS flows 6.4.6.1, 6.4.6.2,
6.4.7.1, 6.4.7.2, 6.4.8, 6.4.9, 6.4.10). Seed lines ("L33330") point into
shared/seeds/003_143becf4141144f2.txt."""
from __future__ import annotations

import asyncio

import pytest

from appliance.npac.events import NPAC_PERSONNEL, RequestConflictResolution, SetConflict
from appliance.npac.model import BroadcastOp, LnpType, Status
from appliance.peers.soa import routing
from appliance.store.timers import TIMERS
from tests.support.npac_rig import (
    DAY, H, LRN, NEW, OLD, T0, THIRD, TN, FakeBroadcaster, active_port, pending_port, start_npac,
)

OC = "objectCreation"
SAVC = "subscriptionVersionStatusAttributeValueChange"
DONOR = "subscriptionVersionDonorSP-CustomerDisconnectDate"
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


@BOTH
def test_6_4_6_1_immediate_disconnect(tmp_path, keys_dir, mode):
    """6.4.6.1 (L33330-33428), T23 and T20: the current SP disconnects the active version; the donor SOA
    (owner of the NPA-NXX, RR5-25.2) hears the disconnect date before the LSMSs get the M-DELETE; sending,
    then old with its disconnect-complete time stamp. Only the current SP, only an active version
    (accessDenied, Exhibit 79)."""
    async def body(rig):
        version_id = await active_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        rig.order.clear()
        assert (await old.disconnect(version_id, T0)).error_name == "accessDenied"  # not the current SP
        rig.clock.advance(DAY)
        done = await new.disconnect(TN, T0 + DAY)
        assert done.ok and done.reply == {"status": "success", "version-id": [version_id]}
        await rig.settle()
        if mode == "fake":
            assert rig.broadcaster.rounds[-1] == (version_id, BroadcastOp.DELETE, (NEW, OLD, THIRD))
        else:  # the M-DELETE by TN removed it from every LSMS
            assert all(TN not in sim.mib.versions() for sim in rig.lsms.values())
        # 6.4.6.1 f, l, s: the status notices go to the current SP's SOA alone; h: the donor's (0002) its own
        assert rig.seen() == [(OLD, DONOR, 1), (NEW, SAVC, 1), (NEW, SAVC, 1)]
        (donor,) = old.notifications(DONOR)
        assert (donor.info["tn"], donor.info["service-prov-customer-disconnect-date"],
                donor.info["service-prov-effective-release-date"]) == (TN, "20260102120000Z", "20260102120000Z")
        assert [r.values["subscriptionVersionStatus"] for r in new.notifications(SAVC)][-2:] == [
            (S.ACTIVE, S.SENDING), (S.SENDING, S.OLD)]
        v = rig.version(version_id)
        assert (v["status"], v["disconnect_complete_ms"], v["customer_disconnect_date_ms"]) == (
            S.OLD, T0 + DAY, T0 + DAY)
        before = rig.journal()
        assert (await new.disconnect(version_id, T0 + DAY)).error_name == "accessDenied"  # no longer active
        assert (await new.disconnect(TN, T0 + DAY)).error_name == "invalidArgumentValue"  # no active version
        assert rig.journal() == before
    run(tmp_path, keys_dir, body, mode)


@BOTH
def test_6_4_6_2_disconnect_with_effective_release_date(tmp_path, keys_dir, mode):
    """6.4.6.2 (L33432-33478), T24 then T14 at the release date (R5-65.2): disconnect-pending until the
    effective release date, then as 6.4.6.1 from step h (the donor SOA, §C #18). A release date in the
    past is invalid (RR5-23.2)."""
    async def body(rig):
        version_id = await active_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        before = rig.journal()
        assert (await new.disconnect(version_id, T0, T0 - H)).error_name == "invalidArgumentValue"
        assert rig.journal() == before
        rig.order.clear()
        release = T0 + 3 * DAY
        assert (await new.disconnect(version_id, T0 + DAY, release)).ok
        await rig.settle()
        assert rig.status(version_id) is S.DISCONNECT_PENDING
        assert rig.seen() == [(NEW, SAVC, 1)]  # to the current SP's SOA alone, as 6.4.6.1 f
        assert [t["due_ms"] for t in TIMERS.for_version(rig.store, version_id)
                if t["kind"] == "deferred-disconnect"] == [release]
        assert await rig.advance(3 * DAY - H) == 0
        assert await rig.advance(H) == 1
        (donor,) = old.notifications(DONOR)
        assert donor.info["service-prov-effective-release-date"] == "20260104120000Z"
        assert rig.status(version_id) is S.OLD
        assert [r.values["subscriptionVersionStatus"] for r in new.notifications(SAVC)][-3:] == [
            (S.ACTIVE, S.DISCONNECT_PENDING), (S.DISCONNECT_PENDING, S.SENDING), (S.SENDING, S.OLD)]
        assert not [r for r in old.notifications(SAVC) if r.values["subscriptionVersionStatus"][0] in (
            S.ACTIVE, S.DISCONNECT_PENDING, S.SENDING) and r.values["subscriptionVersionStatus"][1] != S.ACTIVE]
    run(tmp_path, keys_dir, body, mode)


def test_6_4_7_1_conflict_by_the_npac_and_resolution_acknowledged(tmp_path, keys_dir):
    """6.4.7.1 (L33494-33624): NPAC personnel put the version in conflict, then in conflict-resolution-
    pending (T7A1, T5); both SPs acknowledge with M-ACTIONs and the second one returns it to pending
    (T8); every status change to the old SOA then the new SOA."""
    async def body(rig):
        version_id = await pending_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        rig.order.clear()
        await rig.services.engine.submit(version_id, SetConflict(NPAC_PERSONNEL))
        await rig.services.engine.submit(version_id, RequestConflictResolution(NPAC_PERSONNEL))
        await rig.settle()
        assert rig.seen() == [(OLD, SAVC, 1), (NEW, SAVC, 1)] * 2
        assert rig.status(version_id) is S.CONFLICT_RESOLUTION_PENDING
        rig.clock.advance(H)
        assert (await new.conflict_resolution_ack(version_id, "old")).error_name == "accessDenied"
        assert (await old.conflict_resolution_ack(version_id, "old")).reply == "success"
        assert rig.version(version_id)["old_sp_conflict_resolution_ms"] == T0 + H
        assert (await new.conflict_resolution_ack(TN, "new")).ok
        await rig.settle()
        assert rig.status(version_id) is S.PENDING
        assert [r.values["subscriptionVersionStatus"] for r in old.notifications(SAVC)] == [
            (S.PENDING, S.CONFLICT), (S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING),
            (S.CONFLICT_RESOLUTION_PENDING, S.PENDING)]
        (row,) = (await old.query(version_id=version_id)).reply
        assert (row["subscriptionVersionStatus"], row["subscriptionNewSP-ConflictResolutionTimeStamp"]) == (
            S.PENDING, T0 + H)
    run(tmp_path, keys_dir, body)


def test_6_4_7_2_new_sp_asks_for_conflict_resolution(tmp_path, keys_dir):
    """6.4.7.2 (L33628-33668): the new SP's subscriptionVersionNewSP-ConflictResolutionPending takes a
    conflict version to conflict-resolution-pending; denied (processingFailure) when the old SP's
    authorization is not true (step d); only the new SP may ask (accessDenied)."""
    async def body(rig):
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        assert (await old.old_sp_create(TN, NEW, T0 + DAY, False)).ok  # T11: conflict at once
        await rig.settle()
        assert rig.status(1) is S.CONFLICT
        before = rig.journal()
        refused = await new.conflict_resolution_pending(1)
        assert refused.error_name == "processingFailure" and "authorization" in refused.specific_info
        assert (await old.conflict_resolution_pending(1)).error_name == "accessDenied"
        assert rig.journal() == before

        second = await pending_port(rig, "3035551235")
        await rig.services.engine.submit(second, SetConflict(NPAC_PERSONNEL))
        await rig.settle()
        rig.order.clear()
        assert (await new.conflict_resolution_pending("3035551235")).reply == "success"
        await rig.settle()
        assert rig.status(second) is S.CONFLICT_RESOLUTION_PENDING
        assert rig.seen() == [(OLD, SAVC, second), (NEW, SAVC, second)]
    run(tmp_path, keys_dir, body)


def test_6_4_8_missing_conflict_resolution_acknowledgement_request_then_conflict(tmp_path, keys_dir):
    """6.4.8 (L33672-33804), DECISIONS: the new SP does not acknowledge; after 4 h (RR5-17)
    subscriptionVersionConflictResolutionAcknowledgeRequest goes to it alone; after 4 h more (RR5-18)
    the version is back in conflict (T6B, the flow's reading, §C #16)."""
    async def body(rig):
        version_id = await pending_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        await rig.services.engine.submit(version_id, SetConflict(NPAC_PERSONNEL))
        await rig.services.engine.submit(version_id, RequestConflictResolution(NPAC_PERSONNEL))
        assert (await old.conflict_resolution_ack(version_id, "old")).ok
        await rig.settle()
        rig.order.clear()
        assert await rig.advance(4 * H) == 1
        assert rig.seen() == [(NEW, "subscriptionVersionConflictResolutionAcknowledgeRequest", 1)]
        assert await rig.advance(4 * H) == 1
        assert rig.status(version_id) is S.CONFLICT
        assert rig.seen(SAVC) == [(OLD, SAVC, 1), (NEW, SAVC, 1)]
        assert new.notifications(SAVC)[-1].values["subscriptionVersionStatus"] == (
            S.CONFLICT_RESOLUTION_PENDING, S.CONFLICT)
    run(tmp_path, keys_dir, body)


def test_6_4_9_unresolved_conflict_is_canceled_after_the_window(tmp_path, keys_dir):
    """6.4.9 (L33808-33872), T1 (L10610): a conflict left for the Version Conflict Cancellation Window
    (30 days, R5-45) becomes canceled; status to the old SOA then the new SOA (§C #23)."""
    async def body(rig):
        old, _ = await rig.soa(OLD), await rig.soa(NEW)
        assert (await old.old_sp_create(TN, NEW, T0 + DAY, False)).ok
        await rig.settle()
        rig.order.clear()
        assert await rig.advance(30 * DAY - H) == 0
        assert await rig.advance(H) == 1
        v = rig.version(1)
        assert (v["status"], v["cancellation_ms"], v["pre_cancellation_status"]) == (S.CANCELED, T0 + 30 * DAY,
                                                                                  S.CONFLICT)
        assert rig.seen() == [(OLD, SAVC, 1), (NEW, SAVC, 1)]
    run(tmp_path, keys_dir, body)


def test_6_4_10_intra_sp_port_only_the_current_sp_hears(tmp_path, keys_dir):
    """6.4.10 (L33876-34016): the current SP ports its own TN (LISP, old = new); no old-SP create and no
    concurrence are needed (RR5-8), and its notifications go only to that SP (L34016)."""
    async def body(rig):
        first = await active_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        rig.order.clear()
        before = rig.journal()
        assert (await old.old_sp_create(TN, OLD, T0 + DAY, True)).error_name == "invalidArgumentValue"  # L41446
        assert rig.journal() == before
        created = await new.new_sp_create(TN, NEW, T0 + DAY, routing(LRN[NEW], ssn=4), lnp_type=LnpType.LISP)
        assert created.ok
        await rig.settle()
        v = rig.version(2)
        assert (v["status"], v["old_sp_authorization"], v["lnp_type"]) == (S.PENDING, True, LnpType.LISP)
        assert rig.seen() == [(NEW, OC, 2)]
        assert (await new.activate(2)).ok
        await rig.settle()
        assert (rig.status(first), rig.status(2)) == (S.OLD, S.ACTIVE)
        assert [(sp, v) for sp, _, v in rig.seen(SAVC) if v == 2] == [(NEW, 2), (NEW, 2)]
        assert not old.notifications(version_id=2)
    run(tmp_path, keys_dir, body)
