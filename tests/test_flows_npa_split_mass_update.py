"""NPA split and mass update by NPAC personnel (IIS flows 6.6.1, 6.7; FRS R3-6, R3-7.1, R3-13,
RN3-1..RN3-3), on a live node with the real LSMS side and LSMS simulators over CMIP.
"""
from __future__ import annotations

import asyncio

import pytest

from appliance.lnp.values import lrn_octets
from appliance.npac.history import History, install_history
from appliance.npac.mass_update import MassUpdateRefused, MassUpdates, install_mass_updates
from appliance.npac.model import Status
from appliance.peers.soa import routing
from appliance.store.network import NPA_NXX
from appliance.store.versions import VERSIONS
from tests.support.npac_rig import DAY, LRN, NEW, NPA_NXXS, OLD, THIRD, TN, active_port, pending_port, start_npac

NEW_LRN = "3035550011"
ALL = (NEW, OLD, THIRD)


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(tmp_path, keys_dir, body):
    async def main():
        rig = await start_npac(tmp_path, keys_dir, "lsms")
        rig.services.install(install_history)
        mass: MassUpdates = rig.services.install(install_mass_updates)
        rig.services.writer.run_now("second LRN", lambda tx: tx.upsert(
            "lrn", {"lrn_id": 10, "value": NEW_LRN, "sp_id": NEW}))
        try:
            await body(rig, mass)
        finally:
            await rig.close()
    asyncio.run(asyncio.wait_for(main(), 30))


def test_mass_update_changes_routing_everywhere(tmp_path, keys_dir):
    """Flow 6.7 (seed L34378-34414): personnel select an SP's versions by TN range (R3-7.1); the LRN
    is checked (c); each LSMS gets one scoped/filtered M-SET (d, L35468) with download reason
    modified; the current SP's SOA gets attributeValueChange (f). A pending version in the range is
    changed in the NPAC only (R3-6); the old SP's versions are not selected."""
    async def body(rig, mass):
        active = await active_port(rig)
        pending = await pending_port(rig, "3035551299")
        soa = await rig.soa(NEW)
        outcome = await mass.mass_update(NEW, "3035551200", "3035551299", {"lrn": NEW_LRN, "class_dpc": "009009009"})
        await rig.settle()
        assert sorted(outcome.version_ids) == sorted([active, pending])
        assert sorted(outcome.lsms_ok) == sorted(ALL) and outcome.lsms_failed == []
        assert rig.version(active)["lrn"] == rig.version(pending)["lrn"] == NEW_LRN
        for lsms in ALL:
            sim = rig.lsms[lsms]
            held = sim.mib.versions()
            assert held[TN]["subscriptionLRN"] == lrn_octets(NEW_LRN)
            assert held[TN]["subscriptionDownloadReason"] == "modified"
            assert "3035551299" not in held
            [mset] = [r for r in sim.received if r.kind == "set"]
            assert mset.detail["tns"] == [TN]
        changes = [r.values for r in soa.notifications("attributeValueChange", active)]
        assert any("subscriptionLRN" in c for c in changes)
        [history] = [p for p in rig.services.installed if isinstance(p, History)]
        logged = [r for r in history.history() if r["activity"] == "mass-update"]  # R5-6, by NPAC personnel
        assert sorted(r["version_id"] for r in logged) == sorted([active, pending])
        assert {r["userid"] for r in logged} == {"npac"}
    run(tmp_path, keys_dir, body)


def test_mass_update_refused_for_foreign_lrn(tmp_path, keys_dir):
    """6.7 c (L34390): an LRN not defined for the versions' SP stops the update; nothing changes."""
    async def body(rig, mass):
        active = await active_port(rig)
        with pytest.raises(MassUpdateRefused):
            await mass.mass_update(NEW, "3035551200", "3035551299", {"lrn": LRN[OLD]})
        with pytest.raises(MassUpdateRefused):
            await mass.mass_update(NEW, "3035551200", "3035551299", {"new_sp": OLD})
        assert rig.version(active)["lrn"] == LRN[NEW]
        assert not any(r.kind == "set" for r in rig.lsms[OLD].received)
    run(tmp_path, keys_dir, body)


