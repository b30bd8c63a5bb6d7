"""What the firmware hooks share: the simulation directory, sysfs reads, and the one JSON answer.

A hook prints exactly one JSON object on stdout and exits 0 when it ran, whatever it found; the
object says what it found. With NPAC_HW_SIM set to a directory, a hook reads that directory's JSON
files instead of the hardware (tests and `make run`); without it, the real Linux sources.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any


def sim_dir() -> Path | None:
    value = os.environ.get("NPAC_HW_SIM", "")
    return Path(value) if value else None


def source() -> str:
    return "sim" if sim_dir() is not None else "linux"


def load_sim(name: str) -> Any:
    """The simulation file `name` (None when the simulation does not describe that part)."""
    base = sim_dir()
    path = base / name if base is not None else None
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text())


def read_text(path: str | Path) -> str | None:
    try:
        return Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def read_int(path: str | Path) -> int | None:
    text = read_text(path)
    try:
        return int(text, 0) if text is not None else None
    except ValueError:
        return None


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def emit(hook: str, **body: Any) -> None:
    json.dump({"hook": hook, "source": source(), "time": now(), **body}, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
