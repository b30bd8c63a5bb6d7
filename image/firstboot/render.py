"""From the appliance configuration to the files each process reads: the node's, npac-ha's and the
SNMP agent's TOML, their key files, and systemd-networkd's .network files. Pure: paths in, text out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance_config import ApplianceConfig, Interface

CMIP_PORT, SNMP_PORT, HEARTBEAT_PORT, REPLICATION_PORT = 102, 161, 694, 7410


@dataclass(frozen=True)
class Layout:
    """Where things live on the running appliance (tests point these at a temporary tree)."""
    etc: Path = Path("/run/npac/etc")          # generated every boot (tmpfs)
    run: Path = Path("/run/npac")              # control sockets
    data: Path = Path("/var/lib/npac")         # the data partition: store, keys, SNMP state
    hooks: Path = Path("/opt/npac/firmware-hooks")
    network: Path = Path("/run/systemd/network")
    ssh: Path = Path("/run/npac-ssh")          # root's, so sshd's StrictModes accepts it

    @property
    def keys(self) -> Path:
        return self.data / "keys"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def toml_text(sections: list[tuple[str, dict[str, Any]]]) -> str:
    out = ["# generated at boot from npac.toml on the NPAC-CONFIG partition: edit that file, not this one"]
    for header, table in sections:
        out += ["", header]
        out += [f"{k} = {toml_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(out) + "\n"


def key_copy(layout: Layout, source: Path) -> Path:
    """Key lists live on the data partition under keys/<file name>."""
    return layout.keys / source.name


def node_toml(cfg: ApplianceConfig, layout: Layout) -> str:
    d = cfg.data
    node = d["node"]
    cmip = d.get("cmip", {})
    keys = d["keys"]
    sections: list[tuple[str, dict[str, Any]]] = [
        ("[node]", {"name": cfg.name, "system_id": node.get("system_id", "NPAC SMS"), "role": cfg.role,
                    "data_dir": str(layout.data / "node"), "control_socket": str(layout.run / "node.sock"),
                    "contact_number": node.get("contact_number")}),
        ("[cmip]", {"host": "0.0.0.0", "port": cmip.get("port", CMIP_PORT), "tsap": cmip.get("tsap", "4e504143"),
                    "ssap": cmip.get("ssap", "0001"), "psap": cmip.get("psap", "00000001"),
                    "max_associations": cmip.get("max_associations"), "request_timeout": cmip.get("request_timeout")}),
        ("[keys]", {"private_list": str(key_copy(layout, cfg.path.parent / keys["private_list"])),
                    "key_id": keys.get("key_id", 1)}),
    ]
    if cfg.pair is not None:
        sections.append(("[ha]", {"config": str(layout.etc / "ha.toml")}))
    for c in d.get("carrier", []):
        table = {k: v for k, v in c.items() if k not in ("key_lists", "key_list_md5")}
        table["key_lists"] = [str(key_copy(layout, cfg.path.parent / f)) for f in c.get("key_lists", [])]
        sections.append(("[[carrier]]", table))
    return toml_text(sections)


def ha_toml(cfg: ApplianceConfig, layout: Layout) -> str | None:
    if cfg.pair is None or cfg.interconnect is None:
        return None
    p, ic = cfg.pair, cfg.interconnect
    return toml_text([
        ("[ha]", {"node": cfg.name, "peer": p.peer, "role": cfg.role, "key_file": str(layout.etc / "ha.key"),
                  "interval": p.interval, "dead_time": p.dead_time,
                  "control_socket": str(layout.run / "ha.sock"), "node_socket": str(layout.run / "node.sock")}),
        ("[heartbeat]", {"udp_bind": f"{ic.host}:{HEARTBEAT_PORT}", "udp_peer": f"{ic.peer_address}:{HEARTBEAT_PORT}",
                         "serial": p.serial, "baudrate": p.baudrate}),
        ("[fence]", {"command": list(p.fence_command)}),
        ("[replication]", {"listen": f"{ic.host}:{REPLICATION_PORT}", "peer": f"{ic.peer_address}:{REPLICATION_PORT}",
                           "policy": p.policy}),
    ])


def snmp_toml(cfg: ApplianceConfig, layout: Layout) -> str:
    s = cfg.data.get("snmp", {})
    sections: list[tuple[str, dict[str, Any]]] = [
        ("[agent]", {"host": "0.0.0.0", "port": s.get("port", SNMP_PORT), "engine_id": s.get("engine_id"),
                     "state_dir": str(layout.data / "snmp"), "control_socket": str(layout.run / "node.sock"),
                     "hooks_dir": str(layout.hooks),
                     "interconnect": [cfg.interconnect.name] if cfg.interconnect else [],
                     "serial": [cfg.pair.serial] if cfg.pair else [], "mounts": ["/", "/var"]}),
        ("[system]", {"name": cfg.hostname, "location": s.get("location", ""), "contact": s.get("contact", "")}),
    ]
    for u in s.get("user", []):
        sections.append(("[[user]]", dict(u)))
    if "community" in s:
        sections.append(("[v2c]", {"community": s["community"]}))
    for t in s.get("trap_target", []):
        sections.append(("[[trap_target]]", dict(t)))
    return toml_text(sections)


def network_unit(iface: Interface) -> str:
    lines = ["# generated at boot from npac.toml", "[Match]", f"Name={iface.name}", "", "[Network]"]
    if iface.address == "dhcp":
        lines.append("DHCP=ipv4")
    else:
        lines.append(f"Address={iface.address}")
        if iface.gateway:
            lines.append(f"Gateway={iface.gateway}")
    lines += ["LinkLocalAddressing=no", "IPv6AcceptRA=no"]
    return "\n".join(lines) + "\n"


def render(cfg: ApplianceConfig, layout: Layout) -> dict[Path, str]:
    """Every generated text file by its path (key files are copied, not rendered)."""
    files = {layout.etc / "node.toml": node_toml(cfg, layout), layout.etc / "snmp.toml": snmp_toml(cfg, layout),
             layout.network / "10-npac-carrier.network": network_unit(cfg.carrier_net)}
    ha = ha_toml(cfg, layout)
    if ha is not None and cfg.interconnect is not None:
        files[layout.etc / "ha.toml"] = ha
        files[layout.network / "20-npac-interconnect.network"] = network_unit(cfg.interconnect)
    return files
