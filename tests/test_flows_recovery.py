"""Local SMS recovery and data download over real CMIP associations (IIS 5.2.1.10 L29850, 5.3.4.1
L30491-30499, flows 6.3.9.9 L31710-31738, 6.4.12 L34218-34246, 6.5.1 L34260-34304; GDMO
lnpDownload L40436-40490, lnpRecoveryComplete L40498-40550; DownloadReply L42382).
"""
import asyncio

import pytest

from appliance.lnp.values import encode_plain, gtime, lrn_octets
from appliance.npac.downloads import DownloadLimits
from appliance.npac.model import BroadcastKind, BroadcastOp, Status
from appliance.npac.network_wire import npac_subscriptions
from appliance.osi import cmip
from appliance.osi.transport import RemoteError
from appliance.peers.demo_keys import NPAC_SYSTEM_ID
from appliance.store.broadcasts import BROADCASTS, HOLD_QUEUE
from tests.support.lsms_rig import MINUTE, T0, eventually, start_lsms_rig

HOUR = 60 * MINUTE
TN1, TN2, TN3, TN4 = "3125551001", "3125551002", "3125551003", "3125559004"


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def window(start, stop=None):
    return {"startTime": gtime(start), **({"stopTime": gtime(stop)} if stop is not None else {})}


def tns(reply):
    return [i["subscription-version-tn"] for i in reply.get("download-data", {}).get("subscriber-data", [])]


