"""Failover drills from the console (`npac drill planned|unplanned|switchback`), on the live pair.

- planned: the live node hands over to its current standby as in a switchback (drain: associations
  released then aborted; the standby replays every row; it promotes and goes live);
- switchback: the same, back to the preferred primary (RN10-2..4);
- unplanned: the live side crashes: its npac-ha stops heartbeating and SIGKILLs its node
  (`drill.crash`), so the standby detects the silence, fences, promotes (contract 12.4).

The runner talks to both npac-ha control sockets and both node control sockets, watches until the
new live node has every carrier back that the old one had (each LSMS's lnpRecoveryComplete, each SOA
re-associated) or the budget runs out, and writes the timestamped report (`ha.drill_report`).
Transactions lost compares what the old live node had acknowledged with the new live node's journal.

It runs as its own process (`python -m ha.drills run KIND ...`): the console command starts it, so a
drill that kills the node the operator is logged in to still finishes its report.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.control import ControlError, request_async
from ha.drill_report import BUDGET_S, KINDS, REQUIRED, drill_id, listing, load, verdict, write
from ha.drill_report import text as report_text

LIVE = ("primary-live", "isolated")
LSMS_TYPES = ("local-sms", "soa-and-local-sms")
SOA_TYPES = ("soa", "soa-and-local-sms")


class DrillError(Exception):
    """The drill cannot start (or a side cannot be reached): one line for the operator."""


@dataclass(frozen=True)
class Side:
    name: str
    node_socket: Path
    ha_socket: Path


def side_of(node_config: str | Path) -> Side:
    """A side's sockets from its node configuration (and the HA configuration it names)."""
    from appliance.config import ConfigError, load_config
    from ha.config import load_config as load_ha

    try:
        cfg = load_config(Path(node_config))
        if cfg.ha_config is None:
            raise DrillError(f"{node_config}: not a node of a pair (no [ha] config)")
        hacfg = load_ha(cfg.ha_config)
    except ConfigError as exc:
        raise DrillError(str(exc)) from None
    return Side(hacfg.node, Path(cfg.control_socket), hacfg.control_socket)


def wall_ms() -> int:
    return int(time.time() * 1000)


