"""The subscriptionAudit object on the wire (GDMO L35930, L38248-38522; ASN.1 AuditDiscrepancyRpt,
AuditResults): its DN under lnpAudits, its attributes to and from the store row, the notifications it
emits, and the M-CREATE a SOA sends (flow 6.2.1) - one module so the NPAC and the SOA simulator in
the tests cannot disagree on the encoding.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.lnp.values import access_control, attribute_plain, attribute_tlv, encode_plain, gtime, rdn
from appliance.npac.notices import access_control_extension
from appliance.osi import cmip

AUDIT_CLASS = OIDS.object_class("subscriptionAudit").oid
LNP_AUDITS_CLASS = OIDS.object_class("lnpAudits").oid
# RP8-1: the AuditStatus enumeration has no 'canceled' (seed 42244); a canceled audit is deleted.
WIRE_STATUS = {"in-progress": "in-progress", "suspended": "suspended", "complete": "complete"}
_MISMATCH = {  # LSMS attribute -> MismatchAttributes component (ASN.1 seq0..seq11)
    "subscriptionLRN": 0, "subscriptionNewCurrentSP": 1, "subscriptionCLASS-DPC": 4, "subscriptionCLASS-SSN": 5,
    "subscriptionLIDB-DPC": 6, "subscriptionLIDB-SSN": 7, "subscriptionISVM-DPC": 8, "subscriptionISVM-SSN": 9,
    "subscriptionCNAM-DPC": 10, "subscriptionCNAM-SSN": 11,
}
# AuditAttributes specific-audit flags -> the attributes they select (R8-3)
ATTRIBUTE_GROUPS = {
    "lrn-data": ("subscriptionLRN", "subscriptionNewCurrentSP"),
    "class-data": ("subscriptionCLASS-DPC", "subscriptionCLASS-SSN"),
    "lidb-data": ("subscriptionLIDB-DPC", "subscriptionLIDB-SSN"),
    "isvm-data": ("subscriptionISVM-DPC", "subscriptionISVM-SSN"),
    "cnam-data": ("subscriptionCNAM-DPC", "subscriptionCNAM-SSN"),
}
COMPARED = tuple(_MISMATCH)


def lnp_audits_dn(npac_dn: tuple) -> tuple:
    """lnpAudits under the lnpNPAC-SMS object `npac_dn` (one RDN, as sv_codec.subscriptions_dn names it)."""
    return tuple(npac_dn) + (rdn("lnpAuditsName", "lnpAudits"),)


def audit_dn(npac_dn: tuple, audit_id: int) -> tuple:
    return lnp_audits_dn(npac_dn) + (rdn("subscriptionAuditId", audit_id),)


def compared_attributes(selection: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The attributes an audit compares: all of them, or the groups its specific-audit flags name."""
    if not selection or "specific-audit" not in selection:
        return COMPARED
    flags = selection["specific-audit"]
    return tuple(a for group, attrs in ATTRIBUTE_GROUPS.items() if flags.get(group) for a in attrs)


# ---- the M-CREATE ---------------------------------------------------------------------------------


def create_request(npac_dn: tuple, *, name: str, requesting_sp: str, tn_start: str, tn_stop: str,
                   sp_scope: str | None = None, attributes: Mapping[str, Any] | None = None) -> cmip.CreateRequest:
    """Flow 6.2.1 a: M-CREATE subscriptionAudit under lnpAudits (automatic naming: the NPAC picks the id)."""
    values: dict[str, Any] = {
        "subscriptionAuditName": name, "subscriptionAuditRequestingSP": requesting_sp,
        "subscriptionAuditTN-Range": {"tn-start": tn_start, "tn-stop": tn_stop},
        "subscriptionAuditServiceProvIdRange": {"allServiceProvs": None} if sp_scope is None
        else {"serviceProv": sp_scope},
        "subscriptionAuditAttributeList": dict(attributes) if attributes else {"all-data": None},
    }
    attrs = tuple((OIDS.attribute(n).oid, attribute_tlv(n, v)) for n, v in values.items())
    return cmip.CreateRequest(AUDIT_CLASS, superior_instance=lnp_audits_dn(npac_dn), attributes=attrs)


def decode_create(attributes: tuple[tuple[str, bytes], ...]) -> dict[str, Any]:
    """The audit row a create asks for (ProtocolError/KeyError on bad values)."""
    plain = {OIDS.by_oid(oid).name: attribute_plain(OIDS.by_oid(oid).name, tlv) for oid, tlv in attributes}
    tn_range = plain["subscriptionAuditTN-Range"]
    scope = plain.get("subscriptionAuditServiceProvIdRange") or {"allServiceProvs": None}
    selection = plain.get("subscriptionAuditAttributeList") or {"all-data": None}
    return {
        "name": plain.get("subscriptionAuditName"), "requesting_sp": plain.get("subscriptionAuditRequestingSP"),
        "tn_start": tn_range["tn-start"], "tn_stop": tn_range["tn-stop"],
        "sp_scope": scope.get("serviceProv"),
        "attributes": None if "all-data" in selection else selection,
        "activation_range": plain.get("subscriptionAuditTN-ActivationRange"),
    }


