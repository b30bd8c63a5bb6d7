"""Subscription-version queries over real CMIP associations (IIS flow 6.4.11, L34020-34214; SOA
resynchronisation L30503-30521): scoped/filtered M-GET from lnpSubscriptions, base-object M-GET of one
version, Max_Subscriber_Query (Exhibit 80). Seed lines point into shared/seeds/003_143becf4141144f2.txt."""
from __future__ import annotations

import asyncio

import pytest

from appliance.lnp.oids import OIDS
from appliance.npac.sv_codec import ATTRIBUTES, subscriptions_dn, version_dn
from appliance.osi import cmip
from appliance.osi.cmip_filter import FilterAnd, FilterItem, FilterOr
from appliance.peers.demo_keys import NPAC_SYSTEM_ID
from tests.support.lnp_rig import npac_dn
from tests.support.npac_rig import DAY, H, LRN, NEW, OLD, T0, TN, active_port, pending_port, start_npac

S_PENDING, S_ACTIVE = 2, 1
VERSION_CLASS = OIDS.object_class("subscriptionVersionNPAC").oid


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


def run(tmp_path, keys_dir, body):
    async def main():
        rig = await start_npac(tmp_path, keys_dir)
        try:
            await body(rig)
        finally:
            await rig.close()
    asyncio.run(asyncio.wait_for(main(), 60))


def item(kind: str, name: str, value) -> FilterItem:
    return FilterItem(kind, ATTRIBUTES[name].oid, ATTRIBUTES[name].encode(value))


def test_6_4_11_query_by_tn_and_by_version_returns_the_listed_attributes(tmp_path, keys_dir):
    """6.4.11 b/c: one version of a TN or all of them, with the attributes of L34100-34214; any SOA may
    view any version (L36400)."""
    async def body(rig):
        first = await active_port(rig)
        second = await pending_port(rig, "3035551999")
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        (row,) = (await old.query(tn=TN)).reply
        expected = {"subscriptionVersionId", "subscriptionTN", "subscriptionLRN", "subscriptionNewCurrentSP",
                    "subscriptionOldSP", "subscriptionNewSP-DueDate", "subscriptionNewSP-CreationTimeStamp",
                    "subscriptionOldSP-DueDate", "subscriptionOldSP-Authorization",
                    "subscriptionOldSP-AuthorizationTimeStamp", "subscriptionActivationTimeStamp",
                    "subscriptionBroadcastTimeStamp", "subscriptionVersionStatus", "subscriptionCLASS-DPC",
                    "subscriptionCLASS-SSN", "subscriptionLIDB-DPC", "subscriptionLIDB-SSN", "subscriptionCNAM-DPC",
                    "subscriptionCNAM-SSN", "subscriptionISVM-DPC", "subscriptionISVM-SSN", "subscriptionBillingId",
                    "subscriptionLNPType", "subscriptionModifiedTimeStamp", "subscriptionCreationTimeStamp",
                    "subscriptionPortingToOriginal-SPSwitch", "subscriptionDownloadReason"}
        assert expected <= set(row)
        assert (row["subscriptionVersionId"], row["subscriptionVersionStatus"], row["subscriptionLRN"]) == (
            first, S_ACTIVE, LRN[NEW])
        (by_id,) = (await new.query(version_id=second)).reply
        assert (by_id["subscriptionTN"], by_id["subscriptionVersionStatus"]) == ("3035551999", S_PENDING)
        everything = (await new.query()).reply
        assert [v["subscriptionVersionId"] for v in everything] == [first, second]
        assert (await new.query(tn="3035550000")).reply == []
    run(tmp_path, keys_dir, body)


