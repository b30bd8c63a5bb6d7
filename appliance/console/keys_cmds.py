"""`npac keys ...`: key lists (FRS R7-107..R7-111)."""
from __future__ import annotations

import os
from typing import Any

from appliance.console.render import record, table
from appliance.console.verbs import group, verb

COLUMNS = (("system_id", "SYSTEM"), ("list_id", "LIST"), ("role", "ROLE"), ("keys", "KEYS"), ("active", "ACTIVE"),
           ("retired", "RETIRED"), ("source", "SOURCE"), ("expires", "EXPIRES"))


def _list(rows: Any) -> str:
    out = [table(rows, COLUMNS, empty="no key lists")]
    for r in rows:
        out += [f"warning: {r['system_id']} list {r['list_id']}: {w}" for w in r["warnings"]]
    return "\n".join(out)


def _path(value: str | None) -> str | None:
    return os.path.abspath(value) if value else None


def register(sub: Any) -> None:
    g = group(sub, "keys", "LNP key lists")
    p = verb(g, "list", "keys.list", "key lists, with expiry and low-key warnings", lambda a: {"system_id": a.system},
             _list)
    p.add_argument("--system", help="one system id")
    p = verb(g, "generate", "keys.generate", "generate a key list (1000 RSA keys by default)",
             lambda a: {"system_id": a.system_id, "list_id": a.list_id, "count": a.count, "bits": a.bits},
             lambda r: record(r), timeout=600)
    p.add_argument("system_id", metavar="SYSTEM")
    p.add_argument("list_id", metavar="LIST", type=int)
    p.add_argument("--count", type=int)
    p.add_argument("--bits", type=int)
    p = verb(g, "import", "keys.import", "import a provider's public list with its MD5 file",
             lambda a: {"system_id": a.system_id, "path": _path(a.file), "md5": _path(a.md5)}, lambda r: record(r),
             timeout=120)
    p.add_argument("system_id", metavar="SYSTEM")
    p.add_argument("file", metavar="PUBLIC-LIST")
    p.add_argument("--md5", required=True, metavar="HASH-FILE")
    p = verb(g, "retire", "keys.retire", "retire keys (refused from now on)",
             lambda a: {"system_id": a.system_id, "list_id": a.list_id, "key_ids": a.key_ids},
             lambda r: f"list {r['list_id']} of {r['system_id']}: {len(r['retired'])} retired, {r['active']} active")
    p.add_argument("system_id", metavar="SYSTEM")
    p.add_argument("list_id", metavar="LIST", type=int)
    p.add_argument("key_ids", metavar="KEY", type=int, nargs="+")
