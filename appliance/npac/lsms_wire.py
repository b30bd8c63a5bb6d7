"""Subscription versions as the Local SMS sees them: the LSMS MIB's names and the NPAC's requests.

`SV_FIELDS` is the one table between a store column, the LSMS's `subscriptionVersion` attribute
(GDMO L36070-36186) and the `SubscriptionData` component (L43128) carrying the same value in
LocalSMS-Create, lnpDownload and lnpRecoveryComplete. The attribute and the component share their
ASN.1 type, so one plain value serves both.

The LSMS MIB (05 §D.2): lnpLocalSMS (named by lnpLocal-SMS-Name, here the LSMS's SP id) holding
lnpSubscriptions and lnpNetwork. Requests (flows 6.4.1.6, 6.4.1.7, DECISIONS): a version is
created by M-CREATE under lnpSubscriptions named by the NPAC's version id, or by the
subscriptionVersionLocalSMS-Create action; a modify is a scoped/filtered M-SET by TN; a disconnect
or port back to the original SP a scoped/filtered M-DELETE by TN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from appliance.lnp.oids import OIDS
from appliance.lnp.values import access_control, attribute_tlv, dpc_octets, encode_plain, gtime, lrn_octets, rdn
from appliance.npac.model import DownloadReason, LnpType, SubscriptionVersion
from appliance.osi import cmip
from appliance.osi.cmip_filter import FIRST_LEVEL_ONLY, FilterItem

DOWNLOAD_REASON_NAMES = {DownloadReason.NEW: "new1", DownloadReason.DELETE: "delete1",
                         DownloadReason.MODIFIED: "modified", DownloadReason.AUDIT_DISCREPANCY: "audit-discrepancy",
                         DownloadReason.DOWNLOAD_REQUEST: "download-request"}
LNP_TYPE_NAMES = {LnpType.LSPP: "lspp", LnpType.LISP: "lisp"}


def _dpc(value: str | None) -> dict:
    return {"no-value-needed": None} if value is None else {"dpc-value": dpc_octets(value)}


def _ssn(value: int | None) -> dict:
    return {"no-value-needed": None} if value is None else {"ssn-value": int(value)}


@dataclass(frozen=True)
class SvField:
    attribute: str
    component: str | None  # SubscriptionData component; None: carried beside it (the TN)
    column: str
    wire: Callable[[Any], Any]  # store value -> plain ASN.1 value
    always: bool = False  # mandatory in SubscriptionData: sent even when the store has no value


def _same(value: Any) -> Any:
    return value


SV_FIELDS: tuple[SvField, ...] = (
    SvField("subscriptionTN", None, "tn", _same),
    SvField("subscriptionLRN", "subscription-lrn", "lrn", lrn_octets),
    SvField("subscriptionNewCurrentSP", "subscription-new-current-sp", "new_sp", _same),
    SvField("subscriptionActivationTimeStamp", "subscription-activation-timestamp", "activation_ms", gtime),
    SvField("subscriptionCustomerDisconnectDate", "subscription-customer-disconnect-date",
            "customer_disconnect_date_ms", gtime),
    SvField("subscriptionCLASS-DPC", "subscription-class-dpc", "class_dpc", _dpc, True),
    SvField("subscriptionCLASS-SSN", "subscription-class-ssn", "class_ssn", _ssn, True),
    SvField("subscriptionLIDB-DPC", "subscription-lidb-dpc", "lidb_dpc", _dpc, True),
    SvField("subscriptionLIDB-SSN", "subscription-lidb-ssn", "lidb_ssn", _ssn, True),
    SvField("subscriptionISVM-DPC", "subscription-isvm-dpc", "isvm_dpc", _dpc, True),
    SvField("subscriptionISVM-SSN", "subscription-isvm-ssn", "isvm_ssn", _ssn, True),
    SvField("subscriptionCNAM-DPC", "subscription-cnam-dpc", "cnam_dpc", _dpc, True),
    SvField("subscriptionCNAM-SSN", "subscription-cnam-ssn", "cnam_ssn", _ssn, True),
    SvField("subscriptionEndUserLocationValue", "subscription-end-user-location-value",
            "end_user_location_value", _same),
    SvField("subscriptionEndUserLocationType", "subscription-end-user-location-type",
            "end_user_location_type", _same),
    SvField("subscriptionBillingId", "subscription-billing-id", "billing_id", _same),
    SvField("subscriptionLNPType", "subscription-lnp-type", "lnp_type", lambda t: LNP_TYPE_NAMES[LnpType(t)], True),
    SvField("subscriptionDownloadReason", "subscription-download-reason", "download_reason",
            lambda r: DOWNLOAD_REASON_NAMES[DownloadReason(r)], True),
)
COMPONENT_ATTRIBUTE = {f.component: f.attribute for f in SV_FIELDS if f.component}


def _values(v: SubscriptionVersion, reason: DownloadReason) -> dict[SvField, Any]:
    row = {**v.to_row(), "download_reason": int(reason)}
    return {f: f.wire(row[f.column]) for f in SV_FIELDS if row[f.column] is not None or f.always}


def subscription_data(v: SubscriptionVersion, reason: DownloadReason) -> dict[str, Any]:
    """The version's SubscriptionData (plain), with the download reason of this delivery."""
    return {f.component: value for f, value in _values(v, reason).items() if f.component}


