"""Between the pure machine and the store: load a TN's versions and the tunables, and commit what a
step decided (changed versions, timers started or cancelled, purges) inside the caller's transaction,
so the journal row carries the whole step."""
from __future__ import annotations

from typing import Iterable, Sequence

from appliance.npac.effects import CancelTimer, Effect, Purge, StartTimer
from appliance.npac.model import SubscriptionVersion
from appliance.npac.tunables import Tunables
from appliance.store import tunables as stored_tunables
from appliance.store.store import Tx, _Reads
from appliance.store.timers import TIMERS
from appliance.store.versions import VERSIONS

V = SubscriptionVersion


def load_tn(reader: _Reads, tn: str) -> tuple[V, ...]:
    return tuple(V.from_row(row) for row in VERSIONS.for_tn(reader, tn))


def load_tunables(reader: _Reads) -> Tunables:
    return Tunables.from_mapping(stored_tunables.load_tunables(reader))


def save_tunables(tx: Tx, tunables: Tunables) -> None:
    """Persist the values that differ from the defaults, and forget stored ones now at default."""
    defaults = Tunables().as_mapping()
    values = tunables.as_mapping()
    stored_tunables.save_tunables(tx, {k: v for k, v in values.items() if v != defaults[k]})
    for name in stored_tunables.load_tunables(tx):
        if values[name] == defaults[name]:
            tx.delete("tunables", name)


def commit(tx: Tx, before: Sequence[V], after: Sequence[V], effects: Iterable[Effect]) -> None:
    """Write the outcome of `step_tn(before, ...) -> (after, effects)`."""
    previous = {v.version_id: v for v in before}
    for version in after:
        if previous.get(version.version_id) != version:
            VERSIONS.put(tx, version.to_row())
    for effect in effects:
        if isinstance(effect, StartTimer):
            t = effect.timer
            TIMERS.start(tx, str(t.kind), t.version_id, t.due_ms, t.target, t.attempt)
        elif isinstance(effect, CancelTimer):
            TIMERS.cancel(tx, str(effect.timer.kind), effect.timer.version_id, effect.timer.target)
        elif isinstance(effect, Purge):
            TIMERS.cancel_all(tx, effect.version_id)
            VERSIONS.delete(tx, effect.version_id)
