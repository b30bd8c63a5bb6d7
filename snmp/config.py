"""SNMP agent configuration: one TOML file, checked before anything listens.

    [agent]
    host = "127.0.0.1"                # where the NMS reaches the agent (UDP)
    port = 161
    engine_id = ""                    # hex; default 80007f5904 + the system name (RFC 3411 text format)
    state_dir = "var/snmp"            # optional: keeps snmpEngineBoots across restarts
    control_socket = "var/primary/control.sock"   # the node's status socket
    hooks_dir = "firmware-hooks"
    hw_sim = ""                       # optional: NPAC_HW_SIM for the hooks (tests, `make run`)
    poll_interval = 1.0               # seconds between status reads
    hook_interval = 10.0              # seconds between self-test / link-status runs
    hook_timeout = 5.0
    interconnect = ["eth1"]           # network interfaces of the interconnect (link-status)
    serial = ["/dev/ttyS1"]           # the heartbeat cable's serial device (link-status)
    mounts = ["/", "/var"]            # filesystems the self-test watches

    [system]                          # SNMPv2-MIB system group
    name = "npac-primary"
    location = "NPAC data centre, rack 4"
    contact = "NPAC operations"

    [[user]]                          # SNMPv3 USM, always authPriv
    name = "nms"
    auth = "SHA"                      # SHA | SHA-224 | SHA-256 | SHA-384 | SHA-512
    auth_key = "at least 8 characters"
    priv = "AES"                      # AES | AES-192 | AES-256
    priv_key = "at least 8 characters"

    [v2c]                             # absent: no SNMPv1/v2c at all (the default)
    community = "read-only community"

    [[trap_target]]
    host = "192.0.2.10"
    port = 162
    user = "nms"                      # a [[user]]: notifications are sent authPriv as that user
    kind = "trap"                     # trap | inform

Relative paths are taken from the directory of the config file. Everything served is read-only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.tomlconfig import ConfigError, read_toml  # noqa: F401  (ConfigError re-exported)
from appliance.tomlconfig import get as _get

AUTH = ("SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
PRIV = ("AES", "AES-192", "AES-256")




@dataclass(frozen=True)
class User:
    name: str
    auth: str
    auth_key: str
    priv: str
    priv_key: str


@dataclass(frozen=True)
class TrapTarget:
    host: str
    port: int
    user: str
    kind: str


@dataclass(frozen=True)
class AgentConfig:
    path: Path
    host: str
    port: int
    engine_id: bytes
    state_dir: Path | None
    control_socket: Path
    hooks_dir: Path
    hw_sim: Path | None
    poll_interval: float
    hook_interval: float
    hook_timeout: float
    interconnect: tuple[str, ...]
    serial: tuple[str, ...]
    mounts: tuple[str, ...]
    sys_name: str
    sys_location: str
    sys_contact: str
    users: tuple[User, ...]
    community: str | None
    trap_targets: tuple[TrapTarget, ...] = field(default_factory=tuple)




def _port(table: dict, where: str, default: int | None = None) -> int:
    port = _get(table, "port", int, where, default)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where}: 'port' must be 1..65535, got {port}")
    return port


def _seconds(table: dict, key: str, default: float) -> float:
    value = float(_get(table, key, (int, float), "[agent]", default))
    if value <= 0:
        raise ConfigError(f"[agent]: '{key}' must be more than 0 seconds")
    return value


def _strings(table: dict, key: str, where: str) -> tuple[str, ...]:
    items = _get(table, key, list, where, [])
    if not all(isinstance(x, str) for x in items):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(items)


def _user(u: Any, i: int) -> User:
    where = f"[[user]] #{i + 1}"
    if not isinstance(u, dict):
        raise ConfigError(f"{where}: must be a table")
    name = _get(u, "name", str, where)
    auth = _get(u, "auth", str, where, "SHA")
    priv = _get(u, "priv", str, where, "AES")
    if auth not in AUTH:
        raise ConfigError(f"{where}: 'auth' must be one of {', '.join(AUTH)}, got {auth!r}")
    if priv not in PRIV:
        raise ConfigError(f"{where}: 'priv' must be one of {', '.join(PRIV)}, got {priv!r}")
    keys = [_get(u, k, str, where) for k in ("auth_key", "priv_key")]
    if any(len(k) < 8 for k in keys):
        raise ConfigError(f"{where}: 'auth_key' and 'priv_key' need at least 8 characters (RFC 3414)")
    if not 1 <= len(name) <= 32:
        raise ConfigError(f"{where}: 'name' must be 1 to 32 characters")
    return User(name, auth, keys[0], priv, keys[1])


def load_config(path: str | Path) -> AgentConfig:
    p = Path(path)
    data = read_toml(p)

    def rel(value: str) -> Path:
        # absolute, so the hooks (run in their own working directory) read the same simulation
        q = Path(value)
        return q if q.is_absolute() else (p.parent / q).absolute()

    agent = _get(data, "agent", dict, str(p))
    system = _get(data, "system", dict, str(p), {})
    sys_name = _get(system, "name", str, "[system]", "npac")
    engine_hex = _get(agent, "engine_id", str, "[agent]", "")
    try:
        engine_id = bytes.fromhex(engine_hex) if engine_hex else bytes.fromhex("80007f5904") + sys_name.encode()
    except ValueError:
        raise ConfigError(f"[agent]: 'engine_id' must be hex digits, got {engine_hex!r}") from None
    if not 5 <= len(engine_id) <= 32:
        raise ConfigError("[agent]: 'engine_id' must be 5 to 32 octets (RFC 3411)")
    users = tuple(_user(u, i) for i, u in enumerate(_get(data, "user", list, str(p), [])))
    if len({u.name for u in users}) != len(users):
        raise ConfigError("[[user]]: a name appears twice")
    v2c = _get(data, "v2c", dict, str(p), {})
    community = _get(v2c, "community", str, "[v2c]") if v2c else None
    if community is not None and len(community) < 8:
        raise ConfigError("[v2c]: 'community' needs at least 8 characters (it is the only secret v2c has)")
    if not users and community is None:
        raise ConfigError(f"{p}: no [[user]] and no [v2c]: nobody could query the agent")
    targets = []
    for i, t in enumerate(_get(data, "trap_target", list, str(p), [])):
        where = f"[[trap_target]] #{i + 1}"
        if not isinstance(t, dict):
            raise ConfigError(f"{where}: must be a table")
        user = _get(t, "user", str, where)
        if user not in {u.name for u in users}:
            raise ConfigError(f"{where}: 'user' {user!r} is not a [[user]]")
        kind = _get(t, "kind", str, where, "trap")
        if kind not in ("trap", "inform"):
            raise ConfigError(f"{where}: 'kind' must be trap or inform, got {kind!r}")
        targets.append(TrapTarget(_get(t, "host", str, where), _port(t, where, 162), user, kind))
    state = _get(agent, "state_dir", str, "[agent]", "")
    hw_sim = _get(agent, "hw_sim", str, "[agent]", "")
    return AgentConfig(
        path=p, host=_get(agent, "host", str, "[agent]", "127.0.0.1"), port=_port(agent, "[agent]", 161),
        engine_id=engine_id, state_dir=rel(state) if state else None,
        control_socket=rel(_get(agent, "control_socket", str, "[agent]")),
        hooks_dir=rel(_get(agent, "hooks_dir", str, "[agent]", "firmware-hooks")),
        hw_sim=rel(hw_sim) if hw_sim else None,
        poll_interval=_seconds(agent, "poll_interval", 1.0), hook_interval=_seconds(agent, "hook_interval", 10.0),
        hook_timeout=_seconds(agent, "hook_timeout", 5.0),
        interconnect=_strings(agent, "interconnect", "[agent]"), serial=_strings(agent, "serial", "[agent]"),
        mounts=_strings(agent, "mounts", "[agent]") or ("/",),
        sys_name=sys_name, sys_location=_get(system, "location", str, "[system]", ""),
        sys_contact=_get(system, "contact", str, "[system]", ""),
        users=users, community=community, trap_targets=tuple(targets),
    )
