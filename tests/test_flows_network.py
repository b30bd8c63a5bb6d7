"""Network data (IIS flows 6.3.1-6.3.9, seed L30856-31770; FRS R4-x, RP3-x, RR3-2, RR4-x, RR5-3):
service providers, NPA-NXXs and LRNs created, modified, deleted and queried by NPAC personnel (the
Python API), by SOAs and by LSMSs over real CMIP associations; refusals answer the CMIP error the
flow names and commit nothing; committed changes reach the LSMSs taking network data, except the
LSMS that made the change (05 §A.8).
"""
import asyncio

import pytest

from appliance.lnp.oids import OIDS
from appliance.lnp.values import attribute_plain, attribute_tlv, gtime, lrn_octets
from appliance.npac.model import Status
from appliance.npac.network_data import NetworkDataError, Requester, snapshot
from appliance.npac.network_wire import npac_network, npac_root, npac_service_provs, sp_network_dn
from appliance.osi import cmip
from appliance.osi.cmip_filter import FilterItem
from appliance.osi.transport import RemoteError
from appliance.peers.demo_keys import NPAC_SYSTEM_ID
from appliance.peers.lsms_mib import plain_attributes
from appliance.store.network import LRNS, NPA_NXX, SERVICE_PROVIDERS
from tests.support.lsms_rig import T0, eventually, start_lsms_rig

NETWORK = npac_network(NPAC_SYSTEM_ID)
PROVS = npac_service_provs(NPAC_SYSTEM_ID)
EFFECTIVE = T0 + 86_400_000


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def oid(name):
    return OIDS.attribute(name).oid


def npa_nxx_create(sp, value, effective=EFFECTIVE, *, with_effective=True):
    attrs = [(oid("serviceProvNPA-NXX-Value"), attribute_tlv("serviceProvNPA-NXX-Value",
                                                             {"npa-value": value[:3], "nxx-value": value[3:]}))]
    if with_effective:
        attrs.append((oid("serviceProvNPA-NXX-EffectiveTimeStamp"),
                      attribute_tlv("serviceProvNPA-NXX-EffectiveTimeStamp", gtime(effective))))
    return cmip.CreateRequest(OIDS.object_class("serviceProvNPA-NXX").oid,
                              superior_instance=sp_network_dn(NETWORK, sp), attributes=tuple(attrs))


def lrn_create(sp, value):
    return cmip.CreateRequest(OIDS.object_class("serviceProvLRN").oid, superior_instance=sp_network_dn(NETWORK, sp),
                              attributes=((oid("serviceProvLRN-Value"),
                                           attribute_tlv("serviceProvLRN-Value", lrn_octets(value))),))


def child_dn(sp, naming, key):
    return sp_network_dn(NETWORK, sp) + (((oid(naming), attribute_tlv(naming, key)),),)


def delete(class_name, dn):
    return cmip.DeleteRequest(OIDS.object_class(class_name).oid, dn)


async def refused(carrier, request):
    with pytest.raises(RemoteError) as exc:
        await carrier.request(request)
    return cmip.ERROR_NAMES[exc.value.error.error_code]


def pushes(sim, kind):
    return [r for r in sim.received if r.kind == kind]


