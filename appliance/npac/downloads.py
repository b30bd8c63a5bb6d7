"""What lnpDownload answers (flows 6.3.9.9, 6.4.12; GDMO L40436-40490): DownloadReply data chosen by
the criteria, read from the store. Pure functions of (reader, criteria, limits, now).

Readings:
- "Time range" is the time of last creation or modification (L40476); a range with neither bound
  is "all", one bound runs open to that side. start > stop is time-range-invalid; a bounded range
  longer than the maximum (RR6-9) or more records than the maximum (RR6-8) is criteria-to-large;
  nothing selected is no-data-selected (DownloadReply, L42382).
- Subscription data is each TN's current routing at the NPAC: its active, disconnect-pending or
  partially failed (non-disconnect) version, sent with reason download-request; a TN whose latest
  version was disconnected in the range is sent with reason delete1, so the LSMS drops it.
- Network data: the SPs (one or all), with their NPA-NXX and/or LRN records by range or all; in a
  time range an SP appears when it or one of its records changed in the range.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.lnp.values import lrn_digits, ms_of
from appliance.npac.lsms_wire import download_item, subscription_data
from appliance.npac.model import BroadcastKind, DownloadReason, Status, SubscriptionVersion
from appliance.npac.network_wire import network_item
from appliance.store.network import LRNS, NPA_NXX, SERVICE_PROVIDERS
from appliance.store.store import _Reads
from appliance.store.versions import VERSIONS

S = Status
SUCCESS, FAILED, TIME_RANGE_INVALID, TOO_LARGE, NO_DATA = (
    "success", "failed", "time-range-invalid", "criteria-to-large", "no-data-selected")
DAY_MS = 86_400_000
_DISCONNECTS = (BroadcastKind.DISCONNECT, BroadcastKind.PORT_TO_ORIGINAL)


@dataclass(frozen=True)
class DownloadLimits:
    """RR6-8 / RR6-9 are tunables without defaults in the FRS; these are the appliance's."""

    max_records: int = 10_000
    max_range_ms: int = 7 * DAY_MS


