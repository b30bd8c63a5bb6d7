"""Broadcast of subscription versions to the Local SMSs: one round per `start`, per-LSMS state in
the broadcasts table, retries on the injected clock, and the round's outcome to `on_complete`.

A round (flows 6.4.1.6, 6.4.1.7, 6.4.1.11, 6.4.2; R5-57..R5-61, R5-68):
- `start` runs after the commit that decided the broadcast (R10-19: within 60 s; here at once).
  One transaction writes a `sending` row per LSMS (first send counted) and holds the update for
  LSMSs that are absent or recovering; then the live ones are sent to: M-CREATE, the
  subscriptionVersionLocalSMS-Create action (answered later by subscriptionVersionLocalSMS-
  ActionResults), a scoped M-SET by TN (modify) or a scoped M-DELETE by TN (disconnect).
- An LSMS that has not acknowledged is sent again each retry interval, up to the retry attempts
  (DECISIONS: first send + 3 resends, 2 minutes apart, App. C per operation); after the last
  interval it has failed (R5-60.8, R5-68.7). A held LSMS counts its attempts the same way; the
  recovery hand-over (`delivered_in`) settles it as succeeded when it comes in time.
- When every LSMS of the round has succeeded or failed, `on_complete(version, succeeded, failed)`
  receives this round's LSMSs (the machine adds earlier rounds' successes, RR5-38.7).
Retry due times derive from the rows (sends, last send), so `resume` after a restart or cutover
carries every unfinished round on.

A restarted or promoted node takes over (R10-19, Exhibit K: the activation time stamp means the
broadcast is complete): a `sending` row it did not write itself has no request behind it any more
(requests live in the process that sent them), so `resume` treats it as unanswered at once, as the
retry schedule would: the attempt is counted and the update resent to an LSMS that is live, or held
for one that is not, so its recovery delivers it. A row whose last allowed attempt is already spent
is not sent again; it is held for an absent LSMS and fails at the end of its interval as before.
Old rows are told from new ones by the broadcaster itself (`_sent_here`): one Broadcaster lives
exactly as long as one incarnation of the live services, so no epoch needs storing in the rows.
The recovery hand-over (`owed_to`, `delivered_in`) settles every unanswered row of the recovering
LSMS: held updates and unanswered sends go out in the lnpRecoveryComplete reply, and what its
lnpDownload already carried is settled without being sent twice.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from appliance.agent import NpacAgent, RequestContext
from appliance.lnp.values import decode_plain
from appliance.npac import lsms_wire
from appliance.npac.lsms_link import ACTION, LsmsLink
from appliance.npac.model import BROADCAST_OP, DOWNLOAD_REASON, BroadcastKind, BroadcastOp, Status, SubscriptionVersion
from appliance.npac.timers import RetryVerdict, broadcast_retry, retry_verdict
from appliance.npac.tunables import Tunables
from appliance.npac.wakeup import WakeLoop
from appliance.npac.writer import Writer, tx_after
from appliance.osi import cmip
from appliance.osi.errors import ProtocolError
from appliance.osi.transport import AssociationLost, CmipConnection, RemoteError
from appliance.store.broadcasts import BROADCASTS, FAILED, SENDING, SUCCEEDED
from appliance.store.store import Store, Tx, _Reads
from appliance.store.versions import VERSIONS

log = logging.getLogger("appliance.npac.broadcast")

OnComplete = Callable[[int, tuple[str, ...], tuple[str, ...]], Awaitable[None]]
KIND_OF_OP = {op: kind for kind, op in BROADCAST_OP.items() if kind is not BroadcastKind.PORT_TO_ORIGINAL}
ACTION_COUNTER = "lsms-action"  # id_counters sequence of LocalSMS-Create actionIds


@dataclass(frozen=True)
class Round:
    version_id: int
    operation: BroadcastOp
    kind: BroadcastKind
    lsms: frozenset[str]


def load_version(reader: _Reads, version_id: int) -> SubscriptionVersion | None:
    row = VERSIONS.get(reader, version_id)
    return SubscriptionVersion.from_row(row) if row else None


class Broadcaster:
    def __init__(self, writer: Writer, store: Store, agent: NpacAgent, clock_ms: Callable[[], int],
                 tunables: Callable[[], Tunables], on_complete: OnComplete, *, link: LsmsLink | None = None):
        self.writer = writer
        self.store = store
        self.agent = agent
        self.clock_ms = clock_ms
        self.tunables = tunables
        self.on_complete = on_complete
        self.link = link or LsmsLink(agent, store)
        self.rounds: dict[int, Round] = {}
        self.actions: dict[int, tuple[int, str]] = {}  # actionId -> (version, LSMS) awaiting ActionResults
        self._sent_here: set[tuple[int, str]] = set()  # (version, LSMS) rows this incarnation sent or took over
        self._tasks: set[asyncio.Future] = set()
        self.retries = WakeLoop("npac-broadcast-retries", self._retry_pass, log)
        self._closed = False
        agent.on_event("subscriptionVersionLocalSMS-ActionResults", self._action_results)

    # ---- the interface to the engine -------------------------------------------------------------
    def start(self, version_id: int, operation: BroadcastOp, lsms: tuple[str, ...] | None = None) -> None:
        """Begin a round now (call after the commit that decided it); None = every LSMS (R5-55)."""
        self._spawn(self._begin(version_id, BroadcastOp(operation), lsms))

    async def resume(self) -> None:
        """After restart or cutover: rebuild the unfinished rounds from the broadcasts table."""
        sending = {v.version_id: v for v in map(SubscriptionVersion.from_row,
                                                 VERSIONS.with_status(self.store, [Status.SENDING]))}
        for version_id, version in sending.items():
            rows = BROADCASTS.for_version(self.store, version_id)
            latest = max((r["first_sent_ms"] or 0 for r in rows), default=None)
            if latest is None or (version.broadcast_ms is not None and latest < version.broadcast_ms):
                # the round was decided but its rows never written: start it as the engine asked
                lsms = (version.failed_sp_list or None) if rows else None
                self.start(version_id, BROADCAST_OP[version.broadcast_kind or BroadcastKind.ACTIVATE], lsms)
                continue
            current = [r for r in rows if r["first_sent_ms"] == latest]
            operation = BroadcastOp(current[0]["operation"])
            rnd = Round(version_id, operation, self._kind(version, operation),
                        frozenset(r["lsms_sp_id"] for r in current))
            self.rounds[version_id] = rnd
            orphans = [r for r in current if r["state"] == SENDING
                       and (version_id, r["lsms_sp_id"]) not in self._sent_here]
            self._sent_here.update((version_id, r["lsms_sp_id"]) for r in orphans)
            if orphans:  # before the retry loop runs, so a row overdue anyway is not sent twice
                await self._take_over(rnd, orphans)
            else:
                self._spawn(self._maybe_finish(version_id))
        self._ensure_loop()

    async def _take_over(self, rnd: Round, rows: list[dict[str, Any]]) -> None:
        """Rows a previous incarnation left `sending`: unanswered now, under the retry rules."""
        tunables = self.tunables()
        for row in rows:
            lsms = row["lsms_sp_id"]
            timer = broadcast_retry(rnd.version_id, lsms, row["sends"], row["last_sent_ms"], rnd.kind, tunables)
            if retry_verdict(timer, rnd.kind, tunables) is RetryVerdict.RESEND:
                await self._resend(rnd, lsms)
            elif self.link.connection(lsms) is None:
                await self._hold_last(rnd, lsms)
        self._spawn(self._maybe_finish(rnd.version_id))

    async def _hold_last(self, rnd: Round, lsms: str) -> None:
        """No attempt left to count: the update waits in the hold queue for the rest of the interval."""
        version = load_version(self.store, rnd.version_id)
        if version is None:
            return

        def hold(tx: Tx) -> None:
            row = BROADCASTS.get(tx, {"version_id": rnd.version_id, "lsms_sp_id": lsms})
            if row is not None and row["state"] == SENDING and self.link.connection(lsms) is None:
                self._attempt(tx, lsms, version, rnd.operation)
        await self.writer.run(f"broadcast {rnd.operation} {rnd.version_id} held for {lsms}", hold)

    async def close(self) -> None:
        self._closed = True
        await self.retries.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def wake(self) -> None:
        """Look at the retry schedule again now (after the clock moved or an LSMS came back)."""
        self.retries.wake()

    def owed_to(self, reader: _Reads, lsms: str) -> list[dict[str, Any]]:
        """The unanswered rows of `lsms` (state sending), oldest send first: what it is owed."""
        rows = BROADCASTS.where(reader, "lsms_sp_id = ? AND state = ?", [lsms, SENDING])
        return sorted(rows, key=lambda r: (r["first_sent_ms"] or 0, r["version_id"]))

    def delivered_in(self, tx: Tx, lsms: str, version_ids: list[int]) -> None:
        """The recovery hand-over gave `lsms` these held versions: their rows succeed (in `tx`)."""
        settled = []
        for version_id in version_ids:
            row = BROADCASTS.get(tx, {"version_id": version_id, "lsms_sp_id": lsms})
            if row is not None and row["state"] == SENDING:
                BROADCASTS.settle(tx, version_id, lsms, SUCCEEDED)
                settled.append(version_id)
        for version_id in settled:
            tx_after(tx, lambda v=version_id: self._spawn(self._maybe_finish(v)))

    # ---- a round -------------------------------------------------------------------------------
    def _kind(self, version: SubscriptionVersion | None, operation: BroadcastOp) -> BroadcastKind:
        return version.broadcast_kind if version and version.broadcast_kind else KIND_OF_OP[operation]

    async def _begin(self, version_id: int, operation: BroadcastOp, lsms: tuple[str, ...] | None) -> None:
        version = load_version(self.store, version_id)
        if version is None:
            log.error("broadcast of version %s: no such version", version_id)
            return
        targets = tuple(dict.fromkeys(lsms if lsms is not None else self.link.subscription_lsms()))
        self.rounds[version_id] = Round(version_id, operation, self._kind(version, operation), frozenset(targets))
        sends: list[tuple[str, CmipConnection, int | None]] = []

        def record(tx: Tx) -> None:
            self._sent_here.update((version_id, sp) for sp in targets)
            for sp in targets:
                BROADCASTS.put(tx, {"version_id": version_id, "lsms_sp_id": sp, "operation": str(operation),
                                    "state": SENDING, "sends": 1, "first_sent_ms": tx.now_ms,
                                    "last_sent_ms": tx.now_ms, "result_ms": None})
                sends.extend(self._attempt(tx, sp, version, operation))
        await self.writer.run(f"broadcast {operation} {version_id}", record)
        for sp, conn, action_id in sends:
            self._send(version, operation, sp, conn, action_id)
        self._ensure_loop()
        if not targets:
            await self._maybe_finish(version_id)

    def _attempt(self, tx: Tx, lsms: str, version: SubscriptionVersion,
                 operation: BroadcastOp) -> list[tuple[str, CmipConnection, int | None]]:
        """One attempt, inside the transaction that counts it: hold, or plan the send."""
        conn = self.link.connection(lsms)
        if conn is None:
            already = any(e["version_id"] == version.version_id and e["operation"] == str(operation)
                          for e in self.link.held(tx, lsms))
            if not already:
                self.link.hold(tx, lsms, str(operation), {"tn": version.tn}, version.version_id)
            return []
        action = operation is BroadcastOp.CREATE and self.link.create_method(lsms, tx) == ACTION
        return [(lsms, conn, tx.next_id(ACTION_COUNTER) if action else None)]

    def _send(self, version: SubscriptionVersion, operation: BroadcastOp, lsms: str, conn: CmipConnection,
              action_id: int | None) -> None:
        reason = DOWNLOAD_REASON[operation]
        try:
            if action_id is not None:
                self.actions[action_id] = (version.version_id, lsms)
                answer = self.agent.send_request_with(
                    conn, lsms_wire.local_sms_create(lsms, [version], action_id, reason))
            else:
                answer = self.agent.send_request(conn, _REQUESTS[operation](lsms, version, reason))
        except AssociationLost:
            return  # an attempt all the same: the retry schedule sends again
        self._spawn(self._answered(version.version_id, lsms, operation, answer, action_id))

    async def _answered(self, version_id: int, lsms: str, operation: BroadcastOp, answer: Awaitable[Any],
                        action_id: int | None) -> None:
        try:
            outcome = await answer
        except RemoteError as exc:
            # an M-CREATE of a version the LSMS already holds did what it was for
            if not (operation is BroadcastOp.CREATE and exc.error is not None
                    and exc.error.error_code == cmip.DUPLICATE_MANAGED_OBJECT_INSTANCE):
                log.info("LSMS %s refused version %s: %s", lsms, version_id, exc)
                return
            outcome = None
        except (AssociationLost, asyncio.TimeoutError) as exc:
            log.info("LSMS %s did not answer version %s: %s", lsms, version_id, exc)
            return
        if action_id is not None:
            if not _accepted(outcome):
                self.actions.pop(action_id, None)
            return  # success only says the LSMS can decode it: the results notification decides
        if outcome is None or lsms_wire.succeeded(outcome):
            await self._settle(version_id, lsms, SUCCEEDED)

    def _action_results(self, ctx: RequestContext) -> Any:
        """Flow 6.4.1.7 f-g: the LSMS reports the creates of one LocalSMS-Create action."""
        try:
            info = decode_plain("LocalSMS-ActionResults", ctx.request.event_info)
        except (ProtocolError, TypeError):
            return cmip.CmipError(cmip.INVALID_ARGUMENT_VALUE, cmip.InvalidArgumentValue(
                "event", ctx.request.event_type, ctx.request.event_info))
        pending = self.actions.get(info["actionId"])
        if pending is not None and pending[1] == ctx.system_id:
            del self.actions[info["actionId"]]
            version_id, lsms = pending
            failed = {f["subscriptionVersionId"] for f in info.get("failed-tn-list", [])}
            if info["status"] == "success" and version_id not in failed:
                self._spawn(self._settle(version_id, lsms, SUCCEEDED))
        return cmip.EventReportResult()

    async def _settle(self, version_id: int, lsms: str, state: str) -> None:
        def settle(tx: Tx) -> bool:
            row = BROADCASTS.get(tx, {"version_id": version_id, "lsms_sp_id": lsms})
            if row is None or row["state"] != SENDING:
                return False
            BROADCASTS.settle(tx, version_id, lsms, state)
            return True
        if await self.writer.run(f"broadcast {version_id} {state} at {lsms}", settle):
            await self._maybe_finish(version_id)

    async def _maybe_finish(self, version_id: int) -> None:
        rnd = self.rounds.get(version_id)
        if rnd is None:
            return
        rows = [r for r in BROADCASTS.for_version(self.store, version_id) if r["lsms_sp_id"] in rnd.lsms]
        if any(r["state"] == SENDING for r in rows):
            return
        del self.rounds[version_id]
        succeeded = tuple(r["lsms_sp_id"] for r in rows if r["state"] == SUCCEEDED)
        failed = tuple(r["lsms_sp_id"] for r in rows if r["state"] == FAILED)
        await self.on_complete(version_id, succeeded, failed)

    # ---- retries -------------------------------------------------------------------------------
    def _ensure_loop(self) -> None:
        if not self._closed:
            self.retries.start()
        self.wake()

    async def _retry_pass(self) -> float | None:
        delay = await self._retry_due()
        return None if delay is None else delay / 1000

    async def _retry_due(self) -> int | None:
        """Resend or give up what is due; the milliseconds until the next due time (None: none)."""
        while True:
            now, tunables = self.clock_ms(), self.tunables()
            due, next_due = [], None
            for rnd in list(self.rounds.values()):
                for row in BROADCASTS.outstanding(self.store, rnd.version_id):
                    if row["lsms_sp_id"] not in rnd.lsms:
                        continue
                    timer = broadcast_retry(rnd.version_id, row["lsms_sp_id"], row["sends"], row["last_sent_ms"],
                                            rnd.kind, tunables)
                    if timer.due_ms <= now:
                        due.append((rnd, timer))
                    else:
                        next_due = timer.due_ms if next_due is None else min(next_due, timer.due_ms)
            if not due:
                return None if next_due is None else next_due - now
            for rnd, timer in due:
                if retry_verdict(timer, rnd.kind, tunables) is RetryVerdict.GIVE_UP:
                    await self._settle(rnd.version_id, timer.target, FAILED)
                else:
                    await self._resend(rnd, timer.target)

    async def _resend(self, rnd: Round, lsms: str) -> None:
        version = load_version(self.store, rnd.version_id)
        if version is None:  # purged meanwhile: nothing left to send
            await self._settle(rnd.version_id, lsms, FAILED)
            return
        sends: list[tuple[str, CmipConnection, int | None]] = []

        def record(tx: Tx) -> None:
            self._sent_here.add((rnd.version_id, lsms))
            BROADCASTS.sent(tx, rnd.version_id, lsms, str(rnd.operation))
            sends.extend(self._attempt(tx, lsms, version, rnd.operation))
        await self.writer.run(f"broadcast {rnd.operation} {rnd.version_id} resend to {lsms}", record)
        for sp, conn, action_id in sends:
            self._send(version, rnd.operation, sp, conn, action_id)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("broadcast task failed", exc_info=task.exception())


def _accepted(outcome: Any) -> bool:
    """LocalSMS-CreateReply (L42582) says success: the LSMS could decode the action."""
    reply = getattr(outcome.result, "reply_info", None) if outcome is not None else None
    try:
        return reply is not None and decode_plain("LocalSMS-CreateReply", reply) == "success"
    except ProtocolError:
        return False


_REQUESTS: dict[BroadcastOp, Callable[[str, SubscriptionVersion, Any], Any]] = {
    BroadcastOp.CREATE: lsms_wire.create_request,
    BroadcastOp.MODIFY: lsms_wire.modify_request,
    BroadcastOp.DELETE: lambda lsms, v, reason: lsms_wire.delete_request(lsms, v.tn),
}
