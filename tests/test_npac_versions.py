"""The subscription-version state machine: one test per FRS transition (§5.1.1.1, seed L10598-11098)
and per guard, named by transition number and seed line; a hypothesis state machine holding the
per-TN invariants (RN5-1, RN5-2) over random request sequences. `Port` (a fake-clock driver of one
TN) is shared with the timer and store tests."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from appliance.npac.effects import (
    AlertAdministrator, AnnounceNpaNxx, Broadcast, CancelTimer, Effect, Notification, Notify, NotifyDonor,
    Purge, StartTimer, StatusChanged,
)
from appliance.npac.events import (
    NPAC_PERSONNEL, Activate, BroadcastComplete, Cancel, CancelAck, ConflictResolutionAck, Create,
    Disconnect, Modify, RequestConflictResolution, Requester, Resend, SetConflict, Side, Superseded,
    TimerExpired,
)
from appliance.npac.guards import Context, Network, Refused, Reply
from appliance.npac.invariants import Violation, check_tn
from appliance.npac.model import (
    TERMINAL, BroadcastKind, BroadcastOp, LnpType, Status, SubscriptionVersion,
)
from appliance.npac.timers import Timer, TimerKind, schedule
from appliance.npac.tunables import Tunables
from appliance.npac.versions import TABLE, describe, step, step_tn, transitions

S = Status
H = 3_600_000
D = 24 * H
T0 = 1_767_268_800_000  # 2026-01-01T12:00:00Z
OLD, NEW, THIRD = "0001", "0002", "0003"
TN = "3125551234"
LRN_OLD, LRN_NEW, LRN_THIRD = "3125550001", "3125550002", "3125550003"
LSMS = (OLD, NEW, THIRD)
NET = Network(
    providers=frozenset(LSMS),
    lrn_owner={LRN_OLD: OLD, LRN_NEW: NEW, LRN_THIRD: THIRD},
    npa_nxx_owner={"312555": OLD},
)
LRN_OF = {OLD: LRN_OLD, NEW: LRN_NEW, THIRD: LRN_THIRD}


def soa(sp: str) -> Requester:
    return Requester.soa(sp)


def new_create(old: str = OLD, new: str = NEW, due: int = T0 + D, by: Requester | None = None,
               lnp_type: LnpType = LnpType.LSPP, pto: bool = False, **attrs: Any) -> Create:
    routing = {} if pto else {"lrn": LRN_OF[new]}
    return Create(Side.NEW, by or soa(new), TN, old, new, due, lnp_type=lnp_type, porting_to_original=pto,
                  attrs={**routing, **attrs})


def old_create(authorization: bool, old: str = OLD, new: str = NEW, due: int = T0 + D,
               by: Requester | None = None, pto: bool = False) -> Create:
    return Create(Side.OLD, by or soa(old), TN, old, new, due, authorization=authorization, porting_to_original=pto)


@dataclass
class Port:
    """One TN's versions driven through `step_tn` with a fake clock; checks the per-TN invariants
    and keeps the timers exactly as the effects say."""

    now: int = T0
    tunables: Tunables = field(default_factory=Tunables)
    network: Network = NET
    versions: tuple[SubscriptionVersion, ...] = ()
    next_id: int = 1
    effects: tuple[Effect, ...] = ()
    timers: dict[tuple[str, int, str], Timer] = field(default_factory=dict)

    def ctx(self) -> Context:
        return Context(self.now, self.tunables, self.network, next_version_id=self.next_id)

    def do(self, event: Any, version_id: int | None = None, at: int | None = None) -> tuple[Effect, ...]:
        if at is not None:
            self.now = at
        self.versions, self.effects = step_tn(self.versions, event, self.ctx(), version_id)
        if any(v.version_id == self.next_id for v in self.versions):
            self.next_id += 1
        for effect in self.effects:
            if isinstance(effect, StartTimer):
                self.timers[effect.timer.key] = effect.timer
            elif isinstance(effect, CancelTimer):
                self.timers.pop(effect.timer.key, None)
            elif isinstance(effect, Purge):
                self.versions = tuple(v for v in self.versions if v.version_id != effect.version_id)
                self.timers = {k: t for k, t in self.timers.items() if t.version_id != effect.version_id}
        assert check_tn(self.versions) == ()
        return self.effects

    def v(self, version_id: int = 1) -> SubscriptionVersion:
        return next(v for v in self.versions if v.version_id == version_id)

    def status(self, version_id: int = 1) -> Status:
        return self.v(version_id).status

    def timer(self, kind: TimerKind, version_id: int = 1) -> Timer:
        return next(t for t in schedule(self.v(version_id), self.tunables) if t.kind is kind)

    def expire(self, kind: TimerKind, version_id: int = 1) -> tuple[Effect, ...]:
        """Let the clock reach the timer and fire it."""
        return self.do(TimerExpired(kind), version_id, at=self.timer(kind, version_id).due_ms)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.effects if isinstance(e, kind)]


def pending(authorized: bool = True) -> Port:
    """v1 pending: new SP created; with the old SP's authorization unless `authorized` is False."""
    port = Port()
    port.do(new_create())
    if authorized:
        port.do(old_create(True), at=T0 + H)
    return port


def active() -> Port:
    """v1 active: OLD -> NEW ported, every LSMS took it."""
    port = pending()
    port.do(Activate(soa(NEW)), at=T0 + D)
    port.do(BroadcastComplete(LSMS, ()), at=T0 + D + 60_000)
    return port


def conflict() -> Port:
    """v1 conflict: the old SP created without authorization (T11)."""
    port = Port()
    port.do(old_create(False))
    return port


def refused(port: Port, event: Any, version_id: int | None = None) -> Refused:
    before = port.versions
    with pytest.raises(Refused) as caught:
        port.do(event, version_id)
    assert port.versions == before  # R5-20.2, R5-30.2, R5-39.2: a refused request changes nothing
    return caught.value


def notices(port: Port, notification: Notification) -> list[Notify]:
    return [n for n in port.of(Notify) if n.notification is notification]


def moved(port: Port) -> list[tuple[int, Status | None, Status, str]]:
    return [(e.version_id, e.before, e.after, e.transition) for e in port.of(StatusChanged)]


def second_port() -> Port:
    """v1 active OLD -> NEW; v2 pending NEW -> THIRD with both creates."""
    port = active()
    port.do(new_create(old=NEW, new=THIRD, due=T0 + 3 * D), at=T0 + 2 * D)
    port.do(old_create(True, old=NEW, new=THIRD, due=T0 + 3 * D))
    return port


# --- the table --------------------------------------------------------------------------------

def test_table_holds_all_25_frs_transitions_L10598():
    numbers = {int(re.match(r"\d+", r.number).group()) for r in transitions()}
    assert numbers == set(range(1, 26))
    assert len(describe()) == len(transitions())
    for r in TABLE:  # every rule cites the seed or a requirement
        assert r.cite and (r.number or r.target is None)


