"""The store: WAL and synchronous=FULL, migrations from an empty file, one journal row per
transaction (and none, with no state, when the transaction fails), replica replay (identical tables,
idempotent), restart persistence of versions and timers (ARCHITECTURE "Store and replication")."""
from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest
from hypothesis import given, settings, strategies as st
from sqlite_utils import Database

from appliance.lnp.oids import OIDS
from appliance.npac import persist
from appliance.npac.effects import Purge, StartTimer
from appliance.npac.events import Activate, BroadcastComplete, Disconnect, Modify
from appliance.npac.model import Status, SubscriptionVersion
from appliance.npac.timers import TimerKind, schedule
from appliance.npac.tunables import Tunables
from appliance.store import Delete, JournalError, JournalRow, Store, StoreError, Upsert
from appliance.store.audits import AUDITS
from appliance.store.broadcasts import BROADCASTS, FAILED, HOLD_QUEUE, SUCCEEDED
from appliance.store.migrations import LATEST, MIGRATIONS, migrate
from appliance.store.network import LRNS, NPA_NXX, SERVICE_PROVIDERS
from appliance.store.schema import GDMO_COLUMNS, TABLES
from appliance.store.timers import TIMERS
from appliance.store.versions import VERSIONS
from tests.test_npac_versions import D, LSMS, NEW, OLD, T0, TN, Port, active, pending, soa

S = Status


class Clock:
    def __init__(self, now: int = T0):
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "primary.db", clock=Clock())
    yield s
    s.close()


def journal_count(store: Store) -> int:
    return store.db.execute("SELECT count(*) FROM journal").fetchone()[0]


def add_sp(tx, sp_id: str, name: str, functions=("soa-mgmt", "lsms-data-download")):
    return SERVICE_PROVIDERS.put(tx, {"sp_id": sp_id, "name": name, "system_type": 2,
                                      "allowable_functions": list(functions), "created_ms": tx.now_ms})


# --- the file -------------------------------------------------------------------------------------

def test_wal_mode_and_synchronous_full(store, tmp_path):
    assert store.journal_mode == "wal" and store.synchronous == 2  # FULL
    assert (tmp_path / "primary.db-wal").exists()


def test_migrations_build_every_table_from_an_empty_file(tmp_path):
    with Store(tmp_path / "empty.db", clock=Clock()) as s:
        assert s.schema_versions == [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))
        for name, table in TABLES.items():
            assert [c.name for c in s.db[name].columns] == list(table.names)
            assert s.db[name].pks == list(table.pk)
        indexes = {i.name for i in s.db["subscription_versions"].indexes}
        assert {"idx_subscription_versions_tn", "idx_subscription_versions_status"} <= indexes
        assert s.db["npa_nxx"].indexes and any(i.unique for i in s.db["npa_nxx"].indexes)


