"""`npac drill ...`: failover drills on the live pair (contract 12.4, RN10-1..4): planned failover,
unplanned (the live node is killed), switchback. The node starts the drill as its own process, so
a drill that takes the node down still writes its timestamped report; `--wait` polls for it."""
from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

from appliance.console.client import Client, Refused, Unreachable, load_session
from appliance.console.render import record, table
from appliance.console.verbs import UsageError, group, nothing, verb

KINDS = ("planned", "unplanned", "switchback")
LIST_COLUMNS = (("id", "DRILL"), ("kind", "KIND"), ("started", "STARTED"), ("from", "FROM"), ("to", "TO"),
                ("ok", "OK"), ("transactions_lost", "LOST"), ("total_s", "TOTAL S"))


def _show(r: dict[str, Any]) -> str:
    return r["text"] if isinstance(r.get("text"), str) and r["text"] else record(r.get("report") or r)


def _ids(client: Client, token: str) -> set[str] | None:
    try:
        return {d["id"] for d in client.call("drill.list", session=token, timeout=5)}
    except Unreachable:
        return None  # the node may be the one the drill restarts: ask again


def wait_for_report(client: Client, token: str, before: set[str], seconds: float,
                    clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> str:
    """The id of the first drill report that was not there when the drill started."""
    deadline = clock() + seconds
    while True:
        new = (_ids(client, token) or set()) - before
        if new:
            return sorted(new)[0]
        if clock() >= deadline:
            raise Refused(f"no drill report after {seconds:g} s; see `npac drill list` later")
        sleep(0.5)


def run(args: argparse.Namespace, client: Client) -> int:
    session = load_session()
    if session is None:
        raise Refused("not logged in: run `npac login USER` first")
    if args.wait is not None and args.wait <= 0:
        raise UsageError("--wait must be a positive number of seconds")
    peer = os.path.abspath(args.peer_config)
    if not os.path.isfile(peer):
        raise UsageError(f"--peer-config {args.peer_config}: no such file")
    before = _ids(client, session["token"]) if args.wait else set()
    started = client.call("drill.run", session=session["token"], kind=args.kind, peer_config=peer)
    if args.json and not args.wait:
        print(json.dumps(started, indent=2, sort_keys=True))
        return 0
    print(f"{args.kind} drill started (process {started['pid']}); reports in {started['reports']}")
    if not args.wait:
        return 0
    report_id = wait_for_report(client, session["token"], before or set(), args.wait)
    shown = client.call("drill.show", session=session["token"], id=report_id)
    print(json.dumps(shown["report"], indent=2, sort_keys=True) if args.json else _show(shown))
    return 0 if shown["report"].get("ok") else 1


def register(sub: Any) -> None:
    g = group(sub, "drill", "failover drills on the pair, each with a timestamped report")
    p = g.add_parser("run", help="run a drill: planned | unplanned | switchback",
                     description="run a drill from this node: planned (hand over to the standby), unplanned "
                                 "(the live node is killed), switchback (back to the preferred primary)")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--peer-config", required=True, metavar="FILE", help="the other node's configuration file")
    p.add_argument("--wait", type=float, metavar="SECONDS",
                   help="wait for the drill's report and print it (exit 1 when the drill failed)")
    p.set_defaults(action=run)
    verb(g, "list", "drill.list", "the drill reports on this node", nothing,
         lambda r: table(r, LIST_COLUMNS, empty="no drill reports"))
    p = verb(g, "show", "drill.show", "one drill report", lambda a: {"id": a.id}, _show)
    p.add_argument("id", metavar="DRILL", help="the report id (drill-...)")