def test_every_rule_source_and_target_are_statuses_of_the_enum():
    for r in TABLE:
        assert r.source is None or r.source in Status
        assert r.target is None or r.target in Status
        assert r.source not in TERMINAL or r.target is None  # RN5-3: old and canceled never move


# --- transitions 1-25 ---------------------------------------------------------------------------

def test_t01_conflict_expires_to_canceled_after_30_days_L10610():
    port = conflict()
    assert port.timer(TimerKind.CONFLICT_EXPIRATION).due_ms == T0 + 30 * D
    port.expire(TimerKind.CONFLICT_EXPIRATION)
    v = port.v()
    assert (v.status, v.cancellation_ms, v.pre_cancellation_status) == (S.CANCELED, T0 + 30 * D, S.CONFLICT)
    assert moved(port) == [(1, S.CONFLICT, S.CANCELED, "1")]
    assert notices(port, Notification.STATUS_CHANGE)[0].recipients == (OLD, NEW)  # R5-45.6


@pytest.mark.parametrize("by", [NPAC_PERSONNEL, soa(OLD), soa(NEW)])
def test_t02_conflict_cancel_to_cancel_pending_L10622(by):
    port = conflict()
    port.do(Cancel(by), at=T0 + H)
    v = port.v()
    assert (v.status, v.pre_cancellation_status, v.cancel_pending_ms) == (S.CANCEL_PENDING, S.CONFLICT, T0 + H)


def cancel_pending() -> Port:
    port = pending()
    port.do(Cancel(soa(NEW)), at=T0 + 2 * H)
    return port


def test_t03a_gui_sets_cancel_pending_to_conflict_L10650():
    port = cancel_pending()
    port.do(SetConflict(NPAC_PERSONNEL))
    assert port.status() is S.CONFLICT and moved(port)[0][3] == "3A"
    assert refused(cancel_pending(), SetConflict(soa(NEW))).refusal.reply is Reply.SOA_NOT_AUTHORIZED  # R5-10.1


def test_t03b_unacknowledged_cancellation_goes_to_conflict_after_4h_plus_4h_L10654():
    port = cancel_pending()
    port.do(CancelAck(Side.OLD, soa(OLD)), at=T0 + 3 * H)
    port.expire(TimerKind.CANCELLATION_INITIAL)  # RR5-34: second notice to the silent SP only
    assert port.now == T0 + 6 * H
    [ask] = notices(port, Notification.CANCELLATION_ACK_REQUEST)
    assert ask.recipients == (NEW,) and port.status() is S.CANCEL_PENDING
    port.expire(TimerKind.CANCELLATION_FINAL)  # RR5-35
    assert port.now == T0 + 10 * H and port.status() is S.CONFLICT and moved(port)[0][3] == "3B"


def crp() -> Port:
    port = conflict()
    port.do(RequestConflictResolution(NPAC_PERSONNEL), at=T0 + H)
    return port


def test_t04_conflict_resolution_pending_cancel_to_cancel_pending_L10668():
    port = crp()
    port.do(Cancel(soa(OLD)))
    assert (port.status(), port.v().pre_cancellation_status) == (S.CANCEL_PENDING, S.CONFLICT_RESOLUTION_PENDING)


@pytest.mark.parametrize("by, number", [(NPAC_PERSONNEL, "5"), (soa(NEW), "5")])
def test_t05ab_conflict_to_conflict_resolution_pending_by_gui_or_new_sp_L10688(by, number):
    port = conflict()
    port.do(RequestConflictResolution(by), at=T0 + H)
    assert port.status() is S.CONFLICT_RESOLUTION_PENDING and moved(port)[0][3] == number
    assert port.v().conflict_resolution_pending_ms == T0 + H


def test_t05_old_sp_may_not_request_conflict_resolution_R5_46():
    assert refused(conflict(), RequestConflictResolution(soa(OLD))).refusal.reply is Reply.SOA_NOT_AUTHORIZED


def test_t05c_old_sp_modify_giving_authorization_to_crp_L10712():
    port = conflict()
    port.do(Modify(soa(OLD), {"old_sp_authorization": True}), at=T0 + H)
    v = port.v()
    assert (v.status, v.old_sp_authorization, v.old_sp_authorization_ms) == (S.CONFLICT_RESOLUTION_PENDING, True, T0 + H)
    assert moved(port)[0][3] == "5C"


def test_t06a_gui_sets_crp_to_conflict_L10724():
    port = crp()
    port.do(SetConflict(NPAC_PERSONNEL), at=T0 + 2 * H)
    assert port.status() is S.CONFLICT and port.v().conflict_ms == T0 + 2 * H


def test_t06b_unacknowledged_conflict_resolution_goes_to_conflict_L10732_DECISIONS():
    port = crp()
    port.do(ConflictResolutionAck(Side.NEW, soa(NEW)), at=T0 + 2 * H)
    port.expire(TimerKind.CONFLICT_RESOLUTION_INITIAL)  # RR5-17.4
    assert port.now == T0 + 5 * H
    assert notices(port, Notification.CONFLICT_RESOLUTION_ACK_REQUEST)[0].recipients == (OLD,)
    port.expire(TimerKind.CONFLICT_RESOLUTION_FINAL)  # RR5-19: conflict, not cancel-pending (GDMO L36526)
    assert port.now == T0 + 9 * H and port.status() is S.CONFLICT and moved(port)[0][3] == "6B"


def test_t06c_old_sp_revoking_in_crp_to_conflict_L10740():
    port = crp()
    port.do(Modify(soa(OLD), {"old_sp_authorization": False}))
    assert port.status() is S.CONFLICT and moved(port)[0][3] == "6C"


def test_t07a1_gui_sets_pending_to_conflict_L10752():
    port = pending()
    port.do(SetConflict(NPAC_PERSONNEL), at=T0 + 2 * H)
    v = port.v()
    assert (v.status, v.conflict_ms, v.authorization_before_conflict) == (S.CONFLICT, T0 + 2 * H, True)


def test_t07a2_gui_creates_old_sp_version_without_authorization_on_pending_L10762():
    port = pending(authorized=False)
    port.do(old_create(False, by=NPAC_PERSONNEL))
    assert port.status() is S.CONFLICT and moved(port)[0][3] == "7A2"


def test_t07b_old_sp_silent_through_t1_and_t2_goes_to_conflict_L10770():
    port = pending(authorized=False)
    port.expire(TimerKind.INITIAL_CONCURRENCE)  # R5-22: concurrence request to the old SP
    assert port.now == T0 + 18 * H
    assert notices(port, Notification.OLD_SP_CONCURRENCE_REQUEST)[0].recipients == (OLD,)
    port.expire(TimerKind.FINAL_CONCURRENCE)  # R5-23.5
    assert port.now == T0 + 36 * H and port.status() is S.CONFLICT and moved(port)[0][3] == "7B"


