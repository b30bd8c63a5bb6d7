"""The subscription-version state machine: ONE table of the FRS transitions (§5.1.1.1, seed
L10598-11098; catalogues 02-frs-a §8 and 03-frs-b §18) and a pure `step`.

Each `Rule` is one FRS transition (or sub-case: "7C1" is transition 7, case C.1) with who may ask,
its guards and its action; rules without a number are the in-place steps the same requirements
call for (a second SP's create joining the first, acknowledgements, concurrence requests). The first
rule whose requester and guards pass fires; if none does, `Refused` names the first failing guard.

`step(version, event, ctx)` moves one version and returns (new version, effects). `step_tn` applies
an event to a TN's versions, resolving the effects on siblings (a modify creating a new version,
T22 "previous active becomes old", T7C2) by stepping those siblings too.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from appliance.npac import actions as a
from appliance.npac import guards as g
from appliance.npac.effects import (
    CancelTimer, ConflictUnauthorizedPending, CreateVersion, Effect, Notification, Notify, StartTimer,
    StatusChanged, SupersedeActive,
)
from appliance.npac.events import DisconnectOverridesPending, EventKind as E, Superseded
from appliance.npac.guards import Context, Guard, Outcome, Refusal, Refused, Reply, Role
from appliance.npac.model import INTERNAL_FIELDS, BroadcastKind as K, Status, SubscriptionVersion
from appliance.npac.timers import changes as timer_changes, schedule

S = Status
V = SubscriptionVersion
R = Role
GUI = frozenset({R.NPAC})
SYSTEM = frozenset({R.INTERNAL})
EITHER_SP = frozenset({R.NPAC, R.OLD_SP, R.NEW_SP})
NEW_SIDE = frozenset({R.NPAC, R.NEW_SP})
OLD_SIDE = frozenset({R.NPAC, R.OLD_SP})
CURRENT = frozenset({R.NPAC, R.CURRENT_SP})
ACKERS = frozenset({R.OLD_SP, R.NEW_SP})


@dataclass(frozen=True)
class Rule:
    number: str  # FRS transition ("7C1"); "" for an in-place step
    source: Status | None  # None: no version yet
    event: E
    by: frozenset[Role]
    guards: tuple[Guard, ...]
    target: Status | None  # None: status unchanged
    action: a.Action
    cite: str
    announce: bool = False  # the SP data it records is told to the SOAs (attributeValueChange)
    spawns: bool = False  # the target status is that of a new version; the source is unchanged


ANY = ()  # no guard beyond who may ask
MODIFY = g.MODIFY_CHECKS
BC_ALL_OK, BC_SOME, BC_NONE = (g.outcome_is(Outcome.ALL_OK), g.outcome_is(Outcome.SOME_FAILED),
                               g.outcome_is(Outcome.ALL_FAILED))

TABLE: tuple[Rule, ...] = (
    # creation (T11, T12) and a second create joining the first (R5-20.4)
    Rule("12", None, E.NEW_SP_CREATE, NEW_SIDE, g.NEW_VERSION_CHECKS, S.PENDING, a.record_new_side,
         "T12 L10868 R5-20.5 RR5-8 (new SP first: DECISIONS)"),
    Rule("12", None, E.OLD_SP_CREATE, OLD_SIDE, (*g.NEW_VERSION_CHECKS, g.AUTHORIZES), S.PENDING,
         a.record_old_side, "T12 L10868 R5-21.6"),
    Rule("11", None, E.OLD_SP_CREATE, OLD_SIDE, (*g.NEW_VERSION_CHECKS, g.WITHHOLDS), S.CONFLICT,
         a.record_old_side, "T11 L10848 RR5-2.1"),
    Rule("", S.PENDING, E.NEW_SP_CREATE, NEW_SIDE, g.JOIN_CHECKS, None, a.record_new_side,
         "R5-20.4 L11970", announce=True),
    Rule("", S.PENDING, E.OLD_SP_CREATE, OLD_SIDE, (*g.JOIN_CHECKS, g.AUTHORIZES), None, a.record_old_side,
         "R5-20.4 R5-21.6 L12032", announce=True),
    Rule("7A2", S.PENDING, E.OLD_SP_CREATE, GUI, (*g.JOIN_CHECKS, g.WITHHOLDS), S.CONFLICT, a.record_old_side,
         "T7A2 L10762", announce=True),
    Rule("7C1", S.PENDING, E.OLD_SP_CREATE, frozenset({R.OLD_SP}), (*g.JOIN_CHECKS, g.WITHHOLDS), S.CONFLICT,
         a.record_old_side, "T7C1 L10778", announce=True),
    Rule("", S.CONFLICT, E.NEW_SP_CREATE, NEW_SIDE, g.JOIN_CHECKS, None, a.record_new_side,
         "R5-20.4 after RR5-2.1", announce=True),
    Rule("", S.CONFLICT_RESOLUTION_PENDING, E.NEW_SP_CREATE, NEW_SIDE, g.JOIN_CHECKS, None, a.record_new_side,
         "R5-20.4 after RR5-2.1", announce=True),
    # concurrence windows (T1, T2) and pending expiration
    Rule("", S.PENDING, E.T1_EXPIRED, SYSTEM, (g.AWAITING_CONCURRENCE,), None, a.request_concurrence,
         "R5-22 L12078"),
    Rule("9C1", S.PENDING, E.T2_EXPIRED, SYSTEM, (g.NEW_SP_SILENT,), S.CANCEL_PENDING, a.nothing,
         "T9C1 L10822 R5-23.4"),
    Rule("7B", S.PENDING, E.T2_EXPIRED, SYSTEM, (g.OLD_SP_SILENT,), S.CONFLICT, a.nothing,
         "T7B L10770 R5-23.5"),
    Rule("9C2", S.PENDING, E.PENDING_EXPIRED, SYSTEM, ANY, S.CANCEL_PENDING, a.nothing, "T9C2 L10826 RR5-1.4"),
    # modification in place (R5-31.2) and through authorization (RR5-10)
    Rule("7", S.PENDING, E.MODIFY, OLD_SIDE, (*MODIFY, g.REVOKES), S.CONFLICT, a.modify_in_place,
         "T7 by RR5-10.1 L12742", announce=True),
    Rule("", S.PENDING, E.MODIFY, EITHER_SP, (*MODIFY, g.KEEPS_AUTHORIZATION), None, a.modify_in_place,
         "R5-31.2 L12718", announce=True),
    Rule("5C", S.CONFLICT, E.MODIFY, OLD_SIDE, (*MODIFY, g.GRANTS), S.CONFLICT_RESOLUTION_PENDING,
         a.modify_granting, "T5C L10708 RR5-10.4", announce=True),
    Rule("", S.CONFLICT, E.MODIFY, EITHER_SP, (*MODIFY, g.NO_GRANT), None, a.modify_in_place,
         "R5-31.2 L12718", announce=True),
    Rule("6C", S.CONFLICT_RESOLUTION_PENDING, E.MODIFY, OLD_SIDE, (*MODIFY, g.REVOKES), S.CONFLICT,
         a.modify_in_place, "T6C L10736 RR5-10.1", announce=True),
    Rule("", S.CONFLICT_RESOLUTION_PENDING, E.MODIFY, EITHER_SP, (*MODIFY, g.KEEPS_AUTHORIZATION), None,
         a.modify_in_place, "R5-31.2 L12718", announce=True),
    Rule("25", S.ACTIVE, E.MODIFY, CURRENT, (*MODIFY, g.NO_OTHER_IN_FLIGHT), S.SENDING, a.modify_active,
         "T25 L11084 R5-34 R5-41 RR5-11", spawns=True),
    # conflict and its resolution
    Rule("7A1", S.PENDING, E.SET_CONFLICT, GUI, ANY, S.CONFLICT, a.nothing, "T7A1 L10752 R5-43"),
    Rule("3A", S.CANCEL_PENDING, E.SET_CONFLICT, GUI, ANY, S.CONFLICT, a.nothing, "T3A L10650 R5-43"),
    Rule("6A", S.CONFLICT_RESOLUTION_PENDING, E.SET_CONFLICT, GUI, ANY, S.CONFLICT, a.nothing, "T6A L10724 R5-43"),
    Rule("5", S.CONFLICT, E.CONFLICT_RESOLUTION_REQUEST, NEW_SIDE, ANY, S.CONFLICT_RESOLUTION_PENDING, a.nothing,
         "T5A/T5B L10688 R5-46 R5-50.1"),
    Rule("8", S.CONFLICT_RESOLUTION_PENDING, E.CONFLICT_RESOLUTION_ACK, ACKERS, (g.ACK_SIDE, g.CR_ACKS_COMPLETE),
         S.PENDING, a.conflict_resolution_ack, "T8 L10786 RR5-15"),
    Rule("", S.CONFLICT_RESOLUTION_PENDING, E.CONFLICT_RESOLUTION_ACK, ACKERS,
         (g.ACK_SIDE, g.CR_ACKS_INCOMPLETE), None, a.conflict_resolution_ack, "RR5-13 RR5-14 L13240"),
    Rule("", S.CONFLICT_RESOLUTION_PENDING, E.CONFLICT_RESOLUTION_INITIAL_EXPIRED, SYSTEM, ANY, None,
         a.request_conflict_resolution_acks, "RR5-17.4 L13332"),
    Rule("6B", S.CONFLICT_RESOLUTION_PENDING, E.CONFLICT_RESOLUTION_FINAL_EXPIRED, SYSTEM, ANY, S.CONFLICT,
         a.nothing, "T6B L10728 RR5-19 (flow 6.4.8, DECISIONS)"),
    Rule("1", S.CONFLICT, E.CONFLICT_EXPIRED, SYSTEM, ANY, S.CANCELED, a.nothing, "T1 L10610 R5-45.4"),
    # cancellation
    Rule("9", S.PENDING, E.CANCEL, EITHER_SP, ANY, S.CANCEL_PENDING, a.nothing, "T9A/T9B L10798 R5-70 RR5-27"),
    Rule("2", S.CONFLICT, E.CANCEL, EITHER_SP, ANY, S.CANCEL_PENDING, a.nothing, "T2 L10622 R5-70"),
    Rule("4", S.CONFLICT_RESOLUTION_PENDING, E.CANCEL, EITHER_SP, ANY, S.CANCEL_PENDING, a.nothing,
         "T4 L10668 R5-70"),
    Rule("13", S.DISCONNECT_PENDING, E.CANCEL, EITHER_SP, ANY, S.CANCEL_PENDING, a.nothing,
         "T13 L10888 R5-70 (either SP: DECISIONS)"),
    Rule("10", S.CANCEL_PENDING, E.CANCEL_ACK, ACKERS, (g.ACK_SIDE, g.CANCEL_ACKS_COMPLETE), S.CANCELED,
         a.cancel_ack, "T10 L10830 RR5-28"),
    Rule("", S.CANCEL_PENDING, E.CANCEL_ACK, ACKERS, (g.ACK_SIDE, g.CANCEL_ACKS_INCOMPLETE), None,
         a.cancel_ack, "RR5-30 RR5-31 L14203"),
    Rule("", S.CANCEL_PENDING, E.CANCELLATION_INITIAL_EXPIRED, SYSTEM, ANY, None, a.request_cancellation_acks,
         "RR5-34 L14273"),
    Rule("3B", S.CANCEL_PENDING, E.CANCELLATION_FINAL_EXPIRED, SYSTEM, ANY, S.CONFLICT, a.nothing,
         "T3B L10654 RR5-35"),
    # activation, broadcast outcome, resend
    Rule("15", S.PENDING, E.ACTIVATE, NEW_SIDE, (g.CONCURRENCE_COMPLETE, g.NO_OTHER_IN_FLIGHT), S.SENDING,
         a.activate, "T15 L10920 R5-51.1 R5-53.1 R5-57.2"),
    Rule("21A", S.SENDING, E.BROADCAST_COMPLETE, SYSTEM, (g.kind_is(K.ACTIVATE), BC_ALL_OK), S.ACTIVE,
         a.activated, "T21A L11014 R5-59.1"),
    Rule("21B", S.SENDING, E.BROADCAST_COMPLETE, SYSTEM, (g.kind_is(K.MODIFY), g.outcome_is(
        Outcome.ALL_OK, Outcome.SOME_FAILED)), S.ACTIVE, a.modified, "T21B L11022 (DECISIONS)"),
    Rule("20", S.SENDING, E.BROADCAST_COMPLETE, SYSTEM, (g.kind_is(K.DISCONNECT, K.PORT_TO_ORIGINAL), BC_ALL_OK),
         S.OLD, a.removed, "T20 L11002 R5-66.1-66.3"),
    Rule("19", S.SENDING, E.BROADCAST_COMPLETE, SYSTEM, (g.kind_is(
        K.ACTIVATE, K.DISCONNECT, K.PORT_TO_ORIGINAL), BC_SOME), S.DOWNLOAD_FAILED_PARTIAL, a.partially_failed,
         "T19 L10990 R5-60.11 R5-68.9"),
    Rule("16", S.SENDING, E.BROADCAST_COMPLETE, SYSTEM, (BC_NONE,), S.DOWNLOAD_FAILED, a.failed,
         "T16 L10954 R5-61.1 R5-67.1"),
    Rule("22", S.ACTIVE, E.SUPERSEDED, SYSTEM, ANY, S.OLD, a.nothing, "T22 L11034 R5-59.2 R5-60.12"),
    Rule("17", S.DOWNLOAD_FAILED, E.RESEND, GUI, (g.RESEND_LIST,), S.SENDING, a.resend, "T17 L10958 RR5-38"),
    Rule("18", S.DOWNLOAD_FAILED_PARTIAL, E.RESEND, GUI, (g.RESEND_LIST,), S.SENDING, a.resend,
         "T18 L10970 RR5-38"),
    # disconnect
    Rule("23", S.ACTIVE, E.DISCONNECT, CURRENT, (g.CDD_VALID, g.NOTHING_TO_CANCEL_FIRST, g.NOTHING_OUTSTANDING,
                                                 g.IMMEDIATE, g.NO_AUTHORIZED_PENDING), S.SENDING,
         a.disconnect_now, "T23 L11038 RN5-10 R5-64 R5-65.1"),
    Rule("24", S.ACTIVE, E.DISCONNECT, CURRENT, (g.CDD_VALID, g.NOTHING_TO_CANCEL_FIRST, g.NOTHING_OUTSTANDING,
                                                 g.DEFERRED, g.RELEASE_DATE_FUTURE, g.NO_PENDING),
         S.DISCONNECT_PENDING, a.disconnect_later, "T24 L11064 RN5-10 R5-64.4 RR5-24"),
    Rule("7C2", S.PENDING, E.DISCONNECT_OVERRIDES_PENDING, SYSTEM, (g.UNAUTHORIZED,), S.CONFLICT, a.nothing,
         "T7C2 L10782 R5-64.5 R5-64.6"),
    Rule("14", S.DISCONNECT_PENDING, E.RELEASE_DATE_REACHED, SYSTEM, ANY, S.SENDING, a.release,
         "T14 L10908 R5-65.2"),
    # housekeeping
    Rule("", S.OLD, E.PURGE_DUE, SYSTEM, ANY, None, a.purge, "R5-2.1 L11188"),
    Rule("", S.CANCELED, E.PURGE_DUE, SYSTEM, ANY, None, a.purge, "R5-3 L11218"),
)

_INDEX: dict[tuple[Status | None, E], tuple[Rule, ...]] = {}
for _rule in TABLE:
    _INDEX[(_rule.source, _rule.event)] = _INDEX.get((_rule.source, _rule.event), ()) + (_rule,)

# Refusal when the version's status has no rule for the request.
_WRONG_STATUS = {
    E.ACTIVATE: "R5-52 L13433", E.MODIFY: "R5-25 L12438", E.DISCONNECT: "R5-63 L13790",
    E.CANCEL: "R5-70 L14133", E.SET_CONFLICT: "R5-43 L13054", E.CONFLICT_RESOLUTION_REQUEST: "R5-47 L13170",
    E.RESEND: "RR5-38.3 L14334", E.NEW_SP_CREATE: "R5-18.9 L11924", E.OLD_SP_CREATE: "R5-18.9 L11924",
}


def step(version: V | None, event: Any, ctx: Context) -> tuple[V | None, tuple[Effect, ...]]:
    """Apply `event` to `version` (None: nothing exists yet, for a create). Raises `Refused`."""
    source = version.status if version is not None else None
    rules = _INDEX.get((source, event.kind), ())
    if not rules:
        raise Refused(Refusal(Reply.FAILED, _WRONG_STATUS.get(event.kind, "T1-T25"),
                              f"{event.kind} not allowed in status {source.name if source is not None else 'none'}"))
    subject = version if version is not None else a.draft(event, ctx)
    roles = g.roles_of(subject, event.by)
    allowed = [r for r in rules if r.by & roles]
    if not allowed:
        raise Refused(Refusal(Reply.SOA_NOT_AUTHORIZED, rules[0].cite, f"{event.by.actor} may not {event.kind}"))
    # The refusal names the failing guard of the rule that came closest: "release date in the past"
    # rather than "no release date" for a deferred disconnect.
    closest: tuple[int, Guard] | None = None
    for rule in allowed:
        passed = 0
        for guard in rule.guards:
            if not guard.test(subject, event, ctx):
                break
            passed += 1
        else:
            return _fire(rule, version, subject, event, ctx)
        if closest is None or passed > closest[0]:
            closest = (passed, rule.guards[passed])
    assert closest is not None
    raise Refused(closest[1].refusal())


def _fire(rule: Rule, before: V | None, subject: V, event: Any, ctx: Context) -> tuple[V, tuple[Effect, ...]]:
    if before is None and ctx.next_version_id is None:
        raise ValueError("a create needs ctx.next_version_id")
    updates, own = rule.action(subject, event, ctx)
    if rule.spawns:
        return subject, own
    after = dataclasses.replace(subject, **updates)
    if rule.target is not None:
        after = dataclasses.replace(after, status=rule.target)
    entered = before is None or after.status is not before.status
    if entered and after.status in a.ON_ENTER:
        after = dataclasses.replace(after, **a.ON_ENTER[after.status](before, after, ctx))
    if before is None or _visible_change(before, after):
        after = dataclasses.replace(after, modified_ms=ctx.now_ms)
    effects: list[Effect] = []
    if entered:
        effects.append(StatusChanged(after.version_id, after.tn, before.status if before else None,
                                     after.status, rule.number or rule.cite))
    effects.extend(own)
    effects.extend(_notices(rule, before, after, event))
    start, cancel = timer_changes(schedule(before, ctx.tunables), schedule(after, ctx.tunables))
    effects.extend(CancelTimer(t) for t in cancel)
    effects.extend(StartTimer(t) for t in start)
    return after, tuple(effects)


def _visible_change(before: V, after: V) -> bool:
    return any(getattr(before, f.name) != getattr(after, f.name)
               for f in dataclasses.fields(V) if f.name not in INTERNAL_FIELDS)


def _notices(rule: Rule, before: V | None, after: V, event: Any) -> tuple[Notify, ...]:
    """R5-21.7 / GDMO L36416 objectCreation; status changes (with the failed LSMS list, RR5-22), then
    the changed data (attributeValueChange) where the flow reports both (6.4.4 f-m), to `audience`."""
    who = audience(before, after, event)
    if before is None:
        return (Notify(Notification.OBJECT_CREATION, after.version_id, who),)
    out: list[Notify] = []
    if after.status is not before.status:
        failed = after.failed_sp_list if event.kind is E.BROADCAST_COMPLETE else ()
        out.append(Notify(Notification.STATUS_CHANGE, after.version_id, who, failed))
        if rule.announce and _data_changed(before, after):
            out.append(Notify(Notification.ATTRIBUTE_VALUE_CHANGE, after.version_id, who))
    elif rule.announce:
        out.append(Notify(Notification.ATTRIBUTE_VALUE_CHANGE, after.version_id, _data_audience(before, after, who)))
    return tuple(out)


_MODIFY_PATH = frozenset({E.MODIFY, E.BROADCAST_COMPLETE, E.RESEND})
_DISCONNECT_PATH = frozenset({E.DISCONNECT, E.RELEASE_DATE_REACHED})


def audience(before: V | None, after: V, event: Any) -> tuple[str, ...]:
    """The SOAs a version's notifications go to, in the order the IIS flows draw them (05 §6.4):
    - both SPs, old SP first (6.4.1.1-6.4.2, 6.4.4, 6.4.5, 6.4.7-6.4.9);
    - the current SP alone for an intra-SP port (6.4.10 g, RR5-12);
    - the current SP alone for a modify of an active version, from its creation in sending to its
      outcome, and for the version it retires (6.4.3.1 f, h, o: "NPAC -> current SOA");
    - the current SP alone for a disconnect, immediate or deferred, to its outcome (6.4.6.1 f, l, s;
      6.4.6.2: "NPAC -> SOA", the flow's actors being the current SP's SOA and the donor's)."""
    current = (after.new_sp,)
    if after.intra_sp or (event.kind is E.SUPERSEDED and event.by_modify):
        return current
    if event.kind in _MODIFY_PATH and after.broadcast_kind is K.MODIFY and after.modifies_version_id is not None:
        return current
    if event.kind in _DISCONNECT_PATH or (
            after.broadcast_kind is K.DISCONNECT and event.kind in (E.BROADCAST_COMPLETE, E.RESEND)):
        return current
    return after.parties


def _data_audience(before: V, after: V, who: tuple[str, ...]) -> tuple[str, ...]:
    """6.4.1.3 f-h: when the new SP's create joins the old SP's version, the new SOA hears of every
    attribute updated, the old SOA only when subscriptionNewSP-DueDate changed value."""
    if (after.new_sp_creation_ms is not None and before.new_sp_creation_ms is None
            and before.new_sp_due_date_ms == after.new_sp_due_date_ms):
        return tuple(sp for sp in who if sp != after.old_sp)
    return who


def _data_changed(before: V, after: V) -> bool:
    quiet = INTERNAL_FIELDS | {"status", "modified_ms"}
    return any(getattr(before, f.name) != getattr(after, f.name) for f in dataclasses.fields(V) if f.name not in quiet)


# --- a TN's versions ----------------------------------------------------------------------------

_LOCATE: dict[E, tuple[Status, ...]] = {  # R5-26, R5-35, R5-42, R5-51.1, R5-62, R5-69, RR5-38.1
    E.NEW_SP_CREATE: (S.PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING),
    E.OLD_SP_CREATE: (S.PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING),
    E.ACTIVATE: (S.PENDING,),
    E.MODIFY: (S.PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING, S.ACTIVE),
    E.DISCONNECT: (S.ACTIVE,),
    E.CANCEL: (S.PENDING, S.CONFLICT, S.CONFLICT_RESOLUTION_PENDING, S.DISCONNECT_PENDING),
    E.CANCEL_ACK: (S.CANCEL_PENDING,),
    E.SET_CONFLICT: (S.PENDING, S.CANCEL_PENDING, S.CONFLICT_RESOLUTION_PENDING),
    E.CONFLICT_RESOLUTION_REQUEST: (S.CONFLICT,),
    E.CONFLICT_RESOLUTION_ACK: (S.CONFLICT_RESOLUTION_PENDING,),
    E.BROADCAST_COMPLETE: (S.SENDING,),
    E.RESEND: (S.DOWNLOAD_FAILED, S.DOWNLOAD_FAILED_PARTIAL),
}
_CREATES = (E.NEW_SP_CREATE, E.OLD_SP_CREATE)


def locate(versions: Sequence[V], event: Any, version_id: int | None = None) -> V | None:
    """The version `event` is about: by id, or by TN and status; None for a create starting a port."""
    if version_id is not None:
        found = next((v for v in versions if v.version_id == version_id), None)
        if found is None:
            raise Refused(Refusal(Reply.NO_VERSION_FOUND, "R5-26 R5-35", f"no version {version_id}"))
        return found
    for status in _LOCATE.get(event.kind, ()):
        found = next((v for v in versions if v.status is status), None)
        if found is not None:
            return found
    if event.kind in _CREATES:
        return None
    raise Refused(Refusal(Reply.NO_VERSION_FOUND, "R5-26 R5-35", f"no version for {event.kind}"))


def step_tn(versions: Sequence[V], event: Any, ctx: Context,
            version_id: int | None = None) -> tuple[tuple[V, ...], tuple[Effect, ...]]:
    """Apply `event` to one TN's versions; returns all of them after the step and the effects."""
    target = locate(versions, event, version_id)
    result = tuple(versions)
    new, effects = _step_one(result, target, event, ctx)
    result = _put(result, new)
    out: list[Effect] = []
    for effect in effects:
        if isinstance(effect, CreateVersion):
            result = _put(result, effect.version)
        elif isinstance(effect, SupersedeActive):
            successor = next((v for v in result if v.version_id == effect.by_version_id), None)
            for old in [v for v in result if v.status is S.ACTIVE and v.version_id != effect.by_version_id]:
                by_modify = successor is not None and successor.modifies_version_id == old.version_id
                moved, more = _step_one(result, old, Superseded(by_modify=by_modify), ctx)
                result, out = _put(result, moved), out + list(more)
        elif isinstance(effect, ConflictUnauthorizedPending):
            for pending in [v for v in result if v.status is S.PENDING and v.version_id != effect.by_version_id]:
                moved, more = _step_one(result, pending, DisconnectOverridesPending(), ctx)
                result, out = _put(result, moved), out + list(more)
        else:
            out.append(effect)
    return result, tuple(out)


def _step_one(versions: tuple[V, ...], target: V | None, event: Any, ctx: Context) -> tuple[V, tuple[Effect, ...]]:
    others = tuple(v for v in versions if target is None or v.version_id != target.version_id)
    new, effects = step(target, event, dataclasses.replace(ctx, others=others))
    assert new is not None
    return new, effects


def _put(versions: tuple[V, ...], version: V) -> tuple[V, ...]:
    kept = tuple(v for v in versions if v.version_id != version.version_id)
    return tuple(sorted((*kept, version), key=lambda v: v.version_id))


# --- the table, for people ----------------------------------------------------------------------

def transitions() -> tuple[Rule, ...]:
    """The numbered FRS transitions, in FRS order."""
    def order(rule: Rule) -> tuple[int, str]:
        digits = re.match(r"\d+", rule.number)
        assert digits is not None
        return int(digits.group()), rule.number
    return tuple(sorted((r for r in TABLE if r.number), key=order))


def describe(rules: Iterable[Rule] | None = None) -> list[tuple[str, str, str, str, str, str]]:
    """(number, from, event, who, guards, to) per rule."""
    rows = []
    for r in rules if rules is not None else transitions():
        source = r.source.name.lower() if r.source is not None else "(none)"
        target = r.target.name.lower() if r.target is not None else "(unchanged)"
        target += " [new version]" if r.spawns else ""
        guards = "; ".join(guard.name for guard in r.guards) or "-"
        who = ",".join(sorted(role.value for role in r.by))
        rows.append((r.number, source, r.event.value, who, guards, target))
    return rows