def test_subscription_data_download(tmp_path, keys_dir):
    """Flow 6.4.12 and DownloadReply: by TN, TN range and time range (time of last change, L40476);
    each TN's current routing with reason download-request, a disconnect in the range as delete1;
    pending versions are not routing data; start > stop is time-range-invalid, a range or record count
    above RR6-9 / RR6-8 is criteria-to-large, nothing found is no-data-selected."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir, limits=DownloadLimits(max_records=2, max_range_ms=24 * HOUR))
        try:
            (sim,) = await rig.lsms_up("0003")
            rig.add_version(TN1, status=Status.ACTIVE, modified_ms=T0 + HOUR)
            rig.add_version(TN2, status=Status.ACTIVE, modified_ms=T0 + 3 * HOUR)
            rig.add_version(TN3, status=Status.OLD, kind=BroadcastKind.DISCONNECT, modified_ms=T0 + 5 * HOUR,
                            disconnect_complete_ms=T0 + 5 * HOUR)
            rig.add_version(TN4, status=Status.PENDING, kind=None)
            one = await sim.download_subscriptions({"tn": TN1})
            assert one["status"] == "success" and tns(one) == [TN1]
            item = one["download-data"]["subscriber-data"][0]
            assert item["subscription-data"]["subscription-download-reason"] == "download-request"
            assert item["subscription-data"]["subscription-lrn"] == lrn_octets("3125550002")
            ranged = await sim.download_subscriptions({"tn-range": {"tn-start": "3125551", "tn-stop": "3125551002"}})
            assert tns(ranged) == [TN1, TN2]
            recent = await sim.download_subscriptions({"time-range": window(T0 + 2 * HOUR, T0 + 6 * HOUR)})
            assert tns(recent) == [TN2, TN3]
            assert recent["download-data"]["subscriber-data"][1]["subscription-data"][
                "subscription-download-reason"] == "delete1"
            assert set(sim.mib.versions()) == {TN1, TN2}  # TN3's delete removed nothing it had
            replies = [await sim.download_subscriptions(c) for c in (
                {"time-range": window(T0 + 6 * HOUR, T0 + 2 * HOUR)}, {"time-range": window(T0, T0 + 48 * HOUR)},
                {"time-range": {}}, {"tn": "3125550000"}, {"tn": TN4})]
            assert [r["status"] for r in replies] == ["time-range-invalid", "criteria-to-large", "success",
                                                      "no-data-selected", "no-data-selected"]
            assert tns(replies[2]) == [TN1, TN2]  # "all": what an LSMS must hold, within RR6-8
        finally:
            await rig.close()
    run(body())


def test_network_data_download(tmp_path, keys_dir):
    """Flow 6.3.9.9 (NetworkDownloadCriteria L42816): all SPs or one, NPA-NXX (range or all), LRN data or
    all network data, optionally by time range of creation; the data comes in the action reply."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        net = rig.side.network
        try:
            await net.create_npa_nxx("0001", "312555", T0)
            rig.clock.ms += HOUR
            await net.create_npa_nxx("0002", "312666", T0)
            await net.create_lrn("0002", "3125550002")
            (sim,) = await rig.lsms_up("0003", download=False)
            everything = await sim.download_network()
            assert sorted(sim.mib.network_data()) == ["0001", "0002", "0003"]
            assert sim.mib.network_data()["0002"]["npa_nxx"] == {2: "312666"}
            assert sim.mib.network_data()["0002"]["lrn"] == {1: lrn_octets("3125550002")}
            assert everything["status"] == "success"
            one = await sim.download_network({"chc1": {"service-prov": "0002"}, "chc2": {"lrn-data": {"all-lrn": None}}})
            [item] = one["download-data"]["network-data"]
            assert item["service-prov-data"]["service-prov-id"] == "0002" and "service-prov-npa-nxx-data" not in item
            npa_range = {"npa-nxx-range": {"start-npa-nxx": {"npa-value": "312", "nxx-value": "600"},
                                           "stop-npa-nxx": {"npa-value": "312", "nxx-value": "699"}}}
            ranged = await sim.download_network({"chc1": {"all-service-provs": None}, "chc2": {"npa-nxx-data": npa_range}})
            assert [i["service-prov-data"]["service-prov-id"] for i in ranged["download-data"]["network-data"]] == ["0002"]
            later = await sim.download_network({"time-range": window(T0 + HOUR // 2), "chc1": {"all-service-provs": None},
                                                "chc2": {"npa-nxx-data": {"all-npa-nxx": None}}})
            [item] = later["download-data"]["network-data"]
            assert [r["service-prov-npa-nxx-id"] for r in item["service-prov-npa-nxx-data"]] == [2]
            nothing = await sim.download_network({"chc1": {"service-prov": "0009"}, "chc2": {"all-network-data": None}})
            assert nothing["status"] == "no-data-selected"
        finally:
            await rig.close()
    run(body())


def test_recovery_sequence_holds_then_hands_over_in_order(tmp_path, keys_dir):
    """Flow 6.5.1 a-h and IIS 5.3.4.1: an LSMS bound with recoveryMode has its updates held (nothing is
    sent to it); it downloads network then subscription data, and the lnpRecoveryComplete reply carries
    the held updates in the order they arose; the held broadcast then counts as delivered (the round
    completes with every LSMS succeeded), and the next update goes out live."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            await rig.lsms_up("0001", "0002")
            (sim,) = await rig.lsms_up("0003", recovery=True)
            v = rig.add_version(TN1)
            await rig.side.network.create_npa_nxx("0002", "312555", T0)
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, None)
            await eventually(lambda: BROADCASTS.get(rig.store, {"version_id": v.version_id, "lsms_sp_id": "0001"})
                             and len(HOLD_QUEUE.held(rig.store, "0003")) == 2)
            assert [e["operation"] for e in HOLD_QUEUE.held(rig.store, "0003")] == ["network", "create"]
            await rig.advance(2 * MINUTE)
            assert sim.received == [] and rig.completions == []
            network = await sim.download_network()
            subscriptions = await sim.download_subscriptions({"time-range": window(T0 - HOUR)})
            assert network["status"] == "success" and subscriptions["status"] == "no-data-selected"
            done = await sim.recovery_complete()
            assert done["status"] == "success"
            assert [i["service-prov-npa-nxx-data"][0]["service-prov-download-reason"] for i in done["network-data"]] == [
                "new1"]
            assert [(i["subscription-version-id"], i["subscription-data"]["subscription-download-reason"])
                    for i in done["subscriber-data"]] == [(v.version_id, "new1")]
            assert sim.mib.versions()[TN1]["subscriptionVersionId"] == v.version_id
            assert HOLD_QUEUE.held(rig.store, "0003") == []
            await eventually(lambda: rig.completions)
            assert rig.completions == [(v.version_id, ("0001", "0002", "0003"), ())]
            w = rig.add_version(TN2)
            rig.side.broadcaster.start(w.version_id, BroadcastOp.CREATE, ("0003",))
            await eventually(lambda: len(rig.completions) == 2)
            assert [r.kind for r in sim.received] == ["create"]
        finally:
            await rig.close()
    run(body())


def test_recovery_complete_needs_recovery_mode_and_download_needs_the_function(tmp_path, keys_dir):
    """GDMO L40540: lnpRecoveryComplete is for an association bound in recovery mode (ResultsStatus
    failure otherwise); recovery belongs to the data download function alone (IIS 5.2.1.10), so an
    LSMS granted only that function may send it to lnpNPAC-SMS; lnpDownload is the LSMS's (IIS
    Exhibit 8 data download): a SOA is refused."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            (sim,) = await rig.lsms_up("0003")
            assert (await sim.recovery_complete())["status"] == "failure"
            narrow = rig.simulator("0002")
            narrow.functions = frozenset({"lsms.dataDownload"})
            replies = await narrow.recover(rig.hosts())
            assert [r["status"] for r in replies] == ["success", "no-data-selected", "success"]
            soa = (await rig.soa_up("0001")).carrier
            with pytest.raises(RemoteError) as exc:
                await soa.action("lnpSubscriptions", npac_subscriptions(NPAC_SYSTEM_ID), "lnpDownload",
                                 encode_plain("DownloadAction", {"subscriber-download": {"criteria": {"tn": TN1}}}))
            assert exc.value.error.error_code == cmip.ACCESS_DENIED
        finally:
            await rig.close()
    run(body())


