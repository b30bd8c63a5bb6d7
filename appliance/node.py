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

from appliance.agent import NpacAgent
from appliance.config import ConfigError, NodeConfig, load_config
from appliance.control import ControlServer
from appliance.lnp.keys import KeyListError, load_key_list
from appliance.lnp.oids import OIDS
from appliance.lnp.security import Directory, Identity, Party
from appliance.node_status import NodeMonitor
from appliance.npac.bootstrap import seed_from_config
from appliance.npac.audits import install_audits
from appliance.npac.history import install_history
from appliance.npac.mass_update import install_mass_updates
from appliance.npac.services import NpacServices, lsms_side
from appliance.ops.security_log import SecurityLog
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
    ]
    for sid, (name, types) in DEMO_CARRIERS.items():
        lines += ["[[carrier]]", f'system_id = "{sid}"', f'name = "{name}"',
                  "system_types = [" + ", ".join(f'"{TYPE_NAMES[t]}"' for t in sorted(types)) + "]",
                  f'key_lists = ["keys/{sid}/{sid}-list{keys.lists[sid].list_id}.pub.pem"]',
                  f'npa_nxx = ["{DEMO_NETWORK[sid][0]}"]', f'lrn = ["{DEMO_NETWORK[sid][1]}"]', ""]
    path = base / "primary.toml"
    path.write_text("\n".join(lines))
    return path


def describe(cfg: NodeConfig) -> str:
    keys = cfg.private_list.parent.parent
    out = [
        f"NPAC node '{cfg.name}' ({cfg.role}) is accepting CMIP associations",
        f"  address     {cfg.cmip_host}:{cfg.cmip_port} (RFC 1006)  TSAP {cfg.tsap.hex() or '-'}  "
        f"SSAP {cfg.ssap.hex() or '-'}  PSAP {cfg.psap.hex() or '-'}",
        f"  systemId    {cfg.system_id!r}; its public key list: {cfg.private_list.with_name(cfg.private_list.name.replace('.key.', '.pub.'))}",
        f"  carriers    " + ", ".join(f"{c.system_id} ({c.name})" for c in cfg.carriers),
        f"  carrier keys (private lists for the simulators): {keys}/<systemId>/",
        f"  security log {cfg.data_dir / 'security.log'}",
        f"  control     {cfg.control_socket} (JSON lines; {{\"cmd\": \"status\"}} gives the status document)",
        "  Ctrl-C releases the associations, then stops.",
    ]
    return "\n".join(out)


async def run_node(cfg: NodeConfig) -> None:
    agent, _ = build_agent(cfg)
    services = NpacServices(agent, cfg.data_dir / "npac.sqlite",
                            installers=(lsms_side, install_history, install_audits, install_mass_updates))
    side = services.installed[0]
    await services.start()
    for line in await seed_from_config(side, services.store, cfg, services.clock_ms()):
        log.info("first start: created %s", line)
    # the monitor sees every security record on its way to the log (counters for the status document)
    monitor = NodeMonitor(cfg, agent.security_log, epoch=lambda: services.store.epoch,
                          last_sequence=services.store.last_sequence)
    agent.security_log = monitor.record
    control = ControlServer(cfg.control_socket, {"status": lambda _: {"status": monitor.status(agent).to_dict()}})
    await agent.serve(cfg.cmip_host, cfg.cmip_port)
    await control.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(describe(cfg), flush=True)  # only now: a supervisor may stop us as soon as it reads this
    await stop.wait()
    await control.close()
    await agent.close()
    await services.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npac-node", description="Run an NPAC SMS node")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--config", help="node configuration file (TOML)")
    group.add_argument("--demo", action="store_true", help="write and run the demo configuration under var/demo")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
