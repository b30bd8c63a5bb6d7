"""Service-provider administration by NPAC personnel (FRS §4, R4-1..R4-26; IIS flows 6.3.1-6.3.5) and
the certification of a new provider (contract Exhibit A, seed L4076-4092).

Creation takes the R4-8 data: name, customer type, allowable functions, download indicator, maximum
query, the SP contact (NC), the security contact (SE, item 6) and a network address for each interface
the system type implies (items 4, 5); repair (RE) and billing (BI) contacts default to the SP contact
(items 7, 8). Every change goes through the network-data service, so the LSMSs hear of it (RR4-4) and
its guards hold (R4-7.2 duplicates, R4-15.2 immutable id, R4-21/R4-22 no delete while network data or
live subscription versions reference the provider).

Certification follows Exhibit A: connectivity (T1 or ping tested), keys generated and exchanged,
initial association, turn-up test cases, SP-to-SP tests; each step needs the ones before it, and the
provider is certified when all are done. The state lives in the store's meta table (journaled, so the
DR node has it too).
"""
from __future__ import annotations

from typing import Any

from appliance.lnp.values import attribute_plain, attribute_tlv
from appliance.npac.model import Status
from appliance.npac.network_data import FUNCTIONS
from appliance.npac.tunables import SPEC
from appliance.ops import personnel_args as arg
from appliance.ops.commands import Command, CommandError
from appliance.ops.npac_parts import network, refused_as_one_line
from appliance.osi.errors import ProtocolError
from appliance.store.network import LRNS, NPA_NXX, SERVICE_PROVIDERS
from appliance.store.store import Tx, _Reads
from appliance.store.versions import VERSIONS

SYSTEM_TYPES = {"soa": 0, "local-sms": 1, "soa-and-local-sms": 2}
TYPE_NAMES = {v: k for k, v in SYSTEM_TYPES.items()}
# Table 3-2 contact types (L7754-7788)
CONTACT_TYPES = {"BI": "billing", "CF": "conflict resolution", "LI": "local SMS interface", "NC": "NPAC customer",
                 "NF": "network and communications", "OP": "operations", "RE": "repair center", "SE": "security",
                 "SI": "SOA system interface", "UA": "user administration", "WI": "web interface"}
ADDRESS_TYPES = {"S": 0, "L": 1}  # Table 3-3 Network Address Type: SOA / Local SMS interface
# bootstrap's reading of IIS Exhibit 8: the functions a system type implies when none are named
DEFAULT_FUNCTIONS = {0: ("soa-mgmt", "soa-network-data-mgmt"),
                     1: ("lsms-data-download", "lsms-network-data-mgmt", "lsms-query")}
QUERY_RANGE = (SPEC["max_subscriber_query"].low, SPEC["max_subscriber_query"].high)  # App. C L20968: 10-150
CERTIFICATION_STEPS = ("connectivity", "keys", "association", "turn-up", "sp-to-sp")
_LIVE = (int(Status.OLD), int(Status.CANCELED))


# ---- argument forms ------------------------------------------------------------------------------


def parse_contact(value: Any) -> dict[str, str]:
    """TYPE:NAME:PHONE[:EMAIL] (Table 3-2: type C(2), name C(40), phone TN, email C(60))."""
    if isinstance(value, dict):
        parts = [value.get("type", ""), value.get("name", ""), value.get("phone", ""), value.get("email", "")]
    else:
        parts = str(value).split(":")
    if len(parts) < 3 or len(parts) > 4:
        raise CommandError(f"contact {value!r} must be TYPE:NAME:PHONE[:EMAIL]")
    kind = arg.choice(str(parts[0]).upper(), CONTACT_TYPES, "contact type")
    contact = {"type": kind, "name": arg.text(parts[1], "contact name", 40),
               "phone": arg.digits(parts[2], 10, "contact phone")}
    if len(parts) == 4 and parts[3]:
        contact["email"] = arg.text(parts[3], "contact email", 60)
    return contact


