"""NPA splits and mass updates by NPAC personnel (FRS R3-6, R3-7, R3-13, RN3-1..RN3-3; IIS flows 6.6.1
and 6.7; Exhibit K 5027-5032, 5044). The mass-update service does the work: one transaction per
change, SOA notices through the outbox, and the LSMSs told once it has committed."""
from __future__ import annotations

from typing import Any

from appliance.npac.mass_update import MASS_FIELDS
from appliance.ops import personnel_args as arg
from appliance.ops.commands import Command, CommandError
from appliance.ops.npac_parts import mass_updates, refused_as_one_line
from appliance.store.network import NPA_NXX


def _field_value(name: str, value: Any) -> Any:
    """Table 3-4 formats: LRN TN, DPC N(9) as network-cluster-member, SSN N(3) (0..255 on the wire), billing id C(4), end-user
    location value C(12) and type C(2)."""
    if name == "lrn":
        return arg.lrn(value)
    if name.endswith("_dpc"):
        dpc = arg.digits(value, 9, name)
        if any(int(dpc[i:i + 3]) > 255 for i in (0, 3, 6)):  # network-cluster-member, 3 x 000-255
            raise CommandError(f"{name} {dpc} must be three groups of 000-255 (network, cluster, member)")
        return dpc
    if name.endswith("_ssn"):
        return arg.integer(value, name, 0, 255)
    longest = {"billing_id": 4, "end_user_location_value": 12, "end_user_location_type": 2}[name]
    return arg.text(value, name, longest)


def parse_changes(value: Any) -> dict[str, Any]:
    """field=value items (a JSON object, or a list of "field=value" strings)."""
    if isinstance(value, list):
        pairs = {}
        for item in value:
            name, sep, v = str(item).partition("=")
            if not sep:
                raise CommandError(f"change {item!r} must be field=value")
            pairs[name.strip().replace("-", "_")] = v.strip()
        value = pairs
    if not isinstance(value, dict) or not value:
        raise CommandError(f"give the fields to change as field=value; mass-updatable: {', '.join(sorted(MASS_FIELDS))}")
    unknown = sorted(set(value) - MASS_FIELDS)
    if unknown:
        raise CommandError(f"not mass-updatable: {', '.join(unknown)} (R3-6: {', '.join(sorted(MASS_FIELDS))})")
    return {k: _field_value(k, v) for k, v in value.items()}


async def massupdate_run(ctx: Any, session: Any, sp_id: Any = None, tn_start: Any = None, tn_stop: Any = None,
                         changes: Any = None) -> dict[str, Any]:
    """R3-7.1, R3-7.2, flow 6.7: the SP's versions in the TN range, except old, partial failure,
    sending and canceled ones."""
    sp = arg.sp_id(sp_id)
    start = arg.tn(tn_start, "range start")
    stop = arg.tn(tn_stop, "range end") if tn_stop else start
    if stop < start:
        raise CommandError(f"TN range {start}-{stop} runs backwards")
    fields = parse_changes(changes)
    outcome = await refused_as_one_line(mass_updates(ctx).mass_update(sp, start, stop, fields))
    return {"versions": outcome.version_ids, "lsms_ok": outcome.lsms_ok, "lsms_failed": outcome.lsms_failed}


async def npa_split(ctx: Any, session: Any, npa: Any = None, new_npa: Any = None, nxx_start: Any = None,
                    nxx_end: Any = None, pdp_start: Any = None, pdp_end: Any = None) -> dict[str, Any]:
    """Flow 6.6.1, RN3-1: every NPA-NXX of `npa` with its NXX in the range moves to `new_npa`; both
    are dialable from `pdp_start` until `pdp_end` (the permissive dialing period)."""
    old = arg.digits(arg.required(npa, "NPA (Exhibit K 5027)"), 3, "NPA")
    new = arg.digits(arg.required(new_npa, "new NPA (Exhibit K 5028)"), 3, "new NPA")
    first = arg.digits(arg.required(nxx_start, "starting NXX (Exhibit K 5029)"), 3, "starting NXX")
    last = arg.digits(arg.required(nxx_end, "ending NXX (Exhibit K 5030)"), 3, "ending NXX")
    begins = arg.when_ms(arg.required(pdp_start, "PDP start (Exhibit K 5031)"), "PDP start")
    ends = arg.when_ms(arg.required(pdp_end, "PDP end (Exhibit K 5032)"), "PDP end")
    if old == new:
        raise CommandError("the new NPA must differ from the NPA being split")
    if last < first:
        raise CommandError(f"NXX range {first}-{last} runs backwards")
    if ends <= begins:
        raise CommandError("the permissive dialing period must end after it starts")
    store = ctx.store
    rows = NPA_NXX.where(store, "substr(value, 1, 3) = ? AND substr(value, 4, 3) BETWEEN ? AND ?",
                         [old, first, last], order_by="value")
    if not rows:
        raise CommandError(f"there are no NPA-NXXs in {old}-{first}..{old}-{last} (Exhibit K 5044)")
    for row in rows:  # checked for all before the first is split, so a bad range changes nothing
        if row["split_new_npa_nxx"]:
            raise CommandError(f"NPA-NXX {row['value']} is already split to {row['split_new_npa_nxx']}")
        if NPA_NXX.by_value(store, new + row["value"][3:]) is not None:
            raise CommandError(f"NPA-NXX {new + row['value'][3:]} exists already")
    service = mass_updates(ctx)
    splits = []
    for row in rows:
        outcome = await refused_as_one_line(service.start_split(row["value"], new, begins, ends))
        splits.append({"from": row["value"], "to": new + row["value"][3:], "versions": outcome.version_ids,
                       "lsms_ok": outcome.lsms_ok, "lsms_failed": outcome.lsms_failed})
    return {"splits": splits, "pdp_start": arg.iso(begins), "pdp_end": arg.iso(ends)}


def commands() -> list[Command]:
    return [
        Command("massupdate.run", massupdate_run, "operate", "mass update of an SP's versions (R3-7)"),
        Command("npa.split", npa_split, "operate", "split an NPA (flow 6.6.1)"),
    ]
