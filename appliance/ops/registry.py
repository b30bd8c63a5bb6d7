"""Every operator command the node serves on its control socket, module by module."""
from __future__ import annotations

from appliance.ops.commands import Command
from appliance.ops.calendar_settings import commands as calendar_commands
from appliance.ops.notices import commands as notice_commands
from appliance.ops.outages import commands as outage_commands
from appliance.ops.pair_commands import commands as pair_commands
from appliance.ops.personnel_commands import commands as personnel_commands
from appliance.ops.reports import commands as report_commands
from appliance.ops.selfcheck import commands as selfcheck_commands
from appliance.ops.tickets import commands as ticket_commands
from appliance.ops.users import commands as user_commands
from ha.drills import commands as drill_commands


def all_commands() -> list[Command]:
    return [*notice_commands(), *personnel_commands(), *outage_commands(), *ticket_commands(),
            *calendar_commands(), *user_commands(), *report_commands(),
            *selfcheck_commands(), *drill_commands(), *pair_commands()]
