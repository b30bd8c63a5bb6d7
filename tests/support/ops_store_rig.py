"""An operator-command context over a real store and its one writer, on a fake clock, for the console
command tests that need no carrier interface (tickets, calendar). Commands that reach carriers are
tested on the npac_rig node instead."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.npac.writer import Writer
from appliance.ops.context import OpsContext
from appliance.ops.security_log import SecurityLog
from appliance.ops.users import Session
from appliance.store.store import Store

OPERATOR = Session(user_id="oper1", role="operator", token="t")


class Clock:
    def __init__(self, ms: int):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@dataclass
class StoreServices:
    """The part of NpacServices the ops commands use when no carrier is involved."""
    store: Store
    writer: Writer
    clock_ms: Clock
    installed: list[Any] = field(default_factory=list)


def store_context(tmp: Path, now_ms: int) -> OpsContext:
    clock = Clock(now_ms)
    store = Store(str(tmp / "npac.db"), clock)
    services = StoreServices(store, Writer(store, clock), clock)
    return OpsContext(config=None, live=Live(services), security_log=SecurityLog(tmp / "security.log"))  # type: ignore[arg-type]


@dataclass
class Live:
    """What OpsContext.live holds on a live node: the services and their store."""
    services: Any

    @property
    def store(self) -> Store:
        return self.services.store
