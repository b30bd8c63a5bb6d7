"""`make run`: the primary/DR pair on one machine, ready for carriers, and what it prints."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from appliance.lnp.association_info import TRY_OTHER_HOST
from appliance.lnp.security import SOA
from appliance.peers.carrier import AssociationRefused, CarrierAssociation
from appliance.peers.demo_keys import NPAC_SYSTEM_ID, DemoKeys
from tests.support.pair_rig import free_ports, hosts
from appliance.pair import Ports

ROOT = Path(__file__).resolve().parents[1]


def test_make_run_starts_the_pair_and_prints_how_to_connect(tmp_path):
    p = free_ports(9)
    ports = Ports((p[0], p[1]), (p[2], p[3]), (p[4], p[5]), (p[6], p[7]), p[8])
    proc = subprocess.Popen([sys.executable, "-m", "appliance.pair", "--demo", "--base", str(tmp_path),
                             "--ports", ",".join(map(str, p))], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if "console:" in line:
                break
        text = "".join(banner)
        assert f"CMIP 127.0.0.1:{p[0]}" in text and f"CMIP 127.0.0.1:{p[1]}" in text
        assert f"SNMP 127.0.0.1:{p[2]}" in text and "SNMPv3 user nms" in text
        assert str(tmp_path / "keys") in text and "host list" in text

        async def carriers():
            keys = DemoKeys(tmp_path / "keys")
            soa = CarrierAssociation(keys.carrier_identity("0001", SOA), keys.carrier_directory(),
                                     frozenset({"soa.soaMgmt"}), npac_system_id=NPAC_SYSTEM_ID)
            dr_only = hosts(ports)[1:]
            try:
                await soa.open(dr_only, attempts=1)
                raise AssertionError("the standby accepted an association")
            except AssociationRefused as exc:
                assert exc.code == TRY_OTHER_HOST  # IIS 5.3.1.2: the standby sends carriers to the primary
            used = await soa.open(hosts(ports))
            assert used.port == p[0]
            await soa.release()
        asyncio.run(asyncio.wait_for(carriers(), 60))

        # `make demo`: two simulated carriers port a number through the pair, three LSMSs watching
        peers = [sys.executable, "-m", "appliance.peers", "--keys", str(tmp_path / "keys"),
                 "--hosts", f"127.0.0.1:{p[0]},127.0.0.1:{p[1]}"]
        done = subprocess.run([*peers, "port"], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "every LSMS holds the new version" in done.stdout
        assert done.stdout.count("TN 3035551234 -> LRN 3035560000, new SP 0002") == 3
        again = subprocess.run([*peers, "port"], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert again.returncode == 1 and again.stderr.startswith("peers: 0001 subscriptionVersionOldSP-Create: refused")
        assert "Traceback" not in again.stderr
        bad = subprocess.run([*peers, "port", "--tn", "12"], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert bad.returncode == 2 and "10 digits" in bad.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    for side in ("primary", "dr"):
        assert (tmp_path / side / "npac.sqlite").exists() and (tmp_path / side / "node.log").exists()
