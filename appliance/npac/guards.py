"""Guards of the subscription-version transitions: named predicates over (version, event, context),
each carrying the reply and requirement a refusal cites (SubscriptionVersionActionReply, L43xxx
ASN.1; R5-20.1 / R5-30.1 / R5-39.1: a refused request changes nothing)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Mapping

from appliance.npac.events import Actor, Requester, Side
from appliance.npac.fields import invalid_fields
from appliance.npac.model import (
    IN_FLIGHT, OPTIONAL_FIELDS, ROUTING_FIELDS, LnpType, Status, SubscriptionVersion,
)
from appliance.npac.tunables import MS_PER, Tunables, Unit

S = Status
V = SubscriptionVersion
DAY_MS = MS_PER[Unit.DAYS]


class Reply(StrEnum):
    """ASN.1 SubscriptionVersionActionReply values a refusal maps to."""

    FAILED = "failed"
    SOA_NOT_AUTHORIZED = "soa-not-authorized"
    NO_VERSION_FOUND = "no-version-found"
    INVALID_DATA_VALUES = "invalid-data-values"
    VERSION_CREATE_ALREADY_EXISTS = "version-create-already-exists"


@dataclass(frozen=True)
class Refusal:
    reply: Reply
    rule: str
    reason: str


class Refused(Exception):
    def __init__(self, refusal: Refusal):
        super().__init__(f"{refusal.rule}: {refusal.reason} ({refusal.reply})")
        self.refusal = refusal


class Role(StrEnum):
    NPAC = "npac"
    OLD_SP = "old-sp"
    NEW_SP = "new-sp"
    CURRENT_SP = "current-sp"  # the new SP of the active (or intra-SP) version
    INTERNAL = "internal"


def roles_of(v: V, by: Requester) -> frozenset[Role]:
    if by.actor is Actor.NPAC:
        return frozenset({Role.NPAC})
    if by.actor is Actor.INTERNAL:
        return frozenset({Role.INTERNAL})
    roles = set()
    if by.sp == v.old_sp:
        roles.add(Role.OLD_SP)
    if by.sp == v.new_sp:
        roles.update((Role.NEW_SP, Role.CURRENT_SP))
    return frozenset(roles)


@dataclass(frozen=True)
class Network:
    """The network data the create/modify guards consult (R5-18.4-18.6, R5-29.3, R5-38.2)."""

    providers: frozenset[str] = frozenset()
    lrn_owner: Mapping[str, str] = field(default_factory=dict)
    npa_nxx_owner: Mapping[str, str] = field(default_factory=dict)  # NPA-NXX -> donor SP
    npa_nxx_effective_ms: Mapping[str, int] = field(default_factory=dict)
    ported_npa_nxx: frozenset[str] = frozenset()  # NPA-NXX has been Ported (L9213)


@dataclass(frozen=True)
class Context:
    now_ms: int
    tunables: Tunables
    network: Network
    others: tuple[V, ...] = ()  # the TN's other versions
    next_version_id: int | None = None  # id for a version this step creates


@dataclass(frozen=True)
class Guard:
    name: str
    test: Callable[[V, Any, Context], bool]
    reply: Reply
    rule: str

    def refusal(self) -> Refusal:
        return Refusal(self.reply, self.rule, self.name)


def _others(ctx: Context, *statuses: Status) -> list[V]:
    return [o for o in ctx.others if o.status in statuses]


def _active(ctx: Context) -> V | None:
    return next(iter(_others(ctx, S.ACTIVE)), None)


def _day(ms: int) -> int:
    return ms // DAY_MS


# --- creation ---------------------------------------------------------------------------------

def _create_fields(ev: Any) -> dict[str, Any]:
    due = "new_sp_due_date_ms" if ev.side is Side.NEW else "old_sp_due_date_ms"
    values = {"tn": ev.tn, "old_sp": ev.old_sp, "new_sp": ev.new_sp, "lnp_type": ev.lnp_type,
              due: ev.due_date_ms, "porting_to_original": ev.porting_to_original, **ev.attrs}
    if ev.side is Side.OLD:
        values["old_sp_authorization"] = ev.authorization
    return values


def _create_valid(v: V, ev: Any, ctx: Context) -> bool:
    extra = set(ev.attrs) - set(ROUTING_FIELDS + OPTIONAL_FIELDS)
    if ev.side is Side.OLD and (ev.attrs or not isinstance(ev.authorization, bool)):
        return False  # R5-14: the old SP supplies no routing data, but must say yes or no
    return not extra and not invalid_fields(_create_fields(ev)) and all(
        x is not None for x in (ev.tn, ev.old_sp, ev.new_sp, ev.due_date_ms))


def _intra_consistent(v: V, ev: Any, ctx: Context) -> bool:
    """RR5-4 / RR5-6.2 / RR5-6.8: LISP means old = new = requester, on a TN already ported."""
    if (ev.lnp_type is LnpType.LISP) != (ev.old_sp == ev.new_sp):
        return False
    if ev.lnp_type is LnpType.LISP:
        return ev.side is Side.NEW and _active(ctx) is not None and ev.by.sp in (None, ev.new_sp)
    return True


def _pto_consistent(v: V, ev: Any, ctx: Context) -> bool:
    """R5-15.2, GDMO L36408: only for a ported TN, back to the donor, with no routing data."""
    if not ev.porting_to_original:
        return True
    return (ev.lnp_type is LnpType.LSPP and _active(ctx) is not None
            and ctx.network.npa_nxx_owner.get(ev.tn[:6]) == ev.new_sp
            and not any(ev.attrs.get(f) is not None for f in ROUTING_FIELDS))


def _npa_nxx_portable(v: V, ev: Any, ctx: Context) -> bool:
    # by day, as due dates are compared (R5-18.3): an NPA-NXX opening for porting at some time of the
    # due day is open that day; comparing instants refused a due date a second before it
    npa_nxx = ev.tn[:6]
    effective = ctx.network.npa_nxx_effective_ms.get(npa_nxx)
    return npa_nxx in ctx.network.npa_nxx_owner and (effective is None or _day(effective) <= _day(ev.due_date_ms))


def _lrn_of_new_sp(new_sp: str, values: Mapping[str, Any], ctx: Context) -> bool:
    lrn = values.get("lrn")
    return lrn is None or ctx.network.lrn_owner.get(lrn) == new_sp


def _old_sp_is_current(v: V, ev: Any, ctx: Context) -> bool:
    """R5-19; a TN never ported (or ported back, L11562) is served by its NPA-NXX's owner."""
    active = _active(ctx)
    current = active.new_sp if active is not None else ctx.network.npa_nxx_owner.get(ev.tn[:6])
    return current == ev.old_sp


