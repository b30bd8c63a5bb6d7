"""NPAC SMS tunables: FRS Appendix C (seed L20752-23376) and the DECISIONS table.

`SPECS` is the one table (name, App. C variable, default, unit, valid range, seed line); the
`Tunables` dataclass takes its defaults from it, validates every value against its range and turns a
tunable into a time offset. The store persists them (`appliance.store.tunables`).
"""
from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Mapping


class Unit(StrEnum):
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    MONTHS = "months"
    COUNT = "count"


MS_PER = {Unit.SECONDS: 1_000, Unit.MINUTES: 60_000, Unit.HOURS: 3_600_000, Unit.DAYS: 86_400_000}


@dataclass(frozen=True)
class TunableSpec:
    name: str
    variable: str  # App. C variable name (seed spelling without its stray blanks)
    default: int
    unit: Unit
    low: int
    high: int
    cite: str


_T, _H, _D, _M, _MO, _N = TunableSpec, Unit.HOURS, Unit.DAYS, Unit.MINUTES, Unit.MONTHS, Unit.COUNT

SPECS: tuple[TunableSpec, ...] = (
    # Table 11-1 Subscription tunables
    _T("initial_concurrence_window", "SP_Initial_Concurrence_Window", 18, _H, 1, 72, "L20800 R5-21.3"),
    _T("final_concurrence_window", "SP_Final_Concurrence_Window", 18, _H, 1, 72, "L20856 R5-23.3"),
    _T("conflict_expiration_window", "SV_Conflict_Cancellation_Window", 30, _D, 1, 180, "L20912 R5-45.2"),
    _T("max_subscriber_query", "Max_Subscriber_Query", 50, _N, 10, 150, "L20968 R4-30.1"),
    _T("pending_retention", "Pending_SV_Cancellation", 90, _D, 1, 180, "L21024 RR5-1.3"),
    _T("conflict_resolution_initial_ack_window", "Conflict_Resolution_Initial_Ack_Window",
       4, _H, 1, 72, "L21106 RR5-17.3"),
    _T("conflict_resolution_final_ack_window", "Conflict_Resolution_Final_Ack_Window",
       4, _H, 1, 72, "L21162 RR5-18.3"),
    _T("cancellation_initial_ack_window", "Cancellation_Initial_Ack_Window", 4, _H, 1, 72, "L21218 RR5-32.3"),
    _T("cancellation_final_ack_window", "Cancellation_Final_Ack_Window", 4, _H, 1, 72, "L21274 RR5-33.3"),
    _T("old_retention", "Purge_Old_SV", 18, _MO, 1, 36, "L21330 R5-2.3"),
    _T("canceled_pending_retention", "Purge_Canceled_Pending_SV", 90, _D, 1, 360, "L21386 R5-3.3"),
    _T("canceled_conflict_retention", "Purge_Canceled_Conflict_SV", 30, _D, 1, 360, "L21468 R5-3.6"),
    _T("canceled_conflict_resolution_pending_retention", "Purge_Canceled_Conflict_Resolution_Pending_SV",
       30, _D, 1, 360, "L21524 R5-3.9"),
    _T("canceled_disconnect_pending_retention", "Purge_Canceled_Disconnect_Pending_SV",
       90, _D, 1, 360, "L21580 R5-3.12"),
    # Table 11-2 Communications tunables (retry attempts count resends after the first send: DECISIONS)
    _T("activation_retry_attempts", "Subscription_Version_Activation_Retry", 3, _N, 1, 10, "L21644 R5-60.5"),
    _T("activation_retry_interval", "Subscription_Version_Activation_Retry_Interval",
       2, _M, 1, 60, "L21700 R5-60.6"),
    _T("modification_retry_attempts", "Subscription_Version_Modification_Retry", 3, _N, 1, 10, "L21782"),
    _T("modification_retry_interval", "Subscription_Version_Modification_Retry_Interval",
       2, _M, 1, 60, "L21838"),
    _T("disconnect_retry_attempts", "Subscription_Version_Disconnect_Retry", 3, _N, 1, 10, "L21894 R5-68.2"),
    _T("disconnect_retry_interval", "Subscription_Version_Disconnect_Retry_Interval",
       2, _M, 1, 60, "L21950 R5-68.4"),
    _T("lsms_retry_attempts", "LSMS_Retry_Attempts", 3, _N, 1, 10, "L22006"),
    _T("lsms_retry_interval", "LSMS_Retry_Interval", 2, _M, 1, 60, "L22062"),
    _T("soa_retry_attempts", "SOA_Retry_Attempts", 3, _N, 1, 10, "L22118"),
    _T("soa_retry_interval", "SOA_Retry_Interval", 2, _M, 1, 60, "L22200"),
    # console users and logins (FRS §7, App. C L22256-22766). Record_Logons_After_Failure (L22678) is
    # not taken: every failed login is recorded anyway (R7-73.1). Failed_Login_Attempts starts at 1,
    # not App. C's 0: no allowed attempt at all would lock every user out at the first typo.
    _T("failed_login_attempts", "Failed_Login_Attempts", 3, _N, 1, 10, "L22260 R7-33.2"),
    _T("failed_login_shutdown_period", "Failed_Login_Shutdown_Period", 60, Unit.SECONDS, 0, 300, "L22316 R7-35.2"),
    _T("unused_user_id_disable_period", "Unused_User_Id_Disable_Period", 60, _D, 1, 360, "L22404 R7-5.4"),
    _T("password_age_limit", "Password_Age_Limit", 90, _D, 1, 360, "L22428 R7-23.2"),
    _T("password_expiration_notice", "Password_Expiration_Notice", 7, _D, 1, 30, "L22484 R7-24.2"),
    _T("post_expiration_logins", "Post_Expiration_Logins", 2, _N, 0, 10, "L22540"),
    _T("password_reuse_limit", "Password_Reuse_Limit", 6, _MO, 1, 36, "L22596 R7-25.2"),
    _T("non_use_disconnect", "Non_Use_Disconnect", 60, _M, 1, 1440, "L22734 R7-32.2"),
    # Table 11-3 Audit tunables
    _T("canceled_audit_retention", "Canceled_Audit_Retention_Period", 30, _D, 1, 360, "L22810"),
    _T("data_integrity_sample_size", "Data_Integrity_Sample_Size", 1000, _N, 1, 5000, "L22870"),
    # Table 11-4 Logs tunables; history is one year per R10-18 (DECISIONS), beyond App. C's 1-360 range
    _T("lsms_activation_log_retention", "Local_SMS_Activation_Log_Duration", 90, _D, 1, 360, "L22950 R5-58.4"),
    _T("audit_log_retention", "Audit_Log_Retention_Period", 90, _D, 1, 360, "L23032"),
    _T("error_log_retention", "Error_Log_Retention_Period", 90, _D, 1, 360, "L23088"),
    _T("history_retention", "History_File_Data_Storage", 365, _D, 1, 730, "L23144 R10-18 DECISIONS"),
    _T("usage_log_retention", "Usage_Log_Retention", 90, _D, 1, 360, "L23200"),
    # Table 11-5 Keys tunables
    _T("key_change_interval", "Key_Change_Interval", 7, _D, 1, 365, "L23280"),
    # IIS §3.5 request/confirmation timer: called tunable there, absent from App. C (DECISIONS)
    _T("request_timeout", "Request_Timeout", 2, _M, 1, 60, "IIS 3.5 DECISIONS"),
)

