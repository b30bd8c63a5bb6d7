"""X.227 ACSE (kernel) and X.711 CMIP association user information: builders and parsers.

Callers work with the frozen dataclasses here and never touch pyasn1 (types in `acse_asn1`).
`parse_*` functions take peer bytes and raise only ProtocolError; `build_*`/`encode_*` functions
take our own values and raise ValueError on bad arguments.

NPAC binding (shared/spec/DECISIONS.md, "Wire details"): CMIPUserInfo rides in the ACSE
user-information as one EXTERNAL, single-ASN1-type, indirect-reference = the CMIP presentation
context id (3). That is also what Wireshark needs: its ACSE dissector maps the indirect reference
through the presentation context list to the CMIP dissector, which decodes CMIPUserInfo on
connect/release and CMIPAbortInfo on abort. A direct-reference is left out by default because
Wireshark would try to dissect by it instead. LnpAccessControl travels in
CMIPUserInfo.accessControl with direct-reference 2.16.840.1.4.1.1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Union


from . import ber
from .acse_asn1 import (  # noqa: F401  (re-exported: the pyasn1 APDUs of this layer)
    AARQApdu, AAREApdu, ABRTApdu, ACSEApdu, ACSEProtocolVersion, ACSERequirements, AEQualifier, APTitle,
    ApplicationContextNameList, AssociateSourceDiagnostic, AssociationInformation, AttributeTypeAndValue,
    AuthenticationValue, CMIPAbortInfo, CMIPAbortInfoImplicitExternal, CMIPAbortSource, CMIPProtocolVersion,
    CMIPUserInfo, CMIPUserInfoImplicitExternals, FunctionalUnits,
    Name, OtherAuthentication, RDNSequence, RelativeDistinguishedName, RLREApdu, RLRQApdu,
)
from .asn1util import DECODE_ERRORS, decode, encode, peer_errors
from .errors import ProtocolError
from .external import External

LAYER = "acse"

CMIP_APPLICATION_CONTEXT = "2.9.0.0.2"
ACSE_ABSTRACT_SYNTAX = "2.2.1.0.1"
LNP_ACCESS_CONTROL_OID = "2.16.840.1.4.1.1"  # {lnp-attribute 1}: the accessControl attribute
CMIP_CONTEXT_ID = 3
# ACSE APDUs ride in session connect/release/abort user data (10240 octets at most in session v2)
# and carry a few hundred octets of CMIP user information, so 64 KiB is generous.
MAX_APDU = 1 << 16
MAX_BITS = 256  # versions, functional units, ACSE requirements: a few named bits each

DIAG_USER = "acse-service-user"
DIAG_PROVIDER = "acse-service-provider"

# Associate-result
ACCEPTED, REJECTED_PERMANENT, REJECTED_TRANSIENT = 0, 1, 2
# ABRT-source / CMIPAbortSource
SOURCE_USER, SOURCE_PROVIDER = 0, 1

ApTitle = Union[str, bytes]  # str: form2 (OBJECT IDENTIFIER); bytes: form1 (X.501 Name TLV)
AeQualifier = Union[int, bytes]  # int: form2 (INTEGER); bytes: form1 (RelativeDistinguishedName TLV)


class ExternalItem(NamedTuple):
    """One EXTERNAL of user-information: value is the single-ASN1-type TLV (or the octet-aligned octets)."""

    direct_ref: str | None
    indirect_ref: int | None
    value: bytes


@dataclass(frozen=True)
class AARQ:
    application_context: str = CMIP_APPLICATION_CONTEXT
    called_ap_title: ApTitle | None = None
    called_ae_qualifier: AeQualifier | None = None
    called_ap_invocation_id: int | None = None
    called_ae_invocation_id: int | None = None
    calling_ap_title: ApTitle | None = None
    calling_ae_qualifier: AeQualifier | None = None
    calling_ap_invocation_id: int | None = None
    calling_ae_invocation_id: int | None = None
    protocol_versions: tuple[int, ...] = (1,)
    acse_requirements: tuple[int, ...] = ()  # bit numbers set in sender-acse-requirements
    mechanism_name: str | None = None
    authentication_value: bytes | None = None  # the Authentication-value CHOICE as a TLV
    application_context_list: tuple[str, ...] = ()
    implementation_information: str | None = None
    user_information: tuple[ExternalItem, ...] = ()


@dataclass(frozen=True)
class AARE:
    application_context: str = CMIP_APPLICATION_CONTEXT
    result: int = ACCEPTED
    diagnostic_source: str = DIAG_USER
    diagnostic: int = 0
    responding_ap_title: ApTitle | None = None
    responding_ae_qualifier: AeQualifier | None = None
    responding_ap_invocation_id: int | None = None
    responding_ae_invocation_id: int | None = None
    protocol_versions: tuple[int, ...] = (1,)
    acse_requirements: tuple[int, ...] = ()
    mechanism_name: str | None = None
    authentication_value: bytes | None = None
    application_context_list: tuple[str, ...] = ()
    implementation_information: str | None = None
    user_information: tuple[ExternalItem, ...] = ()


@dataclass(frozen=True)
class RLRQ:
    reason: int | None = 0  # normal(0), urgent(1), user-defined(30)
    user_information: tuple[ExternalItem, ...] = ()


@dataclass(frozen=True)
class RLRE:
    reason: int | None = 0  # normal(0), not-finished(1), user-defined(30)
    user_information: tuple[ExternalItem, ...] = ()


@dataclass(frozen=True)
class ABRT:
    source: int = SOURCE_USER
    diagnostic: int | None = None
    user_information: tuple[ExternalItem, ...] = ()


AcseRecord = Union[AARQ, AARE, RLRQ, RLRE, ABRT]


@dataclass(frozen=True)
class CMIPUserInfoRecord:
    protocol_versions: tuple[int, ...] = (1,)
    functional_units: tuple[int, ...] = ()
    access_control: bytes | None = None  # inner TLV of the accessControl EXTERNAL (LnpAccessControl)
    access_control_oid: str | None = None
    user_info: bytes | None = None
    user_info_oid: str | None = None


@dataclass(frozen=True)
class CMIPAbortInfoRecord:
    source: int = SOURCE_USER  # cmiseServiceUser(0), cmiseServiceProvider(1)
    user_info: bytes | None = None
    user_info_oid: str | None = None


# ------------------------------------------------------------------------------------ helpers
def _bits(numbers: tuple[int, ...]) -> tuple[int, ...]:
    """BIT STRING value with the given bit numbers set."""
    if any(not 0 <= n < 64 for n in numbers):
        raise ValueError(f"bit numbers out of range: {numbers}")
    size = max(numbers) + 1 if numbers else 0
    return tuple(1 if i in numbers else 0 for i in range(size))


def _set_bits(value) -> tuple[int, ...]:
    # Indexing a pyasn1 BIT STRING is O(n) per bit; go through the integer value instead.
    size = len(value)
    if size > MAX_BITS:
        raise ProtocolError(LAYER, f"BIT STRING of {size} bits where a handful are defined")
    number = value.asInteger()
    return tuple(i for i in range(size) if number >> (size - 1 - i) & 1)


def _versions_bits(versions: tuple[int, ...]) -> tuple[int, ...]:
    return _bits(tuple(v - 1 for v in versions))


def _bits_versions(value) -> tuple[int, ...]:
    return tuple(i + 1 for i in _set_bits(value))


def _single_tlv(value: bytes, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise ValueError(f"{what} must be bytes")
    try:
        ber.single_tlv(bytes(value), LAYER)
    except ProtocolError as exc:
        raise ValueError(f"{what} is not one BER value: {exc.message}") from None
    return bytes(value)


def _local(value: bytes, spec, what: str):
    """Our own form1 title/qualifier bytes as a pyasn1 value (ValueError if they are not one)."""
    try:
        return decode(_single_tlv(value, what), spec, LAYER, what, MAX_APDU)
    except ProtocolError as exc:
        raise ValueError(f"{what}: {exc.message}") from None


def _fill_external(ext: External, item: ExternalItem) -> None:
    if item.direct_ref is not None:
        ext["direct-reference"] = item.direct_ref
    if item.indirect_ref is not None:
        ext["indirect-reference"] = item.indirect_ref
    ext["encoding"]["single-ASN1-type"] = _single_tlv(item.value, "EXTERNAL value")


def _read_external(ext) -> ExternalItem:
    direct = str(ext["direct-reference"]) if ext["direct-reference"].isValue else None
    indirect = int(ext["indirect-reference"]) if ext["indirect-reference"].isValue else None
    enc = ext["encoding"]
    name = enc.getName()
    if name == "single-ASN1-type":
        value = bytes(enc["single-ASN1-type"])
        ber.single_tlv(value, LAYER)
    elif name == "octet-aligned":
        value = bytes(enc["octet-aligned"])
    else:
        raise ProtocolError(LAYER, "EXTERNAL with arbitrary (BIT STRING) encoding is not supported")
    return ExternalItem(direct, indirect, value)


def _user_items(user_info: bytes | None, ctx_id: int | None, direct_ref: str | None) -> tuple[ExternalItem, ...]:
    if user_info is None:
        return ()
    return (ExternalItem(direct_ref, ctx_id, user_info),)


def user_info_for(items: tuple[ExternalItem, ...] | list[ExternalItem], ctx_id: int) -> bytes | None:
    """The value of the EXTERNAL addressed to presentation context ctx_id (or the only unaddressed one)."""
    for item in items:
        if item.indirect_ref == ctx_id:
            return item.value
    unaddressed = [item for item in items if item.indirect_ref is None]
    return unaddressed[0].value if len(unaddressed) == 1 else None


# ------------------------------------------------------------------------------------ encoding
def _set_title(comp, value: ApTitle) -> None:
    if isinstance(value, str):
        comp["ap-title-form2"] = value
    else:
        comp["ap-title-form1"] = _local(value, Name(), "AP-title form1")


def _set_qualifier(comp, value: AeQualifier) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, bytes, bytearray)):
        raise ValueError("AE-qualifier must be int (form2) or bytes (form1)")
    if isinstance(value, int):
        comp["ae-qualifier-form2"] = value
    else:
        comp["ae-qualifier-form1"] = _local(value, RelativeDistinguishedName(), "AE-qualifier form1")


def _set_association(apdu, rec: AARQ | AARE, prefixes: tuple[str, ...]) -> None:
    """The fields AARQ and AARE share, with AARQ's called-/calling- or AARE's responding- names."""
    apdu["protocol-version"] = _versions_bits(rec.protocol_versions)
    apdu["application-context-name"] = rec.application_context
    for pfx in prefixes:
        title = getattr(rec, f"{pfx}_ap_title")
        if title is not None:
            _set_title(apdu[f"{pfx}-AP-title"], title)
        qualifier = getattr(rec, f"{pfx}_ae_qualifier")
        if qualifier is not None:
            _set_qualifier(apdu[f"{pfx}-AE-qualifier"], qualifier)
        for kind in ("AP", "AE"):
            inv = getattr(rec, f"{pfx}_{kind.lower()}_invocation_id")
            if inv is not None:
                apdu[f"{pfx}-{kind}-invocation-identifier"] = inv
    req_name = "sender-acse-requirements" if isinstance(rec, AARQ) else "responder-acse-requirements"
    if rec.acse_requirements:
        apdu[req_name] = _bits(rec.acse_requirements)
    if rec.mechanism_name is not None:
        apdu["mechanism-name"] = rec.mechanism_name
    if rec.authentication_value is not None:
        auth_name = "calling-authentication-value" if isinstance(rec, AARQ) else "responding-authentication-value"
        value = _local(rec.authentication_value, AuthenticationValue(), "Authentication-value")
        apdu[auth_name][value.getName()] = value.getComponent()
    if rec.application_context_list:
        names = apdu["application-context-name-list"]
        for oid in rec.application_context_list:
            names.append(oid)
    if rec.implementation_information is not None:
        apdu["implementation-information"] = rec.implementation_information


def _set_user_information(apdu, items: tuple[ExternalItem, ...]) -> None:
    if not items:
        return
    info = apdu["user-information"]
    for item in items:
        ext = External()
        _fill_external(ext, item)
        info.append(ext)


def encode_acse(rec: AcseRecord) -> bytes:
    """BER of one ACSE APDU from its record (ValueError if a field cannot be encoded)."""
    try:
        if isinstance(rec, AARQ):
            apdu = AARQApdu()
            _set_association(apdu, rec, ("called", "calling"))
        elif isinstance(rec, AARE):
            apdu = AAREApdu()
            _set_association(apdu, rec, ("responding",))
            apdu["result"] = rec.result
            if rec.diagnostic_source not in (DIAG_USER, DIAG_PROVIDER):
                raise ValueError(f"unknown diagnostic source {rec.diagnostic_source!r}")
            apdu["result-source-diagnostic"][rec.diagnostic_source] = rec.diagnostic
        elif isinstance(rec, (RLRQ, RLRE)):
            apdu = RLRQApdu() if isinstance(rec, RLRQ) else RLREApdu()
            if rec.reason is not None:
                apdu["reason"] = rec.reason
        elif isinstance(rec, ABRT):
            apdu = ABRTApdu()
            apdu["abort-source"] = rec.source
            if rec.diagnostic is not None:
                apdu["abort-diagnostic"] = rec.diagnostic
        else:
            raise ValueError(f"not an ACSE record: {rec!r}")
        _set_user_information(apdu, rec.user_information)
        return encode(apdu)
    except DECODE_ERRORS as exc:
        if isinstance(exc, ValueError):
            raise
        raise ValueError(f"cannot encode {type(rec).__name__}: {exc}"[:300]) from exc


def build_aarq(
    app_context: str = CMIP_APPLICATION_CONTEXT,
    user_info: bytes | None = None,
    calling_ap_title: ApTitle | None = None,
    calling_ae_qualifier: AeQualifier | None = None,
    called_ap_title: ApTitle | None = None,
    called_ae_qualifier: AeQualifier | None = None,
    *,
    user_info_ctx: int | None = CMIP_CONTEXT_ID,
    user_info_direct_ref: str | None = None,
    **more,
) -> bytes:
    """AARQ; user_info (normally build_cmip_user_info's result) goes in one EXTERNAL.

    `more` takes any other AARQ field by name (e.g. calling_ap_invocation_id).
    """
    return encode_acse(AARQ(
        application_context=app_context, calling_ap_title=calling_ap_title,
        calling_ae_qualifier=calling_ae_qualifier, called_ap_title=called_ap_title,
        called_ae_qualifier=called_ae_qualifier,
        user_information=_user_items(user_info, user_info_ctx, user_info_direct_ref), **more,
    ))


def build_aare(
    app_context: str = CMIP_APPLICATION_CONTEXT,
    result: int = ACCEPTED,
    diagnostic: int = 0,
    user_info: bytes | None = None,
    *,
    diagnostic_source: str = DIAG_USER,
    responding_ap_title: ApTitle | None = None,
    responding_ae_qualifier: AeQualifier | None = None,
    user_info_ctx: int | None = CMIP_CONTEXT_ID,
    user_info_direct_ref: str | None = None,
    **more,
) -> bytes:
    """AARE; diagnostic is read in diagnostic_source's table (user: 1 no-reason-given, 2 context not supported, ...)."""
    return encode_acse(AARE(
        application_context=app_context, result=result, diagnostic_source=diagnostic_source,
        diagnostic=diagnostic, responding_ap_title=responding_ap_title,
        responding_ae_qualifier=responding_ae_qualifier,
        user_information=_user_items(user_info, user_info_ctx, user_info_direct_ref), **more,
    ))


def build_rlrq(reason: int | None = 0, user_info: bytes | None = None, *, user_info_ctx: int | None = CMIP_CONTEXT_ID,
               user_info_direct_ref: str | None = None) -> bytes:
    return encode_acse(RLRQ(reason, _user_items(user_info, user_info_ctx, user_info_direct_ref)))


def build_rlre(reason: int | None = 0, user_info: bytes | None = None, *, user_info_ctx: int | None = CMIP_CONTEXT_ID,
               user_info_direct_ref: str | None = None) -> bytes:
    return encode_acse(RLRE(reason, _user_items(user_info, user_info_ctx, user_info_direct_ref)))


def build_abrt(source: int = SOURCE_USER, user_info: bytes | None = None, *, diagnostic: int | None = None,
               user_info_ctx: int | None = CMIP_CONTEXT_ID, user_info_direct_ref: str | None = None) -> bytes:
    """ABRT; user_info is normally build_cmip_abort_info's result (Wireshark decodes it as CMIPAbortInfo)."""
    return encode_acse(ABRT(source, diagnostic, _user_items(user_info, user_info_ctx, user_info_direct_ref)))


# ------------------------------------------------------------------------------------ parsing
def _opt(apdu, name: str, conv):
    comp = apdu[name]
    return conv(comp) if comp.isValue else None


def _title(comp) -> ApTitle:
    if comp.getName() == "ap-title-form2":
        return str(comp["ap-title-form2"])
    return encode(comp["ap-title-form1"])


def _qualifier(comp) -> AeQualifier:
    if comp.getName() == "ae-qualifier-form2":
        return int(comp["ae-qualifier-form2"])
    return encode(comp["ae-qualifier-form1"])


def _authentication_tlv(comp) -> bytes:
    """The Authentication-value CHOICE without the [12]/[10] EXPLICIT wrapper around it."""
    value = AuthenticationValue()
    value[comp.getName()] = comp.getComponent()
    return encode(value)


def _association_fields(apdu, prefixes: tuple[str, ...], req_name: str, auth_name: str) -> dict:
    out: dict = {
        "application_context": str(apdu["application-context-name"]),
        "acse_requirements": _opt(apdu, req_name, _set_bits) or (),
        "mechanism_name": _opt(apdu, "mechanism-name", str),
        "authentication_value": _opt(apdu, auth_name, _authentication_tlv),
        "application_context_list": _opt(apdu, "application-context-name-list",
                                         lambda c: tuple(str(o) for o in c)) or (),
        "implementation_information": _opt(apdu, "implementation-information",
                                           lambda c: bytes(c).decode("latin-1")),
    }
    version = apdu["protocol-version"]
    out["protocol_versions"] = _bits_versions(version) if version.isValue else (1,)  # DEFAULT {version1}
    for pfx in prefixes:
        out[f"{pfx}_ap_title"] = _opt(apdu, f"{pfx}-AP-title", _title)
        out[f"{pfx}_ae_qualifier"] = _opt(apdu, f"{pfx}-AE-qualifier", _qualifier)
        out[f"{pfx}_ap_invocation_id"] = _opt(apdu, f"{pfx}-AP-invocation-identifier", int)
        out[f"{pfx}_ae_invocation_id"] = _opt(apdu, f"{pfx}-AE-invocation-identifier", int)
    return out


def parse_acse(apdu: bytes, max_len: int = MAX_APDU) -> AcseRecord:
    """One ACSE APDU (AARQ, AARE, RLRQ, RLRE or ABRT) from peer bytes."""
    value = decode(apdu, ACSEApdu(), LAYER, "ACSE APDU", max_len)
    with peer_errors(LAYER, "ACSE APDU"):
        kind = value.getName()
        body = value[kind]
        items = _opt(body, "user-information", lambda c: tuple(_read_external(e) for e in c)) or ()
        if kind == "aarq":
            return AARQ(
                **_association_fields(body, ("called", "calling"),
                                      "sender-acse-requirements", "calling-authentication-value"),
                user_information=items,
            )
        if kind == "aare":
            diag = body["result-source-diagnostic"]
            return AARE(
                result=int(body["result"]),
                diagnostic_source=diag.getName(),
                diagnostic=int(diag.getComponent()),
                **_association_fields(body, ("responding",),
                                      "responder-acse-requirements", "responding-authentication-value"),
                user_information=items,
            )
        if kind in ("rlrq", "rlre"):
            cls = RLRQ if kind == "rlrq" else RLRE
            return cls(_opt(body, "reason", int), items)
        return ABRT(int(body["abort-source"]), _opt(body, "abort-diagnostic", int), items)


# ---------------------------------------------------------------------------- CMIP user info
def encode_cmip_user_info(rec: CMIPUserInfoRecord) -> bytes:
    info = CMIPUserInfo()
    try:
        info["protocolVersion"] = _versions_bits(rec.protocol_versions)
        if rec.functional_units:
            info["functionalUnits"] = _bits(rec.functional_units)
        if rec.access_control is not None:
            _fill_external(info["accessControl"], ExternalItem(rec.access_control_oid, None, rec.access_control))
        if rec.user_info is not None:
            _fill_external(info["userInfo"], ExternalItem(rec.user_info_oid, None, rec.user_info))
        return encode(info)
    except DECODE_ERRORS as exc:
        if isinstance(exc, ValueError):
            raise
        raise ValueError(f"cannot encode CMIPUserInfo: {exc}"[:300]) from exc


def build_cmip_user_info(
    access_control_tlv: bytes | None = None,
    versions: tuple[int, ...] = (1, 2),
    functional_units: tuple[int, ...] = (),
    *,
    access_control_oid: str | None = LNP_ACCESS_CONTROL_OID,
    user_info_tlv: bytes | None = None,
    user_info_oid: str | None = None,
) -> bytes:
    """CMIPUserInfo offering `versions`; LnpAccessControl goes in accessControl (single-ASN1-type)."""
    return encode_cmip_user_info(CMIPUserInfoRecord(
        tuple(versions), tuple(functional_units), access_control_tlv,
        access_control_oid if access_control_tlv is not None else None, user_info_tlv, user_info_oid,
    ))


def _external_parts(comp) -> tuple[bytes | None, str | None]:
    if not comp.isValue:
        return None, None
    item = _read_external(comp)
    return item.value, item.direct_ref


def _implicit_externals(tlv: bytes, max_len: int, tags: tuple[int, ...]) -> bool:
    """Whether an [n] EXTERNAL field is encoded IMPLICIT (Wireshark's reading) rather than A{n} {28 ...}."""
    if not isinstance(tlv, (bytes, bytearray)) or len(tlv) > max_len:
        return False  # the real decode reports it
    tlv = bytes(tlv)
    try:
        _, start, end = ber.single_tlv(tlv, LAYER)
        for tag, cstart, cend, _ in ber.children(tlv, start, end, LAYER):
            if tag in tags and cstart < cend and tlv[cstart] != 0x28:
                return True
    except ProtocolError:
        pass  # the real decode reports it
    return False


def parse_cmip_user_info(tlv: bytes, max_len: int = MAX_APDU) -> CMIPUserInfoRecord:
    """CMIPUserInfo; [2]/[3] EXTERNAL are read in the standard EXPLICIT form and also IMPLICIT."""
    spec = CMIPUserInfoImplicitExternals() if _implicit_externals(tlv, max_len, (0xA2, 0xA3)) else CMIPUserInfo()
    info = decode(tlv, spec, LAYER, "CMIPUserInfo", max_len)
    with peer_errors(LAYER, "CMIPUserInfo"):
        versions = _opt(info, "protocolVersion", _bits_versions)
        units = _opt(info, "functionalUnits", _set_bits) or ()
        access, access_oid = _external_parts(info["accessControl"])
        user, user_oid = _external_parts(info["userInfo"])
    return CMIPUserInfoRecord((1,) if versions is None else versions, units, access, access_oid, user, user_oid)


def build_cmip_abort_info(source: int = SOURCE_USER, user_info_tlv: bytes | None = None,
                          user_info_oid: str | None = None) -> bytes:
    info = CMIPAbortInfo()
    try:
        info["abortSource"] = source
        if user_info_tlv is not None:
            _fill_external(info["userInfo"], ExternalItem(user_info_oid, None, user_info_tlv))
        return encode(info)
    except DECODE_ERRORS as exc:
        if isinstance(exc, ValueError):
            raise
        raise ValueError(f"cannot encode CMIPAbortInfo: {exc}"[:300]) from exc


def parse_cmip_abort_info(tlv: bytes, max_len: int = MAX_APDU) -> CMIPAbortInfoRecord:
    """CMIPAbortInfo; userInfo [1] EXTERNAL is read EXPLICIT (standard) and also IMPLICIT."""
    spec = CMIPAbortInfoImplicitExternal() if _implicit_externals(tlv, max_len, (0xA1,)) else CMIPAbortInfo()
    info = decode(tlv, spec, LAYER, "CMIPAbortInfo", max_len)
    with peer_errors(LAYER, "CMIPAbortInfo"):
        source = int(info["abortSource"])
        user, user_oid = _external_parts(info["userInfo"])
    return CMIPAbortInfoRecord(source, user, user_oid)
