"""Schema creation and migration in code: `schema_version` records every migration applied, and
`MIGRATIONS` is the ordered list of migration functions. An empty file runs them all; a file from an
older release runs the ones it lacks, each in its own transaction with its schema_version row.

Migrations 1 and 2 are built from `schema.TABLES` by `since` number (1: the tables, 2: the indexes
for the hot queries); a later release adds columns or tables with a higher `since`, and may append a
hand-written data migration. Migrations run on every node at open and are not journaled: a replica
migrates itself, and the journal refuses rows from a newer schema than its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlite_utils import Database

from appliance.store.schema import SQL_TYPE, TABLES, Table


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    run: Callable[[Database], None]


def _create_table(db: Database, table: Table, version: int) -> None:
    columns = [c for c in table.columns if c.since <= version]
    db[table.name].create(  # type: ignore[union-attr]
        {c.name: SQL_TYPE[c.type] for c in columns},
        pk=table.pk[0] if len(table.pk) == 1 else table.pk,
        not_null={c.name for c in columns if c.not_null},
    )


def _schema_step(version: int) -> Callable[[Database], None]:
    """Everything the table definitions mark `since == version`."""
    def run(db: Database) -> None:
        for table in TABLES.values():
            if table.since == version:
                _create_table(db, table, version)
            elif table.since < version:
                for column in (c for c in table.columns if c.since == version):
                    db[table.name].add_column(column.name, SQL_TYPE[column.type])  # type: ignore[union-attr]
            for index in (i for i in table.indexes if i.since == version):
                db[table.name].create_index(  # type: ignore[union-attr]
                    list(index.columns), unique=index.unique,
                    index_name=f"idx_{table.name}_{'_'.join(index.columns)}")
    return run


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "tables", _schema_step(1)),
    Migration(2, "query indexes", _schema_step(2)),
    Migration(3, "notification outbox", _schema_step(3)),
    Migration(4, "console users", _schema_step(4)),
    Migration(5, "planned outages and trouble tickets", _schema_step(5)),
    Migration(6, "service-level records", _schema_step(6)),
)
LATEST = MIGRATIONS[-1].version


def applied(db: Database) -> list[int]:
    if "schema_version" not in db.table_names():
        return []
    return [row["version"] for row in db["schema_version"].rows_where(order_by="version")]


def migrate(db: Database, now_ms: int, upto: int = LATEST) -> list[int]:
    """Apply the missing migrations up to `upto`; returns the versions applied now."""
    if "schema_version" not in db.table_names():
        with db.atomic():
            db["schema_version"].create({"version": int, "name": str, "applied_ms": int},  # type: ignore[union-attr]
                                        pk="version")
    done = set(applied(db))
    if done and max(done) > LATEST:
        raise RuntimeError(f"database schema {max(done)} is newer than this release ({LATEST})")
    ran = []
    for migration in MIGRATIONS:
        if migration.version in done or migration.version > upto:
            continue
        with db.atomic():
            migration.run(db)
            db["schema_version"].insert({"version": migration.version, "name": migration.name,
                                         "applied_ms": now_ms})
        ran.append(migration.version)
    return ran
