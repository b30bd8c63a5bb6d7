"""A recorded run for the meter and report tests: the meters on a real store and writer, with an
injected clock, and stand-ins for the agent's connections (only what the meters read of them)."""
from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from appliance.lnp.security import LOCAL_SMS, SOA
from appliance.npac.writer import Writer
from appliance.ops.meters import Meters
from appliance.store.store import Store


def ms(text: str) -> int:
    """'2026-03-01 00:00' (GMT) -> epoch milliseconds."""
    return int(dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


class Clock:
    def __init__(self, now: int):
        self.now = now

    def __call__(self) -> int:
        return self.now

    def set(self, now: int) -> None:
        self.now = now


@dataclass
class Hooks:
    """The agent's and engine's hook lists, as the meters use them."""

    request_observers: list = field(default_factory=list)
    outgoing_observers: list = field(default_factory=list)
    association_listeners: list = field(default_factory=list)
    listeners: list = field(default_factory=list)


class Services:
    """What `install_meters` takes of NpacServices: store, writer, clock, agent and engine hooks."""

    def __init__(self, path: Path, clock: Clock):
        self.clock_ms = clock
        self.store = Store(str(path), clock=clock)
        self.writer = Writer(self.store, clock)
        self.agent = Hooks()
        self.engine = Hooks()

    def close(self) -> None:
        self.store.close()


class Conn:
    """An association as the meters see it: the peer's system id and grant, and `closed`."""

    def __init__(self, system_id: str, system_type: int = SOA, functions: frozenset[str] = frozenset()):
        if not functions:
            functions = frozenset({"lsms.dataDownload"} if system_type == LOCAL_SMS else {"soa.soaMgmt"})
        self.context = {"lnp": SimpleNamespace(peer_id=system_id,
                                               grant=SimpleNamespace(system_type=system_type, functions=functions))}
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()

    def close(self) -> None:
        self.closed.set_result(None)


def associate(meters: Meters, conn: Conn) -> None:
    for listener in meters.services.agent.association_listeners:
        listener(conn)


async def disassociate(conn: Conn) -> None:
    conn.close()
    await asyncio.sleep(0)  # the done callbacks run on the next loop turn


def request(meters: Meters, clock: Clock, conn: Conn, req: Any, took_ms: int, answer: Any = "ok") -> None:
    """One carrier request arriving now and answered `took_ms` later; the clock ends there."""
    done = [obs(conn, req) for obs in meters.services.agent.request_observers]
    clock.set(clock.now + took_ms)
    for d in done:
        if d is not None:
            d(answer)


def outgoing(meters: Meters, clock: Clock, conn: Conn, req: Any, took_ms: int, outcome: Any = "ok") -> None:
    done = [obs(conn, req) for obs in meters.services.agent.outgoing_observers]
    clock.set(clock.now + took_ms)
    for d in done:
        if d is not None:
            d(outcome)


def committed(meters: Meters, **fields: Any) -> None:
    """A commit as the engine tells its listeners (appliance.npac.engine.Submitted's fields)."""
    outcome = SimpleNamespace(**{"version_ids": (), "versions": (), "effects": (), "sequence": None,
                                 "operation": "", "requester": None, **fields})
    for listener in meters.services.engine.listeners:
        listener(outcome)
