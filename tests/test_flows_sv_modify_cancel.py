"""Modify and cancel of subscription versions over real CMIP associations (IIS flows 6.4.3.1, 6.4.4,
6.4.4.1, 6.4.5.1, 6.4.5.2). Seed lines ("L32744") point into shared/seeds/003_143becf4141144f2.txt."""
from __future__ import annotations

import asyncio

import pytest

from appliance.lnp.oids import OIDS
from appliance.npac.model import BroadcastOp, Status
from appliance.npac.sv_codec import version_dn
from appliance.osi import ber, cmip
from appliance.peers.demo_keys import NPAC_SYSTEM_ID
from tests.support.npac_rig import DAY, H, LRN, NEW, OLD, T0, TN, FakeBroadcaster, active_port, pending_port, start_npac

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


@BOTH
def test_6_4_3_1_current_sp_modifies_the_active_version(tmp_path, keys_dir, mode):
    """6.4.3.1 (L32744-32880), DECISIONS: a modify of an active version is a new version in sending,
    broadcast as an M-SET (download reason modified); once the LSMSs took it, it is active and the
    previous one old (R5-34, R5-41, T21B, T22). Only the current SP may ask (accessDenied, 6.4.3.1 e)."""
    async def body(rig):
        first = await active_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        before = rig.journal()
        assert (await old.modify(first, {"class_ssn": 9})).error_name == "accessDenied"
        assert (await new.modify(first, {"lrn": LRN[OLD]})).error_name == "invalidArgumentValue"  # R5-38.2
        assert rig.journal() == before
        rig.order.clear()

        rig.clock.advance(H)
        changed = await new.modify(first, {"class_dpc": "004005006", "cnam_ssn": 9})
        assert changed.ok and changed.reply["status"] == "success"
        assert changed.reply["invalid-data"]["subscription-cnam-ssn"] == {"ssn-value": 9}  # echo, L42800
        await rig.settle()
        if mode == "fake":
            assert rig.broadcaster.rounds[-1] == (2, BroadcastOp.MODIFY, (NEW, OLD, "0003"))
        else:  # the scoped M-SET by TN (DECISIONS) reached every LSMS
            assert all(sim.mib.versions()[TN]["subscriptionCLASS-DPC"] for sim in rig.lsms.values())
            assert all(any(r.kind == "set" for r in sim.received) for sim in rig.lsms.values())
        assert (rig.status(first), rig.status(2)) == (S.OLD, S.ACTIVE)
        v2 = rig.version(2)
        assert (v2["class_dpc"], v2["cnam_ssn"], v2["modifies_version_id"], v2["download_reason"]) == (
            "004005006", 9, first, 2)
        # 6.4.3.1 f, h, o: only the current SOA hears of the modify ("NPAC -> current SOA")
        assert rig.seen(OC) == [(NEW, OC, 2)]
        # the machine retires the previous version (T22) within the step that activates the new one
        assert [(r.sp, r.version_id, r.values["subscriptionVersionStatus"]) for r in rig.order if r.name == SAVC] == [
            (NEW, first, (S.ACTIVE, S.OLD)), (NEW, 2, (S.SENDING, S.ACTIVE))]
        assert not [r for r in rig.order if r.sp == OLD]
        rows = (await old.query(tn=TN)).reply
        assert [(r["subscriptionVersionId"], r["subscriptionVersionStatus"], r["subscriptionCLASS-DPC"])
                for r in rows] == [(first, S.OLD, "001002003"), (2, S.ACTIVE, "004005006")]
    run(tmp_path, keys_dir, body, mode)


