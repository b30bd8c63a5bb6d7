"""Bulk data download files (FRS R3-8, R3-14..R3-17; Exhibit K "Download File Examples", seed
L94202-94760): what an LSMS loads after a disaster or compares against, written by NPAC personnel
for a service provider, a time range and NPA-NXXs.

Format (Exhibit K): fields are variable length and pipe-delimited, a carriage return ends each record.
- Subscription file `NPANXX-NPANXX.DD-MM-YYYYHHMMSS`, one NPA-NXX per file ("files available for LSMS
  compares will be defined as one NPA-NXX per file", L94246). Fields (Table 2): version id (10 digits),
  TN, LRN, new current SP, activation time stamp, then field 6 (missing from Table 2; R3-8 lists
  Version Status in that place, so the status number), CLASS DPC/SSN, LIDB DPC/SSN, ISVM DPC/SSN,
  CNAM DPC/SSN, end-user location value and type, billing id, LNP type, download reason.
- `SPID.DD-MM-YYYYHHMMSS`: SP id | SP name (Table 3).
- `NPANXX.DD-MM-YYYYHHMMSS`: SP id | NPA-NXX id | NPA-NXX as "303-123" | creation | effective |
  download reason (Table 4).
- `LRN.DD-MM-YYYYHHMMSS`: SP id | LRN id | LRN | creation | download reason (Table 5).
Time stamps are yyyymmddhhmmss GMT. The printed examples end some records with a stray "|" and one
time stamp has 16 digits (L94750); the tables, not those typos, are followed here.

A subscription file holds each TN's current routing: active and disconnect-pending versions, and a
partially failed one (DECISIONS: it is the TN's routing for queries).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from appliance.npac.model import DownloadReason, Status
from appliance.ops import personnel_args as arg
from appliance.ops.commands import Command, CommandError
from appliance.store.network import LRNS, NPA_NXX, SERVICE_PROVIDERS
from appliance.store.versions import VERSIONS

CR = "\r"
KINDS = ("subscriptions", "sp", "npanxx", "lrn", "network", "all")
CURRENT_ROUTING = (int(Status.ACTIVE), int(Status.DISCONNECT_PENDING), int(Status.DOWNLOAD_FAILED_PARTIAL))
SUBSCRIPTION_FIELDS = ("version_id", "tn", "lrn", "new_sp", "activation_ms", "status", "class_dpc", "class_ssn",
                       "lidb_dpc", "lidb_ssn", "isvm_dpc", "isvm_ssn", "cnam_dpc", "cnam_ssn",
                       "end_user_location_value", "end_user_location_type", "billing_id", "lnp_type",
                       "download_reason")


def file_stamp(ms: int) -> str:
    """DD-MM-YYYYHHMMSS (L94238)."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).strftime("%d-%m-%Y%H%M%S")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    text = str(int(value)) if isinstance(value, bool) else str(value)
    if "|" in text or CR in text or "\n" in text:
        raise CommandError(f"value {text!r} cannot be written in a pipe-delimited file")
    return text


def subscription_record(row: Mapping[str, Any]) -> str:
    values = []
    for name in SUBSCRIPTION_FIELDS:
        value = row.get(name)
        if name == "version_id":
            value = f"{int(value):010d}"
        elif name == "activation_ms":
            value = arg.gmt14(value)
        elif name == "download_reason" and value is None:
            value = int(DownloadReason.NEW)
        values.append(_plain(value))
    return "|".join(values)


def sp_record(row: Mapping[str, Any]) -> str:
    return f"{_plain(row['sp_id'])}|{_plain(row['name'])}"


def npa_nxx_record(row: Mapping[str, Any]) -> str:
    value = row["value"]
    return "|".join((_plain(row["sp_id"]), str(row["npa_nxx_id"]), f"{value[:3]}-{value[3:]}",
                     arg.gmt14(row["creation_ms"]), arg.gmt14(row["effective_ms"]), str(int(DownloadReason.NEW))))


def lrn_record(row: Mapping[str, Any]) -> str:
    return "|".join((_plain(row["sp_id"]), str(row["lrn_id"]), row["value"], arg.gmt14(row["creation_ms"]),
                     str(int(DownloadReason.NEW))))


def file_text(records: Iterable[str]) -> str:
    return "".join(r + CR for r in records)


def read_records(text: str) -> list[list[str]]:
    """The records of a download file, each as its fields (what an LSMS loading the file does)."""
    return [record.split("|") for record in text.split(CR) if record]


def _in_range(ms: int | None, start: int | None, stop: int | None) -> bool:
    if start is None and stop is None:
        return True
    return ms is not None and (start is None or ms >= start) and (stop is None or ms <= stop)


