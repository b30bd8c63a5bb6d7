"""`npac ticket ...`: IT trouble tickets (production-support seed 000 §12.3, contract §10.2-10.3)."""
from __future__ import annotations

from textwrap import indent
from typing import Any

from appliance.console.render import record, table
from appliance.console.verbs import group, verb

DISPOSITIONS = ("resolved", "no-trouble-found", "resolve-in-patch", "submit-cmp-cr")  # seed 000 L43-49
LIST_COLUMNS = (("tracking", "TRACKING"), ("state", "STATE"), ("severity", "SEV"), ("defect", "DEFECT"),
                ("reporter", "REPORTER"), ("reported", "REPORTED"), ("disposition", "DISPOSITION"),
                ("overdue", "OVERDUE"), ("summary", "SUMMARY"))
SHOWN = ("tracking", "state", "severity", "severity_name", "defect", "reporter", "affected_users", "summary",
         "description", "interface", "detected", "reported", "responded", "response_due", "next_status_due",
         "correction_due", "source", "resolution_scheduled", "resolution_plan", "disposition", "disposition_text",
         "patch_date", "closed", "root_cause_outage", "overdue")
NOTICE_COLUMNS = (("at", "AT"), ("kind", "KIND"), ("by", "BY"), ("text", "TEXT"))


def show(r: dict[str, Any]) -> str:
    out = [record(r, SHOWN), "notices:", indent(table(r.get("notices") or [], NOTICE_COLUMNS, empty="none"), "  ")]
    reports = r.get("root_cause_reports")
    if reports:
        out += ["root-cause reports:", indent(table(reports, (("kind", "REPORT"), ("due", "DUE"),
                                                              ("delivered", "DELIVERED"), ("overdue", "OVERDUE"))), "  ")]
    return "\n".join(out)


def _opened(r: dict[str, Any]) -> str:
    return f"ticket {r['tracking']} opened (severity {r['severity']}, {r['defect']})\n" + show(r)


def _one(p: Any) -> None:
    p.add_argument("ticket", metavar="TICKET", help="tracking number (or ticket number)")


def register(sub: Any) -> None:
    g = group(sub, "ticket", "IT trouble tickets (§12.3)")
    p = verb(g, "open", "ticket.open", "open a ticket; prints its tracking number",
             lambda a: {"reporter": a.reporter, "severity": a.severity, "summary": a.summary,
                        "description": a.description, "interface": a.interface,
                        "affected_users": ",".join(a.affected) if a.affected else None, "defect": a.defect,
                        "detected_at": a.detected_at}, _opened)
    p.add_argument("--reporter", required=True, help="the reporting carrier's SP id, or NPAC")
    p.add_argument("--severity", required=True, type=int, choices=(1, 2, 3, 4))
    p.add_argument("--summary", required=True)
    p.add_argument("--description")
    p.add_argument("--interface", help="the interface concerned")
    p.add_argument("--affected", action="append", metavar="SP", help="an affected user (repeat for more)")
    p.add_argument("--defect", choices=("material", "minor", "none"), help="default from the severity")
    p.add_argument("--detected-at", metavar="TIME", help="when the trouble began (GMT; default now)")

    p = verb(g, "list", "ticket.list", "trouble tickets", lambda a: {"state": a.state, "overdue": a.overdue or None},
             lambda r: table(r, LIST_COLUMNS, empty="no trouble tickets"))
    p.add_argument("--state", choices=("open", "date-tbd", "closed"))
    p.add_argument("--overdue", action="store_true", help="only those late on something")
    _one(verb(g, "show", "ticket.show", "one ticket with its notices and deadlines", lambda a: {"ticket": a.ticket},
              show))
    p = verb(g, "notice", "ticket.notice", "a status notice; or Date TBD; or a Date TBD ticket's schedule",
             lambda a: {"ticket": a.ticket, "text": a.text, "date_tbd": a.date_tbd or None, "source": a.source,
                        "scheduled_for": a.scheduled_for, "plan": a.plan}, show)
    _one(p)
    p.add_argument("text", metavar="TEXT", help="the notice")
    p.add_argument("--date-tbd", action="store_true", help="place a severity 3/4 ticket in Date TBD")
    p.add_argument("--source", help="the identified source of the problem (with --date-tbd)")
    p.add_argument("--scheduled-for", metavar="TIME", help="a Date TBD ticket's resolution date")
    p.add_argument("--plan", help="how it is resolved (Patch, Release ...)")
    for name, op, help in (("dispose", "ticket.dispose", "record the disposition code"),
                           ("close", "ticket.close", "close the ticket (with its disposition code)")):
        p = verb(g, name, op, help, lambda a: {"ticket": a.ticket, "code": a.code, "patch_date": a.patch_date,
                                               "text": a.text}, show)
        _one(p)
        p.add_argument("code", metavar="CODE", nargs="?" if name == "close" else None, choices=DISPOSITIONS,
                       help=" | ".join(DISPOSITIONS))
        p.add_argument("--patch-date", metavar="TIME", help="the patch's implementation date (resolve-in-patch)")
        p.add_argument("--text", help="the notice text (default: the code's wording)")
