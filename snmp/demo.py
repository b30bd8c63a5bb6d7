"""`python -m snmp.agent --demo`: an agent for the `make run` node, on simulated hardware.

Writes var/demo/snmp.toml (udp 127.0.0.1:10161, the workstation port of ARCHITECTURE.md; user
`nms`, SHA/AES, the demo keys below; notifications to 127.0.0.1:10162) and, when missing, the
simulation files under var/demo/hw that the firmware hooks read (NPAC_HW_SIM). Edit those files to
see traps: e.g. set a line's "line_status" to ["dsx1LossOfSignal"] in links.json.
"""
from __future__ import annotations

import json
from pathlib import Path

DEMO_DIR = Path("var/demo")
DEMO_USER, DEMO_AUTH, DEMO_PRIV = "nms", "npac-demo-auth", "npac-demo-priv"
HOOKS_DIR = Path(__file__).resolve().parent.parent / "firmware-hooks"

DEMO_HW = {
    "edac.json": {"controllers": [{"name": "mc0", "ce_count": 0, "ue_count": 0}]},
    "sensors.json": {"sensors": [{"name": "cpu0", "value": 45.0, "max": 85.0, "crit": 95.0},
                                 {"name": "fan1", "value": 4800, "min": 800}]},
    "disks.json": {"filesystems": [{"mount": "/var", "size_bytes": 500 * 2**30, "free_bytes": 320 * 2**30}],
                   "arrays": [{"name": "md0", "members": 2, "active": 2}]},
    "watchdog.json": {"present": True, "identity": "demo_wdt", "timeout": 60, "state": "active"},
    "fence.json": {"fenced": True, "detail": "demo: peer powered off"},
    "links.json": {"links": [
        {"name": "t1-0001-a", "kind": "ds1", "carrier": "0001", "description": "DS-1 to carrier 0001",
         "ds1": {"circuit_id": "DEMO/T1/0001-A"}},
        {"name": "t1-0001-a/1-24", "kind": "ds0", "parent": "t1-0001-a", "channels": "1-24", "carrier": "0001",
         "oper": "up"},
        {"name": "t1-0002-a", "kind": "ds1", "carrier": "0002", "description": "DS-1 to carrier 0002",
         "ds1": {"circuit_id": "DEMO/T1/0002-A"}},
        {"name": "ic0", "kind": "interconnect", "medium": "ethernet", "oper": "up", "speed": 1_000_000_000,
         "description": "interconnect to the DR node"},
        {"name": "ttyS1", "kind": "interconnect", "medium": "serial", "oper": "up", "speed": 115200,
         "description": "serial heartbeat cable"},
    ]},
}


def write_demo_config(base: Path = DEMO_DIR, port: int = 10161) -> Path:
    hw = base / "hw"
    hw.mkdir(parents=True, exist_ok=True)
    for name, body in DEMO_HW.items():
        if not (hw / name).exists():  # the user's edits to the simulation stay
            (hw / name).write_text(json.dumps(body, indent=2) + "\n")
    path = base / "snmp.toml"
    path.write_text("\n".join([
        "[agent]", 'host = "127.0.0.1"', f"port = {port}", 'control_socket = "primary/control.sock"',
        f'hooks_dir = "{HOOKS_DIR}"', 'hw_sim = "hw"', 'state_dir = "snmp"', "",
        "[system]", 'name = "npac-primary"', 'location = "workstation demo"', 'contact = "NPAC operations"', "",
        "[[user]]", f'name = "{DEMO_USER}"', 'auth = "SHA"', f'auth_key = "{DEMO_AUTH}"', 'priv = "AES"',
        f'priv_key = "{DEMO_PRIV}"', "",
        "[[trap_target]]", 'host = "127.0.0.1"', f"port = {port + 1}", f'user = "{DEMO_USER}"', 'kind = "trap"', "",
    ]))
    return path
