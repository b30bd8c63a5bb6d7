"""The three types LNP-ASN1 imports, with the standard types they are made of, as pyasn1 classes.

* `ObjectClass`, `ObjectInstance` from CMIP-1 (X.711, `shared/asn1/CMIP-1.asn`). CMIP-1 has no
  tagging default, so its tags are EXPLICIT unless written IMPLICIT; every tag these two use is
  written IMPLICIT. The X.501 name types are CMIP-1's own `RDNSequence` /
  `RelativeDistinguishedName ::= SET OF AttributeValueAssertion`; an attribute value is an open
  type and stays one complete TLV (`univ.Any`) so that only its owner decodes it.
* `AttributeValueChangeInfo` from Notification-ASN1Module (X.721, reconstructed in
  `shared/asn1/Notification-ASN1Module.asn`): the wrapper SEQUENCE, not the bare
  `AttributeValueChangeDefinition` SET OF (see `shared/asn1/README.md`). Its parts come from
  Attribute-ASN1Module; both X.721 modules are IMPLICIT TAGS, and X.680 makes a tagged open type
  EXPLICIT even there, hence the explicit [1]/[2] on the old/new values and on
  `ManagementExtension.information`.
"""
from pyasn1.type import char, constraint, namedtype, namedval, tag, univ

from .opentype import TaggedAny


def _ctx(number: int, constructed: bool = False) -> tag.Tag:
    fmt = tag.tagFormatConstructed if constructed else tag.tagFormatSimple
    return tag.Tag(tag.tagClassContext, fmt, number)


# --- CMIP-1 -------------------------------------------------------------------------------------


class AttributeValueAssertion(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("id", univ.ObjectIdentifier()),
        namedtype.NamedType("value", univ.Any()),
    )


class RelativeDistinguishedName(univ.SetOf):
    componentType = AttributeValueAssertion()


class RDNSequence(univ.SequenceOf):
    componentType = RelativeDistinguishedName()


class DistinguishedName(RDNSequence):
    pass


class ObjectClass(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("globalForm", univ.ObjectIdentifier().subtype(implicitTag=_ctx(0))),
        namedtype.NamedType("localForm", univ.Integer().subtype(implicitTag=_ctx(1))),
    )


class ObjectInstance(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("distinguishedName", DistinguishedName().subtype(implicitTag=_ctx(2, True))),
        namedtype.NamedType("nonSpecificForm", univ.OctetString().subtype(implicitTag=_ctx(3))),
        namedtype.NamedType("localDistinguishedName", RDNSequence().subtype(implicitTag=_ctx(4, True))),
    )


class AttributeId(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("globalForm", univ.ObjectIdentifier().subtype(implicitTag=_ctx(0))),
        namedtype.NamedType("localForm", univ.Integer().subtype(implicitTag=_ctx(1))),
    )


# --- Attribute-ASN1Module (X.721) ---------------------------------------------------------------


class SourceIndicator(univ.Enumerated):
    namedValues = namedval.NamedValues(("resourceOperation", 0), ("managementOperation", 1), ("unknown", 2))
    # No extension marker: a value outside the list is invalid, not "unknown".
    subtypeSpec = univ.Enumerated.subtypeSpec + constraint.SingleValueConstraint(0, 1, 2)


class AttributeIdentifierList(univ.SetOf):
    componentType = AttributeId()


class AttributeValueChangeItem(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("attributeId", AttributeId()),
        namedtype.OptionalNamedType("oldAttributeValue", TaggedAny().subtype(explicitTag=_ctx(1, True))),
        namedtype.NamedType("newAttributeValue", TaggedAny().subtype(explicitTag=_ctx(2, True))),
    )


class AttributeValueChangeDefinition(univ.SetOf):
    componentType = AttributeValueChangeItem()


class NotificationIdentifier(univ.Integer):
    pass


class CorrelatedNotificationsItem(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("correlatedNotifications", univ.SetOf(componentType=NotificationIdentifier())),
        namedtype.OptionalNamedType("sourceObjectInst", ObjectInstance()),
    )


class CorrelatedNotifications(univ.SetOf):
    componentType = CorrelatedNotificationsItem()


class AdditionalText(char.GraphicString):
    pass


class ManagementExtension(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("identifier", univ.ObjectIdentifier()),
        namedtype.DefaultedNamedType("significance", univ.Boolean(False).subtype(implicitTag=_ctx(1))),
        namedtype.NamedType("information", TaggedAny().subtype(explicitTag=_ctx(2, True))),
    )


class AdditionalInformation(univ.SetOf):
    componentType = ManagementExtension()


# --- Notification-ASN1Module (X.721, reconstructed) ---------------------------------------------


class AttributeValueChangeInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("sourceIndicator", SourceIndicator()),
        namedtype.OptionalNamedType(
            "attributeIdentifierList", AttributeIdentifierList().subtype(implicitTag=_ctx(1, True))
        ),
        namedtype.NamedType("attributeValueChangeDefinition", AttributeValueChangeDefinition()),
        namedtype.OptionalNamedType("notificationIdentifier", NotificationIdentifier()),
        namedtype.OptionalNamedType(
            "correlatedNotifications", CorrelatedNotifications().subtype(implicitTag=_ctx(2, True))
        ),
        namedtype.OptionalNamedType("additionalText", AdditionalText()),
        namedtype.OptionalNamedType(
            "additionalInformation", AdditionalInformation().subtype(implicitTag=_ctx(3, True))
        ),
    )


# --- the other X.721 notification syntax the LNP classes emit ------------------------------------
# objectCreation (on subscriptionVersionNPAC, GDMO L36282) carries ObjectInfo; its attribute list holds
# CMIP-1 Attributes (value: an open type, one complete TLV).


class Attribute(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("id", AttributeId()),
        namedtype.NamedType("value", univ.Any()),
    )


class AttributeList(univ.SetOf):
    componentType = Attribute()


class ObjectInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("sourceIndicator", SourceIndicator()),
        namedtype.OptionalNamedType("attributeList", AttributeList()),
        namedtype.OptionalNamedType("notificationIdentifier", NotificationIdentifier()),
        namedtype.OptionalNamedType(
            "correlatedNotifications", CorrelatedNotifications().subtype(implicitTag=_ctx(1, True))
        ),
        namedtype.OptionalNamedType("additionalText", AdditionalText()),
        namedtype.OptionalNamedType(
            "additionalInformation", AdditionalInformation().subtype(implicitTag=_ctx(2, True))
        ),
    )


# Standard syntaxes LNP-ASN1 does not import but the NPAC sends, by their module.
STANDARD_TYPES: dict[str, type] = {"ObjectInfo": ObjectInfo}
STANDARD_FROM: dict[str, str] = {"ObjectInfo": "Notification-ASN1Module"}

# The symbols LNP-ASN1 imports, by the module that exports them (LNP-ASN1's IMPORTS clause).
IMPORTED_TYPES: dict[str, type] = {
    "ObjectClass": ObjectClass,
    "ObjectInstance": ObjectInstance,
    "AttributeValueChangeInfo": AttributeValueChangeInfo,
}
IMPORTED_FROM: dict[str, str] = {
    "ObjectClass": "CMIP-1",
    "ObjectInstance": "CMIP-1",
    "AttributeValueChangeInfo": "Notification-ASN1Module",
}