def _hex(value: str, what: str, low: int, high: int) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise CommandError(f"{what} {value!r} must be hex digits") from None
    if not low <= len(raw) <= high:
        raise CommandError(f"{what} {value!r} must be {low}-{high} octets")
    return raw


def parse_address(value: Any) -> dict[str, Any]:
    """S|L:TSAP:SSAP:PSAP[:NSAP] in hex (Table 3-3: selectors Address(4), NSAP Address(20))."""
    parts = str(value).split(":")
    if not 4 <= len(parts) <= 5:
        raise CommandError(f"address {value!r} must be S|L:TSAP:SSAP:PSAP[:NSAP] (hex selectors)")
    kind = arg.choice(parts[0].upper(), ADDRESS_TYPES, "address type")
    nsap = _hex(parts[4], "NSAP", 1, 20) if len(parts) == 5 else b""
    return {"interfaceAddress": {"nsap": nsap.ljust(20, b"\0"), "tsap": _hex(parts[1], "TSAP", 1, 4),
                                 "ssap": _hex(parts[2], "SSAP", 1, 4), "psap": _hex(parts[3], "PSAP", 1, 4)},
            "systemType": ADDRESS_TYPES[kind]}


def _link_info(addresses: list[dict[str, Any]]) -> list[str]:
    """serviceProvSysLinkInfo (NetworkAddressInformation), as the store keeps it: one TLV in hex."""
    return [attribute_tlv("serviceProvSysLinkInfo", addresses).hex()] if addresses else []


def _describe_link_info(stored: list[str] | None) -> list[str]:
    out = []
    for hex_tlv in stored or []:
        try:
            entries = attribute_plain("serviceProvSysLinkInfo", bytes.fromhex(hex_tlv))
        except (ProtocolError, ValueError, KeyError, TypeError):  # shown raw: one odd value must not hide the rest
            out.append(f"raw {hex_tlv}")
            continue
        for e in entries:
            a = e["interfaceAddress"]
            kind = "S" if e["systemType"] in ("soa", 0) else "L"
            out.append(f"{kind} tsap={a['tsap'].hex()} ssap={a['ssap'].hex()} psap={a['psap'].hex()} "
                       f"nsap={a['nsap'].hex()}")
    return out


def _functions(value: Any, system_type: int) -> list[str]:
    functions = arg.names(value, "functions")
    if not functions:
        functions = [f for t, fs in DEFAULT_FUNCTIONS.items() if system_type in (t, 2) for f in fs]
    unknown = sorted(set(functions) - set(FUNCTIONS))
    if unknown:
        raise CommandError(f"unknown functions {', '.join(unknown)}; known: {', '.join(FUNCTIONS)}")
    return list(dict.fromkeys(functions))


def _contacts(values: Any) -> list[dict[str, str]]:
    if isinstance(values, (str, dict)):
        values = [values]
    contacts = [parse_contact(v) for v in values or []]
    kinds = {c["type"] for c in contacts}
    for needed, why in (("NC", "the SP contact (R4-8 item 1)"), ("SE", "a security contact (R4-8 item 6)")):
        if needed not in kinds:
            raise CommandError(f"contacts must include {needed}, {why}")
    nc = next(c for c in contacts if c["type"] == "NC")
    for default in ("RE", "BI"):  # R4-8 items 7, 8: blank repair / billing data default to the SP's
        if default not in kinds:
            contacts.append({**nc, "type": default})
    return contacts


def _addresses(values: Any, system_type: int) -> list[dict[str, Any]]:
    if isinstance(values, str):
        values = [values]
    addresses = [parse_address(v) for v in values or []]
    have = {a["systemType"] for a in addresses}
    for kind, label, item in ((0, "SOA (S)", 5), (1, "LSMS (L)", 4)):
        if system_type in (kind, 2) and kind not in have:
            raise CommandError(f"a {label} network address is required for this system type (R4-8 item {item})")
    return addresses


# ---- reading -------------------------------------------------------------------------------------


def certification(reader: _Reads, sp: str) -> dict[str, Any]:
    row = reader.get("meta", f"certification:{sp}")
    return dict(row["value"]) if row and row["value"] else {}