def test_t07c1_old_sp_create_without_authorization_on_pending_L10778():
    port = pending(authorized=False)
    port.do(old_create(False))
    assert port.status() is S.CONFLICT and moved(port)[0][3] == "7C1"
    assert notices(port, Notification.STATUS_CHANGE)[0].recipients == (OLD, NEW)  # RR5-2.3


def test_t07c2_immediate_disconnect_puts_unauthorized_pending_in_conflict_L10782():
    port = active()
    port.do(new_create(old=NEW, new=THIRD, due=T0 + 3 * D), at=T0 + 2 * D)
    port.do(Disconnect(soa(NEW), T0 + 2 * D), version_id=1)
    assert (port.status(1), port.status(2)) == (S.SENDING, S.CONFLICT)  # R5-64.5, R5-64.6
    assert (2, S.PENDING, S.CONFLICT, "7C2") in moved(port)


def test_t07_old_sp_modify_revoking_authorization_on_pending_RR5_10_1():
    port = pending()
    port.do(Modify(soa(OLD), {"old_sp_authorization": False}), at=T0 + 2 * H)
    v = port.v()
    assert (v.status, v.conflict_ms, v.old_sp_authorization) == (S.CONFLICT, T0 + 2 * H, False)


def test_t08_both_conflict_resolution_acks_return_to_pending_L10786():
    port = pending()
    port.do(Modify(soa(OLD), {"old_sp_authorization": False}))  # conflict; authorization before it: True
    port.do(RequestConflictResolution(soa(NEW)))
    port.do(ConflictResolutionAck(Side.OLD, soa(OLD)), at=T0 + 3 * H)
    assert port.status() is S.CONFLICT_RESOLUTION_PENDING
    assert port.v().old_sp_authorization is True  # RR5-13.2: restored to its value before the conflict
    port.do(ConflictResolutionAck(Side.NEW, soa(NEW)), at=T0 + 4 * H)
    v = port.v()
    assert (v.status, v.old_sp_conflict_resolution_ms, v.new_sp_conflict_resolution_ms) == (
        S.PENDING, T0 + 3 * H, T0 + 4 * H)
    port.do(Activate(soa(NEW)))
    assert port.status() is S.SENDING


def test_t08_after_t11_conflict_old_sp_must_still_concur_RR5_13_2():
    port = conflict()
    port.do(new_create(), at=T0 + H)  # the new SP's create joins the conflict version (R5-20.4)
    port.do(RequestConflictResolution(NPAC_PERSONNEL))
    port.do(ConflictResolutionAck(Side.OLD, soa(OLD)))
    port.do(ConflictResolutionAck(Side.NEW, soa(NEW)))
    assert port.status() is S.PENDING and port.v().old_sp_authorization is None
    assert refused(port, Activate(soa(NEW))).refusal.rule.startswith("R5-53.1")
    assert port.timer(TimerKind.INITIAL_CONCURRENCE).due_ms == port.now + 18 * H  # concurrence restarts


@pytest.mark.parametrize("by", [NPAC_PERSONNEL, soa(OLD), soa(NEW)])
def test_t09ab_pending_cancel_to_cancel_pending_L10798(by):
    port = pending()
    port.do(Cancel(by))
    assert (port.status(), port.v().pre_cancellation_status) == (S.CANCEL_PENDING, S.PENDING)
    assert notices(port, Notification.STATUS_CHANGE)[0].recipients == (OLD, NEW)  # RR5-26.1


def test_t09c1_new_sp_silent_through_t1_and_t2_goes_to_cancel_pending_L10822():
    port = Port()
    port.do(old_create(True))
    port.expire(TimerKind.INITIAL_CONCURRENCE)
    assert notices(port, Notification.NEW_SP_CREATE_REQUEST)[0].recipients == (NEW,)
    port.expire(TimerKind.FINAL_CONCURRENCE)  # R5-23.4
    assert port.now == T0 + 36 * H and port.status() is S.CANCEL_PENDING and moved(port)[0][3] == "9C1"


def test_t09c2_pending_expires_90_days_after_the_later_due_date_L10826():
    port = pending()
    port.do(Modify(soa(NEW), {"new_sp_due_date_ms": T0 + 5 * D}))
    assert port.timer(TimerKind.PENDING_EXPIRATION).due_ms == T0 + 95 * D  # RR5-1.4: the later due date
    port.expire(TimerKind.PENDING_EXPIRATION)
    assert port.status() is S.CANCEL_PENDING and moved(port)[0][3] == "9C2"


def test_t10_both_cancellation_acks_cancel_including_the_canceller_L10830():
    port = cancel_pending()
    port.do(CancelAck(Side.NEW, soa(NEW)), at=T0 + 3 * H)
    assert port.status() is S.CANCEL_PENDING  # flow 6.4.5: the SP that cancelled acknowledges too
    port.do(CancelAck(Side.OLD, soa(OLD)), at=T0 + 4 * H)
    v = port.v()
    assert (v.status, v.cancellation_ms, v.old_sp_cancellation_ms, v.new_sp_cancellation_ms) == (
        S.CANCELED, T0 + 4 * H, T0 + 4 * H, T0 + 3 * H)
    assert notices(port, Notification.STATUS_CHANGE)[0].recipients == (OLD, NEW)  # RR5-29.1


@pytest.mark.parametrize("by", [NPAC_PERSONNEL, soa(OLD)])
def test_t11_old_sp_create_without_authorization_goes_to_conflict_L10848(by):
    port = Port()
    port.do(old_create(False, by=by))
    v = port.v()
    assert (v.status, v.conflict_ms) == (S.CONFLICT, T0)  # RR5-2.1, RR5-2.2
    assert moved(port) == [(1, None, S.CONFLICT, "11")]
    assert notices(port, Notification.OBJECT_CREATION)[0].recipients == (OLD, NEW)  # RR5-2.3


def test_t12_new_sp_first_create_goes_to_pending_L10868_DECISIONS():
    port = Port()
    port.do(new_create())
    v = port.v()
    assert (v.status, v.new_sp_creation_ms, v.creation_ms, v.billing_id) == (S.PENDING, T0, T0, NEW)
    assert notices(port, Notification.OBJECT_CREATION)[0].recipients == (OLD, NEW)  # R5-21.7, GDMO L36416
    port.do(old_create(True), at=T0 + H)  # R5-20.4: joins, no second version
    assert len(port.versions) == 1 and port.v().concurrence_complete
    assert notices(port, Notification.ATTRIBUTE_VALUE_CHANGE)


def test_t12_old_sp_first_create_with_authorization_goes_to_pending_L10868():
    port = Port()
    port.do(old_create(True, by=NPAC_PERSONNEL))
    assert port.status() is S.PENDING and moved(port)[0][3] == "12"
    port.do(new_create(), at=T0 + H)
    assert port.v().concurrence_complete and TimerKind.INITIAL_CONCURRENCE not in {
        t.kind for t in port.timers.values()}


