"""`npac status`: the node's status document at a glance (role, epoch, peer and heartbeat paths,
replication lag, associations by carrier, open tickets, service levels, self-checks, the last notices
to the users) and `npac selfcheck`. Sections the node does not report are left out, so an older or
newer node still prints what it has."""
from __future__ import annotations

import argparse
import json
from collections import Counter
from textwrap import indent
from typing import Any

from appliance.console.client import Client, Refused, load_session
from appliance.console.notice_cmds import when
from appliance.console.render import cell, table

KNOWN = {"node", "system_id", "role", "epoch", "started", "software", "generated", "schema", "peer", "heartbeat",
         "replication", "associations", "service_levels", "self_checks", "security", "links"}


def _levels(levels: dict[str, Any]) -> list[str]:
    out = [f"service levels {levels.get('month') or '-'}: availability {cell(levels.get('availability'))}%  "
           f"ack p95 {cell(levels.get('ack_p95_ms'))} ms  broadcast mean {cell(levels.get('broadcast_mean_ms'))} ms"]
    carriers = levels.get("carriers") or []
    if carriers:
        out.append(indent(table(carriers, (("system_id", "CARRIER"), ("soa_tps", "SOA TPS"), ("lsms_tps", "LSMS TPS"),
                                           ("availability", "AVAIL %"))), "  "))
    return out


def _tickets(value: Any) -> list[str]:
    rows = value if isinstance(value, list) else (value or {}).get("open", value)
    if isinstance(rows, int):
        return [f"open tickets: {rows}"]
    if isinstance(rows, list):
        return [f"open tickets: {len(rows)}"] + [f"  {cell(t.get('tracking') or t.get('id'))} "
                                                 f"{cell(t.get('severity'))} {cell(t.get('summary') or t.get('title'))}"
                                                 for t in rows if isinstance(t, dict)]
    return [f"tickets: {cell(value)}"]


def _notices(rows: Any) -> list[str]:
    if not isinstance(rows, list):
        return []
    out = [f"last notices to users: {len(rows)}" if rows else "last notices to users: none"]
    for n in rows:
        if isinstance(n, dict):
            out.append(f"  {when(n.get('time_ms')) or '-'} {cell(n.get('kind'))}: "
                       f"{len(n.get('delivered') or [])} associations told")
    return out


def _links(links: list[Any]) -> list[str]:
    down = [f"{cell(link.get('name'))} {cell(link.get('oper'))}" for link in links
            if isinstance(link, dict) and link.get("oper") not in ("up", "unknown")]
    return [f"links: {len(links)}, not up: " + (", ".join(down) or "none")]


def render_status(doc: dict[str, Any]) -> str:
    out = [f"node {cell(doc.get('node'))} ({cell(doc.get('system_id'))})  role {cell(doc.get('role'))}  "
           f"epoch {cell(doc.get('epoch'))}  since {cell(doc.get('started'))}"]
    peer = doc.get("peer")
    if peer and peer.get("name"):
        out.append(f"peer {cell(peer.get('name'))}: {cell(peer.get('role'))}, {cell(peer.get('state'))}")
    for path in doc.get("heartbeat") or []:  # both paths: the interconnect and the serial line
        out.append(f"heartbeat {path.get('name')}: {path.get('state')} (last heard {cell(path.get('last_heard'))} s, "
                   f"{path.get('losses', 0)} losses)")
    rep = doc.get("replication")
    if rep:
        out.append(f"replication {rep.get('mode')}: lag {rep.get('lag_rows')} rows / {rep.get('lag_seconds')} s, "
                   f"last sequence {rep.get('last_sequence')}")
        wait = rep.get("ack_wait_ms") or {}
        if wait.get("count"):  # live node: what sync replication adds to each answer
            out.append(f"  answers waited for the standby: p50 {wait.get('p50')} ms, p95 {wait.get('p95')} ms "
                       f"(last {wait.get('count')} writes)")
    if "associations" in doc:
        by_carrier = Counter((a["system_id"], a["system_type"]) for a in doc["associations"] or [])
        out.append(f"associations: {sum(by_carrier.values())}")
        out += [f"  {sid} {kind}: {n}" for (sid, kind), n in sorted(by_carrier.items())]
    for key in ("tickets", "open_tickets"):
        if key in doc:
            out += _tickets(doc[key])
    if doc.get("service_levels"):
        out += _levels(doc["service_levels"])
    checks = [c for c in doc.get("self_checks") or [] if c.get("status") != "ok"]
    if doc.get("self_checks") is not None:
        out.append(f"self-checks: {len(doc['self_checks'])}, not ok: "
                   + (", ".join(f"{c['name']} {c['status']}" for c in checks) or "none"))
    if doc.get("links"):
        out += _links(doc["links"])
    out += _notices(doc.get("user_notices"))
    sec = doc.get("security")
    if sec:
        total = sum(sec.get(k, 0) for k in ("signature", "sequence", "time", "key", "other"))
        out.append(f"security violations: {total}, refused associations: {sec.get('refused', 0)}")
    for key in sorted(set(doc) - KNOWN - {"tickets", "open_tickets", "user_notices"}):
        out.append(f"{key.replace('_', ' ')}: {cell(doc[key])}")
    return "\n".join(out)


def status(args: argparse.Namespace, client: Client) -> int:
    """The status document needs no session; the open trouble tickets and the last notices to the
    users are added when the session may read them (a node without them, a session of the other
    node, or no login, just leaves them out)."""
    doc = client.call("status")
    session = load_session()
    if session is not None and isinstance(doc, dict):
        try:
            doc["tickets"] = {"open": client.call("ticket.list", session=session["token"], state="open")}
        except Refused:
            pass
        try:
            doc["user_notices"] = client.call("notice.list", session=session["token"], limit=args.notices)
        except Refused:
            pass
    print(json.dumps(doc, indent=2, sort_keys=True) if args.json else render_status(doc))
    return 0


def _checks(r: dict[str, Any]) -> str:
    out = [f"self-checks run {cell(r.get('ran'))}; failed: {cell(r.get('failed'))}",
           table(r.get("checks") or [], (("name", "CHECK"), ("component", "COMPONENT"), ("status", "STATUS"),
                                         ("detail", "DETAIL")), empty="no self-checks reported")]
    out += _links(r["links"]) if r.get("links") is not None else ["links: state not known (no link-status answer)"]
    out += [f"hook {cell(h.get('hook') or h.get('name'))}: {'ok' if h.get('ok') else cell(h.get('error'))}"
            for h in r.get("hooks") or [] if isinstance(h, dict) and not h.get("ok")]
    return "\n".join(out)


def selfcheck(args: argparse.Namespace, client: Client) -> int:
    """A check that failed is the answer, not a refusal: exit 0, the failures are printed."""
    session = load_session()
    if session is None:
        raise Refused("not logged in: run `npac login USER` first")
    result = client.call("selfcheck.run", session=session["token"], timeout=120)
    print(json.dumps(result, indent=2, sort_keys=True) if args.json else _checks(result))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="the node at a glance", description="the node at a glance")
    p.add_argument("--notices", type=int, default=5, metavar="N", help="how many notices to users to show (1..1000)")
    p.set_defaults(action=status)
    p = sub.add_parser("selfcheck", help="run the hardware self-test and link checks now (R10-6, R10-7, R10-9)",
                       description="run the hardware self-test and link checks now")
    p.set_defaults(action=selfcheck)
