"""The HA role machine: a pure table of (role, event) -> (new role, effects).

Roles (ARCHITECTURE "Roles and cutover", plus isolated, draining and handed-over):

| role | writes | AARQ answer | replication |
|---|---|---|---|
| primary-live | yes | accept | serves the peer |
| isolated | yes | accept | serves; peer lost on both paths, so per policy async or refusing |
| draining | no | try-other-host | serves the last rows; switchback in progress on the live node |
| handed-over | no | try-other-host | serves; told the peer to promote, waits for its higher epoch |
| promoting | no | retry-same-host | neither; epoch being raised |
| standby | no | try-other-host | follows the live peer and is current with it |
| fenced | no | try-other-host | follows; just started, stepped down, or behind |

`isolated` is a live node that lost its peer: it keeps writing (a live node never fences and never
steps down on silence; only the standby side fences, so there is no shoot-out), but the pair is not
protected and SNMP must say so. `draining` and `handed-over` are the live node's side of a
switchback (RN10-2..4): after the handover it can no longer cancel, and it keeps claiming the lead
(so neither node runs a cold-start election) until the peer's higher epoch is verified; if the peer
vanishes instead, it is as current as a standby and takes the standby's path (fence, promote).
`fenced` means "fenced off from writes and from automatic promotion": a node that has just started,
stepped down after a higher epoch, or fell behind the live node. It becomes `standby` once caught up,
or is promoted only by an operator who accepts its lost-transaction window (DECISIONS "Primary /
disaster-recovery pair"; contract 12.5). Only a current `standby` is promoted automatically, because
with synchronous replication it holds every transaction a carrier was told succeeded.

Rules the table encodes (contract 12.4, FRS RN10-1..4, IIS 5.3.1.2):
- promotion needs both heartbeat paths lost for the dead time AND the peer fenced, or an operator's
  confirmation (which itself counts only while both paths are lost); one path lost is an alarm;
- a writing node that learns of a (verified) higher epoch stops writing at once and resynchronises;
- promoting raises the epoch; a node becomes a writer only through promoting, or by cancelling a
  switchback before the handover (it never stopped leading at its epoch);
- events that make no sense in a role change nothing (no row).

Epochs and who may lead a cold start are decided by `next_epoch` and `should_lead` below.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, IntEnum, StrEnum


class Role(StrEnum):
    PRIMARY_LIVE = "primary-live"
    ISOLATED = "isolated"
    DRAINING = "draining"
    HANDED_OVER = "handed-over"
    PROMOTING = "promoting"
    STANDBY = "standby"
    FENCED = "fenced"


WRITING = frozenset({Role.PRIMARY_LIVE, Role.ISOLATED})
SERVING = WRITING | {Role.DRAINING, Role.HANDED_OVER}  # the replication sender answers followers
FOLLOWING = frozenset({Role.STANDBY, Role.FENCED})  # the replication receiver follows the peer
CLAIMS_LEAD = SERVING | {Role.PROMOTING}  # roles another node must not compete with


class Aarq(IntEnum):
    """The NpacAssociationInfo ErrorCode an AARE carries (IIS 5.3.1.2, L30285-30293)."""
    ACCEPT = 0
    RETRY_SAME_HOST = 2
    TRY_OTHER_HOST = 3


# --- events (facts the manager observed) ---------------------------------------------------------

@dataclass(frozen=True)
class PathLost:
    path: str  # "network" | "serial"


@dataclass(frozen=True)
class PathRestored:
    path: str


@dataclass(frozen=True)
class BothPathsLost:
    """No valid heartbeat on either path for the dead time."""


@dataclass(frozen=True)
class PeerHeard:
    """A valid heartbeat again on at least one path after both were lost."""


@dataclass(frozen=True)
class FenceSucceeded:
    pass


@dataclass(frozen=True)
class FenceFailed:
    reason: str = ""


@dataclass(frozen=True)
class OperatorConfirmedPromotion:
    pass


@dataclass(frozen=True)
class CaughtUp:
    """Following: current with the live peer. Promoting: the new epoch is committed."""


@dataclass(frozen=True)
class FellBehind:
    """A standby no longer holds every acknowledged transaction (link lost, peer went async)."""


@dataclass(frozen=True)
class PeerHigherEpoch:
    """The peer leads at a higher epoch, verified over the replication channel, not just claimed."""


@dataclass(frozen=True)
class FollowerAhead:
    """A node following this writer presented a higher epoch (an older, superseded promotion of its
    own): the writer raises its epoch above it so that node can resynchronise from it."""


@dataclass(frozen=True)
class Elected:
    """Cold start: neither node leads and `should_lead` picked this one."""


@dataclass(frozen=True)
class SwitchbackRequested:
    pass


@dataclass(frozen=True)
class SwitchbackCancelled:
    pass


@dataclass(frozen=True)
class SwitchbackDrained:
    """The draining node's peer acknowledged its last journal row."""