def test_service_provider_created_deleted_and_renamed_by_the_npac(tmp_path, keys_dir):
    """Flows 6.3.1-6.3.3 (L30856-30980), R4-1..R4-22, RR4-1/2, RR4-4, RR3-2: NPAC personnel create an
    SP (M-CREATE serviceProvNetwork to each LSMS with the download indicator on), rename it (M-SET
    serviceProvName), and delete it only once it has no NPA-NXX or LRN data (M-DELETE); duplicates are
    refused (R4-7.2) and nothing is committed."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir, providers={"0002": {"download_network_data": False}})
        net = rig.side.network
        try:
            sims = await rig.lsms_up("0001", "0002", "0003")
            await net.create_service_provider("0009", "Ninth Carrier", system_type=0, allowable_functions=("soa-mgmt",))
            await eventually(lambda: all(pushes(s, "create") for s in (sims[0], sims[2])))
            assert sims[2].mib.network_data()["0009"]["name"] == "Ninth Carrier"
            assert pushes(sims[1], "create") == []  # RR3-2: its download indicator is off
            before = rig.store.last_sequence()
            for sp_id, name in (("0009", "Another"), ("0008", "Ninth Carrier")):
                with pytest.raises(NetworkDataError) as exc:
                    await net.create_service_provider(sp_id, name, system_type=0, allowable_functions=())
                assert exc.value.code == cmip.DUPLICATE_MANAGED_OBJECT_INSTANCE
            assert rig.store.last_sequence() == before
            await net.modify_service_provider("0009", {"tunables": {"x": "1"}})
            await net.modify_service_provider("0009", {"name": "Ninth Renamed"})
            await eventually(lambda: pushes(sims[2], "set"))
            assert [r.detail["changes"] for r in pushes(sims[2], "set")] == [{"serviceProvName": "Ninth Renamed"}]
            assert sims[2].mib.network_data()["0009"]["name"] == "Ninth Renamed"
            npa = await net.create_npa_nxx("0009", "312777", EFFECTIVE)
            with pytest.raises(NetworkDataError):
                await net.delete_service_provider("0009")  # 6.3.2 b: NPA-NXX data defined
            await net.delete_npa_nxx(npa["npa_nxx_id"])
            await net.delete_service_provider("0009")
            await eventually(lambda: "0009" not in sims[2].mib.network_data())
            assert SERVICE_PROVIDERS.get(rig.store, "0009")["deleted_ms"] == rig.clock()  # R4-22.1: history
            with pytest.raises(NetworkDataError) as exc:
                await net.delete_service_provider("0009")  # R4-21: only in history now
            assert exc.value.code == cmip.NO_SUCH_OBJECT_INSTANCE
        finally:
            await rig.close()
    run(body())


def test_service_provider_modified_and_queried_by_its_own_soa_and_lsms(tmp_path, keys_dir):
    """Flows 6.3.4-6.3.7 (L30982-31106), R4-2, R4-26.2: an SP M-SETs and M-GETs only its own serviceProv
    (another's is accessDenied, and a scoped M-GET selects only its own); serviceProvID and
    npacCustomerAllowableFunctions are not replaceable (L35668); a bad value is invalidAttributeValue.
    A name change made over the SOA association reaches every LSMS (RR4-4), the SP's own included."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            sims = await rig.lsms_up("0001", "0003")
            soa = (await rig.soa_up("0001")).carrier
            lsms = sims[1].carrier
            own, other = sp_network_dn(PROVS, "0003"), sp_network_dn(PROVS, "0001")
            cls = OIDS.object_class("serviceProv").oid
            tunables = attribute_tlv("serviceProvTunables", [{"name": "sv-create-method", "value": "action"}])
            out = await lsms.request(cmip.SetRequest(cls, own, ((oid("serviceProvTunables"), tunables, cmip.REPLACE),)))
            assert isinstance(out.result, cmip.SetResult)
            assert SERVICE_PROVIDERS.get(rig.store, "0003")["tunables"] == {"sv-create-method": "action"}
            before = rig.store.last_sequence()
            assert await refused(lsms, cmip.SetRequest(cls, other, ((oid("serviceProvTunables"), tunables,
                                                                     cmip.REPLACE),))) == "accessDenied"
            functions = attribute_tlv("npacCustomerAllowableFunctions", {"soaUnits": {}, "lsmsUnits": {"query": None}})
            assert await refused(lsms, cmip.SetRequest(cls, own, ((oid("npacCustomerAllowableFunctions"), functions,
                                                                   cmip.REPLACE),))) == "accessDenied"
            assert await refused(lsms, cmip.SetRequest(cls, own, ((oid("serviceProvName"), b"\x02\x01\x05",
                                                                   cmip.REPLACE),))) == "invalidAttributeValue"
            assert rig.store.last_sequence() == before
            got = await lsms.get("serviceProv", own)
            view = plain_attributes(dict(got.result.attributes))
            assert view["serviceProvID"] == "0003" and view["serviceProvTunables"] == [
                {"name": "sv-create-method", "value": "action"}]
            assert view["npacCustomerAllowableFunctions"]["lsmsUnits"] == {
                "dataDownload": None, "networkDataMgmt": None, "query": None}
            assert await refused(lsms, cmip.GetRequest(cls, other)) == "accessDenied"
            scoped = await soa.get("lnpServiceProvs", PROVS, cmip.WHOLE_SUBTREE)
            assert [plain_attributes(dict(r.attributes)).get("serviceProvID") for r in scoped.linked] == [None, "0001"]
            name = attribute_tlv("serviceProvName", "Carrier One Renamed")
            await soa.request(cmip.SetRequest(cls, other, ((oid("serviceProvName"), name, cmip.REPLACE),)))
            await eventually(lambda: all(pushes(s, "set") for s in sims))
            assert sims[0].mib.network_data()["0001"]["name"] == "Carrier One Renamed"
        finally:
            await rig.close()
    run(body())


def test_npa_nxx_created_by_npac_soa_and_lsms(tmp_path, keys_dir):
    """Flows 6.3.8.1, 6.3.8.3, 6.3.8.4, 6.3.8.7, 6.3.8.8 (L31122-31412), R3-3, RP3-1.1: the NPAC
    assigns the id; an LSMS's own create is not pushed back to it; another SP's network is
    accessDenied; duplicates, a missing effective date and a bad value are refused with nothing
    committed; any SP may M-GET any NPA-NXX (L35908)."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            sims = await rig.lsms_up("0001", "0002", "0003")
            soa = (await rig.soa_up("0001")).carrier
            by_npac = await rig.side.network.create_npa_nxx("0002", "312555", EFFECTIVE)
            out = await sims[2].carrier.request(npa_nxx_create("0003", "312556"))
            created = plain_attributes(dict(out.result.attributes))
            assert created["serviceProvNPA-NXX-ID"] == by_npac["npa_nxx_id"] + 1
            assert created["serviceProvNPA-NXX-EffectiveTimeStamp"] == gtime(EFFECTIVE)
            assert out.result.object_instance == child_dn("0003", "serviceProvNPA-NXX-ID", by_npac["npa_nxx_id"] + 1)
            await soa.request(npa_nxx_create("0001", "312557"))
            await eventually(lambda: len(pushes(sims[0], "create")) == 3 and len(pushes(sims[1], "create")) == 3)
            assert len(pushes(sims[2], "create")) == 2  # not its own create (6.3.8.3 e: "other" LSMSs)
            assert sims[0].mib.network_data()["0003"]["npa_nxx"] == {by_npac["npa_nxx_id"] + 1: "312556"}
            before = rig.store.last_sequence()
            assert await refused(soa, npa_nxx_create("0002", "312558")) == "accessDenied"
            assert await refused(soa, npa_nxx_create("0001", "312557")) == "duplicateManagedObjectInstance"
            assert await refused(soa, npa_nxx_create("0001", "312559", with_effective=False)) == "missingAttributeValue"
            with pytest.raises(NetworkDataError) as exc:
                await rig.side.network.create_npa_nxx("0007", "312559", EFFECTIVE)
            assert exc.value.code == cmip.NO_SUCH_OBJECT_INSTANCE
            bad = cmip.CreateRequest(OIDS.object_class("serviceProvNPA-NXX").oid,
                                     superior_instance=sp_network_dn(NETWORK, "0001"),
                                     attributes=((oid("serviceProvNPA-NXX-Value"), b"\x04\x01\x00"),
                                                 (oid("serviceProvNPA-NXX-EffectiveTimeStamp"),
                                                  attribute_tlv("serviceProvNPA-NXX-EffectiveTimeStamp",
                                                                gtime(EFFECTIVE)))))
            assert await refused(soa, bad) == "invalidAttributeValue"
            assert rig.store.last_sequence() == before and len(NPA_NXX.all(rig.store)) == 3
            for carrier in (soa, sims[1].carrier):
                got = await carrier.get("serviceProvNPA-NXX", child_dn("0002", "serviceProvNPA-NXX-ID",
                                                                       by_npac["npa_nxx_id"]))
                value = plain_attributes(dict(got.result.attributes))["serviceProvNPA-NXX-Value"]
                assert value == {"npa-value": "312", "nxx-value": "555"}
        finally:
            await rig.close()
    run(body())


def test_npa_nxx_and_lrn_deletion_refused_while_in_use(tmp_path, keys_dir):
    """Flows 6.3.8.2, 6.3.8.5, 6.3.8.6, 6.3.9.3, 6.3.9.5, 6.3.9.7 (L31160-31358, L31492-31678), RP3-3,
    RR4-3, 05 §C #4/#5: while a version that is not old or canceled uses the NPA-NXX or LRN, the delete
    is complexityLimitation and nothing changes; a non-owner gets accessDenied; once the version is
    old the delete goes through and reaches the other LSMSs."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        net = rig.side.network
        try:
            sims = await rig.lsms_up("0002", "0003")
            soa = (await rig.soa_up("0001")).carrier
            npa = await net.create_npa_nxx("0002", "312555", EFFECTIVE)
            lrn = await net.create_lrn("0002", "3125550002")
            v = rig.add_version("3125551234", status=Status.ACTIVE, kind=None)
            npa_dn = child_dn("0002", "serviceProvNPA-NXX-ID", npa["npa_nxx_id"])
            lrn_dn = child_dn("0002", "serviceProvLRN-ID", lrn["lrn_id"])
            before = rig.store.last_sequence()
            lsms = sims[0].carrier
            assert await refused(lsms, delete("serviceProvNPA-NXX", npa_dn)) == "complexityLimitation"
            assert await refused(lsms, delete("serviceProvLRN", lrn_dn)) == "complexityLimitation"
            assert await refused(soa, delete("serviceProvLRN", lrn_dn)) == "accessDenied"
            with pytest.raises(NetworkDataError) as exc:
                await net.delete_npa_nxx(npa["npa_nxx_id"])  # 6.3.8.2 b: NPAC personnel too
            assert exc.value.code == cmip.COMPLEXITY_LIMITATION
            assert rig.store.last_sequence() == before
            rig.update_version(v, status=Status.OLD)
            await lsms.request(delete("serviceProvNPA-NXX", npa_dn))
            await lsms.request(delete("serviceProvLRN", lrn_dn))
            assert NPA_NXX.all(rig.store) == [] and LRNS.all(rig.store) == []
            await eventually(lambda: len(pushes(sims[1], "delete")) == 2)
            assert sims[1].mib.network_data()["0002"]["npa_nxx"] == {} == sims[1].mib.network_data()["0002"]["lrn"]
            assert pushes(sims[0], "delete") == []  # its own deletes are not pushed back
            assert await refused(lsms, delete("serviceProvLRN", lrn_dn)) == "noSuchObjectInstance"
        finally:
            await rig.close()
    run(body())


def test_lrn_created_and_queried_by_npac_soa_and_lsms(tmp_path, keys_dir):
    """Flows 6.3.9.1, 6.3.9.2, 6.3.9.4, 6.3.9.6, 6.3.9.8 (L31418-31702), RP3-1.2: LRN creates by the
    NPAC, the owner's SOA and the owner's LSMS, pushed to the LSMSs (not back to an originating
    LSMS); LRN values are read-only, so a modify is a delete plus a create (L35732)."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            sims = await rig.lsms_up("0001", "0003")
            soa = (await rig.soa_up("0001")).carrier
            await rig.side.network.create_lrn("0003", "3125550003")
            await soa.request(lrn_create("0001", "3125550001"))
            out = await sims[1].carrier.request(lrn_create("0003", "3125550033"))
            assert plain_attributes(dict(out.result.attributes))["serviceProvLRN-Value"] == lrn_octets("3125550033")
            assert await refused(soa, lrn_create("0003", "3125550099")) == "accessDenied"
            not_bcd = cmip.CreateRequest(OIDS.object_class("serviceProvLRN").oid,
                                         superior_instance=sp_network_dn(NETWORK, "0001"),
                                         attributes=((oid("serviceProvLRN-Value"), b"\x04\x05" + b"\xff" * 5),))
            assert await refused(soa, not_bcd) == "invalidAttributeValue"
            await eventually(lambda: len(pushes(sims[0], "create")) == 3)
            assert len(pushes(sims[1], "create")) == 2
            assert sorted(sims[0].mib.network_data()["0003"]["lrn"].values()) == [
                lrn_octets("3125550003"), lrn_octets("3125550033")]
            got = await sims[0].carrier.get("serviceProvLRN", child_dn("0001", "serviceProvLRN-ID", 2))
            assert plain_attributes(dict(got.result.attributes))["serviceProvLRN-ID"] == 2
            modify = cmip.SetRequest(OIDS.object_class("serviceProvLRN").oid, child_dn("0001", "serviceProvLRN-ID", 2),
                                     ((oid("serviceProvLRN-Value"), attribute_tlv("serviceProvLRN-Value",
                                                                                  lrn_octets("3125550011")),
                                       cmip.REPLACE),))
            assert await refused(soa, modify) == "accessDenied"
        finally:
            await rig.close()
    run(body())


def test_scoped_filtered_get_of_network_data(tmp_path, keys_dir):
    """Flow 6.3.9.10 (L31742-31768): a scoped/filtered M-GET based at lnpNetwork answers each matching
    serviceProvNetwork, serviceProvNPA-NXX and serviceProvLRN as a linked reply, then the final reply;
    R4-26.2: a query of the whole NPAC MIB still shows an SP only its own serviceProv."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            (sim,) = await rig.lsms_up("0003")
            await rig.side.network.create_npa_nxx("0002", "312555", EFFECTIVE)
            await rig.side.network.create_lrn("0002", "3125550002")
            everything = await sim.carrier.get("lnpNetwork", NETWORK, cmip.WHOLE_SUBTREE)
            classes = [OIDS.by_oid(r.object_class).name for r in everything.linked]
            assert classes == ["lnpNetwork", "serviceProvNetwork", "serviceProvNetwork", "serviceProvNPA-NXX",
                               "serviceProvLRN", "serviceProvNetwork"]
            only = FilterItem("equality", oid("serviceProvNPA-NXX-Value"),
                              attribute_tlv("serviceProvNPA-NXX-Value", {"npa-value": "312", "nxx-value": "555"}))
            one = await sim.carrier.get("lnpNetwork", NETWORK, cmip.WHOLE_SUBTREE, only)
            [npa] = one.linked
            assert attribute_plain("serviceProvNPA-NXX-ID", dict(npa.attributes)[oid("serviceProvNPA-NXX-ID")]) == 1
            # from the root the store views join the agent's own tree; serviceProv: the requester's only
            whole = await sim.carrier.get("lnpNPAC-SMS", npac_root(NPAC_SYSTEM_ID), cmip.WHOLE_SUBTREE)
            names = [OIDS.by_oid(r.object_class).name for r in whole.linked]
            assert names.count("lnpNetwork") == 1 and names.count("serviceProvNPA-NXX") == 1
            assert [plain_attributes(dict(r.attributes))["serviceProvID"] for r in whole.linked
                    if OIDS.by_oid(r.object_class).name == "serviceProv"] == ["0003"]
        finally:
            await rig.close()
    run(body())


def test_npa_nxx_effective_date_and_ported_flag_reach_the_guards(tmp_path, keys_dir):
    """Table 3-5 (L9056-9229), R5-18.4-18.6: an NPA-NXX carries its effective date to the LSMSs
    (serviceProvNPA-NXX-EffectiveTimeStamp) and into the network data the subscription guards read
    (`snapshot`), with its owner (the donor SP) and the "has been ported" flag the engine sets at
    the first activation (RR5-3)."""
    async def body():
        rig = await start_lsms_rig(tmp_path, keys_dir)
        try:
            (sim,) = await rig.lsms_up("0003")
            npa = await rig.side.network.create_npa_nxx("0002", "312555", EFFECTIVE)
            await eventually(lambda: pushes(sim, "create"))
            dn = pushes(sim, "create")[0].detail["dn"]
            pushed = plain_attributes(dict(sim.mib.tree.get(dn).attributes))
            assert pushed["serviceProvNPA-NXX-EffectiveTimeStamp"] == gtime(EFFECTIVE)
            assert pushed["serviceProvDownloadReason"] == "new1"
            network = snapshot(rig.store)
            assert network.npa_nxx_effective_ms == {"312555": EFFECTIVE} and network.npa_nxx_owner == {"312555": "0002"}
            assert network.ported_npa_nxx == frozenset() and network.providers == frozenset({"0001", "0002", "0003"})
            rig.writer.run_now("ported", lambda tx: NPA_NXX.put(tx, {"npa_nxx_id": npa["npa_nxx_id"], "ported": True}))
            assert snapshot(rig.store).ported_npa_nxx == frozenset({"312555"})
            assert Requester("0003", lsms=True).origin == "0003" and Requester("0001").origin is None
        finally:
            await rig.close()
    run(body())
