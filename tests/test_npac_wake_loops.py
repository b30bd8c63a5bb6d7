"""The NPAC's background loops (notification outbox, version timers, LSMS broadcast retries, downtime
notices) sleep until woken or until their next due time. Two promises hold for each of them:

- stop()/close() ends the loop promptly whatever it is doing, even when a wake() lands in the same
  loop iteration as the cancellation (the Python 3.11 `asyncio.wait_for` race swallowed that cancel
  and left stop() waiting for ever);
- a wake() is never lost: one made while the loop sleeps (however long the sleep) or while it is
  doing its work starts another pass at once. The due-time work itself is covered by the flow tests
  (notifications: IIS 05 §A.2 and FRS App. C retries; timers: R5-21/R5-23; broadcasts: R5-60.7;
  downtime notices: flow 6.6).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from appliance.npac.broadcast import Broadcaster
from appliance.npac.downtime import DowntimeNotices
from appliance.npac.notifier import Notifier
from appliance.npac.timer_runner import TimerRunner
from appliance.npac.tunables import Tunables
from appliance.npac.wakeup import sleep_until_woken
from appliance.npac.writer import Writer
from appliance.store.store import Store

T0 = 1_767_268_800_000
LONG_S = 3600.0  # a sleep no test waits out: anything that happens does so because of a wake or a stop
PROMPT_S = 1.0


class Passes:
    """Stands in for a loop's pass: counts calls and can hold one open until released."""

    def __init__(self, result: Any):
        self.result = result
        self.count = 0
        self.entered = asyncio.Event()
        self.gate: asyncio.Event | None = None
        self.fail_next = False

    async def __call__(self, *args: Any) -> Any:
        self.count += 1
        self.entered.set()
        if self.gate is not None:
            gate, self.gate = self.gate, None
            await gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("a bad row")
        return self.result

    async def wait_for_count(self, n: int) -> None:
        async with asyncio.timeout(PROMPT_S):
            while self.count < n:
                await asyncio.sleep(0.001)


@dataclass
class Loop:
    wake: Callable[[], None]
    stop: Callable[[], Any]
    passes: Passes
    task: Callable[[], asyncio.Future | None]


def _agent() -> Any:
    return SimpleNamespace(association_listeners=[], on_event=lambda name, handler: None, connections=[])


def notifier_loop(store: Store, writer: Writer) -> Loop:
    notifier = Notifier(store, writer, _agent(), lambda: T0, poll_s=LONG_S)
    notifier.deliver = passes = Passes(0)  # type: ignore[method-assign]
    notifier.start()
    return Loop(notifier.wake, notifier.stop, passes, lambda: notifier.loop.task)


def timer_loop(store: Store, writer: Writer) -> Loop:
    runner = TimerRunner(store, SimpleNamespace(writer=writer), lambda: T0, poll_s=LONG_S)
    runner.run_due = passes = Passes(0)  # type: ignore[method-assign]
    runner.start()
    return Loop(runner.wake, runner.stop, passes, lambda: runner.loop.task)


def broadcast_loop(store: Store, writer: Writer) -> Loop:
    async def complete(*_: Any) -> None:
        return None
    broadcaster = Broadcaster(writer, store, _agent(), lambda: T0, Tunables, complete, link=SimpleNamespace())
    broadcaster._retry_due = passes = Passes(int(LONG_S * 1000))  # type: ignore[method-assign]
    broadcaster._ensure_loop()
    return Loop(broadcaster.wake, broadcaster.close, passes, lambda: broadcaster.retries.task)


def downtime_loop(store: Store, writer: Writer) -> Loop:
    notices = DowntimeNotices(writer, store, _agent(), lambda: T0)
    notices.send_due = passes = Passes([])  # type: ignore[method-assign]
    notices.start()
    return Loop(notices.wake, notices.close, passes, lambda: notices.loop.task)


LOOPS = [notifier_loop, timer_loop, broadcast_loop, downtime_loop]


def run(tmp_path, make: Callable[[Store, Writer], Loop], body: Callable[[Loop], Any]) -> None:
    async def main() -> None:
        store = Store(str(tmp_path / "npac.sqlite"), clock=lambda: T0)
        loop = make(store, Writer(store, lambda: T0))
        try:
            await body(loop)
        finally:
            async with asyncio.timeout(PROMPT_S):
                await loop.stop()
            store.close()
    asyncio.run(main())


