"""ISO 8823 / X.226 presentation PPDUs (normal mode) as pyasn1 types.

Transcribed from shared/asn1/ISO8823-PRESENTATION.asn. The module has no tag default, so the
untagged-IMPLICIT fields ([11], [12], [13], [14] and the [0] of PDV-list) are EXPLICIT.
X.410-mode alternatives are left out: the NPAC speaks normal mode only, and a peer that sends
them gets a decoding error. `DEFAULT` components are declared OPTIONAL so that the encoder writes
them when we set them (pyasn1 drops values equal to the default); readers apply the default.
"""
from __future__ import annotations

from pyasn1.type import namedtype, namedval, tag, univ


def _ctx(n: int) -> tag.Tag:
    return tag.Tag(tag.tagClassContext, tag.tagFormatSimple, n)


def _implicit(t, n: int):
    return t.subtype(implicitTag=_ctx(n))


def _explicit(t, n: int):
    return t.subtype(explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, n))


class ModeSelector(univ.Set):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType(
            "mode-value",
            _implicit(univ.Integer(namedValues=namedval.NamedValues(("x410-1984-mode", 0), ("normal-mode", 1))), 0),
        )
    )


class ProtocolVersion(univ.BitString):
    namedValues = namedval.NamedValues(("version-1", 0))


class PresentationSelector(univ.OctetString):
    pass


class TransferSyntaxNames(univ.SequenceOf):
    componentType = univ.ObjectIdentifier()


class ContextListItem(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("presentation-context-identifier", univ.Integer()),
        namedtype.NamedType("abstract-syntax-name", univ.ObjectIdentifier()),
        namedtype.NamedType("transfer-syntax-name-list", TransferSyntaxNames()),
    )


class ContextList(univ.SequenceOf):
    componentType = ContextListItem()


class DefaultContextName(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("abstract-syntax-name", _implicit(univ.ObjectIdentifier(), 0)),
        namedtype.NamedType("transfer-syntax-name", _implicit(univ.ObjectIdentifier(), 1)),
    )


class PresentationRequirements(univ.BitString):
    namedValues = namedval.NamedValues(("context-management", 0), ("restoration", 1))


class UserSessionRequirements(univ.BitString):
    namedValues = namedval.NamedValues(
        ("half-duplex", 0), ("duplex", 1), ("expedited-data", 2), ("minor-synchronize", 3),
        ("major-synchronize", 4), ("resynchronize", 5), ("activity-management", 6),
        ("negotiated-release", 7), ("capability-data", 8), ("exceptions", 9), ("typed-data", 10),
        ("symmetric-synchronize", 11), ("data-separation", 12),
    )


class ProtocolOptions(univ.BitString):
    namedValues = namedval.NamedValues(("nominated-context", 0), ("short-encoding", 1), ("packed-encoding-rules", 2))


class Result(univ.Integer):
    namedValues = namedval.NamedValues(("acceptance", 0), ("user-rejection", 1), ("provider-rejection", 2))


class ProviderReason(univ.Integer):
    namedValues = namedval.NamedValues(
        ("reason-not-specified", 0), ("temporary-congestion", 1), ("local-limit-exceeded", 2),
        ("called-presentation-address-unknown", 3), ("protocol-version-not-supported", 4),
        ("default-context-not-supported", 5), ("user-data-not-readable", 6), ("no-PSAP-available", 7),
    )


class ResultListItem(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("result", _implicit(Result(), 0)),
        namedtype.OptionalNamedType("transfer-syntax-name", _implicit(univ.ObjectIdentifier(), 1)),
        namedtype.OptionalNamedType(
            "provider-reason",
            _implicit(
                univ.Integer(
                    namedValues=namedval.NamedValues(
                        ("reason-not-specified", 0), ("abstract-syntax-not-supported", 1),
                        ("proposed-transfer-syntaxes-not-supported", 2), ("local-limit-on-DCS-exceeded", 3),
                    )
                ),
                2,
            ),
        ),
    )


class ResultList(univ.SequenceOf):
    componentType = ResultListItem()


class PresentationDataValues(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("single-ASN1-type", _explicit(univ.Any(), 0)),
        namedtype.NamedType("octet-aligned", _implicit(univ.OctetString(), 1)),
        namedtype.NamedType("arbitrary", _implicit(univ.BitString(), 2)),
    )


class PDVList(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("transfer-syntax-name", univ.ObjectIdentifier()),
        namedtype.NamedType("presentation-context-identifier", univ.Integer()),
        namedtype.NamedType("presentation-data-values", PresentationDataValues()),
    )


class FullyEncodedData(univ.SequenceOf):
    tagSet = univ.SequenceOf.tagSet.tagImplicitly(tag.Tag(tag.tagClassApplication, tag.tagFormatConstructed, 1))
    componentType = PDVList()


