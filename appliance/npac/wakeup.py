"""The one way the background loops sleep: until woken or until a deadline.

Python 3.11's `asyncio.wait_for(event.wait(), t)` can swallow a cancellation that arrives in the
same loop iteration as the wake-up (CPython gh-86296, fixed only by 3.12's rewrite on top of
`asyncio.timeout`): the loop then carries on and the `stop()` awaiting it never returns.
`asyncio.timeout` counts the task's pending cancellations, so an outside cancel always propagates.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def sleep_until_woken(wake: asyncio.Event, timeout_s: float | None) -> bool:
    """True when `wake` was set, False when `timeout_s` passed first (None: no deadline).

    The event is left set: the caller clears it just before the work it stands for, so a wake() that
    lands while that work runs makes the next sleep return at once instead of being lost."""
    if wake.is_set():
        await asyncio.sleep(0)  # still a suspension point, so a pending cancel lands here
        return True
    if timeout_s is None:
        await wake.wait()
        return True
    try:
        async with asyncio.timeout(max(timeout_s, 0.0)):
            await wake.wait()
    except TimeoutError:
        return wake.is_set()
    return True


class WakeLoop:
    """A background task that runs `step` when woken, or when the delay `step` returned has passed
    (seconds; None: only when woken). The NPAC's outbox, timers, broadcast retries and downtime
    notices each run on one.

    The event is cleared just before each step, so a wake() during a step is never lost; a step that
    fails is logged and tried again after `retry_s` (None: at the next wake), so one bad row cannot
    stop the loop for good; stop() always ends the task (`sleep_until_woken`)."""

    def __init__(self, name: str, step: Callable[[], Awaitable[float | None]], log: logging.Logger,
                 retry_s: float | None = None):
        self.name = name
        self.step = step
        self.log = log
        self.retry_s = retry_s
        self._wake = asyncio.Event()
        self.task: asyncio.Task | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                delay = await self.step()
            except Exception:  # logged, and retried: the loop must outlive one bad pass
                self.log.exception("%s pass failed", self.name)
                delay = self.retry_s
            await sleep_until_woken(self._wake, delay)
