"""systemd service notifications for the three appliance processes (Type=notify units).

`ready(status)` tells systemd the process is serving (READY=1) and, when the unit sets
WatchdogSec=, starts a task in the running event loop that sends WATCHDOG=1 at half the interval.
The ping rides the same loop as the work, so a wedged loop stops the pings and systemd restarts
the unit. `journal_logging()` sends log records to journald with structured fields when the
process runs under systemd. Outside systemd (NOTIFY_SOCKET unset: tests, `make run`) every call
is a no-op, and systemd-python is not even imported.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Awaitable, Callable

log = logging.getLogger("appliance.sdnotify")

Sender = Callable[[str], object]
_watchdog_task: asyncio.Task | None = None


def _systemd_send(message: str) -> object:
    from systemd import daemon  # systemd-python: present in the image's venv
    return daemon.notify(message)


def enabled(environ: dict[str, str] | None = None) -> bool:
    return bool((os.environ if environ is None else environ).get("NOTIFY_SOCKET"))


def notify(message: str, *, environ: dict[str, str] | None = None, send: Sender | None = None) -> bool:
    """Send one notification ("READY=1", "STATUS=..."); False when not under systemd."""
    if not enabled(environ):
        return False
    (send or _systemd_send)(message)
    return True


def watchdog_interval(environ: dict[str, str] | None = None, pid: int | None = None) -> float | None:
    """Seconds between pings (half of WatchdogSec=), or None when systemd watches nothing.

    WATCHDOG_PID names the process the watchdog is meant for; a child that inherited the
    environment must not ping on its parent's behalf (sd_watchdog_enabled(3))."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    if not enabled(env) or not usec.isdigit() or int(usec) == 0:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if owner and owner != str(os.getpid() if pid is None else pid):
        return None
    return int(usec) / 2_000_000


async def watchdog_pings(interval: float, *, send: Sender | None = None,
                         sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                         environ: dict[str, str] | None = None) -> None:
    """Ping until cancelled."""
    while True:
        notify("WATCHDOG=1", environ=environ, send=send)
        await sleep(interval)


def ready(status: str = "", *, environ: dict[str, str] | None = None, send: Sender | None = None) -> bool:
    """READY=1 (with an optional STATUS=), then the watchdog task if WatchdogSec= is set."""
    global _watchdog_task
    message = "READY=1" + (f"\nSTATUS={status[:200]}" if status else "")
    if not notify(message, environ=environ, send=send):
        return False
    interval = watchdog_interval(environ)
    if interval is not None and _watchdog_task is None:
        _watchdog_task = asyncio.get_running_loop().create_task(
            watchdog_pings(interval, send=send, environ=environ), name="sd-watchdog")
    return True


def stopping(*, environ: dict[str, str] | None = None, send: Sender | None = None) -> bool:
    global _watchdog_task
    if _watchdog_task is not None:
        _watchdog_task.cancel()
        _watchdog_task = None
    return notify("STOPPING=1", environ=environ, send=send)


def journal_logging(identifier: str, environ: dict[str, str] | None = None) -> bool:
    """Route the root logger to journald (structured: logger name, level, code location, and
    any `extra=` fields as upper-case journal fields) when stderr is the unit's journal stream."""
    env = os.environ if environ is None else environ
    if not env.get("JOURNAL_STREAM"):
        return False
    from systemd.journal import JournalHandler
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(JournalHandler(SYSLOG_IDENTIFIER=identifier))
    return True