def test_an_older_file_gets_the_missing_migrations(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    assert migrate(db, T0, upto=1) == [1]
    assert not db["subscription_versions"].indexes
    db.close()
    with Store(path, clock=Clock()) as s:
        assert s.schema_versions == list(range(1, LATEST + 1)) and s.db["subscription_versions"].indexes
    with Store(path, clock=Clock()) as s:  # nothing left to do
        assert migrate(s.db, T0) == []


def test_a_file_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "new.db"
    Store(path, clock=Clock()).close()
    db = Database(path)
    db["schema_version"].insert({"version": LATEST + 1, "name": "future", "applied_ms": T0})
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        Store(path, clock=Clock())


def test_every_schema_since_number_has_its_migration():
    numbers = {t.since for t in TABLES.values()} | {c.since for t in TABLES.values() for c in t.columns} | {
        i.since for t in TABLES.values() for i in t.indexes}
    assert numbers <= {m.version for m in MIGRATIONS}


def test_every_gdmo_version_attribute_has_a_column_and_a_field():
    attributes = {o.name for o in OIDS.all("attribute")
                  if o.name.startswith("subscription") and "Audit" not in o.name
                  and o.name != "subscriptionVersionAttributeValueChangeInfo"}  # a notification argument
    assert attributes == set(GDMO_COLUMNS)  # subscriptionVersion + subscriptionVersionNPAC packages
    columns = set(TABLES["subscription_versions"].names)
    assert set(GDMO_COLUMNS.values()) <= columns
    assert columns == {f.name for f in dataclasses.fields(SubscriptionVersion)}


# --- one transaction, one journal row --------------------------------------------------------------

def test_every_change_writes_exactly_one_journal_row(store):
    with store.transaction("two SPs") as tx:
        add_sp(tx, OLD, "Old Telco")
        add_sp(tx, NEW, "New Telco")
    assert journal_count(store) == 1 and tx.sequence == 1
    [row] = store.journal_since(0)
    change = json.loads(row.change)
    assert (row.sequence, row.epoch, row.time, change["note"], change["schema"]) == (1, 0, T0, "two SPs", LATEST)
    assert [(op["op"], op["table"], op["key"]) for op in change["ops"]] == [
        ("upsert", "service_providers", {"sp_id": OLD}), ("upsert", "service_providers", {"sp_id": NEW})]
    assert change["ops"][0]["row"]["allowable_functions"] == ["soa-mgmt", "lsms-data-download"]
    assert store.apply([Delete("service_providers", {"sp_id": OLD})]) == 2
    assert journal_count(store) == 2 and store.get("service_providers", OLD) is None


def test_a_transaction_that_writes_nothing_writes_no_journal_row(store):
    with store.transaction() as tx:
        assert tx.get("meta", "epoch") is None
    assert journal_count(store) == 0 and tx.sequence is None


def test_a_failing_change_leaves_neither_the_row_nor_the_state(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            add_sp(tx, OLD, "Old Telco")
            assert tx.get("service_providers", OLD)["name"] == "Old Telco"  # reads its own write
            raise RuntimeError("carrier request failed validation half-way")
    assert journal_count(store) == 0 and store.get("service_providers", OLD) is None
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction() as tx:
            add_sp(tx, OLD, "Old Telco")
            tx.upsert("service_providers", {"sp_id": NEW, "name": None})  # NOT NULL
    assert journal_count(store) == 0 and store.select("service_providers") == []
    with pytest.raises(ValueError, match="no columns"):
        store.apply([Upsert("service_providers", {"sp_id": OLD, "name": "x", "colour": "red"})])
    assert journal_count(store) == 0


def test_one_writer_no_nested_transactions_and_no_direct_journal_writes(store):
    with store.transaction() as tx:
        with pytest.raises(StoreError, match="one writer"):
            with store.transaction():
                pass
        with pytest.raises(StoreError):
            tx.upsert("journal", {"sequence": 9, "epoch": 0, "time": 0, "change": "{}"})
    with pytest.raises(StoreError):
        store.get("no_such_table", 1)


def test_epoch_rises_through_the_journal_and_never_falls(store):
    store.set_epoch(3)
    assert store.epoch == 3
    add = store.apply([Upsert("meta", {"key": "note", "value": {"x": 1}})])
    assert store.journal_since(add - 1)[0].epoch == 3
    with pytest.raises(StoreError):
        store.set_epoch(2)


# --- replication -------------------------------------------------------------------------------------

def busy_primary(store: Store) -> None:
    """A little of everything: network data, a port with timers, a broadcast, a hold queue, an audit."""
    with store.transaction() as tx:
        for sp, name in ((OLD, "Old Telco"), (NEW, "New Telco"), ("0003", "Third")):
            add_sp(tx, sp, name)
        NPA_NXX.add(tx, {"value": "312555", "sp_id": OLD, "effective_ms": T0})
        LRNS.add(tx, {"value": "3125550002", "sp_id": NEW})
    port = pending()
    with store.transaction("port") as tx:
        persist.commit(tx, (), port.versions, port.effects)
        for t in port.timers.values():
            TIMERS.start(tx, str(t.kind), t.version_id, t.due_ms)
    with store.transaction("broadcast") as tx:
        for lsms in LSMS:
            BROADCASTS.sent(tx, 1, lsms, "create")
        BROADCASTS.settle(tx, 1, OLD, SUCCEEDED)
        BROADCASTS.settle(tx, 1, NEW, FAILED)
        HOLD_QUEUE.hold(tx, "0003", "create", {"version_id": 1}, version_id=1)
        AUDITS.add(tx, {"name": "a1", "requesting_sp": NEW, "tn_start": TN, "tn_stop": TN, "created_ms": tx.now_ms})
        persist.save_tunables(tx, Tunables(conflict_expiration_window=45))
    store.apply([Delete("timers", {"kind": "initial-concurrence", "version_id": 1, "target": ""})])


def test_replica_replay_gives_identical_tables_and_replaying_twice_is_a_no_op(store, tmp_path):
    busy_primary(store)
    rows = store.journal_since(0)
    with Store(tmp_path / "dr.db", clock=Clock(T0 + 999)) as replica:
        assert [replica.apply_journal_row(r.as_dict()) for r in rows] == [True] * len(rows)
        assert replica.dump() == store.dump()
        assert [replica.apply_journal_row(r) for r in rows] == [False] * len(rows)
        assert replica.dump() == store.dump()
        assert replica.last_sequence() == store.last_sequence() == len(rows)


def test_replica_refuses_gaps_divergence_stale_epochs_and_newer_schemas(store, tmp_path):
    busy_primary(store)
    rows = store.journal_since(0)
    with Store(tmp_path / "dr.db", clock=Clock()) as replica:
        with pytest.raises(JournalError, match="gap"):
            replica.apply_journal_row(rows[1])
        replica.apply_journal_row(rows[0])
        forged = dataclasses.replace(rows[0], change=rows[1].change)
        with pytest.raises(JournalError, match="diverged"):
            replica.apply_journal_row(forged)
        replica.set_epoch(5)  # this node was promoted meanwhile (journal row 2 is its own)
        with pytest.raises(JournalError, match="epoch 0, behind 5"):
            replica.apply_journal_row(rows[2])
    with Store(tmp_path / "dr2.db", clock=Clock()) as replica:
        change = json.loads(rows[0].change)
        change["schema"] = LATEST + 1
        with pytest.raises(JournalError, match="schema"):
            replica.apply_journal_row(JournalRow(1, 0, T0, json.dumps(change)))
        assert replica.last_sequence() == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["put", "del", "count"]), st.integers(1, 4), st.text(max_size=5)),
                min_size=1, max_size=25))
