"""The appliance configuration: the one file an installer writes, `npac.toml` on the NPAC-CONFIG
partition (FAT, so any workstation can write it). Every boot turns it into the node's, npac-ha's and
the SNMP agent's own files; see image/config/npac.toml.example for every setting with its meaning.

Any setting can also be given on the kernel command line as npac.<section>.<key>=<value> (value in
TOML syntax, bare words taken as strings), e.g. `npac.node.role=dr`; the command line wins.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.tomlconfig import ConfigError, read_toml
from appliance.tomlconfig import get as _get

NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
IFACE = re.compile(r"^[a-zA-Z0-9_.-]{1,15}$")
SSH_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh.com) [A-Za-z0-9+/=]+( .*)?$")


@dataclass(frozen=True)
class Interface:
    name: str
    address: str            # "dhcp" or CIDR
    gateway: str = ""
    peer_address: str = ""  # interconnect only

    @property
    def host(self) -> str:
        return "0.0.0.0" if self.address == "dhcp" else self.address.split("/")[0]


@dataclass(frozen=True)
class Pair:
    peer: str
    key_file: Path
    serial: str
    baudrate: int
    dead_time: float
    interval: float
    policy: str
    fence_command: tuple[str, ...]


@dataclass(frozen=True)
class ApplianceConfig:
    path: Path
    data: dict[str, Any]          # the merged settings (file + command line), for the renderers
    name: str
    role: str
    hostname: str
    carrier_net: Interface
    interconnect: Interface | None
    pair: Pair | None
    key_lists: tuple[tuple[Path, str], ...]   # (file on the partition, md5 it must have or "")
    ssh_keys: tuple[str, ...] = field(default_factory=tuple)


def cmdline_overrides(cmdline: str) -> dict[str, dict[str, Any]]:
    """npac.<section>.<key>=<value> words of a kernel command line, as nested tables."""
    out: dict[str, dict[str, Any]] = {}
    try:
        words = shlex.split(cmdline)
    except ValueError as exc:
        raise ConfigError(f"kernel command line: {exc}") from None
    for word in words:
        if not word.startswith("npac.") or "=" not in word:
            continue
        dotted, raw = word[5:].split("=", 1)
        parts = dotted.split(".")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"kernel command line: {word!r} must be npac.<section>.<key>=<value>")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out.setdefault(parts[0], {})[parts[1]] = value
    return out


def merged(path: Path, cmdline: str) -> dict[str, Any]:
    data = read_toml(path) if path.exists() else {}
    overrides = cmdline_overrides(cmdline)
    if not data and not overrides:
        raise ConfigError(f"no configuration: write npac.toml on the NPAC-CONFIG partition "
                          f"(example: npac.toml.example there)")
    for section, values in overrides.items():
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"kernel command line: [{section}] is not a table in {path.name}")
        table.update(values)
    return data


def _interface(table: dict[str, Any], where: str, peer: bool) -> Interface:
    name = _get(table, "interface", str, where)
    if not IFACE.match(name):
        raise ConfigError(f"{where}: 'interface' {name!r} is not an interface name")
    address = _get(table, "address", str, where)
    if address != "dhcp":
        try:
            ipaddress.ip_interface(address)
        except ValueError:
            raise ConfigError(f"{where}: 'address' must be dhcp or an address/prefix, got {address!r}") from None
        if "/" not in address:
            raise ConfigError(f"{where}: 'address' needs its prefix length, e.g. {address}/24")
    gateway = _get(table, "gateway", str, where, "")
    peer_address = _get(table, "peer_address", str, where, "") if peer else ""
    for key, value in (("gateway", gateway), ("peer_address", peer_address)):
        if value:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ConfigError(f"{where}: '{key}' must be an address, got {value!r}") from None
    return Interface(name, address, gateway, peer_address)


def load(path: Path, cmdline: str = "") -> ApplianceConfig:
    """Read and check the appliance settings; the three processes' own loaders check the rest."""
    data = merged(path, cmdline)
    base = path.parent
    where = str(path)
    node = _get(data, "node", dict, where)
    name = _get(node, "name", str, "[node]")
    if not NAME.match(name):
        raise ConfigError(f"[node]: 'name' must be lower-case letters, digits and '-', got {name!r}")
    role = _get(node, "role", str, "[node]")
    if role not in ("primary", "dr"):
        raise ConfigError(f"[node]: 'role' must be primary or dr, got {role!r}")
    hostname = _get(node, "hostname", str, "[node]", f"npac-{name}")
    if not NAME.match(hostname):
        raise ConfigError(f"[node]: 'hostname' must be lower-case letters, digits and '-', got {hostname!r}")
    network = _get(data, "network", dict, where)
    carrier_net = _interface(_get(network, "carrier", dict, "[network]"), "[network.carrier]", peer=False)
    pair_table = _get(data, "pair", dict, where, {})
    interconnect, pair = None, None
    if pair_table:
        interconnect = _interface(_get(network, "interconnect", dict, "[network]"), "[network.interconnect]", peer=True)
        if interconnect.address == "dhcp" or not interconnect.peer_address:
            raise ConfigError("[network.interconnect]: a pair needs a fixed 'address' and the 'peer_address'")
        if interconnect.name == carrier_net.name:
            raise ConfigError("[network.interconnect]: the interconnect must be its own interface, not the carriers'")
        peer = _get(pair_table, "peer", str, "[pair]")
        if peer == name:
            raise ConfigError("[pair]: 'peer' must be the other node's name, not this one's")
        fence = _get(pair_table, "fence_command", list, "[pair]", ["/opt/npac/firmware-hooks/fence"])
        if not fence or not all(isinstance(x, str) and x for x in fence):
            raise ConfigError("[pair]: 'fence_command' must be a non-empty list of strings")
        pair = Pair(peer=peer, key_file=base / _get(pair_table, "key_file", str, "[pair]"),
                    serial=_get(pair_table, "serial", str, "[pair]"),
                    baudrate=_get(pair_table, "baudrate", int, "[pair]", 19200),
                    dead_time=_get(pair_table, "dead_time", float, "[pair]", 15.0),
                    interval=_get(pair_table, "interval", float, "[pair]", 1.0),
                    policy=_get(pair_table, "replication_policy", str, "[pair]", "async"),
                    fence_command=tuple(fence))
        if not pair.key_file.is_file():
            raise ConfigError(f"[pair]: key_file {pair.key_file.name} is not on the configuration partition")
    lists: list[tuple[Path, str]] = []
    keys = _get(data, "keys", dict, where)
    lists.append((base / _get(keys, "private_list", str, "[keys]"), ""))
    for i, carrier in enumerate(data.get("carrier", [])):
        w = f"[[carrier]] #{i + 1}"
        if not isinstance(carrier, dict):
            raise ConfigError(f"{w}: must be a table")
        files = _get(carrier, "key_lists", list, w)
        sums = _get(carrier, "key_list_md5", list, w, [])
        if sums and len(sums) != len(files):
            raise ConfigError(f"{w}: 'key_list_md5' needs one MD5 per key list (R7-108.3)")
        for j, name_ in enumerate(files):
            lists.append((base / name_, sums[j] if sums else ""))
    for file, md5 in lists:
        if not file.is_file():
            raise ConfigError(f"key list {file.relative_to(base) if file.is_relative_to(base) else file} "
                              f"is not on the configuration partition")
        if md5 and hashlib.md5(file.read_bytes()).hexdigest() != md5.lower():
            raise ConfigError(f"key list {file.name}: its MD5 is not the one agreed with the carrier (R7-108.3)")
    ssh = _get(data, "ssh", dict, where, {})
    ssh_keys = tuple(_get(ssh, "authorized_keys", list, "[ssh]", []))
    for k in ssh_keys:
        if not isinstance(k, str) or not SSH_KEY.match(k.strip()):
            raise ConfigError("[ssh]: 'authorized_keys' entries must be OpenSSH public keys (ssh-ed25519 AAAA...)")
    return ApplianceConfig(path=path, data=data, name=name, role=role, hostname=hostname,
                           carrier_net=carrier_net, interconnect=interconnect, pair=pair,
                           key_lists=tuple(lists), ssh_keys=ssh_keys)
