"""NPA split and mass update by NPAC personnel (IIS flows 6.6.1, 6.7; FRS R3-6, R3-7.1, R3-13,
RN3-1..RN3-3), on a live node with the real LSMS side and LSMS simulators over CMIP.
"""
from __future__ import annotations

import asyncio

import pytest

from appliance.lnp.values import lrn_octets
from appliance.npac.history import History, install_history
from appliance.npac.mass_update import MassUpdateRefused, MassUpdates, install_mass_updates
from appliance.store.network import NPA_NXX
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
