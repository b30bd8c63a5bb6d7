"""`python -m appliance.node --config FILE` runs one NPAC node; `--demo` writes a demo config first.

The demo generates key lists for the NPAC and three demo carriers under var/demo/keys (kept across
runs) and listens on the workstation CMIP port of ARCHITECTURE.md (10102).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from appliance.agent import NpacAgent
from appliance import sdnotify
from appliance.config import ConfigError, NodeConfig, load_config
from appliance.control import ControlError, ControlServer, request_async
from appliance.lnp.keys import KeyListError, load_key_list
from appliance.lnp.oids import OIDS
from appliance.lnp.security import Directory, Identity, Party
from appliance.node_status import NodeMonitor
from appliance.npac.bootstrap import seed_from_config
from appliance.npac.audits import install_audits
from appliance.npac.history import install_history
from appliance.npac.mass_update import install_mass_updates
from appliance.npac.services import NpacServices, lsms_side
from appliance.node_ha import PairMember
from appliance.ops.commands import control_handlers
from appliance.ops.context import OpsContext
from appliance.ops.meter_records import CUTOVER
from appliance.ops.meters import meters_installer, meters_of
from appliance.ops.keys_admin import restore_key_lists
from appliance.ops.notices import UserNotices
from appliance.ops.registry import all_commands
from appliance.ops.selfcheck import RUNNING as SELFCHECKS, SelfChecks
from appliance.store import Store
from ha.config import HaConfig
from ha.config import load_config as load_ha_config
from ha.control import node_handlers
from appliance.ops.security_log import SecurityLog
from appliance.ops.users import Users
from appliance.osi import ber
from appliance.osi.association import Address
from appliance.osi.cmip_filter import MemoryObject, MemoryTree
from appliance.peers.demo_keys import DEMO_CARRIERS, NPAC_SYSTEM_ID, DemoKeys

log = logging.getLogger("appliance.node")
DEMO_DIR = Path("var/demo")
TYPE_NAMES = {0: "soa", 1: "local-sms", 2: "soa-and-local-sms"}
DEMO_NETWORK = {"0001": ("303555", "3035550000"), "0002": ("303556", "3035560000"), "0003": ("720555", "7205550000")}


def _graphic(text: str) -> bytes:
    return ber.encode_tlv(0x19, text.encode("latin-1"))


def network_tree(cfg: NodeConfig) -> MemoryTree:
    """The service providers the NPAC knows, as lnpNPAC-SMS / lnpServiceProvs / serviceProv objects."""
    def rdn(attr: str, text: str) -> tuple:
        return ((OIDS.attribute(attr).oid, _graphic(text)),)

    root = (rdn("lnpNPAC-SMS-Name", cfg.system_id),)
    provs = root + (rdn("lnpServiceProvsName", "lnpServiceProvs"),)
    tree = MemoryTree([MemoryObject(root, OIDS.object_class("lnpNPAC-SMS").oid, {}),
                       MemoryObject(provs, OIDS.object_class("lnpServiceProvs").oid, {})])
    for c in cfg.carriers:
        tree.add(MemoryObject(provs + (rdn("serviceProvID", c.system_id),), OIDS.object_class("serviceProv").oid, {
            OIDS.attribute("serviceProvID").oid: _graphic(c.system_id),
            OIDS.attribute("serviceProvName").oid: _graphic(c.name[:40]),
        }))
    return tree


def build_agent(cfg: NodeConfig) -> tuple[NpacAgent, SecurityLog]:
    private = load_key_list(cfg.private_list)
    if cfg.key_id not in private.private:
        raise ConfigError(f"[keys]: key_id {cfg.key_id} is not in {cfg.private_list}")
    identity = Identity(cfg.system_id, 3, private, cfg.key_id, npac=True)
    directory = Directory()
    for c in cfg.carriers:
        party = Party(c.system_id, c.system_types, hash_name=c.hash)
        for path in c.key_lists:
            kl = load_key_list(path)
            if kl.system_id != c.system_id:
                raise ConfigError(f"{path}: key list of {kl.system_id}, configured for carrier {c.system_id}")
            party.add_key_list(kl.public_only())
        directory.add(party)
    security_log = SecurityLog(cfg.data_dir / "security.log")
    agent = NpacAgent(identity=identity, directory=directory, security_log=security_log.record,
                      tree=network_tree(cfg), local=Address(cfg.tsap, cfg.ssap, cfg.psap),
                      request_timeout=cfg.request_timeout, max_associations=cfg.max_associations)
    return agent, security_log


def write_demo_config(base: Path = DEMO_DIR, port: int = 10102) -> Path:
    keys = DemoKeys(base / "keys")
    lines = [
        "[node]", 'name = "primary"', f'system_id = "{NPAC_SYSTEM_ID}"', 'role = "primary"', 'data_dir = "primary"', "",
        "[cmip]", 'host = "127.0.0.1"', f"port = {port}", 'tsap = "4e504143"', 'ssap = "0001"', 'psap = "00000001"', "",
        "[keys]", f'private_list = "keys/{NPAC_SYSTEM_ID}/{NPAC_SYSTEM_ID}-list1.key.pem"', "key_id = 1", "",
        # the simulated hardware `python -m snmp.agent --demo` reads too (snmp/demo.py)
        "[selfcheck]", 'hw_sim = "hw"', "",
    ]
    for sid, (name, types) in DEMO_CARRIERS.items():
        lines += ["[[carrier]]", f'system_id = "{sid}"', f'name = "{name}"',
                  "system_types = [" + ", ".join(f'"{TYPE_NAMES[t]}"' for t in sorted(types)) + "]",
                  f'key_lists = ["keys/{sid}/{sid}-list{keys.lists[sid].list_id}.pub.pem"]',
                  f'npa_nxx = ["{DEMO_NETWORK[sid][0]}"]', f'lrn = ["{DEMO_NETWORK[sid][1]}"]', ""]
    path = base / "primary.toml"
    path.write_text("\n".join(lines))
    return path


def describe(cfg: NodeConfig, hacfg: HaConfig | None = None) -> str:
    keys = cfg.private_list.parent.parent
    state = ("is accepting CMIP associations" if hacfg is None
             else "is listening for CMIP (its role, from npac-ha, decides what an AARQ gets)")
    out = [
        f"NPAC node '{cfg.name}' ({cfg.role}) {state}",
        f"  address     {cfg.cmip_host}:{cfg.cmip_port} (RFC 1006)  TSAP {cfg.tsap.hex() or '-'}  "
        f"SSAP {cfg.ssap.hex() or '-'}  PSAP {cfg.psap.hex() or '-'}",
        f"  systemId    {cfg.system_id!r}; its public key list: {cfg.private_list.with_name(cfg.private_list.name.replace('.key.', '.pub.'))}",
        f"  carriers    " + ", ".join(f"{c.system_id} ({c.name})" for c in cfg.carriers),
        f"  carrier keys (private lists for the simulators): {keys}/<systemId>/",
        f"  security log {cfg.data_dir / 'security.log'}",
        f"  control     {cfg.control_socket} (JSON lines; {{\"op\": \"status\"}} gives the status document)",
        "  Ctrl-C releases the associations, then stops.",
    ]
    if hacfg is not None:
        r = hacfg.replication
        out.insert(-1, f"  pair        peer '{hacfg.peer}'; replication listens on {r.listen[0]}:{r.listen[1]}, "
                       f"follows {r.peer[0]}:{r.peer[1]}; npac-ha config {hacfg.path}")
    return "\n".join(out)


class LiveServices:
    """The NPAC services of a live node, built from the store when the node goes live and stopped
    (the store kept) when it leaves the live role; the agent is given back as it was between."""

    INSTALLERS = (lsms_side, install_history, install_audits, install_mass_updates)

    def __init__(self, cfg: NodeConfig, agent: NpacAgent, store: Store, gate: Any = None):
        self.cfg, self.agent, self.store, self.gate = cfg, agent, store, gate
        self.services: NpacServices | None = None
        self._agent_state: tuple | None = None

    async def start(self) -> None:
        a = self.agent
        self._agent_state = (dict(a.handlers), dict(a.mounts), list(a.association_listeners))
        services = NpacServices(a, self.cfg.data_dir / "npac.sqlite", store=self.store,
                                installers=(*self.INSTALLERS, meters_installer(self.cfg.name)))
        services.writer.gate = self.gate
        await services.start()
        for line in await seed_from_config(services.installed[0], self.store, self.cfg, services.clock_ms()):
            log.info("first start: created %s", line)
        self.services = services

    def service_levels(self) -> Any:
        """The Exhibit G meters of the current month for the status document (None unless live)."""
        meters = meters_of(self.services) if self.services is not None else None
        return meters.status_levels() if meters is not None else None

    async def stop(self) -> None:
        services, self.services = self.services, None
        if services is not None:
            await services.close(close_store=False)
        if self._agent_state is not None:
            handlers, mounts, listeners = self._agent_state
            self.agent.handlers, self.agent.mounts, self.agent.association_listeners = handlers, mounts, listeners


def load_pair(cfg: NodeConfig) -> HaConfig | None:
    if cfg.ha_config is None:
        return None
    hacfg = load_ha_config(cfg.ha_config)
    if hacfg.node_socket.resolve() != Path(cfg.control_socket).resolve():
        raise ConfigError(f"{cfg.ha_config}: node_socket {hacfg.node_socket} is not this node's control socket "
                          f"{cfg.control_socket}")
    return hacfg


async def poll_ha(hacfg: HaConfig, monitor: NodeMonitor, every: float = 1.0) -> None:
    """npac-ha's view (peer, heartbeat paths) for the status document, read once a second."""
    while True:
        try:
            monitor.take_ha_report(await request_async(hacfg.control_socket, "status", timeout=2.0))
        except ControlError:
            monitor.take_ha_report(None)
        await asyncio.sleep(every)