def disconnect_pending() -> Port:
    port = active()
    port.do(Disconnect(soa(NEW), T0 + 2 * D, effective_release_date_ms=T0 + 5 * D), at=T0 + 2 * D)
    return port


def test_t13_disconnect_pending_cancel_to_cancel_pending_L10888():
    port = disconnect_pending()
    port.do(Cancel(soa(NEW)))
    assert (port.status(), port.v().pre_cancellation_status) == (S.CANCEL_PENDING, S.DISCONNECT_PENDING)


def test_t14_release_date_reached_sends_the_disconnect_L10908():
    port = disconnect_pending()
    assert port.timer(TimerKind.DEFERRED_DISCONNECT).due_ms == T0 + 5 * D
    port.expire(TimerKind.DEFERRED_DISCONNECT)
    assert port.status() is S.SENDING and port.v().broadcast_kind is BroadcastKind.DISCONNECT
    kinds = [type(e) for e in port.effects if isinstance(e, (NotifyDonor, Broadcast))]
    assert kinds == [NotifyDonor, Broadcast]  # RR5-25.2: donor told just before the broadcast
    assert port.of(Broadcast)[0].operation is BroadcastOp.DELETE


def test_t15_activate_pending_to_sending_L10920():
    port = pending()
    port.do(Activate(soa(NEW)), at=T0 + D)
    v = port.v()
    assert (v.status, v.activation_request_ms, v.broadcast_ms) == (S.SENDING, T0 + D, T0 + D)  # RR5-22, R5-57.3
    assert port.of(Broadcast) == [Broadcast(1, BroadcastOp.CREATE, None)]  # R5-55: every LSMS
    assert port.of(AnnounceNpaNxx) == [AnnounceNpaNxx(1, "312555")]  # RR5-3: first port in the NPA-NXX
    assert not port.timers  # no concurrence or pending expiry while sending


@pytest.mark.parametrize("kind", ["activate", "disconnect", "modify"])
def test_t16_every_lsms_fails_to_failed_L10940(kind):
    port = pending() if kind == "activate" else active()
    if kind == "activate":
        port.do(Activate(soa(NEW)))
    elif kind == "disconnect":
        port.do(Disconnect(soa(NEW), T0 + 2 * D))
    else:
        port.do(Modify(soa(NEW), {"lrn": LRN_NEW, "class_dpc": "001002003"}))
    target = port.versions[-1].version_id
    port.do(BroadcastComplete((), LSMS), version_id=target)
    assert port.status(target) is S.DOWNLOAD_FAILED and port.v(target).failed_sp_list == LSMS
    assert port.of(AlertAdministrator)[0].lsms == LSMS  # R5-61.2, R5-67.2
    assert notices(port, Notification.STATUS_CHANGE)[0].failed_sps == LSMS  # RR5-22.1
    if kind == "modify":
        assert port.status(1) is S.ACTIVE  # nothing took the modification: the old routing stays


def failed_activation(succeeded: tuple[str, ...] = ()) -> Port:
    port = pending()
    port.do(Activate(soa(NEW)))
    port.do(BroadcastComplete(succeeded, tuple(x for x in LSMS if x not in succeeded)))
    return port


def test_t17_resend_failed_to_sending_L10958():
    port = failed_activation()
    port.do(Resend(NPAC_PERSONNEL, (THIRD,)), at=T0 + D)
    assert port.status() is S.SENDING
    assert port.of(Broadcast) == [Broadcast(1, BroadcastOp.CREATE, (THIRD,))]  # RR5-38.4
    port.do(BroadcastComplete((THIRD,), ()))
    assert port.status() is S.DOWNLOAD_FAILED_PARTIAL and port.v().failed_sp_list == (OLD, NEW)


def test_t18_resend_partial_failure_to_sending_L10970():
    port = failed_activation(succeeded=(OLD,))
    port.do(Resend(NPAC_PERSONNEL, (NEW, THIRD)))
    assert port.status() is S.SENDING
    port.do(BroadcastComplete((NEW, THIRD), ()))
    assert port.status() is S.ACTIVE and port.v().failed_sp_list == ()  # RR5-38.7: then as activation


def test_t19_some_lsms_fail_to_partial_failure_and_previous_active_becomes_old_L10982():
    port = second_port()
    port.do(Activate(soa(THIRD)), at=T0 + 3 * D)
    port.do(BroadcastComplete((OLD,), (NEW, THIRD)))
    assert (port.status(1), port.status(2)) == (S.OLD, S.DOWNLOAD_FAILED_PARTIAL)  # R5-60.11, R5-60.12
    assert port.v(2).failed_sp_list == (NEW, THIRD)
    assert [m[3] for m in moved(port)] == ["19", "22"]


def test_t20_disconnect_completes_at_every_lsms_to_old_L10994():
    port = active()
    port.do(Disconnect(soa(NEW), T0 + 2 * D), at=T0 + 2 * D)
    port.do(BroadcastComplete(LSMS, ()), at=T0 + 2 * D + 1000)
    v = port.v()
    assert (v.status, v.old_ms, v.disconnect_complete_ms) == (S.OLD, T0 + 2 * D + 1000, T0 + 2 * D + 1000)  # R5-66
    assert moved(port)[0][3] == "20"


def test_t20_porting_to_original_completes_to_old_with_the_previous_active_L11002():
    port = active()
    port.do(new_create(old=NEW, new=OLD, due=T0 + 3 * D, pto=True), at=T0 + 2 * D)
    port.do(old_create(True, old=NEW, new=OLD, due=T0 + 3 * D, pto=True))
    port.do(Activate(soa(OLD)))
    assert port.of(Broadcast)[0].operation is BroadcastOp.DELETE  # RR5-21
    port.do(BroadcastComplete(LSMS, ()))
    assert (port.status(1), port.status(2)) == (S.OLD, S.OLD)
    assert [m[3] for m in moved(port)] == ["20", "22"]


def test_t21a_activation_at_every_lsms_to_active_L11014():
    port = pending()
    port.do(Activate(soa(NEW)), at=T0 + D)
    port.do(BroadcastComplete(LSMS, ()), at=T0 + D + 500)
    v = port.v()
    assert (v.status, v.activation_ms) == (S.ACTIVE, T0 + D + 500)  # R5-51.2
    assert moved(port)[0][3] == "21A"


def test_t21b_modification_taken_by_any_lsms_is_active_L11022_DECISIONS():
    port = active()
    port.do(Modify(soa(NEW), {"lrn": LRN_NEW, "cnam_dpc": "010020030", "cnam_ssn": 7}), at=T0 + 2 * D)
    port.do(BroadcastComplete((OLD,), (NEW, THIRD)))
    assert (port.status(1), port.status(2)) == (S.OLD, S.ACTIVE)
    assert port.v(2).failed_sp_list == (NEW, THIRD) and port.v(2).cnam_ssn == 7
    [told] = [n for n in notices(port, Notification.STATUS_CHANGE) if n.version_id == 2]
    assert told.failed_sps == (NEW, THIRD)  # RR5-22.1
    assert [m[3] for m in moved(port)] == ["21B", "22"]


