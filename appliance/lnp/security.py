"""Secure LNP associations: who may associate, signatures, sequence numbers and time checks.

IIS §5.2 with the binding readings of DECISIONS.md ("Secure associations"):
- each side signs with its own RSA private key; the peer verifies with the public key picked by
  listId/keyId from the key list exchanged outside the interface;
- signature = RSASSA-PKCS1-v1_5 over MD5 (SHA-256 per provider as an extension) of the DER of
  systemId, systemType, userId (when present), cmipDepartureTime and sequenceNumber;
- sequence 0 on AARQ/AARE, then +1 per message per direction, 4294967295 wraps to 1;
- cmipDepartureTime within ±5 minutes of the receiver's UTC clock.
Crypto, time and sequence failures raise `SecurityViolation` (the caller sends an A-ABORT with no
information and writes the security log); policy failures at association time raise `AccessDenied`
(the caller answers the AARE with the ErrorCode it carries).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from .access_control import AccessControl, signed_input
from .keys import KeyList

SEQ_MAX = 4294967295
TIME_WINDOW = dt.timedelta(minutes=5)

# SystemType (LNP-ASN1): which association functions each type may ask for (IIS Exhibit 8).
SOA, LOCAL_SMS, SOA_AND_LOCAL_SMS, NPAC_SMS = 0, 1, 2, 3
SOA_FUNCTIONS = frozenset({"soa.soaMgmt", "soa.networkDataMgmt"})
LSMS_FUNCTIONS = frozenset({"lsms.dataDownload", "lsms.networkDataMgmt", "lsms.query"})
FUNCTIONS_BY_TYPE = {
    SOA: SOA_FUNCTIONS,
    LOCAL_SMS: LSMS_FUNCTIONS,
    SOA_AND_LOCAL_SMS: SOA_FUNCTIONS | LSMS_FUNCTIONS,
    NPAC_SMS: frozenset(),
}

# NpacAssociationInfo ErrorCode (IIS 5.3.1.1)
SUCCESS, ACCESS_DENIED, RETRY_SAME_HOST, TRY_OTHER_HOST = 0, 1, 2, 3


def next_sequence(seq: int) -> int:
    """0 is only for AARQ/AARE, so the counter wraps from 2^32-1 to 1 (IIS 5.2.1.7)."""
    return 1 if seq >= SEQ_MAX else seq + 1


class SecurityViolation(Exception):
    """Crypto, time or sequence failure: abort the association with no information (IIS 5.2.2 step 4)."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class AccessDenied(Exception):
    """Policy refusal at association time, answered in the AARE with an ErrorCode."""

    def __init__(self, code: int, text: str):
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass
class Party:
    """A known system: its identity, key lists and what it may do."""

    system_id: str
    system_types: frozenset[int]
    key_lists: dict[int, KeyList] = field(default_factory=dict)
    hash_name: str = "md5"  # "sha256" is a per-provider extension (DECISIONS.md)
    npac: bool = False

    def add_key_list(self, kl: KeyList) -> None:
        if kl.system_id != self.system_id:
            raise ValueError(f"key list {kl.list_id} belongs to {kl.system_id}, not {self.system_id}")
        self.key_lists[kl.list_id] = kl


@dataclass
class Identity:
    """Our own side: who we are and which private key we sign with."""

    system_id: str
    system_type: int
    key_list: KeyList
    key_id: int
    npac: bool = False
    user_id: str | None = None
    hash_name: str = "md5"

    def __post_init__(self) -> None:
        if self.key_id not in self.key_list.private:
            raise ValueError(f"no private key {self.key_id} in list {self.key_list.list_id} of {self.system_id}")


def _hash(name: str) -> hashes.HashAlgorithm:
    return hashes.SHA256() if name == "sha256" else hashes.MD5()


def sign(identity: Identity, ac: AccessControl) -> AccessControl:
    key = identity.key_list.private[identity.key_id]
    sig = key.sign(signed_input(ac), padding.PKCS1v15(), _hash(identity.hash_name))
    return replace(ac, signature=sig)


def verify_signature(party: Party, ac: AccessControl) -> None:
    kl = party.key_lists.get(ac.list_id)
    if kl is None:
        raise SecurityViolation("key", f"{party.system_id} has no key list {ac.list_id}")
    key = kl.public_key(ac.key_id)
    if key is None:
        raise SecurityViolation("key", f"list {ac.list_id} of {party.system_id} has no key {ac.key_id}")
    if ac.key_id in kl.retired:
        raise SecurityViolation("key", f"key {ac.key_id} of list {ac.list_id} of {party.system_id} is retired")
    try:
        key.verify(ac.signature, signed_input(ac), padding.PKCS1v15(), _hash(party.hash_name))
    except InvalidSignature:
        raise SecurityViolation("signature", f"signature of {party.system_id} does not verify") from None


def check_time(ac: AccessControl, now: dt.datetime) -> None:
    skew = ac.departure_time - now
    if abs(skew) > TIME_WINDOW:
        raise SecurityViolation("time", f"cmipDepartureTime is {skew.total_seconds():+.0f} s from our clock")