@dataclass(frozen=True)
class SwitchbackReplayed:
    """The peer handed over and this node applied every row it wrote (RN10-4)."""


Event = (PathLost | PathRestored | BothPathsLost | PeerHeard | FenceSucceeded | FenceFailed
         | OperatorConfirmedPromotion | CaughtUp | FellBehind | PeerHigherEpoch | FollowerAhead | Elected
         | SwitchbackRequested | SwitchbackCancelled | SwitchbackDrained | SwitchbackReplayed)


# --- effects (what the caller must do, in order) -------------------------------------------------

@dataclass(frozen=True)
class AnswerAarq:
    answer: Aarq


@dataclass(frozen=True)
class Writes:
    allowed: bool


@dataclass(frozen=True)
class Follow:
    """Run (or stop) the replication receiver against the peer."""
    on: bool


@dataclass(frozen=True)
class RaiseEpoch:
    pass


@dataclass(frozen=True)
class FencePeer:
    pass


@dataclass(frozen=True)
class Alarm:
    name: str
    raised: bool


@dataclass(frozen=True)
class OutageNotices:
    """Start/stop the users' outage notices: first within 15 min, then every 30 min (SLR 22/23);
    stopping sends the restoration notice with database status and lost window (contract 12.5)."""
    on: bool


@dataclass(frozen=True)
class NotifyUsers:
    kind: str  # "switchback": the switchback time to every SOA and LSMS (RN10-2/3)


@dataclass(frozen=True)
class Cutover:
    """Record an instant of the 10-minute cutover (contract 12.4): detected, decided, completed."""
    mark: str


@dataclass(frozen=True)
class Drain:
    """Refuse new associations, release the existing ones, abort what is left (IIS 5.3.2)."""


@dataclass(frozen=True)
class HandOver:
    """Tell the peer, over replication, that it holds every row and may promote."""


Effect = (AnswerAarq | Writes | Follow | RaiseEpoch | FencePeer | Alarm | OutageNotices | NotifyUsers
          | Cutover | Drain | HandOver)

PEER_LOST = "peer-lost"
FENCE_FAILED = "fence-failed"
NEEDS_OPERATOR = "promotion-needs-operator"
STALE_EPOCH = "stale-epoch"
BEHIND = "standby-behind"
SWITCHBACK_ABORTED = "switchback-aborted"


def path_alarm(path: str) -> str:
    return f"heartbeat-{path}"


# --- the table ------------------------------------------------------------------------------------

class Guard(Enum):
    ANY = "any"
    PEER_LOST = "peer-lost"    # both paths are (still) lost
    PEER_HEARD = "peer-heard"  # at least one path is up


@dataclass(frozen=True)
class Rule:
    to: Role
    effects: tuple[Effect, ...] = ()
    when: Guard = Guard.ANY


@dataclass(frozen=True)
class Profile:
    aarq: Aarq
    writes: bool
    follow: bool


PROFILE: dict[Role, Profile] = {
    Role.PRIMARY_LIVE: Profile(Aarq.ACCEPT, True, False),
    Role.ISOLATED: Profile(Aarq.ACCEPT, True, False),
    Role.DRAINING: Profile(Aarq.TRY_OTHER_HOST, False, False),
    Role.HANDED_OVER: Profile(Aarq.TRY_OTHER_HOST, False, False),
    Role.PROMOTING: Profile(Aarq.RETRY_SAME_HOST, False, False),
    Role.STANDBY: Profile(Aarq.TRY_OTHER_HOST, False, True),
    Role.FENCED: Profile(Aarq.TRY_OTHER_HOST, False, True),
}

