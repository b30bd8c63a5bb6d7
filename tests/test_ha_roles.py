"""The HA role machine (ha/roles.py): every rule of the table, the effect ordering that keeps a single
writer, epochs, cold-start leadership, and a stateful model of the pair driven by random events
(contract 12.4/12.5, FRS RN10-1..4, IIS 5.3.1.2 primary/secondary behaviour, SLR 22/23)."""
from __future__ import annotations

import typing
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ha.manager import NoticeSchedule
from ha.roles import (BEHIND, CLAIMS_LEAD, FENCE_FAILED, FOLLOWING, NEEDS_OPERATOR, PEER_LOST, PROFILE, SERVING,
                      STALE_EPOCH, TABLE, WRITING, Aarq, Alarm, AnswerAarq, BothPathsLost, CaughtUp, Cutover, Drain,
                      Elected, Event, FellBehind, FenceFailed, FencePeer, FenceSucceeded, Follow, FollowerAhead,
                      Guard, HandOver, HaState, NotifyUsers, OperatorConfirmedPromotion, OutageNotices, PathLost,
                      PathRestored, PeerHeard, PeerHigherEpoch, Position, RaiseEpoch, Role, SwitchbackCancelled,
                      SwitchbackDrained, SwitchbackReplayed, SwitchbackRequested, Writes, next_epoch, outranks,
                      path_alarm, rule_for, should_lead, step)

R = Role
EVENT_TYPES = [t for t in typing.get_args(Event)]


def event_of(kind: type) -> Event:
    return kind("network") if kind in (PathLost, PathRestored) else kind()


def run(state: HaState, *events: Event) -> tuple[HaState, list]:
    effects: list = []
    for event in events:
        state, more = step(state, event)
        effects += more
    return state, effects


LIVE = HaState(R.PRIMARY_LIVE)
STANDBY = HaState(R.STANDBY)
LOST = dict(peer_lost=True)


# --- the table, rule by rule -------------------------------------------------------------------------

@pytest.mark.parametrize("key", list(TABLE), ids=lambda k: f"{k[0]}+{k[1].__name__}")
def test_every_rule_of_the_table_does_what_it_says(key):
    """Each row: from its role, under its guard, the event leads to its role with its effects."""
    role, kind = key
    for row in TABLE[key]:
        peer_lost = row.when is Guard.PEER_LOST or (row.when is Guard.ANY and kind is BothPathsLost)
        if kind is PeerHeard:
            peer_lost = False
        state, effects = step(HaState(role, peer_lost), event_of(kind))
        assert state.role is row.to
        assert all(e in effects for e in row.effects)
        if row.to is not role:
            profile = PROFILE[row.to]
            assert Writes(profile.writes) in effects and AnswerAarq(profile.aarq) in effects
            assert Follow(profile.follow) in effects


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda k: k.__name__)
@pytest.mark.parametrize("peer_lost", [False, True])
def test_pairs_without_a_row_change_nothing(role, kind, peer_lost):
    """The machine is total: an event that means nothing in a role is no transition and no effect."""
    state = HaState(role, peer_lost)
    event = event_of(kind)
    if kind in (PathLost, PathRestored):
        return
    probe = HaState(role, True if kind is BothPathsLost else False if kind is PeerHeard else peer_lost)
    if rule_for(probe, event) is not None:
        return
    new, effects = step(state, event)
    assert (new.role, effects) == (role, ())


@pytest.mark.parametrize("role", list(Role))
def test_one_path_lost_or_restored_is_an_alarm_never_a_cutover(role):
    """Contract 12.4 / ARCHITECTURE: one heartbeat path lost is an alarm, not a cutover."""
    for path in ("network", "serial"):
        state, effects = step(HaState(role), PathLost(path))
        assert state == HaState(role) and effects == (Alarm(path_alarm(path), True),)
        state, effects = step(state, PathRestored(path))
        assert state == HaState(role) and effects == (Alarm(path_alarm(path), False),)


def test_the_aarq_answers_are_the_iis_primary_secondary_table():
    """IIS 5.3.1.2 / RN10-1: only a live node accepts; the backup says try-other-host while the primary
    is up; a node resynchronising to take over says retry-same-host."""
    assert {r: PROFILE[r].aarq for r in Role} == {
        R.PRIMARY_LIVE: Aarq.ACCEPT, R.ISOLATED: Aarq.ACCEPT, R.PROMOTING: Aarq.RETRY_SAME_HOST,
        R.STANDBY: Aarq.TRY_OTHER_HOST, R.FENCED: Aarq.TRY_OTHER_HOST, R.DRAINING: Aarq.TRY_OTHER_HOST,
        R.HANDED_OVER: Aarq.TRY_OTHER_HOST}
    assert {r for r in Role if PROFILE[r].writes} == WRITING == {R.PRIMARY_LIVE, R.ISOLATED}
    assert WRITING <= SERVING <= CLAIMS_LEAD and not FOLLOWING & CLAIMS_LEAD


