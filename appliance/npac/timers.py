"""The timer schedule of subscription versions, as pure functions of (version, tunables).

A version's timers are not state of their own: `schedule(version, tunables)` derives them from its
status and time stamps through the `RULES` table, so after any change the caller persists exactly
`changes(schedule(before), schedule(after))`, and a restarted or promoted node recomputes the same
due times (DECISIONS: timers survive restart and cutover). Nothing here reads a clock: `now_ms` is
always passed in.

LSMS broadcast retries are per (version, LSMS) and depend on sends, not on the version, so they have
their own pair of functions (`broadcast_retry`, `retry_verdict`).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Callable, Iterable

from appliance.npac.model import BroadcastKind, Status, SubscriptionVersion
from appliance.npac.tunables import Tunables

S = Status
V = SubscriptionVersion


class TimerKind(StrEnum):
    INITIAL_CONCURRENCE = "initial-concurrence"  # T1, R5-21.1 / R5-22
    FINAL_CONCURRENCE = "final-concurrence"  # T2, R5-23.1 / R5-23.4-5
    CONFLICT_RESOLUTION_INITIAL = "conflict-resolution-initial"  # RR5-17
    CONFLICT_RESOLUTION_FINAL = "conflict-resolution-final"  # RR5-18, RR5-19
    CANCELLATION_INITIAL = "cancellation-initial"  # RR5-32, RR5-34
    CANCELLATION_FINAL = "cancellation-final"  # RR5-33, RR5-35
    CONFLICT_EXPIRATION = "conflict-expiration"  # R5-45, transition 1
    PENDING_EXPIRATION = "pending-expiration"  # RR5-1.4, transition 9C2
    DEFERRED_DISCONNECT = "deferred-disconnect"  # R5-65.2, transition 14
    PURGE = "purge"  # R5-2, R5-3 housekeeping
    BROADCAST_RETRY = "broadcast-retry"  # R5-60.7, R5-68.5


@dataclass(frozen=True, order=True)
class Timer:
    """One timer. Ordered by due time so `sorted()` gives firing order; `key` names it in the store."""

    due_ms: int
    kind: TimerKind
    version_id: int
    target: str = ""  # the LSMS of a broadcast retry
    attempt: int = 0  # sends so far, for a broadcast retry

    @property
    def key(self) -> tuple[str, int, str]:
        return (str(self.kind), self.version_id, self.target)


def _awaiting_concurrence(v: V) -> bool:
    return not v.intra_sp and not v.concurrence_complete and v.concurrence_started_ms is not None


def _later_due_date(v: V) -> int | None:
    dates = [d for d in (v.new_sp_due_date_ms, v.old_sp_due_date_ms) if d is not None]
    return max(dates) if dates else None


_CANCELED_RETENTION = {  # R5-3.x: by pre-cancellation status
    S.PENDING: "canceled_pending_retention",
    S.CONFLICT: "canceled_conflict_retention",
    S.CONFLICT_RESOLUTION_PENDING: "canceled_conflict_resolution_pending_retention",
    S.DISCONNECT_PENDING: "canceled_disconnect_pending_retention",
}


def _canceled_retention(v: V) -> str:
    before = v.pre_cancellation_status
    return _CANCELED_RETENTION.get(before if before is not None else S.PENDING, "canceled_pending_retention")


@dataclass(frozen=True)
class TimerRule:
    kind: TimerKind
    status: Status
    when: Callable[[V], bool]
    base: Callable[[V], int | None]
    window: Callable[[V], str | None]  # tunable name; None = fire at the base time itself
    cite: str


def _always(_: V) -> bool:
    return True


def _tunable(name: str) -> Callable[[V], str]:
    return lambda _v: name


RULES: tuple[TimerRule, ...] = (
    TimerRule(TimerKind.INITIAL_CONCURRENCE, S.PENDING,
              lambda v: _awaiting_concurrence(v) and v.concurrence_notice_ms is None,
              lambda v: v.concurrence_started_ms, _tunable("initial_concurrence_window"), "R5-21.1 L11986"),
    TimerRule(TimerKind.FINAL_CONCURRENCE, S.PENDING,
              lambda v: _awaiting_concurrence(v) and v.concurrence_notice_ms is not None,
              lambda v: v.concurrence_notice_ms, _tunable("final_concurrence_window"), "R5-23.1 L12086"),
    TimerRule(TimerKind.PENDING_EXPIRATION, S.PENDING, _always, _later_due_date,
              _tunable("pending_retention"), "RR5-1.4 L11344"),
    TimerRule(TimerKind.CONFLICT_EXPIRATION, S.CONFLICT, _always, lambda v: v.conflict_ms,
              _tunable("conflict_expiration_window"), "R5-45.4 L13124"),
    TimerRule(TimerKind.CONFLICT_RESOLUTION_INITIAL, S.CONFLICT_RESOLUTION_PENDING,
              lambda v: v.conflict_resolution_notice_ms is None, lambda v: v.conflict_resolution_pending_ms,
              _tunable("conflict_resolution_initial_ack_window"), "RR5-17.1 L13302"),
    TimerRule(TimerKind.CONFLICT_RESOLUTION_FINAL, S.CONFLICT_RESOLUTION_PENDING,
              lambda v: v.conflict_resolution_notice_ms is not None, lambda v: v.conflict_resolution_notice_ms,
              _tunable("conflict_resolution_final_ack_window"), "RR5-18.1 L13340"),
    TimerRule(TimerKind.CANCELLATION_INITIAL, S.CANCEL_PENDING,
              lambda v: v.cancel_notice_ms is None, lambda v: v.cancel_pending_ms,
              _tunable("cancellation_initial_ack_window"), "RR5-32.1 L14219"),
    TimerRule(TimerKind.CANCELLATION_FINAL, S.CANCEL_PENDING,
              lambda v: v.cancel_notice_ms is not None, lambda v: v.cancel_notice_ms,
              _tunable("cancellation_final_ack_window"), "RR5-33.1 L14243"),
    TimerRule(TimerKind.DEFERRED_DISCONNECT, S.DISCONNECT_PENDING, _always,
              lambda v: v.effective_release_date_ms, lambda _v: None, "R5-65.2 L13898"),
    TimerRule(TimerKind.PURGE, S.OLD, _always, lambda v: v.old_ms, _tunable("old_retention"), "R5-2.1 L11188"),
    TimerRule(TimerKind.PURGE, S.CANCELED, _always, lambda v: v.cancellation_ms, _canceled_retention,
              "R5-3.1-3.12 L11218-11312"),
)


def schedule(version: V | None, tunables: Tunables) -> tuple[Timer, ...]:
    """Every timer `version` has in its present state, in firing order."""
    if version is None:
        return ()
    timers = []
    for rule in RULES:
        if rule.status is not version.status or not rule.when(version):
            continue
        base = rule.base(version)
        if base is None:
            continue
        window = rule.window(version)
        due = base if window is None else tunables.after(window, base)
        timers.append(Timer(due, rule.kind, version.version_id))
    return tuple(sorted(timers))


def due(timers: Iterable[Timer], now_ms: int) -> tuple[Timer, ...]:
    """Timers whose time has come at `now_ms` (inclusive), in firing order."""
    return tuple(sorted(t for t in timers if t.due_ms <= now_ms))


def next_due(timers: Iterable[Timer]) -> int | None:
    return min((t.due_ms for t in timers), default=None)


def changes(before: Iterable[Timer], after: Iterable[Timer]) -> tuple[tuple[Timer, ...], tuple[Timer, ...]]:
    """(timers to start, timers to cancel) to go from `before` to `after`; a moved timer is both."""
    old = {t.key: t for t in before}
    new = {t.key: t for t in after}
    start = tuple(sorted(t for k, t in new.items() if old.get(k) != t))
    cancel = tuple(sorted(t for k, t in old.items() if k not in new or new[k] != t))
    return start, cancel


# --- LSMS broadcast retries -------------------------------------------------------------------

_RETRY_TUNABLES = {  # (attempts, interval) per kind: App. C Table 11-2
    BroadcastKind.ACTIVATE: ("activation_retry_attempts", "activation_retry_interval"),
    BroadcastKind.PORT_TO_ORIGINAL: ("activation_retry_attempts", "activation_retry_interval"),
    BroadcastKind.MODIFY: ("modification_retry_attempts", "modification_retry_interval"),
    BroadcastKind.DISCONNECT: ("disconnect_retry_attempts", "disconnect_retry_interval"),
}


class RetryVerdict(StrEnum):
    RESEND = "resend"
    GIVE_UP = "give-up"  # R5-60.8 / R5-68.7: the LSMS has failed


def broadcast_retry(version_id: int, lsms: str, sends: int, last_sent_ms: int,
                    kind: BroadcastKind, tunables: Tunables) -> Timer:
    """The wake-up after send number `sends` to `lsms` went out at `last_sent_ms` unanswered."""
    _, interval = _RETRY_TUNABLES[kind]
    return Timer(tunables.after(interval, last_sent_ms), TimerKind.BROADCAST_RETRY, version_id, lsms, sends)


def retry_verdict(timer: Timer, kind: BroadcastKind, tunables: Tunables) -> RetryVerdict:
    """First send plus `attempts` resends, an interval apart; silence after the last one is failure
    (DECISIONS "Retry Attempts = 3" reading of R5-60.7)."""
    attempts, _ = _RETRY_TUNABLES[kind]
    return RetryVerdict.RESEND if timer.attempt <= getattr(tunables, attempts) else RetryVerdict.GIVE_UP
