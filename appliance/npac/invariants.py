"""Per-TN invariants over a subscription's versions (RN5-1..RN5-3, L10556-10572), as a pure check.

RN5-1 allows one version in flight, RN5-2 one active. The FRS itself makes one exception: an
immediate disconnect may proceed while an unauthorized pending version exists and puts that version
in conflict (T7C2, R5-64.5/64.6), so for a while the TN has the disconnect in sending (or failed)
and the conflict. The check therefore counts two slots: the *routing* slot (the active version, or
the active version being disconnected) and the *porting* slot (every other in-flight version); each
holds at most one. Outside T7C2 the guards keep the literal RN5-1 (any in-flight version blocks a
create, an activation, a modify of the active version and a disconnect).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from appliance.npac.model import (
    IN_FLIGHT, PRE_CANCELLATION, BroadcastKind, Status, SubscriptionVersion,
)

S = Status
V = SubscriptionVersion
_DISCONNECTING = frozenset({S.SENDING, S.DOWNLOAD_FAILED, S.DOWNLOAD_FAILED_PARTIAL})


@dataclass(frozen=True)
class Violation:
    tn: str
    rule: str
    version_ids: tuple[int, ...]


def routing(v: V) -> bool:
    """The version carries the TN's network routing: active, or the active one being disconnected."""
    return v.status is S.ACTIVE or (v.status in _DISCONNECTING and v.broadcast_kind is BroadcastKind.DISCONNECT)


def check_tn(versions: Sequence[V]) -> tuple[Violation, ...]:
    """Every way `versions` (all versions of one TN) breaks the per-TN rules; empty when sound."""
    if not versions:
        return ()
    tn = versions[0].tn
    found: list[Violation] = []

    def rule(name: str, offenders: Sequence[V]) -> None:
        if offenders:
            found.append(Violation(tn, name, tuple(v.version_id for v in offenders)))

    rule("one TN", [v for v in versions if v.tn != tn])
    ids = [v.version_id for v in versions]
    rule("unique version ids", [v for v in versions if ids.count(v.version_id) > 1])
    active = [v for v in versions if v.status is S.ACTIVE]
    rule("RN5-2 at most one active", active if len(active) > 1 else [])
    route = [v for v in versions if routing(v)]
    rule("RN5-1/RN5-2 at most one routing version", route if len(route) > 1 else [])
    porting = [v for v in versions if v.status in IN_FLIGHT and not routing(v)]
    rule("RN5-1 at most one version in flight", porting if len(porting) > 1 else [])
    rule("pre-cancellation status", [
        v for v in versions if v.status in (S.CANCEL_PENDING, S.CANCELED)
        and v.pre_cancellation_status not in PRE_CANCELLATION])
    rule("sending carries a broadcast", [
        v for v in versions if v.status in _DISCONNECTING and v.broadcast_kind is None])
    return tuple(found)
