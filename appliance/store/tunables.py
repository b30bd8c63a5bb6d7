"""Tunables as stored: name -> integer value, in the unit `appliance.npac.tunables.SPEC` gives.
Only values NPAC personnel changed are stored; the rest are the release's defaults."""
from __future__ import annotations

from typing import Mapping

from appliance.store.store import Tx, _Reads


def load_tunables(reader: _Reads) -> dict[str, int]:
    return {row["name"]: row["value"] for row in reader.select("tunables")}


def save_tunables(tx: Tx, values: Mapping[str, int]) -> None:
    """Store every value given (one journal row with the rest of the transaction)."""
    for name, value in sorted(values.items()):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"tunable {name}={value!r} is not an integer")
        tx.upsert("tunables", {"name": name, "value": value, "modified_ms": tx.now_ms})
