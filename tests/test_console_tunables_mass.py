"""`npac tunable|massupdate|npa ...` against a live node: FRS Appendix C tunables within their ranges,
mass update (R3-6, R3-7, flow 6.7) and NPA split (RN3-1, flow 6.6.1; Exhibit K 5027-5032, 5044), each
reaching the LSMS simulators through the node's own mass-update service."""
import asyncio
import json

import pytest

from appliance.lnp.values import lrn_octets
from appliance.npac.persist import load_tunables
from appliance.store.network import NPA_NXX
from tests.support.console_rig import start_console
from tests.support.lsms_rig import eventually
from tests.support.npac_rig import TN, active_port


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_tunables_listed_and_set_within_their_ranges(tmp_path, keys_dir):
    """App. C: every tunable with value, default and range; a change is persisted (the engine reads
    it); out of range, unknown names and an auditor are refused in one line."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            listed = json.loads((await rig.npac_cli("--json", "tunable", "list")).out)
            t1 = next(t for t in listed if t["name"] == "initial_concurrence_window")
            assert (t1["value"], t1["default"], t1["unit"], t1["low"], t1["high"]) == (18, 18, "hours", 1, 72)
            text = (await rig.npac_cli("tunable", "list")).out
            assert "SP_Initial_Concurrence_Window" in text and "Max_Subscriber_Query" in text
            done = await rig.npac_cli("tunable", "set", "SP_Initial_Concurrence_Window", "24")
            assert done.code == 0 and "initial_concurrence_window = 24 hours" in done.out
            assert load_tunables(rig.store).initial_concurrence_window == 24
            before = rig.store.last_sequence()
            for argv, needle in ((("tunable", "set", "initial_concurrence_window", "73"), "73 is outside 1..72"),
                                 (("tunable", "set", "warp_factor", "9"), "unknown tunable 'warp_factor'"),
                                 (("tunable", "set", "max_subscriber_query", "ten"), "must be a whole number")):
                out = await rig.npac_cli(*argv)
                assert out.code == 1 and needle in out.err and out.err.count("\n") == 1, out.err
            rig.use("audit")
            assert "may not administer" in (await rig.npac_cli("tunable", "set", "old_retention", "12")).err
            assert (await rig.npac_cli("tunable", "list")).code == 0
            assert rig.store.last_sequence() == before
        finally:
            await rig.close()
    run(body())


def test_mass_update_changes_routing_at_the_npac_and_every_lsms(tmp_path, keys_dir):
    """R3-7.1, flow 6.7 a-e: the SP's active version in the range gets the new LRN and CLASS DPC, each
    LSMS receives the scoped M-SET; an LRN the SP does not own stops the whole update (6.7 c)."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            version = await active_port(rig.npac)
            assert (await rig.npac_cli("lrn", "create", "0001", "3035550011")).code == 0
            bad = await rig.npac_cli("massupdate", "run", "0001", TN, TN, "lrn=3035550002")
            assert bad.code == 1 and "not defined for service provider 0001" in bad.err
            assert rig.npac.version(version)["lrn"] == "3035550001"
            rig.use("oper")
            done = await rig.npac_cli("massupdate", "run", "0001", "3035551200", "3035551299", "lrn=3035550011",
                                      "class_dpc=001002003")
            assert done.code == 0, done.err
            assert "1 versions updated" in done.out and "failed: none" in done.out
            row = rig.npac.version(version)
            assert (row["lrn"], row["class_dpc"]) == ("3035550011", "001002003")
            for sim in rig.npac.lsms.values():
                await eventually(lambda: sim.mib.versions()[TN]["subscriptionLRN"] == lrn_octets("3035550011"))
            for argv, needle in ((("0001", TN, TN, "tn=3035550000"), "not mass-updatable: tn"),
                                 (("0001", TN, TN, "class_ssn=256"), "class_ssn 256 is outside 0..255"),
                                 (("0001", TN, TN, "lrn"), "must be field=value"),
                                 (("0001", TN, TN, "lidb_dpc=256000000"), "three groups of 000-255"),
                                 (("0001", TN, "3035550000", "lrn=3035550011"), "runs backwards")):
                out = await rig.npac_cli("massupdate", "run", *argv)
                assert out.code == 1 and needle in out.err, out.err
        finally:
            await rig.close()
    run(body())


def test_npa_split_renames_versions_at_the_lsmss(tmp_path, keys_dir):
    """Flow 6.6.1, RN3-1: 303-555 splits to 720-555 for a permissive dialing period; the active
    version takes the new TN at the NPAC and at each LSMS; Exhibit K checks refuse bad requests."""
    async def body():
        rig = await start_console(tmp_path, keys_dir)
        try:
            version = await active_port(rig.npac)
            common = ["--pdp-start", "20260101120000", "--pdp-end", "20260401000000"]
            for argv, needle in (((*"303 720 --nxx-start 600 --nxx-end 699".split(), *common), "5044"),
                                 ((*"303 303 --nxx-start 555 --nxx-end 555".split(), *common), "must differ"),
                                 (("303", "720", "--nxx-start", "555", "--nxx-end", "555", "--pdp-start",
                                   "20260401000000", "--pdp-end", "20260101120000"), "must end after it starts")):
                out = await rig.npac_cli("npa", "split", *argv)
                assert out.code == 1 and needle in out.err, out.err
            missing = await rig.npac_cli("npa", "split", "303", "720", "--nxx-start", "555")
            assert missing.code == 2 and "--nxx-end" in missing.err  # Exhibit K 5030: ending NXX required
            done = await rig.npac_cli("npa", "split", "303", "720", "--nxx-start", "555", "--nxx-end", "555", *common)
            assert done.code == 0, done.err
            assert "303555 -> 720555: 1 versions" in done.out
            assert rig.npac.version(version)["tn"] == "7205551234"
            assert NPA_NXX.by_value(rig.store, "720555") is not None
            for sim in rig.npac.lsms.values():
                await eventually(lambda: "7205551234" in sim.mib.versions() and TN not in sim.mib.versions())
            again = await rig.npac_cli("npa", "split", "303", "720", "--nxx-start", "555", "--nxx-end", "555", *common)
            assert again.code == 1 and again.err.count("\n") == 1  # split already, or 303-555 gone
        finally:
            await rig.close()
    run(body())
