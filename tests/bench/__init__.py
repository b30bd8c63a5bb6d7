"""Benches run by `make bench` (`python -m tests.bench`): one module per area, each printing its
figures and writing var/bench/<area>.json. Not collected by pytest (no test_* files)."""

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "var" / "bench"


def publish(area: str, res: dict[str, Any], text: str) -> dict[str, Any]:
    """Print an area's report and write its figures to var/bench/<area>.json."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"{area}.json"
    out.write_text(json.dumps(res, indent=2, default=str) + "\n")
    print(text)
    print(f"  wrote {out.relative_to(ROOT)}")
    return res