async def _first_pass_done(loop: Loop) -> None:
    """Every loop runs a pass when it starts (what fell due while the node was down); let it finish."""
    await asyncio.sleep(0.01)
    loop.passes.entered.clear()


@pytest.mark.parametrize("make", LOOPS, ids=lambda f: f.__name__)
def test_stop_ends_a_loop_that_is_sleeping(tmp_path, make):
    async def body(loop: Loop) -> None:
        await _first_pass_done(loop)
        async with asyncio.timeout(PROMPT_S):
            await loop.stop()
        assert loop.task() is None or loop.task().done()
    run(tmp_path, make, body)


@pytest.mark.parametrize("make", LOOPS, ids=lambda f: f.__name__)
def test_stop_ends_a_loop_woken_in_the_same_iteration(tmp_path, make):
    """wake() and stop() together: the wake completes the sleep as the cancel arrives; the cancel wins."""
    async def body(loop: Loop) -> None:
        await _first_pass_done(loop)
        before = loop.passes.count
        loop.wake()
        async with asyncio.timeout(PROMPT_S):
            await loop.stop()
        task = loop.task()
        assert task is None or task.done()
        await asyncio.sleep(0.01)
        assert loop.passes.count <= before + 1  # nothing runs after the stop
    run(tmp_path, make, body)


@pytest.mark.parametrize("make", LOOPS, ids=lambda f: f.__name__)
def test_stop_ends_a_loop_in_the_middle_of_a_pass(tmp_path, make):
    async def body(loop: Loop) -> None:
        await _first_pass_done(loop)
        loop.passes.gate = asyncio.Event()  # never released
        loop.wake()
        async with asyncio.timeout(PROMPT_S):
            await loop.passes.entered.wait()
            await loop.stop()
    run(tmp_path, make, body)


@pytest.mark.parametrize("make", LOOPS, ids=lambda f: f.__name__)
def test_a_wake_during_a_long_sleep_runs_a_pass_at_once(tmp_path, make):
    async def body(loop: Loop) -> None:
        await _first_pass_done(loop)
        for _ in range(3):
            before = loop.passes.count
            loop.wake()
            await loop.passes.wait_for_count(before + 1)
            await asyncio.sleep(0.005)
    run(tmp_path, make, body)


@pytest.mark.parametrize("make", LOOPS, ids=lambda f: f.__name__)
def test_a_wake_during_a_pass_is_not_lost(tmp_path, make):
    """The work a wake stands for may have been committed after the running pass read the store: the
    loop must look again rather than sleep until its next due time."""
    async def body(loop: Loop) -> None:
        await _first_pass_done(loop)
        gate = loop.passes.gate = asyncio.Event()
        loop.wake()
        async with asyncio.timeout(PROMPT_S):
            await loop.passes.entered.wait()
        during = loop.passes.count
        loop.wake()  # while the pass is held open
        gate.set()
        await loop.passes.wait_for_count(during + 1)
    run(tmp_path, make, body)


@pytest.mark.parametrize("make", LOOPS, ids=lambda f: f.__name__)
def test_a_failing_pass_is_logged_and_the_loop_carries_on(tmp_path, make, caplog):
    async def body(loop: Loop) -> None:
        await _first_pass_done(loop)
        loop.passes.fail_next = True
        before = loop.passes.count
        loop.wake()
        await loop.passes.wait_for_count(before + 1)
        await asyncio.sleep(0.005)
        loop.wake()
        await loop.passes.wait_for_count(before + 2)
        assert any("pass failed" in r.getMessage() for r in caplog.records)
    run(tmp_path, make, body)


def test_sleep_until_woken_reports_wake_or_deadline():
    async def main() -> None:
        wake = asyncio.Event()
        assert await sleep_until_woken(wake, 0.001) is False
        assert await sleep_until_woken(wake, -5) is False  # a due time already past: no sleep
        wake.set()
        assert await sleep_until_woken(wake, LONG_S) is True
        assert wake.is_set()  # the caller clears it, just before the work it stands for
        asyncio.get_running_loop().call_later(0.001, wake.set)
        wake.clear()
        assert await sleep_until_woken(wake, None) is True
    asyncio.run(main())


def test_sleep_until_woken_passes_on_a_cancel_even_when_already_woken():
    async def main() -> None:
        wake = asyncio.Event()
        wake.set()
        task = asyncio.ensure_future(sleep_until_woken(wake, LONG_S))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    asyncio.run(main())
