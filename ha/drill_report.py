"""The drill report: the instants of one cutover drill, the transactions it lost and its time against
the 10-minute budget (contract 12.4, Exhibit G SLR 8; DECISIONS: measured from failure detection to
the DR node accepting associations), written as JSON (for tools) and text (for the operator) under
the node's data directory, `drills/`."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

BUDGET_S = 600.0
KINDS = ("planned", "unplanned", "switchback")
# the marks each kind must show, in the order they must happen
REQUIRED = {
    "unplanned": ("crash", "detection", "fence", "promotion", "live"),
    "planned": ("requested", "drained", "handed-over", "replayed", "promotion", "live"),
    "switchback": ("requested", "drained", "handed-over", "replayed", "promotion", "live"),
}
NAME = re.compile(r"^drill-(planned|unplanned|switchback)-\d{8}T\d{6}\d{3}Z$")


def utc(ms: int | None) -> str:
    if ms is None:
        return "-"
    t = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def drill_id(kind: str, started_ms: int) -> str:
    t = dt.datetime.fromtimestamp(started_ms / 1000, tz=dt.timezone.utc)
    return f"drill-{kind}-{t.strftime('%Y%m%dT%H%M%S')}{started_ms % 1000:03d}Z"


def verdict(report: dict[str, Any]) -> list[str]:
    """What makes the drill a failure (empty: it passed)."""
    problems = []
    marks = {m["mark"]: m["time_ms"] for m in report["marks"]}
    missing = [m for m in REQUIRED[report["kind"]] if m not in marks]
    if missing:
        problems.append("missing marks: " + ", ".join(missing))
    order = [marks[m] for m in REQUIRED[report["kind"]] if m in marks]
    if order != sorted(order):
        problems.append("marks out of order")
    if report["carriers"]["missing"]:
        problems.append("carriers not back: " + ", ".join(report["carriers"]["missing"]))
    if report["transactions_lost"] != 0:
        problems.append(f"{report['transactions_lost']} acknowledged transactions lost")
    for what in ("cutover_s", "total_s"):
        if report[what] is None or report[what] > report["budget_s"]:
            problems.append(f"{what} {report[what]} over the {report['budget_s']:g} s budget")
    return problems


def text(report: dict[str, Any]) -> str:
    start = report["started_ms"]
    lines = [f"NPAC SMS {report['kind']} drill {report['id']}",
             f"from {report['from']} to {report['to']}; started {utc(start)}", "",
             f"{'instant':<34} {'UTC':<25} {'+s':>9}"]
    for m in report["marks"]:
        lines.append(f"{m['mark']:<34} {utc(m['time_ms']):<25} {(m['time_ms'] - start) / 1000:>9.3f}")
    c = report["carriers"]
    lines += ["", f"LSMSs expected {', '.join(c['lsms_expected']) or 'none'}; SOAs expected "
                  f"{', '.join(c['soa_expected']) or 'none'}; missing {', '.join(c['missing']) or 'none'}",
              f"transactions lost: {report['transactions_lost']} ({report['journal']['basis']})",
              f"cutover ({'detection' if report['kind'] == 'unplanned' else 'request'} to first association "
              f"accepted): {_s(report['cutover_s'])}; "
              f"all carriers back: {_s(report['total_s'])}; budget {report['budget_s']:g} s",
              f"result: {'PASS' if report['ok'] else 'FAIL: ' + '; '.join(report['problems'])}"]
    return "\n".join(lines) + "\n"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def write(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    base = directory / report["id"]
    json_path, text_path = base.with_suffix(".json"), base.with_suffix(".txt")
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    text_path.write_text(text(report), encoding="utf-8")
    tmp.replace(json_path)  # the JSON last and whole: a listed report is a finished one
    return json_path, text_path


def listing(directory: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(directory.glob("drill-*.json")) if directory.is_dir() else []:
        try:
            r = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.append({"id": r.get("id"), "kind": r.get("kind"), "started": utc(r.get("started_ms")),
                    "from": r.get("from"), "to": r.get("to"), "ok": r.get("ok"),
                    "transactions_lost": r.get("transactions_lost"), "total_s": r.get("total_s")})
    return out


def load(directory: Path, report_id: str) -> dict[str, Any]:
    if not NAME.match(report_id):
        raise ValueError(f"no drill report named {report_id!r}")
    path = directory / f"{report_id}.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise ValueError(f"no drill report named {report_id!r}") from None
    return {"report": report, "text": text(report)}
