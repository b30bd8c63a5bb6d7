"""The crash of the unplanned-failover drill: the node process is found by the socket it serves
(SO_PEERCRED names the process at the other end of a Unix socket, so no pid file can be stale) and
killed with SIGKILL, as a power loss or kernel panic would stop it: nothing is flushed or released."""
from __future__ import annotations

import os
import signal
import socket
import struct
from pathlib import Path


class CrashError(Exception):
    pass


def process_serving(path: str | Path) -> int:
    """The pid of the process listening on the Unix socket `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2.0)
        try:
            s.connect(str(path))
        except OSError as exc:
            raise CrashError(f"{path}: {exc.strerror or exc}") from None
        pid, _uid, _gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    if pid <= 0:
        raise CrashError(f"{path}: the kernel names no process serving it")
    return pid


def crash_process_serving(path: str | Path) -> int:
    pid = process_serving(path)
    if pid == os.getpid():
        raise CrashError("refusing to kill this process itself")
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        raise CrashError(f"process {pid} serving {path} is already gone") from None
    return pid
