"""Export of the security audit log, checking its hash chain first (FRS §7.5, R7-68..R7-75).

The export reads the whole log and verifies every record before writing anything: each record must
be a JSON object numbered one more than the one before, naming the previous record's hash, and
carrying the SHA-256 of its own contents. An edited, removed, reordered or half-written record stops
the export with the number of the first record that does not hold (`ChainBroken`); the CLI exits 1.
A log cut short at its end still chains, so the node passes what it has written since it started
(count and last hash) and a shorter log is reported too.

Formats: `text` (one line per record), `csv` (the R7-75 fields first, the rest as JSON) and `json`
(one document with the records and the chain's summary). The output is written to a temporary file
and renamed, mode 0600: an export is as sensitive as the log (R7-70).

    python -m appliance.ops.audit_export var/demo/primary/security.log --format csv --out audit.csv

There is no way to switch the log off (R7-74): the node always writes it, and neither the node's
configuration nor this module has a setting that stops it.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.ops.security_log import GENESIS, _digest

FORMATS = ("text", "csv", "json")
SUFFIX = {"text": "txt", "csv": "csv", "json": "json"}
# R7-75: date and time, user and connection, event type, resource or function, success or failure
LEADING = ("n", "time", "event", "user", "terminal", "peer", "system_id", "function", "command", "outcome")


class ChainBroken(Exception):
    """The log does not verify; `record` is the first record (1-based) that does not hold."""

    def __init__(self, record: int, why: str):
        super().__init__(f"record {record}: {why}")
        self.record = record


class ExportError(Exception):
    """A bad request (format, dates, destination): one line."""


@dataclass(frozen=True)
class Chain:
    records: list[dict[str, Any]]
    last_hash: str


@dataclass(frozen=True)
class ExportResult:
    path: str
    format: str
    records: int          # exported (after the time filter)
    verified: int         # records in the verified chain
    last_hash: str


def verify_chain(path: str | os.PathLike, expect_count: int | None = None,
                 expect_last_hash: str | None = None) -> Chain:
    """Every record of the log at `path`, verified; ChainBroken names the first one that is not."""
    try:
        lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    except FileNotFoundError:
        raise ExportError(f"{path}: no such log") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: cannot read the log ({exc})") from None
    prev, records = GENESIS, []
    for number, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
        except ValueError:
            raise ChainBroken(number, "not a JSON record (altered or cut short)") from None
        if not isinstance(rec, dict):
            raise ChainBroken(number, "not a JSON record (altered)")
        n = rec.get("n")
        if n != number:
            raise ChainBroken(number, f"numbered {n!r} where {number} was due (records removed, added or reordered)")
        if rec.get("prev") != prev:
            raise ChainBroken(number, f"does not follow record {number - 1} (that record or this one was altered)")
        body = {k: v for k, v in rec.items() if k != "hash"}
        if _digest(prev, body) != rec.get("hash"):
            raise ChainBroken(number, "its hash does not match its contents (altered)")
        prev = rec["hash"]
        records.append(rec)
    if expect_count is not None and len(records) < expect_count:
        raise ChainBroken(len(records) + 1, f"missing: the log ends at record {len(records)}, "
                                            f"{expect_count} were written (truncated)")
    if expect_last_hash is not None and expect_count is not None and expect_count == len(records) \
            and expect_last_hash != prev:
        raise ChainBroken(len(records), "the last record is not the one written (log replaced)")
    return Chain(records, prev)


def _when(text: str | None, name: str) -> dt.datetime | None:
    if text is None or text == "":
        return None
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ExportError(f"{name} must be an ISO date or date-time, got {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _record_time(rec: dict[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(rec.get("time")), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def select(records: list[dict[str, Any]], since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
    """Records with since <= time < until (either bound optional)."""
    lo, hi = _when(since, "since"), _when(until, "until")
    out = []
    for rec in records:
        when = _record_time(rec)
        if (lo and (when is None or when < lo)) or (hi and (when is None or when >= hi)):
            continue
        out.append(rec)
    return out


def _details(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sorted(rec.items()) if k not in LEADING and k not in ("prev", "hash")}


def render(records: list[dict[str, Any]], fmt: str, chain: Chain, source: str) -> str:
    if fmt == "json":
        return json.dumps({"source": source, "verified": len(chain.records), "last_hash": chain.last_hash,
                           "records": records}, indent=1, sort_keys=True) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow([*LEADING, "details", "prev", "hash"])
        for rec in records:
            out.writerow([*("" if rec.get(k) is None else rec[k] for k in LEADING),
                          json.dumps(_details(rec), sort_keys=True, separators=(",", ":")), rec["prev"], rec["hash"]])
        return buf.getvalue()
    if fmt == "text":
        lines = [f"# security audit log {source}: {len(chain.records)} records, chain intact, "
                 f"last hash {chain.last_hash}"]
        for rec in records:
            fields = [f"{k}={rec[k]}" for k in LEADING[3:] if rec.get(k) is not None]
            fields += [f"{k}={json.dumps(v, sort_keys=True) if not isinstance(v, str) else v}"
                       for k, v in _details(rec).items()]
            lines.append(f"{rec['n']:>7} {rec['time']} {rec['event']:<26} " + " ".join(fields))
        return "\n".join(lines) + "\n"
    raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def export(log_path: str | os.PathLike, out_path: str | os.PathLike, fmt: str = "csv", *,
           since: str | None = None, until: str | None = None, expect_count: int | None = None,
           expect_last_hash: str | None = None) -> ExportResult:
    """Verify the log, then write the export atomically; nothing is written if the chain breaks."""
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    chain = verify_chain(log_path, expect_count, expect_last_hash)
    chosen = select(chain.records, since, until)
    text = render(chosen, fmt, chain, Path(log_path).name)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ExportResult(str(out), fmt, len(chosen), len(chain.records), chain.last_hash)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Bad arguments get one line, not the usage text."""
        print(f"{self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m appliance.ops.audit_export",
                                     description="Verify the security audit log's hash chain and export it.")
    parser.add_argument("log", help="the security log (JSON lines)")
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--out", help="output file (default: standard output)")
    parser.add_argument("--since", help="first date or date-time (UTC) to include")
    parser.add_argument("--until", help="date or date-time (UTC) to stop before")
    args = parser.parse_args(argv)
    try:
        if args.out:
            result = export(args.log, args.out, args.format, since=args.since, until=args.until)
            print(f"{result.records} of {result.verified} records exported to {result.path}; chain intact, "
                  f"last hash {result.last_hash}", file=sys.stderr)
        else:
            chain = verify_chain(args.log)
            sys.stdout.write(render(select(chain.records, args.since, args.until), args.format, chain,
                                    Path(args.log).name))
    except ChainBroken as exc:
        print(f"{args.log}: tampered log, {exc}; nothing exported", file=sys.stderr)
        return 1
    except (ExportError, OSError) as exc:
        print(f"{args.log}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
