"""LNP access control on a live association, for both ends (IIS §5.2, DECISIONS.md).

`SecureEndpoint` sits between a `CmipConnection` and the layer above. It signs what we send (AARQ or
AARE user information, every request's CMIP accessControl, every notification's own access-control
field) and checks what arrives. A crypto, time or sequence failure aborts the association with no
information and writes the security log; the layer above never sees the offending message.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pyasn1.type import univ

from appliance.osi import acse, cmip
from appliance.osi.association import AssociateIndication
from appliance.osi.errors import ProtocolError
from appliance.osi.transport import AbortAssociation, CmipConnection

from .access_control import AccessControl, decode_access_control, encode_access_control, signed_fields
from .association_info import NPAC_ASSOCIATION_INFO_OID, SUCCESS, decode_association_info, encode_association_info
from .security import AccessDenied, Directory, Grant, Identity, SecureChannel, SecurityViolation

log = logging.getLogger("appliance.lnp.security")

SecurityLogger = Callable[..., Any]  # record(event, **fields), e.g. ops.security_log.SecurityLog.record


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class SecureEndpoint:
    """One association's security, bound to one CmipConnection (kept in conn.context['lnp'])."""

    def __init__(self, identity: Identity, directory: Directory, security_log: SecurityLogger,
                 clock: Callable[[], dt.datetime] = _utcnow):
        self.channel = SecureChannel(identity, directory, clock)
        self.security_log = security_log
        self.conn: CmipConnection | None = None

    @property
    def grant(self) -> Grant | None:
        return self.channel.grant

    @property
    def peer_id(self) -> str | None:
        return self.channel.peer.system_id if self.channel.peer else None

    # ---- signing ----------------------------------------------------------------------------
    def _encode(self, ac: AccessControl) -> bytes:
        return encode_access_control(ac, signed_fields(ac))

    def stamp(self) -> bytes:
        """The access control for our next message (sequence +1), as its TLV."""
        return self._encode(self.channel.next_message())

    def signed_request(self, request: Any) -> Any:
        """A CMIP request with our access control filled in (call right before sending)."""
        return replace(request, access_control=self.stamp())

    def association_request_info(self, functions: frozenset[str], recovery_mode: bool = False) -> bytes:
        ac = self.channel.association_request(functions, recovery_mode)
        return acse.build_cmip_user_info(self._encode(ac))

    def association_response_info(self, code: int = SUCCESS, text: str = "") -> bytes:
        ac = self._encode(self.channel.association_response()) if code == SUCCESS else None
        return acse.build_cmip_user_info(
            ac, user_info_tlv=encode_association_info(code, text), user_info_oid=NPAC_ASSOCIATION_INFO_OID
        )

    # ---- checking ---------------------------------------------------------------------------
    def violation(self, conn: CmipConnection, kind: str, detail: str, system_id: str | None = None) -> None:
        """IIS 5.2.2 step 4 / 5.2.3: abort with no further information, and log it (5.2.4)."""
        self.security_log("security-violation", kind=kind, detail=detail, peer=conn.peer_name,
                          system_id=system_id or self.peer_id)
        log.warning("aborting association with %s: %s (%s)", conn.peer_name, kind, detail)
        conn.abort()

    def check_message(self, conn: CmipConnection, access_control: bytes | None) -> AccessControl:
        """Check one incoming request / notification; aborts and raises AbortAssociation on failure."""
        if access_control is None:
            self.violation(conn, "missing", "message without access control")
            raise AbortAssociation()
        try:
            ac = decode_access_control(access_control)
            self.channel.accept_message(ac)
        except ProtocolError as exc:
            self.violation(conn, "malformed", exc.message)
            raise AbortAssociation() from None
        except SecurityViolation as exc:
            self.violation(conn, exc.kind, exc.detail)
            raise AbortAssociation() from None
        return ac

    # ---- association establishment (responder) -----------------------------------------------
    def on_associate(self, conn: CmipConnection, ind: AssociateIndication,
                     availability: Callable[[], tuple[int, str]] | None = None) -> Grant | None:
        """Accept or refuse an AARQ: node availability first, then IIS 5.2.2 step 3."""
        self.conn = conn
        if availability is not None:
            code, text = availability()
            if code != SUCCESS:
                conn.assoc.refuse(self.association_response_info(code, text), result=acse.REJECTED_TRANSIENT)
                self.security_log("association-refused", peer=conn.peer_name, code=code, detail=text)
                return None
        ac_tlv = ind.user_info.access_control if ind.user_info else None
        if ac_tlv is None:
            self.violation(conn, "missing", "AARQ without access control")
            return None
        try:
            ac = decode_access_control(ac_tlv)
            grant = self.channel.accept_association_request(ac)
        except ProtocolError as exc:
            self.violation(conn, "malformed", exc.message)
            return None
        except SecurityViolation as exc:
            self.violation(conn, exc.kind, exc.detail, ac.system_id)
            return None
        except AccessDenied as exc:
            conn.assoc.refuse(self.association_response_info(exc.code, exc.text))
            self.security_log("association-refused", peer=conn.peer_name, system_id=ac.system_id,
                              code=exc.code, detail=exc.text)
            return None
        conn.assoc.accept(self.association_response_info(SUCCESS))
        self.security_log("association-established", peer=conn.peer_name, system_id=ac.system_id,
                          system_type=ac.system_type, functions=sorted(ac.functions),
                          recovery_mode=ac.recovery_mode, user_id=ac.user_id)
        return grant

    # ---- association establishment (initiator) -----------------------------------------------
    def on_associate_response(self, conn: CmipConnection, user_info, expected_system_id: str | None) -> tuple[int, str]:
        """Check the AARE's access control (IIS 5.2.2 step 6); returns the NpacAssociationInfo code."""
        code, text = SUCCESS, ""
        if user_info is not None and user_info.user_info is not None:
            code, text = decode_association_info(user_info.user_info)
        if code != SUCCESS:
            return code, text
        ac_tlv = user_info.access_control if user_info else None
        try:
            if ac_tlv is None:
                raise SecurityViolation("missing", "AARE without access control")
            self.channel.accept_association_response(decode_access_control(ac_tlv), expected_system_id)
        except ProtocolError as exc:
            self.violation(conn, "malformed", exc.message)
            raise AbortAssociation() from None
        except SecurityViolation as exc:
            self.violation(conn, exc.kind, exc.detail)
            raise AbortAssociation() from None
        self.conn = conn
        return code, text


