"""The one writer (ARCHITECTURE "One writer"): every state change of a node runs here, one at a
time, as one store transaction with its journal row.

`await writer.run(note, fn)` calls `fn(tx)` inside `store.transaction`; callbacks registered with
`tx_after(tx, cb)` run once the transaction has committed, in order, so notifications and
broadcasts are only ever derived from committed state. The clock is injected (milliseconds).

On a node of the primary/DR pair the writer has a `gate` (the HA link): a write is refused unless the
node is the live one with the current epoch, and `run` returns only once the standby holds the row
(sync replication), so whatever a carrier saw acknowledged survives a cutover.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from appliance.store.store import Store, Tx

log = logging.getLogger("appliance.npac.writer")
T = TypeVar("T")
_AFTER: dict[int, list[Callable[[], Any]]] = {}


class NotWritable(Exception):
    """This node may not change the store now (not the live node, or replication refused)."""


class Gate(Protocol):
    def may_write(self) -> bool: ...

    def committed(self, sequence: int) -> None: ...

    async def replicate(self, sequence: int) -> Any: ...


def tx_after(tx: Tx, callback: Callable[[], Any]) -> None:
    """Run `callback` after `tx` commits (dropped if it rolls back)."""
    _AFTER.setdefault(id(tx), []).append(callback)


class Writer:
    def __init__(self, store: Store, clock_ms: Callable[[], int]):
        self.store = store
        self.clock_ms = clock_ms
        self._lock = asyncio.Lock()
        self.gate: Gate | None = None
        # the one-writer rule is checked, not assumed: a change written elsewhere would be a bug
        self.commits = 0

    def run_now(self, note: str, fn: Callable[[Tx], T]) -> T:
        """Synchronous form for code already running on the writer's loop turn (timers, startup)."""
        if self._lock.locked():
            raise RuntimeError("run_now while an asynchronous write is in progress")
        result, after = self._commit(note, fn)
        if self.gate is not None:
            self.gate.committed(self.store.last_sequence())
        self._follow_up(note, after)
        return result

    async def run(self, note: str, fn: Callable[[Tx], T]) -> T:
        async with self._lock:
            result, after = self._commit(note, fn)
            sequence = self.store.last_sequence()
        if self.gate is not None:
            # outside the lock, so later writers commit meanwhile and one ack covers them all; the
            # follow-ups (notifications, broadcasts) wait for it: nobody hears of a change the
            # standby could still lose
            await self.gate.replicate(sequence)
        self._follow_up(note, after)
        return result

    def _commit(self, note: str, fn: Callable[[Tx], T]) -> tuple[T, list[Callable[[], Any]]]:
        if self.gate is not None and not self.gate.may_write():
            raise NotWritable(f"{note}: this node is not accepting changes")
        tx_id = None
        try:
            with self.store.transaction(note, self.clock_ms()) as tx:
                tx_id = id(tx)
                result = fn(tx)
        except BaseException:
            if tx_id is not None:
                _AFTER.pop(tx_id, None)
            raise
        self.commits += 1
        return result, _AFTER.pop(tx_id, [])

    @staticmethod
    def _follow_up(note: str, after: list[Callable[[], Any]]) -> None:
        for callback in after:
            try:
                callback()
            except Exception:  # a failing follow-up must not undo or hide the committed change
                log.exception("after-commit callback of %r failed", note)