def test_6_4_4_modify_prior_to_activate_by_m_action(tmp_path, keys_dir):
    """6.4.4 (L32884-33018): each SP changes its own attributes of a pending version (6.4.4 a), the
    change goes to the old SOA then the new SOA as attributeValueChange; the old SP withdrawing its
    authorization puts the version in conflict (T7 by RR5-10.1); the other side's attributes are
    refused with accessDenied."""
    async def body(rig):
        version_id = await pending_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        rig.order.clear()
        due = T0 + 4 * DAY
        assert (await new.modify(version_id, {"new_sp_due_date_ms": due, "class_ssn": 7})).ok
        await rig.settle()
        assert rig.seen() == [(OLD, AVC, 1), (NEW, AVC, 1)]
        changes = old.notifications(AVC)[-1].values
        assert changes["subscriptionNewSP-DueDate"] == (T0 + 2 * DAY, due)
        assert changes["subscriptionCLASS-SSN"] == (0, 7)

        before = rig.journal()
        assert (await new.modify(version_id, {"old_sp_due_date_ms": due})).error_name == "accessDenied"
        assert (await old.modify(version_id, {"lrn": LRN[OLD]})).error_name == "accessDenied"
        assert (await new.modify(version_id, {"new_sp_due_date_ms": T0 - DAY})).error_name == "invalidArgumentValue"
        assert rig.journal() == before and not rig.outbox()

        rig.order.clear()
        assert (await old.modify(version_id, {"old_sp_authorization": False})).ok
        await rig.settle()
        assert rig.status(version_id) is S.CONFLICT
        # 6.4.4 f-m: the status change to the old then the new SOA, then the changed data likewise
        assert rig.seen() == [(OLD, SAVC, 1), (NEW, SAVC, 1), (OLD, AVC, 1), (NEW, AVC, 1)]
        assert old.notifications(AVC)[-1].values["subscriptionOldSP-Authorization"] == (True, False)
    run(tmp_path, keys_dir, body)


def test_6_4_4_modify_asking_for_cancel_pending_cancels(tmp_path, keys_dir):
    """L40886 (§C.9 #25): the new SP's modify with version-status cancel-pending and nothing else
    cancels the pending version; any other version-status is invalid."""
    async def body(rig):
        version_id = await pending_port(rig)
        new = await rig.soa(NEW)
        assert (await new.modify(version_id, {}, version_status=S.ACTIVE)).error_name == "invalidArgumentValue"
        assert (await new.modify(version_id, {}, version_status=S.CANCEL_PENDING)).ok
        await rig.settle()
        assert rig.status(version_id) is S.CANCEL_PENDING
    run(tmp_path, keys_dir, body)


def test_6_4_4_1_modify_prior_to_activate_by_m_set(tmp_path, keys_dir):
    """6.4.4.1 (L33028-33124): M-SET on the subscriptionVersionNPAC: the SP's own attributes on a pending
    version; attributeValueChange to both SOAs. On an active version accessDenied (GDMO L36434); the
    other side's attribute accessDenied; an invalid value processingFailure (GDMO L36488)."""
    async def body(rig):
        version_id = await pending_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        rig.order.clear()
        due = T0 + 5 * DAY
        answer = await new.set_version(version_id, {"new_sp_due_date_ms": due})
        assert answer.ok and isinstance(answer.result, cmip.SetResult)
        assert answer.result.attributes == ((OIDS.attribute("subscriptionNewSP-DueDate").oid,
                                             ber.encode_tlv(0x18, b"20260106120000Z")),)
        await rig.settle()
        assert rig.seen() == [(OLD, AVC, 1), (NEW, AVC, 1)]
        assert new.notifications(AVC)[-1].values["subscriptionNewSP-DueDate"] == (T0 + 2 * DAY, due)
        (row,) = (await old.query(version_id=version_id)).reply
        assert row["subscriptionNewSP-DueDate"] == due

        before = rig.journal()
        assert (await old.set_version(version_id, {"class_ssn": 3})).error_name == "accessDenied"
        bad_lrn = cmip.SetRequest(OIDS.object_class("subscriptionVersionNPAC").oid,
                                  version_dn(NPAC_SYSTEM_ID, version_id),
                                  ((OIDS.attribute("subscriptionLRN").oid, b"\x04\x05\xff\xff\xff\xff\xff",
                                    cmip.REPLACE),))
        refused = await new.request(bad_lrn)
        assert refused.error_name == "processingFailure" and "LRN" in refused.specific_info
        status = ((OIDS.attribute("subscriptionVersionStatus").oid, b"\x0a\x01\x01", cmip.REPLACE),)
        assert (await new.request(cmip.SetRequest(bad_lrn.object_class, bad_lrn.object_instance, status))
                ).error_name == "accessDenied"  # the status is the NPAC's to change
        missing = cmip.SetRequest(bad_lrn.object_class, version_dn(NPAC_SYSTEM_ID, 99), bad_lrn.modifications)
        assert (await new.request(missing)).error_name == "noSuchObjectInstance"
        assert rig.journal() == before

        assert (await new.activate(version_id)).ok
        await rig.settle()
        assert (await new.set_version(version_id, {"class_ssn": 3})).error_name == "accessDenied"
    run(tmp_path, keys_dir, body)


