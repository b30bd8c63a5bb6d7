"""ASN.1 EXTERNAL (X.208 / X.690 §8.18) as a pyasn1 type.

ACSE user-information, CMIP's accessControl and CMIPUserInfo all carry EXTERNALs; the LNP access
control rides in one as `single-ASN1-type` (DECISIONS.md, "Wire details"). The inner value is kept
as its complete BER TLV so each layer decodes only what it owns.
"""
from pyasn1.type import char, namedtype, tag, univ


class ExternalEncoding(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType(
            "single-ASN1-type",
            univ.Any().subtype(explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0)),
        ),
        namedtype.NamedType(
            "octet-aligned",
            univ.OctetString().subtype(implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 1)),
        ),
        namedtype.NamedType(
            "arbitrary",
            univ.BitString().subtype(implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 2)),
        ),
    )


class External(univ.Sequence):
    tagSet = univ.Sequence.tagSet.tagImplicitly(tag.Tag(tag.tagClassUniversal, tag.tagFormatConstructed, 8))
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("direct-reference", univ.ObjectIdentifier()),
        namedtype.OptionalNamedType("indirect-reference", univ.Integer()),
        namedtype.OptionalNamedType(
            "data-value-descriptor",
            char.GraphicString().subtype(implicitTag=tag.Tag(tag.tagClassUniversal, tag.tagFormatSimple, 7)),
        ),
        namedtype.NamedType("encoding", ExternalEncoding()),
    )


def make_external(
    value_tlv: bytes, *, direct_reference: str | None = None, indirect_reference: int | None = None
) -> External:
    """An EXTERNAL carrying one already-encoded ASN.1 value (single-ASN1-type)."""
    ext = External()
    if direct_reference is not None:
        ext["direct-reference"] = univ.ObjectIdentifier(direct_reference)
    if indirect_reference is not None:
        ext["indirect-reference"] = indirect_reference
    ext["encoding"]["single-ASN1-type"] = value_tlv  # plain bytes: pyasn1 applies the [0] tag itself
    return ext


def external_value(ext: External) -> bytes | None:
    """The inner TLV of a single-ASN1-type EXTERNAL, or None for the other encodings."""
    enc = ext["encoding"]
    if enc.getName() != "single-ASN1-type":
        return None
    return bytes(enc["single-ASN1-type"])
