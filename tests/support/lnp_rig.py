"""A live NPAC agent and carrier associations on loopback, for association-level tests."""
from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from appliance.agent import NpacAgent
from appliance.lnp.oids import OIDS
from appliance.lnp.security import SOA
from appliance.ops.security_log import SecurityLog
from appliance.osi import ber
from appliance.osi.association import Address
from appliance.osi.cmip_filter import MemoryObject, MemoryTree
from appliance.peers.carrier import CarrierAssociation, Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys

NPAC_ADDRESS = Address(b"NPAC", b"\x00\x01", b"\x00\x00\x00\x01")


def graphic(text: str) -> bytes:
    return ber.encode_tlv(0x19, text.encode())


def rdn(attr: str, value: bytes) -> tuple:
    return ((OIDS.attribute(attr).oid, value),)


def npac_dn() -> tuple:
    return (rdn("lnpNPAC-SMS-Name", graphic(NPAC_SYSTEM_ID)),)


def service_provs_dn() -> tuple:
    return npac_dn() + (rdn("lnpServiceProvsName", graphic("lnpServiceProvs")),)


def network_tree(carriers: dict[str, tuple[str, frozenset]]) -> MemoryTree:
    tree = MemoryTree()
    tree.add(MemoryObject(npac_dn(), OIDS.object_class("lnpNPAC-SMS").oid, {}))
    tree.add(MemoryObject(service_provs_dn(), OIDS.object_class("lnpServiceProvs").oid, {}))
    for sid, (name, _) in carriers.items():
        tree.add(MemoryObject(
            service_provs_dn() + (rdn("serviceProvID", graphic(sid)),),
            OIDS.object_class("serviceProv").oid,
            {OIDS.attribute("serviceProvID").oid: graphic(sid), OIDS.attribute("serviceProvName").oid: graphic(name)},
        ))
    return tree


@dataclass
class Rig:
    keys: DemoKeys
    agent: NpacAgent
    log: SecurityLog
    port: int
    clock_offset: list = field(default_factory=lambda: [dt.timedelta(0)])

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.clock_offset[0]

    def carrier(self, system_id: str = "0001", system_type: int = SOA, functions=frozenset({"soa.soaMgmt"}),
                key_id: int = 1, clock=None, **kw) -> CarrierAssociation:
        return CarrierAssociation(self.keys.carrier_identity(system_id, system_type, key_id), self.keys.carrier_directory(),
                                  frozenset(functions), npac_system_id=NPAC_SYSTEM_ID, clock=clock, **kw)

    def hosts(self) -> list[Host]:
        return [Host("127.0.0.1", self.port, NPAC_ADDRESS)]


async def start_rig(tmp: Path, keys_dir: Path, **agent_kw) -> Rig:
    keys = DemoKeys(keys_dir, count=3)
    log = SecurityLog(tmp / "security.log")
    rig_clock: list = [dt.timedelta(0)]
    agent = NpacAgent(identity=keys.npac_identity(), directory=keys.npac_directory(), security_log=log.record,
                      tree=network_tree(keys.carriers), local=NPAC_ADDRESS,
                      clock=lambda: dt.datetime.now(dt.timezone.utc) + rig_clock[0], **agent_kw)
    server = await agent.serve("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return Rig(keys, agent, log, port, rig_clock)
