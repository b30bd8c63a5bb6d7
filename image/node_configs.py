"""npac.toml and its key files for the VMs of `make image-test` and `make image-drill`: the demo
carriers' key lists (generated once under the work directory), one SNMPv3 user, and the pair
settings with the interconnect on eth1 and the heartbeat cable on ttyS1.
"""
from __future__ import annotations

import json
from pathlib import Path

from appliance.peers.demo_keys import DEMO_CARRIERS, NPAC_SYSTEM_ID, DemoKeys

TYPE_NAMES = {0: "soa", 1: "local-sms", 2: "soa-and-local-sms"}
SNMP_USER = ("nms", "npac-test-auth", "npac-test-priv")
HA_KEY = "6e7061632d696d6167652d746573742d6b6579\n"  # the test pair's shared HMAC key (hex)
# The VMs have no fencing device: the drill's harness pulls the primary's plug itself, so the DR's
# fence step is a stand-in that reports the peer off (a real pair names its power switch here).
STAND_IN_FENCE = ["/bin/sh", "-c", 'echo \'{"fenced": true, "method": "harness", "detail": "peer VM killed by the drill"}\'']


def node_files(work: Path, *, name: str, role: str, peer: str | None, ic_address: str = "", ic_peer: str = "",
               dead_time: float = 6.0, stand_in_fence: bool = False, ssh_key: str = "") -> dict[str, Path]:
    """The files to put on a VM's NPAC-CONFIG partition, by their name there."""
    keys = DemoKeys(work / "keys", count=4)
    files = {f"keys/{NPAC_SYSTEM_ID}-list1.key.pem": keys.directory / NPAC_SYSTEM_ID / f"{NPAC_SYSTEM_ID}-list1.key.pem"}
    lines = ["[node]", f'name = "{name}"', f'role = "{role}"', f'system_id = "{NPAC_SYSTEM_ID}"', "",
             "[network.carrier]", 'interface = "eth0"', 'address = "dhcp"', ""]
    if peer is not None:
        lines += ["[network.interconnect]", 'interface = "eth1"', f'address = "{ic_address}"',
                  f'peer_address = "{ic_peer}"', "",
                  "[pair]", f'peer = "{peer}"', 'key_file = "ha.key"', 'serial = "/dev/ttyS1"',
                  f"dead_time = {dead_time}", "interval = 1.0"]
        if stand_in_fence:
            lines.append("fence_command = [" + ", ".join(json.dumps(w) for w in STAND_IN_FENCE) + "]")
        lines.append("")
        ha_key = work / "ha.key"
        ha_key.write_text(HA_KEY)
        files["ha.key"] = ha_key
    lines += ["[keys]", f'private_list = "keys/{NPAC_SYSTEM_ID}-list1.key.pem"', "key_id = 1", ""]
    for sid, (cname, types) in DEMO_CARRIERS.items():
        public = keys.directory / sid / f"{sid}-list1.pub.pem"
        files[f"keys/{public.name}"] = public
        lines += ["[[carrier]]", f'system_id = "{sid}"', f'name = "{cname}"',
                  "system_types = [" + ", ".join(f'"{TYPE_NAMES[t]}"' for t in sorted(types)) + "]",
                  f'key_lists = ["keys/{public.name}"]', ""]
    user, auth, priv = SNMP_USER
    lines += ["[snmp]", 'location = "image test"', 'contact = "NPAC operations"', "",
              "[[snmp.user]]", f'name = "{user}"', 'auth = "SHA"', f'auth_key = "{auth}"', 'priv = "AES"',
              f'priv_key = "{priv}"', ""]
    if ssh_key:
        lines += ["[ssh]", f"authorized_keys = [{json.dumps(ssh_key.strip())}]", ""]
    toml = work / f"{name}.npac.toml"
    toml.write_text("\n".join(lines))
    files["npac.toml"] = toml
    return files