# --- cutover ------------------------------------------------------------------------------------------

def test_both_paths_lost_on_the_standby_fences_first_and_only_a_fence_promotes():
    """Contract 12.4: detection (both paths for the dead time) -> fence -> promote; the 10 minutes are
    measured from the recorded detection; users are told within 15 min (SLR 22)."""
    state, effects = step(STANDBY, BothPathsLost())
    assert state == HaState(R.STANDBY, True)
    assert effects == (Alarm(PEER_LOST, True), Cutover("detected"), OutageNotices(True), FencePeer())
    promoted, effects = step(state, FenceSucceeded())
    assert promoted.role is R.PROMOTING
    assert effects[:3] == (Writes(False), AnswerAarq(Aarq.RETRY_SAME_HOST), Follow(False))
    assert Cutover("decided") in effects and RaiseEpoch() in effects
    live, effects = step(promoted, CaughtUp())
    assert live.role is R.ISOLATED  # its peer is fenced: alone, and says so
    assert effects[-3:] == (Writes(True), AnswerAarq(Aarq.ACCEPT), Follow(False))
    assert Cutover("completed") in effects and OutageNotices(False) in effects


def test_a_failed_fence_never_promotes_and_asks_for_an_operator():
    """Never two writers: without a fence the standby stays standby and alarms."""
    state, effects = run(STANDBY, BothPathsLost(), FenceFailed("ipmi timeout"))
    assert state.role is R.STANDBY
    assert Alarm(FENCE_FAILED, True) in effects and Alarm(NEEDS_OPERATOR, True) in effects
    assert not any(isinstance(e, (RaiseEpoch, Writes)) for e in effects)


def test_an_operator_confirmation_counts_only_while_both_paths_are_lost():
    """Operator confirmation replaces the fence, not the both-paths rule."""
    for role in (R.STANDBY, R.FENCED):
        assert step(HaState(role), OperatorConfirmedPromotion()) == (HaState(role), ())
        state, effects = step(HaState(role, **LOST), OperatorConfirmedPromotion())
        assert state.role is R.PROMOTING and RaiseEpoch() in effects


def test_the_live_node_never_fences_and_keeps_serving_alone():
    """A live node losing its peer becomes isolated: still the writer, alarmed, no fence, no cutover."""
    state, effects = step(LIVE, BothPathsLost())
    assert state == HaState(R.ISOLATED, True)
    assert FencePeer() not in effects and PROFILE[state.role].writes
    back, effects = step(state, PeerHeard())
    assert back == LIVE and effects[0] == Alarm(PEER_LOST, False)


def test_a_fenced_node_is_never_promoted_automatically():
    """A node not known to hold every acknowledged transaction (just started, stepped down, behind)
    needs an operator: losing the peer only alarms (contract 12.5)."""
    state, effects = run(HaState(R.FENCED), BothPathsLost(), FenceSucceeded())
    assert state.role is R.FENCED
    assert FencePeer() not in effects and Alarm(NEEDS_OPERATOR, True) in effects
    behind, effects = step(STANDBY, FellBehind())
    assert behind.role is R.FENCED and Alarm(BEHIND, True) in effects
    rejoined, effects = step(behind, CaughtUp())
    assert rejoined.role is R.STANDBY and Alarm(BEHIND, False) in effects


@pytest.mark.parametrize("role", [R.PRIMARY_LIVE, R.ISOLATED, R.DRAINING, R.PROMOTING])
def test_a_verified_higher_epoch_stops_writes_before_anything_else(role):
    """A node with a stale epoch never accepts writes: it steps down at once and rejoins as standby."""
    state, effects = step(HaState(role), PeerHigherEpoch())
    assert state.role is R.FENCED
    assert effects[0] == Writes(False) and AnswerAarq(Aarq.TRY_OTHER_HOST) in effects and Follow(True) in effects
    assert Alarm(STALE_EPOCH, True) in effects
    state, _ = step(state, CaughtUp())
    assert state.role is R.STANDBY