def test_t22_previous_active_becomes_old_when_the_new_one_activates_L11026():
    port = second_port()
    port.do(Activate(soa(THIRD)), at=T0 + 3 * D)
    port.do(BroadcastComplete(LSMS, ()))
    assert (port.status(1), port.status(2)) == (S.OLD, S.ACTIVE)
    assert port.v(1).old_ms == port.now  # GDMO L36352
    assert refused(port, Superseded(), version_id=1).refusal.reply is Reply.FAILED  # old never moves again


def test_t23_immediate_disconnect_to_sending_L11038():
    port = active()
    port.do(Disconnect(NPAC_PERSONNEL, T0 + 2 * D), at=T0 + 2 * D)
    v = port.v()
    assert (v.status, v.customer_disconnect_date_ms, v.disconnect_request_ms) == (S.SENDING, T0 + 2 * D, T0 + 2 * D)
    assert port.of(NotifyDonor) == [NotifyDonor(1, TN, T0 + 2 * D, None)]
    assert port.of(Broadcast) == [Broadcast(1, BroadcastOp.DELETE, None)]


def test_t24_deferred_disconnect_to_disconnect_pending_L11064():
    port = disconnect_pending()
    v = port.v()
    assert (v.status, v.effective_release_date_ms) == (S.DISCONNECT_PENDING, T0 + 5 * D)  # RR5-24
    assert not port.of(Broadcast) and moved(port)[0][3] == "24"


def test_t25_modify_active_creates_a_new_version_in_sending_L11084():
    port = active()
    port.do(Modify(soa(NEW), {"lrn": LRN_NEW, "lidb_dpc": "100200255"}), at=T0 + 2 * D)
    assert [v.version_id for v in port.versions] == [1, 2]
    old, new = port.v(1), port.v(2)
    assert (old.status, new.status, new.modifies_version_id) == (S.ACTIVE, S.SENDING, 1)  # R5-34
    assert (new.lidb_dpc, new.broadcast_ms, new.modify_request_ms) == ("100200255", T0 + 2 * D, T0 + 2 * D)  # R5-40.1
    assert port.of(Broadcast) == [Broadcast(2, BroadcastOp.MODIFY, None)]  # R5-41: at once
    assert moved(port) == [(2, None, S.SENDING, "25")]


# --- guards -------------------------------------------------------------------------------------

def test_guard_R5_10_2_conflict_cannot_be_activated():
    assert refused(conflict(), Activate(soa(NEW)), version_id=1).refusal.rule.startswith("R5-52")


def test_guard_R5_53_1_activation_needs_the_new_sp_create_and_the_old_sp_authorization():
    port = pending(authorized=False)
    assert refused(port, Activate(soa(NEW))).refusal.rule.startswith("R5-53.1")
    port = Port()
    port.do(old_create(True))
    assert refused(port, Activate(NPAC_PERSONNEL)).refusal.rule.startswith("R5-53.1")


def test_guard_R5_51_1_only_the_new_sp_or_npac_activates():
    assert refused(pending(), Activate(soa(OLD))).refusal.reply is Reply.SOA_NOT_AUTHORIZED


def _sending() -> Port:
    port = pending()
    port.do(Activate(soa(NEW)))
    return port


def _old() -> Port:
    port = active()
    port.do(Disconnect(soa(NEW), T0))
    port.do(BroadcastComplete(LSMS, ()))
    return port


def _canceled() -> Port:
    port = conflict()
    port.expire(TimerKind.CONFLICT_EXPIRATION)
    return port


@pytest.mark.parametrize("make", [_sending, failed_activation, lambda: failed_activation(succeeded=(OLD,)),
                                  cancel_pending, _old, _canceled, disconnect_pending],
                         ids=["sending", "failed", "partial", "cancel-pending", "old", "canceled", "disconnect-pending"])
def test_guard_R5_25_modify_refused_outside_pending_conflict_crp_active(make):
    port = make()
    assert refused(port, Modify(NPAC_PERSONNEL, {"lrn": LRN_NEW}), version_id=1).refusal.rule.startswith("R5-25")


@pytest.mark.parametrize("by, changes, ok", [
    (soa(OLD), {"old_sp_due_date_ms": T0 + 2 * D}, True),  # R5-27.3
    (soa(OLD), {"lrn": LRN_NEW}, False),
    (soa(NEW), {"old_sp_authorization": True}, False),  # R5-27.1: not the new SP's to give
    (soa(NEW), {"lrn": LRN_NEW, "isvm_ssn": 9, "billing_id": "0002", "new_sp_due_date_ms": T0 + 2 * D}, True),
    (soa(THIRD), {"new_sp_due_date_ms": T0 + 2 * D}, False),  # R5-29.4
    (NPAC_PERSONNEL, {"old_sp_due_date_ms": T0 + 2 * D, "lrn": LRN_NEW}, True),
])
def test_guard_R5_27_who_may_modify_which_fields_of_a_pending_version(by, changes, ok):
    port = pending()
    if ok:
        port.do(Modify(by, changes))
        assert port.status() is S.PENDING and all(getattr(port.v(), k) == v for k, v in changes.items())
    else:
        assert refused(port, Modify(by, changes)).refusal.reply is Reply.SOA_NOT_AUTHORIZED


def test_guard_R5_27_2_porting_to_original_new_sp_modifies_only_the_due_date():
    port = active()
    port.do(new_create(old=NEW, new=OLD, due=T0 + 3 * D, pto=True), at=T0 + 2 * D)
    assert refused(port, Modify(soa(OLD), {"lrn": LRN_OLD})).refusal.reply is Reply.SOA_NOT_AUTHORIZED
    port.do(Modify(soa(OLD), {"new_sp_due_date_ms": T0 + 4 * D}))


@pytest.mark.parametrize("changes, rule", [
    ({"new_sp_due_date_ms": T0 - D}, "R5-29.2"),
    ({"lrn": LRN_OLD}, "R5-29.3"),
    ({"class_dpc": "256000000"}, "R5-29.1"),  # a DPC group is one octet on the wire
    ({"class_ssn": 256}, "R5-29.1"),
    ({}, "R5-29.1"),
])
def test_guard_R5_29_modify_validation(changes, rule):
    assert refused(pending(), Modify(soa(NEW), changes)).refusal.rule.startswith(rule)


def test_guard_R5_36_active_modify_takes_routing_data_only_from_the_current_sp():
    port = active()
    assert refused(port, Modify(soa(NEW), {"new_sp_due_date_ms": T0 + 5 * D})).refusal.reply is Reply.SOA_NOT_AUTHORIZED
    assert refused(port, Modify(soa(OLD), {"lrn": LRN_NEW})).refusal.reply is Reply.SOA_NOT_AUTHORIZED  # RR5-11


