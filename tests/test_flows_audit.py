"""Subscription audits over real CMIP associations (IIS flows 6.2.1-6.2.6, seed L30559-30844; FRS §8
R8-1..R8-12; DECISIONS "Audit results are sent to the requesting SOA").

A live NPAC node with the real LSMS side and three LSMS simulators: a TN is ported and active
everywhere, then an LSMS's MIB is tampered with behind the NPAC's back and an audit finds and
corrects the difference.
"""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.lnp.oids import OIDS
from appliance.lnp.values import attribute_plain, attribute_tlv, lrn_octets
from appliance.npac import audit_interface as wire
from appliance.npac.audits import AuditService, install_audits, tn_blocks
from appliance.npac.lsms_wire import version_dn
from appliance.npac.sv_codec import subscriptions_dn
from appliance.osi import cmip
from appliance.peers.demo_keys import NPAC_SYSTEM_ID
from appliance.store.audits import AUDITS
from tests.support.npac_rig import DAY, LRN, NEW, OLD, THIRD, TN, active_port, start_npac

NPAC_DN = subscriptions_dn(NPAC_SYSTEM_ID)[:1]
RANGE = ("3035551200", "3035551299")
EXTRA_TN = "3035551250"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(tmp_path, keys_dir, body):
    async def main():
        rig = await start_npac(tmp_path, keys_dir, "lsms")
        audits: AuditService = rig.services.install(install_audits)
        try:
            await body(rig, audits)
        finally:
            await audits.close()
            await rig.close()
    asyncio.run(asyncio.wait_for(main(), 30))


def tamper(rig, version_id: int) -> None:
    """0002's LSMS holds a wrong LRN; 0003's has lost the version and holds one the NPAC never had."""
    lrn = OIDS.attribute("subscriptionLRN").oid
    rig.lsms[OLD].mib.update(version_dn(OLD, version_id), {lrn: attribute_tlv("subscriptionLRN",
                                                                              lrn_octets(LRN[THIRD]))})
    mib = rig.lsms[THIRD].mib
    held = mib.tree.get(version_dn(THIRD, version_id))
    mib.remove(held.dn)
    tn = OIDS.attribute("subscriptionTN").oid
    extra = version_dn(THIRD, 999)
    mib.put(extra, held.object_class, {**held.attributes, **dict(extra[-1]),
                                       tn: attribute_tlv("subscriptionTN", EXTRA_TN)})


def audit_request(sp: str = NEW, tn_range: tuple[str, str] = RANGE, **kw) -> cmip.CreateRequest:
    return wire.create_request(NPAC_DN, name="range audit", requesting_sp=sp, tn_start=tn_range[0],
                               tn_stop=tn_range[1], **kw)


def lrn_at(rig, lsms: str, version_id: int) -> bytes | None:
    return rig.lsms[lsms].mib.versions().get(TN, {}).get("subscriptionLRN")