def test_soa_resynchronisation_query_by_own_sp_and_modified_time(tmp_path, keys_dir):
    """L30507-30517: a SOA that lost its association asks for the versions where it is the new or old SP
    modified since the loss (filter: newSP or oldSP = own, subscriptionModifiedTimeStamp >= t; CMIP's
    lessOrEqual puts the asserted value first, X.711)."""
    async def body(rig):
        await pending_port(rig, "3035551000")
        rig.clock.advance(2 * H)
        await pending_port(rig, "3035551001")
        own = FilterOr((item("equality", "subscriptionNewCurrentSP", OLD), item("equality", "subscriptionOldSP", OLD)))
        since = item("lessOrEqual", "subscriptionModifiedTimeStamp", T0 + H)
        rows = (await (await rig.soa(OLD)).query(flt=own)).reply
        assert len(rows) == 2
        rows = (await (await rig.soa(OLD)).query(flt=FilterAnd((own, since)))).reply
        assert [r["subscriptionTN"] for r in rows] == ["3035551001"]
    run(tmp_path, keys_dir, body)


def test_max_subscriber_query_exceeded_is_a_processing_failure(tmp_path, keys_dir):
    """6.4.11 c, Exhibit 80: more matches than Max_Subscriber_Query (tunable, R4-30.1) -> processingFailure
    whose lnpSpecificInfo gives the count and the limit (the flows' resourceLimitation is not a CMIP
    error); a narrower query is answered."""
    async def body(rig):
        rig.set_tunables(max_subscriber_query=10)
        old, new = await rig.soa(OLD), await rig.soa(NEW)
        assert (await old.old_sp_create(("3035551000", "1010"), NEW, T0 + DAY, True)).ok
        await rig.settle()
        before = rig.journal()
        refused = await new.query()
        assert refused.error_name == "processingFailure"
        assert refused.specific_info == ("Number of records in query response, 11, exceeds the number of records "
                                         "that can be returned (10)")
        assert rig.journal() == before
        narrower = await new.query(flt=item("lessOrEqual", "subscriptionVersionId", 2))
        assert [r["subscriptionVersionId"] for r in narrower.reply] == list(range(2, 12))
        rig.set_tunables(max_subscriber_query=50)
        assert len((await new.query()).reply) == 11
    run(tmp_path, keys_dir, body)


def test_base_object_get_of_one_version_and_errors(tmp_path, keys_dir):
    """M-GET of one subscriptionVersionNPAC by its DN (name binding 15): the attributes asked for only;
    an unknown version is noSuchObjectInstance, a class that does not fit is classInstanceConflict
    (Exhibit 79); the generic tree shows the lnpSubscriptions container under lnpNPAC-SMS."""
    async def body(rig):
        version_id = await pending_port(rig)
        old = await rig.soa(OLD)
        status = OIDS.attribute("subscriptionVersionStatus").oid
        answer = await old.request(cmip.GetRequest(VERSION_CLASS, version_dn(NPAC_SYSTEM_ID, version_id),
                                                   attribute_ids=(status,)))
        assert isinstance(answer.result, cmip.GetResult) and answer.result.attributes == ((status, b"\x0a\x01\x02"),)
        missing = await old.request(cmip.GetRequest(VERSION_CLASS, version_dn(NPAC_SYSTEM_ID, 77)))
        assert missing.error_name == "noSuchObjectInstance"
        conflict = await old.request(cmip.GetRequest(OIDS.object_class("lnpSubscriptions").oid,
                                                     version_dn(NPAC_SYSTEM_ID, version_id)))
        assert conflict.error_name == "classInstanceConflict"
        top = await old.request(cmip.GetRequest(OIDS.object_class("lnpNPAC-SMS").oid, npac_dn(),
                                                cmip.FIRST_LEVEL_ONLY))
        assert subscriptions_dn(NPAC_SYSTEM_ID) in [r.object_instance for r in top.linked]
        subtree = await old.request(cmip.GetRequest(OIDS.object_class("lnpSubscriptions").oid,
                                                    subscriptions_dn(NPAC_SYSTEM_ID), cmip.WHOLE_SUBTREE))
        assert [r.object_class for r in subtree.linked] == [OIDS.object_class("lnpSubscriptions").oid, VERSION_CLASS]
    run(tmp_path, keys_dir, body)
