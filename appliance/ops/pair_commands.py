"""Operator commands for the primary/DR pair, served by the node and carried out by its npac-ha.

- `pair.status`: what npac-ha sees (role, both heartbeat paths, the peer, alarms, the cutover and
  the roles it went through);
- `pair.confirm`: the operator confirms a promotion the fence could not make safe (R10-x: both paths
  lost and the power switch failed; the operator has made sure the other node is off);
- `pair.switchback` / `pair.cancel-switchback`: the planned return to the preferred primary (RN10-2..4).

A command that does not change the role (no peer lost, not the live node) is refused with the
reason, so an operator never believes a promotion or switchback started when it did not.
"""
from __future__ import annotations

from typing import Any

from appliance.control import ControlError, request_async
from appliance.ops.commands import Command, CommandError


def _socket(ctx: Any) -> Any:
    if ctx.ha is None:
        raise CommandError("this node is not one of a pair")
    return ctx.ha.cfg.control_socket


async def _ask(ctx: Any, op: str, timeout: float = 5.0) -> Any:
    try:
        return await request_async(_socket(ctx), op, timeout=timeout)
    except ControlError as exc:
        raise CommandError(f"npac-ha did not answer: {exc}") from None


async def _status(ctx: Any, session: Any) -> dict[str, Any]:
    report = await _ask(ctx, "status")
    return {key: report.get(key) for key in ("node", "role", "preferred", "peer_lost", "paths", "peer", "alarms",
                                             "cutover", "database", "history")}


async def _change(ctx: Any, op: str, refusal: str) -> dict[str, Any]:
    before = (await _ask(ctx, "status"))["role"]
    after = await _ask(ctx, op, timeout=10.0)
    if after == before:
        raise CommandError(f"{refusal} (this node is {before})")
    return {"before": before, "after": after}


async def _confirm(ctx: Any, session: Any) -> dict[str, Any]:
    return await _change(ctx, "confirm_promotion",
                         "no promotion: only a node whose peer is lost on both heartbeat paths can be promoted")


async def _switchback(ctx: Any, session: Any) -> dict[str, Any]:
    return await _change(ctx, "switchback", "no switchback: it starts on the live node, with its peer following")


async def _cancel(ctx: Any, session: Any) -> dict[str, Any]:
    return await _change(ctx, "cancel_switchback", "nothing to cancel: no switchback is draining this node")


def commands() -> list[Command]:
    return [Command("pair.status", _status, "read", "the pair as npac-ha sees it"),
            Command("pair.confirm", _confirm, "operate",
                    "confirm a promotion after making sure the other node is powered off"),
            Command("pair.switchback", _switchback, "operate", "hand the live role back to the preferred node"),
            Command("pair.cancel-switchback", _cancel, "operate", "stop a switchback that is still draining")]