def test_soa_audit_finds_and_corrects_discrepancies(tmp_path, keys_dir):
    """Flow 6.2.1 (L30559-30672): M-CREATE subscriptionAudit, objectCreation, scoped/filtered M-GET of
    each LSMS, one subscriptionAudit-DiscrepancyRpt per discrepancy, corrections M-SET / M-CREATE /
    M-DELETE with download reason audit-discrepancy (L36174), subscriptionAuditResults, then
    objectDeletion; R8-2.1 range audit."""
    async def body(rig, audits):
        version_id = await active_port(rig)
        tamper(rig, version_id)
        soa = await rig.soa(NEW)
        created = await soa.request(audit_request())
        assert created.ok, created.error_name
        await soa.wait_for("objectDeletion")
        names = [r.name for r in soa.received if r.name.startswith(("subscriptionAudit", "object"))]
        assert names[0] == "objectCreation" and names[-2:] == ["subscriptionAuditResults", "objectDeletion"]
        reports = {(r.info["lsms-service-prov-id"], r.info["tn"]): r.info["failure-reason"]
                   for r in soa.notifications("subscriptionAudit-DiscrepancyRpt")}
        assert set(reports) == {(OLD, TN), (THIRD, TN), (THIRD, EXTRA_TN)}
        assert reports[(OLD, TN)]["mismatch-data"]["seq0"] == {
            "lsms-subscriptionLRN": lrn_octets(LRN[THIRD]), "npac-subscriptionLRN": lrn_octets(LRN[NEW])}
        assert "tn-version-missing-LSMS" in reports[(THIRD, TN)]
        assert "tn-version-missing-NPAC" in reports[(THIRD, EXTRA_TN)]
        [result] = soa.notifications("subscriptionAuditResults")
        assert result.info["status"] == "failed-due-to-discrepancies"
        assert result.info["number-of-discrepancies"] == 3
        for lsms in (OLD, NEW, THIRD):  # every LSMS holds the NPAC's data again
            assert lrn_at(rig, lsms, version_id) == lrn_octets(LRN[NEW])
            assert EXTRA_TN not in rig.lsms[lsms].mib.versions()
        assert rig.lsms[OLD].mib.versions()[TN]["subscriptionDownloadReason"] == "audit-discrepancy"
        assert [k for k in ("get", "set") if any(r.kind == k for r in rig.lsms[OLD].received)] == ["get", "set"]
        [row] = AUDITS.all(rig.store)
        assert row["status"] == "complete" and row["discrepancies"] == 3 and row["requesting_sp"] == NEW
    run(tmp_path, keys_dir, body)


def test_audit_create_refusals(tmp_path, keys_dir):
    """6.2.1 b (L30586, L30595): missing mandatory attributes -> missingAttributeValue; a TN range above
    the NPAC maximum -> invalidAttributeValue; nothing is created."""
    async def body(rig, audits):
        soa = await rig.soa(NEW)
        too_big = await soa.request(audit_request(tn_range=("3035550000", "3035599999")))
        assert too_big.error_name == "invalidAttributeValue"
        bare = audit_request()
        keep = OIDS.attribute("subscriptionAuditName").oid
        missing = await soa.request(cmip.CreateRequest(bare.object_class, superior_instance=bare.superior_instance,
                                                       attributes=tuple(a for a in bare.attributes if a[0] == keep)))
        assert missing.error_name == "missingAttributeValue"
        assert AUDITS.all(rig.store) == []
    run(tmp_path, keys_dir, body)


async def hanging_audit(rig, sp: str = NEW) -> int:
    """An audit held up at its first correction (the LSMS never answers for the tampered TN)."""
    version_id = await active_port(rig)
    tamper(rig, version_id)
    rig.lsms[OLD].silent_tns.add(TN)
    soa = await rig.soa(sp)
    created = await soa.request(audit_request(sp))
    assert created.ok, created.error_name
    await soa.wait_for("objectCreation")
    for _ in range(100):
        if any(r.kind == "set" for r in rig.lsms[OLD].received):
            break
        await asyncio.sleep(0.02)
    [row] = AUDITS.open(rig.store)
    return row["audit_id"]


def test_soa_cancels_its_audit_and_queries_it(tmp_path, keys_dir):
    """6.2.6 (L30822-30844): the originating SOA reads its audit; another SOA is refused accessDenied.
    6.2.2 (L30674-30704): M-DELETE by another SOA -> accessDenied; by the originator, objectDeletion
    arrives before the M-DELETE response and no results are sent."""
    async def body(rig, audits):
        audit_id = await hanging_audit(rig)
        dn = wire.audit_dn(NPAC_DN, audit_id)
        soa, other = await rig.soa(NEW), await rig.soa(OLD)
        got = await soa.request(cmip.GetRequest(wire.AUDIT_CLASS, dn))
        assert got.ok, got.error_name
        values = dict(got.result.attributes)
        assert values[OIDS.attribute("subscriptionAuditStatus").oid] == attribute_tlv(
            "subscriptionAuditStatus", "in-progress")
        scoped = await soa.request(cmip.GetRequest(wire.LNP_AUDITS_CLASS, wire.lnp_audits_dn(NPAC_DN),
                                                   cmip.FIRST_LEVEL_ONLY))
        assert [r.object_instance for r in scoped.linked if isinstance(r, cmip.GetResult)] == [dn]
        assert (await other.request(cmip.GetRequest(wire.AUDIT_CLASS, dn))).error_name == "accessDenied"
        assert (await other.request(cmip.DeleteRequest(wire.AUDIT_CLASS, dn))).error_name == "accessDenied"
        deleted = await soa.request(cmip.DeleteRequest(wire.AUDIT_CLASS, dn))
        assert deleted.ok, deleted.error_name
        assert soa.notifications("objectDeletion") and not soa.notifications("subscriptionAuditResults")
        assert AUDITS.get(rig.store, audit_id)["status"] == "canceled"
        assert (await soa.request(cmip.GetRequest(wire.AUDIT_CLASS, dn))).error_name == "noSuchObjectInstance"
    run(tmp_path, keys_dir, body)


