"""Running the firmware hooks (`firmware-hooks/`): executables that print one JSON object.

A hook is hardware-facing code we do not trust to behave: it may hang on a stuck driver, crash, or
print garbage. `run_hook` therefore runs it in its own process group with a deadline, kills the
whole group when the deadline passes, caps what it may print, and always returns a `HookResult`:
`ok` is true only for exit status 0 with a JSON object on stdout. The caller turns a failed run into
a failed self-check (`failed_check`); nothing a hook does raises here.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_OUTPUT = 1024 * 1024
DEFAULT_TIMEOUT = 10.0


@dataclass
class HookResult:
    hook: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    returncode: int | None = None
    seconds: float = 0.0

    def failed_check(self) -> dict[str, Any]:
        """The self-check entry that reports this run's failure (status document `SelfCheck` shape)."""
        return {"name": f"hook.{self.hook}", "component": "hook", "status": "failed",
                "detail": f"{self.hook}: {self.error}"[:255]}


def run_hook(hooks_dir: str | os.PathLike, name: str, args: list[str] | None = None, *,
             timeout: float = DEFAULT_TIMEOUT, hw_sim: str | os.PathLike | None = None,
             env: Mapping[str, str] | None = None) -> HookResult:
    path = Path(hooks_dir) / name
    if not path.is_file() or not os.access(path, os.X_OK):
        return HookResult(name, False, error=f"no executable hook at {path}")
    child_env = dict(os.environ if env is None else env)
    if hw_sim is not None:
        child_env["NPAC_HW_SIM"] = str(hw_sim)
    start = time.monotonic()
    try:
        proc = subprocess.Popen([str(path), *(args or [])], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=child_env, start_new_session=True)
    except OSError as exc:
        return HookResult(name, False, error=f"cannot start: {exc.strerror or exc}")
    try:
        out, err, why = _collect(proc, start + timeout, timeout)
    finally:
        # a hook's own children must not outlive it either
        _kill_group(proc)
    if why:
        return HookResult(name, False, error=why, seconds=time.monotonic() - start)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        why = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
        return HookResult(name, False, error=f"{why}{': ' + tail[0][:160] if tail else ''}",
                          returncode=proc.returncode, seconds=seconds)
    try:
        data = json.loads(out)
    except (UnicodeDecodeError, ValueError):
        return HookResult(name, False, error="did not print JSON", returncode=0, seconds=seconds)
    if not isinstance(data, dict):
        return HookResult(name, False, error="printed JSON that is not an object", returncode=0, seconds=seconds)
    return HookResult(name, True, data=data, returncode=0, seconds=seconds)


def _collect(proc: subprocess.Popen, deadline: float, timeout: float) -> tuple[bytes, bytes, str]:
    """Read stdout and stderr until both close, within the deadline and the size cap; the third
    item says why the run was cut short ("" when it was not)."""
    out, err = bytearray(), bytearray()
    late = f"no answer in {timeout:g} s (killed)"
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, out)  # type: ignore[arg-type]
        sel.register(proc.stderr, selectors.EVENT_READ, err)  # type: ignore[arg-type]
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(out), bytes(err), late
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                key.data.extend(chunk)
                if len(out) > MAX_OUTPUT:
                    return bytes(out), bytes(err), f"printed more than {MAX_OUTPUT} bytes (killed)"
                del err[:-4096]  # only the last lines of stderr are ever reported
    # WNOWAIT leaves the exited hook unreaped, so its process group id cannot be reused before
    # _kill_group has swept up whatever children it left behind
    while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() >= deadline:
            return bytes(out), bytes(err), late
        time.sleep(0.005)
    return bytes(out), bytes(err), ""


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(2)
    except subprocess.TimeoutExpired:
        pass
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