def test_npa_split_with_permissive_dialing(tmp_path, keys_dir):
    """Flow 6.6.1 (L34350-34374), RN3-1..RN3-3, R3-13: the versions take the new NPA at once and the
    LSMSs are told; during permissive dialing both NPA-NXXs exist and an old-NPA TN is answered with
    the new NPA; when the period ends the old NPA-NXX is removed."""
    async def body(rig, mass):
        active = await active_port(rig)
        # the rig seeds NPA-NXX rows with fixed ids; move the id sequence past them as real creates would
        rig.services.writer.run_now("ids", lambda tx: [tx.next_id("npa_nxx") for _ in NPA_NXXS])
        start, end = rig.clock(), rig.clock() + 30 * DAY
        outcome = await mass.start_split("303555", "720", start, end)
        assert outcome.version_ids == [active] and sorted(outcome.lsms_ok) == sorted(ALL)
        assert rig.version(active)["tn"] == "7205551234"
        [history] = [p for p in rig.services.installed if isinstance(p, History)]
        assert [(r["activity"], r["tn"]) for r in history.history()][-1] == ("npa-split", "7205551234")
        for lsms in ALL:
            held = rig.lsms[lsms].mib.versions()
            assert "7205551234" in held and TN not in held
            assert held["7205551234"]["subscriptionVersionId"] == active
        assert NPA_NXX.by_value(rig.store, "720555")["sp_id"] == OLD
        assert mass.current_tn(TN) == "7205551234"
        assert await mass.end_due_splits() == []
        rig.clock.advance(30 * DAY)
        assert await mass.end_due_splits() == ["303555"]
        assert NPA_NXX.by_value(rig.store, "303555") is None and NPA_NXX.by_value(rig.store, "720555")
        assert mass.current_tn(TN) == TN
        with pytest.raises(MassUpdateRefused):
            await mass.start_split("303555", "720", start, end)
    run(tmp_path, keys_dir, body)


def test_soa_requests_in_the_old_npa_are_accepted_during_permissive_dialing_RN3_2(tmp_path, keys_dir):
    """RN3-1 (L9697) / RN3-2 (L9705): during the permissive dialing period a SOA may name a TN in the
    old or the new NPA; the NPAC takes the old-NPA TN as its new-NPA twin and answers (replies, query
    results, the version it creates, what it downloads) with the new NPA only. After the period
    (RN3-3, L9713) the old NPA-NXX is gone and an old-NPA TN is refused like any unknown NPA-NXX."""
    async def body(rig, mass):
        rig.services.writer.run_now("ids", lambda tx: [tx.next_id("npa_nxx") for _ in NPA_NXXS])
        start = rig.clock()
        await mass.start_split("303555", "720", start, start + 30 * DAY)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        due = rig.clock() + 2 * DAY
        created = await old.old_sp_create(TN, NEW, due, True)  # old NPA
        assert created.ok, created.error
        assert created.reply["invalid-data"]["chc1"] == {"subscription-version-tn": "7205551234"}  # new NPA
        joined = await new.new_sp_create("7205551234", OLD, due, routing(LRN[NEW]))  # new NPA, same port
        assert joined.ok, joined.error
        await rig.settle()
        [version] = VERSIONS.for_tn(rig.store, "7205551234")
        assert not VERSIONS.for_tn(rig.store, TN)
        for tn in (TN, "7205551234"):  # a query by either NPA finds it, and answers with the new one
            found = await old.query(tn=tn)
            assert found.ok, found.error
            assert [(v["subscriptionTN"], v["subscriptionVersionId"]) for v in found.reply] == [
                ("7205551234", version["version_id"])]
        activated = await new.activate(TN)  # old NPA again
        assert activated.ok, activated.error
        await rig.settle()
        assert rig.status(version["version_id"]) is Status.ACTIVE
        for lsms in ALL:  # downloaded with the new NPA only
            held = rig.lsms[lsms].mib.versions()
            assert "7205551234" in held and TN not in held
        ranged = await new.modify(("3035551234", "1234"), {"billing_id": "B123"})  # a range in the old NPA
        assert ranged.ok, ranged.error
        rig.clock.advance(30 * DAY)
        assert await mass.end_due_splits() == ["303555"]
        late = await old.old_sp_create("3035551235", NEW, rig.clock() + 2 * DAY, True)
        assert not late.ok and not VERSIONS.for_tn(rig.store, "7205551235")
        assert (await old.query(tn=TN)).reply == []
    run(tmp_path, keys_dir, body)
