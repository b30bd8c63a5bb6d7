"""What the agent has observed, and the notifications that changes in it call for.

`Observed` is one reading: the node's status document (or the last good one, if the node stopped
answering), merged with what the firmware hooks report (links, self-checks). `Tracker.update`
compares a reading with the one before, records when things changed (ifLastChange,
dsx1LineStatusLastChange, npacNodeRoleLastChange, ...) in sysUpTime ticks, and returns the
notifications to send. It is pure apart from its own memory: the caller supplies the clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from appliance.status import Breach, Link, SelfCheck, StatusBoard, breaches

DOWNISH = ("down", "lowerLayerDown")  # RFC 2863 linkDown/linkUp: entering / leaving these
HB_PATHS = {"network": 1, "serial": 2}  # npacHbPathIndex


@dataclass
class Observed:
    board: StatusBoard
    reachable: bool
    read_at: float | None  # time.time() of the last successful read; None = never
    links: list[Link] = field(default_factory=list)
    checks: list[SelfCheck] = field(default_factory=list)
    checks_ran: str | None = None

    @property
    def role(self) -> str:
        return self.board.role if self.reachable else "unknown"


@dataclass(frozen=True)
class Notification:
    trap: str  # a notification name in snmp.oids
    objects: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (object, instance index), read from the snapshot
    values: tuple[tuple[str, tuple[int, ...], object], ...] = ()  # accessible-for-notify objects, given here


class Indexer:
    """Stable small integers for names (ifIndex, npacSelfCheckIndex, ...), never reused while running."""

    def __init__(self) -> None:
        self.known: dict[object, int] = {}

    def __call__(self, key: object) -> int:
        if key not in self.known:
            self.known[key] = len(self.known) + 1
        return self.known[key]


class Tracker:
    def __init__(self) -> None:
        self.changed: dict[tuple, int] = {}  # what -> sysUpTime ticks of its last change
        self.if_index = Indexer()
        self.check_index = Indexer()
        self.assoc_index = Indexer()
        self.previous: Observed | None = None
        self.table_changed = 0  # ifTableLastChange

    def update(self, new: Observed, now_ticks: int) -> list[Notification]:
        prev, self.previous = self.previous, new
        for link in new.links:
            self.if_index(link.name)
        for check in new.checks:
            self.check_index(check.name)
        if prev is None:
            # alarms already present when the agent starts are raised once; state changes need a before
            return [Notification("coldStart")] + [self._check_failed(c) for c in new.checks if c.status == "failed"]
        out: list[Notification] = []
        out += self._role(prev, new, now_ticks)
        out += self._heartbeat(prev, new, now_ticks)
        out += self._links(prev, new, now_ticks)
        out += self._checks(prev, new, now_ticks)
        out += self._security(prev, new)
        out += self._service_levels(prev, new)
        return out

    def _mark(self, key: tuple, now: int) -> None:
        self.changed[key] = now

    def _role(self, prev: Observed, new: Observed, now: int) -> list[Notification]:
        if (prev.role, prev.board.epoch) == (new.role, new.board.epoch):
            return []
        self._mark(("role",), now)
        return [Notification("npacRoleChange", (("npacNodeRole", (0,)), ("npacNodeEpoch", (0,)),
                                                ("npacPeerState", (0,))))]

    def _heartbeat(self, prev: Observed, new: Observed, now: int) -> list[Notification]:
        before = {p.name: p.state for p in prev.board.heartbeat}
        out = []
        for path in new.board.heartbeat:
            was = before.get(path.name, "unknown")
            if was == path.state or path.name not in HB_PATHS:
                continue
            self._mark(("hb", path.name), now)
            index = (HB_PATHS[path.name],)
            objects = (("npacHbPathName", index), ("npacHbPathState", index))
            if path.state == "down":
                out.append(Notification("npacHeartbeatPathLost", objects))
            elif was == "down" and path.state == "up":
                out.append(Notification("npacHeartbeatPathRestored", objects))
        return out

    def _links(self, prev: Observed, new: Observed, now: int) -> list[Notification]:
        before = {link.name: link for link in prev.links}
        after = {link.name for link in new.links}
        if set(before) != after:
            self.table_changed = now
        out = []
        for link in new.links:
            old = before.get(link.name)
            index = (self.if_index(link.name),)
            if old is not None and old.oper != link.oper:
                self._mark(("if", link.name), now)
                updown = ("ifIndex", index), ("ifAdminStatus", index), ("ifOperStatus", index)
                if link.oper in DOWNISH and old.oper not in DOWNISH and old.oper != "notPresent":
                    out.append(Notification("linkDown", updown))
                elif old.oper in DOWNISH and link.oper not in DOWNISH and link.oper != "notPresent":
                    out.append(Notification("linkUp", updown))
            if old is not None and old.counters.in_octets > link.counters.in_octets:
                self._mark(("ifcounters", link.name), now)  # the source's counters were reset
            if link.ds1 is not None and old is not None and old.ds1 is not None \
                    and sorted(old.ds1.line_status) != sorted(link.ds1.line_status):
                self._mark(("ds1", link.name), now)
                out.append(Notification("dsx1LineStatusChange", (("dsx1LineStatus", index),
                                                                 ("dsx1LineStatusLastChange", index))))
        return out

    def _check_failed(self, check: SelfCheck) -> Notification:
        index = (self.check_index(check.name),)
        objects = (("npacSelfCheckName", index), ("npacSelfCheckStatus", index), ("npacSelfCheckDetail", index))
        return Notification("npacSelfCheckFailed" if check.status == "failed" else "npacSelfCheckCleared", objects)

    def _checks(self, prev: Observed, new: Observed, now: int) -> list[Notification]:
        before = {c.name: c.status for c in prev.checks}
        out = []
        for check in new.checks:
            was = before.get(check.name)
            if was == check.status:
                continue
            self._mark(("check", check.name), now)
            if check.status == "failed" or was == "failed":
                out.append(self._check_failed(check))
        return out

    def _security(self, prev: Observed, new: Observed) -> list[Notification]:
        old, cur = prev.board.security, new.board.security
        restarted = prev.board.started != new.board.started
        if not new.reachable or cur.violations() <= (0 if restarted else old.violations()):
            return []
        return [Notification("npacSecurityViolation", tuple((n, (0,)) for n in (
            "npacSecLastViolationKind", "npacSecLastViolationSystemId", "npacSecLastViolationPeer",
            "npacSecLastViolationTime")))]

    def _service_levels(self, prev: Observed, new: Observed) -> list[Notification]:
        def keyed(obs: Observed) -> dict[tuple[int, str], Breach]:
            return {(b.slr, b.carrier): b for b in breaches(obs.board.service_levels)}
        old = keyed(prev) if prev.board.service_levels.month == new.board.service_levels.month else {}
        out = []
        for key, b in sorted(keyed(new).items()):
            if key in old:
                continue
            out.append(Notification("npacServiceLevelBreach", (("npacSlMonth", (0,)),), (
                ("npacSlBreachSlr", (0,), b.slr), ("npacSlBreachCarrierId", (0,), b.carrier),
                ("npacSlBreachValue", (0,), b.value), ("npacSlBreachObjective", (0,), b.objective))))
        return out
