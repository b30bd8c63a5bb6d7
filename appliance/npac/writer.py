"""The one writer (ARCHITECTURE "One writer"): every state change of a node runs here, one at a
time, as one store transaction with its journal row.

`await writer.run(note, fn)` calls `fn(tx)` inside `store.transaction`; callbacks registered with
`tx_after(tx, cb)` run once the transaction has committed, in order, so notifications and
broadcasts are only ever derived from committed state. The clock is injected (milliseconds).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from appliance.store.store import Store, Tx

log = logging.getLogger("appliance.npac.writer")
T = TypeVar("T")
_AFTER: dict[int, list[Callable[[], Any]]] = {}


def tx_after(tx: Tx, callback: Callable[[], Any]) -> None:
    """Run `callback` after `tx` commits (dropped if it rolls back)."""
    _AFTER.setdefault(id(tx), []).append(callback)


class Writer:
    def __init__(self, store: Store, clock_ms: Callable[[], int]):
        self.store = store
        self.clock_ms = clock_ms
        self._lock = asyncio.Lock()
        # the one-writer rule is checked, not assumed: a change written elsewhere would be a bug
        self.commits = 0

    def run_now(self, note: str, fn: Callable[[Tx], T]) -> T:
        """Synchronous form for code already running on the writer's loop turn (timers, startup)."""
        if self._lock.locked():
            raise RuntimeError("run_now while an asynchronous write is in progress")
        return self._commit(note, fn)

    async def run(self, note: str, fn: Callable[[Tx], T]) -> T:
        async with self._lock:
            return self._commit(note, fn)

    def _commit(self, note: str, fn: Callable[[Tx], T]) -> T:
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
        for callback in _AFTER.pop(tx_id, []):
            try:
                callback()
            except Exception:  # a failing follow-up must not undo or hide the committed change
                log.exception("after-commit callback of %r failed", note)
        return result