def test_npac_cancels_soa_audit(tmp_path, keys_dir):
    """6.2.3 (L30706-30742): NPAC personnel cancel; the originating SOA gets objectDeletion."""
    async def body(rig, audits):
        audit_id = await hanging_audit(rig)
        assert await audits.cancel(audit_id)
        soa = await rig.soa(NEW)
        assert [r.name for r in soa.received][-1] == "objectDeletion"
        assert AUDITS.get(rig.store, audit_id)["status"] == "canceled"
        assert not await audits.cancel(audit_id)
    run(tmp_path, keys_dir, body)


def test_npac_audit_scope_attributes_and_activation_range(tmp_path, keys_dir):
    """R8-2 / 6.2.1 b (L36016): an audit limited to one SP's versions, to some attribute groups, or to
    versions activated within a time range compares only those."""
    async def body(rig, audits):
        version_id = await active_port(rig)
        tamper(rig, version_id)
        async def audit(**kw):
            return await audits.wait(await audits.start_npac_audit(*RANGE, **kw))
        other_sp = await audit(sp_scope="Demo Carrier Two")  # by name (seed 42238): not the current SP
        assert other_sp.status == "success" and other_sp.discrepancies == []
        later = await audit(activation_range={"startTime": "20270101000000Z"})
        assert later.status == "success"
        class_only = await audit(sp_scope=NEW, attributes={"lrn-data": False, "class-data": True, "lidb-data": False,
                                                           "cnam-data": False, "isvm-data": False})
        assert sorted((d.lsms, d.tn) for d in class_only.discrepancies) == [(THIRD, TN), (THIRD, EXTRA_TN)]
        assert lrn_at(rig, OLD, version_id) == lrn_octets(LRN[THIRD])  # the LRN was not audited
    run(tmp_path, keys_dir, body)


def test_audit_suspend_and_resume(tmp_path, keys_dir):
    """GDMO subscriptionAudit behaviour (L36012-36058): the SOA M-SETs subscriptionAuditStatus to
    suspended and back (attributeValueChange each time; another SOA is refused accessDenied); NPAC
    personnel suspend an audit before it queries any LSMS and resume it to completion."""
    async def body(rig, audits):
        audit_id = await hanging_audit(rig)
        dn = wire.audit_dn(NPAC_DN, audit_id)
        soa, other = await rig.soa(NEW), await rig.soa(OLD)
        status = OIDS.attribute("subscriptionAuditStatus").oid

        def set_status(value):
            return cmip.SetRequest(wire.AUDIT_CLASS, dn, ((status, attribute_tlv("subscriptionAuditStatus", value),
                                                           cmip.REPLACE),))
        changes = len(soa.notifications("attributeValueChange"))
        assert (await other.request(set_status("suspended"))).error_name == "accessDenied"
        assert (await soa.request(set_status("suspended"))).ok
        assert AUDITS.get(rig.store, audit_id)["status"] == "suspended"
        got = await soa.request(cmip.GetRequest(wire.AUDIT_CLASS, dn))
        assert dict(got.result.attributes)[status] == attribute_tlv("subscriptionAuditStatus", "suspended")
        assert (await soa.request(set_status("in-progress"))).ok
        assert len(soa.notifications("attributeValueChange")) == changes + 2
        assert (await soa.request(set_status("complete"))).error_name == "invalidAttributeValue"
        assert await audits.cancel(audit_id)
        rig.lsms[OLD].silent_tns.clear()
        queried = sum(r.kind == "get" for r in rig.lsms[NEW].received)
        second = await audits.start_npac_audit(*RANGE)
        assert await audits.suspend(second)
        await asyncio.sleep(0.2)
        assert sum(r.kind == "get" for r in rig.lsms[NEW].received) == queried
        assert await audits.resume(second)
        outcome = await audits.wait(second)
        assert outcome.status == "failed-due-to-discrepancies"
        assert AUDITS.get(rig.store, second)["status"] == "complete"
    run(tmp_path, keys_dir, body)


