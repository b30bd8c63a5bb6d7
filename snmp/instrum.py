"""The agent's MIB view: an immutable snapshot of OID -> value, and pysnmp's instrumentation over it.

A `Snapshot` is rebuilt from the status document whenever that changes and swapped in whole, so a
walk never sees half an update. GET and GETNEXT (GETBULK is GETNEXT repeated by pysnmp) answer from
it with a binary search; every OID still passes the engine's VACM check. There is no write path at
all: SET is refused for every object (notWritable, or authorizationError where VACM gives the user no
write view), which is what "read-only" means for the NMS.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any

from pysnmp.proto import rfc1902
from pysnmp.smi import error as smi_error
from pysnmp.smi import exval
from pysnmp.smi.instrum import AbstractMibInstrumController

from snmp.oids import OBJECTS, VALUE_OBJECTS

Value = Any  # a pysnmp value, or a callable giving one at request time (sysUpTime, counters the engine keeps)


class Snapshot:
    def __init__(self, values: dict[tuple[int, ...], Value]):
        self.values = values
        self.keys = sorted(values)

    def get(self, name: tuple[int, ...]) -> Any:
        value = self.values.get(name)
        return value() if callable(value) else value

    def next_after(self, name: tuple[int, ...]) -> tuple[int, ...] | None:
        i = bisect.bisect_right(self.keys, name)
        return self.keys[i] if i < len(self.keys) else None

    def walk(self, prefix: tuple[int, ...]) -> Iterable[tuple[tuple[int, ...], Any]]:
        i = bisect.bisect_left(self.keys, prefix)
        while i < len(self.keys) and self.keys[i][:len(prefix)] == prefix:
            yield self.keys[i], self.get(self.keys[i])
            i += 1


class SnapshotBuilder:
    """Collects the values of one snapshot, typed by the object's SMI syntax (snmp.oids)."""

    def __init__(self) -> None:
        self.values: dict[tuple[int, ...], Value] = {}

    def scalar(self, name: str, value: Any) -> None:
        self.cell(name, (0,), value)

    def cell(self, name: str, index: tuple[int, ...], value: Any) -> None:
        obj = OBJECTS[name]
        if value is None:
            return  # not measured / not known: the instance does not exist
        self.values[obj.oid + tuple(index)] = value if callable(value) else typed(obj.syntax, value)

    def build(self) -> Snapshot:
        return Snapshot(self.values)


def typed(syntax: type, value: Any) -> Any:
    """Counters wrap as RFC 2578 says, gauges stick at their maximum."""
    if syntax is rfc1902.OctetString and isinstance(value, str):
        return syntax(value.encode("utf-8", "replace"))
    if syntax is rfc1902.Counter32:
        return syntax(int(value) % 2**32)
    if syntax is rfc1902.Counter64:
        return syntax(int(value) % 2**64)
    if syntax in (rfc1902.Gauge32, rfc1902.Unsigned32, rfc1902.TimeTicks):
        return syntax(min(max(0, int(value)), 2**32 - 1))
    return syntax(value)


def _known_object(name: tuple[int, ...]) -> bool:
    return any(name[:k] in VALUE_OBJECTS for k in range(len(name), 6, -1))


class SnapshotInstrum(AbstractMibInstrumController):
    """pysnmp's command responders call these with the request's var-binds."""

    def __init__(self, current: Callable[[], Snapshot]):
        self.current = current

    @staticmethod
    def _visible(name: tuple[int, ...], value: Any, context: dict) -> bool:
        ac = context.get("acFun")
        # acFun raises AuthorizationError when the user has no read access at all; True = not in view
        return ac is None or not ac("read", (rfc1902.ObjectName(name), value), **context)

    def read_variables(self, *var_binds, **context):
        snap = self.current()
        out = []
        for idx, (name, _) in enumerate(var_binds):
            context["idx"] = idx
            key = tuple(name)
            value = snap.get(key)
            if not self._visible(key, value, context):
                out.append((name, exval.noSuchObject))
            elif value is None:
                out.append((name, exval.noSuchInstance if _known_object(key) else exval.noSuchObject))
            else:
                out.append((rfc1902.ObjectName(key), value))
        return out

    def read_next_variables(self, *var_binds, **context):
        snap = self.current()
        out = []
        for idx, (name, _) in enumerate(var_binds):
            context["idx"] = idx
            key = tuple(name)
            while True:
                key = snap.next_after(key)
                if key is None:
                    out.append((name, exval.endOfMibView))
                    break
                value = snap.get(key)
                if self._visible(key, value, context):
                    out.append((rfc1902.ObjectName(key), value))
                    break
        return out

    def write_variables(self, *var_binds, **context):
        for idx, (name, value) in enumerate(var_binds):
            context["idx"] = idx
            ac = context.get("acFun")
            if ac is not None:
                ac("write", (name, value), **context)  # AuthorizationError for a user without a write view
            raise smi_error.NotWritableError(name=name, idx=idx)
        return []
