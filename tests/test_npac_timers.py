"""The timer schedule (FRS App. C tunables, R5-21..R5-23, RR5-17/18, RR5-32/33, R5-45, RR5-1, R5-65.2,
R5-2/R5-3, R5-60/R5-68 retries) with an injected clock, to the millisecond."""
from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest
from hypothesis import given, settings, strategies as st

from appliance.npac.events import Activate, Cancel, Disconnect, Modify, RequestConflictResolution, TimerExpired
from appliance.npac.model import BroadcastKind, Status, SubscriptionVersion
from appliance.npac.timers import (
    RULES, RetryVerdict, Timer, TimerKind, broadcast_retry, changes, due, next_due, retry_verdict, schedule,
)
from appliance.npac.tunables import SPEC, SPECS, Tunables, Unit, add_months
from tests.test_npac_versions import (
    D, H, NEW, OLD, T0, TN, Port, active, conflict, new_create, old_create, pending, soa,
)

S = Status
MIN = 60_000
TUN = Tunables()


def kinds(v: SubscriptionVersion, tunables: Tunables = TUN) -> dict[TimerKind, int]:
    return {t.kind: t.due_ms for t in schedule(v, tunables)}


# --- tunables ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, unit", [
    ("initial_concurrence_window", 18, Unit.HOURS), ("final_concurrence_window", 18, Unit.HOURS),
    ("conflict_resolution_initial_ack_window", 4, Unit.HOURS), ("conflict_resolution_final_ack_window", 4, Unit.HOURS),
    ("cancellation_initial_ack_window", 4, Unit.HOURS), ("cancellation_final_ack_window", 4, Unit.HOURS),
    ("conflict_expiration_window", 30, Unit.DAYS), ("pending_retention", 90, Unit.DAYS),
    ("activation_retry_attempts", 3, Unit.COUNT), ("activation_retry_interval", 2, Unit.MINUTES),
    ("lsms_retry_attempts", 3, Unit.COUNT), ("soa_retry_interval", 2, Unit.MINUTES),
    ("max_subscriber_query", 50, Unit.COUNT), ("old_retention", 18, Unit.MONTHS),
    ("canceled_pending_retention", 90, Unit.DAYS), ("canceled_conflict_retention", 30, Unit.DAYS),
    ("canceled_conflict_resolution_pending_retention", 30, Unit.DAYS),
    ("canceled_disconnect_pending_retention", 90, Unit.DAYS), ("history_retention", 365, Unit.DAYS),
    ("key_change_interval", 7, Unit.DAYS), ("request_timeout", 2, Unit.MINUTES),
])
def test_defaults_are_appendix_c_and_decisions_L20752(name, value, unit):
    assert getattr(TUN, name) == value and SPEC[name].unit is unit


def test_every_spec_is_a_field_and_the_defaults_lie_in_their_ranges():
    assert [f.name for f in dataclasses.fields(Tunables)] == [s.name for s in SPECS]
    for spec in SPECS:
        assert spec.low <= spec.default <= spec.high and spec.cite


@pytest.mark.parametrize("values", [{"initial_concurrence_window": 0}, {"initial_concurrence_window": 73},
                                    {"max_subscriber_query": 151}, {"pending_retention": True}])
def test_values_outside_the_appendix_c_range_are_refused(values):
    with pytest.raises(ValueError):
        Tunables(**values)


def test_from_mapping_overlays_defaults_and_refuses_unknown_names():
    t = Tunables.from_mapping({"conflict_expiration_window": 45})
    assert t.conflict_expiration_window == 45 and t.pending_retention == 90
    assert Tunables.from_mapping(t.as_mapping()) == t
    with pytest.raises(ValueError, match="unknown"):
        Tunables.from_mapping({"no_such_tunable": 1})


def test_after_adds_a_window_in_its_unit():
    assert TUN.after("initial_concurrence_window", T0) == T0 + 64_800_000  # 18 h in ms
    assert TUN.after("activation_retry_interval", T0) == T0 + 120_000
    assert TUN.after("conflict_expiration_window", T0) == T0 + 30 * D
    with pytest.raises(ValueError):
        TUN.after("max_subscriber_query", T0)


@pytest.mark.parametrize("start, months, end", [
    ("2026-01-31T10:00:00", 1, "2026-02-28T10:00:00"),  # the day clamps to the month's end
    ("2027-08-31T00:00:00", 18, "2029-02-28T00:00:00"),
    ("2026-07-15T23:59:59", 18, "2028-01-15T23:59:59"),
    ("2027-12-31T12:00:00", 2, "2028-02-29T12:00:00"),  # leap year
])
def test_old_retention_is_calendar_months_L21330(start, months, end):
    import datetime as dt

    def ms(text: str) -> int:
        return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()) * 1000

    assert add_months(ms(start) + 123, months) == ms(end) + 123


# --- the schedule -----------------------------------------------------------------------------------