def _side_missing(v: V, ev: Any, ctx: Context) -> bool:
    return v.new_sp_creation_ms is None if ev.side is Side.NEW else v.old_sp_authorization is None


def _same_port(v: V, ev: Any, ctx: Context) -> bool:
    return ((v.tn, v.old_sp, v.new_sp, v.lnp_type, v.porting_to_original)
            == (ev.tn, ev.old_sp, ev.new_sp, ev.lnp_type, ev.porting_to_original))


def _due_dates_match(v: V, ev: Any, ctx: Context) -> bool:
    other = v.old_sp_due_date_ms if ev.side is Side.NEW else v.new_sp_due_date_ms
    return other is None or _day(other) == _day(ev.due_date_ms)


NO_VERSION_IN_FLIGHT = Guard("no version of the TN in flight", lambda v, ev, ctx: not _others(ctx, *IN_FLIGHT),
                             Reply.FAILED, "RN5-1 L10556")
CREATE_FIELDS_VALID = Guard("fields valid", _create_valid, Reply.INVALID_DATA_VALUES, "R5-14 R5-18.1 L11768")
CREATE_DUE_DATE = Guard("due date today or later", lambda v, ev, ctx: _day(ev.due_date_ms) >= _day(ctx.now_ms),
                        Reply.INVALID_DATA_VALUES, "R5-18.3 RR5-6.3 L11870")
NPA_NXX_PORTABLE = Guard("NPA-NXX portable", _npa_nxx_portable, Reply.INVALID_DATA_VALUES, "R5-18.4 L11878")
SPS_EXIST = Guard("old and new SP exist",
                  lambda v, ev, ctx: {ev.old_sp, ev.new_sp} <= ctx.network.providers,
                  Reply.INVALID_DATA_VALUES, "R5-18.5 L11886")
