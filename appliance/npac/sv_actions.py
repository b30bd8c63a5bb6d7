"""The SOA's subscription-version M-ACTIONs on the wire (GDMO L40558-41468, ASN.1 L42064-43260):
their information decoded into Python values for the engine, and built from Python values for the
SOA simulator. Decoding raises `BadValue` for a value that breaks the FRS format or a required part
that is missing (answered with invalidArgumentValue, flows 6.4.1.1 b / 6.4.1.2 b).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from appliance.lnp import asn1
from appliance.lnp.values import BadValue, gtime, ms_of
from appliance.npac.model import ROUTING_FIELDS, LnpType
from appliance.npac.sv_codec import BY_FIELD, get_value, present, set_value


@dataclass(frozen=True)
class Target:
    """What an action names: one version by id, one TN, or a contiguous TN range (R5-5)."""

    version_id: int | None = None
    tns: tuple[str, ...] = ()
    tn_range: tuple[str, str] | None = None


# ---- TN ranges ------------------------------------------------------------------------------


def expand_range(start: str, stop: str) -> tuple[str, ...]:
    """TN-Range (L43340): tn-stop may give only the trailing digits of the last TN. The range stays in
    one NPA-NXX (an NXX block of at most 10 000 TNs) and runs upwards."""
    if len(start) != 10 or not start.isdigit() or not stop.isdigit() or not 1 <= len(stop) <= 10:
        raise BadValue(f"TN range {start}-{stop}")
    last = start[:10 - len(stop)] + stop
    if last[:6] != start[:6] or last < start:
        raise BadValue(f"TN range {start}-{stop} leaves the NPA-NXX or runs backwards")
    return tuple(f"{start[:6]}{n:04d}" for n in range(int(start[6:]), int(last[6:]) + 1))


def _range(value: Any) -> tuple[tuple[str, ...], tuple[str, str]]:
    start, stop = str(value["tn-start"]), str(value["tn-stop"])
    return expand_range(start, stop), (start, stop)


def read_version_action(choice: Any) -> Target:
    """SubscriptionVersionAction ::= CHOICE { version-id [0], tn [1] } (L43260)."""
    if choice.getName() == "version-id":
        return Target(version_id=int(choice["version-id"]))
    return Target(tns=(str(choice["tn"]),))


def read_target(choice: Any) -> Target:
    """CHOICE { subscription-version-action [0], subscription-version-tn-range [1] } (Activate,
    Modify, Disconnect)."""
    if choice.getName() == "subscription-version-tn-range":
        tns, bounds = _range(choice["subscription-version-tn-range"])
        return Target(tns=tns, tn_range=bounds)
    return read_version_action(choice["subscription-version-action"])


def read_create_target(choice: Any) -> Target:
    """CHOICE { subscription-version-tn [0], subscription-version-tn-range [1] } (the creates)."""
    if choice.getName() == "subscription-version-tn-range":
        tns, bounds = _range(choice["subscription-version-tn-range"])
        return Target(tns=tns, tn_range=bounds)
    return Target(tns=(str(choice["subscription-version-tn"]),))


# ---- component <-> field tables ----------------------------------------------------------------

_ROUTING_PARTS = {  # NewSP-CreateData / SubscriptionModifyData component -> version field
    "subscription-lrn": "lrn", "subscription-class-dpc": "class_dpc", "subscription-class-ssn": "class_ssn",
    "subscription-lidb-dpc": "lidb_dpc", "subscription-lidb-ssn": "lidb_ssn",
    "subscription-isvm-dpc": "isvm_dpc", "subscription-isvm-ssn": "isvm_ssn",
    "subscription-cnam-dpc": "cnam_dpc", "subscription-cnam-ssn": "cnam_ssn",
}
_OPTIONAL_PARTS = {
    "subscription-end-user-location-value": "end_user_location_value",
    "subscription-end-user-location-type": "end_user_location_type",
    "subscription-billing-id": "billing_id",
}
_MODIFY_PARTS = {
    **_ROUTING_PARTS, **_OPTIONAL_PARTS,
    "subscription-new-sp-due-date": "new_sp_due_date_ms", "subscription-old-sp-due-date": "old_sp_due_date_ms",
    "subscription-old-sp-authorization": "old_sp_authorization",
}


def _read(seq: Any, part: str, field_name: str) -> Any:
    value = present(seq, part)
    return None if value is None else get_value(BY_FIELD[field_name].type_name, value)


def _put(seq: Any, part: str, field_name: str, value: Any) -> None:
    seq[part] = set_value(seq[part], BY_FIELD[field_name].type_name, value)


def _required(seq: Any, *parts: str) -> None:
    missing = [p for p in parts if present(seq, p) is None]
    if missing:
        raise BadValue(f"missing {', '.join(missing)}")


# ---- decoding (the NPAC) -----------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRequest:
    """A decoded NewSP-CreateData or OldSP-CreateData."""

    target: Target
    old_sp: str
    new_sp: str
    due_date_ms: int
    lnp_type: LnpType = LnpType.LSPP
    porting_to_original: bool = False
    authorization: bool | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


def read_new_sp_create(data: Any) -> CreateRequest:
    """NewSP-CreateData (L42882). LRN and the 8 DPC/SSN values are required unless porting to the
    original SP (flow 6.4.1.2 b, GDMO L41142; the ASN.1 makes them OPTIONAL: §C.9 #29)."""
    _required(data, "subscription-new-current-sp", "subscription-old-sp", "subscription-new-sp-due-date",
              "subscription-lnp-type", "subscription-porting-to-original-sp-switch")
    pto = bool(data["subscription-porting-to-original-sp-switch"])
    attrs = {f: _read(data, part, f) for part, f in {**_ROUTING_PARTS, **_OPTIONAL_PARTS}.items()}
    if not pto and any(attrs[f] is None for f in ROUTING_FIELDS):
        raise BadValue("LRN, DPC and SSN values are required unless porting to the original SP")
    return CreateRequest(
        target=read_create_target(data["chc1"]), old_sp=str(data["subscription-old-sp"]),
        new_sp=str(data["subscription-new-current-sp"]), due_date_ms=ms_of(data["subscription-new-sp-due-date"]),
        lnp_type=LnpType(int(data["subscription-lnp-type"])), porting_to_original=pto,
        attrs={f: v for f, v in attrs.items() if v is not None})


def read_old_sp_create(data: Any) -> CreateRequest:
    """OldSP-CreateData (L43012); it has no LNP type, so an old-SP create is inter-SP (L41446)."""
    _required(data, "subscription-new-current-sp", "subscription-old-sp", "subscription-old-sp-due-date",
              "subscription-old-sp-authorization")
    return CreateRequest(
        target=read_create_target(data["chc1"]), old_sp=str(data["subscription-old-sp"]),
        new_sp=str(data["subscription-new-current-sp"]), due_date_ms=ms_of(data["subscription-old-sp-due-date"]),
        authorization=bool(data["subscription-old-sp-authorization"]))


def read_modify_data(data: Any) -> dict[str, Any]:
    """SubscriptionModifyData (L42812) -> the fields to change. Its DPC/SSN parts are mandatory in the
    ASN.1; no-value-needed there means "leave unchanged"."""
    changes = {f: _read(data, part, f) for part, f in _MODIFY_PARTS.items()}
    return {f: v for f, v in changes.items() if v is not None}


@dataclass(frozen=True)
class DisconnectRequest:
    target: Target
    customer_disconnect_date_ms: int
    effective_release_date_ms: int | None


def read_disconnect(data: Any) -> DisconnectRequest:
    """DisconnectAction (L42328)."""
    _required(data, "customer-disconnect-date")
    erd = present(data, "effective-release-date")
    return DisconnectRequest(read_target(data["chc1"]), ms_of(data["customer-disconnect-date"]),
                             ms_of(erd) if erd is not None else None)


# ---- building (the SOA) ------------------------------------------------------------------------


def _set_create_target(choice: Any, target: Target) -> None:
    if target.tn_range is not None:
        choice["subscription-version-tn-range"]["tn-start"] = target.tn_range[0]
        choice["subscription-version-tn-range"]["tn-stop"] = target.tn_range[1]
    else:
        choice["subscription-version-tn"] = target.tns[0]


def _set_version_action(choice: Any, target: Target) -> None:
    if target.version_id is not None:
        choice["version-id"] = target.version_id
    else:
        choice["tn"] = target.tns[0]


def set_target(choice: Any, target: Target) -> None:
    if target.tn_range is not None:
        choice["subscription-version-tn-range"]["tn-start"] = target.tn_range[0]
        choice["subscription-version-tn-range"]["tn-stop"] = target.tn_range[1]
    else:
        _set_version_action(choice["subscription-version-action"], target)


def version_action(type_name: str, target: Target) -> bytes:
    """The id|tn argument of Cancel, the acknowledgements and ConflictResolutionPending."""
    value = asn1.type_class(type_name)()
    _set_version_action(value, target)
    return asn1.encode(value)


def targeted_action(type_name: str, target: Target) -> bytes:
    """ActivateAction: id|tn or a TN range."""
    value = asn1.type_class(type_name)()
    set_target(value, target)
    return asn1.encode(value)


def new_sp_create(target: Target, old_sp: str, new_sp: str, due_date_ms: int, *, lnp_type: LnpType = LnpType.LSPP,
                  porting_to_original: bool = False, values: Mapping[str, Any] | None = None) -> bytes:
    data = asn1.type_class("NewSP-CreateData")()
    _set_create_target(data["chc1"], target)
    data["subscription-new-current-sp"] = new_sp
    data["subscription-old-sp"] = old_sp
    data["subscription-new-sp-due-date"] = gtime(due_date_ms)
    for part, f in {**_ROUTING_PARTS, **_OPTIONAL_PARTS}.items():
        if (values or {}).get(f) is not None:
            _put(data, part, f, values[f])  # type: ignore[index]
    data["subscription-lnp-type"] = int(lnp_type)
    data["subscription-porting-to-original-sp-switch"] = porting_to_original
    return asn1.encode(data)


def old_sp_create(target: Target, old_sp: str, new_sp: str, due_date_ms: int, authorization: bool) -> bytes:
    data = asn1.type_class("OldSP-CreateData")()
    _set_create_target(data["chc1"], target)
    data["subscription-new-current-sp"] = new_sp
    data["subscription-old-sp"] = old_sp
    data["subscription-old-sp-due-date"] = gtime(due_date_ms)
    data["subscription-old-sp-authorization"] = authorization
    return asn1.encode(data)


def modify_data(holder: Any, changes: Mapping[str, Any]) -> Any:
    """Fill SubscriptionModifyData; the mandatory DPC/SSN parts not changed are no-value-needed."""
    by_field = {f: part for part, f in _MODIFY_PARTS.items()}
    unknown = set(changes) - set(by_field)
    if unknown:
        raise BadValue(f"not modifiable: {sorted(unknown)}")
    for part, f in _MODIFY_PARTS.items():
        if changes.get(f) is not None or part.endswith(("-dpc", "-ssn")):
            _put(holder, part, f, changes.get(f))
    return holder


def modify(target: Target, changes: Mapping[str, Any], version_status: int | None = None) -> bytes:
    action = asn1.type_class("ModifyAction")()
    set_target(action["chc1"], target)
    if version_status is not None:
        action["version-status"] = version_status
    modify_data(action["data-to-modify"], changes)
    return asn1.encode(action)


def disconnect(target: Target, customer_disconnect_date_ms: int, effective_release_date_ms: int | None = None) -> bytes:
    action = asn1.type_class("DisconnectAction")()
    set_target(action["chc1"], target)
    action["customer-disconnect-date"] = gtime(customer_disconnect_date_ms)
    if effective_release_date_ms is not None:
        action["effective-release-date"] = gtime(effective_release_date_ms)
    return asn1.encode(action)
