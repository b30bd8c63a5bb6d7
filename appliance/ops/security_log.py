"""The security audit log (IIS 5.2.4; FRS §7): append-only and tamper-evident.

Every record carries the SHA-256 of the previous record, so an edited, removed or reordered line
breaks the chain at that point; `verify` names the first broken line. The log cannot be switched off:
there is no setting for it, only where it is written.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

GENESIS = "0" * 64


def _digest(prev: str, body: dict) -> str:
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + canon).encode()).hexdigest()


class SecurityLog:
    def __init__(self, path: str | os.PathLike, clock: Callable[[], dt.datetime] | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._lock = threading.Lock()
        self._prev, self._count = GENESIS, 0
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self._prev, self._count = rec["hash"], rec["n"]

    def record(self, event: str, **fields) -> dict:
        with self._lock:
            body = {"n": self._count + 1, "time": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"), "event": event}
            body.update({k: v for k, v in fields.items() if v is not None})
            body["prev"] = self._prev
            body["hash"] = _digest(self._prev, body)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(body, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._prev, self._count = body["hash"], body["n"]
            return body

    def records(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(ln) for ln in self.path.read_text().splitlines() if ln.strip()]


def verify(path: str | os.PathLike) -> tuple[bool, str]:
    """(True, summary) for an intact chain, else (False, the first line that breaks it)."""
    prev, n = GENESIS, 0
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            body = {k: v for k, v in rec.items() if k != "hash"}
            ok = rec.get("prev") == prev and rec.get("n") == n + 1 and _digest(prev, body) == rec.get("hash")
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            return False, f"line {lineno}: record altered, removed or out of order"
        prev, n = rec["hash"], rec["n"]
    return True, f"{n} records, chain intact"
