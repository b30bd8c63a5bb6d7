"""The parts of the node's NPAC services an operator command calls: the same objects a carrier
request reaches, so a change made at the console is broadcast and notified exactly as one made over
CMIP."""
from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from appliance.npac.engine import Rejected
from appliance.npac.lsms_side import LsmsSide
from appliance.npac.mass_update import MassUpdateRefused, MassUpdates
from appliance.npac.network_data import NetworkData, NetworkDataError
from appliance.ops.commands import CommandError

T = TypeVar("T")


def _installed(ctx: Any, kind: type[T], what: str) -> T:
    for part in ctx.services.installed:
        if isinstance(part, kind):
            return part
    raise CommandError(f"this node runs without {what}")


def lsms_side(ctx: Any) -> LsmsSide:
    return _installed(ctx, LsmsSide, "the LSMS side (network data, broadcasts)")


def network(ctx: Any) -> NetworkData:
    return lsms_side(ctx).network


def mass_updates(ctx: Any) -> MassUpdates:
    return _installed(ctx, MassUpdates, "mass updates and NPA splits")


async def refused_as_one_line(work: Awaitable[T]) -> T:
    """The services' refusals become the operator's one-line error; nothing was committed."""
    try:
        return await work
    except NetworkDataError as exc:
        raise CommandError(exc.text) from None
    except Rejected as exc:
        raise CommandError(exc.text) from None
    except MassUpdateRefused as exc:
        raise CommandError(str(exc)) from None
