"""X.227 ACSE-1 APDUs and X.711 CMIP A-ASSOCIATE / A-ABORT user information as pyasn1 types.

Transcribed from shared/asn1/ACSE-1.asn, CMIP-A-ASSOCIATE-Information.asn and
CMIP-A-ABORT-Information.asn. None of the three modules has a tag default, so every tag not
marked IMPLICIT is EXPLICIT: `[1] Application-context-name` is A1 {06 ...}, CMIPUserInfo's
`accessControl [2] EXTERNAL` is A2 {28 ...}. `DEFAULT` components are declared OPTIONAL so the
encoder writes the values we set (readers apply the default). Extension additions that X.227
does not define make the decoder fail, which the parsers turn into ProtocolError.
"""
from __future__ import annotations

from pyasn1.type import char, namedtype, namedval, tag, univ

from .external import External


def _ctx(n: int) -> tag.Tag:
    return tag.Tag(tag.tagClassContext, tag.tagFormatSimple, n)


def _implicit(t, n: int):
    return t.subtype(implicitTag=_ctx(n))


def _explicit(t, n: int):
    return t.subtype(explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, n))


def _application(t, n: int):
    return t.tagSet.tagImplicitly(tag.Tag(tag.tagClassApplication, tag.tagFormatConstructed, n))


# --- X.501 Name / RelativeDistinguishedName, for AP-title-form1 and AE-qualifier-form1
class AttributeTypeAndValue(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("type", univ.ObjectIdentifier()),
        namedtype.NamedType("value", univ.Any()),
    )


class RelativeDistinguishedName(univ.SetOf):
    componentType = AttributeTypeAndValue()


class RDNSequence(univ.SequenceOf):
    componentType = RelativeDistinguishedName()


class Name(univ.Choice):
    componentType = namedtype.NamedTypes(namedtype.NamedType("rdnSequence", RDNSequence()))


class APTitle(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("ap-title-form1", Name()),
        namedtype.NamedType("ap-title-form2", univ.ObjectIdentifier()),
    )


class AEQualifier(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("ae-qualifier-form1", RelativeDistinguishedName()),
        namedtype.NamedType("ae-qualifier-form2", univ.Integer()),
    )


class AssociationInformation(univ.SequenceOf):
    componentType = External()


class ApplicationContextNameList(univ.SequenceOf):
    componentType = univ.ObjectIdentifier()


class OtherAuthentication(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("other-mechanism-name", univ.ObjectIdentifier()),
        namedtype.NamedType("other-mechanism-value", univ.Any()),
    )


class AuthenticationValue(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("charstring", _implicit(char.GraphicString(), 0)),
        namedtype.NamedType("bitstring", _implicit(univ.BitString(), 1)),
        namedtype.NamedType(
            "external", External().subtype(implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 2))
        ),
        namedtype.NamedType("other", _implicit(OtherAuthentication(), 3)),
    )


class ACSERequirements(univ.BitString):
    namedValues = namedval.NamedValues(("authentication", 0), ("application-context-negotiation", 1))


class ACSEProtocolVersion(univ.BitString):
    namedValues = namedval.NamedValues(("version1", 0))


def _opt(name: str, t):
    return namedtype.OptionalNamedType(name, t)


def _user_information():
    return _opt("user-information", _implicit(AssociationInformation(), 30))


def _implementation_information():
    return _opt("implementation-information", _implicit(char.GraphicString(), 29))


class AARQApdu(univ.Sequence):
    tagSet = _application(univ.Sequence, 0)
    componentType = namedtype.NamedTypes(
        _opt("protocol-version", _implicit(ACSEProtocolVersion(), 0)),
        namedtype.NamedType("application-context-name", _explicit(univ.ObjectIdentifier(), 1)),
        _opt("called-AP-title", _explicit(APTitle(), 2)),
        _opt("called-AE-qualifier", _explicit(AEQualifier(), 3)),
        _opt("called-AP-invocation-identifier", _explicit(univ.Integer(), 4)),
        _opt("called-AE-invocation-identifier", _explicit(univ.Integer(), 5)),
        _opt("calling-AP-title", _explicit(APTitle(), 6)),
        _opt("calling-AE-qualifier", _explicit(AEQualifier(), 7)),
        _opt("calling-AP-invocation-identifier", _explicit(univ.Integer(), 8)),
        _opt("calling-AE-invocation-identifier", _explicit(univ.Integer(), 9)),
        _opt("sender-acse-requirements", _implicit(ACSERequirements(), 10)),
        _opt("mechanism-name", _implicit(univ.ObjectIdentifier(), 11)),
        _opt("calling-authentication-value", _explicit(AuthenticationValue(), 12)),
        _opt("application-context-name-list", _implicit(ApplicationContextNameList(), 13)),
        _implementation_information(),
        _user_information(),
    )