def event_access_control(info_type: type, event_info: bytes | None) -> bytes | None:
    """The access-control TLV inside a notification's information (LNP notifications carry their
    own, IIS 5.2.3), found by decoding the info with its LNP-ASN1 type. Some notification types tag
    the component differently ([5] in AuditResults); the TLV comes back under LnpAccessControl's
    own [0] tag, which is all that differs. VersionNewSP-CreateRequest carries it one level down,
    in its version-create-request component (a VersionCreateConcurrenceRequest)."""
    if event_info is None:
        return None
    from .asn1 import decode_with, encode

    try:
        value = decode_with(info_type, event_info)
    except ProtocolError:
        return None
    component = _access_control_component(value, 1)
    if component is None:
        return _extension_access_control(value)
    tlv = encode(component)
    return b"\xa0" + tlv[1:] if tlv[:1] and tlv[0] & 0xE0 == 0xA0 and tlv[0] & 0x1F != 0x1F else None


def _extension_access_control(value: Any) -> bytes | None:
    """The X.721 notifications the LNP classes emit (objectCreation, attributeValueChange) carry it as
    the accessControlParameter (GDMO L40410, CONTEXT EVENT-INFO): a ManagementExtension in their
    additionalInformation whose information is the LnpAccessControl TLV. The IIS leaves the place open;
    X.721 has no other field for an event-info parameter."""
    from .oids import OIDS

    if not isinstance(value, univ.Sequence) or "additionalInformation" not in value:
        return None
    extensions = value.getComponentByName("additionalInformation", default=None, instantiate=False)
    if extensions is None or not extensions.isValue:
        return None
    wanted = OIDS.parameter("accessControlParameter").oid
    for extension in extensions:
        if str(extension["identifier"]) == wanted:
            return bytes(extension["information"])
    return None


def _access_control_component(value: Any, depth: int) -> Any:
    """The present access-control component of a decoded SEQUENCE / SET, searched `depth` levels
    into its constructed components too; None when there is none."""
    if not isinstance(value, (univ.Sequence, univ.Set)):
        return None
    for name in ("access-control", "accessControl"):
        if name in value and value[name].isValue:
            return value[name]
    if depth > 0:
        for position in range(len(value.componentType)):
            inner = value.getComponentByPosition(position, default=None, instantiate=False)
            found = _access_control_component(inner, depth - 1) if inner is not None else None
            if found is not None:
                return found
    return None