CREATE_LRN = Guard("LRN belongs to new SP", lambda v, ev, ctx: _lrn_of_new_sp(ev.new_sp, ev.attrs, ctx),
                   Reply.INVALID_DATA_VALUES, "R5-18.6 RR5-6.5 L11900")
OLD_SP_IS_CURRENT = Guard("old SP is the SP serving the TN", _old_sp_is_current,
                          Reply.INVALID_DATA_VALUES, "R5-19 RR5-6.7 L11932")
INTRA_CONSISTENT = Guard("LISP iff old = new SP, on a ported TN", _intra_consistent,
                         Reply.INVALID_DATA_VALUES, "RR5-4 RR5-6.2 RR5-6.8 L12358")
PTO_CONSISTENT = Guard("porting to original: ported TN, donor, no routing", _pto_consistent,
                       Reply.INVALID_DATA_VALUES, "R5-15.2 L11694 GDMO L36408")
SIDE_NOT_YET_CREATED = Guard("this SP has not created yet", _side_missing,
                             Reply.VERSION_CREATE_ALREADY_EXISTS, "R5-18.8 L11916")
SAME_PORT = Guard("same TN and SPs as the version joined", _same_port, Reply.INVALID_DATA_VALUES,
                  "R5-18.9 L11924")
DUE_DATES_MATCH = Guard("old and new due dates equal", _due_dates_match, Reply.INVALID_DATA_VALUES,
                        "R5-18.2 L11862")
AUTHORIZES = Guard("authorization given", lambda v, ev, ctx: ev.authorization is True, Reply.FAILED,
                   "R5-21.6 L12032")
WITHHOLDS = Guard("authorization withheld", lambda v, ev, ctx: ev.authorization is False, Reply.FAILED,
                  "RR5-2.1 L12048")

CREATE_CHECKS = (CREATE_FIELDS_VALID, CREATE_DUE_DATE, SPS_EXIST, NPA_NXX_PORTABLE, CREATE_LRN,
                 INTRA_CONSISTENT, PTO_CONSISTENT)
NEW_VERSION_CHECKS = (NO_VERSION_IN_FLIGHT, *CREATE_CHECKS, OLD_SP_IS_CURRENT)
JOIN_CHECKS = (*CREATE_CHECKS, SAME_PORT, SIDE_NOT_YET_CREATED, DUE_DATES_MATCH)

# --- modification -----------------------------------------------------------------------------

_FIELDS_BY_ROLE = {  # R5-27.1-27.3, R5-28 (pending/conflict/CRP)
    Role.NEW_SP: frozenset(ROUTING_FIELDS + OPTIONAL_FIELDS + ("new_sp_due_date_ms",)),
    Role.OLD_SP: frozenset({"old_sp_due_date_ms", "old_sp_authorization"}),
}
_PTO_NEW_SP_FIELDS = frozenset({"new_sp_due_date_ms"})  # R5-27.2
_ACTIVE_FIELDS = frozenset(ROUTING_FIELDS + OPTIONAL_FIELDS)  # R5-36, R5-37


def _allowed_fields(v: V, by: Requester) -> frozenset[str]:
    if v.status is S.ACTIVE:
        return _ACTIVE_FIELDS
    roles = roles_of(v, by)
    if Role.NPAC in roles:
        roles = frozenset({Role.NEW_SP, Role.OLD_SP})
    allowed: set[str] = set()
    for role in roles & set(_FIELDS_BY_ROLE):
        fields = _FIELDS_BY_ROLE[role]
        allowed |= _PTO_NEW_SP_FIELDS if role is Role.NEW_SP and v.porting_to_original else fields
    return frozenset(allowed)


def _authorization(ev: Any) -> Any:
    return ev.changes.get("old_sp_authorization")


HAS_CHANGES = Guard("something to change", lambda v, ev, ctx: bool(ev.changes), Reply.INVALID_DATA_VALUES,
                    "R5-29.1 L12572")
MODIFY_FIELDS_VALID = Guard("fields valid", lambda v, ev, ctx: not invalid_fields(ev.changes),
                            Reply.INVALID_DATA_VALUES, "R5-29.1 R5-38.1 L12572")