def test_hold_queue_survives_a_restart(tmp_path, keys_dir):
    """ARCHITECTURE "hold queues live in the store" / DECISIONS (state survives restart and cutover):
    updates held for an absent LSMS are still owed after the NPAC restarts, and are handed over, in
    order, when the LSMS recovers (6.5.1)."""
    async def body():
        db = tmp_path / "npac.db"
        rig = await start_lsms_rig(tmp_path / "a", keys_dir, store_path=db)
        await rig.lsms_up("0001")
        first, second = rig.add_version(TN1), rig.add_version(TN2)
        for v in (first, second):
            rig.side.broadcaster.start(v.version_id, BroadcastOp.CREATE, None)
        await eventually(lambda: len(HOLD_QUEUE.held(rig.store, "0003")) == 2)
        gone = rig.add_version(TN1, kind=BroadcastKind.DISCONNECT)
        rig.side.broadcaster.start(gone.version_id, BroadcastOp.DELETE, ("0003",))
        await eventually(lambda: len(HOLD_QUEUE.held(rig.store, "0003")) == 3)
        clock = rig.clock
        await rig.close()
        again = await start_lsms_rig(tmp_path / "b", keys_dir, store_path=db, clock=clock)
        try:
            sim = again.simulator("0003")
            replies = await sim.recover(again.hosts(), window(T0 + HOUR))
            done = replies[-1]
            assert [(i["subscription-version-tn"], i["subscription-data"]["subscription-download-reason"])
                    for i in done["subscriber-data"]] == [(TN1, "new1"), (TN2, "new1"), (TN1, "delete1")]
            assert set(sim.mib.versions()) == {TN2}
            assert HOLD_QUEUE.held(again.store, "0003") == []
        finally:
            await again.close()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    run(body())
