"""First start of a node: the service providers, NPA-NXXs and LRNs named in the node configuration
are created through the network-data service (so they are journaled and replicated like any other
change). Data already in the store is left alone: the store, not the file, is the record."""
from __future__ import annotations

from appliance.config import NodeConfig
from appliance.npac.lsms_side import LsmsSide
from appliance.store.network import LRNS, NPA_NXX as NPA_NXX_ROWS, SERVICE_PROVIDERS
from appliance.store.store import Store

# allowable functions per configured system type (IIS Exhibit 8)
_SOA = ("soa-mgmt", "soa-network-data-mgmt")
_LSMS = ("lsms-data-download", "lsms-network-data-mgmt", "lsms-query")


def _functions(types: frozenset[int]) -> tuple[str, ...]:
    soa = bool(types & {0, 2})
    lsms = bool(types & {1, 2})
    return (_SOA if soa else ()) + (_LSMS if lsms else ())


def _system_type(types: frozenset[int]) -> int:
    if 2 in types or {0, 1} <= types:
        return 2
    return 1 if 1 in types else 0


async def seed_from_config(side: LsmsSide, store: Store, cfg: NodeConfig, now_ms: int) -> list[str]:
    """Create what the configuration names and the store lacks; returns one line per creation."""
    done = []
    for c in cfg.carriers:
        if SERVICE_PROVIDERS.get(store, c.system_id) is None:
            lsms = bool(c.system_types & {1, 2})
            await side.network.create_service_provider(
                c.system_id, c.name[:40], system_type=_system_type(c.system_types),
                allowable_functions=_functions(c.system_types), download_network_data=lsms)
            done.append(f"service provider {c.system_id}")
        for value in c.npa_nxx:
            if NPA_NXX_ROWS.by_value(store, value) is None:
                await side.network.create_npa_nxx(c.system_id, value, now_ms)
                done.append(f"NPA-NXX {value}")
        for value in c.lrn:
            if LRNS.by_value(store, value) is None:
                await side.network.create_lrn(c.system_id, value)
                done.append(f"LRN {value}")
    return done