class DrillRunner:
    def __init__(self, sides: tuple[Side, Side], *, budget_s: float = BUDGET_S, poll_s: float = 0.2,
                 clock_ms: Callable[[], int] = wall_ms, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 timeout: float = 3.0):
        self.sides = sides
        self.budget_s = budget_s
        self.poll_s = poll_s
        self.clock_ms = clock_ms
        self.sleep = sleep
        self.timeout = timeout

    async def _ask(self, path: Path, op: str, **args: Any) -> Any:
        return await request_async(path, op, timeout=self.timeout, **args)

    async def _maybe(self, path: Path, op: str, **args: Any) -> Any:
        try:
            return await self._ask(path, op, **args)
        except ControlError:
            return None

    # --- before ---------------------------------------------------------------------------------
    async def _who_leads(self) -> tuple[Side, Side, dict[str, Any]]:
        reports = {}
        for side in self.sides:
            try:
                reports[side.name] = await self._ask(side.ha_socket, "status")
            except ControlError as exc:
                raise DrillError(f"npac-ha of {side.name} not reachable: {exc}") from None
        live = [s for s in self.sides if reports[s.name]["role"] in LIVE]
        standby = [s for s in self.sides if reports[s.name]["role"] == "standby"]
        if len(live) != 1 or len(standby) != 1:
            roles = ", ".join(f"{n} {r['role']}" for n, r in reports.items())
            raise DrillError(f"a drill needs one live node and one current standby; now {roles}")
        return live[0], standby[0], reports

    async def _current(self, old: Side, new: Side, settle_s: float = 5.0) -> None:
        """The standby holds every row the live node has (a row may be on its way: look again)."""
        deadline = self.clock_ms() + int(settle_s * 1000)
        while True:
            live = (await self._ask(old.node_socket, "ha.drill_marks"))["sequence"]
            held = (await self._ask(new.node_socket, "ha.drill_marks"))["sequence"]
            if held >= live:
                return
            if self.clock_ms() >= deadline:
                raise DrillError(f"{new.name} holds {held} of {old.name}'s {live} journal rows; "
                                 "the drill would lose transactions")
            await self.sleep(self.poll_s)

    async def _carriers(self, side: Side) -> tuple[list[str], list[str]]:
        try:
            status = await self._ask(side.node_socket, "status")
        except ControlError as exc:
            raise DrillError(f"node {side.name} not reachable: {exc}") from None
        assoc = status.get("associations") or []
        lsms = sorted({a["system_id"] for a in assoc if a["system_type"] in LSMS_TYPES})
        soas = sorted({a["system_id"] for a in assoc if a["system_type"] in SOA_TYPES})
        return lsms, soas

    # --- the drill ------------------------------------------------------------------------------
    async def run(self, kind: str) -> dict[str, Any]:
        if kind not in KINDS:
            raise DrillError(f"unknown drill {kind!r}; one of {', '.join(KINDS)}")
        old, new, reports = await self._who_leads()
        if kind == "switchback" and reports[old.name].get("preferred"):
            raise DrillError(f"{old.name} is the preferred primary and live already: nothing to switch back")
        await self._current(old, new)
        lsms, soas = await self._carriers(old)
        started = self.clock_ms()
        marks: dict[str, int] = {}
        crash: dict[str, Any] = {}
        if kind == "unplanned":
            crash = await self._ask(old.ha_socket, "drill.crash")
            marks["crash"] = int(crash["crashed_ms"])
        else:
            await self._ask(old.ha_socket, "switchback")
            marks["requested"] = started
        try:
            carriers, new_report, old_marks = await self._watch(kind, old, new, started, lsms, soas, marks)
        finally:
            if kind == "unplanned":
                await self._maybe(old.ha_socket, "drill.end")  # fenced machines are down anyway
        journal = await self._journal(kind, old, new, crash, new_report, old_marks)
        return self._report(kind, old, new, started, marks, carriers, lsms, soas, journal)

    async def _watch(self, kind: str, old: Side, new: Side, started: int, lsms: list[str], soas: list[str],
                     marks: dict[str, int]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        deadline = started + int(self.budget_s * 1000)
        carriers: dict[str, Any] = {"lsms": {}, "soa": {}}
        new_report: dict[str, Any] = {}
        old_marks: dict[str, Any] = {}
        while True:
            new_report = await self._maybe(new.ha_socket, "status") or new_report
            new_marks = await self._maybe(new.node_socket, "ha.drill_marks", since_ms=started) or {}
            if kind != "unplanned":
                old_marks = await self._maybe(old.node_socket, "ha.drill_marks", since_ms=started) or old_marks
                old_report = await self._maybe(old.ha_socket, "status") or {}
                _planned_marks(marks, old_marks, old_report, new_report)
            _new_marks(kind, marks, new_report, new_marks, carriers, started)
            done = all(m in marks for m in REQUIRED[kind]) and set(lsms) <= set(carriers["lsms"]) \
                and set(soas) <= set(carriers["soa"]) and (not (lsms or soas) or "first-association" in marks)
            if done or self.clock_ms() >= deadline:
                return carriers, new_report, old_marks
            await self.sleep(self.poll_s)

    async def _journal(self, kind: str, old: Side, new: Side, crash: dict[str, Any], new_report: dict[str, Any],
                       old_marks: dict[str, Any]) -> dict[str, Any]:
        promoted_at = int((new_report.get("database") or {}).get("sequence") or 0)
        if kind == "unplanned":
            # the old node's last committed row at the crash; with synchronous replication a carrier was
            # answered only once the standby held its row, so only rows from at_risk_from could be lost
            acked, at_risk = int(crash.get("sequence") or 0), int(crash.get("at_risk_from") or 0)
            lost = max(0, acked - max(promoted_at, at_risk - 1)) if at_risk else 0
            if (new_report.get("database") or {}).get("lost"):
                lost = max(lost, 1)
            return {"basis": f"old live acknowledged up to {acked} (at risk from {at_risk or 'none'}); "
                              f"new live held {promoted_at} at promotion",
                    "old_acknowledged": acked, "at_risk_from": at_risk, "new_at_promotion": promoted_at, "lost": lost}
        drained = next((e for e in reversed(old_marks.get("events", [])) if e["event"] == "drained"), None)
        upto = int(drained["sequence"]) if drained else 0
        digests = [await self._maybe(s.node_socket, "ha.journal_digest", upto=upto) for s in (old, new)]
        same = digests[0] is not None and digests[0] == digests[1]
        lost = 0 if same and promoted_at >= upto else max(1, upto - promoted_at)
        return {"basis": f"journals 1..{upto} {'identical' if same else 'differ'} on both nodes; "
                         f"new live held {promoted_at} at promotion",
                "old_last": upto, "new_at_promotion": promoted_at, "digests": digests, "lost": lost}

    def _report(self, kind: str, old: Side, new: Side, started: int, marks: dict[str, int],
                carriers: dict[str, Any], lsms: list[str], soas: list[str], journal: dict[str, Any]) -> dict[str, Any]:
        for sp, at in carriers["lsms"].items():
            marks[f"lsms {sp} recovery complete"] = at
        for sp, at in carriers["soa"].items():
            marks[f"soa {sp} re-associated"] = at
        ordered = sorted(({"mark": k, "time_ms": v} for k, v in marks.items()), key=lambda m: (m["time_ms"], m["mark"]))
        begin = marks.get("detection") if kind == "unplanned" else marks.get("requested")
        accepting = marks.get("first-association") or marks.get("live")
        last = max([accepting or 0, *carriers["lsms"].values(), *carriers["soa"].values()])
        missing = [f"lsms {sp}" for sp in lsms if sp not in carriers["lsms"]] + \
                  [f"soa {sp}" for sp in soas if sp not in carriers["soa"]]
        report = {
            "id": drill_id(kind, started), "kind": kind, "from": old.name, "to": new.name, "started_ms": started,
            "marks": ordered, "carriers": {"lsms_expected": lsms, "soa_expected": soas, "missing": missing,
                                           "lsms": carriers["lsms"], "soa": carriers["soa"]},
            "journal": journal, "transactions_lost": journal["lost"], "budget_s": self.budget_s,
            "cutover_s": round((accepting - begin) / 1000, 3) if begin and accepting else None,
            "total_s": round((last - begin) / 1000, 3) if begin and last else None,
        }
        problems = verdict(report)
        if (lsms or soas) and "first-association" not in marks:
            problems.append("no association accepted by the new live node")
        report.update(problems=problems, ok=not problems)
        return report


def _first(history: list[dict[str, Any]], since: int, *, event: str | None = None, before: tuple[str, ...] = (),
           after: tuple[str, ...] = ()) -> int | None:
    for t in history:
        if t["time_ms"] >= since and (event is None or t["event"] == event) \
                and (not before or t["before"] in before) and (not after or t["after"] in after):
            return int(t["time_ms"])
    return None


def _put(marks: dict[str, int], name: str, value: int | None) -> None:
    if value is not None and name not in marks:
        marks[name] = value


def _new_marks(kind: str, marks: dict[str, int], report: dict[str, Any], node: dict[str, Any],
               carriers: dict[str, Any], started: int) -> None:
    history = report.get("history") or []
    since = marks.get("crash", started) - 1000  # heartbeat clocks: allow for the poll granularity
    if kind == "unplanned":
        cutover = report.get("cutover") or {}
        if cutover.get("detected", 0) >= since:
            _put(marks, "detection", cutover.get("detected"))
        _put(marks, "fence", _first(history, since, event="FenceSucceeded"))
    else:
        _put(marks, "replayed", _first(history, since, event="SwitchbackReplayed", after=("promoting",)))
    _put(marks, "promotion", _first(history, since, before=("promoting",), after=LIVE))
    live_since = node.get("live_since")
    if live_since and live_since >= started - 1000 and "promotion" in marks:
        _put(marks, "live", live_since)
    if "live" not in marks:
        return
    for e in node.get("events", []):
        if e["time_ms"] < marks["live"]:
            continue
        if e["event"] == "association":
            _put(marks, "first-association", e["time_ms"])
            if e["role"] == "soa":
                carriers["soa"].setdefault(e["system_id"], e["time_ms"])
        elif e["event"] == "recovery-complete":
            carriers["lsms"].setdefault(e["system_id"], e["time_ms"])


def _planned_marks(marks: dict[str, int], old_marks: dict[str, Any], old_report: dict[str, Any],
                   new_report: dict[str, Any]) -> None:
    for e in old_marks.get("events", []):
        if e["event"] == "drained":
            _put(marks, "drained", e["time_ms"])
    _put(marks, "handed-over", _first(old_report.get("history") or [], marks["requested"] - 1000,
                                      after=("handed-over",)))


# --- console commands ------------------------------------------------------------------------------

def drills_dir(ctx: Any) -> Path:
    return Path(ctx.data_dir) / "drills"


async def _run(ctx: Any, session: Any, kind: str = "", peer_config: str | None = None,
               peer_node_socket: str | None = None, peer_ha_socket: str | None = None) -> dict[str, Any]:
    from appliance.ops.commands import CommandError

    if kind not in KINDS:
        raise CommandError(f"drill kind must be one of {', '.join(KINDS)}")
    if ctx.config.ha_config is None:
        raise CommandError("this node is not part of a pair: no drill to run")
    if peer_config:
        peer_args = ["--node-config", str(peer_config)]
    elif peer_node_socket and peer_ha_socket:
        peer_args = ["--side", f"peer={peer_node_socket},{peer_ha_socket}"]
    else:
        raise CommandError("name the other node: peer_config=FILE, or peer_node_socket= and peer_ha_socket=")
    own = ctx.config.path
    out = drills_dir(ctx)
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "runner.log", "ab")
    # its own session: a drill that kills this node still finishes and writes its report
    proc = subprocess.Popen([sys.executable, "-m", "ha.drills", "run", kind, "--node-config", str(own), *peer_args,
                             "--out", str(out)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=str(Path(__file__).resolve().parents[1]))
    log.close()
    return {"drill": kind, "pid": proc.pid, "reports": str(out)}


async def _list(ctx: Any, session: Any) -> list[dict[str, Any]]:
    return listing(drills_dir(ctx))


async def _show(ctx: Any, session: Any, id: str = "") -> dict[str, Any]:  # noqa: A002 - the console's word
    from appliance.ops.commands import CommandError

    try:
        return load(drills_dir(ctx), id)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def commands() -> list[Any]:
    from appliance.ops.commands import Command

    return [Command("drill.run", _run, "operate", "run a failover drill: kind=planned|unplanned|switchback"),
            Command("drill.list", _list, "read", "the drill reports on this node"),
            Command("drill.show", _show, "read", "one drill report: id=drill-...")]


# --- command line ----------------------------------------------------------------------------------

def _side_arg(text: str) -> Side:
    name, sep, paths = text.partition("=")
    node, comma, ha = paths.partition(",")
    if not sep or not comma or not name or not node or not ha:
        raise argparse.ArgumentTypeError(f"--side wants NAME=NODE_SOCKET,HA_SOCKET, got {text!r}")
    return Side(name, Path(node), Path(ha))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ha.drills", description="Run a failover drill on the pair")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one drill and write its report")
    run.add_argument("kind", choices=KINDS)
    run.add_argument("--node-config", action="append", default=[], help="a node's configuration (twice)")
    run.add_argument("--side", action="append", default=[], type=_side_arg, help="NAME=NODE_SOCKET,HA_SOCKET")
    run.add_argument("--out", required=True, help="directory for the reports")
    run.add_argument("--budget", type=float, default=BUDGET_S, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        sides = [side_of(p) for p in args.node_config] + list(args.side)
        if len(sides) != 2 or sides[0].name == sides[1].name:
            raise DrillError("name the two nodes of the pair (--node-config or --side, twice)")
        report = asyncio.run(DrillRunner((sides[0], sides[1]), budget_s=args.budget).run(args.kind))
    except (DrillError, ControlError) as exc:
        print(f"drill: {exc}", file=sys.stderr)
        return 2
    json_path, _ = write(report, Path(args.out))
    sys.stdout.write(report_text(report))
    print(f"report: {json_path}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