class Directory:
    """The parties this node knows, by systemId."""

    def __init__(self, parties: list[Party] | None = None):
        self._by_id: dict[str, Party] = {}
        for p in parties or []:
            self.add(p)

    def add(self, party: Party) -> None:
        self._by_id[party.system_id] = party

    def get(self, system_id: str) -> Party | None:
        return self._by_id.get(system_id)

    def __iter__(self):
        return iter(self._by_id.values())


@dataclass
class Grant:
    """What an association was allowed: fixed at AARQ time for its whole life."""

    party: Party
    system_type: int
    functions: frozenset[str]
    recovery_mode: bool
    user_id: str | None


class SecureChannel:
    """The per-association security state: two sequence counters and the peer's identity.

    Clock injectable so tests can run hours of association life in milliseconds.
    """

    def __init__(self, identity: Identity, directory: Directory, clock: Callable[[], dt.datetime]):
        self.identity = identity
        self.directory = directory
        self.clock = clock
        self.sent_seq = 0
        self.expected_seq = 1
        self.peer: Party | None = None
        self.grant: Grant | None = None

    # --- outgoing -------------------------------------------------------------------------
    def _stamp(self, seq: int, functions: frozenset[str], recovery: bool) -> AccessControl:
        now = self.clock().replace(microsecond=0)
        ac = AccessControl(
            system_id=self.identity.system_id,
            npac=self.identity.npac,
            system_type=self.identity.system_type,
            user_id=self.identity.user_id,
            list_id=self.identity.key_list.list_id,
            key_id=self.identity.key_id,
            departure_time=now,
            sequence=seq,
            functions=functions,
            recovery_mode=recovery,
            signature=b"",
        )
        return sign(self.identity, ac)

    def association_request(self, functions: frozenset[str], recovery_mode: bool = False) -> AccessControl:
        self.sent_seq = 0
        return self._stamp(0, functions, recovery_mode)

    def association_response(self) -> AccessControl:
        functions = self.grant.functions if self.grant else frozenset()
        recovery = self.grant.recovery_mode if self.grant else False
        self.sent_seq = 0
        return self._stamp(0, functions, recovery)

    def next_message(self) -> AccessControl:
        self.sent_seq = next_sequence(self.sent_seq)
        functions = self.grant.functions if self.grant else frozenset()
        return self._stamp(self.sent_seq, functions, bool(self.grant and self.grant.recovery_mode))

    # --- incoming -------------------------------------------------------------------------
    def accept_association_request(self, ac: AccessControl) -> Grant:
        """Responder side of IIS 5.2.2 step 3: identity, seq 0, time, signature, then policy."""
        party = self.directory.get(ac.system_id)
        if party is None or party.npac:
            raise AccessDenied(ACCESS_DENIED, f"unknown systemId {ac.system_id!r}")
        if ac.sequence != 0:
            raise SecurityViolation("sequence", f"AARQ sequence number is {ac.sequence}, not 0")
        check_time(ac, self.clock())
        verify_signature(party, ac)
        if ac.system_type not in party.system_types:
            raise AccessDenied(ACCESS_DENIED, f"{ac.system_id} is not registered as system type {ac.system_type}")
        if not ac.functions:
            raise AccessDenied(ACCESS_DENIED, "no association function requested")
        refused = ac.functions - FUNCTIONS_BY_TYPE.get(ac.system_type, frozenset())
        if refused:
            raise AccessDenied(ACCESS_DENIED, f"functions {sorted(refused)} not allowed for system type {ac.system_type}")
        if ac.recovery_mode and "lsms.dataDownload" not in ac.functions:
            raise AccessDenied(ACCESS_DENIED, "recoveryMode applies only to the data download function")
        self.peer = party
        self.grant = Grant(party, ac.system_type, ac.functions, ac.recovery_mode, ac.user_id)
        self.expected_seq = 1
        return self.grant

    def accept_association_response(self, ac: AccessControl, expected_system_id: str | None = None) -> None:
        """Initiator side of IIS 5.2.2 step 6."""
        party = self.directory.get(ac.system_id)
        if party is None or (expected_system_id is not None and ac.system_id != expected_system_id):
            raise SecurityViolation("identity", f"AARE from unexpected systemId {ac.system_id!r}")
        if ac.sequence != 0:
            raise SecurityViolation("sequence", f"AARE sequence number is {ac.sequence}, not 0")
        check_time(ac, self.clock())
        verify_signature(party, ac)
        self.peer = party
        self.expected_seq = 1

    def accept_message(self, ac: AccessControl) -> None:
        """IIS 5.2.3: every request and notification after the association."""
        if self.peer is None:
            raise SecurityViolation("state", "message before the association was authenticated")
        if ac.system_id != self.peer.system_id:
            raise SecurityViolation("identity", f"message from {ac.system_id!r} on the association of {self.peer.system_id!r}")
        if ac.sequence != self.expected_seq:
            raise SecurityViolation("sequence", f"sequence number {ac.sequence}, expected {self.expected_seq}")
        check_time(ac, self.clock())
        verify_signature(self.peer, ac)
        self.expected_seq = next_sequence(self.expected_seq)