def test_uncorrectable_lsms_fails_the_audit(tmp_path, keys_dir):
    """AuditResults (GDMO L41574): an LSMS that refuses the correction is reported in the failed
    service-provider list, status failed-on-local-sms."""
    async def body(rig, audits):
        version_id = await active_port(rig)
        tamper(rig, version_id)
        rig.lsms[OLD].fail_tns.add(TN)
        soa = await rig.soa(NEW)
        assert (await soa.request(audit_request())).ok
        [result] = await soa.wait_for("subscriptionAuditResults")
        assert result.info["status"] == "failed-on-local-sms"
        assert [sp["service-prov-id"] for sp in result.info["failed-service-prov-list"]] == [OLD]
        assert AUDITS.all(rig.store)[0]["failed_sp_list"] == [OLD]
    run(tmp_path, keys_dir, body)


def test_npac_initiated_audit_and_cancellation(tmp_path, keys_dir):
    """6.2.4 (L30744-30790): NPAC personnel audit a range; corrections go to the LSMSs, no SOA hears
    of it (R8-5.1). 6.2.5 (L30792-30820): a second one canceled with no external message."""
    async def body(rig, audits):
        version_id = await active_port(rig)
        tamper(rig, version_id)
        soa = await rig.soa(NEW)
        before = len(soa.received)
        audit_id = await audits.start_npac_audit(*RANGE)
        outcome = await audits.wait(audit_id)
        assert outcome.status == "failed-due-to-discrepancies" and len(outcome.discrepancies) == 3
        assert all(d.corrected for d in outcome.discrepancies)
        assert lrn_at(rig, OLD, version_id) == lrn_octets(LRN[NEW])
        tamper(rig, version_id)
        rig.lsms[OLD].silent_tns.add(TN)
        second = await audits.start_npac_audit(*RANGE)
        await asyncio.sleep(0.2)
        assert await audits.cancel(second)
        assert AUDITS.get(rig.store, second)["status"] == "canceled"
        assert len(soa.received) == before
        rig.clock.advance(31 * DAY)  # Canceled_Audit_Retention_Period (L22810), by the daily housekeeping
        await rig.services.timers.run_due()
        assert AUDITS.all(rig.store) == []
    run(tmp_path, keys_dir, body)


def audit_changes(received) -> list[dict[str, tuple]]:
    """The audit attributeValueChanges a SOA got, each as {attribute: (old, new)} (old None if absent)."""
    out = []
    for r in received:
        if r.name != "attributeValueChange":
            continue
        items = {}
        for item in r.info["attributeValueChangeDefinition"]:
            name = OIDS.by_oid(str(item["attributeId"]["globalForm"])).name
            old = item.get("oldAttributeValue")
            items[name] = (None if old is None else attribute_plain(name, bytes(old)),
                           attribute_plain(name, bytes(item["newAttributeValue"])))
        out.append(items)
    return out


