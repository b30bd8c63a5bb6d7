"""Exhibit G / Exhibit H reports: built from the meters' records and the store (`build`), printed as
text, CSV, JSON or a self-contained HTML page, and served as console commands.

Commands (read permission; R9-9: every console role may read reports):
  report.monthly        [period=YYYY-MM]  [format=text|csv|json|html] [individual=true]
  report.quarterly      [period=YYYY-Qn]  [format=...]
  report.ytd            [period=YYYY]     [format=...]
  report.service-levels [kind=month|quarter|ytd] [period=...] [format=...]
  report.usage          [kind=month|quarter|ytd] [period=...] [sp=SPID] [format=...]
  report.exhibit-h      [kind=...] [period=...] [sp=SPID] [format=...]
A period not given is the one containing now (GMT). The answer is {"format", "content"} where
content is the rendered text (for json: the report as a JSON object).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.ops.commands import Command, CommandError
from appliance.ops.meters import meters_of
from appliance.ops.reports.build import Sources, build
from appliance.ops.reports.model import Report
from appliance.ops.reports.periods import Period, PeriodError
from appliance.ops.reports.render_csv import render_csv
from appliance.ops.reports.render_html import render_html
from appliance.ops.reports.render_json import render_json
from appliance.ops.reports.render_text import render_text

RENDERERS = {"text": render_text, "csv": render_csv, "json": render_json, "html": render_html}
PERIOD_KINDS = ("month", "quarter", "ytd")


def render(report: Report, fmt: str) -> Any:
    if fmt == "json":
        return report.to_dict()
    return RENDERERS[fmt](report)


def sources_of(ctx: Any) -> Sources:
    agent = getattr(ctx.live, "agent", None)
    users = ctx.users.list_users() if getattr(ctx, "users", None) is not None else []
    log_path = getattr(ctx.security_log, "path", None)
    return Sources(ctx.store, data_dir=Path(ctx.data_dir), security_log=Path(log_path) if log_path else None,
                   directory=getattr(agent, "directory", None), users=users)


def _now_ms(ctx: Any) -> int:
    return int(ctx.store.clock())


def make_report(ctx: Any, report_kind: str, period_kind: str, period: str | None, fmt: str,
                sp: str | None = None, individual: bool = True) -> dict[str, Any]:
    if fmt not in RENDERERS:
        raise CommandError(f"format {fmt!r}: choose one of {', '.join(RENDERERS)}")
    if period_kind not in PERIOD_KINDS:
        raise CommandError(f"kind {period_kind!r}: choose one of {', '.join(PERIOD_KINDS)}")
    if sp is not None and not ctx.store.get("service_providers", sp):
        raise CommandError(f"no service provider {sp}")
    now = _now_ms(ctx)
    try:
        chosen = Period.parse(period_kind, period, now)
    except PeriodError as exc:
        raise CommandError(str(exc)) from None
    if chosen.start_ms > now:
        raise CommandError(f"{chosen.label} has not started yet")
    report = build(report_kind, sources_of(ctx), chosen, now, sp=sp, individual=_flag(individual))
    meters = meters_of(getattr(ctx.live, "services", None))
    if sp is not None and meters is not None:
        meters.count_usage(sp, "Report generation", report_kind)  # Exhibit K Table 8, Exhibit E ad hoc report
    return {"format": fmt, "period": chosen.label, "content": render(report, fmt)}


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() not in ("false", "no", "0")


def _management(period_kind: str):
    async def handler(ctx: Any, session: Any, period: str | None = None, format: str = "text",
                      individual: Any = True) -> dict[str, Any]:
        return make_report(ctx, "management", period_kind, period, format, individual=individual)
    return handler


def _sub(report_kind: str):
    async def handler(ctx: Any, session: Any, kind: str = "month", period: str | None = None, format: str = "text",
                      sp: str | None = None) -> dict[str, Any]:
        return make_report(ctx, report_kind, kind, period, format, sp=sp)
    return handler


def commands() -> list[Command]:
    return [
        Command("report.monthly", _management("month"), "read", "Monthly management and performance report (Exhibit H)"),
        Command("report.quarterly", _management("quarter"), "read", "Quarterly management and performance report"),
        Command("report.ytd", _management("ytd"), "read", "Year-to-date management and performance report"),
        Command("report.service-levels", _sub("service-levels"), "read", "Exhibit G service levels against commitments"),
        Command("report.usage", _sub("usage"), "read", "Usage per User for billing (Exhibit E/K)"),
        Command("report.exhibit-h", _sub("exhibit-h"), "read", "RP9-1..RP9-7 and RR9-1 reports"),
    ]
