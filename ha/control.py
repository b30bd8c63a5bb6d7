"""How `npac-ha` drives the node, and how the console drives `npac-ha`.

`NodeControl` is the whole interface the manager needs from a node. In one process (tests, a lone
node) `ha.node_link.LocalNode` implements it directly; across processes the node serves it on its
control socket with `serve_node(path, node)` and the manager uses `SocketNode(path)`.

The sockets speak JSON lines (ARCHITECTURE "Processes"): one request object per line,
{"op": name, ...arguments}, answered by one line, {"ok": true, "result": ...} or
{"ok": false, "error": "one line"}. They are Unix sockets, mode 0600: the filesystem is the
access control.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("ha.control")

MAX_LINE = 1 << 20


@dataclass(frozen=True)
class NodeStatus:
    role: str
    epoch: int
    sequence: int          # last journal row committed or applied
    last_row_ms: int       # its time: the start of a lost-transaction window (contract 12.5)
    at_risk_from: int      # live side: first row acknowledged to carriers the peer lacks (0: none)
    accepting_writes: bool
    current: bool          # following: caught up, and the peer acknowledged nothing it lacks
    drained: bool          # draining: the peer acknowledged the last row
    handover: int          # following: a handover received and applied, at this sequence (0: none)
    follower_epoch: int    # live: the highest epoch a follower presented above this node's (0: none)


class NodeControl(Protocol):
    async def status(self) -> NodeStatus: ...

    async def set_role(self, role: str) -> None: ...

    async def set_writes(self, allowed: bool) -> None: ...

    async def set_aarq(self, answer: int) -> None: ...

    async def set_follow(self, on: bool) -> None: ...

    async def raise_epoch(self, epoch: int) -> int: ...

    async def drain(self) -> None: ...

    async def hand_over(self) -> None: ...

    async def notify_users(self, kind: str, details: dict[str, Any]) -> None: ...


Handler = Callable[..., Awaitable[Any]]


class ControlError(Exception):
    pass


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


async def serve_jsonl(path: str | Path, handlers: dict[str, Handler]) -> asyncio.AbstractServer:
    """A JSON-lines server on a Unix socket; each op maps to an async handler(**arguments)."""
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                answer: dict[str, Any]
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                        raise ControlError("a request is a JSON object with an 'op'")
                    op = request.pop("op")
                    if op not in handlers:
                        raise ControlError(f"unknown op {op!r}; known: {', '.join(sorted(handlers))}")
                    answer = {"ok": True, "result": _jsonable(await handlers[op](**request))}
                except (ControlError, ValueError, TypeError) as exc:
                    answer = {"ok": False, "error": str(exc)}
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    p = Path(path)
    p.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(client, str(p), limit=MAX_LINE)
    os.chmod(p, 0o600)
    return server


class JsonlClient:
    """One connection, requests answered in order; reconnects on the next call after a failure."""

    def __init__(self, path: str | Path, timeout: float = 5.0):
        self.path = str(path)
        self.timeout = timeout
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._lock = asyncio.Lock()

    async def call(self, op: str, **arguments: Any) -> Any:
        async with self._lock:
            try:
                async with asyncio.timeout(self.timeout):
                    if self._conn is None:
                        self._conn = await asyncio.open_unix_connection(self.path, limit=MAX_LINE)
                    reader, writer = self._conn
                    writer.write(json.dumps({"op": op, **arguments}).encode() + b"\n")
                    await writer.drain()
                    line = await reader.readline()
                if not line:
                    raise ConnectionError("control socket closed")
            except (OSError, TimeoutError) as exc:
                self.close()
                raise ControlError(f"{self.path}: {exc or type(exc).__name__}") from None
        answer = json.loads(line)
        if not answer.get("ok"):
            raise ControlError(answer.get("error", "refused"))
        return answer.get("result")

    def close(self) -> None:
        if self._conn is not None:
            self._conn[1].close()
            self._conn = None


def node_handlers(node: NodeControl) -> dict[str, Handler]:
    """Under "ha." on the node's control socket, beside the node's own ops (status, console)."""
    return {
        "ha.status": node.status, "ha.set_role": node.set_role, "ha.set_writes": node.set_writes,
        "ha.set_aarq": node.set_aarq, "ha.set_follow": node.set_follow, "ha.raise_epoch": node.raise_epoch,
        "ha.drain": node.drain, "ha.hand_over": node.hand_over, "ha.notify_users": node.notify_users,
    }


async def serve_node(path: str | Path, node: NodeControl) -> asyncio.AbstractServer:
    """What the node runs (on its side of the later integration) so `npac-ha` can drive it."""
    return await serve_jsonl(path, node_handlers(node))


class SocketNode:
    """`NodeControl` over the node's control socket."""

    def __init__(self, path: str | Path, timeout: float = 5.0):
        self.client = JsonlClient(path, timeout)

    async def status(self) -> NodeStatus:
        return NodeStatus(**await self.client.call("ha.status"))

    async def set_role(self, role: str) -> None:
        await self.client.call("ha.set_role", role=role)

    async def set_writes(self, allowed: bool) -> None:
        await self.client.call("ha.set_writes", allowed=allowed)

    async def set_aarq(self, answer: int) -> None:
        await self.client.call("ha.set_aarq", answer=answer)

    async def set_follow(self, on: bool) -> None:
        await self.client.call("ha.set_follow", on=on)

    async def raise_epoch(self, epoch: int) -> int:
        return int(await self.client.call("ha.raise_epoch", epoch=epoch))

    async def drain(self) -> None:
        await self.client.call("ha.drain")

    async def hand_over(self) -> None:
        await self.client.call("ha.hand_over")

    async def notify_users(self, kind: str, details: dict[str, Any]) -> None:
        await self.client.call("ha.notify_users", kind=kind, details=details)