class Refused(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def _window(time_range: dict[str, str] | None, limits: DownloadLimits, now_ms: int) -> tuple[int, int] | None:
    if time_range is None:
        return None
    start = ms_of(time_range["startTime"]) if "startTime" in time_range else None
    stop = ms_of(time_range["stopTime"]) if "stopTime" in time_range else None
    if start is None and stop is None:
        return None  # "all"
    if start is not None and stop is not None:
        if start > stop:
            raise Refused(TIME_RANGE_INVALID)
        if stop - start > limits.max_range_ms:
            raise Refused(TOO_LARGE)
    return (start if start is not None else 0, stop if stop is not None else max(now_ms, start or 0))


def _in(window: tuple[int, int] | None, *stamps: int | None) -> bool:
    return window is None or any(s is not None and window[0] <= s <= window[1] for s in stamps)


def _reply(kind: str, items: list[Any], count: int, limits: DownloadLimits) -> dict[str, Any]:
    if count > limits.max_records:
        return {"status": TOO_LARGE}
    if not items:
        return {"status": NO_DATA}
    return {"status": SUCCESS, "download-data": {kind: items}}


def guarded(build: Any, *args: Any) -> dict[str, Any]:
    try:
        return build(*args)
    except Refused as exc:
        return {"status": exc.status}


# ---- subscription data -----------------------------------------------------------------------


def _current(versions: list[SubscriptionVersion]) -> tuple[SubscriptionVersion, DownloadReason] | None:
    """The TN's routing as an LSMS should hold it, or its deletion."""
    live = [v for v in versions if v.status in (S.ACTIVE, S.DISCONNECT_PENDING) or (
        v.status is S.DOWNLOAD_FAILED_PARTIAL and v.broadcast_kind not in _DISCONNECTS)]
    if live:
        return max(live, key=lambda v: v.version_id), DownloadReason.DOWNLOAD_REQUEST
    gone = [v for v in versions if (v.status is S.OLD and v.disconnect_complete_ms is not None) or (
        v.status is S.DOWNLOAD_FAILED_PARTIAL and v.broadcast_kind in _DISCONNECTS)]
    return (max(gone, key=lambda v: v.version_id), DownloadReason.DELETE) if gone else None


def _changed(v: SubscriptionVersion) -> tuple[int | None, ...]:
    return (v.modified_ms, v.activation_ms, v.broadcast_ms, v.disconnect_complete_ms, v.old_ms, v.creation_ms)


def subscription_download(reader: _Reads, criteria: dict[str, Any], limits: DownloadLimits,
                          now_ms: int) -> dict[str, Any]:
    """DownloadReply for SubscriptionDownloadCriteria (L43178): time-range, tn or tn-range."""
    ((which, value),) = criteria["criteria"].items()
    window = None
    if which == "tn":
        rows = VERSIONS.for_tn(reader, value)
    elif which == "tn-range":
        start, stop = value["tn-start"].ljust(10, "0"), value["tn-stop"].ljust(10, "9")
        if start > stop:
            return {"status": FAILED}
        rows = VERSIONS.where(reader, "tn BETWEEN ? AND ?", [start, stop], order_by="tn, version_id")
    else:
        window = _window(value, limits, now_ms)
        rows = VERSIONS.where(reader, "status IN (?, ?, ?, ?)", [int(S.ACTIVE), int(S.DISCONNECT_PENDING),
                                                               int(S.DOWNLOAD_FAILED_PARTIAL), int(S.OLD)],
                              order_by="tn, version_id")
    by_tn: dict[str, list[SubscriptionVersion]] = {}
    for row in rows:
        by_tn.setdefault(row["tn"], []).append(SubscriptionVersion.from_row(row))
    items = []
    for versions in by_tn.values():
        chosen = _current(versions)
        if chosen is None:
            continue
        v, reason = chosen
        if reason is DownloadReason.DELETE and window is None and which != "tn":
            continue  # a whole-range download only carries what the LSMS must hold
        if _in(window, *_changed(v)):
            items.append(download_item(v, reason) if reason is not DownloadReason.DELETE else {
                "subscription-version-id": v.version_id, "subscription-version-tn": v.tn,
                "subscription-data": subscription_data(v, reason)})
    return _reply("subscriber-data", items, len(items), limits)


# ---- network data ----------------------------------------------------------------------------


def _npa_nxx_range(value: dict[str, Any] | None) -> tuple[str, str] | None:
    if value is None:
        return None
    start, stop = value["start-npa-nxx"], value["stop-npa-nxx"]
    return start["npa-value"] + start["nxx-value"], stop["npa-value"] + stop["nxx-value"]


def network_download(reader: _Reads, criteria: dict[str, Any], limits: DownloadLimits,
                     now_ms: int) -> dict[str, Any]:
    """DownloadReply for NetworkDownloadCriteria (L42816)."""
    window = _window(criteria.get("time-range"), limits, now_ms) if "time-range" in criteria else None
    ((who, sp_id),) = criteria["chc1"].items()
    ((what, detail),) = criteria["chc2"].items()
    sps = SERVICE_PROVIDERS.live(reader)
    if who == "service-prov":
        sps = [sp for sp in sps if sp["sp_id"] == sp_id]
    want_npa_nxx, want_lrn = what in ("npa-nxx-data", "all-network-data"), what in ("lrn-data", "all-network-data")
    npa_range = _npa_nxx_range(detail.get("npa-nxx-range")) if what == "npa-nxx-data" else None
    lrn_range = None
    if what == "lrn-data" and "lrn-range" in detail:
        lrn_range = (lrn_digits(detail["lrn-range"]["start-lrn"]), lrn_digits(detail["lrn-range"]["stop-lrn"]))
    items, count = [], 0
    reason = DownloadReason.DOWNLOAD_REQUEST
    for sp in sps:
        npa = [r for r in NPA_NXX.of_sp(reader, sp["sp_id"]) if want_npa_nxx and _in(window, r["creation_ms"])
               and (npa_range is None or npa_range[0] <= r["value"] <= npa_range[1])]
        lrn = [r for r in LRNS.of_sp(reader, sp["sp_id"]) if want_lrn and _in(window, r["creation_ms"])
               and (lrn_range is None or lrn_range[0] <= r["value"] <= lrn_range[1])]
        sp_changed = what == "all-network-data" and _in(window, sp["created_ms"], sp["modified_ms"])
        if not (npa or lrn or sp_changed):
            continue
        count += 1 + len(npa) + len(lrn)
        items.append(network_item(sp, [(r, reason) for r in npa], [(r, reason) for r in lrn]))
    return _reply("network-data", items, count, limits)
