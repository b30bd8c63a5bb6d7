"""Subscription versions as NPAC personnel see and act on them (FRS R4-24, R4-27..R4-30, R5-43, R5-70,
RR5-38; DECISIONS "Subscription versions").

Queries return versions of any status (R4-30.2), up to the Max_Subscriber_Query tunable; more matches
are refused with their count (R4-30.6). The actions are engine events with NPAC personnel as the
requester, so the version machine's table decides whether they are allowed, exactly as for a SOA
request, and the notifications and broadcasts follow from the commit.
"""
from __future__ import annotations

from typing import Any

from appliance.npac.events import NPAC_PERSONNEL, Cancel, RequestConflictResolution, Resend, SetConflict
from appliance.npac.model import Status
from appliance.npac.persist import load_tunables
from appliance.ops import personnel_args as arg
from appliance.ops.commands import Command, CommandError
from appliance.ops.npac_parts import refused_as_one_line
from appliance.store.versions import VERSIONS

STATUS_NAMES = {s.name.lower().replace("_", "-"): s for s in Status}
STATUS_NAMES.update({"failed": Status.DOWNLOAD_FAILED, "partial-failure": Status.DOWNLOAD_FAILED_PARTIAL})
_SHOWN = ("version_id", "tn", "status", "old_sp", "new_sp", "lrn", "lnp_type", "class_dpc", "class_ssn",
          "lidb_dpc", "lidb_ssn", "cnam_dpc", "cnam_ssn", "isvm_dpc", "isvm_ssn", "billing_id",
          "end_user_location_value", "end_user_location_type", "failed_sp_list", "porting_to_original")
_TIMES = ("new_sp_due_date_ms", "old_sp_due_date_ms", "creation_ms", "modified_ms", "activation_ms",
          "broadcast_ms", "conflict_ms", "cancellation_ms", "old_ms", "customer_disconnect_date_ms",
          "effective_release_date_ms")


def status_name(value: int) -> str:
    return Status(value).name.lower().replace("_", "-")


def version_view(row: dict[str, Any], full: bool = False) -> dict[str, Any]:
    out = {k: row[k] for k in _SHOWN if full or k in ("version_id", "tn", "status", "old_sp", "new_sp", "lrn")}
    out["status"] = status_name(row["status"])
    if full:
        out.update({k[:-3]: arg.iso(row[k]) for k in _TIMES})
    else:
        out["activation"] = arg.iso(row["activation_ms"])
    return out


def _statuses(value: Any) -> list[int]:
    wanted = arg.names(value, "status")
    for name in wanted:
        arg.choice(name, STATUS_NAMES, "status")
    return sorted({int(STATUS_NAMES[n]) for n in wanted})


async def sv_query(ctx: Any, session: Any, tn: Any = None, tn_start: Any = None, tn_stop: Any = None,
                   status: Any = None, sp_id: Any = None, lrn: Any = None, npa_nxx: Any = None
                   ) -> dict[str, Any]:
    """R4-24.1-R4-24.3, R4-27, R4-29 (TN, status, SP, LRN, NPA-NXX keys)."""
    where, params = [], []
    if tn:
        where.append("tn = ?")
        params.append(arg.tn(tn))
    if tn_start or tn_stop:
        start, stop = arg.tn(tn_start, "range start"), arg.tn(tn_stop, "range end")
        if stop < start:
            raise CommandError(f"TN range {start}-{stop} runs backwards")
        where.append("tn BETWEEN ? AND ?")
        params += [start, stop]
    if status:
        wanted = _statuses(status)
        where.append(f"status IN ({', '.join('?' for _ in wanted)})")
        params += wanted
    if sp_id:
        sp = arg.sp_id(sp_id)
        where.append("(new_sp = ? OR old_sp = ?)")
        params += [sp, sp]
    if lrn:
        where.append("lrn = ?")
        params.append(arg.lrn(lrn))
    if npa_nxx:
        where.append("substr(tn, 1, 6) = ?")
        params.append(arg.npa_nxx(npa_nxx))
    if not where:
        raise CommandError("give at least one search key: tn, range, status, sp, lrn or npa-nxx (R4-29)")
    store = ctx.store
    limit = load_tunables(store).max_subscriber_query
    rows = VERSIONS.where(store, " AND ".join(where), params, order_by="tn, version_id", limit=limit + 1)
    if len(rows) > limit:
        total = store.db.execute(f"SELECT count(*) FROM subscription_versions WHERE {' AND '.join(where)}",
                                 params).fetchone()[0]
        raise CommandError(f"{total} versions match, more than Max_Subscriber_Query {limit}: narrow the search "
                           "(R4-30.6)")
    return {"versions": [version_view(r) for r in rows], "count": len(rows)}