def test_any_sequence_of_changes_replays_to_the_same_tables(tmp_path_factory, ops):
    folder = tmp_path_factory.mktemp("replay")
    with Store(folder / "p.db", clock=Clock()) as primary, Store(folder / "r.db", clock=Clock()) as replica:
        for op, n, text in ops:
            with primary.transaction() as tx:
                if op == "put":
                    tx.upsert("lrn", {"lrn_id": n, "value": f"312555000{n}", "sp_id": text or "x"})
                elif op == "del":
                    tx.delete("lrn", n)
                else:
                    tx.next_id(text or "c")
        for row in primary.journal_since(0):
            replica.apply_journal_row(row)
        assert replica.dump() == primary.dump()
        assert primary.last_sequence() == journal_count(primary)


# --- restart persistence ------------------------------------------------------------------------------

def test_versions_and_timers_survive_close_and_reopen(tmp_path):
    path = tmp_path / "node.db"
    port = active()
    port.do(Disconnect(soa(NEW), T0 + 2 * D, effective_release_date_ms=T0 + 9 * D), at=T0 + 2 * D)
    with Store(path, clock=Clock()) as s:
        with s.transaction() as tx:
            persist.commit(tx, (), port.versions, ())
            for t in port.timers.values():
                TIMERS.start(tx, str(t.kind), t.version_id, t.due_ms, t.target, t.attempt)
    with Store(path, clock=Clock()) as s:
        [v] = persist.load_tn(s, TN)
        assert v == port.v() and v.status is S.DISCONNECT_PENDING
        [row] = TIMERS.due(s, T0 + 9 * D)
        assert (row["kind"], row["version_id"], row["due_ms"]) == ("deferred-disconnect", 1, T0 + 9 * D)
        assert TIMERS.due(s, T0 + 9 * D - 1) == []