def test_t1_fires_18_hours_after_creation_to_the_millisecond_R5_21():
    port = pending(authorized=False)
    t1 = port.timer(TimerKind.INITIAL_CONCURRENCE)
    assert t1.due_ms == T0 + 18 * H
    assert due(port.timers.values(), T0 + 18 * H - 1) == ()
    assert due(port.timers.values(), T0 + 18 * H) == (t1,)


def test_t2_runs_18_hours_from_the_concurrence_request_R5_23_1():
    port = pending(authorized=False)
    port.do(TimerExpired(TimerKind.INITIAL_CONCURRENCE), 1, at=T0 + 18 * H + 250)  # fired late by 250 ms
    t2 = port.timer(TimerKind.FINAL_CONCURRENCE)
    assert t2.due_ms == T0 + 36 * H + 250
    assert TimerKind.INITIAL_CONCURRENCE not in kinds(port.v())
    assert due(port.timers.values(), t2.due_ms - 1) == () and due(port.timers.values(), t2.due_ms) == (t2,)


def test_concurrence_timers_stop_once_both_sps_concur():
    port = pending(authorized=False)
    port.do(old_create(True), at=T0 + 17 * H)
    assert set(kinds(port.v())) == {TimerKind.PENDING_EXPIRATION}


def test_changed_tunables_move_the_windows():
    port = pending(authorized=False)
    port.tunables = Tunables(initial_concurrence_window=1, pending_retention=1)
    assert kinds(port.v(), port.tunables) == {
        TimerKind.INITIAL_CONCURRENCE: T0 + H, TimerKind.PENDING_EXPIRATION: T0 + 2 * D}


def test_pending_expiration_runs_from_the_later_due_date_RR5_1_4():
    port = pending()
    assert port.timer(TimerKind.PENDING_EXPIRATION).due_ms == T0 + D + 90 * D
    port.do(Modify(soa(OLD), {"old_sp_due_date_ms": T0 + 10 * D}))
    assert port.timer(TimerKind.PENDING_EXPIRATION).due_ms == T0 + 100 * D


def test_conflict_expiration_30_days_from_the_conflict_time_stamp_R5_45():
    port = conflict()
    assert kinds(port.v()) == {TimerKind.CONFLICT_EXPIRATION: T0 + 30 * D}
    assert due(port.timers.values(), T0 + 30 * D - 1) == ()


def test_conflict_resolution_ack_windows_4h_plus_4h_RR5_17_RR5_18():
    port = conflict()
    port.do(RequestConflictResolution(soa(NEW)), at=T0 + 1000)
    assert kinds(port.v()) == {TimerKind.CONFLICT_RESOLUTION_INITIAL: T0 + 1000 + 4 * H}
    port.expire(TimerKind.CONFLICT_RESOLUTION_INITIAL)
    assert kinds(port.v()) == {TimerKind.CONFLICT_RESOLUTION_FINAL: T0 + 1000 + 8 * H}


def test_cancellation_ack_windows_4h_plus_4h_RR5_32_RR5_33():
    port = pending()
    port.do(Cancel(soa(OLD)), at=T0 + 2 * H)
    assert kinds(port.v()) == {TimerKind.CANCELLATION_INITIAL: T0 + 6 * H}
    port.expire(TimerKind.CANCELLATION_INITIAL)
    assert kinds(port.v()) == {TimerKind.CANCELLATION_FINAL: T0 + 10 * H}


def test_deferred_disconnect_fires_at_the_effective_release_date_R5_65_2():
    port = active()
    erd = T0 + 4 * D + 17
    port.do(Disconnect(soa(NEW), T0 + 3 * D, effective_release_date_ms=erd), at=T0 + 2 * D)
    assert kinds(port.v()) == {TimerKind.DEFERRED_DISCONNECT: erd}


@pytest.mark.parametrize("before, days", [(S.PENDING, 90), (S.CONFLICT, 30),
                                          (S.CONFLICT_RESOLUTION_PENDING, 30), (S.DISCONNECT_PENDING, 90)])
def test_canceled_versions_purge_by_pre_cancellation_status_R5_3(before, days):
    v = SubscriptionVersion(1, TN, S.CANCELED, OLD, NEW, cancellation_ms=T0, pre_cancellation_status=before)
    assert kinds(v) == {TimerKind.PURGE: T0 + days * D}


def test_old_versions_purge_after_18_months_R5_2():
    v = SubscriptionVersion(1, TN, S.OLD, OLD, NEW, old_ms=T0)
    assert kinds(v) == {TimerKind.PURGE: add_months(T0, 18)}


@pytest.mark.parametrize("status", [S.ACTIVE, S.SENDING, S.DOWNLOAD_FAILED, S.DOWNLOAD_FAILED_PARTIAL])
def test_no_version_timers_while_active_or_broadcasting(status):
    assert schedule(SubscriptionVersion(1, TN, status, OLD, NEW, creation_ms=T0, conflict_ms=T0), TUN) == ()