def certified(state: dict[str, Any]) -> bool:
    return all(step in state for step in CERTIFICATION_STEPS)


def live_versions(reader: _Reads, sp: str) -> int:
    rows = VERSIONS.where(reader, "(new_sp = ? OR old_sp = ?) AND status NOT IN (?, ?)", [sp, sp, *_LIVE])
    return len(rows)


def summary(reader: _Reads, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "sp_id": row["sp_id"], "name": row["name"],
        "system_type": TYPE_NAMES.get(row["system_type"], "-") if row["system_type"] is not None else "-",
        "functions": row["allowable_functions"] or [], "download_network_data": bool(row["download_network_data"]),
        "customer_type": row["customer_type"], "max_query": row["max_query"],
        "deleted": arg.iso(row["deleted_ms"]), "certified": certified(certification(reader, row["sp_id"])),
    }


def _existing(reader: _Reads, sp: str) -> dict[str, Any]:
    row = SERVICE_PROVIDERS.get(reader, sp)
    if row is None:
        raise CommandError(f"no service provider {sp} (R4-14)")
    return row


# ---- commands ------------------------------------------------------------------------------------


async def sp_list(ctx: Any, session: Any, all: Any = False) -> list[dict[str, Any]]:
    """R4-4: personnel view SP data; deleted providers (kept as history, R4-22.1) with `all`."""
    store = ctx.store
    rows = SERVICE_PROVIDERS.all(store) if arg.flag(all, "all") else SERVICE_PROVIDERS.live(store)
    return [summary(store, r) for r in rows]


async def sp_show(ctx: Any, session: Any, sp_id: Any = None) -> dict[str, Any]:
    """R4-4, R4-26.2: the Table 3-1/3-2/3-3 data, with its network data and certification state."""
    store = ctx.store
    row = _existing(store, arg.sp_id(sp_id))
    state = certification(store, row["sp_id"])
    return {
        **summary(store, row), "contacts": row["contacts"] or [],
        "network_addresses": _describe_link_info(row["network_addresses"]),
        "tunables": row["tunables"] or {}, "created": arg.iso(row["created_ms"]),
        "modified": arg.iso(row["modified_ms"]),
        "npa_nxx": [r["value"] for r in NPA_NXX.of_sp(store, row["sp_id"])],
        "lrn": [r["value"] for r in LRNS.of_sp(store, row["sp_id"])],
        "live_versions": live_versions(store, row["sp_id"]),
        "certification": {step: arg.iso(state[step]["ms"]) if step in state else None
                          for step in CERTIFICATION_STEPS},
    }


async def sp_create(ctx: Any, session: Any, sp_id: Any = None, name: Any = None, system_type: Any = None,
                    functions: Any = None, download_network_data: Any = None, customer_type: Any = None,
                    max_query: Any = None, contacts: Any = None, addresses: Any = None) -> dict[str, Any]:
    """R4-1, R4-6..R4-11, flow 6.3.1."""
    sp = arg.sp_id(sp_id)
    label = arg.text(arg.required(name, "name (R4-8 item 1)"), "name", 40)
    kind = SYSTEM_TYPES[arg.choice(system_type, SYSTEM_TYPES, "system type")]
    chosen = _functions(functions, kind)
    download = (arg.flag(download_network_data, "download indicator") if download_network_data is not None
                else kind in (1, 2))
    limit = (arg.integer(max_query, "maximum query", *QUERY_RANGE) if max_query is not None
             else ctx.services.tunables().max_subscriber_query)
    row = await refused_as_one_line(network(ctx).create_service_provider(
        sp, label, system_type=kind, allowable_functions=tuple(chosen), download_network_data=download,
        customer_type=arg.text(arg.required(customer_type, "customer type (R4-8 item 2)"), "customer type", 20),
        max_query=limit,
        contacts=_contacts(contacts), network_addresses=_link_info(_addresses(addresses, kind))))
    return summary(ctx.store, row)