def starts(port: Port) -> list[StartTimer]:
    return [StartTimer(t) for t in port.timers.values()]


def test_a_step_committed_to_the_store_continues_after_restart(tmp_path):
    """Commit each step's versions and timers; reopen; the next step starts from what was stored."""
    path = tmp_path / "node.db"
    port = pending()
    with Store(path, clock=Clock()) as s:
        with s.transaction() as tx:
            persist.commit(tx, (), port.versions, starts(port))
        assert {t["kind"] for t in TIMERS.all(s)} == {"pending-expiration"}
        before = port.versions
        port.do(Activate(soa(NEW)), at=T0 + D)
        with s.transaction() as tx:
            persist.commit(tx, before, port.versions, port.effects)
    with Store(path, clock=Clock()) as s:
        port.versions = persist.load_tn(s, TN)
        assert port.status() is S.SENDING and TIMERS.all(s) == []  # activation cancelled the expiry
        port.do(BroadcastComplete(LSMS, ()))
        with s.transaction() as tx:
            persist.commit(tx, persist.load_tn(tx, TN), port.versions, port.effects)
    with Store(path, clock=Clock()) as s:
        assert [v.status for v in persist.load_tn(s, TN)] == [S.ACTIVE]


def test_purge_removes_the_version_and_its_timers(store):
    port = pending()
    with store.transaction() as tx:
        persist.commit(tx, (), port.versions, starts(port))
    assert TIMERS.for_version(store, 1)
    with store.transaction() as tx:
        persist.commit(tx, port.versions, port.versions, [Purge(1)])
    assert VERSIONS.all(store) == [] and TIMERS.all(store) == []


def test_version_rows_round_trip_every_field(store):
    port = active()
    port.do(Modify(soa(NEW), {"lrn": "3125550002", "class_dpc": "001002003", "class_ssn": 0}))
    with store.transaction() as tx:
        persist.commit(tx, (), port.versions, ())
    assert persist.load_tn(store, TN) == port.versions
    assert VERSIONS.with_status(store, [S.SENDING])[0]["modifies_version_id"] == 1


def test_tunables_persist_only_what_differs_from_the_defaults(store):
    tuned = Tunables(initial_concurrence_window=24, cancellation_final_ack_window=6)
    with store.transaction() as tx:
        persist.save_tunables(tx, tuned)
    assert store.select("tunables", order_by="name") == [
        {"name": "cancellation_final_ack_window", "value": 6, "modified_ms": T0},
        {"name": "initial_concurrence_window", "value": 24, "modified_ms": T0}]
    assert persist.load_tunables(store) == tuned
    with store.transaction() as tx:
        persist.save_tunables(tx, Tunables(initial_concurrence_window=24))
    assert persist.load_tunables(store) == Tunables(initial_concurrence_window=24)


# --- repositories ------------------------------------------------------------------------------------

def test_generated_ids_are_sequential_and_never_reused(store):
    with store.transaction() as tx:
        ids = [VERSIONS.next_id(tx) for _ in range(3)]
        VERSIONS.delete(tx, 3)
    with store.transaction() as tx:
        assert ids == [1, 2, 3] and VERSIONS.next_id(tx) == 4