class _Files:
    def __init__(self, directory: Path, stamp: str):
        self.directory = directory
        self.stamp = stamp
        self.written: list[dict[str, Any]] = []

    def write(self, name: str, kind: str, records: list[str]) -> None:
        path = self.directory / f"{name}.{self.stamp}"
        try:
            path.write_text(file_text(records), encoding="ascii", newline="")
        except (OSError, UnicodeEncodeError) as exc:
            raise CommandError(f"Bulk Download - file error (Exhibit K 5007): {path}: "
                               f"{getattr(exc, 'strerror', None) or exc}") from None
        self.written.append({"kind": kind, "path": str(path), "records": len(records)})


async def bulk_download(ctx: Any, session: Any, kind: Any = "all", sp_id: Any = None, start: Any = None,
                        stop: Any = None, npa_nxx_start: Any = None, npa_nxx_end: Any = None,
                        directory: Any = None) -> dict[str, Any]:
    """R3-8 / R3-17: download files by SP, time range (activation time for subscriptions, creation time
    for network data) and NPA-NXX range, into `directory` (default <data_dir>/bulk)."""
    what = arg.choice(kind or "all", KINDS, "kind")
    sp = arg.sp_id(sp_id) if sp_id else None
    t0 = arg.when_ms(start, "start time") if start else None
    t1 = arg.when_ms(stop, "stop time") if stop else None
    if t0 is not None and t1 is not None and t1 < t0:
        raise CommandError("Bulk Download - invalid criteria specified (Exhibit K 5006): the time range runs backwards")
    low = arg.npa_nxx(npa_nxx_start, "first NPA-NXX") if npa_nxx_start else "000000"
    high = arg.npa_nxx(npa_nxx_end, "last NPA-NXX") if npa_nxx_end else (low if npa_nxx_start else "999999")
    if high < low:
        raise CommandError("Bulk Download - invalid criteria specified (Exhibit K 5006): the NPA-NXX range runs "
                           "backwards")
    target = Path(str(directory)) if directory else ctx.data_dir / "bulk"
    if not target.is_absolute():
        raise CommandError(f"directory {target} must be an absolute path")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"Bulk Download - file error (Exhibit K 5007): {target}: {exc.strerror or exc}") from None
    store = ctx.store
    files = _Files(target, file_stamp(ctx.clock_ms()))
    if sp is not None and SERVICE_PROVIDERS.get(store, sp) is None:
        raise CommandError(f"Bulk Download - invalid criteria specified (Exhibit K 5006): no service provider {sp}")

    def of_sp(rows: list[dict[str, Any]], key: str = "sp_id") -> list[dict[str, Any]]:
        return [r for r in rows if sp is None or r[key] == sp]

    if what in ("subscriptions", "all"):
        marks = ", ".join("?" for _ in CURRENT_ROUTING)
        rows = VERSIONS.where(store, f"status IN ({marks}) AND substr(tn, 1, 6) BETWEEN ? AND ?",
                              [*CURRENT_ROUTING, low, high], order_by="tn, version_id")
        by_npa_nxx: dict[str, list[str]] = {}
        for row in of_sp(rows, "new_sp"):
            if _in_range(row["activation_ms"], t0, t1):
                by_npa_nxx.setdefault(row["tn"][:6], []).append(subscription_record(row))
        for value, records in sorted(by_npa_nxx.items()):
            files.write(f"{value}-{value}", "subscriptions", records)
    if what in ("sp", "network", "all"):
        rows = [r for r in of_sp(SERVICE_PROVIDERS.live(store)) if _in_range(r["created_ms"], t0, t1)]
        if rows:
            files.write("SPID", "sp", [sp_record(r) for r in sorted(rows, key=lambda r: r["sp_id"])])
    if what in ("npanxx", "network", "all"):
        rows = [r for r in of_sp(NPA_NXX.all(store)) if low <= r["value"] <= high
                and _in_range(r["creation_ms"], t0, t1)]
        if rows:
            files.write("NPANXX", "npanxx", [npa_nxx_record(r) for r in sorted(rows, key=lambda r: r["value"])])
    if what in ("lrn", "network", "all"):
        rows = [r for r in of_sp(LRNS.all(store)) if _in_range(r["creation_ms"], t0, t1)]
        if rows:
            files.write("LRN", "lrn", [lrn_record(r) for r in sorted(rows, key=lambda r: r["value"])])
    if not files.written:
        raise CommandError("no data matched the download criteria (R4-26.1); no file written")
    return {"directory": str(target), "files": files.written}


def commands() -> list[Command]:
    return [Command("bulk.download", bulk_download, "operate", "write Exhibit K bulk download files (R3-8)")]
