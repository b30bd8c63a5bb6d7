"""`python -m snmp.agent --config FILE` (or `--demo`): the appliance's SNMP agent (npac-snmp).

Every poll_interval it reads the node's status document from the node's control socket; every
hook_interval it runs the `selftest` and `link-status` firmware hooks. Each reading becomes a new
snapshot of the MIB (snmp.view) and is compared with the one before (snmp.model.Tracker): what
changed goes out as SNMPv3 traps or informs. A node that stops answering keeps its last values,
with npacNodeStatusReachable false and npacNodeRole unknown; a hook that hangs, crashes or prints
garbage becomes a failed self-check. Nothing here is writable.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from typing import Any

from pysnmp.carrier.error import CarrierError

from appliance import sdnotify
from appliance.control import ControlError, request_async
from appliance.ops.selfcheck import HookSettings, read_hooks, unknown_lines
from appliance.status import Link, SelfCheck, StatusBoard, StatusError
from snmp.config import AgentConfig, ConfigError, load_config
from snmp.demo import write_demo_config
from snmp.engine import AgentEngine
from snmp.instrum import Snapshot, typed
from snmp.model import Notification, Observed, Tracker
from snmp.oids import OBJECTS, oid
from snmp.view import SystemInfo, build_snapshot

log = logging.getLogger("snmp.agent")


class SnmpAgent:
    def __init__(self, cfg: AgentConfig):
        self.cfg = cfg
        self.tracker = Tracker()
        self.board = StatusBoard()
        self.reachable = False
        self.read_at: float | None = None
        self.hook_links: list[Link] = []
        self.hook_checks: list[SelfCheck] = []
        self.checks_ran: str | None = None
        self.hooks = HookSettings(hooks_dir=cfg.hooks_dir, hw_sim=cfg.hw_sim, interval=cfg.hook_interval,
                                  timeout=cfg.hook_timeout, mounts=cfg.mounts, interconnect=cfg.interconnect,
                                  serial=cfg.serial)
        self.snapshot = Snapshot({})
        self.engine = AgentEngine(cfg, lambda: self.snapshot)
        self.system = SystemInfo(
            descr=f"NPAC SMS appliance node {cfg.sys_name}: CMIP agent for carrier SOA/LSMS systems",
            contact=cfg.sys_contact, name=cfg.sys_name, location=cfg.sys_location)
        self.engine_values: dict[str, Any] = {}

    # ---- readings -----------------------------------------------------------------------------
    async def poll(self, refresh: bool = True) -> None:
        try:
            answer = await request_async(self.cfg.control_socket, "status", timeout=2.0)
            self.board = StatusBoard.from_dict(answer)
        except (ControlError, StatusError) as exc:
            if self.reachable or self.read_at is None:
                log.warning("node status unavailable: %s", exc)
            self.reachable = False
        else:
            if not self.reachable:
                log.info("node status read from %s", self.cfg.control_socket)
            self.reachable, self.read_at = True, time.time()
        if refresh:
            self.refresh()

    async def run_hooks(self, refresh: bool = True) -> None:
        readings = await read_hooks(self.hooks)
        self.hook_checks = readings.checks
        # a failed link-status: the state of the lines is no longer known; their rows stay (new
        # objects: the tracker still holds the previous reading)
        self.hook_links = readings.links if readings.links is not None else unknown_lines(self.hook_links)
        self.checks_ran = readings.ran
        if refresh:
            self.refresh()

    def observed(self) -> Observed:
        links = {link.name: link for link in self.board.links}
        links.update((link.name, link) for link in self.hook_links)
        checks = {c.name: c for c in self.board.self_checks}
        checks.update((c.name, c) for c in self.hook_checks)
        return Observed(self.board, self.reachable, self.read_at, list(links.values()), list(checks.values()),
                        self.checks_ran)

    def refresh(self) -> None:
        obs = self.observed()
        notes = self.tracker.update(obs, self.engine.uptime())
        self.snapshot = build_snapshot(obs, self.tracker, self.system, self.engine_values)
        for note in notes:
            self.send(note)

    # ---- notifications ------------------------------------------------------------------------
    def var_binds(self, note: Notification) -> list[tuple[tuple[int, ...], Any]]:
        out: list[tuple[tuple[int, ...], Any]] = [
            (oid("sysUpTime") + (0,), typed(OBJECTS["sysUpTime"].syntax, self.engine.uptime())),
            (oid("snmpTrapOID") + (0,), typed(OBJECTS["snmpTrapOID"].syntax, oid(note.trap))),
        ]
        for name, index in note.objects:
            value = self.snapshot.get(oid(name) + index)
            if value is not None:
                out.append((oid(name) + index, value))
        for name, index, raw in note.values:
            out.append((oid(name) + index, typed(OBJECTS[name].syntax, raw)))
        return out

    def send(self, note: Notification) -> None:
        log.info("notification %s", note.trap)
        self.engine.notify(self.var_binds(note))

    # ---- running ------------------------------------------------------------------------------
    async def _every(self, seconds: float, step: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await step()
            except Exception:  # one bad reading must not stop the agent
                log.exception("%s failed", step.__name__)

    async def run(self, stop: asyncio.Event, ready: Any = None) -> None:
        self.engine.open()
        self.engine_values = self.engine.values()
        # both readings before the first snapshot, so the start does not look like a change
        await asyncio.gather(self.run_hooks(refresh=False), self.poll(refresh=False))
        self.refresh()
        if ready is not None:
            ready()
        tasks = [asyncio.create_task(self._every(self.cfg.poll_interval, self.poll)),
                 asyncio.create_task(self._every(self.cfg.hook_interval, self.run_hooks))]
        await stop.wait()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.engine.close()


def describe(cfg: AgentConfig) -> str:
    users = ", ".join(f"{u.name} ({u.auth}/{u.priv})" for u in cfg.users) or "none"
    traps = ", ".join(f"{t.kind} {t.host}:{t.port} as {t.user}" for t in cfg.trap_targets) or "none"
    return "\n".join([
        f"NPAC SNMP agent is listening on udp {cfg.host}:{cfg.port}",
        f"  engine id   {cfg.engine_id.hex()}",
        f"  SNMPv3 users (authPriv) {users}; v2c {'read-only community set' if cfg.community else 'off'}",
        f"  notifications {traps}",
        f"  node status {cfg.control_socket}; hooks {cfg.hooks_dir}"
        + (f" (NPAC_HW_SIM={cfg.hw_sim})" if cfg.hw_sim else ""),
    ])


async def serve(cfg: AgentConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    agent = SnmpAgent(cfg)
    def ready() -> None:
        print(describe(cfg), flush=True)
        sdnotify.ready(f"SNMP agent on udp {cfg.host}:{cfg.port}")
    await agent.run(stop, ready=ready)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npac-snmp", description="Run the NPAC appliance SNMP agent")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", help="agent configuration file (TOML)")
    group.add_argument("--demo", action="store_true",
                       help="write and run the demo configuration under var/demo (for `make run`'s node)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sdnotify.journal_logging("npac-snmp")
    try:
        path = write_demo_config() if args.demo else args.config
        asyncio.run(serve(load_config(path)))
    except ConfigError as exc:
        print(f"npac-snmp: {exc}", file=sys.stderr)
        return 2
    except (OSError, CarrierError) as exc:
        print(f"npac-snmp: cannot listen: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
