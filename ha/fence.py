"""Fencing the peer through an executable hook (ARCHITECTURE "Firmware hooks": `firmware-hooks/fence`).

The hook powers the peer off (IPMI, a PDU outlet, a simulation directory under NPAC_HW_SIM) and
prints JSON on stdout, exit 0 meaning it ran: {"fenced": true, ...}. Anything else counts as not
fenced: a non-zero exit, a timeout (the hook is killed), output that is not a JSON object, or a
missing or non-true "fenced". Being wrong here costs a second writer, so only an explicit true
promotes (model: keepalived's notify scripts, Pacemaker's fence agents).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ha.fence")


@dataclass(frozen=True)
class FenceResult:
    fenced: bool
    detail: dict[str, Any] = field(default_factory=dict)
    error: str = ""


async def run_fence(command: Sequence[str], timeout: float, peer: str,
                    env: Mapping[str, str] | None = None) -> FenceResult:
    """Run the hook as `command... ` with NPAC_PEER=<peer> in its environment."""
    environment = {**os.environ, **(env or {}), "NPAC_PEER": peer}
    try:
        # its own session: a hook stuck in a child (ipmitool, ssh) is killed with all of it
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=environment, start_new_session=True)
    except OSError as exc:
        return _result(FenceResult(False, error=f"cannot run {command[0]}: {exc.strerror or exc}"), peer)
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.communicate()
        return _result(FenceResult(False, error=f"no answer within {timeout:g} s (killed)"), peer)
    if proc.returncode != 0:
        text = err.decode(errors="replace").strip().splitlines()
        return _result(FenceResult(False, error=f"exit {proc.returncode}: {text[-1] if text else ''}"), peer)
    try:
        detail = json.loads(out)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _result(FenceResult(False, error="output is not JSON"), peer)
    if not isinstance(detail, dict):
        return _result(FenceResult(False, error="output is not a JSON object"), peer)
    return _result(FenceResult(detail.get("fenced") is True, detail,
                               "" if detail.get("fenced") is True else "hook says not fenced"), peer)


def _result(result: FenceResult, peer: str) -> FenceResult:
    if result.fenced:
        log.warning("fenced %s: %s", peer, result.detail, extra={"fence": peer, "fenced": True})
    else:
        log.error("fencing %s failed: %s", peer, result.error, extra={"fence": peer, "fenced": False})
    return result