MODIFY_FIELDS_ALLOWED = Guard("fields this requester may change",
                              lambda v, ev, ctx: set(ev.changes) <= _allowed_fields(v, ev.by),
                              Reply.SOA_NOT_AUTHORIZED, "R5-27.1-27.3 R5-36 R5-37 L12470")
MODIFY_DUE_DATE = Guard("due date today or later", lambda v, ev, ctx: all(
    _day(ev.changes[f]) >= _day(ctx.now_ms) for f in ("new_sp_due_date_ms", "old_sp_due_date_ms")
    if ev.changes.get(f) is not None), Reply.INVALID_DATA_VALUES, "R5-29.2 L12664")
MODIFY_LRN = Guard("LRN belongs to new SP", lambda v, ev, ctx: _lrn_of_new_sp(v.new_sp, ev.changes, ctx),
                   Reply.INVALID_DATA_VALUES, "R5-29.3 R5-38.2 L12672")
REVOKES = Guard("revokes authorization", lambda v, ev, ctx: _authorization(ev) is False, Reply.FAILED,
                "RR5-10.1 L12742")
GRANTS = Guard("gives authorization", lambda v, ev, ctx: _authorization(ev) is True, Reply.FAILED,
               "RR5-10.4 L12772")
KEEPS_AUTHORIZATION = Guard("does not revoke authorization", lambda v, ev, ctx: _authorization(ev) is not False,
                            Reply.FAILED, "R5-31.2 L12718")
NO_GRANT = Guard("does not give authorization", lambda v, ev, ctx: _authorization(ev) is not True,
                 Reply.FAILED, "R5-31.2 L12718")
NO_OTHER_IN_FLIGHT = Guard("no other version of the TN in flight", lambda v, ev, ctx: not _others(ctx, *IN_FLIGHT),
                           Reply.FAILED, "RN5-1 L10556")
MODIFY_CHECKS = (HAS_CHANGES, MODIFY_FIELDS_VALID, MODIFY_FIELDS_ALLOWED, MODIFY_DUE_DATE, MODIFY_LRN)

# --- activation, disconnect, resend -------------------------------------------------------------

CONCURRENCE_COMPLETE = Guard("new SP created and old SP authorized", lambda v, ev, ctx: v.concurrence_complete,
                             Reply.FAILED, "R5-53.1 L13441")
def _no_other(*statuses: Status) -> Callable[[V, Any, Context], bool]:
    return lambda v, ev, ctx: not _others(ctx, *statuses)


def _dates_valid(v: V, ev: Any, ctx: Context) -> bool:
    dates = {"customer_disconnect_date_ms": ev.customer_disconnect_date_ms,
             "effective_release_date_ms": ev.effective_release_date_ms}
    return ev.customer_disconnect_date_ms is not None and not invalid_fields(dates)


CDD_VALID = Guard("customer disconnect date given", _dates_valid, Reply.INVALID_DATA_VALUES, "RR5-23.1 L13758")
NOTHING_TO_CANCEL_FIRST = Guard(
    "no failed, cancel-pending, conflict or CR-pending version",
    _no_other(S.DOWNLOAD_FAILED, S.CANCEL_PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING),
    Reply.FAILED, "R5-64.1 L13804")
NOTHING_OUTSTANDING = Guard("no sending, failed or partially failed version",
                            _no_other(S.SENDING, S.DOWNLOAD_FAILED, S.DOWNLOAD_FAILED_PARTIAL),
                            Reply.FAILED, "R5-64.2 L13812")
IMMEDIATE = Guard("no effective release date", lambda v, ev, ctx: ev.effective_release_date_ms is None,
                  Reply.FAILED, "T23 L11052")
DEFERRED = Guard("effective release date given", lambda v, ev, ctx: ev.effective_release_date_ms is not None,
                 Reply.FAILED, "T24 L11072")
RELEASE_DATE_FUTURE = Guard("effective release date in the future",
                            lambda v, ev, ctx: (ev.effective_release_date_ms or 0) > ctx.now_ms,
                            Reply.INVALID_DATA_VALUES, "RR5-23.2 L13770")
NO_AUTHORIZED_PENDING = Guard("no authorized pending version", lambda v, ev, ctx: not any(
    p.old_sp_authorization is True for p in _others(ctx, S.PENDING)), Reply.FAILED, "R5-64.3 L13820")