@pytest.mark.parametrize("event, rule", [
    (Create(Side.NEW, soa(NEW), "31255512", OLD, NEW, T0 + D), "R5-14"),  # TN is 10 digits
    (new_create(due=T0 - D), "R5-18.3"),
    (Create(Side.NEW, soa("0009"), TN, OLD, "0009", T0 + D), "R5-18.5"),
    (Create(Side.NEW, soa(NEW), "9995551234", OLD, NEW, T0 + D), "R5-18.4"),
    (new_create(lrn=LRN_THIRD), "R5-18.6"),
    (new_create(old=NEW, new=THIRD), "R5-19"),  # NEW does not serve the TN yet
    (Create(Side.OLD, soa(OLD), TN, OLD, NEW, T0 + D), "R5-14"),  # old SP must say yes or no
    (new_create(lnp_type=LnpType.LISP), "RR5-4"),
    (new_create(new=OLD, lnp_type=LnpType.LISP), "RR5-4"),  # intra-SP needs an active version (RR5-6.8)
    (new_create(pto=True), "R5-15.2"),  # nothing to port back yet
])
def test_guard_R5_18_create_validation(event, rule):
    assert refused(Port(), event).refusal.rule.startswith(rule)


def test_guard_R5_18_4_an_npa_nxx_is_portable_from_its_effective_day():
    """Due dates are days: an NPA-NXX effective later on the due day takes that due date; one
    effective the next day does not."""
    for effective, ok in ((T0 + D + 3_600_000, True), (T0 + 2 * D, False)):
        port = Port()
        port.network = Network(**{**NET.__dict__, "npa_nxx_effective_ms": {"312555": effective}})
        if ok:
            port.do(new_create(due=T0 + D))
            assert port.v().new_sp_due_date_ms == T0 + D
        else:
            assert refused(port, new_create(due=T0 + D)).refusal.rule.startswith("R5-18.4")


def test_guard_R5_18_7_only_the_named_sps_or_npac_create():
    assert refused(Port(), new_create(by=soa(THIRD))).refusal.reply is Reply.SOA_NOT_AUTHORIZED
    assert refused(Port(), old_create(True, by=soa(NEW))).refusal.reply is Reply.SOA_NOT_AUTHORIZED


def test_guard_R5_18_8_a_second_create_by_the_same_sp_is_refused():
    port = pending(authorized=False)
    assert refused(port, new_create()).refusal.reply is Reply.VERSION_CREATE_ALREADY_EXISTS


def test_guard_R5_18_2_old_and_new_due_dates_must_match():
    assert refused(pending(authorized=False), old_create(True, due=T0 + 2 * D)).refusal.rule.startswith("R5-18.2")


def test_guard_R5_18_9_the_second_create_must_name_the_same_sps():
    port = active()
    port.do(new_create(old=NEW, new=THIRD, due=T0 + 3 * D), at=T0 + 2 * D)
    assert refused(port, old_create(True, old=NEW, new=OLD, due=T0 + 3 * D)).refusal.rule.startswith("R5-18.9")


def test_guard_RN5_1_no_new_port_while_a_version_is_in_flight():
    port = cancel_pending()
    assert refused(port, new_create()).refusal.rule.startswith("RN5-1")
    port = active()
    port.do(Modify(soa(NEW), {"lrn": LRN_NEW}))  # v2 sending
    assert refused(port, new_create(old=NEW, new=THIRD)).refusal.rule.startswith("RN5-1")
    assert refused(port, Modify(soa(NEW), {"lrn": LRN_NEW}), version_id=1).refusal.rule.startswith("RN5-1")


def test_guard_RN5_10_only_the_current_sp_or_npac_disconnects():
    assert refused(active(), Disconnect(soa(OLD), T0)).refusal.reply is Reply.SOA_NOT_AUTHORIZED
    assert refused(Port(), Disconnect(soa(NEW), T0)).refusal.reply is Reply.NO_VERSION_FOUND  # R5-63


def test_guard_R5_64_1_disconnect_refused_while_a_conflict_version_exists():
    port = active()
    port.do(old_create(False, old=NEW, new=THIRD, due=T0 + 3 * D), at=T0 + 2 * D)
    assert refused(port, Disconnect(soa(NEW), T0 + 2 * D)).refusal.rule.startswith("R5-64.1")


def test_guard_R5_64_2_disconnect_refused_while_a_modification_is_sending():
    port = active()
    port.do(Modify(soa(NEW), {"lrn": LRN_NEW}))
    assert refused(port, Disconnect(soa(NEW), T0 + 2 * D)).refusal.rule.startswith("R5-64.2")


def test_guard_R5_64_3_immediate_disconnect_refused_over_an_authorized_pending_version():
    assert refused(second_port(), Disconnect(soa(NEW), T0 + 2 * D)).refusal.rule.startswith("R5-64.3")


def test_guard_R5_64_4_deferred_disconnect_refused_over_any_pending_version():
    port = active()
    port.do(new_create(old=NEW, new=THIRD, due=T0 + 3 * D), at=T0 + 2 * D)
    event = Disconnect(soa(NEW), T0 + 2 * D, effective_release_date_ms=T0 + 9 * D)
    assert refused(port, event).refusal.rule.startswith("R5-64.4")


def test_guard_RR5_23_disconnect_dates():
    port = active()
    assert refused(port, Disconnect(soa(NEW), T0, effective_release_date_ms=port.now)).refusal.rule.startswith("RR5-23.2")
    assert refused(port, Disconnect(soa(NEW), -5)).refusal.rule.startswith("RR5-23.1")


def test_guard_RR5_27_a_third_sp_may_not_cancel():
    assert refused(pending(), Cancel(soa(THIRD))).refusal.reply is Reply.SOA_NOT_AUTHORIZED


def test_guard_R5_70_cancel_refused_once_sending_or_active():
    port = active()
    assert refused(port, Cancel(soa(NEW)), version_id=1).refusal.rule.startswith("R5-70")


def test_guard_acknowledgement_must_come_from_that_side_RR5_30():
    port = cancel_pending()
    assert refused(port, CancelAck(Side.OLD, soa(NEW))).refusal.reply is Reply.SOA_NOT_AUTHORIZED
    assert refused(port, CancelAck(Side.OLD, NPAC_PERSONNEL)).refusal.reply is Reply.SOA_NOT_AUTHORIZED


def test_guard_RR5_38_resend_names_failed_lsmss_and_only_from_failed_or_partial():
    port = failed_activation(succeeded=(OLD,))
    assert refused(port, Resend(NPAC_PERSONNEL, (OLD,))).refusal.rule.startswith("RR5-38.2")
    assert refused(port, Resend(NPAC_PERSONNEL, ())).refusal.rule.startswith("RR5-38.2")
    assert refused(port, Resend(soa(NEW), (NEW,))).refusal.reply is Reply.SOA_NOT_AUTHORIZED  # NPAC personnel only
    assert refused(active(), Resend(NPAC_PERSONNEL, (NEW,)), version_id=1).refusal.rule.startswith("RR5-38.3")


