"""Subscription-version record and its enumerations (FRS Table 3-4, GDMO subscriptionVersion[NPAC]).

Field names equal the `subscription_versions` column names of the store, so a version round-trips
through `to_row` / `from_row` without a mapping table. Times are integer milliseconds since the Unix
epoch, UTC (DECISIONS "Time and calendars"); the wire layer converts to GeneralizedTime.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Mapping


class Status(IntEnum):
    """ASN.1 `VersionStatus` (DECISIONS; FRS Table 3-4 L8324-8358 names them X A P S F PF CR DP O C CP)."""

    CONFLICT = 0
    ACTIVE = 1
    PENDING = 2
    SENDING = 3
    DOWNLOAD_FAILED = 4
    DOWNLOAD_FAILED_PARTIAL = 5
    CONFLICT_RESOLUTION_PENDING = 6
    DISCONNECT_PENDING = 7
    OLD = 8
    CANCELED = 9
    CANCEL_PENDING = 10


S = Status

# RN5-1 (L10556): at most one version per TN in any of these.
IN_FLIGHT = frozenset({
    S.PENDING, S.SENDING, S.CANCEL_PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING,
    S.DISCONNECT_PENDING, S.DOWNLOAD_FAILED, S.DOWNLOAD_FAILED_PARTIAL,
})
# RN5-3 (L10572): any number of these; they never change status again, only get purged.
TERMINAL = frozenset({S.OLD, S.CANCELED})
# ASN.1 SubscriptionPreCancellationStatus (seed L43246-43256) and Table 3-4 L8692-8751.
PRE_CANCELLATION = frozenset({S.CONFLICT, S.PENDING, S.CONFLICT_RESOLUTION_PENDING, S.DISCONNECT_PENDING})


class LnpType(IntEnum):
    """Table 3-4 L8304-8322 / ASN.1 LNPType."""

    LSPP = 0  # local service provider portability (inter-SP, and porting to original)
    LISP = 1  # local intra-service-provider portability


class BroadcastKind(StrEnum):
    """What a version in sending is carrying to the LSMSs; decides the outcome row (T16-T21)."""

    ACTIVATE = "activate"
    MODIFY = "modify"
    DISCONNECT = "disconnect"
    PORT_TO_ORIGINAL = "port-to-original"


class BroadcastOp(StrEnum):
    """The operation the LSMSs receive (R5-57.1, RR5-21, flow 6.4.3.1)."""

    CREATE = "create"
    MODIFY = "modify"  # scoped/filtered M-SET by TN (DECISIONS)
    DELETE = "delete"


class DownloadReason(IntEnum):
    """ASN.1 DownloadReason; set whenever the version goes to the LSMSs (GDMO L36134)."""

    NEW = 0
    DELETE = 1
    MODIFIED = 2
    AUDIT_DISCREPANCY = 3
    DOWNLOAD_REQUEST = 4


BROADCAST_OP = {
    BroadcastKind.ACTIVATE: BroadcastOp.CREATE,
    BroadcastKind.MODIFY: BroadcastOp.MODIFY,
    BroadcastKind.DISCONNECT: BroadcastOp.DELETE,
    BroadcastKind.PORT_TO_ORIGINAL: BroadcastOp.DELETE,  # RR5-21, L11566
}
DOWNLOAD_REASON = {
    BroadcastOp.CREATE: DownloadReason.NEW,
    BroadcastOp.MODIFY: DownloadReason.MODIFIED,
    BroadcastOp.DELETE: DownloadReason.DELETE,
}

# Routing data supplied by the new SP (R5-15.1, R5-16) and modifiable on an active version (R5-36/37).
ROUTING_FIELDS = (
    "lrn", "class_dpc", "class_ssn", "lidb_dpc", "lidb_ssn", "cnam_dpc", "cnam_ssn",
    "isvm_dpc", "isvm_ssn",
)
OPTIONAL_FIELDS = ("billing_id", "end_user_location_value", "end_user_location_type")


@dataclass(frozen=True)
class SubscriptionVersion:
    """One subscription version. GDMO attribute per field in `appliance.store.schema.GDMO_COLUMNS`."""

    version_id: int
    tn: str
    status: Status
    old_sp: str
    new_sp: str  # subscriptionNewCurrentSP
    lnp_type: LnpType = LnpType.LSPP
    porting_to_original: bool = False
    # routing data (subscriptionVersion class)
    lrn: str | None = None
    class_dpc: str | None = None
    class_ssn: int | None = None
    lidb_dpc: str | None = None
    lidb_ssn: int | None = None
    cnam_dpc: str | None = None
    cnam_ssn: int | None = None
    isvm_dpc: str | None = None
    isvm_ssn: int | None = None
    billing_id: str | None = None
    end_user_location_value: str | None = None
    end_user_location_type: str | None = None
    download_reason: DownloadReason | None = None
    # concurrence
    new_sp_due_date_ms: int | None = None
    old_sp_due_date_ms: int | None = None
    new_sp_creation_ms: int | None = None
    old_sp_authorization: bool | None = None
    old_sp_authorization_ms: int | None = None
    # GDMO time stamps (subscriptionVersionNPAC-Behavior L36326-36388)
    creation_ms: int | None = None
    modified_ms: int | None = None
    activation_ms: int | None = None
    broadcast_ms: int | None = None
    conflict_ms: int | None = None
    cancellation_ms: int | None = None
    old_ms: int | None = None
    customer_disconnect_date_ms: int | None = None
    effective_release_date_ms: int | None = None
    disconnect_complete_ms: int | None = None
    old_sp_cancellation_ms: int | None = None
    new_sp_cancellation_ms: int | None = None
    old_sp_conflict_resolution_ms: int | None = None
    new_sp_conflict_resolution_ms: int | None = None
    pre_cancellation_status: Status | None = None
    failed_sp_list: tuple[str, ...] = ()
    # FRS Table 3-4 stamps the GDMO does not carry
    activation_request_ms: int | None = None  # L8580, RR5-22
    disconnect_request_ms: int | None = None  # L8622
    modify_request_ms: int | None = None  # L8974
    conflict_resolution_pending_ms: int | None = None  # L8823
    # machine bookkeeping (not on the wire)
    broadcast_kind: BroadcastKind | None = None
    broadcast_ok: tuple[str, ...] = ()  # LSMSs that accepted the broadcast in progress
    modifies_version_id: int | None = None  # the active version a modify version replaces (R5-34)
    authorization_before_conflict: bool | None = None  # RR5-13.2
    concurrence_started_ms: int | None = None  # T1 base (R5-21.1)
    concurrence_notice_ms: int | None = None  # T2 base: the concurrence request (R5-23.1)
    conflict_resolution_notice_ms: int | None = None  # RR5-18.1 base
    cancel_pending_ms: int | None = None  # RR5-32.1 base
    cancel_notice_ms: int | None = None  # RR5-33.1 base

    @property
    def intra_sp(self) -> bool:
        """Intra-SP port: one SP plays both parts (RR5-4, RR5-6.2)."""
        return self.lnp_type is LnpType.LISP or self.old_sp == self.new_sp

    @property
    def parties(self) -> tuple[str, ...]:
        """Who hears about the version: both SPs, or the current SP alone (RR5-12, RR5-26, RR5-29)."""
        return (self.new_sp,) if self.intra_sp else (self.old_sp, self.new_sp)

    @property
    def concurrence_complete(self) -> bool:
        """R5-53.1 (L13441): the new SP's create exists and the old SP authorized."""
        return self.new_sp_creation_ms is not None and self.old_sp_authorization is True

    @property
    def npa_nxx(self) -> str:
        return self.tn[:6]

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, IntEnum):
                value = int(value)
            elif isinstance(value, StrEnum):
                value = str(value)
            row[f.name] = value
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "SubscriptionVersion":
        values = {f.name: row[f.name] for f in dataclasses.fields(cls) if f.name in row}
        for name, convert in _DECODE.items():
            if values.get(name) is not None:
                values[name] = convert(values[name])
        return cls(**values)


def _bool(value: Any) -> bool:
    return bool(value)


_DECODE: dict[str, Any] = {
    "status": Status,
    "pre_cancellation_status": Status,
    "lnp_type": LnpType,
    "download_reason": DownloadReason,
    "broadcast_kind": BroadcastKind,
    "porting_to_original": _bool,
    "old_sp_authorization": _bool,
    "authorization_before_conflict": _bool,
    "failed_sp_list": tuple,
    "broadcast_ok": tuple,
}


# Bookkeeping fields: changing only these is not a modification of the version (GDMO L36334).
INTERNAL_FIELDS = frozenset({
    "broadcast_kind", "broadcast_ok", "modifies_version_id", "authorization_before_conflict",
    "concurrence_started_ms", "concurrence_notice_ms", "conflict_resolution_notice_ms",
    "cancel_pending_ms", "cancel_notice_ms", "modified_ms",
})
