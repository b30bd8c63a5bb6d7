"""`python -m ha --config FILE`: the npac-ha process (one systemd unit): heartbeats on both paths,
role decisions, fencing, and the node driven over its control socket. The console and the SNMP
agent use this process's own control socket (status, confirm_promotion, switchback,
cancel_switchback; drill.crash and drill.end for the unplanned-failover drill). A bad configuration gets one line on stderr and exit code 2."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from appliance import sdnotify
from ha.config import ConfigError, HaConfig, load_config
from ha.control import SocketNode, serve_jsonl
from ha.drill_crash import crash_process_serving
from ha.fence import FenceResult, run_fence
from ha.heartbeat import Heartbeats, SerialPath, UdpPath
from ha.manager import HaManager, Settings
from ha.receiver import probe
from ha.wire import Status

log = logging.getLogger("ha")


def build(cfg: HaConfig) -> HaManager:
    heartbeats = Heartbeats(cfg.key, cfg.node, cfg.peer, [UdpPath(cfg.udp_bind, cfg.udp_peer),
                                                        SerialPath(cfg.serial, cfg.baudrate)],
                            interval=cfg.interval, dead_time=cfg.dead_time, max_skew=cfg.max_skew)

    async def fence() -> FenceResult:
        return await run_fence(cfg.fence_command, cfg.fence_timeout, cfg.peer)

    async def ask_peer() -> Status | None:
        return await probe(cfg.replication.peer, cfg.key, cfg.node)

    settings = Settings(cfg.node, cfg.peer, cfg.preferred, interval=cfg.interval, dead_time=cfg.dead_time,
                        fence_retry=cfg.fence_retry, notice_first=cfg.notice_first, notice_every=cfg.notice_every)

    async def crash_node() -> int:
        return crash_process_serving(cfg.node_socket)

    return HaManager(settings, SocketNode(cfg.node_socket), heartbeats, fence=fence, probe=ask_peer,
                     crash_node=crash_node)


async def serve(cfg: HaConfig) -> None:
    manager = build(cfg)
    control = await serve_jsonl(cfg.control_socket, manager.handlers())
    await manager.start()
    log.info("npac-ha %s (%s) running; peer %s", cfg.node, "primary" if cfg.preferred else "dr", cfg.peer)
    sdnotify.ready(f"heartbeats to {cfg.peer} running")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    control.close()
    await manager.stop()
    cfg.control_socket.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ha", description="npac-ha: heartbeats, roles, fencing")
    parser.add_argument("--config", required=True, help="the node's HA configuration (TOML)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        sys.stderr.write(f"npac-ha: {exc}\n")
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sdnotify.journal_logging("npac-ha")
    asyncio.run(serve(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
