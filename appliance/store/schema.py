"""The store's tables as data: columns with their types and the schema version that added them.

`migrations.py` builds the database from these definitions (each migration adds what carries its
`since` number), and the codec here turns Python values (bools, lists, dicts) into SQLite values and
back, so repositories and the journal deal in Python values only. Times are integer milliseconds
since the Unix epoch, UTC.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cached_property
from enum import StrEnum
from typing import Any, Mapping


class ColType(StrEnum):
    INT = "int"
    TEXT = "text"
    BOOL = "bool"
    JSON = "json"


SQL_TYPE = {ColType.INT: int, ColType.TEXT: str, ColType.BOOL: int, ColType.JSON: str}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColType = ColType.INT
    not_null: bool = False
    default: Any = None
    since: int = 1


@dataclass(frozen=True)
class Index:
    columns: tuple[str, ...]
    unique: bool = False
    since: int = 1


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    pk: tuple[str, ...]
    indexes: tuple[Index, ...] = ()
    since: int = 1
    journaled: bool = True  # the journal itself and schema_version are per node

    # cached: every row written or read on either node goes through encode/decode
    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def _kinds(self) -> dict[str, ColType]:
        return {c.name: c.type for c in self.columns}

    def key(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {k: values[k] for k in self.pk}

    def full(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """`row` with every column present (defaults for the missing ones)."""
        kinds = self._kinds
        unknown = [k for k in row if k not in kinds]
        if unknown:
            raise ValueError(f"{self.name} has no columns {sorted(unknown)}")
        return {c.name: row[c.name] if c.name in row else copy.deepcopy(c.default) for c in self.columns}

    def encode(self, row: Mapping[str, Any]) -> dict[str, Any]:
        kinds = self._kinds
        for k in row:
            if k not in kinds:
                raise KeyError(f"{self.name} has no column {k}")
        return {k: _encode(kinds[k], v) for k, v in row.items()}

    def decode(self, row: Mapping[str, Any]) -> dict[str, Any]:
        kinds = self._kinds
        return {k: _decode(kinds[k], v) for k, v in row.items() if k in kinds}


def _encode(kind: ColType, value: Any) -> Any:
    if value is None:
        return None
    if kind is ColType.BOOL:
        return int(bool(value))
    if kind is ColType.JSON:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def _decode(kind: ColType, value: Any) -> Any:
    if value is None:
        return None
    if kind is ColType.BOOL:
        return bool(value)
    if kind is ColType.JSON:
        return json.loads(value)
    return value


I, T, B, J = ColType.INT, ColType.TEXT, ColType.BOOL, ColType.JSON


def _c(spec: str, kind: ColType = I, **kw: Any) -> tuple[Column, ...]:
    """Columns of one type from a blank-separated list of names."""
    return tuple(Column(name, kind, **kw) for name in spec.split())


# GDMO attribute (subscriptionVersionPkg L36074, subscriptionVersionNPAC-Pkg L36200) -> column.
GDMO_COLUMNS: dict[str, str] = {
    "subscriptionVersionId": "version_id", "subscriptionTN": "tn", "subscriptionLRN": "lrn",
    "subscriptionNewCurrentSP": "new_sp", "subscriptionActivationTimeStamp": "activation_ms",
    "subscriptionCustomerDisconnectDate": "customer_disconnect_date_ms",
    "subscriptionCLASS-DPC": "class_dpc", "subscriptionCLASS-SSN": "class_ssn",
    "subscriptionLIDB-DPC": "lidb_dpc", "subscriptionLIDB-SSN": "lidb_ssn",
    "subscriptionCNAM-DPC": "cnam_dpc", "subscriptionCNAM-SSN": "cnam_ssn",
    "subscriptionISVM-DPC": "isvm_dpc", "subscriptionISVM-SSN": "isvm_ssn",
    "subscriptionEndUserLocationValue": "end_user_location_value",
    "subscriptionEndUserLocationType": "end_user_location_type", "subscriptionBillingId": "billing_id",
    "subscriptionLNPType": "lnp_type", "subscriptionDownloadReason": "download_reason",
    "subscriptionVersionStatus": "status", "subscriptionOldSP": "old_sp",
    "subscriptionNewSP-DueDate": "new_sp_due_date_ms", "subscriptionNewSP-CreationTimeStamp": "new_sp_creation_ms",
    "subscriptionOldSP-DueDate": "old_sp_due_date_ms", "subscriptionOldSP-Authorization": "old_sp_authorization",
    "subscriptionOldSP-AuthorizationTimeStamp": "old_sp_authorization_ms",
    "subscriptionBroadcastTimeStamp": "broadcast_ms", "subscriptionConflictTimeStamp": "conflict_ms",
    "subscriptionEffectiveReleaseDate": "effective_release_date_ms",
    "subscriptionDisconnectCompleteTimeStamp": "disconnect_complete_ms",
    "subscriptionCancellationTimeStamp": "cancellation_ms", "subscriptionCreationTimeStamp": "creation_ms",
    "subscriptionFailed-SP-List": "failed_sp_list", "subscriptionModifiedTimeStamp": "modified_ms",
    "subscriptionOldTimeStamp": "old_ms", "subscriptionOldSP-CancellationTimeStamp": "old_sp_cancellation_ms",
    "subscriptionNewSP-CancellationTimeStamp": "new_sp_cancellation_ms",
    "subscriptionOldSP-ConflictResolutionTimeStamp": "old_sp_conflict_resolution_ms",
    "subscriptionNewSP-ConflictResolutionTimeStamp": "new_sp_conflict_resolution_ms",
    "subscriptionPortingToOriginal-SPSwitch": "porting_to_original",
    "subscriptionPreCancellationStatus": "pre_cancellation_status",
}

_VERSION_COLUMNS = (
    Column("version_id", I, not_null=True), Column("tn", T, not_null=True), Column("status", I, not_null=True),
    Column("old_sp", T, not_null=True), Column("new_sp", T, not_null=True),
    Column("lnp_type", I, not_null=True, default=0), Column("porting_to_original", B, not_null=True, default=False),
    Column("lrn", T),
    *_c("class_dpc", T), *_c("class_ssn"), *_c("lidb_dpc", T), *_c("lidb_ssn"),
    *_c("cnam_dpc", T), *_c("cnam_ssn"), *_c("isvm_dpc", T), *_c("isvm_ssn"),
    *_c("billing_id end_user_location_value end_user_location_type", T), *_c("download_reason"),
    *_c("new_sp_due_date_ms old_sp_due_date_ms new_sp_creation_ms"), Column("old_sp_authorization", B),
    *_c("old_sp_authorization_ms creation_ms modified_ms activation_ms broadcast_ms conflict_ms "
        "cancellation_ms old_ms customer_disconnect_date_ms effective_release_date_ms disconnect_complete_ms "
        "old_sp_cancellation_ms new_sp_cancellation_ms old_sp_conflict_resolution_ms "
        "new_sp_conflict_resolution_ms pre_cancellation_status"),
    Column("failed_sp_list", J, default=[]),
    *_c("activation_request_ms disconnect_request_ms modify_request_ms conflict_resolution_pending_ms"),
    Column("broadcast_kind", T), Column("broadcast_ok", J, default=[]), Column("modifies_version_id"),
    Column("authorization_before_conflict", B),
    *_c("concurrence_started_ms concurrence_notice_ms conflict_resolution_notice_ms cancel_pending_ms "
        "cancel_notice_ms"),
)

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("meta", (Column("key", T, not_null=True), Column("value", J)), ("key",)),
    Table("id_counters", (Column("name", T, not_null=True), Column("value", I, not_null=True)), ("name",)),
    # NPAC Customer (Table 3-1 L7616) with the serviceProv GDMO attributes
    Table("service_providers", (
        Column("sp_id", T, not_null=True), Column("name", T, not_null=True),
        Column("system_type", I),  # ASN.1 SystemType: soa 0, local-sms 1, soa-and-local-sms 2
        Column("allowable_functions", J, default=[]),  # npacCustomerAllowableFunctions (L7659-7681)
        Column("download_network_data", B, default=False),  # RR3-1 download indicator (L7683)
        Column("customer_type", T), Column("max_query", I),  # R4-8 items 2 and 10
        Column("addresses", J, default={}),  # serviceProv*Address by kind
        Column("contacts", J, default=[]),  # Table 3-2
        Column("network_addresses", J, default=[]),  # Table 3-3 / serviceProvSysLinkInfo, selectors in hex
        Column("tunables", J, default={}),  # serviceProvTunables
        *_c("created_ms modified_ms deleted_ms"),  # R4-21, R4-22.1: deleted SPs stay as history
    ), ("sp_id",), (Index(("name",), unique=True, since=2),)),
    # Portable NPA-NXX (Table 3-5 L9056)
    Table("npa_nxx", (
        Column("npa_nxx_id", I, not_null=True), Column("value", T, not_null=True), Column("sp_id", T, not_null=True),
        Column("effective_ms", I, not_null=True), *_c("creation_ms"), Column("split_new_npa_nxx", T),
        *_c("split_activation_ms split_disconnect_ms"), Column("ported", B, not_null=True, default=False),
    ), ("npa_nxx_id",), (Index(("value",), unique=True, since=2), Index(("sp_id",), since=2))),
    # LRN (Table 3-6 L9233)
    Table("lrn", (
        Column("lrn_id", I, not_null=True), Column("value", T, not_null=True), Column("sp_id", T, not_null=True),
        *_c("creation_ms"),
    ), ("lrn_id",), (Index(("value",), unique=True, since=2), Index(("sp_id",), since=2))),
    Table("subscription_versions", _VERSION_COLUMNS, ("version_id",),
          (Index(("tn",), since=2), Index(("status",), since=2))),
    Table("timers", (
        Column("kind", T, not_null=True), Column("version_id", I, not_null=True),
        Column("target", T, not_null=True, default=""), Column("due_ms", I, not_null=True),
        Column("attempt", I, not_null=True, default=0), *_c("created_ms"),
    ), ("kind", "version_id", "target"), (Index(("due_ms",), since=2), Index(("version_id",), since=2))),
    # one row per (version, LSMS) of a broadcast in progress or settled (R5-58.1, R5-60)
    Table("broadcasts", (
        Column("version_id", I, not_null=True), Column("lsms_sp_id", T, not_null=True),
        Column("operation", T, not_null=True), Column("state", T, not_null=True, default="sending"),
        Column("sends", I, not_null=True, default=0), *_c("first_sent_ms last_sent_ms result_ms"),
    ), ("version_id", "lsms_sp_id"), (Index(("lsms_sp_id", "state"), since=2),)),
    # what an LSMS missed while unreachable or in recovery (IIS 5.2.1.10, lnpRecoveryComplete)
    Table("hold_queue", (
        Column("entry_id", I, not_null=True), Column("lsms_sp_id", T, not_null=True), Column("version_id", I),
        Column("operation", T, not_null=True), Column("payload", J, default={}), *_c("queued_ms"),
    ), ("entry_id",), (Index(("lsms_sp_id", "entry_id"), since=2),)),
    # subscriptionAudit (R8-1..R8-12, GDMO subscriptionAudit*)
    Table("audits", (
        Column("audit_id", I, not_null=True), Column("name", T), Column("requesting_sp", T),
        Column("tn_start", T), Column("tn_stop", T), Column("sp_scope", J),  # None = all SPs
        Column("attributes", J),  # None = full audit (R8-3 default)
        Column("activation_range", J), Column("status", T, not_null=True, default="in-progress"),
        *_c("tns_total tns_complete discrepancies"), Column("failed_sp_list", J, default=[]),
        *_c("created_ms completed_ms"),
    ), ("audit_id",), (Index(("status",), since=2),)),
    Table("tunables", (Column("name", T, not_null=True), Column("value", I, not_null=True), *_c("modified_ms")),
          ("name",)),
    Table("journal", (
        Column("sequence", I, not_null=True), Column("epoch", I, not_null=True), Column("time", I, not_null=True),
        Column("change", T, not_null=True),
    ), ("sequence",), journaled=False),
    # SOA (and LSMS) notifications decided by a committed step, until confirmed or given up
    # (ARCHITECTURE "never sent before commit"; DECISIONS retries: first send + 3 resends, 2 min apart)
    Table("notification_outbox", (
        Column("entry_id", I, not_null=True), Column("recipient", T, not_null=True),
        Column("function", T, not_null=True), Column("notification", T, not_null=True), Column("version_id", I),
        Column("payload", J, default={}), Column("state", T, not_null=True, default="pending"),
        Column("attempts", I, not_null=True, default=0), *_c("created_ms next_attempt_ms"), Column("last_error", T),
    ), ("entry_id",), (Index(("state", "next_attempt_ms"), since=3), Index(("recipient", "state"), since=3)),
        since=3),
    # service-level records (Exhibit G, Exhibit H): per (bucket, kind, party) counts and a latency
    # histogram, so a month at full load stays a few thousand rows (appliance.ops.meter_records)
    Table("slr_buckets", (
        Column("start_ms", I, not_null=True), Column("kind", T, not_null=True), Column("party", T, not_null=True),
        *_c("count errors sum_ms max_ms active_s peak_per_s", I, not_null=True, default=0),
        Column("hist", J, default={}),
    ), ("start_ms", "kind", "party"), (Index(("kind", "start_ms"), since=6),), since=6),
    # intervals and events: node in service, carrier interfaces up, outages, cutovers, restorals...
    Table("slr_intervals", (
        Column("interval_id", I, not_null=True), Column("kind", T, not_null=True),
        Column("party", T, not_null=True, default=""), Column("node", T, not_null=True, default=""),
        Column("start_ms", I, not_null=True), Column("end_ms", I), Column("open", B, not_null=True, default=False),
        Column("details", J, default={}),
    ), ("interval_id",), (Index(("kind", "start_ms"), since=6),), since=6),
    # console users (FRS §7.1-7.2): one row per userid ever issued, so an id is never reused (R7-1);
    # the password is only ever held as a salted one-way hash (R7-15)
    Table("console_users", (
        Column("user_id", T, not_null=True), Column("role", T, not_null=True),
        Column("state", T, not_null=True, default="enabled"),  # enabled | disabled | deleted
        Column("disabled_reason", T), Column("disabled_until_ms", I),  # R7-7 temporary, R7-8 reactivation
        Column("password_hash", T), Column("password_set_ms", I),
        Column("must_change", B, not_null=True, default=False),  # after an administrator's reset (R7-22)
        Column("expired_logins", I, not_null=True, default=0),  # Post_Expiration_Logins spent
        Column("failed_since_login", I, not_null=True, default=0),  # R7-48.2
        *_c("last_failure_ms last_login_ms"), Column("last_login_terminal", T),  # R7-48.1
        Column("unused_since_ms", I),  # last login, creation or re-enabling: R7-5.1 counts from here
        *_c("created_ms modified_ms"), Column("created_by", T),
    ), ("user_id",), since=4),
    # earlier passwords of a user, kept for the reuse check (R7-25.1: 6 months by default)
    Table("console_password_history", (
        Column("entry_id", I, not_null=True), Column("user_id", T, not_null=True),
        Column("password_hash", T, not_null=True), Column("set_ms", I, not_null=True),
        Column("replaced_ms", I, not_null=True),
    ), ("entry_id",), (Index(("user_id",), since=4),), since=4),
    # planned outages (production-support §12.1 notice fields; Exhibit G SLR 2 and SLR 21), appliance.ops.outages
    Table("planned_outages", (
        Column("outage_id", I, not_null=True), Column("state", T, not_null=True, default="scheduled"),
        Column("interface", T, not_null=True), Column("description", T, not_null=True),
        Column("impact", T, not_null=True), Column("workaround", T, not_null=True),
        Column("contact_name", T, not_null=True), Column("contact_number", T, not_null=True),
        Column("maintenance", T, not_null=True),  # routine | non-routine (SLR 2 exclusions, SLR 21 lead times)
        Column("start_ms", I, not_null=True), Column("stop_ms", I, not_null=True),
        *_c("scheduled_ms notice_ms lead_required_ms"), Column("lead_rule", T), Column("lead_met", B),
        Column("late_reason", T), Column("deliveries", J, default=[]),
        *_c("actual_start_ms actual_stop_ms cancelled_ms"), Column("cancel_reason", T),
        Column("cancel_deliveries", J, default=[]), Column("created_by", T), *_c("created_ms modified_ms"),
    ), ("outage_id",), (Index(("start_ms",), since=5), Index(("state",), since=5)), since=5),
    # trouble tickets (production-support §12.3-12.5; contract §10.2, §10.3, §21.3), appliance.ops.tickets
    Table("trouble_tickets", (
        Column("ticket_id", I, not_null=True), Column("tracking", T, not_null=True),
        Column("state", T, not_null=True, default="open"),  # open | date-tbd | closed
        Column("severity", I, not_null=True), Column("defect", T, not_null=True),  # material | minor | none
        Column("reporter", T, not_null=True), Column("summary", T, not_null=True), Column("description", T),
        Column("interface", T), Column("affected_users", J, default=[]),
        *_c("reported_ms detected_ms responded_ms"), Column("source", T),  # Date TBD: the problem's source
        Column("resolution_scheduled_ms", I), Column("resolution_plan", T),
        Column("disposition", T), Column("patch_date_ms", I), Column("notices", J, default=[]),
        Column("rca", J, default={}),  # root-cause report kind -> delivered ms (contract §10.3)
        Column("closed_ms", I), Column("created_by", T), *_c("created_ms modified_ms"),
    ), ("ticket_id",), (Index(("tracking",), unique=True, since=5), Index(("state",), since=5)), since=5),
)}
