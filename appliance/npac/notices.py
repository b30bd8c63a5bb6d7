"""What each subscription-version notification says, in two steps:

* `payload(...)`, inside the step's transaction: the facts the notification reports, taken from the
  committed state (so a notification sent later, or after a restart, still tells what happened then);
* `build(notification, payload, access_control_tlv)`, at send time: the LNP information value with
  the access control of that very message (GDMO L41478-41926, ASN.1 L43380-43500; X.721 objectCreation
  and attributeValueChange carry it as accessControlParameter, L40410).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from appliance.lnp import asn1
from appliance.lnp.asn1.imports import ManagementExtension
from appliance.lnp.oids import OIDS
from appliance.lnp.values import access_control, gtime
from appliance.npac.effects import Notification as N
from appliance.npac.model import INTERNAL_FIELDS, SubscriptionVersion
from appliance.npac.sv_codec import ATTRIBUTES, attribute_change, failed_sp_list, version_attributes

NEW_NPA_NXX = "subscriptionVersionNewNPA-NXX"  # to the LSMSs (RR5-3); not a machine Notification
_STATUS = "subscriptionVersionStatus"
_QUIET = INTERNAL_FIELDS | {"status"}  # status has its own notification; bookkeeping is not news

# Fields each notification's information needs from the version (besides tn and version_id).
_FIELDS: dict[str, tuple[str, ...]] = {
    N.NEW_SP_CREATE_REQUEST: ("old_sp", "old_sp_due_date_ms", "old_sp_authorization_ms", "old_sp_authorization"),
    N.OLD_SP_CONCURRENCE_REQUEST: ("new_sp", "new_sp_due_date_ms", "new_sp_creation_ms"),
}


# ---- payloads (at commit) -----------------------------------------------------------------------


def payload(notification: str, after: SubscriptionVersion, before: SubscriptionVersion | None,
            failed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The facts of one Notify effect; `failed` maps each failed LSMS to its name."""
    row = after.to_row()
    out: dict[str, Any] = {"tn": after.tn, "version_id": after.version_id}
    if notification == N.OBJECT_CREATION:
        out["version"] = {f: row[f] for f in (c.field for c in ATTRIBUTES.values())}
    elif notification == N.ATTRIBUTE_VALUE_CHANGE:
        old = before.to_row() if before is not None else {}
        out["changes"] = [[c.name, old.get(c.field), row[c.field]] for c in ATTRIBUTES.values()
                          if c.field not in _QUIET and c.field != "modified_ms" and old.get(c.field) != row[c.field]]
    elif notification == N.STATUS_CHANGE:
        out["status"] = [int(before.status) if before is not None else None, int(after.status)]
        out["failed"] = sorted([sp, name] for sp, name in (failed or {}).items())
    out.update({f: row[f] for f in _FIELDS.get(notification, ())})
    return out


def donor_payload(version_id: int, tn: str, cdd_ms: int | None, erd_ms: int | None, now_ms: int) -> dict[str, Any]:
    """RR5-25.2 / L40724. The effective release date is mandatory in VersionCustomerDisconnectDate;
    an immediate disconnect takes effect now, so now is its release date."""
    return {"tn": tn, "version_id": version_id, "cdd": cdd_ms if cdd_ms is not None else now_ms,
            "erd": erd_ms if erd_ms is not None else now_ms}


def npa_nxx_payload(version_id: int, npa_nxx_id: int, npa_nxx: str) -> dict[str, Any]:
    return {"version_id": version_id, "npa_nxx_id": npa_nxx_id, "npa_nxx": npa_nxx}


# ---- information values (at send) ---------------------------------------------------------------


def access_control_extension(tlv: bytes) -> Any:
    """X.721 notifications carry the access control as the accessControlParameter extension (L40410)."""
    ext = ManagementExtension()
    ext["identifier"] = OIDS.parameter("accessControlParameter").oid
    ext["information"] = tlv
    return ext


def _info(notification: str) -> Any:
    return OIDS.syntax_class(OIDS.notification(notification))()


def _object_creation(p: Mapping[str, Any], ac: bytes) -> Any:
    info = _info(N.OBJECT_CREATION)
    for oid, tlv in version_attributes(p["version"]).items():
        attribute = info["attributeList"].getComponentType().clone()
        attribute["id"]["globalForm"] = oid
        attribute["value"] = tlv
        info["attributeList"].append(attribute)
    info["additionalInformation"].append(access_control_extension(ac))
    return info