def test_audit_progress_notifications_L36012_L36030(tmp_path, keys_dir):
    """GDMO subscriptionAudit behaviour (seed L36012-36030, attributes 52/53/58 L38334-38512; 05 §6.2.1
    "extra behaviour"; R8-11 progress): the NPAC sets subscriptionAuditNumberOfTNs from the request's
    criteria and sends the requester an attributeValueChange; after every
    subscriptionAuditTN-NotificationNumber TNs audited it raises subscriptionAuditNumberOfTNsComplete by
    exactly that number with another attributeValueChange; the change of status to complete is one
    too; all of them between objectCreation and subscriptionAuditResults (6.2.1 d, n)."""
    async def body(rig, audits):
        tns = [f"30355512{n:02d}" for n in (10, 20, 30, 40, 50)]
        for tn in tns:
            await active_port(rig, tn)
        audits.notification_number = 2
        soa = await rig.soa(NEW)
        gets_before = sum(r.kind == "get" for r in rig.lsms[OLD].received)
        await rig.settle()
        seen = len(soa.received)  # the ports' own notifications
        created = await soa.request(audit_request())
        assert created.ok, created.error_name
        shown = dict(created.result.attributes)
        assert shown[OIDS.attribute("subscriptionAuditTN-NotificationNumber").oid] == attribute_tlv(
            "subscriptionAuditTN-NotificationNumber", 2)
        await soa.wait_for("objectDeletion")
        names = [r.name for r in soa.received[seen:]]
        assert names == ["objectCreation"] + ["attributeValueChange"] * 4 + [
            "subscriptionAuditResults", "objectDeletion"]
        assert audit_changes(soa.received[seen:]) == [
            {"subscriptionAuditNumberOfTNs": (0, 5)},
            {"subscriptionAuditNumberOfTNsComplete": (0, 2)},
            {"subscriptionAuditNumberOfTNsComplete": (2, 4)},
            {"subscriptionAuditStatus": ("in-progress", "complete"),
             "subscriptionAuditNumberOfTNsComplete": (4, 5)},
        ]
        [result] = soa.notifications("subscriptionAuditResults")
        assert result.info["status"] == "success"
        # three blocks of the range (2 + 2 + 1 TNs), each one scoped/filtered M-GET per LSMS (6.2.1 g)
        assert sum(r.kind == "get" for r in rig.lsms[OLD].received) - gets_before == 3
        [row] = AUDITS.all(rig.store)
        assert (row["tns_total"], row["tns_complete"]) == (5, 5)
    run(tmp_path, keys_dir, body)


def test_progress_blocks_still_find_what_only_an_lsms_holds(tmp_path, keys_dir):
    """Cutting the range into progress blocks must not hide a version the NPAC lacks (6.2.1 i,
    tn-version-missing-NPAC) wherever in the range it lies."""
    async def body(rig, audits):
        version_id = await active_port(rig)
        await active_port(rig, "3035551210")
        tamper(rig, version_id)  # EXTRA_TN 3035551250 lies beyond the last block's NPAC TN
        audits.notification_number = 1
        soa = await rig.soa(NEW)
        await rig.settle()
        seen = len(soa.received)
        assert (await soa.request(audit_request())).ok
        await soa.wait_for("objectDeletion")
        reports = {(r.info["lsms-service-prov-id"], r.info["tn"]) for r in
                   soa.notifications("subscriptionAudit-DiscrepancyRpt")}
        assert reports == {(OLD, TN), (THIRD, TN), (THIRD, EXTRA_TN)}
        assert [c.get("subscriptionAuditNumberOfTNsComplete") for c in audit_changes(soa.received[seen:])] == [
            None, (0, 1), (1, 2), None]
    run(tmp_path, keys_dir, body)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 9_990), st.integers(0, 60), st.sets(st.integers(0, 60)), st.integers(1, 7))
def test_tn_blocks_cover_the_range_and_count_every_selected_tn(start, width, offsets, size):
    tn_start, tn_stop = f"30355{start:05d}", f"30355{start + width:05d}"
    selected = sorted(f"30355{start + o:05d}" for o in offsets if o <= width)
    blocks = tn_blocks(tn_start, tn_stop, selected, size)
    assert blocks[0][0] == tn_start and blocks[-1][1] == tn_stop
    for (_, hi, _), (lo, _, _) in zip(blocks, blocks[1:]):
        assert int(lo) == int(hi) + 1  # contiguous, no gap and no overlap
    assert all(lo <= hi for lo, hi, _ in blocks)
    assert [n for _, _, n in blocks[:-1]] == [size] * (len(blocks) - 1)
    for lo, hi, n in blocks:
        assert sum(lo <= tn <= hi for tn in selected) == n
    assert sum(n for _, _, n in blocks) == len(selected)