async def sp_modify(ctx: Any, session: Any, sp_id: Any = None, name: Any = None, system_type: Any = None,
                    functions: Any = None, download_network_data: Any = None, customer_type: Any = None,
                    max_query: Any = None, contacts: Any = None, addresses: Any = None) -> dict[str, Any]:
    """R4-13..R4-17: NPAC personnel may change every Table 3-1 field but the id (R4-15.2); what is
    changed is validated again (R4-16); a name change goes to the LSMSs (RR4-4)."""
    sp = arg.sp_id(sp_id)
    current = _existing(ctx.store, sp)
    kind = (SYSTEM_TYPES[arg.choice(system_type, SYSTEM_TYPES, "system type")] if system_type is not None
            else current["system_type"])
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = arg.text(name, "name", 40)
    if system_type is not None:
        changes["system_type"] = kind
    if functions is not None:
        changes["allowable_functions"] = _functions(functions, kind)
    if download_network_data is not None:
        changes["download_network_data"] = arg.flag(download_network_data, "download indicator")
    if customer_type is not None:
        changes["customer_type"] = arg.text(customer_type, "customer type", 20)
    if max_query is not None:
        changes["max_query"] = arg.integer(max_query, "maximum query", *QUERY_RANGE)
    if contacts is not None:
        changes["contacts"] = _contacts(contacts)
    if addresses is not None:
        changes["network_addresses"] = _link_info(_addresses(addresses, kind if kind is not None else 2))
    if not changes:
        raise CommandError("nothing to change: give at least one field")
    row = await refused_as_one_line(network(ctx).modify_service_provider(sp, changes))
    return summary(ctx.store, row)


async def sp_delete(ctx: Any, session: Any, sp_id: Any = None) -> dict[str, Any]:
    """R4-20..R4-22, RR4-1, RR4-2, flow 6.3.2: refused while NPA-NXX or LRN data or live subscription
    versions reference the provider; kept as history."""
    sp = arg.sp_id(sp_id)
    row = await refused_as_one_line(network(ctx).delete_service_provider(sp))
    return summary(ctx.store, row)


async def sp_certify(ctx: Any, session: Any, sp_id: Any = None, step: Any = None, clear: Any = False
                     ) -> dict[str, Any]:
    """Exhibit A turn-up: record (or with `clear`, withdraw) one certification step."""
    sp = arg.sp_id(sp_id)
    name = arg.choice(step, CERTIFICATION_STEPS, "certification step")
    undo = arg.flag(clear, "clear")
    who = getattr(session, "user_id", None)
    index = CERTIFICATION_STEPS.index(name)

    def record(tx: Tx) -> dict[str, Any]:
        _existing(tx, sp)
        state = certification(tx, sp)
        if undo:
            later = [s for s in CERTIFICATION_STEPS[index + 1:] if s in state]
            if later:
                raise CommandError(f"{sp}: clear {later[-1]} before {name}")
            state.pop(name, None)
        else:
            missing = [s for s in CERTIFICATION_STEPS[:index] if s not in state]
            if missing:
                raise CommandError(f"{sp}: {name} needs {missing[0]} first (Exhibit A)")
            state[name] = {"ms": tx.now_ms, "by": who}
        tx.upsert("meta", {"key": f"certification:{sp}", "value": state})
        return state
    state = await ctx.services.writer.run(f"certification {sp} {name}", record)
    return {"sp_id": sp, "steps": {s: arg.iso(state[s]["ms"]) if s in state else None for s in CERTIFICATION_STEPS},
            "certified": certified(state)}


def commands() -> list[Command]:
    return [
        Command("sp.list", sp_list, "read", "list service providers"),
        Command("sp.show", sp_show, "read", "one service provider's data"),
        Command("sp.create", sp_create, "administer", "create a service provider (R4-1)"),
        Command("sp.modify", sp_modify, "administer", "change a service provider (R4-13)"),
        Command("sp.delete", sp_delete, "administer", "delete a service provider (R4-20)"),
        Command("sp.certify", sp_certify, "administer", "record an Exhibit A certification step"),
    ]