R = Role
_STEP_DOWN = (Alarm(STALE_EPOCH, True),)
_PEER_BACK = (Alarm(PEER_LOST, False), Alarm(NEEDS_OPERATOR, False), OutageNotices(False))
_TAKE_OVER = (Alarm(FENCE_FAILED, False), Alarm(NEEDS_OPERATOR, False), Cutover("decided"), RaiseEpoch())
_PEER_GONE = (Alarm(PEER_LOST, True), Cutover("detected"), OutageNotices(True), FencePeer())
_FENCE_FAILED = (Alarm(FENCE_FAILED, True), Alarm(NEEDS_OPERATOR, True))

TABLE: dict[tuple[Role, type], tuple[Rule, ...]] = {
    # the live node: silence makes it isolated, never a cutover; a verified higher epoch stops it
    (R.PRIMARY_LIVE, BothPathsLost): (Rule(R.ISOLATED, (Alarm(PEER_LOST, True),)),),
    (R.PRIMARY_LIVE, PeerHigherEpoch): (Rule(R.FENCED, _STEP_DOWN),),
    (R.PRIMARY_LIVE, SwitchbackRequested): (Rule(R.DRAINING, (NotifyUsers("switchback"), Drain()),
                                                 Guard.PEER_HEARD),),
    (R.PRIMARY_LIVE, FollowerAhead): (Rule(R.PRIMARY_LIVE, (RaiseEpoch(),)),),
    (R.ISOLATED, PeerHeard): (Rule(R.PRIMARY_LIVE, (Alarm(PEER_LOST, False),)),),
    (R.ISOLATED, PeerHigherEpoch): (Rule(R.FENCED, _STEP_DOWN),),
    (R.ISOLATED, FollowerAhead): (Rule(R.ISOLATED, (RaiseEpoch(),)),),
    # switchback, live side: hand over once the peer holds every row (RN10-4)
    (R.DRAINING, SwitchbackDrained): (Rule(R.HANDED_OVER, (HandOver(),)),),
    (R.DRAINING, SwitchbackCancelled): (Rule(R.PRIMARY_LIVE, (NotifyUsers("switchback-cancelled"),)),),
    (R.DRAINING, BothPathsLost): (Rule(R.ISOLATED, (Alarm(PEER_LOST, True), Alarm(SWITCHBACK_ABORTED, True),
                                                    NotifyUsers("switchback-cancelled"))),),
    (R.DRAINING, PeerHigherEpoch): (Rule(R.FENCED, _STEP_DOWN),),
    (R.HANDED_OVER, PeerHigherEpoch): (Rule(R.FENCED),),  # the expected end of a handover: no alarm
    (R.HANDED_OVER, BothPathsLost): (Rule(R.HANDED_OVER, _PEER_GONE),),
    (R.HANDED_OVER, FenceSucceeded): (Rule(R.PROMOTING, _TAKE_OVER),),
    (R.HANDED_OVER, FenceFailed): (Rule(R.HANDED_OVER, _FENCE_FAILED, Guard.PEER_LOST),),
    (R.HANDED_OVER, OperatorConfirmedPromotion): (Rule(R.PROMOTING, _TAKE_OVER, Guard.PEER_LOST),),
    (R.HANDED_OVER, PeerHeard): (Rule(R.HANDED_OVER, (*_PEER_BACK, Alarm(FENCE_FAILED, False))),),
    # promoting: live once the new epoch is committed
    # (after a cutover the peer is fenced: the new writer is alone, so `isolated`)
    (R.PROMOTING, CaughtUp): (Rule(R.ISOLATED, (Cutover("completed"), OutageNotices(False)), Guard.PEER_LOST),
                              Rule(R.PRIMARY_LIVE, (Cutover("completed"), OutageNotices(False)))),
    (R.PROMOTING, PeerHigherEpoch): (Rule(R.FENCED, _STEP_DOWN),),
    (R.PROMOTING, PeerHeard): (Rule(R.PROMOTING, (Alarm(PEER_LOST, False),)),),
    # the current standby: the only node promoted without an operator
    (R.STANDBY, BothPathsLost): (Rule(R.STANDBY, _PEER_GONE),),
    (R.STANDBY, FenceSucceeded): (Rule(R.PROMOTING, _TAKE_OVER),),
    (R.STANDBY, FenceFailed): (Rule(R.STANDBY, _FENCE_FAILED, Guard.PEER_LOST),
                               Rule(R.STANDBY, (Alarm(FENCE_FAILED, True),))),
    (R.STANDBY, OperatorConfirmedPromotion): (Rule(R.PROMOTING, _TAKE_OVER, Guard.PEER_LOST),),
    (R.STANDBY, PeerHeard): (Rule(R.STANDBY, (*_PEER_BACK, Alarm(FENCE_FAILED, False))),),
    (R.STANDBY, FellBehind): (Rule(R.FENCED, (Alarm(BEHIND, True),)),),
    (R.STANDBY, SwitchbackReplayed): (Rule(R.PROMOTING, (Cutover("switchback"), RaiseEpoch()), Guard.PEER_HEARD),),
    (R.STANDBY, Elected): (Rule(R.PROMOTING, (RaiseEpoch(),), Guard.PEER_HEARD),),
    # fenced: rejoin by catching up; promoted only by an operator (or a cold-start election)
    (R.FENCED, CaughtUp): (Rule(R.STANDBY, (Alarm(BEHIND, False), Alarm(STALE_EPOCH, False))),),
    (R.FENCED, BothPathsLost): (Rule(R.FENCED, (Alarm(PEER_LOST, True), Alarm(NEEDS_OPERATOR, True),
                                                Cutover("detected"), OutageNotices(True))),),
    (R.FENCED, PeerHeard): (Rule(R.FENCED, _PEER_BACK),),
    (R.FENCED, OperatorConfirmedPromotion): (Rule(R.PROMOTING, _TAKE_OVER, Guard.PEER_LOST),),
    (R.FENCED, Elected): (Rule(R.PROMOTING, (RaiseEpoch(),), Guard.PEER_HEARD),),
}