@pytest.mark.parametrize("role", list(Role))
def test_no_transition_grants_writes_before_the_epoch_is_raised(role):
    """Ordering: a step that takes write rights away does so first; one that grants them does so last,
    and only from promoting (whose entry raised the epoch) or from draining, which still leads at its
    epoch until it hands over (a cancelled switchback)."""
    for kind in EVENT_TYPES:
        for peer_lost in (False, True):
            state, effects = step(HaState(role, peer_lost), event_of(kind))
            if state.role is role:
                assert not any(isinstance(e, Writes) for e in effects)
                continue
            writes = PROFILE[state.role].writes
            position = effects.index(Writes(writes))
            assert position == (len(effects) - 3 if writes else 0)
            if writes and not PROFILE[role].writes:
                assert role in (R.PROMOTING, R.DRAINING)


def test_a_writer_raises_its_epoch_above_a_follower_that_claims_more():
    """A follower at a higher epoch (its own superseded promotion) is refused rows; the writer raises
    its epoch so that node can resynchronise from it."""
    for role in WRITING:
        state, effects = step(HaState(role), FollowerAhead())
        assert state.role is role and effects == (RaiseEpoch(),)


# --- switchback --------------------------------------------------------------------------------------

def test_switchback_drains_hands_over_and_the_peer_promotes():
    """RN10-2/3: users are told the switchback time before associations are drained; RN10-4: the DR
    hands over only once the primary holds every row; the primary promotes on that handover."""
    dr, effects = step(LIVE, SwitchbackRequested())
    assert dr.role is R.DRAINING
    assert effects[0] == Writes(False)
    assert effects.index(NotifyUsers("switchback")) < effects.index(Drain())
    dr, effects = step(dr, SwitchbackDrained())
    assert dr.role is R.HANDED_OVER and HandOver() in effects
    assert step(dr, SwitchbackCancelled()) == (dr, ())  # too late: the peer may be promoting
    primary, effects = step(STANDBY, SwitchbackReplayed())
    assert primary.role is R.PROMOTING and RaiseEpoch() in effects
    primary, _ = step(primary, CaughtUp())
    assert primary.role is R.PRIMARY_LIVE
    dr, effects = step(dr, PeerHigherEpoch())
    assert dr.role is R.FENCED and Alarm(STALE_EPOCH, True) not in effects


def test_switchback_needs_the_peer_and_can_be_cancelled_before_the_handover():
    assert step(HaState(R.PRIMARY_LIVE, True), SwitchbackRequested()) == (HaState(R.PRIMARY_LIVE, True), ())
    assert step(HaState(R.ISOLATED, True), SwitchbackRequested())[0].role is R.ISOLATED
    draining, _ = step(LIVE, SwitchbackRequested())
    back, effects = step(draining, SwitchbackCancelled())
    assert back == LIVE and effects[-3:] == (Writes(True), AnswerAarq(Aarq.ACCEPT), Follow(False))
    alone, effects = step(draining, BothPathsLost())
    assert alone.role is R.ISOLATED and NotifyUsers("switchback-cancelled") in effects


def test_a_handed_over_node_whose_peer_vanishes_takes_the_standby_path():
    state, effects = step(HaState(R.HANDED_OVER), BothPathsLost())
    assert state.role is R.HANDED_OVER and FencePeer() in effects
    state, _ = step(state, FenceSucceeded())
    assert state.role is R.PROMOTING


# --- epochs, leadership, notices ---------------------------------------------------------------------

@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 1))
def test_next_epoch_is_above_everything_known_and_of_the_nodes_parity(current, seen, parity):
    e = next_epoch(current, seen, parity)
    assert e > max(current, seen) and e % 2 == parity and e <= max(current, seen) + 2


def test_cold_start_leadership_prefers_more_data_then_the_configured_primary():
    primary = Position(0, 0, True, "primary")
    dr = Position(0, 0, False, "dr")
    assert should_lead(primary, dr) and not should_lead(dr, primary)
    richer_dr = Position(0, 5, False, "dr")
    assert should_lead(richer_dr, primary) and not should_lead(primary, richer_dr)
    assert should_lead(Position(3, 0, False, "dr"), Position(2, 99, True, "primary"))
    assert outranks(3, False, 2, True) and not outranks(2, True, 3, False) and outranks(2, True, 2, False)


def test_outage_notices_within_15_minutes_then_every_30_minutes():
    """SLR 22: users notified within 15 minutes of detection (at once when the cutover decision
    confirms the outage, else after 10 minutes of silence); SLR 23: updates every 30 minutes."""
    unconfirmed = NoticeSchedule(start=100.0, first=600.0, every=1800.0)
    assert [t for t in range(100, 100 + 7200, 60) if unconfirmed.due(float(t))] == [700, 2500, 4300, 6100]
    confirmed = NoticeSchedule(start=100.0, first=600.0, every=1800.0)
    assert not confirmed.due(130.0)
    confirmed.confirm(160.0)
    assert [t for t in range(160, 160 + 3700, 60) if confirmed.due(float(t))] == [160, 1960, 3760]
    confirmed.confirm(4000.0)  # confirming again changes nothing once users were told
    assert not confirmed.due(4000.0)


