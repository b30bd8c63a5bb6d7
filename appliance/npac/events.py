"""Events that step a subscription version: requests (NPAC Operations GUI or a SOA) and internal ones
(timer expiry, broadcast outcome, consequences for sibling versions of the same TN)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Mapping

from appliance.npac.model import LnpType
from appliance.npac.timers import TimerKind


class Actor(StrEnum):
    NPAC = "npac"  # NPAC personnel on the Operations GUI
    SOA = "soa"  # a service provider's SOA
    INTERNAL = "internal"  # the NPAC SMS itself


@dataclass(frozen=True)
class Requester:
    actor: Actor
    sp: str | None = None  # the SOA's service provider

    @classmethod
    def soa(cls, sp: str) -> "Requester":
        return cls(Actor.SOA, sp)


NPAC_PERSONNEL = Requester(Actor.NPAC)
INTERNAL = Requester(Actor.INTERNAL)


class Side(StrEnum):
    NEW = "new"
    OLD = "old"


class EventKind(StrEnum):
    NEW_SP_CREATE = "new-sp-create"
    OLD_SP_CREATE = "old-sp-create"
    MODIFY = "modify"
    ACTIVATE = "activate"
    DISCONNECT = "disconnect"
    CANCEL = "cancel"
    CANCEL_ACK = "cancel-ack"
    SET_CONFLICT = "set-conflict"
    CONFLICT_RESOLUTION_REQUEST = "conflict-resolution-request"
    CONFLICT_RESOLUTION_ACK = "conflict-resolution-ack"
    BROADCAST_COMPLETE = "broadcast-complete"
    RESEND = "resend"
    SUPERSEDED = "superseded"  # transition 22, raised by a sibling's success
    DISCONNECT_OVERRIDES_PENDING = "disconnect-overrides-pending"  # transition 7C2
    T1_EXPIRED = "initial-concurrence-expired"
    T2_EXPIRED = "final-concurrence-expired"
    CONFLICT_RESOLUTION_INITIAL_EXPIRED = "conflict-resolution-initial-expired"
    CONFLICT_RESOLUTION_FINAL_EXPIRED = "conflict-resolution-final-expired"
    CANCELLATION_INITIAL_EXPIRED = "cancellation-initial-expired"
    CANCELLATION_FINAL_EXPIRED = "cancellation-final-expired"
    CONFLICT_EXPIRED = "conflict-expired"
    PENDING_EXPIRED = "pending-expired"
    RELEASE_DATE_REACHED = "release-date-reached"
    PURGE_DUE = "purge-due"


TIMER_EVENTS = {
    TimerKind.INITIAL_CONCURRENCE: EventKind.T1_EXPIRED,
    TimerKind.FINAL_CONCURRENCE: EventKind.T2_EXPIRED,
    TimerKind.CONFLICT_RESOLUTION_INITIAL: EventKind.CONFLICT_RESOLUTION_INITIAL_EXPIRED,
    TimerKind.CONFLICT_RESOLUTION_FINAL: EventKind.CONFLICT_RESOLUTION_FINAL_EXPIRED,
    TimerKind.CANCELLATION_INITIAL: EventKind.CANCELLATION_INITIAL_EXPIRED,
    TimerKind.CANCELLATION_FINAL: EventKind.CANCELLATION_FINAL_EXPIRED,
    TimerKind.CONFLICT_EXPIRATION: EventKind.CONFLICT_EXPIRED,
    TimerKind.PENDING_EXPIRATION: EventKind.PENDING_EXPIRED,
    TimerKind.DEFERRED_DISCONNECT: EventKind.RELEASE_DATE_REACHED,
    TimerKind.PURGE: EventKind.PURGE_DUE,
}


@dataclass(frozen=True)
class Create:
    """subscriptionVersionNewSP-Create / -OldSP-Create, or the GUI equivalent (R5-14, R5-15, RR5-4).

    `attrs` holds the optional routing and billing data by field name (R5-15.1, R5-16)."""

    side: Side
    by: Requester
    tn: str
    old_sp: str
    new_sp: str
    due_date_ms: int
    lnp_type: LnpType = LnpType.LSPP
    authorization: bool | None = None  # old side only (R5-14)
    porting_to_original: bool = False
    attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> EventKind:
        return EventKind.NEW_SP_CREATE if self.side is Side.NEW else EventKind.OLD_SP_CREATE


@dataclass(frozen=True)
class Modify:
    """subscriptionVersionModify / M-SET: field name -> new value (R5-27, R5-36, R5-37)."""

    by: Requester
    changes: Mapping[str, Any]
    kind: EventKind = field(default=EventKind.MODIFY, init=False)


@dataclass(frozen=True)
class Activate:
    by: Requester
    kind: EventKind = field(default=EventKind.ACTIVATE, init=False)


@dataclass(frozen=True)
class Disconnect:
    """RR5-23.1: the customer disconnect date is required; RR5-23.2: the release date is optional."""

    by: Requester
    customer_disconnect_date_ms: int
    effective_release_date_ms: int | None = None
    kind: EventKind = field(default=EventKind.DISCONNECT, init=False)


@dataclass(frozen=True)
class Cancel:
    by: Requester
    kind: EventKind = field(default=EventKind.CANCEL, init=False)


@dataclass(frozen=True)
class CancelAck:
    """subscriptionVersion{Old,New}SP-CancellationAcknowledge (an M-ACTION, DECISIONS)."""

    side: Side
    by: Requester
    kind: EventKind = field(default=EventKind.CANCEL_ACK, init=False)


@dataclass(frozen=True)
class SetConflict:
    by: Requester
    kind: EventKind = field(default=EventKind.SET_CONFLICT, init=False)


@dataclass(frozen=True)
class RequestConflictResolution:
    """GUI, or subscriptionVersionNewSP-ConflictResolutionPending (R5-46, R5-50.1)."""

    by: Requester
    kind: EventKind = field(default=EventKind.CONFLICT_RESOLUTION_REQUEST, init=False)


@dataclass(frozen=True)
class ConflictResolutionAck:
    """subscriptionVersion{Old,New}SP-ConflictResolutionAcknowledge (RR5-13, RR5-14)."""

    side: Side
    by: Requester
    kind: EventKind = field(default=EventKind.CONFLICT_RESOLUTION_ACK, init=False)


@dataclass(frozen=True)
class BroadcastComplete:
    """Every LSMS of the round has answered or used up its retries (R5-60.9, R5-68.6)."""

    succeeded: tuple[str, ...]
    failed: tuple[str, ...]
    by: Requester = INTERNAL
    kind: EventKind = field(default=EventKind.BROADCAST_COMPLETE, init=False)


@dataclass(frozen=True)
class Resend:
    """RR5-38.2: NPAC personnel name the failed LSMSs to send to again."""

    by: Requester
    lsms: tuple[str, ...]
    kind: EventKind = field(default=EventKind.RESEND, init=False)


@dataclass(frozen=True)
class Superseded:
    by: Requester = INTERNAL
    by_modify: bool = False  # the successor is a modify of this version (6.4.3.1: the current SP alone hears)
    kind: EventKind = field(default=EventKind.SUPERSEDED, init=False)


@dataclass(frozen=True)
class DisconnectOverridesPending:
    by: Requester = INTERNAL
    kind: EventKind = field(default=EventKind.DISCONNECT_OVERRIDES_PENDING, init=False)


@dataclass(frozen=True)
class TimerExpired:
    timer: TimerKind
    by: Requester = INTERNAL

    @property
    def kind(self) -> EventKind:
        return TIMER_EVENTS[self.timer]


Event = (Create | Modify | Activate | Disconnect | Cancel | CancelAck | SetConflict
         | RequestConflictResolution | ConflictResolutionAck | BroadcastComplete | Resend
         | Superseded | DisconnectOverridesPending | TimerExpired)
