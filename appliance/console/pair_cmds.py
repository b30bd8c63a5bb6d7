"""`npac pair ...`: the primary/DR pair through this node's npac-ha: status, confirming a promotion the
fence could not make safe, and the planned switchback to the preferred node (RN10-2..4)."""
from __future__ import annotations

from typing import Any

from appliance.console.render import cell
from appliance.console.verbs import group, nothing, verb


def render_status(r: dict[str, Any]) -> str:
    preferred = " (the preferred node)" if r.get("preferred") is True else ""
    out = [f"node {cell(r.get('node'))}{preferred}: {cell(r.get('role'))}, "
           f"peer lost: {'yes' if r.get('peer_lost') else 'no'}"]
    for name, path in sorted((r.get("paths") or {}).items()):
        out.append(f"heartbeat {name}: {'up' if path.get('up') else 'down'}")
    peer = r.get("peer") or {}
    if peer:
        out.append(f"peer {cell(peer.get('node'))}: {cell(peer.get('role'))}, epoch {cell(peer.get('epoch'))}")
    alarms = r.get("alarms") or {}
    out.append("alarms: " + (", ".join(f"{k} ({v})" if v else k for k, v in sorted(alarms.items())) or "none"))
    for change in (r.get("history") or [])[-5:]:
        out.append(f"  {cell(change.get('before'))} -> {cell(change.get('after'))}: {cell(change.get('event'))}")
    return "\n".join(out)


def _changed(r: dict[str, Any]) -> str:
    return f"role {r['before']} -> {r['after']}"


def register(sub: Any) -> None:
    g = group(sub, "pair", "the primary/DR pair: status, promotion confirmed by an operator, switchback")
    verb(g, "status", "pair.status", "the pair as this node's npac-ha sees it", nothing, render_status)
    verb(g, "confirm", "pair.confirm", "promote this node: only once you made sure the other node is powered "
         "off (both heartbeat paths lost, the power switch failed)", nothing, _changed)
    verb(g, "switchback", "pair.switchback", "on the live node: drain it and hand the live role back to the "
         "preferred node", nothing, _changed)
    verb(g, "cancel-switchback", "pair.cancel-switchback", "stop a switchback that is still draining",
         nothing, _changed)
