"""Node configuration: one TOML file per node, validated before anything starts.

    [node]
    name = "primary"                 # this node's name
    system_id = "NPAC SMS"           # the NPAC's systemId (npac-sms, GraphicString60)
    role = "primary"                 # primary | dr
    data_dir = "var/primary"         # store, logs
    control_socket = "var/primary/control.sock"   # optional; default <data_dir>/control.sock
    contact_number = "8005550100"    # the NPAC help desk number notices to users give (10 digits)

    [cmip]
    host = "0.0.0.0"
    port = 102
    tsap = "4e504143"                # selectors in hex, 0..16 octets (FRS L8112-8150)
    ssap = "0001"
    psap = "00000001"
    max_associations = 256
    request_timeout = 120            # seconds (IIS 5.2.2 step 2: 2 minutes)

    [keys]
    private_list = "keys/npac/NPAC SMS-list1.key.pem"
    key_id = 1

    [[carrier]]
    system_id = "0001"
    name = "Demo Carrier One"
    system_types = ["soa", "local-sms"]   # soa | local-sms | soa-and-local-sms
    key_lists = ["keys/0001/0001-list1.pub.pem"]
    hash = "md5"                          # md5 (spec) | sha256 (extension)
    npa_nxx = ["303555"]                  # optional: network data created at first start
    lrn = ["3035550000"]

    [ha]                                  # optional: this node is one of the primary/DR pair
    config = "ha.toml"                    # npac-ha's file (ha/config.py): the node reads its key,
                                          # names and [replication]; its node_socket must be this
                                          # node's control socket

Without [ha] the node runs alone and live.

Relative paths are taken from the directory of the config file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from appliance.tomlconfig import ConfigError, read_toml  # noqa: F401  (ConfigError re-exported)
from appliance.tomlconfig import get as _get

SYSTEM_TYPES = {"soa": 0, "local-sms": 1, "soa-and-local-sms": 2}




@dataclass(frozen=True)
class CarrierConfig:
    system_id: str
    name: str
    system_types: frozenset[int]
    key_lists: tuple[Path, ...]
    hash: str = "md5"
    npa_nxx: tuple[str, ...] = ()  # created at first start if the store lacks them
    lrn: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeConfig:
    path: Path
    name: str
    system_id: str
    role: str
    data_dir: Path
    cmip_host: str
    cmip_port: int
    tsap: bytes
    ssap: bytes
    psap: bytes
    max_associations: int
    request_timeout: float
    private_list: Path
    key_id: int
    carriers: tuple[CarrierConfig, ...] = field(default_factory=tuple)
    control_socket: Path | None = None  # the status/control socket (appliance.control)
    ha_config: Path | None = None       # npac-ha's config when the node is one of a pair
    contact_number: str = "8005550100"  # the NPAC help desk, given in notices to users (PhoneNumber)




def _selector(table: dict, key: str, where: str) -> bytes:
    text = _get(table, key, str, where, "")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"{where}: '{key}' must be hex digits, got {text!r}") from None
    if len(raw) > 16:
        raise ConfigError(f"{where}: '{key}' is longer than 16 octets")
    return raw


def load_config(path: str | Path) -> NodeConfig:
    p = Path(path)
    data = read_toml(p)
    base = p.parent

    def rel(value: str) -> Path:
        q = Path(value)
        return q if q.is_absolute() else base / q

    node = _get(data, "node", dict, str(p))
    cmip = _get(data, "cmip", dict, str(p))
    keys = _get(data, "keys", dict, str(p))
    role = _get(node, "role", str, "[node]")
    if role not in ("primary", "dr"):
        raise ConfigError(f"[node]: 'role' must be primary or dr, got {role!r}")
    port = _get(cmip, "port", int, "[cmip]")
    if not 1 <= port <= 65535:
        raise ConfigError(f"[cmip]: 'port' must be 1..65535, got {port}")
    system_id = _get(node, "system_id", str, "[node]")
    if not 1 <= len(system_id) <= 60:
        raise ConfigError("[node]: 'system_id' must be 1 to 60 characters")
    carriers = []
    seen = set()
    for i, c in enumerate(data.get("carrier", [])):
        where = f"[[carrier]] #{i + 1}"
        sid = _get(c, "system_id", str, where)
        if not 1 <= len(sid) <= 4:
            raise ConfigError(f"{where}: 'system_id' must be 1 to 4 characters (ServiceProvId), got {sid!r}")
        if sid in seen:
            raise ConfigError(f"{where}: system_id {sid!r} appears twice")
        seen.add(sid)
        types = _get(c, "system_types", list, where)
        bad = [t for t in types if t not in SYSTEM_TYPES]
        if bad or not types:
            raise ConfigError(f"{where}: 'system_types' must be some of {sorted(SYSTEM_TYPES)}, got {types!r}")
        hash_name = _get(c, "hash", str, where, "md5")
        if hash_name not in ("md5", "sha256"):
            raise ConfigError(f"{where}: 'hash' must be md5 or sha256, got {hash_name!r}")
        lists = tuple(rel(x) for x in _get(c, "key_lists", list, where))
        npa_nxx = tuple(_get(c, "npa_nxx", list, where, []))
        lrn = tuple(_get(c, "lrn", list, where, []))
        if not all(isinstance(v, str) and len(v) == 6 and v.isdigit() for v in npa_nxx):
            raise ConfigError(f"{where}: 'npa_nxx' entries must be 6 digits")
        if not all(isinstance(v, str) and len(v) == 10 and v.isdigit() for v in lrn):
            raise ConfigError(f"{where}: 'lrn' entries must be 10 digits")
        carriers.append(CarrierConfig(sid, _get(c, "name", str, where, sid), frozenset(SYSTEM_TYPES[t] for t in types),
                                      lists, hash_name, npa_nxx, lrn))
    data_dir = rel(_get(node, "data_dir", str, "[node]"))
    control = _get(node, "control_socket", str, "[node]", "")
    contact = _get(node, "contact_number", str, "[node]", "8005550100")
    if len(contact) != 10 or not contact.isdigit():
        raise ConfigError(f"[node]: 'contact_number' must be 10 digits, got {contact!r}")
    ha = _get(data, "ha", dict, str(p), {})
    ha_config = _get(ha, "config", str, "[ha]", "")
    return NodeConfig(
        path=p,
        name=_get(node, "name", str, "[node]"),
        system_id=system_id,
        role=role,
        data_dir=data_dir,
        cmip_host=_get(cmip, "host", str, "[cmip]", "0.0.0.0"),
        cmip_port=port,
        tsap=_selector(cmip, "tsap", "[cmip]"),
        ssap=_selector(cmip, "ssap", "[cmip]"),
        psap=_selector(cmip, "psap", "[cmip]"),
        max_associations=_get(cmip, "max_associations", int, "[cmip]", 256),
        request_timeout=float(_get(cmip, "request_timeout", (int, float), "[cmip]", 120)),
        private_list=rel(_get(keys, "private_list", str, "[keys]")),
        key_id=_get(keys, "key_id", int, "[keys]"),
        carriers=tuple(carriers),
        control_socket=rel(control) if control else data_dir / "control.sock",
        ha_config=rel(ha_config) if ha_config else None,
        contact_number=contact,
    )