async def run_node(cfg: NodeConfig) -> None:
    hacfg = load_pair(cfg)
    agent, security_log = build_agent(cfg)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(str(cfg.data_dir / "npac.sqlite"))
    for problem in restore_key_lists(store, agent.directory):  # lists and retirements made at the console
        log.warning("key list not restored: %s", problem)
    # the monitor sees every security record on its way to the log (counters for the status document)
    monitor = NodeMonitor(cfg, agent.security_log, epoch=lambda: store.epoch, last_sequence=store.last_sequence)
    selfchecks = SelfChecks.for_node(cfg, monitor)  # its [selfcheck] settings checked before anything starts
    agent.security_log = monitor.record
    notices = UserNotices(cfg, agent, security_log)

    def cutover_record(start_ms: int, end_ms: int, details: dict[str, Any]) -> None:
        meters = meters_of(live.services) if live.services is not None else None
        if meters is not None:
            meters.record_event(CUTOVER, start_ms, end_ms, {"database": details.get("database", {})})
    notices.on_cutover = cutover_record
    pair: PairMember | None = None
    live = LiveServices(cfg, agent, store)
    monitor.service_levels = live.service_levels
    if hacfg is not None:
        pair = PairMember(hacfg, store, agent, go_live=live.start, stand_down=live.stop, notify=notices.notify,
                          notices=notices)
        live.gate = pair
        agent.availability = pair.availability
        monitor.pair = pair
        await pair.start()
    else:
        await live.start()
    ctx = OpsContext(cfg, live, security_log, monitor=monitor, ha=pair, notices=notices,
                     users=Users.for_node(live, security_log))
    ctx.extras[SELFCHECKS] = selfchecks
    selfchecks.start()
    handlers: dict[str, Any] = {"status": lambda: monitor.status(agent).to_dict()}
    if pair is not None:
        handlers.update(node_handlers(pair.link))
        handlers.update(pair.drill_handlers())
    handlers.update(control_handlers(ctx, all_commands()))
    control = ControlServer(cfg.control_socket, handlers)
    await agent.serve(cfg.cmip_host, cfg.cmip_port)
    await control.start()
    poller = asyncio.ensure_future(poll_ha(hacfg, monitor)) if hacfg is not None else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(describe(cfg, hacfg), flush=True)  # only now: a supervisor may stop us as soon as it reads this
    sdnotify.ready(f"listening for CMIP on {cfg.cmip_host}:{cfg.cmip_port}")
    await stop.wait()
    if poller is not None:
        poller.cancel()
    await selfchecks.close()
    await control.close()
    await agent.close()
    if pair is not None:
        await pair.close()
    else:
        await live.stop()
    store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npac-node", description="Run an NPAC SMS node")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", help="node configuration file (TOML)")
    group.add_argument("--demo", action="store_true", help="write and run the demo configuration under var/demo")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sdnotify.journal_logging("npac-node")
    try:
        path = write_demo_config() if args.demo else Path(args.config)
        cfg = load_config(path)
        asyncio.run(run_node(cfg))
    except (ConfigError, KeyListError) as exc:
        print(f"npac-node: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"npac-node: cannot listen: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
