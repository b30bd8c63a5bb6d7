"""The NPAC engine: every subscription-version request and internal event, as one writer transaction.

`submit(tn_or_version, event)` loads the TN's versions, steps the machine (`versions.step_tn`),
commits what it decided (`persist.commit`) and writes the notifications it owes into the durable
outbox, all in one transaction with its journal row. Only after the commit do the notifier wake and
the broadcasts start (ARCHITECTURE "never sent before commit"). A refusal commits nothing and comes
back as `Rejected`, carrying the CMIP error the IIS names for the operation (`errors`).

The broadcaster (the LSMS side, built elsewhere) is any object with `start(version_id, operation,
lsms)`; it calls `broadcast_complete(version_id, succeeded, failed)` when a round ends.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from appliance.agent import NpacAgent
from appliance.npac import notices
from appliance.npac.effects import (
    AlertAdministrator, AnnounceNpaNxx, Broadcast, Effect, Notify, NotifyDonor, StatusChanged,
)
from appliance.npac.errors import WRONG_STATUS, describe, error_code
from appliance.npac.events import BroadcastComplete
from appliance.npac.guards import Context, Network, Refusal, Refused, Reply
from appliance.npac.model import BroadcastOp, SubscriptionVersion
from appliance.npac.notifier import LSMS_FUNCTION, SOA_FUNCTION, Notifier
from appliance.npac.persist import commit, load_tn, load_tunables
from appliance.npac.versions import TABLE, locate, step_tn
from appliance.npac.writer import Writer, tx_after
from appliance.store.network import LRNS, NPA_NXX, SERVICE_PROVIDERS
from appliance.store.outbox import OUTBOX
from appliance.store.store import Store, Tx, _Reads
from appliance.store.versions import VERSIONS

log = logging.getLogger("appliance.npac.engine")
V = SubscriptionVersion
_RULES = {(rule.source, rule.event) for rule in TABLE}


class BroadcasterLike(Protocol):
    def start(self, version_id: int, operation: BroadcastOp, lsms: tuple[str, ...] | None) -> Any: ...


class Rejected(Exception):
    """A refused request: nothing was committed. `code` is the CMIP error for the operation."""

    def __init__(self, refusal: Refusal, cause: str, code: int):
        super().__init__(describe(refusal))
        self.refusal = refusal
        self.cause = cause
        self.code = code
        self.text = describe(refusal)


@dataclass(frozen=True)
class Submitted:
    """What one committed request did."""

    version_ids: tuple[int, ...]  # the versions it acted on or created, in request order
    versions: tuple[V, ...]  # every version of the TNs after the step
    effects: tuple[Effect, ...]
    sequence: int | None  # its journal row
    operation: str = ""  # what was asked (the transaction history's activity type, R5-6)
    requester: str | None = None  # the SP that asked; None for NPAC personnel and the NPAC itself


Check = Callable[[V | None], Refusal | None]


# ---- network data, read lazily inside the transaction ---------------------------------------------


class _Lookup(Mapping[str, Any]):
    """A read-only mapping answered by one query per key (the guards consult one or two keys)."""

    def __init__(self, find: Callable[[str], Any]):
        self._find = find

    def __getitem__(self, key: str) -> Any:
        value = self._find(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class _Ported:
    def __init__(self, reader: _Reads):
        self._reader = reader

    def __contains__(self, npa_nxx: object) -> bool:
        row = NPA_NXX.by_value(self._reader, str(npa_nxx))
        return bool(row and row["ported"])


def network_of(reader: _Reads) -> Network:
    def npa_nxx(field: str) -> _Lookup:
        return _Lookup(lambda value: (NPA_NXX.by_value(reader, value) or {}).get(field))

    return Network(
        providers=frozenset(sp["sp_id"] for sp in SERVICE_PROVIDERS.live(reader)),
        lrn_owner=_Lookup(lambda value: (LRNS.by_value(reader, value) or {}).get("sp_id")),
        npa_nxx_owner=npa_nxx("sp_id"), npa_nxx_effective_ms=npa_nxx("effective_ms"),
        ported_npa_nxx=_Ported(reader),  # type: ignore[arg-type]
    )


def sp_names(reader: _Reads, sps: tuple[str, ...]) -> dict[str, str]:
    return {sp: (SERVICE_PROVIDERS.get(reader, sp) or {}).get("name") or sp for sp in sps}


# ---- the engine ------------------------------------------------------------------------------------


class Engine:
    def __init__(self, store: Store, writer: Writer, agent: NpacAgent, clock_ms: Callable[[], int],
                 broadcaster: BroadcasterLike | None = None, notifier: Notifier | None = None):
        self.store = store
        self.writer = writer
        self.agent = agent
        self.clock_ms = clock_ms
        self.broadcaster = broadcaster
        self.notifier = notifier or Notifier(store, writer, agent, clock_ms)
        self.listeners: list[Callable[[Submitted], None]] = []  # told of every commit (timers, metering)
        # told of every refused request (operation, targets, refusal, requester): the error log
        self.refusal_listeners: list[Callable[[str, list[str | int], Rejected, str | None], None]] = []

    async def submit(self, tn_or_version: str | int, event: Any, operation: str = "", check: Check | None = None
                     ) -> Submitted:
        """Apply `event` to the version `tn_or_version` names (a version id), or to the TN's versions."""
        return await self.submit_many([tn_or_version], lambda _: event, operation, check)

    async def submit_many(self, targets: list[str | int], make_event: Callable[[str | int], Any],
                          operation: str = "", check: Check | None = None) -> Submitted:
        """One event per target, all or nothing in one transaction (a TN range, R5-5)."""
        note = f"{operation or 'event'} {targets[0]}" + (f"..{targets[-1]}" if len(targets) > 1 else "")
        try:
            tx, outcome = await self.writer.run(note, lambda tx: self._apply(tx, targets, make_event, operation, check))
        except Rejected as exc:
            for listener in self.refusal_listeners:
                listener(operation, list(targets), exc, _requester(make_event, targets))
            raise
        return dataclasses.replace(outcome, sequence=tx.sequence)

    async def broadcast_complete(self, version_id: int, succeeded: tuple[str, ...], failed: tuple[str, ...]) -> None:
        """A broadcast round ended (R5-60.9, R5-68.6): the version leaves sending (T16-T21)."""
        try:
            await self.submit(version_id, BroadcastComplete(tuple(succeeded), tuple(failed)), "broadcast-complete")
        except Rejected as exc:
            log.error("broadcast outcome for version %s refused: %s", version_id, exc.text)

    # ---- inside the transaction ------------------------------------------------------------------
    def _apply(self, tx: Tx, targets: list[str | int], make_event: Callable[[str | int], Any], operation: str,
               check: Check | None) -> tuple[Tx, Submitted]:
        tunables, network = load_tunables(tx), network_of(tx)
        touched: list[int] = []
        versions: list[V] = []
        effects: list[Effect] = []
        for target in targets:
            tn, version_id = self._tn_of(tx, target, operation)
            before = load_tn(tx, tn)
            event = make_event(target)
            next_id = self._peek_id(tx)
            ctx = Context(tx.now_ms, tunables, network, next_version_id=next_id)
            subject = self._subject(before, event, version_id)
            try:
                after, step_effects = step_tn(before, event, ctx, version_id)
            except Refused as exc:
                raise self._rejected(exc.refusal, operation, subject, event) from None
            # an operation's own rule, checked once the machine has accepted the requester
            problem = check(subject) if check is not None else None
            if problem is not None:
                raise self._rejected(problem, operation)
            if any(v.version_id == next_id for v in after):
                VERSIONS.next_id(tx)  # R5-5: the id is taken only when a version was created
            commit(tx, before, after, step_effects)
            self._record(tx, before, after, step_effects)
            touched.extend(self._acted_on(subject, before, after))
            versions.extend(after)
            effects.extend(step_effects)
        outcome = Submitted(tuple(dict.fromkeys(touched)), tuple(versions), tuple(effects), None, operation,
                            _requester(make_event, targets))
        tx_after(tx, lambda: self._after_commit(outcome))
        return tx, outcome

    def _tn_of(self, reader: _Reads, target: str | int, operation: str) -> tuple[str, int | None]:
        if isinstance(target, int):
            row = VERSIONS.get(reader, target)
            if row is None:
                raise self._rejected(Refusal(Reply.NO_VERSION_FOUND, "R5-26 R5-35", f"no version {target}"), operation)
            return row["tn"], target
        return target, None

    @staticmethod
    def _peek_id(reader: _Reads) -> int:
        row = reader.get("id_counters", VERSIONS.counter)
        return (row["value"] if row else 0) + 1

    @staticmethod
    def _subject(before: tuple[V, ...], event: Any, version_id: int | None) -> V | None:
        try:
            return locate(before, event, version_id)
        except Refused:
            return None

    def _rejected(self, refusal: Refusal, operation: str, subject: V | None = None, event: Any = None) -> Rejected:
        cause: str = refusal.reply
        if subject is not None and event is not None and (subject.status, event.kind) not in _RULES:
            cause = WRONG_STATUS
        return Rejected(refusal, cause, error_code(operation, cause))

    @staticmethod
    def _acted_on(subject: V | None, before: tuple[V, ...], after: tuple[V, ...]) -> list[int]:
        known = {v.version_id for v in before}
        created = [v.version_id for v in after if v.version_id not in known]
        return ([subject.version_id] if subject is not None and not created else []) + created

    def _record(self, tx: Tx, before: tuple[V, ...], after: tuple[V, ...], effects: tuple[Effect, ...]) -> None:
        """The outbox rows of the step, in effect order (old SP before new SP: `parties`)."""
        was = {v.version_id: v for v in before}
        now = {v.version_id: v for v in after}
        for effect in effects:
            if isinstance(effect, Notify):
                version = now[effect.version_id]
                failed = sp_names(tx, effect.failed_sps)
                for recipient in effect.recipients:
                    OUTBOX.enqueue(tx, recipient, SOA_FUNCTION, effect.notification, effect.version_id,
                                   notices.payload(effect.notification, version, was.get(effect.version_id), failed))
            elif isinstance(effect, NotifyDonor):
                donor = (NPA_NXX.by_value(tx, effect.tn[:6]) or {}).get("sp_id")
                if donor is None:
                    log.error("no donor for %s: disconnect date not sent (RR5-25.2)", effect.tn)
                    continue
                OUTBOX.enqueue(tx, donor, SOA_FUNCTION, "subscriptionVersionDonorSP-CustomerDisconnectDate",
                               effect.version_id, notices.donor_payload(
                                   effect.version_id, effect.tn, effect.customer_disconnect_date_ms,
                                   effect.effective_release_date_ms, tx.now_ms))
            elif isinstance(effect, AnnounceNpaNxx):
                self._announce(tx, effect)

    @staticmethod
    def _announce(tx: Tx, effect: AnnounceNpaNxx) -> None:
        """RR5-3: the NPA-NXX is now ported; every LSMS taking downloads hears of it (L41780)."""
        row = NPA_NXX.by_value(tx, effect.npa_nxx)
        if row is None:
            return
        NPA_NXX.put(tx, {"npa_nxx_id": row["npa_nxx_id"], "ported": True})
        for lsms in SERVICE_PROVIDERS.lsms_receiving_downloads(tx):
            OUTBOX.enqueue(tx, lsms, LSMS_FUNCTION, notices.NEW_NPA_NXX, effect.version_id,
                           notices.npa_nxx_payload(effect.version_id, row["npa_nxx_id"], effect.npa_nxx))

    # ---- after the commit ------------------------------------------------------------------------
    def _after_commit(self, outcome: Submitted) -> None:
        self.notifier.wake()
        for listener in self.listeners:
            listener(outcome)
        for effect in outcome.effects:
            if isinstance(effect, Broadcast):
                if self.broadcaster is None:
                    log.error("no broadcaster: version %s stays sending", effect.version_id)
                else:
                    self.broadcaster.start(effect.version_id, effect.operation, effect.lsms)
            elif isinstance(effect, AlertAdministrator):
                log.warning("NPAC SMS administrator: version %s %s at %s", effect.version_id, effect.reason,
                            ", ".join(effect.lsms), extra={"version_id": effect.version_id, "lsms": effect.lsms})
            elif isinstance(effect, StatusChanged):
                log.info("version %s (%s) %s -> %s by %s", effect.version_id, effect.tn,
                         effect.before.name if effect.before is not None else "-", effect.after.name,
                         effect.transition)


def _requester(make_event: Callable[[str | int], Any], targets: list[str | int]) -> str | None:
    """The SP an event names as its requester (`by`), if any."""
    by = getattr(make_event(targets[0]), "by", None) if targets else None
    return getattr(by, "sp", None)
