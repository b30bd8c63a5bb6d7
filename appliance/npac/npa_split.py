"""Permissive dialing of an NPA split (FRS RN3-1 L9697, RN3-2 L9705; IIS flow 6.6.1 L34350-34374).

From a split's start until its permissive dialing period ends, the old NPA-NXX row carries
`split_new_npa_nxx`, and every version of it already has the new NPA (6.6.1 b). A TN that a SOA
names in the old NPA is taken as its new-NPA twin: "accept both the old and new NPAs ... but only
respond and download with the new NPA" (RN3-2). After the period (RN3-3) the old NPA-NXX is gone
and an old-NPA TN is just an unknown TN again.
"""
from __future__ import annotations

from collections.abc import Iterable

from appliance.lnp.oids import OIDS
from appliance.npac.sv_codec import ATTRIBUTES, BadValue
from appliance.osi.cmip_filter import Filter, FilterAnd, FilterItem, FilterNot, FilterOr
from appliance.osi.errors import ProtocolError
from appliance.store.network import NPA_NXX
from appliance.store.store import _Reads

_TN = ATTRIBUTES["subscriptionTN"]
_TN_OID = OIDS.attribute("subscriptionTN").oid
_ORDERED = frozenset({"equality", "greaterOrEqual", "lessOrEqual"})


def permissive_tn(reads: _Reads, tn: str, now_ms: int) -> str:
    """`tn` with its new NPA while its NPA-NXX is in a permissive dialing period; else `tn`."""
    if len(tn) != 10:
        return tn
    row = NPA_NXX.by_value(reads, tn[:6])
    if row is None or not row["split_new_npa_nxx"]:
        return tn
    if (row["split_activation_ms"] or 0) <= now_ms < (row["split_disconnect_ms"] or 0):
        return row["split_new_npa_nxx"] + tn[6:]
    return tn


def permissive_targets(reads: _Reads, targets: Iterable[str | int], now_ms: int) -> list[str | int]:
    """An action's targets (TNs, or one version id which needs no mapping)."""
    return [permissive_tn(reads, t, now_ms) if isinstance(t, str) else t for t in targets]


def permissive_filter(reads: _Reads, flt: Filter, now_ms: int) -> Filter:
    """A CMIS filter whose subscriptionTN assertions name old-NPA TNs, asserted on the new NPA instead.

    Each asserted value is mapped on its own: a TN range whose bounds fall in two NPA-NXXs, one split
    and one not, no longer describes one contiguous block and is left to match what it matches."""
    if isinstance(flt, (FilterAnd, FilterOr)):
        return type(flt)(tuple(permissive_filter(reads, item, now_ms) for item in flt.items))
    if isinstance(flt, FilterNot):
        return FilterNot(permissive_filter(reads, flt.item, now_ms))
    if isinstance(flt, FilterItem) and flt.attribute_id == _TN_OID and flt.kind in _ORDERED and flt.value:
        try:
            tn = _TN.decode(flt.value)
        except (BadValue, ProtocolError):
            return flt  # an undecodable value matches nothing; the filter says so itself
        mapped = permissive_tn(reads, tn, now_ms)
        return flt if mapped == tn else FilterItem(flt.kind, flt.attribute_id, _TN.encode(mapped))
    return flt