def _attribute_value_change(p: Mapping[str, Any], ac: bytes) -> Any:
    info = _info(N.ATTRIBUTE_VALUE_CHANGE)
    for name, old, new in p["changes"]:
        info["attributeValueChangeDefinition"].append(attribute_change(name, old, new))
    info["additionalInformation"].append(access_control_extension(ac))
    return info


def _status_change(p: Mapping[str, Any], ac: bytes) -> Any:
    """VersionStatusAttributeValueChange (L43494); the failed LSMS list when there is one (L41926)."""
    info = _info(N.STATUS_CHANGE)
    old, new = p["status"]
    info["value-change-info"]["attributeValueChangeDefinition"].append(attribute_change(_STATUS, old, new))
    if p["failed"]:
        asn1.set_component(info, "failed-service-provs", failed_sp_list(
            [sp for sp, _ in p["failed"]], {sp: name for sp, name in p["failed"]}))
    return asn1.set_component(info, "access-control", access_control(ac))


def _concurrence(request: Any, p: Mapping[str, Any], side: str, stamp: str, ac: bytes) -> Any:
    """VersionCreateConcurrenceRequest (L43398): the other side's SP, due date and its time stamp."""
    request["tn"] = p["tn"]
    request["version-id"] = p["version_id"]
    request["service-prov-id"] = p[side]
    request["service-prov-due-date"] = gtime(p[f"{side}_due_date_ms"])
    request["service-prov-authorization-time-stamp"] = gtime(p[stamp])
    return asn1.set_component(request, "access-control", access_control(ac))


def _new_sp_create_request(p: Mapping[str, Any], ac: bytes) -> Any:
    info = _info(N.NEW_SP_CREATE_REQUEST)
    _concurrence(info["version-create-request"], p, "old_sp", "old_sp_authorization_ms", ac)
    info["service-prov-old-authorization"] = bool(p["old_sp_authorization"])
    return info


def _old_sp_concurrence_request(p: Mapping[str, Any], ac: bytes) -> Any:
    return _concurrence(_info(N.OLD_SP_CONCURRENCE_REQUEST), p, "new_sp", "new_sp_creation_ms", ac)


def _acknowledge_request(notification: str) -> Callable[[Mapping[str, Any], bytes], Any]:
    def build(p: Mapping[str, Any], ac: bytes) -> Any:
        info = _info(notification)
        info["tn"] = p["tn"]
        info["version-id"] = p["version_id"]
        return asn1.set_component(info, "access-control", access_control(ac))
    return build


def _donor(p: Mapping[str, Any], ac: bytes) -> Any:
    info = _info(N.DONOR_CUSTOMER_DISCONNECT_DATE)
    info["tn"] = p["tn"]
    info["version-id"] = p["version_id"]
    info["service-prov-customer-disconnect-date"] = gtime(p["cdd"])
    info["service-prov-effective-release-date"] = gtime(p["erd"])
    return asn1.set_component(info, "access-control", access_control(ac))


def _new_npa_nxx(p: Mapping[str, Any], ac: bytes) -> Any:
    info = _info(NEW_NPA_NXX)
    info["service-prov-npa-nxx-id"] = p["npa_nxx_id"]
    info["service-prov-npa-nxx-value"]["npa-value"] = p["npa_nxx"][:3]
    info["service-prov-npa-nxx-value"]["nxx-value"] = p["npa_nxx"][3:]
    return asn1.set_component(info, "access-control", access_control(ac))


BUILDERS: dict[str, Callable[[Mapping[str, Any], bytes], Any]] = {
    N.OBJECT_CREATION: _object_creation,
    N.ATTRIBUTE_VALUE_CHANGE: _attribute_value_change,
    N.STATUS_CHANGE: _status_change,
    N.NEW_SP_CREATE_REQUEST: _new_sp_create_request,
    N.OLD_SP_CONCURRENCE_REQUEST: _old_sp_concurrence_request,
    N.CANCELLATION_ACK_REQUEST: _acknowledge_request(N.CANCELLATION_ACK_REQUEST),
    N.CONFLICT_RESOLUTION_ACK_REQUEST: _acknowledge_request(N.CONFLICT_RESOLUTION_ACK_REQUEST),
    N.DONOR_CUSTOMER_DISCONNECT_DATE: _donor,
    NEW_NPA_NXX: _new_npa_nxx,
}


def build(notification: str, p: Mapping[str, Any], access_control_tlv: bytes) -> bytes:
    """The event information TLV of `notification`, signed by `access_control_tlv` (send_event's)."""
    return asn1.encode(BUILDERS[notification](p, access_control_tlv))
