"""The console's side of the control socket: one request per command, the session token from the
session file, and the two ways a command fails (the node refused it, or the node was not reached)."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

DEFAULT_SOCKET = Path("var/demo/primary/control.sock")  # `make run`'s node: <data_dir>/control.sock
MAX_ANSWER = 64 * 1024 * 1024


class Refused(Exception):
    """The node answered with a refusal: its one line."""


class Unreachable(Exception):
    """The node could not be asked (no socket, no answer, not our dialect)."""


def socket_path(given: str | None) -> Path:
    return Path(given or os.environ.get("NPAC_CONTROL_SOCKET") or DEFAULT_SOCKET)


def session_path() -> Path:
    return Path(os.environ.get("NPAC_SESSION_FILE") or Path.home() / ".npac-session")


def load_session() -> dict[str, Any] | None:
    path = session_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("token"), str) else None


def save_session(data: dict[str, Any]) -> Path:
    """Mode 0600 from the start: the token is as good as the password while the session lasts."""
    path = session_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.chmod(path, 0o600)
    return path


def forget_session() -> bool:
    try:
        session_path().unlink()
    except FileNotFoundError:
        return False
    return True


class Client:
    def __init__(self, path: Path, timeout: float = 30.0):
        self.path = path
        self.timeout = timeout

    def call(self, op: str, timeout: float | None = None, **args: Any) -> Any:
        line = json.dumps({"op": op, **{k: v for k, v in args.items() if v is not None}},
                          separators=(",", ":")).encode() + b"\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout or self.timeout)
                s.connect(str(self.path))
                s.sendall(line)
                buf = bytearray()
                while not buf.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        raise Unreachable(f"{self.path}: the node closed the connection before answering")
                    buf += chunk
                    if len(buf) > MAX_ANSWER:
                        raise Unreachable(f"{self.path}: answer too long")
        except socket.timeout:
            raise Unreachable(f"{self.path}: no answer in {timeout or self.timeout:g} s") from None
        except OSError as exc:
            raise Unreachable(f"cannot reach the node at {self.path}: {exc.strerror or exc}") from None
        try:
            answer = json.loads(buf)
        except ValueError:
            raise Unreachable(f"{self.path}: the answer is not JSON") from None
        if not isinstance(answer, dict) or "ok" not in answer:
            raise Unreachable(f"{self.path}: the answer is not a control-socket answer")
        if answer["ok"] is not True:
            raise Refused(" ".join(str(answer.get("error") or "refused").split()))
        return answer.get("result")