def download_item(v: SubscriptionVersion, reason: DownloadReason) -> dict[str, Any]:
    """One element of SubscriptionDownloadData (L43194)."""
    return {"subscription-version-id": v.version_id, "subscription-version-tn": v.tn,
            "subscription-data": subscription_data(v, reason)}


# ---- the LSMS MIB ------------------------------------------------------------------------------


def lsms_root(lsms: str) -> tuple:
    return (rdn("lnpLocal-SMS-Name", lsms),)


def lsms_subscriptions(lsms: str) -> tuple:
    return lsms_root(lsms) + (rdn("lnpSubscriptionsName", "lnpSubscriptions"),)


def lsms_network(lsms: str) -> tuple:
    return lsms_root(lsms) + (rdn("lnpNetworkName", "lnpNetwork"),)


def version_dn(lsms: str, version_id: int) -> tuple:
    return lsms_subscriptions(lsms) + (rdn("subscriptionVersionId", version_id),)


def tn_filter(tn: str) -> FilterItem:
    return FilterItem("equality", OIDS.attribute("subscriptionTN").oid, attribute_tlv("subscriptionTN", tn))


# ---- requests to an LSMS -----------------------------------------------------------------------


def create_request(lsms: str, v: SubscriptionVersion, reason: DownloadReason) -> cmip.CreateRequest:
    """Flow 6.4.1.6 b: M-CREATE subscriptionVersion under the LSMS's lnpSubscriptions."""
    attrs = tuple((OIDS.attribute(f.attribute).oid, attribute_tlv(f.attribute, value))
                  for f, value in _values(v, reason).items())
    return cmip.CreateRequest(OIDS.object_class("subscriptionVersion").oid, version_dn(lsms, v.version_id),
                              attributes=attrs)


def modify_request(lsms: str, v: SubscriptionVersion, reason: DownloadReason) -> cmip.SetRequest:
    """DECISIONS / flow 6.4.3.1: the modified routing data as a scoped/filtered M-SET by TN."""
    mods = tuple((OIDS.attribute(f.attribute).oid, attribute_tlv(f.attribute, value), cmip.REPLACE)
                 for f, value in _values(v, reason).items() if f.component)
    return cmip.SetRequest(OIDS.object_class("lnpSubscriptions").oid, lsms_subscriptions(lsms), mods,
                           scope=FIRST_LEVEL_ONLY, filter=tn_filter(v.tn))


def delete_request(lsms: str, tn: str) -> cmip.DeleteRequest:
    """Disconnect / port to original (RR5-21): scoped/filtered M-DELETE by TN (IIS 4.1 L26959)."""
    return cmip.DeleteRequest(OIDS.object_class("lnpSubscriptions").oid, lsms_subscriptions(lsms),
                              scope=FIRST_LEVEL_ONLY, filter=tn_filter(tn))


def local_sms_create(lsms: str, versions: list[SubscriptionVersion], action_id: int,
                     reason: DownloadReason) -> Callable[[bytes], cmip.ActionRequest]:
    """Flow 6.4.1.7: subscriptionVersionLocalSMS-Create, one SubscriptionVersionObject per version;
    returns build(access_control_tlv) for NpacAgent.send_request_with (the action information
    carries the same access control as the CMIP PDU)."""
    objects = [{"tn-version-id": [{"tn": v.tn, "version-id": v.version_id}],
                "subscription-data": subscription_data(v, reason)} for v in versions]
    action = OIDS.action("subscriptionVersionLocalSMS-Create")

    def build(stamp: bytes) -> cmip.ActionRequest:
        info = encode_plain("LocalSMS-CreateAction", {"actionId": action_id, "subscriptionVersionObjects": objects,
                                                       "accessControl": access_control(stamp)})
        return cmip.ActionRequest(OIDS.object_class("lnpSubscriptions").oid, lsms_subscriptions(lsms),
                                  action.oid, info)
    return build


def succeeded(outcome: Any) -> bool:
    """A scoped M-SET / M-DELETE succeeded when no selected object answered with an error."""
    errors = (cmip.SetListError, cmip.ProcessingFailure, cmip.DeleteError, cmip.ActionError, cmip.GetListError)
    return not any(isinstance(reply, errors) for reply in outcome.linked)
