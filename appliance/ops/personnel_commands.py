"""The NPAC-personnel commands of the console, all groups: service providers, network data,
subscription versions, tunables, NPA splits and mass updates, bulk data files, key lists."""
from __future__ import annotations

from appliance.ops import bulk_data, keys_admin, mass_changes, network_admin, personnel, sv_admin, tunables_admin
from appliance.ops.commands import Command

MODULES = (personnel, network_admin, sv_admin, tunables_admin, mass_changes, bulk_data, keys_admin)


def commands() -> list[Command]:
    return [command for module in MODULES for command in module.commands()]
