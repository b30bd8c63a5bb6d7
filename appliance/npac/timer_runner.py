"""Fires the store's due timers through the engine, on an injectable clock.

Timers live in the store (DECISIONS: they survive restart and cutover), so a node that starts, or is
promoted, simply fires whatever is due on its clock. Subscription-version timers (T1, T2, the
acknowledgement windows, expirations, the deferred disconnect, purges) become `TimerExpired` events;
other kinds (an LSMS broadcast retry) go to the handler their owner registers with `on_kind`.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from appliance.npac.engine import Engine, Rejected
from appliance.npac.events import TIMER_EVENTS, TimerExpired
from appliance.npac.timers import TimerKind
from appliance.npac.wakeup import WakeLoop
from appliance.store.store import Store
from appliance.store.timers import TIMERS

log = logging.getLogger("appliance.npac.timers")
KindHandler = Callable[[dict[str, Any]], Awaitable[None]]


class TimerRunner:
    def __init__(self, store: Store, engine: Engine, clock_ms: Callable[[], int], poll_s: float = 1.0):
        self.store = store
        self.engine = engine
        self.clock_ms = clock_ms
        self.poll_s = poll_s
        self.handlers: dict[str, KindHandler] = {}
        self.fired = 0
        self._lock = asyncio.Lock()
        self.loop = WakeLoop("npac-timers", self._pass, log, retry_s=poll_s)

    def on_kind(self, kind: str, handler: KindHandler) -> None:
        """Fire timers of `kind` (not a subscription-version timer) with `handler(timer row)`; the
        handler removes or moves the timer."""
        self.handlers[kind] = handler

    async def run_due(self) -> int:
        """Fire every timer due now, earliest first; a timer's firing may cancel or start others, so
        the store is read again after each. Returns how many fired."""
        async with self._lock:
            fired = 0
            skipped: set[tuple[str, int, str]] = set()
            while True:
                row = next((r for r in TIMERS.due(self.store, self.clock_ms())
                            if (r["kind"], r["version_id"], r["target"]) not in skipped), None)
                if row is None:
                    break
                skipped.add((row["kind"], row["version_id"], row["target"]))
                await self._fire(row)
                fired += 1
            self.fired += fired
            return fired

    async def _fire(self, row: dict[str, Any]) -> None:
        kind = row["kind"]
        if kind in self.handlers:
            await self.handlers[kind](row)
            return
        timer = TimerKind._value2member_map_.get(kind)
        if timer is None or timer not in TIMER_EVENTS:
            log.error("timer %s of version %s has no handler; dropped", kind, row["version_id"])
            await self._drop(row)
            return
        try:
            await self.engine.submit(row["version_id"], TimerExpired(TimerKind(kind)), f"timer {kind}")
        except Rejected as exc:
            # The machine cancels a version's timers whenever it moves; one it refuses is stale.
            log.error("timer %s of version %s refused (%s); dropped", kind, row["version_id"], exc.text)
            await self._drop(row)

    async def _drop(self, row: dict[str, Any]) -> None:
        if TIMERS.get(self.store, {"kind": row["kind"], "version_id": row["version_id"], "target": row["target"]}):
            await self.engine.writer.run(f"drop timer {row['kind']} {row['version_id']}", lambda tx: TIMERS.cancel(
                tx, row["kind"], row["version_id"], row["target"]))

    # ---- background ------------------------------------------------------------------------------
    def wake(self) -> None:
        self.loop.wake()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def _pass(self) -> float:
        await self.run_due()
        return self._delay()

    def _delay(self) -> float:
        """Sleep until the next due time on the clock, polling at least every `poll_s` (the clock may be
        moved by an operator or a test)."""
        due = TIMERS.next_due_ms(self.store)
        if due is None:
            return self.poll_s
        return max(0.0, min(self.poll_s, (due - self.clock_ms()) / 1000))
