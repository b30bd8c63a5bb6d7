"""What a transition writes: field updates and the effects particular to it.

Each action maps (version, event, context) to (updates, effects); `ON_ENTER` holds the time stamps
a status sets whichever transition enters it (GDMO subscriptionVersionNPAC-Behavior L36326-36388),
so the transition table stays one row per FRS transition.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from appliance.npac.effects import (
    AlertAdministrator, AnnounceNpaNxx, Broadcast, ConflictUnauthorizedPending, CreateVersion, Effect,
    Notification, Notify, NotifyDonor, Purge, StatusChanged, SupersedeActive,
)
from appliance.npac.events import Side
from appliance.npac.guards import Context, tally
from appliance.npac.model import (
    BROADCAST_OP, DOWNLOAD_REASON, BroadcastKind, LnpType, Status, SubscriptionVersion,
)

S = Status
V = SubscriptionVersion
Change = tuple[dict[str, Any], tuple[Effect, ...]]
Action = Callable[[V, Any, Context], Change]


def nothing(v: V, ev: Any, ctx: Context) -> Change:
    return {}, ()


def draft(ev: Any, ctx: Context) -> V:
    """The version a first create would make, before its side's data (R5-20.5)."""
    return V(version_id=ctx.next_version_id or 0, tn=ev.tn, status=S.PENDING, old_sp=ev.old_sp,
             new_sp=ev.new_sp, lnp_type=ev.lnp_type, porting_to_original=ev.porting_to_original,
             creation_ms=ctx.now_ms)


def record_new_side(v: V, ev: Any, ctx: Context) -> Change:
    updates: dict[str, Any] = {"new_sp_due_date_ms": ev.due_date_ms, "new_sp_creation_ms": ctx.now_ms,
                               **ev.attrs}
    if v.billing_id is None and ev.attrs.get("billing_id") is None:
        updates["billing_id"] = ev.new_sp  # defaults to the facilities-based SP (L9016-9032)
    if ev.lnp_type is LnpType.LISP:  # RR5-8: one SP, no concurrence to wait for
        updates.update(old_sp_due_date_ms=ev.due_date_ms, old_sp_authorization=True,
                       old_sp_authorization_ms=ctx.now_ms)
    return updates, ()


def record_old_side(v: V, ev: Any, ctx: Context) -> Change:
    return {"old_sp_due_date_ms": ev.due_date_ms, "old_sp_authorization": ev.authorization,
            "old_sp_authorization_ms": ctx.now_ms}, ()


def modify_in_place(v: V, ev: Any, ctx: Context) -> Change:
    updates = dict(ev.changes)
    if "old_sp_authorization" in updates:
        updates["old_sp_authorization_ms"] = ctx.now_ms
    return updates, ()


def modify_granting(v: V, ev: Any, ctx: Context) -> Change:
    """T5C: the old SP's fresh authorization is what a later CR acknowledgement restores (RR5-13.2)."""
    updates, effects = modify_in_place(v, ev, ctx)
    return {**updates, "authorization_before_conflict": True}, effects


def _start_broadcast(v: V, kind: BroadcastKind, ctx: Context, lsms: tuple[str, ...] | None = None,
                     fresh: bool = True) -> Change:
    op = BROADCAST_OP[kind]
    updates: dict[str, Any] = {"broadcast_kind": kind, "broadcast_ms": ctx.now_ms,
                               "download_reason": DOWNLOAD_REASON[op]}
    if fresh:
        updates.update(failed_sp_list=(), broadcast_ok=())
    return updates, (Broadcast(v.version_id, op, lsms),)


def activate(v: V, ev: Any, ctx: Context) -> Change:
    """T15: broadcast the create, or for porting to original the delete (RR5-21)."""
    kind = BroadcastKind.PORT_TO_ORIGINAL if v.porting_to_original else BroadcastKind.ACTIVATE
    updates, effects = _start_broadcast(v, kind, ctx)
    updates["activation_request_ms"] = ctx.now_ms  # RR5-22
    if v.npa_nxx not in ctx.network.ported_npa_nxx:
        effects = (AnnounceNpaNxx(v.version_id, v.npa_nxx), *effects)  # RR5-3: before the version itself
    return updates, effects


def modify_active(v: V, ev: Any, ctx: Context) -> Change:
    """T25, R5-34, R5-41: the change goes out as a new version in sending; `v` stays active until the
    new one succeeds (DECISIONS)."""
    if ctx.next_version_id is None:
        raise ValueError("modifying an active version needs ctx.next_version_id")
    spawned = dataclasses.replace(
        v, **dict(ev.changes), version_id=ctx.next_version_id, status=S.SENDING, creation_ms=ctx.now_ms,
        modified_ms=ctx.now_ms, modify_request_ms=ctx.now_ms, modifies_version_id=v.version_id)
    updates, effects = _start_broadcast(spawned, BroadcastKind.MODIFY, ctx)
    spawned = dataclasses.replace(spawned, **updates)
    return {}, (
        CreateVersion(spawned),
        StatusChanged(spawned.version_id, spawned.tn, None, S.SENDING, "25"),
        # 6.4.3.1 f, h: the current SOA alone hears of the modify (`versions.audience`)
        Notify(Notification.OBJECT_CREATION, spawned.version_id, (spawned.new_sp,)),
        *effects,
    )