def test_6_4_5_1_cancel_by_the_old_sp_and_both_acknowledgements(tmp_path, keys_dir):
    """6.4.5.1 (L33132-33240): the old SP cancels -> cancel-pending (pre-cancellation status kept); both
    SPs acknowledge (DECISIONS: as M-ACTIONs); the second acknowledgement makes it canceled, and the
    status goes to the old SOA then the new SOA each time."""
    async def body(rig):
        version_id = await pending_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        rig.order.clear()
        rig.clock.advance(H)
        assert (await old.cancel(TN)).reply == "success"
        await rig.settle()
        assert rig.seen() == [(OLD, SAVC, 1), (NEW, SAVC, 1)]
        v = rig.version(version_id)
        assert (v["status"], v["pre_cancellation_status"]) == (S.CANCEL_PENDING, S.PENDING)

        assert (await old.cancel_ack(version_id, "new")).error_name == "accessDenied"  # the other side's ack
        assert (await old.cancel_ack(version_id, "old")).ok
        await rig.settle()
        assert rig.version(version_id)["old_sp_cancellation_ms"] == T0 + H
        assert rig.status(version_id) is S.CANCEL_PENDING
        rig.clock.advance(H)
        assert (await new.cancel_ack(TN, "new")).ok
        await rig.settle()
        v = rig.version(version_id)
        assert (v["status"], v["new_sp_cancellation_ms"], v["cancellation_ms"]) == (S.CANCELED, T0 + 2 * H,
                                                                                 T0 + 2 * H)
        assert [r.values["subscriptionVersionStatus"] for r in old.notifications(SAVC)] == [
            (S.PENDING, S.CANCEL_PENDING), (S.CANCEL_PENDING, S.CANCELED)]
        assert rig.seen()[-2:] == [(OLD, SAVC, 1), (NEW, SAVC, 1)]
        assert (await old.cancel(version_id)).error_name == "invalidArgumentValue"  # R5-70: nothing to cancel
    run(tmp_path, keys_dir, body)


def test_6_4_5_2_missing_cancellation_acknowledgement_request_then_conflict(tmp_path, keys_dir):
    """6.4.5.2 (L33244-33322): the new SP does not acknowledge; after the cancellation initial window
    (4 h, RR5-32) subscriptionVersionCancellationAcknowledgeRequest goes to it alone; after the final
    window (4 h, RR5-33) the version is in conflict (T3B, GDMO L36534)."""
    async def body(rig):
        version_id = await pending_port(rig)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        assert (await new.cancel(version_id)).ok
        assert (await old.cancel_ack(version_id, "old")).ok
        await rig.settle()
        rig.order.clear()
        assert await rig.advance(4 * H) == 1
        assert rig.seen() == [(NEW, "subscriptionVersionCancellationAcknowledgeRequest", 1)]
        request = new.notifications("subscriptionVersionCancellationAcknowledgeRequest")[0]
        assert (request.info["tn"], request.info["version-id"]) == (TN, version_id)
        assert await rig.advance(4 * H) == 1
        v = rig.version(version_id)
        assert (v["status"], v["conflict_ms"]) == (S.CONFLICT, T0 + 8 * H)
        assert rig.seen(SAVC) == [(OLD, SAVC, 1), (NEW, SAVC, 1)]
    run(tmp_path, keys_dir, body)
