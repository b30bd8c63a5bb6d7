"""`npac tunable ...`: FRS Appendix C tunables."""
from __future__ import annotations

from typing import Any

from appliance.console.render import table
from appliance.console.verbs import group, nothing, verb

COLUMNS = (("name", "NAME"), ("value", "VALUE"), ("default", "DEFAULT"), ("unit", "UNIT"), ("low", "MIN"),
           ("high", "MAX"), ("variable", "APPENDIX C"))


def register(sub: Any) -> None:
    g = group(sub, "tunable", "NPAC SMS tunables (FRS Appendix C)")
    verb(g, "list", "tunable.list", "values, defaults and ranges", nothing, lambda r: table(r, COLUMNS))
    p = verb(g, "set", "tunable.set", "change one within its range", lambda a: {"name": a.name, "value": a.value},
             lambda r: f"{r['name']} = {r['value']} {r['unit']} (default {r['default']}, {r['low']}..{r['high']})")
    p.add_argument("name", metavar="NAME", help="name or Appendix C variable")
    p.add_argument("value", metavar="VALUE")