def _donor_notice(v: V, cdd: int | None, erd: int | None) -> NotifyDonor:
    return NotifyDonor(v.version_id, v.tn, cdd, erd)


def disconnect_now(v: V, ev: Any, ctx: Context) -> Change:
    """T23 / R5-65.1; an unauthorized pending version of the TN goes to conflict (T7C2, R5-64.6)."""
    updates, effects = _start_broadcast(v, BroadcastKind.DISCONNECT, ctx)
    updates.update(customer_disconnect_date_ms=ev.customer_disconnect_date_ms, effective_release_date_ms=None,
                   disconnect_request_ms=ctx.now_ms)
    notice = _donor_notice(v, ev.customer_disconnect_date_ms, None)
    siblings = (ConflictUnauthorizedPending(v.tn, v.version_id),) if any(
        o.status is S.PENDING for o in ctx.others) else ()
    return updates, (notice, *effects, *siblings)


def disconnect_later(v: V, ev: Any, ctx: Context) -> Change:
    return {"customer_disconnect_date_ms": ev.customer_disconnect_date_ms,
            "effective_release_date_ms": ev.effective_release_date_ms, "disconnect_request_ms": ctx.now_ms}, ()


def release(v: V, ev: Any, ctx: Context) -> Change:
    """T14 / R5-65.2: the release date has come; RR5-25.2 donor notice just before the broadcast."""
    updates, effects = _start_broadcast(v, BroadcastKind.DISCONNECT, ctx)
    return updates, (_donor_notice(v, v.customer_disconnect_date_ms, v.effective_release_date_ms), *effects)


def resend(v: V, ev: Any, ctx: Context) -> Change:
    """T17/T18, RR5-38.4-38.6: the same operation again, to the named LSMSs only."""
    assert v.broadcast_kind is not None
    return _start_broadcast(v, v.broadcast_kind, ctx, lsms=tuple(ev.lsms), fresh=False)


def _settle(v: V, ev: Any, ctx: Context) -> Change:
    ok, failed, _ = tally(v, ev)
    effects: tuple[Effect, ...] = ()
    if failed:  # R5-60.10, R5-61.2, R5-67.2, R5-68.8
        effects = (AlertAdministrator(v.version_id, f"{v.broadcast_kind} failed", failed),)
    return {"broadcast_ok": ok, "failed_sp_list": failed}, effects


def _supersede(v: V) -> tuple[Effect, ...]:
    return (SupersedeActive(v.tn, v.version_id),)


def activated(v: V, ev: Any, ctx: Context) -> Change:
    """T21A / R5-51.2: all LSMSs acknowledged; T22 for the previous active version."""
    updates, effects = _settle(v, ev, ctx)
    return {**updates, "activation_ms": ctx.now_ms}, (*effects, *_supersede(v))


def modified(v: V, ev: Any, ctx: Context) -> Change:
    """T21B: any LSMS took the modification; the version it replaces becomes old (T22)."""
    updates, effects = _settle(v, ev, ctx)
    return updates, (*effects, *_supersede(v))


def removed(v: V, ev: Any, ctx: Context) -> Change:
    """T20: a disconnect (R5-66.2) or a porting-to-original port completed at every LSMS."""
    updates, effects = _settle(v, ev, ctx)
    if v.broadcast_kind is BroadcastKind.DISCONNECT:
        return {**updates, "disconnect_complete_ms": ctx.now_ms}, effects
    return updates, (*effects, *_supersede(v))


def partially_failed(v: V, ev: Any, ctx: Context) -> Change:
    """T19; R5-60.12: success at one LSMS already retires the previous active version."""
    updates, effects = _settle(v, ev, ctx)
    if v.broadcast_kind in (BroadcastKind.ACTIVATE, BroadcastKind.PORT_TO_ORIGINAL):
        effects = (*effects, *_supersede(v))
    return updates, effects


def failed(v: V, ev: Any, ctx: Context) -> Change:
    return _settle(v, ev, ctx)


def _ack(v: V, ev: Any, ctx: Context, prefix: str) -> dict[str, Any]:
    updates = {}
    if v.intra_sp or ev.side is Side.OLD:
        updates[f"old_sp_{prefix}_ms"] = ctx.now_ms
    if v.intra_sp or ev.side is Side.NEW:
        updates[f"new_sp_{prefix}_ms"] = ctx.now_ms
    return updates