def test_network_repositories(store):
    with store.transaction() as tx:
        add_sp(tx, OLD, "Old Telco")
        add_sp(tx, "0005", "Query Only", functions=("lsms-query",))
        a = NPA_NXX.add(tx, {"value": "312555", "sp_id": OLD, "effective_ms": T0})
        b = LRNS.add(tx, {"value": "3125550001", "sp_id": OLD})
        SERVICE_PROVIDERS.mark_deleted(tx, "0005")
    assert (a["npa_nxx_id"], b["lrn_id"], a["ported"]) == (1, 1, False)
    assert NPA_NXX.by_value(store, "312555")["sp_id"] == OLD and LRNS.of_sp(store, OLD) == [b]
    assert SERVICE_PROVIDERS.by_name(store, "Old Telco")["system_type"] == 2
    assert [sp["sp_id"] for sp in SERVICE_PROVIDERS.live(store)] == [OLD]
    assert SERVICE_PROVIDERS.lsms_receiving_downloads(store) == [OLD]
    with pytest.raises(sqlite3.IntegrityError):  # NPA-NXX values are unique
        with store.transaction() as tx:
            NPA_NXX.add(tx, {"value": "312555", "sp_id": OLD, "effective_ms": T0})


def test_broadcast_state_and_hold_queue(store):
    clock = store.clock
    with store.transaction() as tx:
        BROADCASTS.sent(tx, 7, OLD, "create")
        BROADCASTS.sent(tx, 7, NEW, "create")
    clock.now += 120_000
    with store.transaction() as tx:
        again = BROADCASTS.sent(tx, 7, NEW, "create")  # R5-60.7 resend
        BROADCASTS.settle(tx, 7, OLD, SUCCEEDED)
        for n in range(3):
            HOLD_QUEUE.hold(tx, NEW, "create", {"n": n}, version_id=7)
    assert (again["sends"], again["first_sent_ms"], again["last_sent_ms"]) == (2, T0, T0 + 120_000)
    assert [b["lsms_sp_id"] for b in BROADCASTS.outstanding(store, 7)] == [NEW]
    held = HOLD_QUEUE.held(store, NEW)
    assert [h["payload"]["n"] for h in held] == [0, 1, 2]
    with store.transaction() as tx:
        HOLD_QUEUE.release(tx, held[0]["entry_id"])
    assert len(HOLD_QUEUE.held(store, NEW)) == 2
    with pytest.raises(ValueError):
        with store.transaction() as tx:
            BROADCASTS.settle(tx, 7, NEW, "maybe")


def test_audits(store):
    with store.transaction() as tx:
        audit = AUDITS.add(tx, {"name": "nightly", "requesting_sp": NEW, "tn_start": TN, "tn_stop": TN})
        AUDITS.set_status(tx, audit["audit_id"], "complete")
    assert AUDITS.get(store, 1)["completed_ms"] == T0 and AUDITS.open(store) == []
    assert AUDITS.get(store, 1)["attributes"] is None  # R8-3: a full audit by default


def test_timers_due_in_order_and_move(store):
    with store.transaction() as tx:
        TIMERS.start(tx, "purge", 2, T0 + 5)
        TIMERS.start(tx, "conflict-expiration", 1, T0 + 5)
        TIMERS.start(tx, "broadcast-retry", 1, T0 + 1, target=OLD, attempt=1)
    assert [(t["kind"], t["target"]) for t in TIMERS.due(store, T0 + 5)] == [
        ("broadcast-retry", OLD), ("conflict-expiration", ""), ("purge", "")]
    with store.transaction() as tx:
        TIMERS.start(tx, "purge", 2, T0 + 50)  # same key: moved, not duplicated
        TIMERS.cancel(tx, "broadcast-retry", 1, OLD)
    assert TIMERS.next_due_ms(store) == T0 + 5 and len(TIMERS.all(store)) == 2
    assert schedule(SubscriptionVersion(1, TN, S.CONFLICT, OLD, NEW, conflict_ms=T0), Tunables())[0].kind is (
        TimerKind.CONFLICT_EXPIRATION)