class AssociateSourceDiagnostic(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("acse-service-user", _explicit(univ.Integer(), 1)),
        namedtype.NamedType("acse-service-provider", _explicit(univ.Integer(), 2)),
    )


class AAREApdu(univ.Sequence):
    tagSet = _application(univ.Sequence, 1)
    componentType = namedtype.NamedTypes(
        _opt("protocol-version", _implicit(ACSEProtocolVersion(), 0)),
        namedtype.NamedType("application-context-name", _explicit(univ.ObjectIdentifier(), 1)),
        namedtype.NamedType("result", _explicit(univ.Integer(), 2)),
        namedtype.NamedType("result-source-diagnostic", _explicit(AssociateSourceDiagnostic(), 3)),
        _opt("responding-AP-title", _explicit(APTitle(), 4)),
        _opt("responding-AE-qualifier", _explicit(AEQualifier(), 5)),
        _opt("responding-AP-invocation-identifier", _explicit(univ.Integer(), 6)),
        _opt("responding-AE-invocation-identifier", _explicit(univ.Integer(), 7)),
        _opt("responder-acse-requirements", _implicit(ACSERequirements(), 8)),
        _opt("mechanism-name", _implicit(univ.ObjectIdentifier(), 9)),
        _opt("responding-authentication-value", _explicit(AuthenticationValue(), 10)),
        _opt("application-context-name-list", _implicit(ApplicationContextNameList(), 11)),
        _implementation_information(),
        _user_information(),
    )


class RLRQApdu(univ.Sequence):
    tagSet = _application(univ.Sequence, 2)
    componentType = namedtype.NamedTypes(_opt("reason", _implicit(univ.Integer(), 0)), _user_information())


class RLREApdu(univ.Sequence):
    tagSet = _application(univ.Sequence, 3)
    componentType = namedtype.NamedTypes(_opt("reason", _implicit(univ.Integer(), 0)), _user_information())


class ABRTApdu(univ.Sequence):
    tagSet = _application(univ.Sequence, 4)
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("abort-source", _implicit(univ.Integer(), 0)),
        _opt("abort-diagnostic", _implicit(univ.Enumerated(), 1)),
        _user_information(),
    )


class ACSEApdu(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("aarq", AARQApdu()),
        namedtype.NamedType("aare", AAREApdu()),
        namedtype.NamedType("rlrq", RLRQApdu()),
        namedtype.NamedType("rlre", RLREApdu()),
        namedtype.NamedType("abrt", ABRTApdu()),
    )


# --- X.711 CMIP-A-ASSOCIATE-Information and CMIP-A-ABORT-Information
class CMIPProtocolVersion(univ.BitString):
    namedValues = namedval.NamedValues(("version1", 0), ("version2", 1))


class FunctionalUnits(univ.BitString):
    namedValues = namedval.NamedValues(
        ("multipleObjectSelection", 0), ("filter", 1), ("multipleReply", 2), ("extendedService", 3), ("cancelGet", 4)
    )


class CMIPUserInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _opt("protocolVersion", _implicit(CMIPProtocolVersion(), 0)),
        _opt("functionalUnits", _implicit(FunctionalUnits(), 1)),
        _opt("accessControl", _explicit(External(), 2)),
        _opt("userInfo", _explicit(External(), 3)),
    )


class CMIPAbortSource(univ.Enumerated):
    namedValues = namedval.NamedValues(("cmiseServiceUser", 0), ("cmiseServiceProvider", 1))


class CMIPAbortInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("abortSource", _implicit(CMIPAbortSource(), 0)),
        _opt("userInfo", _explicit(External(), 1)),
    )


# Wireshark's CMIP dissector reads `[n] EXTERNAL` as IMPLICIT (A2 {06 .. A0 ..} instead of the
# standard A2 {28 {...}}). We always send the standard form; these let us read the other one too.
def _implicit_external(n: int) -> External:
    return External().subtype(implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, n))


class CMIPUserInfoImplicitExternals(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _opt("protocolVersion", _implicit(CMIPProtocolVersion(), 0)),
        _opt("functionalUnits", _implicit(FunctionalUnits(), 1)),
        _opt("accessControl", _implicit_external(2)),
        _opt("userInfo", _implicit_external(3)),
    )


class CMIPAbortInfoImplicitExternal(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("abortSource", _implicit(CMIPAbortSource(), 0)),
        _opt("userInfo", _implicit_external(1)),
    )