def cancel_ack(v: V, ev: Any, ctx: Context) -> Change:
    return _ack(v, ev, ctx, "cancellation"), ()  # RR5-30, RR5-31


def conflict_resolution_ack(v: V, ev: Any, ctx: Context) -> Change:
    updates = _ack(v, ev, ctx, "conflict_resolution")  # RR5-13.1, RR5-14
    if "old_sp_conflict_resolution_ms" in updates:
        updates["old_sp_authorization"] = v.authorization_before_conflict  # RR5-13.2
    return updates, ()


def _missing(v: V, prefix: str) -> tuple[str, ...]:
    sps = [sp for sp, stamp in ((v.old_sp, getattr(v, f"old_sp_{prefix}_ms")),
                                (v.new_sp, getattr(v, f"new_sp_{prefix}_ms"))) if stamp is None]
    return tuple(dict.fromkeys(sps))


def request_concurrence(v: V, ev: Any, ctx: Context) -> Change:
    """R5-22: T1 ran out; the silent SP gets the concurrence request, and T2 starts (R5-23.1)."""
    effects = []
    if v.new_sp_creation_ms is None:
        effects.append(Notify(Notification.NEW_SP_CREATE_REQUEST, v.version_id, (v.new_sp,)))
    if v.old_sp_authorization is not True:
        effects.append(Notify(Notification.OLD_SP_CONCURRENCE_REQUEST, v.version_id, (v.old_sp,)))
    return {"concurrence_notice_ms": ctx.now_ms}, tuple(effects)


def request_conflict_resolution_acks(v: V, ev: Any, ctx: Context) -> Change:
    """RR5-17.4: the second notification, to the SPs that have not acknowledged."""
    return {"conflict_resolution_notice_ms": ctx.now_ms}, (Notify(
        Notification.CONFLICT_RESOLUTION_ACK_REQUEST, v.version_id, _missing(v, "conflict_resolution")),)


def request_cancellation_acks(v: V, ev: Any, ctx: Context) -> Change:
    """RR5-34: the second notification, to the SPs that have not acknowledged."""
    return {"cancel_notice_ms": ctx.now_ms}, (Notify(
        Notification.CANCELLATION_ACK_REQUEST, v.version_id, _missing(v, "cancellation")),)


def purge(v: V, ev: Any, ctx: Context) -> Change:
    return {}, (Purge(v.version_id),)


# --- entering a status --------------------------------------------------------------------------

Enter = Callable[[V | None, V, Context], dict[str, Any]]


def _enter_conflict(before: V | None, after: V, ctx: Context) -> dict[str, Any]:
    return {"conflict_ms": ctx.now_ms,  # R5-44.2, RR5-2.2, RR5-10.2
            "authorization_before_conflict": before.old_sp_authorization if before else None}


def _enter_conflict_resolution_pending(before: V | None, after: V, ctx: Context) -> dict[str, Any]:
    return {"conflict_resolution_pending_ms": ctx.now_ms, "old_sp_conflict_resolution_ms": None,
            "new_sp_conflict_resolution_ms": None, "conflict_resolution_notice_ms": None}


def _enter_cancel_pending(before: V | None, after: V, ctx: Context) -> dict[str, Any]:
    assert before is not None
    return {"pre_cancellation_status": before.status,  # GDMO L36326: first set to the current status
            "cancel_pending_ms": ctx.now_ms, "old_sp_cancellation_ms": None, "new_sp_cancellation_ms": None,
            "cancel_notice_ms": None}


def _enter_canceled(before: V | None, after: V, ctx: Context) -> dict[str, Any]:
    updates: dict[str, Any] = {"cancellation_ms": ctx.now_ms}  # R5-45.5, R5-71.2
    if before is not None and before.status is S.CONFLICT:  # T1 skips cancel pending
        updates["pre_cancellation_status"] = S.CONFLICT
    return updates


def _enter_old(before: V | None, after: V, ctx: Context) -> dict[str, Any]:
    return {"old_ms": ctx.now_ms}


def _enter_pending(before: V | None, after: V, ctx: Context) -> dict[str, Any]:
    """Creation, or T8 back from CR-pending: concurrence still missing restarts T1 (R5-21.1)."""
    if after.intra_sp or after.concurrence_complete:
        return {}
    return {"concurrence_started_ms": ctx.now_ms, "concurrence_notice_ms": None}


ON_ENTER: dict[Status, Enter] = {
    S.CONFLICT: _enter_conflict,
    S.CONFLICT_RESOLUTION_PENDING: _enter_conflict_resolution_pending,
    S.CANCEL_PENDING: _enter_cancel_pending,
    S.CANCELED: _enter_canceled,
    S.OLD: _enter_old,
    S.PENDING: _enter_pending,
}
