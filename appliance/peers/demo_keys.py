"""Key material for demos and tests: the NPAC's list and each demo carrier's, generated once.

Each party's directory holds its private list; every party's public list and MD5 file sit beside
it, as they would after the out-of-band exchange of FRS §7.8.3.7.
"""
from __future__ import annotations

from pathlib import Path

from appliance.lnp.keys import KeyList, generate_key_list, load_key_list, write_key_list
from appliance.lnp.security import LOCAL_SMS, SOA, SOA_AND_LOCAL_SMS, Directory, Identity, Party

NPAC_SYSTEM_ID = "NPAC SMS"
DEMO_CARRIERS = {  # systemId: (name, system types)
    "0001": ("Demo Carrier One", frozenset({SOA, LOCAL_SMS, SOA_AND_LOCAL_SMS})),
    "0002": ("Demo Carrier Two", frozenset({SOA, LOCAL_SMS, SOA_AND_LOCAL_SMS})),
    "0003": ("Demo Carrier Three", frozenset({LOCAL_SMS})),
}


def ensure_key_list(directory: Path, system_id: str, list_id: int = 1, count: int = 20) -> KeyList:
    path = directory / system_id / f"{system_id}-list{list_id}.key.pem"
    if path.exists():
        return load_key_list(path)
    kl = generate_key_list(system_id, list_id, count)
    write_key_list(kl, path.parent)
    return kl


class DemoKeys:
    """Private lists for the NPAC and the demo carriers, and the directories each side trusts."""

    def __init__(self, directory: Path, carriers: dict[str, tuple[str, frozenset[int]]] | None = None,
                 count: int = 20):
        self.directory = Path(directory)
        self.carriers = carriers or DEMO_CARRIERS
        self.npac = ensure_key_list(self.directory, NPAC_SYSTEM_ID, count=count)
        self.lists = {sid: ensure_key_list(self.directory, sid, count=count) for sid in self.carriers}

    def npac_identity(self, key_id: int = 1) -> Identity:
        return Identity(NPAC_SYSTEM_ID, 3, self.npac, key_id, npac=True)

    def npac_directory(self) -> Directory:
        parties = []
        for sid, (_, types) in self.carriers.items():
            party = Party(sid, types)
            party.add_key_list(self.lists[sid].public_only())
            parties.append(party)
        return Directory(parties)

    def carrier_identity(self, system_id: str, system_type: int, key_id: int = 1, user_id: str | None = None) -> Identity:
        return Identity(system_id, system_type, self.lists[system_id], key_id, user_id=user_id)

    def carrier_directory(self) -> Directory:
        npac = Party(NPAC_SYSTEM_ID, frozenset({3}), npac=True)
        npac.add_key_list(self.npac.public_only())
        return Directory([npac])
