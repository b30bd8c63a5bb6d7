"""The local control socket every appliance process serves (ARCHITECTURE "Processes").

A Unix stream socket; each request is one JSON object on one line, each answer one JSON object on
one line: `{"op": "status", ...arguments}` -> `{"ok": true, "result": ...}`; a failure is
`{"ok": false, "error": "one line"}` and the connection stays usable. Every appliance process (node,
npac-ha, SNMP agent) speaks this one dialect. The socket is created mode 0660, so only the
appliance's own user and group reach it; it is not a network interface.

Handlers are functions `handler(**arguments) -> result` (or coroutines); a result that is a
dataclass is sent as its fields. `ControlError` (or ValueError/TypeError from bad arguments) raised by a
handler is a refusal: its message is the one-line error.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import json
import logging
import os
import socket
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("appliance.control")

MAX_LINE = 64 * 1024  # a request is a short command; anything longer is not one
MAX_ANSWER = 16 * 1024 * 1024
Handler = Callable[[dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


class ControlError(Exception):
    """The control socket could not be reached or answered badly."""


class ControlServer:
    def __init__(self, path: str | os.PathLike, handlers: dict[str, Handler]):
        self.path = Path(path)
        self.handlers = dict(handlers)
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clear_stale()
        self.server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE)
        os.chmod(self.path, 0o660)

    def _clear_stale(self) -> None:
        """A socket file left by a process that died is removed; one that still answers is not ours."""
        if not self.path.exists() and not self.path.is_symlink():
            return
        if not stat.S_ISSOCK(self.path.lstat().st_mode):
            raise OSError(f"{self.path} exists and is not a socket")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1)
            try:
                probe.connect(str(self.path))
            except OSError:
                self.path.unlink()
                return
        raise OSError(f"{self.path} is in use by another process")

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), 2)
            self.server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (asyncio.LimitOverrunError, ValueError):
                    writer.write(_line({"ok": False, "error": f"request longer than {MAX_LINE} bytes"}))
                    break
                if not line:
                    break
                writer.write(_line(await self.answer(line)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (UnicodeDecodeError, ValueError):
            return {"ok": False, "error": "not a JSON line"}
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            return {"ok": False, "error": 'expected {"op": "...", ...arguments}'}
        op = request.pop("op")
        handler = self.handlers.get(op)
        if handler is None:
            return {"ok": False, "error": f"unknown op {op!r}; known: {', '.join(sorted(self.handlers))}"}
        try:
            result = handler(**request)
            if inspect.isawaitable(result):
                result = await result
        except (ControlError, ValueError, TypeError) as exc:
            return {"ok": False, "error": str(exc) or type(exc).__name__}
        except Exception as exc:  # a failing command must not take the socket (or the node) down
            log.exception("control op %s failed", op)
            return {"ok": False, "error": f"{op} failed: {type(exc).__name__}: {exc}"}
        return {"ok": True, "result": _jsonable(result)}


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _check(answer: Any) -> Any:
    if not isinstance(answer, dict):
        raise ControlError("answer is not a JSON object")
    if answer.get("ok") is not True:
        raise ControlError(str(answer.get("error", "command failed")))
    return answer.get("result")


def request(path: str | os.PathLike, op: str, timeout: float = 2.0, **args: Any) -> Any:
    """One op over a fresh connection (blocking): its result; ControlError on any failure."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(path))
            s.sendall(_line({"op": op, **args}))
            buf = bytearray()
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    raise ControlError("connection closed before the answer ended")
                buf += chunk
                if len(buf) > MAX_ANSWER:
                    raise ControlError("answer too long")
    except OSError as exc:
        raise ControlError(f"{path}: {exc.strerror or exc}") from None
    try:
        return _check(json.loads(buf))
    except ValueError:
        raise ControlError("answer is not JSON") from None


async def request_async(path: str | os.PathLike, op: str, timeout: float = 2.0, **args: Any) -> Any:
    """As `request`, for asyncio callers."""
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=MAX_ANSWER)
        try:
            writer.write(_line({"op": op, **args}))
            await writer.drain()
            return await reader.readline()
        finally:
            writer.close()
    try:
        raw = await asyncio.wait_for(exchange(), timeout)
    except asyncio.TimeoutError:
        raise ControlError(f"{path}: no answer in {timeout} s") from None
    except (OSError, ValueError, asyncio.LimitOverrunError) as exc:
        raise ControlError(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not raw.endswith(b"\n"):
        raise ControlError("connection closed before the answer ended")
    try:
        return _check(json.loads(raw))
    except ValueError:
        raise ControlError("answer is not JSON") from None