NO_PENDING = Guard("no pending version", _no_other(S.PENDING), Reply.FAILED, "R5-64.4 L13828")
RESEND_LIST = Guard("resend list names failed LSMSs", lambda v, ev, ctx: bool(ev.lsms) and set(ev.lsms) <= set(
    v.failed_sp_list), Reply.INVALID_DATA_VALUES, "RR5-38.2 L14322")
UNAUTHORIZED = Guard("old SP has not authorized", lambda v, ev, ctx: v.old_sp_authorization is not True,
                     Reply.FAILED, "R5-64.5 L13836")

# --- acknowledgements and timers ---------------------------------------------------------------


def acks_after(v: V, ev: Any, prefix: str) -> tuple[bool, bool]:
    """(old, new) acknowledged once `ev` is counted; an intra-SP ack counts for both (RR5-15.2, RR5-28.2)."""
    counts_both = v.intra_sp
    old = getattr(v, f"old_sp_{prefix}_ms") is not None or counts_both or ev.side is Side.OLD
    new = getattr(v, f"new_sp_{prefix}_ms") is not None or counts_both or ev.side is Side.NEW
    return old, new


def _ack_side(v: V, ev: Any, ctx: Context) -> bool:
    roles = roles_of(v, ev.by)
    return (Role.OLD_SP if ev.side is Side.OLD else Role.NEW_SP) in roles


ACK_SIDE = Guard("acknowledger is that side's SP", _ack_side, Reply.SOA_NOT_AUTHORIZED, "RR5-30 RR5-31 RR5-13")
def _acks(prefix: str, complete: bool) -> Callable[[V, Any, Context], bool]:
    return lambda v, ev, ctx: all(acks_after(v, ev, prefix)) is complete


CANCEL_ACKS_COMPLETE = Guard("both SPs acknowledged", _acks("cancellation", True), Reply.FAILED, "RR5-28.1 L14165")
CANCEL_ACKS_INCOMPLETE = Guard("an SP has yet to acknowledge", _acks("cancellation", False), Reply.FAILED,
                               "RR5-30 L14203")
CR_ACKS_COMPLETE = Guard("both SPs acknowledged", _acks("conflict_resolution", True), Reply.FAILED,
                         "RR5-15.1 L13264")
CR_ACKS_INCOMPLETE = Guard("an SP has yet to acknowledge", _acks("conflict_resolution", False), Reply.FAILED,
                           "RR5-13.1 L13240")
AWAITING_CONCURRENCE = Guard("concurrence incomplete", lambda v, ev, ctx: not v.concurrence_complete,
                             Reply.FAILED, "R5-22 L12078")
NEW_SP_SILENT = Guard("new SP has not created", lambda v, ev, ctx: v.new_sp_creation_ms is None,
                      Reply.FAILED, "R5-23.4 L12110")
OLD_SP_SILENT = Guard("old SP has not authorized", lambda v, ev, ctx: v.new_sp_creation_ms is not None
                      and v.old_sp_authorization is not True, Reply.FAILED, "R5-23.5 L12118")

# --- broadcast outcome -------------------------------------------------------------------------


class Outcome(StrEnum):
    ALL_OK = "all-ok"
    SOME_FAILED = "some-failed"
    ALL_FAILED = "all-failed"


def tally(v: V, ev: Any) -> tuple[tuple[str, ...], tuple[str, ...], Outcome]:
    """(accepted, failed, outcome) over every LSMS of the broadcast, resends included (RR5-38.7)."""
    ok = set(v.broadcast_ok) | set(ev.succeeded)
    failed = (set(v.failed_sp_list) | set(ev.failed)) - ok
    outcome = Outcome.ALL_OK if not failed else Outcome.SOME_FAILED if ok else Outcome.ALL_FAILED
    return tuple(sorted(ok)), tuple(sorted(failed)), outcome


def outcome_is(*outcomes: Outcome) -> Guard:
    return Guard(f"outcome {'/'.join(outcomes)}", lambda v, ev, ctx: tally(v, ev)[2] in outcomes,
                 Reply.FAILED, "R5-60.9 R5-68.6")


def kind_is(*kinds: Any) -> Guard:
    return Guard(f"broadcast {'/'.join(kinds)}", lambda v, ev, ctx: v.broadcast_kind in kinds,
                 Reply.FAILED, "T16-T21")