def test_guard_R5_43_set_conflict_only_from_pending_cancel_pending_or_crp():
    assert refused(active(), SetConflict(NPAC_PERSONNEL), version_id=1).refusal.rule.startswith("R5-43")


def test_guard_R5_47_conflict_resolution_only_from_conflict():
    assert refused(pending(), RequestConflictResolution(NPAC_PERSONNEL), version_id=1).refusal.rule.startswith("R5-47")


# --- intra-SP ports, porting to original, notifications ----------------------------------------

def test_intra_sp_port_is_pending_without_concurrence_and_one_ack_cancels_RR5_8_RR5_28_2():
    port = active()
    port.do(new_create(old=NEW, new=NEW, due=T0 + 3 * D, lnp_type=LnpType.LISP), at=T0 + 2 * D)
    v = port.v(2)
    assert v.status is S.PENDING and v.concurrence_complete and not any(
        t.kind is TimerKind.INITIAL_CONCURRENCE for t in port.timers.values())
    assert notices(port, Notification.OBJECT_CREATION)[0].recipients == (NEW,)  # RR5-9: current SP only
    port.do(Cancel(soa(NEW)))
    assert notices(port, Notification.STATUS_CHANGE)[0].recipients == (NEW,)  # RR5-26.2
    port.do(CancelAck(Side.NEW, soa(NEW)))
    assert port.status(2) is S.CANCELED


def test_intra_sp_port_activates_and_replaces_the_active_version_RR5_4():
    port = active()
    port.do(new_create(old=NEW, new=NEW, due=T0 + 3 * D, lnp_type=LnpType.LISP), at=T0 + 2 * D)
    port.do(Activate(soa(NEW)))
    port.do(BroadcastComplete(LSMS, ()))
    assert (port.status(1), port.status(2)) == (S.OLD, S.ACTIVE)


def test_second_activation_in_the_npa_nxx_is_not_announced_again_RR5_3():
    port = second_port()
    port.network = Network(**{**NET.__dict__, "ported_npa_nxx": frozenset({"312555"})})
    port.do(Activate(soa(THIRD)))
    assert not port.of(AnnounceNpaNxx)


def test_purge_after_old_retention_of_18_months_and_canceled_retention_R5_2_R5_3():
    port = conflict()
    port.expire(TimerKind.CONFLICT_EXPIRATION)
    assert port.timer(TimerKind.PURGE).due_ms == port.now + 30 * D  # R5-3.6: canceled from conflict
    port.expire(TimerKind.PURGE)
    assert port.of(Purge) == [Purge(1)] and port.versions == () and port.timers == {}


def test_step_of_one_version_matches_step_tn():
    ctx = Context(T0, Tunables(), NET, next_version_id=7)
    v, effects = step(None, new_create(), ctx)
    assert v is not None and v.version_id == 7 and v.status is S.PENDING
    with pytest.raises(ValueError):
        step(None, new_create(), Context(T0, Tunables(), NET))


def test_check_tn_reports_two_active_and_two_in_flight():
    a = SubscriptionVersion(1, TN, S.ACTIVE, OLD, NEW)
    assert check_tn([a]) == ()
    assert check_tn([a, SubscriptionVersion(2, TN, S.ACTIVE, NEW, THIRD)])[0].rule.startswith("RN5-2")
    two = [SubscriptionVersion(1, TN, S.PENDING, OLD, NEW), SubscriptionVersion(2, TN, S.CONFLICT, OLD, NEW)]
    assert [v.rule for v in check_tn(two)] == ["RN5-1 at most one version in flight"]
    canceled = SubscriptionVersion(3, TN, S.CANCELED, OLD, NEW, pre_cancellation_status=S.ACTIVE)
    assert check_tn([canceled]) == (Violation(TN, "pre-cancellation status", (3,)),)


# --- random request sequences hold the per-TN invariants --------------------------------------

PAIRS = [(OLD, NEW), (NEW, THIRD), (THIRD, OLD), (NEW, OLD), (OLD, THIRD), (NEW, NEW), (THIRD, THIRD)]
WHO = st.sampled_from(["npac", "old", "new", "stranger"])
SIDES = st.sampled_from([Side.OLD, Side.NEW])
CHANGES = st.sampled_from([
    {"old_sp_authorization": True}, {"old_sp_authorization": False}, {"lrn": LRN_NEW}, {"lrn": LRN_THIRD},
    {"class_dpc": "001002003", "class_ssn": 8}, {"billing_id": "0002"}, {"new_sp_due_date_ms": T0 + 40 * D},
    {"old_sp_due_date_ms": T0 + 40 * D},
])


