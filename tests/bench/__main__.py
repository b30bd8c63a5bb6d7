"""`make bench`: run every area's bench in turn (`python -m tests.bench [area ...]`).

Each area module has `main(argv) -> dict`; options of one area go to that module directly,
e.g. `python -m tests.bench.wire --runs 3`. Exit status 1 when an area reports itself below its
target (its JSON says "meets_target": false), so `make bench` fails visibly.
"""
from __future__ import annotations

import importlib
import sys
import time

AREAS = ("wire", "npac", "ha", "snmp", "console")


def main(argv: list[str]) -> int:
    chosen = argv or list(AREAS)
    unknown = [a for a in chosen if a not in AREAS]
    if unknown:
        print(f"unknown bench area(s) {unknown}; known: {', '.join(AREAS)}", file=sys.stderr)
        return 2
    failed = []
    for area in chosen:
        t0 = time.perf_counter()
        print(f"== bench {area}", flush=True)
        res = importlib.import_module(f"tests.bench.{area}").main([])
        print(f"== bench {area} done in {time.perf_counter() - t0:.0f} s", flush=True)
        if res.get("meets_target") is False:
            failed.append(area)
    if failed:
        print(f"below target: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