def row_attributes(row: Mapping[str, Any], notification_number: int | None = None) -> dict[str, bytes]:
    """{attribute OID: TLV} of an audit row, as M-GET and objectCreation show it; `notification_number`
    is the NPAC's subscriptionAuditTN-NotificationNumber (GET only, L38496)."""
    values: dict[str, Any] = {
        "subscriptionAuditId": row["audit_id"],
        "subscriptionAuditTN-Range": {"tn-start": row["tn_start"], "tn-stop": row["tn_stop"]},
        "subscriptionAuditServiceProvIdRange": {"allServiceProvs": None} if not row.get("sp_scope")
        else {"serviceProv": row["sp_scope"]},
        "subscriptionAuditAttributeList": row.get("attributes") or {"all-data": None},
        "subscriptionAuditNumberOfTNs": row.get("tns_total") or 0,
        "subscriptionAuditNumberOfTNsComplete": row.get("tns_complete") or 0,
    }
    if notification_number is not None:
        values["subscriptionAuditTN-NotificationNumber"] = notification_number
    if row.get("name"):
        values["subscriptionAuditName"] = row["name"]
    if row.get("requesting_sp"):
        values["subscriptionAuditRequestingSP"] = row["requesting_sp"]
    if row.get("status") in WIRE_STATUS:
        values["subscriptionAuditStatus"] = WIRE_STATUS[row["status"]]
    return {OIDS.attribute(n).oid: attribute_tlv(n, v) for n, v in values.items()}


# ---- notifications to the requesting SOA ------------------------------------------------------------


def object_info(row: Mapping[str, Any], notification: str, stamp: bytes, notification_number: int | None = None
                ) -> bytes:
    """objectCreation / objectDeletion (X.721 ObjectInfo) of the audit, signed (DECISIONS)."""
    info = OIDS.syntax_class(OIDS.notification(notification))()
    for oid, tlv in row_attributes(row, notification_number).items():
        attribute = info["attributeList"].getComponentType().clone()
        attribute["id"]["globalForm"] = oid
        attribute["value"] = tlv
        info["attributeList"].append(attribute)
    return _signed(info, stamp)


def _signed(info: Any, stamp: bytes) -> bytes:
    """An X.721 notification carrying its access control as accessControlParameter (GDMO L40410)."""
    info["additionalInformation"].append(access_control_extension(stamp))
    return asn1.encode(info)


def mismatch(lsms_values: Mapping[str, Any], npac_values: Mapping[str, Any], names: tuple[str, ...]) -> dict:
    """MismatchAttributes of the differing attributes that have a value on both sides."""
    out: dict[str, Any] = {}
    for name in names:
        lsms, npac = _bare(lsms_values.get(name)), _bare(npac_values.get(name))
        if lsms is None or npac is None or lsms == npac:
            continue
        short = name.removeprefix("subscription")
        out[f"seq{_MISMATCH[name]}"] = {f"lsms-subscription{short}": lsms, f"npac-subscription{short}": npac}
    return out


def _bare(value: Any) -> Any:
    """DPC/SSN attributes are a CHOICE with no-value-needed; MismatchAttributes holds the bare value."""
    if isinstance(value, dict):
        return value.get("dpc-value", value.get("ssn-value"))
    return value


def discrepancy_report(tn: str, version_id: int, lsms: str, reason: dict[str, Any], stamp: bytes) -> bytes:
    """subscriptionAudit-DiscrepancyRpt (GDMO L41522)."""
    return encode_plain("AuditDiscrepancyRpt", {"tn": tn, "version-id": version_id, "lsms-service-prov-id": lsms,
                                                "failure-reason": reason, "access-control": access_control(stamp)})


def results(status: str, failed: list[tuple[str, str]], discrepancies: int, now_ms: int, stamp: bytes) -> bytes:
    """subscriptionAuditResults (GDMO L41574)."""
    value: dict[str, Any] = {"status": status, "audit-response-level": "audit-to-lsms",
                             "number-of-discrepancies": discrepancies, "time-of-completion": gtime(now_ms),
                             "access-control": access_control(stamp)}
    if failed:
        value["failed-service-prov-list"] = [{"service-prov-id": sp, "service-prov-name": name}
                                             for sp, name in failed]
    return encode_plain("AuditResults", value)


def status_change(old: str, new: str, stamp: bytes) -> bytes:
    """attributeValueChange of subscriptionAuditStatus (GDMO L36012-36058), signed."""
    return attribute_changes((("subscriptionAuditStatus", WIRE_STATUS[old], WIRE_STATUS[new]),), stamp)


def attribute_changes(changes: Iterable[tuple[str, Any, Any]], stamp: bytes) -> bytes:
    """One signed attributeValueChange of the audit carrying each (attribute, old, new) given: the
    status (L36012), subscriptionAuditNumberOfTNs once set and subscriptionAuditNumberOfTNsComplete
    after every subscriptionAuditTN-NotificationNumber TNs (L36024-36030). An old value of None is
    left out (X.721 makes it optional)."""
    info = asn1.type_class("AttributeValueChangeInfo")()
    for name, old, new in changes:
        item = info["attributeValueChangeDefinition"].getComponentType().clone()
        item["attributeId"]["globalForm"] = OIDS.attribute(name).oid
        if old is not None:
            item["oldAttributeValue"] = attribute_tlv(name, old)
        item["newAttributeValue"] = attribute_tlv(name, new)
        info["attributeValueChangeDefinition"].append(item)
    return _signed(info, stamp)