def test_every_timer_kind_but_retries_has_a_rule_and_an_event():
    from appliance.npac.events import TIMER_EVENTS
    assert {r.kind for r in RULES} | {TimerKind.BROADCAST_RETRY} == set(TimerKind)
    assert set(TIMER_EVENTS) == {r.kind for r in RULES}


# --- due, changes ------------------------------------------------------------------------------------

def test_due_is_inclusive_and_in_firing_order():
    a, b, c = Timer(T0 + 5, TimerKind.PURGE, 2), Timer(T0, TimerKind.CONFLICT_EXPIRATION, 9), Timer(T0 + 9, TimerKind.PURGE, 1)
    assert due([a, b, c], T0 + 5) == (b, a)
    assert next_due([a, b, c]) == T0 and next_due([]) is None


def test_changes_start_new_and_moved_timers_and_cancel_gone_and_moved_ones():
    t1 = Timer(T0, TimerKind.INITIAL_CONCURRENCE, 1)
    moved = Timer(T0 + 1, TimerKind.PENDING_EXPIRATION, 1)
    kept = Timer(T0 + 2, TimerKind.PENDING_EXPIRATION, 1)
    t2 = Timer(T0 + 3, TimerKind.FINAL_CONCURRENCE, 1)
    start, cancel = changes([t1, kept], [t2, moved])
    assert start == (moved, t2) and cancel == (t1, kept)
    assert changes([kept], [kept]) == ((), ())


@settings(max_examples=200, deadline=None)
@given(before=st.lists(st.builds(Timer, st.integers(0, 10), st.sampled_from(list(TimerKind)), st.integers(1, 3))),
       after=st.lists(st.builds(Timer, st.integers(0, 10), st.sampled_from(list(TimerKind)), st.integers(1, 3))))
def test_applying_changes_gives_the_new_schedule(before, after):
    before_map = {t.key: t for t in before}
    after_map = {t.key: t for t in after}
    start, cancel = changes(before_map.values(), after_map.values())
    result = dict(before_map)
    for t in cancel:
        result.pop(t.key)
    for t in start:
        result[t.key] = t
    assert result == after_map


# --- broadcast retries -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(BroadcastKind))
def test_first_send_plus_three_resends_two_minutes_apart_then_failed_R5_60_7_DECISIONS(kind):
    sent_at, sends, verdicts = T0, 1, []
    while True:
        timer = broadcast_retry(42, "0003", sends, sent_at, kind, TUN)
        assert timer.due_ms == sent_at + 2 * MIN and timer.target == "0003"
        verdict = retry_verdict(timer, kind, TUN)
        verdicts.append(verdict)
        if verdict is RetryVerdict.GIVE_UP:
            break
        sent_at, sends = timer.due_ms, sends + 1
    assert verdicts == [RetryVerdict.RESEND] * 3 + [RetryVerdict.GIVE_UP]
    assert sent_at == T0 + 6 * MIN and timer.due_ms == T0 + 8 * MIN  # failed 8 minutes after the first send


def test_retry_tunables_are_per_operation():
    tun = Tunables(disconnect_retry_attempts=1, disconnect_retry_interval=5, modification_retry_interval=7)
    assert broadcast_retry(1, "x", 1, T0, BroadcastKind.DISCONNECT, tun).due_ms == T0 + 5 * MIN
    assert broadcast_retry(1, "x", 1, T0, BroadcastKind.MODIFY, tun).due_ms == T0 + 7 * MIN
    assert retry_verdict(Timer(T0, TimerKind.BROADCAST_RETRY, 1, "x", 2), BroadcastKind.DISCONNECT, tun) is RetryVerdict.GIVE_UP


# --- an 18-hour window end to end, and no wall clock in the logic -------------------------------------

def test_a_port_runs_through_t1_t2_to_conflict_at_exactly_36_hours():
    port = Port()
    port.do(new_create(due=T0 + 3 * D))
    fired = []
    for clock in range(T0, T0 + 40 * H, 30 * 60_000):  # a fake clock ticking every 30 minutes
        for timer in due(port.timers.values(), clock):
            port.do(TimerExpired(timer.kind), timer.version_id, at=timer.due_ms)
            fired.append((timer.kind, timer.due_ms - T0))
    assert fired == [(TimerKind.INITIAL_CONCURRENCE, 18 * H), (TimerKind.FINAL_CONCURRENCE, 36 * H)]
    assert port.status() is S.CONFLICT and port.v().conflict_ms == T0 + 36 * H


def test_activation_cancels_every_pending_timer():
    port = pending()
    port.do(Activate(soa(NEW)))
    assert port.timers == {}


def test_the_npac_logic_never_reads_a_clock():
    root = pathlib.Path(__file__).resolve().parents[1] / "appliance" / "npac"
    clock = re.compile(r"\b(datetime\.now|datetime\.utcnow|time\.time|time\.monotonic|date\.today)\b")
    offenders = [p.name for p in root.glob("*.py") if clock.search(p.read_text())]
    assert offenders == []