SPEC = {s.name: s for s in SPECS}
_DEFAULT = {s.name: s.default for s in SPECS}


@dataclass(frozen=True)
class Tunables:
    """Current values, in each tunable's own unit (see `SPEC[name].unit`)."""

    initial_concurrence_window: int = _DEFAULT["initial_concurrence_window"]
    final_concurrence_window: int = _DEFAULT["final_concurrence_window"]
    conflict_expiration_window: int = _DEFAULT["conflict_expiration_window"]
    max_subscriber_query: int = _DEFAULT["max_subscriber_query"]
    pending_retention: int = _DEFAULT["pending_retention"]
    conflict_resolution_initial_ack_window: int = _DEFAULT["conflict_resolution_initial_ack_window"]
    conflict_resolution_final_ack_window: int = _DEFAULT["conflict_resolution_final_ack_window"]
    cancellation_initial_ack_window: int = _DEFAULT["cancellation_initial_ack_window"]
    cancellation_final_ack_window: int = _DEFAULT["cancellation_final_ack_window"]
    old_retention: int = _DEFAULT["old_retention"]
    canceled_pending_retention: int = _DEFAULT["canceled_pending_retention"]
    canceled_conflict_retention: int = _DEFAULT["canceled_conflict_retention"]
    canceled_conflict_resolution_pending_retention: int = _DEFAULT["canceled_conflict_resolution_pending_retention"]
    canceled_disconnect_pending_retention: int = _DEFAULT["canceled_disconnect_pending_retention"]
    activation_retry_attempts: int = _DEFAULT["activation_retry_attempts"]
    activation_retry_interval: int = _DEFAULT["activation_retry_interval"]
    modification_retry_attempts: int = _DEFAULT["modification_retry_attempts"]
    modification_retry_interval: int = _DEFAULT["modification_retry_interval"]
    disconnect_retry_attempts: int = _DEFAULT["disconnect_retry_attempts"]
    disconnect_retry_interval: int = _DEFAULT["disconnect_retry_interval"]
    lsms_retry_attempts: int = _DEFAULT["lsms_retry_attempts"]
    lsms_retry_interval: int = _DEFAULT["lsms_retry_interval"]
    soa_retry_attempts: int = _DEFAULT["soa_retry_attempts"]
    soa_retry_interval: int = _DEFAULT["soa_retry_interval"]
    failed_login_attempts: int = _DEFAULT["failed_login_attempts"]
    failed_login_shutdown_period: int = _DEFAULT["failed_login_shutdown_period"]
    unused_user_id_disable_period: int = _DEFAULT["unused_user_id_disable_period"]
    password_age_limit: int = _DEFAULT["password_age_limit"]
    password_expiration_notice: int = _DEFAULT["password_expiration_notice"]
    post_expiration_logins: int = _DEFAULT["post_expiration_logins"]
    password_reuse_limit: int = _DEFAULT["password_reuse_limit"]
    non_use_disconnect: int = _DEFAULT["non_use_disconnect"]
    canceled_audit_retention: int = _DEFAULT["canceled_audit_retention"]
    data_integrity_sample_size: int = _DEFAULT["data_integrity_sample_size"]
    lsms_activation_log_retention: int = _DEFAULT["lsms_activation_log_retention"]
    audit_log_retention: int = _DEFAULT["audit_log_retention"]
    error_log_retention: int = _DEFAULT["error_log_retention"]
    history_retention: int = _DEFAULT["history_retention"]
    usage_log_retention: int = _DEFAULT["usage_log_retention"]
    key_change_interval: int = _DEFAULT["key_change_interval"]
    request_timeout: int = _DEFAULT["request_timeout"]

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            spec, value = SPEC[f.name], getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or not spec.low <= value <= spec.high:
                raise ValueError(f"tunable {f.name}={value!r} outside {spec.low}..{spec.high} {spec.unit}"
                                 f" ({spec.cite})")

    def after(self, name: str, base_ms: int) -> int:
        """`base_ms` plus the tunable `name` (a time window); months are calendar months in UTC."""
        unit, value = SPEC[name].unit, getattr(self, name)
        if unit is Unit.MONTHS:
            return add_months(base_ms, value)
        if unit not in MS_PER:
            raise ValueError(f"tunable {name} is a {unit}, not a time window")
        return base_ms + value * MS_PER[unit]

    def as_mapping(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Tunables":
        """Stored values over the defaults; a name this release does not know is refused."""
        unknown = sorted(set(values) - set(SPEC))
        if unknown:
            raise ValueError(f"unknown tunables: {', '.join(unknown)}")
        return cls(**dict(values))


def add_months(base_ms: int, months: int) -> int:
    """Calendar-month arithmetic (Purge_Old_SV is in months, L21330); the day clamps to month end."""
    seconds, millis = divmod(base_ms, 1000)
    t = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    month0 = t.month - 1 + months
    year, month = t.year + month0 // 12, month0 % 12 + 1
    day = min(t.day, calendar.monthrange(year, month)[1])
    return int(t.replace(year=year, month=month, day=day).timestamp()) * 1000 + millis
