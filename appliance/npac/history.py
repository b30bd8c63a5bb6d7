"""The subscription transaction history (FRS R5-6, L11374-11422) and the error log of refused requests.

Both are append-only JSON-lines files in the node's data directory (beside the store file):
`history.log` and `errors.log`. They are logs, not state: nothing in the NPAC reads them back to
decide anything, so they stay out of the store and its journal (which replicates state to the mate),
and appending never waits on the one writer.

- history: one record per version a committed request touched (engine.listeners): activity type,
  SP id, initial and new status, userid (the requesting system, or "npac"), LNP type, date and time,
  TN, status flag success, version id. A refused request is recorded too, flag fail (R5-6 "status
  flag (success/fail)"), with the version id when the request named one.
- error log: one record per refused request (engine.refusal_listeners): the refusal's cause, the
  CMIP error code and text.

Retention (FRS Table 11-4, DECISIONS: history one year, the others 90 days) is applied by
`housekeeping`, run daily by the timer runner through a persisted timer of kind `housekeeping`.
"""
from __future__ import annotations

import datetime as dt
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from appliance.npac.effects import StatusChanged
from appliance.npac.engine import Rejected, Submitted
from appliance.npac.model import LnpType, Status, SubscriptionVersion
from appliance.npac.tunables import Tunables
from appliance.npac.writer import Writer
from appliance.store.timers import TIMERS

HOUSEKEEPING = "housekeeping"  # timer kind
_JOBS: "WeakKeyDictionary[Any, dict[str, Callable[[], Any]]]" = WeakKeyDictionary()  # timer runner -> its jobs
DAY_MS = 86_400_000
NPAC_USER = "npac"


class History:
    def __init__(self, data_dir: str | Path, clock_ms: Callable[[], int], tunables: Callable[[], Tunables]):
        self.dir = Path(data_dir)
        self.history_path = self.dir / "history.log"
        self.error_path = self.dir / "errors.log"
        self.clock_ms = clock_ms
        self.tunables = tunables

    # ---- writing ---------------------------------------------------------------------------------
    def committed(self, outcome: Submitted) -> None:
        """engine.listeners: the versions the request acted on and every status it changed."""
        before = {e.version_id: e.before for e in outcome.effects if isinstance(e, StatusChanged)}
        now = {v.version_id: v for v in outcome.versions}
        ids = list(dict.fromkeys([*outcome.version_ids, *before]))
        records = []
        for version_id in ids:
            version = now.get(version_id)
            if version is None:
                continue
            initial = before[version_id] if version_id in before else version.status
            records.append(self._record(outcome.operation, outcome.requester, version.tn, version_id,
                                        _name(initial), _name(version.status), version.lnp_type, "success"))
        self._append(self.history_path, records)

    def personnel(self, activity: str, changed: list[tuple[SubscriptionVersion, SubscriptionVersion]]) -> None:
        """Changes NPAC personnel made outside the engine (mass update, NPA split): userid npac."""
        self._append(self.history_path, [
            self._record(activity, None, after.tn, after.version_id, _name(before.status), _name(after.status),
                         after.lnp_type, "success") for before, after in changed])

    def refused(self, operation: str, targets: list[str | int], exc: Rejected, requester: str | None) -> None:
        """engine.refusal_listeners: a fail record per target, and the error log entry."""
        now = self.clock_ms()
        self._append(self.history_path, [
            self._record(operation, requester, t if isinstance(t, str) else None, t if isinstance(t, int) else None,
                         None, None, None, "fail") for t in targets])
        self._append(self.error_path, [{
            "time_ms": now, "time": _iso(now), "activity": operation, "sp_id": requester,
            "userid": requester or NPAC_USER, "targets": targets, "cause": str(exc.cause), "code": exc.code,
            "text": exc.text}])

    def _record(self, operation: str, requester: str | None, tn: str | None, version_id: int | None,
                initial: str | None, new: str | None, lnp_type: Any, flag: str) -> dict[str, Any]:
        now = self.clock_ms()
        return {"time_ms": now, "date": _iso(now)[:10], "time": _iso(now)[11:], "activity": operation,
                "sp_id": requester, "userid": requester or NPAC_USER, "initial_status": initial,
                "new_status": new, "lnp_type": LnpType(lnp_type).name.lower() if lnp_type is not None else None,
                "tn": tn, "status_flag": flag, "version_id": version_id}

    @staticmethod
    def _append(path: Path, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, sort_keys=True) + "\n")

    # ---- reading and retention -------------------------------------------------------------------
    def history(self) -> list[dict[str, Any]]:
        return _read(self.history_path)

    def errors(self) -> list[dict[str, Any]]:
        return _read(self.error_path)

    def housekeeping(self) -> dict[str, int]:
        """Drop records older than their retention (history_retention / error_log_retention days);
        returns how many each log lost."""
        tunables, now = self.tunables(), self.clock_ms()
        return {"history": _prune(self.history_path, now - tunables.history_retention * DAY_MS),
                "errors": _prune(self.error_path, now - tunables.error_log_retention * DAY_MS)}


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _prune(path: Path, cutoff_ms: int) -> int:
    records = _read(path)
    kept = [r for r in records if r["time_ms"] >= cutoff_ms]
    if len(kept) != len(records):
        # a new file moved into place, so a crash mid-way leaves the old log whole
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept), encoding="utf-8")
        tmp.replace(path)
    return len(records) - len(kept)


def _name(status: Status | int | None) -> str | None:
    return Status(status).name.lower().replace("_", "-") if status is not None else None


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def install_history(services: Any) -> History:
    """Installer for NpacServices: listens to the engine, and runs `housekeeping` daily from the timer
    runner."""
    history = History(Path(services.store.path).parent, services.clock_ms, services.tunables)
    services.engine.listeners.append(history.committed)
    services.engine.refusal_listeners.append(history.refused)
    daily_job(services, "logs", history.housekeeping)
    return history


def daily_job(services: Any, name: str, job: Callable[[], Any]) -> None:
    """Run `job` (a function or coroutine function) once a day from the timer runner, on a persisted
    timer of kind `housekeeping` named `name`, so a restarted node carries on."""
    writer: Writer = services.writer
    jobs = _JOBS.setdefault(services.timers, {})
    jobs[name] = job

    async def fire(row: dict[str, Any]) -> None:
        result = jobs[row["target"]]()
        if inspect.isawaitable(result):
            await result
        due = row["due_ms"] + DAY_MS
        while due <= services.clock_ms():  # a node that was down runs it once, not once per missed day
            due += DAY_MS
        await writer.run(f"housekeeping {row['target']}", lambda tx: TIMERS.start(tx, HOUSEKEEPING, 0, due,
                                                                                   row["target"]))

    services.timers.on_kind(HOUSEKEEPING, fire)
    if TIMERS.get(services.store, {"kind": HOUSEKEEPING, "version_id": 0, "target": name}) is None:
        writer.run_now(f"housekeeping {name}", lambda tx: TIMERS.start(tx, HOUSEKEEPING, 0, tx.now_ms + DAY_MS, name))
