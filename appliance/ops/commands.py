"""Operator commands on the node's control socket, with who may run them.

Each ops module lists its commands (`commands() -> list[Command]`); `control_handlers` turns them into
control-socket handlers that first authenticate the console session and check its permission, and
record every change an operator makes in the security audit log (FRS §7: who did what, when). Reading
commands are not logged one by one: the log records changes and security events, and a read-only
auditor's browsing is not a security event.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from appliance.control import ControlError

PERMISSIONS = ("login", "read", "operate", "administer")


class CommandError(ControlError):
    """A refusal: its message is the one line the operator sees."""


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler             # async handler(ctx, session, **arguments) -> JSON-able result
    permission: str = "read"
    summary: str = ""

    def __post_init__(self) -> None:
        if self.permission not in PERMISSIONS:
            raise ValueError(f"command {self.name}: unknown permission {self.permission!r}")


def control_handlers(ctx: Any, commands: Iterable[Command]) -> dict[str, Callable[..., Awaitable[Any]]]:
    handlers: dict[str, Callable[..., Awaitable[Any]]] = {}
    for command in commands:
        if command.name in handlers:
            raise ValueError(f"command {command.name} declared twice")
        handlers[command.name] = _guarded(ctx, command)
    return handlers


def _guarded(ctx: Any, command: Command) -> Callable[..., Awaitable[Any]]:
    async def run(session: str | None = None, **arguments: Any) -> Any:
        who = None
        if command.permission != "login":
            if ctx.users is None:
                raise CommandError("console users are not available on this node")
            who = ctx.users.authorize(session, command.permission)
        result = await command.handler(ctx, who, **arguments)
        if command.permission in ("operate", "administer"):
            ctx.security_log.record("operator-action", user=getattr(who, "user_id", None), command=command.name,
                                    arguments=_loggable(arguments))
        return result
    return run


def _loggable(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if "password" in k else v) for k, v in arguments.items()}
