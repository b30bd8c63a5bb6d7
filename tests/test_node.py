"""The node process: configuration checks and a real start on loopback."""
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.config import ConfigError, load_config
from appliance.node import write_demo_config
from appliance.osi import cmip
from appliance.osi.association import Address
from appliance.peers.carrier import CarrierAssociation, Host
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from tests.support.lnp_rig import service_provs_dn

ROOT = Path(__file__).resolve().parent.parent


def _wait_banner(proc) -> str:
    """Lines before the banner are log lines (first start creates the configured network data)."""
    for line in proc.stdout:
        if "accepting CMIP associations" in line:
            return line
    raise AssertionError(f"node exited with {proc.wait()} before its banner")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("text,needle", [
    ("[node\n", "not valid TOML"),
    ("", "'node' is missing"),
    ('[node]\nname="p"\nsystem_id="N"\nrole="boss"\ndata_dir="d"\n[cmip]\nport=1\n[keys]\nprivate_list="k"\nkey_id=1\n',
     "'role' must be primary or dr"),
    ('[node]\nname="p"\nsystem_id="N"\nrole="dr"\ndata_dir="d"\n[cmip]\nport=70000\n[keys]\nprivate_list="k"\nkey_id=1\n',
     "'port' must be 1..65535"),
    ('[node]\nname="p"\nsystem_id="N"\nrole="dr"\ndata_dir="d"\n[cmip]\nport=1\ntsap="zz"\n[keys]\nprivate_list="k"\nkey_id=1\n',
     "'tsap' must be hex"),
    ('[node]\nname="p"\nsystem_id="N"\nrole="dr"\ndata_dir="d"\n[cmip]\nport=1\n[keys]\nprivate_list="k"\nkey_id=1\n'
     '[[carrier]]\nsystem_id="00012"\nsystem_types=["soa"]\nkey_lists=[]\n', "1 to 4 characters"),
    ('[node]\nname="p"\nsystem_id="N"\nrole="dr"\ndata_dir="d"\n[cmip]\nport=1\n[keys]\nprivate_list="k"\nkey_id=1\n'
     '[[carrier]]\nsystem_id="0001"\nsystem_types=["scp"]\nkey_lists=[]\n', "'system_types' must be"),
])
def test_config_errors_say_what_is_wrong(tmp_path, text, needle):
    path = tmp_path / "node.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_config(path)


def test_bad_config_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "node.toml"
    path.write_text("[node\n")
    proc = subprocess.run([sys.executable, "-m", "appliance.node", "--config", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("npac-node: ")


def test_node_process_accepts_a_carrier(tmp_path):
    port = _free_port()
    cfg_path = write_demo_config(tmp_path, port)
    proc = subprocess.Popen([sys.executable, "-m", "appliance.node", "--config", str(cfg_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait_banner(proc)
        cfg = load_config(cfg_path)
        keys = DemoKeys(tmp_path / "keys")

        async def client():
            c = CarrierAssociation(keys.carrier_identity("0001", 0), keys.carrier_directory(),
                                   frozenset({"soa.soaMgmt"}), npac_system_id=NPAC_SYSTEM_ID)
            await c.open([Host("127.0.0.1", port, Address(cfg.tsap, cfg.ssap, cfg.psap))])
            out = await c.get("lnpServiceProvs", service_provs_dn(), cmip.FIRST_LEVEL_ONLY)
            await c.release()
            return out
        out = asyncio.run(asyncio.wait_for(client(), 30))
        # the store-backed view: a carrier sees its own serviceProv (flow 6.3.7)
        (own,) = out.linked
        assert own.object_instance[-1][0][1] == b"\x19\x040001"
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    log = (tmp_path / "primary" / "security.log").read_text()
    assert "association-established" in log and "association-released" in log


def test_node_process_ports_a_number_end_to_end(tmp_path):
    """`make run`'s node with its demo network data: 0002 ports 3035551234 from 0001 (flows 6.4.1.1,
    6.4.1.2, 6.4.1.5, 6.4.1.6) and every LSMS holds the active version afterwards."""
    from appliance.lnp.security import LOCAL_SMS, SOA
    from appliance.peers.lsms import LsmsSimulator
    from appliance.peers.soa import SoaSimulator, routing

    port = _free_port()
    cfg_path = write_demo_config(tmp_path, port)
    proc = subprocess.Popen([sys.executable, "-m", "appliance.node", "--config", str(cfg_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait_banner(proc)
        cfg = load_config(cfg_path)
        keys = DemoKeys(tmp_path / "keys")
        hosts = [Host("127.0.0.1", port, Address(cfg.tsap, cfg.ssap, cfg.psap))]

        async def scenario():
            lsmss = [LsmsSimulator(sp, keys.carrier_identity(sp, LOCAL_SMS), keys.carrier_directory(),
                                   npac_system_id=NPAC_SYSTEM_ID) for sp in ("0001", "0002", "0003")]
            for sim in lsmss:
                await sim.associate(hosts)
            old = SoaSimulator(keys.carrier_identity("0001", SOA), keys.carrier_directory(), npac_system_id=NPAC_SYSTEM_ID)
            new = SoaSimulator(keys.carrier_identity("0002", SOA), keys.carrier_directory(), npac_system_id=NPAC_SYSTEM_ID)
            await old.open(hosts)
            await new.open(hosts)
            due = int(time.time() * 1000) + 2 * 86_400_000
            assert (await old.old_sp_create("3035551234", "0002", due, True)).ok
            assert (await new.new_sp_create("3035551234", "0001", due, routing("3035560000"))).ok
            activated = await new.activate("3035551234")
            assert activated.ok, activated.error_name
            for _ in range(100):
                if all(sim.mib.versions() for sim in lsmss):
                    break
                await asyncio.sleep(0.1)
            held = [sim.mib.versions() for sim in lsmss]
            for sim in lsmss:
                await sim.release()
            await old.release()
            await new.release()
            return held
        held = asyncio.run(asyncio.wait_for(scenario(), 60))
        assert all(len(versions) == 1 for versions in held), held
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