# --- the pair as a model ------------------------------------------------------------------------------

@dataclass
class ModelNode:
    name: str
    preferred: bool
    alive: bool = True
    state: HaState = field(default_factory=HaState)
    epoch: int = 0
    seq: int = 0
    seen: int = 0
    current: bool = False
    fence_pending: bool = False
    handover_wanted: bool = False
    handover_received: bool = False
    at_risk: bool = False  # acknowledged rows (async policy) the peer does not hold

    @property
    def role(self) -> Role:
        return self.state.role

    def position(self) -> Position:
        return Position(self.epoch, self.seq, self.preferred, self.name)


class Pair(RuleBasedStateMachine):
    """Two nodes, two paths, crashes, fences that work or not, operators, switchbacks. Events reach
    each node as the manager derives them (ha/manager.py); verified claims need the network path
    (the replication endpoint), heartbeats either path."""

    @initialize(paired=st.booleans(), policy=st.sampled_from(["async", "refuse"]))
    def boot(self, paired: bool, policy: str) -> None:
        """A cold start, or an established pair (live primary at epoch 2, current DR standby)."""
        self.policy = policy
        self.acked = 0  # the highest row acknowledged to a carrier with the follower holding it
        self.nodes = {"primary": ModelNode("primary", True), "dr": ModelNode("dr", False)}
        self.paths = {"network": True, "serial": True}
        self.epochs: dict[int, str] = {}
        if paired:
            self.nodes["primary"] = ModelNode("primary", True, state=HaState(R.PRIMARY_LIVE), epoch=2, seq=3)
            self.nodes["dr"] = ModelNode("dr", False, state=HaState(R.STANDBY), epoch=2, seq=3, seen=2, current=True)
            self.epochs[2] = "primary"

    def peer_of(self, node: ModelNode) -> ModelNode:
        return self.nodes["dr" if node.name == "primary" else "primary"]

    def heard(self, node: ModelNode) -> bool:
        return self.peer_of(node).alive and any(self.paths.values())

    def reachable(self, node: ModelNode) -> bool:
        return self.peer_of(node).alive and self.paths["network"]

    def submit(self, node: ModelNode, event: Event) -> None:
        before = node.role
        node.state, effects = step(node.state, event)
        if node.role is R.PROMOTING and before is not R.PROMOTING and self.policy == "refuse" \
                and not isinstance(event, OperatorConfirmedPromotion):
            assert node.seq >= self.acked, "an automatic promotion lost an acknowledged transaction"
        if node.role not in FOLLOWING:
            node.handover_received = False
        if node.role in WRITING:
            node.handover_wanted = False  # as ReplicationSender.set_role does
        for effect in effects:
            if isinstance(effect, RaiseEpoch):
                node.epoch = next_epoch(node.epoch, node.seen, 0 if node.preferred else 1)
                node.seq += 1
                assert self.epochs.setdefault(node.epoch, node.name) == node.name, "an epoch used twice"
            elif isinstance(effect, FencePeer):
                node.fence_pending = True
            elif isinstance(effect, HandOver):
                node.handover_wanted = True
            elif isinstance(effect, Follow) and effect.on and before not in FOLLOWING:
                node.current = False
        if isinstance(event, PeerHigherEpoch):
            assert node.role not in WRITING

    names = st.sampled_from(["primary", "dr"])

    @rule(path=st.sampled_from(["network", "serial"]), up=st.booleans())
    def set_path(self, path: str, up: bool) -> None:
        self.paths[path] = up

    @rule(up=st.booleans())
    def set_both_paths(self, up: bool) -> None:
        self.paths = {"network": up, "serial": up}

    @rule(name=names)
    def crash(self, name: str) -> None:
        self.nodes[name].alive = False

    @rule(name=names)
    def restart(self, name: str) -> None:
        node = self.nodes[name]
        if not node.alive:
            self.nodes[name] = ModelNode(name, node.preferred, epoch=node.epoch, seq=node.seq, seen=node.seen)

    @rule(name=names)
    def write(self, name: str) -> None:
        node, peer = self.nodes[name], self.peer_of(self.nodes[name])
        if not (node.alive and node.role in WRITING):
            return
        if self.reachable(node) and peer.role in FOLLOWING and peer.current:
            node.seq += 1
            peer.seq = self.acked = node.seq  # synchronous: acknowledged once the follower holds it
        elif self.policy == "async":
            node.seq += 1
            node.at_risk = True  # acknowledged by this node alone

    @rule(name=names)
    def replicate(self, name: str) -> None:
        node, peer = self.nodes[name], self.peer_of(self.nodes[name])
        if node.alive and node.role in FOLLOWING and self.reachable(node) and peer.role in SERVING \
                and peer.epoch >= node.epoch:
            node.epoch, node.seq, node.current = peer.epoch, peer.seq, True
            peer.at_risk = False
            node.handover_received = peer.handover_wanted

    @rule(name=names, ok=st.booleans())
    def fence_result(self, name: str, ok: bool) -> None:
        node = self.nodes[name]
        if node.alive and node.fence_pending:
            node.fence_pending = False
            if ok:
                self.peer_of(node).alive = False  # powered off
            self.submit(node, FenceSucceeded() if ok else FenceFailed("model"))

    @rule(name=names)
    def operator_confirms_a_dead_peer(self, name: str) -> None:
        node = self.nodes[name]
        if node.alive and not self.peer_of(node).alive:  # the M&P check the operator makes
            self.submit(node, OperatorConfirmedPromotion())

    @rule(name=names)
    def operator_confirms_while_the_peer_is_heard(self, name: str) -> None:
        node = self.nodes[name]
        if node.alive and self.heard(node) and not node.state.peer_lost:
            before = node.state
            self.submit(node, OperatorConfirmedPromotion())
            assert node.state == before

    @rule(name=names, cancel=st.booleans())
    def switchback(self, name: str, cancel: bool) -> None:
        node = self.nodes[name]
        if node.alive:
            self.submit(node, SwitchbackCancelled() if cancel else SwitchbackRequested())

    @rule(name=names)
    def tick(self, name: str) -> None:
        node, peer = self.nodes[name], self.peer_of(self.nodes[name])
        if not node.alive:
            return
        heard = self.heard(node)
        if heard:
            node.seen = max(node.seen, peer.epoch)
            if peer.at_risk and node.role is R.STANDBY:
                node.current = False  # the heartbeat's at_risk_from: no longer holds every ack
        if not heard and not node.state.peer_lost:
            self.submit(node, BothPathsLost())
        elif heard and node.state.peer_lost:
            self.submit(node, PeerHeard())
        role = node.role
        if role in WRITING and self.reachable(node) and peer.role in FOLLOWING and peer.epoch > node.epoch:
            node.seen = max(node.seen, peer.epoch)
            self.submit(node, FollowerAhead())
        elif role is R.FENCED and node.current:
            self.submit(node, CaughtUp())
        elif role is R.STANDBY and node.handover_received:
            self.submit(node, SwitchbackReplayed())
        elif role is R.STANDBY and not node.current:
            self.submit(node, FellBehind())
        elif role is R.PROMOTING:
            self.submit(node, CaughtUp())
        elif role is R.DRAINING and self.reachable(node) and peer.role in FOLLOWING and peer.current \
                and peer.seq == node.seq:
            self.submit(node, SwitchbackDrained())
        if not (self.reachable(node) and heard):
            return
        if node.role in CLAIMS_LEAD and peer.role in CLAIMS_LEAD and outranks(
                peer.epoch, peer.preferred, node.epoch, node.preferred):
            self.submit(node, PeerHigherEpoch())
        elif node.role in FOLLOWING and peer.role not in CLAIMS_LEAD and should_lead(
                node.position(), peer.position()):
            self.submit(node, Elected())

    @rule()
    def settle(self) -> None:
        for _ in range(3):
            for name in ("primary", "dr"):
                self.tick(name)
                self.replicate(name)

    @invariant()
    def never_two_writers(self) -> None:
        alive = [n for n in getattr(self, "nodes", {}).values() if n.alive]
        assert sum(n.role in WRITING for n in alive) <= 1
        assert sum(n.role in WRITING or n.role is R.PROMOTING for n in alive) <= 1

    @invariant()
    def a_writer_holds_the_highest_epoch_of_any_leader(self) -> None:
        alive = [n for n in getattr(self, "nodes", {}).values() if n.alive]
        for writer in (n for n in alive if n.role in WRITING):
            assert all(n.epoch <= writer.epoch for n in alive if n.role in CLAIMS_LEAD)


Pair.TestCase.settings = settings(max_examples=300, stateful_step_count=60, deadline=None)
TestPair = Pair.TestCase