class TnMachine(RuleBasedStateMachine):
    """Every request any party may send, in any order, and the clock running timers out: after each
    step the TN keeps RN5-1/RN5-2, old and canceled versions never change, every due timer fires
    without refusal, and the timers the effects started are exactly those the schedule derives."""

    def __init__(self) -> None:
        super().__init__()
        self.port = Port()
        self.finished: dict[int, SubscriptionVersion] = {}

    def requester(self, who: str, v: SubscriptionVersion | None = None) -> Requester:
        v = v or (self.port.versions[-1] if self.port.versions else None)
        if who == "npac" or v is None:
            return NPAC_PERSONNEL
        return {"old": soa(v.old_sp), "new": soa(v.new_sp), "stranger": soa("0009")}[who]

    def attempt(self, event: Any, version_id: int | None = None) -> None:
        try:
            self.port.do(event, version_id)
        except Refused:
            pass

    def coherent_port(self, side: Side, fresh_sp: str, pto: bool) -> tuple[str, str, int, bool]:
        """(old, new, due, pto) a create would plausibly carry now: the pending port's own data, or a
        new port away from the SP serving the TN."""
        joinable = next((v for v in self.port.versions if v.status in (
            S.PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING)), None)
        if joinable is not None:
            other = joinable.old_sp_due_date_ms if side is Side.NEW else joinable.new_sp_due_date_ms
            due = other if other is not None and other >= self.port.now else self.port.now
            return joinable.old_sp, joinable.new_sp, due, joinable.porting_to_original
        active = next((v for v in self.port.versions if v.status is S.ACTIVE), None)
        serving = active.new_sp if active is not None else OLD
        if pto and active is not None:
            return serving, OLD, self.port.now + D, True
        return serving, fresh_sp, self.port.now + D, False

    @rule(side=SIDES, who=WHO, pair=st.sampled_from(PAIRS), authorization=st.booleans(),
          days=st.integers(0, 3), pto=st.booleans(), coherent=st.integers(0, 4), fresh=st.sampled_from(LSMS))
    def create(self, side, who, pair, authorization, days, pto, coherent, fresh):
        old, new = pair
        due = self.port.now + days * D
        if coherent:
            old, new, due, pto = self.coherent_port(side, fresh, pto)
        own = old if side is Side.OLD else new
        sp = {"old": old, "new": new, "stranger": "0009"}.get(who)
        by = NPAC_PERSONNEL if sp is None else soa(own if coherent else sp)
        lnp = LnpType.LISP if old == new else LnpType.LSPP
        if side is Side.NEW:
            event = Create(side, by, TN, old, new, due, lnp_type=lnp, porting_to_original=pto,
                           attrs={} if pto else {"lrn": LRN_OF[new]})
        else:
            event = Create(side, by, TN, old, new, due, lnp_type=lnp, authorization=authorization or coherent > 1,
                           porting_to_original=pto)
        self.attempt(event)

    @rule(choice=st.integers(0, 3), fresh=st.sampled_from(LSMS))
    def progress(self, choice, fresh):
        """The step a well-behaved party would take next, so runs get deep into the lifecycle."""
        port = self.port
        by_status = {v.status: v for v in port.versions}
        if S.SENDING in by_status:
            ok = (LSMS, (), (OLD,), LSMS)[choice]
            self.attempt(BroadcastComplete(ok, tuple(x for x in LSMS if x not in ok)))
        elif S.CANCEL_PENDING in by_status or S.CONFLICT_RESOLUTION_PENDING in by_status:
            v = by_status.get(S.CANCEL_PENDING) or by_status[S.CONFLICT_RESOLUTION_PENDING]
            prefix, ack = (("cancellation", CancelAck) if v.status is S.CANCEL_PENDING
                           else ("conflict_resolution", ConflictResolutionAck))
            side = Side.OLD if getattr(v, f"old_sp_{prefix}_ms") is None else Side.NEW
            self.attempt(ack(side, soa(v.old_sp if side is Side.OLD else v.new_sp)))
        elif S.CONFLICT in by_status:
            self.attempt(RequestConflictResolution(NPAC_PERSONNEL if choice else soa(by_status[S.CONFLICT].new_sp)))
        elif S.DISCONNECT_PENDING in by_status and choice == 0:
            self.attempt(Cancel(NPAC_PERSONNEL))
        elif S.PENDING in by_status:
            v = by_status[S.PENDING]
            if v.new_sp_creation_ms is None:
                self.create(Side.NEW, "new", (v.old_sp, v.new_sp), True, 0, False, 1, fresh)
            elif v.old_sp_authorization is not True:
                self.create(Side.OLD, "old", (v.old_sp, v.new_sp), True, 0, False, 2, fresh)
            else:
                self.attempt(Activate(soa(v.new_sp)))
        elif by_status.keys() & {S.DOWNLOAD_FAILED, S.DOWNLOAD_FAILED_PARTIAL}:
            v = by_status.get(S.DOWNLOAD_FAILED) or by_status[S.DOWNLOAD_FAILED_PARTIAL]
            self.attempt(Resend(NPAC_PERSONNEL, v.failed_sp_list))
        elif S.ACTIVE in by_status and choice == 0:
            v = by_status[S.ACTIVE]
            erd = port.now + D if fresh == OLD else None
            self.attempt(Disconnect(soa(v.new_sp), port.now, erd))
        elif S.ACTIVE in by_status and choice == 1:
            v = by_status[S.ACTIVE]
            self.attempt(Modify(soa(v.new_sp), {"lrn": LRN_OF[v.new_sp]}), v.version_id)
        else:
            self.create(Side.NEW, "new", (OLD, NEW), True, 0, choice == 2, 1, fresh)

    @rule(who=WHO, changes=CHANGES, pick=st.integers(0, 5))
    def modify(self, who, changes, pick):
        target = self.port.versions[pick % len(self.port.versions)] if self.port.versions else None
        self.attempt(Modify(self.requester(who, target), changes), target.version_id if target else None)

    @rule(who=WHO)
    def activate(self, who):
        self.attempt(Activate(self.requester(who)))

    @rule(who=WHO, deferred=st.booleans(), days=st.integers(1, 5))
    def disconnect(self, who, deferred, days):
        active = next((v for v in self.port.versions if v.status is S.ACTIVE), None)
        erd = self.port.now + days * D if deferred else None
        self.attempt(Disconnect(self.requester(who, active), self.port.now, erd))

    @rule(who=WHO)
    def cancel(self, who):
        self.attempt(Cancel(self.requester(who)))

    @rule(side=SIDES, who=WHO)
    def cancel_ack(self, side, who):
        self.attempt(CancelAck(side, self.requester(who)))

    @rule()
    def set_conflict(self):
        self.attempt(SetConflict(NPAC_PERSONNEL))

    @rule(who=WHO)
    def request_conflict_resolution(self, who):
        self.attempt(RequestConflictResolution(self.requester(who)))

    @rule(side=SIDES, who=WHO)
    def conflict_resolution_ack(self, side, who):
        self.attempt(ConflictResolutionAck(side, self.requester(who)))

    @rule(ok=st.one_of(st.just(set(LSMS)), st.sets(st.sampled_from(LSMS))))
    def broadcast_complete(self, ok):
        self.attempt(BroadcastComplete(tuple(sorted(ok)), tuple(x for x in LSMS if x not in ok)))

    @rule(lsms=st.sets(st.sampled_from(LSMS), min_size=1))
    def resend(self, lsms):
        self.attempt(Resend(NPAC_PERSONNEL, tuple(sorted(lsms))))

    @rule(delta=st.one_of(st.integers(1, 6 * H), st.integers(6 * H, 40 * D), st.just(600 * D)))
    def time_passes(self, delta):
        until = self.port.now + delta
        for _ in range(50):
            due = sorted(t for t in self.port.timers.values() if t.due_ms <= until)
            if not due:
                break
            self.port.do(TimerExpired(due[0].kind), due[0].version_id, at=max(self.port.now, due[0].due_ms))
        else:
            raise AssertionError("timers keep firing")
        self.port.now = until

    @invariant()
    def per_tn_invariants(self):
        assert check_tn(self.port.versions) == ()

    @invariant()
    def timers_are_what_the_schedule_derives(self):
        derived = {t.key: t for v in self.port.versions for t in schedule(v, self.port.tunables)}
        assert self.port.timers == derived

    @invariant()
    def old_and_canceled_versions_never_change(self):
        for v in self.port.versions:
            if v.version_id in self.finished:
                assert v == self.finished[v.version_id]
            elif v.status in TERMINAL:
                self.finished[v.version_id] = v

    @invariant()
    def broadcasts_only_from_sending(self):
        for b in self.port.of(Broadcast):
            assert self.port.v(b.version_id).status is S.SENDING


TnMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=50, deadline=None)
test_random_requests_keep_the_per_tn_invariants_RN5_1_RN5_2 = TnMachine.TestCase