class SimplyEncodedData(univ.OctetString):
    tagSet = univ.OctetString.tagSet.tagImplicitly(tag.Tag(tag.tagClassApplication, tag.tagFormatSimple, 0))


class UserData(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("simply-encoded-data", SimplyEncodedData()),
        namedtype.NamedType("fully-encoded-data", FullyEncodedData()),
    )


class CPNormalModeParameters(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("protocol-version", _implicit(ProtocolVersion(), 0)),
        namedtype.OptionalNamedType("calling-presentation-selector", _implicit(PresentationSelector(), 1)),
        namedtype.OptionalNamedType("called-presentation-selector", _implicit(PresentationSelector(), 2)),
        namedtype.OptionalNamedType("presentation-context-definition-list", _implicit(ContextList(), 4)),
        namedtype.OptionalNamedType("default-context-name", _implicit(DefaultContextName(), 6)),
        namedtype.OptionalNamedType("presentation-requirements", _implicit(PresentationRequirements(), 8)),
        namedtype.OptionalNamedType("user-session-requirements", _implicit(UserSessionRequirements(), 9)),
        namedtype.OptionalNamedType("protocol-options", _explicit(ProtocolOptions(), 11)),
        namedtype.OptionalNamedType("initiators-nominated-context", _explicit(univ.Integer(), 12)),
        # SEQUENCE {...}: nothing is defined in it, so it is kept as the raw inner TLV.
        namedtype.OptionalNamedType("extensions", _explicit(univ.Any(), 14)),
        namedtype.OptionalNamedType("user-data", UserData()),
    )


class CPType(univ.Set):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("mode-selector", _implicit(ModeSelector(), 0)),
        namedtype.OptionalNamedType("normal-mode-parameters", _implicit(CPNormalModeParameters(), 2)),
    )


class CPANormalModeParameters(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("protocol-version", _implicit(ProtocolVersion(), 0)),
        namedtype.OptionalNamedType("responding-presentation-selector", _implicit(PresentationSelector(), 3)),
        namedtype.OptionalNamedType("presentation-context-definition-result-list", _implicit(ResultList(), 5)),
        namedtype.OptionalNamedType("presentation-requirements", _implicit(PresentationRequirements(), 8)),
        namedtype.OptionalNamedType("user-session-requirements", _implicit(UserSessionRequirements(), 9)),
        namedtype.OptionalNamedType("protocol-options", _explicit(ProtocolOptions(), 11)),
        namedtype.OptionalNamedType("responders-nominated-context", _explicit(univ.Integer(), 13)),
        namedtype.OptionalNamedType("user-data", UserData()),
    )


class CPAPPDU(univ.Set):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("mode-selector", _implicit(ModeSelector(), 0)),
        namedtype.OptionalNamedType("normal-mode-parameters", _implicit(CPANormalModeParameters(), 2)),
    )


class CPRNormalModeParameters(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("protocol-version", _implicit(ProtocolVersion(), 0)),
        namedtype.OptionalNamedType("responding-presentation-selector", _implicit(PresentationSelector(), 3)),
        namedtype.OptionalNamedType("presentation-context-definition-result-list", _implicit(ResultList(), 5)),
        namedtype.OptionalNamedType("default-context-result", _implicit(Result(), 7)),
        namedtype.OptionalNamedType("provider-reason", _implicit(ProviderReason(), 10)),
        namedtype.OptionalNamedType("user-data", UserData()),
    )


class CPRPPDU(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("normal-mode-parameters", CPRNormalModeParameters()),
    )


class ContextIdentifierItem(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("presentation-context-identifier", univ.Integer()),
        namedtype.NamedType("transfer-syntax-name", univ.ObjectIdentifier()),
    )


class ContextIdentifierList(univ.SequenceOf):
    componentType = ContextIdentifierItem()


class ARUNormalModeParameters(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("presentation-context-identifier-list", _implicit(ContextIdentifierList(), 0)),
        namedtype.OptionalNamedType("user-data", UserData()),
    )


class ARUPPDU(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType(
            "normal-mode-parameters",
            ARUNormalModeParameters().subtype(
                implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0)
            ),
        ),
    )


class AbortReason(univ.Integer):
    namedValues = namedval.NamedValues(
        ("reason-not-specified", 0), ("unrecognized-ppdu", 1), ("unexpected-ppdu", 2),
        ("unexpected-session-service-primitive", 3), ("unrecognized-ppdu-parameter", 4),
        ("unexpected-ppdu-parameter", 5), ("invalid-ppdu-parameter-value", 6),
    )


class ARPPPDU(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("provider-reason", _implicit(AbortReason(), 0)),
        namedtype.OptionalNamedType("event-identifier", _implicit(univ.Integer(), 1)),
    )


class AbortType(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("aru-ppdu", ARUPPDU()),
        namedtype.NamedType("arp-ppdu", ARPPPDU()),
    )