def _version(ctx: Any, version_id: Any) -> dict[str, Any]:
    vid = arg.integer(version_id, "version id", 1)
    row = VERSIONS.get(ctx.store, vid)
    if row is None:
        raise CommandError(f"no subscription version {vid} (R4-30.8: no data matched)")
    return row


async def sv_show(ctx: Any, session: Any, version_id: Any = None) -> dict[str, Any]:
    return version_view(_version(ctx, version_id), full=True)


async def _act(ctx: Any, version_id: Any, event: Any, operation: str) -> dict[str, Any]:
    row = _version(ctx, version_id)
    await refused_as_one_line(ctx.services.engine.submit(row["version_id"], event, operation))
    return version_view(VERSIONS.get(ctx.store, row["version_id"]))


async def sv_conflict(ctx: Any, session: Any, version_id: Any = None) -> dict[str, Any]:
    """R5-43: NPAC personnel put a pending, cancel-pending or CR-pending version into conflict."""
    return await _act(ctx, version_id, SetConflict(NPAC_PERSONNEL), "set-conflict")


async def sv_resolve(ctx: Any, session: Any, version_id: Any = None) -> dict[str, Any]:
    """R5-46, R5-50.1: NPAC personnel ask for conflict resolution (the version goes CR-pending)."""
    return await _act(ctx, version_id, RequestConflictResolution(NPAC_PERSONNEL), "conflict-resolution")


async def sv_cancel(ctx: Any, session: Any, version_id: Any = None) -> dict[str, Any]:
    """R5-70, DECISIONS: NPAC personnel cancel a pending, conflict, CR-pending or disconnect-pending one."""
    return await _act(ctx, version_id, Cancel(NPAC_PERSONNEL), "cancel")


async def sv_resend(ctx: Any, session: Any, version_id: Any = None, lsms: Any = None) -> dict[str, Any]:
    """RR5-38: a failed or partially failed version is sent again to the LSMSs that failed (all of its
    failed-SP list unless some are named; Exhibit K 7116 needs that list)."""
    row = _version(ctx, version_id)
    failed = list(row["failed_sp_list"] or [])
    named = [arg.sp_id(s, "LSMS") for s in arg.names(lsms, "LSMS list")] or failed
    if not named:
        raise CommandError(f"version {row['version_id']} has no failed LSMS to resend to (Exhibit K 7116)")
    stray = [s for s in named if s not in failed]
    if stray:
        raise CommandError(f"{', '.join(stray)} did not fail for version {row['version_id']}; failed: "
                           f"{', '.join(failed) or 'none'}")
    return await _act(ctx, row["version_id"], Resend(NPAC_PERSONNEL, tuple(named)), "resend")


def commands() -> list[Command]:
    return [
        Command("sv.query", sv_query, "read", "find subscription versions (R4-29)"),
        Command("sv.show", sv_show, "read", "one subscription version"),
        Command("sv.conflict", sv_conflict, "operate", "put a version into conflict (R5-43)"),
        Command("sv.resolve", sv_resolve, "operate", "ask for conflict resolution (R5-46)"),
        Command("sv.cancel", sv_cancel, "operate", "cancel a version (R5-70)"),
        Command("sv.resend", sv_resend, "operate", "resend to the failed LSMSs (RR5-38)"),
    ]
