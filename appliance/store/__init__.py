"""The node's durable store: SQLite (WAL, synchronous=FULL) through sqlite-utils, schema migrated in
code, one writer, and the replication journal written in the same transaction as every change."""
from appliance.store.journal import Delete, JournalError, JournalRow, Upsert
from appliance.store.store import Store, StoreError, Tx

__all__ = ["Delete", "JournalError", "JournalRow", "Store", "StoreError", "Tx", "Upsert"]