@dataclass(frozen=True)
class HaState:
    role: Role = Role.FENCED  # every node starts fenced: it has not yet seen who leads
    peer_lost: bool = False


def _matches(guard: Guard, peer_lost: bool) -> bool:
    return guard is Guard.ANY or (guard is Guard.PEER_LOST) == peer_lost


def rule_for(state: HaState, event: Event) -> Rule | None:
    for rule in TABLE.get((state.role, type(event)), ()):
        if _matches(rule.when, state.peer_lost):
            return rule
    return None


def step(state: HaState, event: Event) -> tuple[HaState, tuple[Effect, ...]]:
    """The one transition function: pure, total (unknown pairs change nothing)."""
    if isinstance(event, (PathLost, PathRestored)):
        return state, (Alarm(path_alarm(event.path), isinstance(event, PathLost)),)
    if isinstance(event, BothPathsLost):
        state = replace(state, peer_lost=True)
    elif isinstance(event, PeerHeard):
        state = replace(state, peer_lost=False)
    rule = rule_for(state, event)
    if rule is None:
        return state, ()
    if rule.to is state.role:
        return state, rule.effects
    profile = PROFILE[rule.to]
    role_effects: tuple[Effect, ...] = (Writes(profile.writes), AnswerAarq(profile.aarq), Follow(profile.follow))
    # losing write rights takes effect before anything else; gaining them only after the rest
    # (the epoch raised first), so no ordering of the effects ever has two writers
    effects = role_effects + rule.effects if not profile.writes else rule.effects + role_effects
    return replace(state, role=rule.to), effects


# --- epochs and cold-start leadership -------------------------------------------------------------

def next_epoch(current: int, seen: int, parity: int) -> int:
    """The epoch a promotion takes: above every epoch known, and of this node's parity (primary 0,
    DR 1) so two nodes promoted without hearing each other never share an epoch."""
    e = max(current, seen) + 1
    return e if e % 2 == parity % 2 else e + 1


@dataclass(frozen=True, order=True)
class Position:
    """What a node holds, compared in this order: epoch, journal sequence, preferred, name."""
    epoch: int
    sequence: int
    preferred: bool
    name: str


def should_lead(me: Position, peer: Position) -> bool:
    """Cold start with neither node leading: the one holding more leads (ties: the configured
    primary). A peer that overstates its position can only keep this node from leading, and its
    claim is then checked against its journal when this node resynchronises from it."""
    return me > peer


def outranks(peer_epoch: int, peer_preferred: bool, my_epoch: int, my_preferred: bool) -> bool:
    """Does a leading peer win over this leading node? Higher epoch, or equal epoch (which parity
    makes impossible between honest nodes) and the configured primary."""
    return (peer_epoch, peer_preferred) > (my_epoch, my_preferred)
