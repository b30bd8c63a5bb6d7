"""CMIP-1 (X.711; the module text is shared/asn1/CMIP-1.asn beside the repository) as pyasn1 types.

The module is `DEFINITIONS ::=` with no tag default, so a tag without IMPLICIT is EXPLICIT
(`[5] AccessControl`, `[7] Scope`, `[8] FilterItem`, `[4] ANY`, ...); the IMPLICIT ones are written
out in the module. Open types (`CMIP-ATTRIBUTE.&Value` and friends) are `Any`: one complete TLV.
The `...` extension markers cannot be expressed in pyasn1 and are left out.

The wire codec in `cmip.py` does not use these types on the hot path; they document the ASN.1 and
the tests decode every encoding `cmip.py` produces with them (and the reverse).
"""
from __future__ import annotations

from pyasn1.type import namedtype, namedval, tag, univ, useful

from .external import External

_NT, _OPT, _DEF = namedtype.NamedType, namedtype.OptionalNamedType, namedtype.DefaultedNamedType


def _ctx(number: int, constructed: bool = False) -> tag.Tag:
    return tag.Tag(tag.tagClassContext, tag.tagFormatConstructed if constructed else tag.tagFormatSimple, number)


def _imp(asn1: univ.Asn1Type, number: int) -> univ.Asn1Type:
    constructed = asn1.tagSet[-1].tagFormat == tag.tagFormatConstructed
    return asn1.subtype(implicitTag=_ctx(number, constructed))


def _exp(asn1: univ.Asn1Type, number: int) -> univ.Asn1Type:
    return asn1.subtype(explicitTag=_ctx(number, True))


def _seq(*fields: namedtype.NamedType) -> type[univ.Sequence]:
    return type("AnonymousSequence", (univ.Sequence,), {"componentType": namedtype.NamedTypes(*fields)})


class _GlobalOrLocal(univ.Choice):
    """ObjectClass, AttributeId, ActionTypeId and EventTypeId share this shape, with their tags."""

    global_tag = 0

    def __init_subclass__(cls) -> None:
        cls.componentType = namedtype.NamedTypes(
            _NT("globalForm", _imp(univ.ObjectIdentifier(), cls.global_tag)),
            _NT("localForm", _imp(univ.Integer(), cls.global_tag + 1)),
        )


class ObjectClass(_GlobalOrLocal):
    global_tag = 0


class AttributeId(_GlobalOrLocal):
    global_tag = 0


class ActionTypeId(_GlobalOrLocal):
    global_tag = 2


class EventTypeId(_GlobalOrLocal):
    global_tag = 6


class AttributeValueAssertion(univ.Sequence):
    componentType = namedtype.NamedTypes(_NT("id", univ.ObjectIdentifier()), _NT("value", univ.Any()))


class RelativeDistinguishedName(univ.SetOf):
    componentType = AttributeValueAssertion()


class RDNSequence(univ.SequenceOf):
    componentType = RelativeDistinguishedName()


DistinguishedName = RDNSequence


class ObjectInstance(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("distinguishedName", _imp(RDNSequence(), 2)),
        _NT("nonSpecificForm", _imp(univ.OctetString(), 3)),
        _NT("localDistinguishedName", _imp(RDNSequence(), 4)),
    )


class BaseManagedObjectId(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _NT("baseManagedObjectClass", ObjectClass()), _NT("baseManagedObjectInstance", ObjectInstance())
    )


class AccessControl(External):
    pass


class CMISSync(univ.Enumerated):
    namedValues = namedval.NamedValues(("bestEffort", 0), ("atomic", 1))


class Scope(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("namedNumbers", univ.Integer(namedValues=namedval.NamedValues(
            ("baseObject", 0), ("firstLevelOnly", 1), ("wholeSubtree", 2)))),
        _NT("individualLevels", _imp(univ.Integer(), 1)),
        _NT("baseToNthLevel", _imp(univ.Integer(), 2)),
    )


class Attribute(univ.Sequence):
    componentType = namedtype.NamedTypes(_NT("id", AttributeId()), _NT("value", univ.Any()))


class _SubstringPart(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("initialString", _imp(Attribute(), 0)),
        _NT("anyString", _imp(Attribute(), 1)),
        _NT("finalString", _imp(Attribute(), 2)),
    )


class _Substrings(univ.SequenceOf):
    componentType = _SubstringPart()


class FilterItem(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("equality", _imp(Attribute(), 0)),
        _NT("substrings", _imp(_Substrings(), 1)),
        _NT("greaterOrEqual", _imp(Attribute(), 2)),
        _NT("lessOrEqual", _imp(Attribute(), 3)),
        _NT("present", _exp(AttributeId(), 4)),
        _NT("subsetOf", _imp(Attribute(), 5)),
        _NT("supersetOf", _imp(Attribute(), 6)),
        _NT("nonNullSetIntersection", _imp(Attribute(), 7)),
    )


class CMISFilter(univ.Choice):
    """Recursive: the instances nested inside it are tied back to the finished type below."""


class _FilterSet(univ.SetOf):
    componentType = CMISFilter()


_not = _exp(CMISFilter(), 11)
CMISFilter.componentType = namedtype.NamedTypes(
    _NT("item", _exp(FilterItem(), 8)),
    _NT("and", _imp(_FilterSet(), 9)),
    _NT("or", _imp(_FilterSet(), 10)),
    _NT("not", _not),
)
# pyasn1 copies componentType into each instance when it is made; these two were made before the
# type was complete, so give them the finished one.
for _early in (_not, _FilterSet.componentType):
    _early.__dict__["componentType"] = CMISFilter.componentType
    _early._readOnly["componentType"] = CMISFilter.componentType


def _common_fields(*, scoped: bool = True) -> list[namedtype.NamedType]:
    """COMPONENTS OF BaseManagedObjectId, accessControl, synchronization, scope, filter."""
    fields = [
        _NT("baseManagedObjectClass", ObjectClass()),
        _NT("baseManagedObjectInstance", ObjectInstance()),
        _OPT("accessControl", _exp(AccessControl(), 5)),
    ]
    if scoped:
        fields += [
            _DEF("synchronization", _imp(CMISSync(), 6).clone("bestEffort")),
            _OPT("scope", _exp(Scope(), 7)),  # DEFAULT namedNumbers:baseObject
            _OPT("filter", CMISFilter()),  # DEFAULT and:{}
        ]
    return fields


_REPLY_HEAD = [
    _OPT("managedObjectClass", ObjectClass()),
    _OPT("managedObjectInstance", ObjectInstance()),
    _OPT("currentTime", _imp(useful.GeneralizedTime(), 5)),
]


class _AttributeSet(univ.SetOf):
    componentType = Attribute()


class _AttributeIdSet(univ.SetOf):
    componentType = AttributeId()


class ActionInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _NT("actionType", ActionTypeId()), _OPT("actionInfoArg", _exp(univ.Any(), 4))
    )


class ActionReply(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _NT("actionType", ActionTypeId()), _NT("actionReplyInfo", _exp(univ.Any(), 4))
    )


class ActionArgument(univ.Sequence):
    componentType = namedtype.NamedTypes(*_common_fields(), _NT("actionInfo", _imp(ActionInfo(), 12)))


class ActionResult(univ.Sequence):
    componentType = namedtype.NamedTypes(*_REPLY_HEAD, _OPT("actionReply", _imp(ActionReply(), 6)))


class GetArgument(univ.Sequence):
    componentType = namedtype.NamedTypes(*_common_fields(), _OPT("attributeIdList", _imp(_AttributeIdSet(), 12)))


class GetResult(univ.Sequence):
    componentType = namedtype.NamedTypes(*_REPLY_HEAD, _OPT("attributeList", _imp(_AttributeSet(), 6)))


class ModifyOperator(univ.Integer):
    namedValues = namedval.NamedValues(("replace", 0), ("addValues", 1), ("removeValues", 2), ("setToDefault", 3))


class _Modification(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _DEF("modifyOperator", _imp(ModifyOperator(), 2).clone(0)),
        _NT("attributeId", AttributeId()),
        _OPT("attributeValue", univ.Any()),
    )


class _Modifications(univ.SetOf):
    componentType = _Modification()


class SetArgument(univ.Sequence):
    componentType = namedtype.NamedTypes(*_common_fields(), _NT("modificationList", _imp(_Modifications(), 12)))


class SetResult(GetResult):
    pass


class CreateArgument(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _NT("managedObjectClass", ObjectClass()),
        _OPT("managedOrSuperiorObjectInstance", univ.Choice(componentType=namedtype.NamedTypes(
            _NT("managedObjectInstance", ObjectInstance()),
            _NT("superiorObjectInstance", _exp(ObjectInstance(), 8)),
        ))),
        _OPT("accessControl", _exp(AccessControl(), 5)),
        _OPT("referenceObjectInstance", _exp(ObjectInstance(), 6)),
        _OPT("attributeList", _imp(_AttributeSet(), 7)),
    )


class CreateResult(GetResult):
    pass


class DeleteArgument(univ.Sequence):
    componentType = namedtype.NamedTypes(*_common_fields())


class DeleteResult(univ.Sequence):
    componentType = namedtype.NamedTypes(*_REPLY_HEAD)


class EventReportArgument(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _NT("managedObjectClass", ObjectClass()),
        _NT("managedObjectInstance", ObjectInstance()),
        _OPT("eventTime", _imp(useful.GeneralizedTime(), 5)),
        _NT("eventType", EventTypeId()),
        _OPT("eventInfo", _exp(univ.Any(), 8)),
    )


class EventReply(univ.Sequence):
    componentType = namedtype.NamedTypes(_NT("eventType", EventTypeId()), _OPT("eventReplyInfo", _exp(univ.Any(), 8)))


class EventReportResult(univ.Sequence):
    componentType = namedtype.NamedTypes(*_REPLY_HEAD, _OPT("eventReply", EventReply()))


class InvokeIDType(univ.Integer):
    pass


CancelGetArgument = InvokeIDType

# ---- error parameters ----------------------------------------------------------------------------


class SpecificErrorInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(_NT("errorId", univ.ObjectIdentifier()), _NT("errorInfo", univ.Any()))


class ProcessingFailure(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _NT("managedObjectClass", ObjectClass()),
        _OPT("managedObjectInstance", ObjectInstance()),
        _NT("specificErrorInfo", _exp(SpecificErrorInfo(), 5)),
    )


class NoSuchAction(univ.Sequence):
    componentType = namedtype.NamedTypes(_NT("managedObjectClass", ObjectClass()), _NT("actionType", ActionTypeId()))


class NoSuchEventType(univ.Sequence):
    componentType = namedtype.NamedTypes(_NT("managedObjectClass", ObjectClass()), _NT("eventType", EventTypeId()))


class NoSuchArgument(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("actionId", _imp(_seq(_OPT("managedObjectClass", ObjectClass()), _NT("actionType", ActionTypeId()))(), 0)),
        _NT("eventId", _imp(_seq(_OPT("managedObjectClass", ObjectClass()), _NT("eventType", EventTypeId()))(), 1)),
    )


class InvalidArgumentValue(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("actionValue", _imp(ActionInfo(), 0)),
        _NT("eventValue", _imp(_seq(_NT("eventType", EventTypeId()), _OPT("eventInfo", _exp(univ.Any(), 8)))(), 1)),
    )


class ComplexityLimitation(univ.Set):
    componentType = namedtype.NamedTypes(
        _OPT("scope", _exp(Scope(), 0)),
        _OPT("filter", _exp(CMISFilter(), 1)),
        _OPT("sync", _exp(CMISSync(), 2)),
    )


class AttributeIdError(univ.Sequence):
    componentType = namedtype.NamedTypes(_NT("errorStatus", univ.Enumerated()), _NT("attributeId", AttributeId()))


class AttributeError(univ.Sequence):  # noqa: A001 (the ASN.1 name; never imported unqualified)
    componentType = namedtype.NamedTypes(
        _NT("errorStatus", univ.Enumerated()),
        _OPT("modifyOperator", _imp(ModifyOperator(), 2)),
        _NT("attributeId", AttributeId()),
        _OPT("attributeValue", univ.Any()),
    )


class GetInfoStatus(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("attributeIdError", _imp(AttributeIdError(), 0)), _NT("attribute", _imp(Attribute(), 1))
    )


class SetInfoStatus(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("attributeError", _imp(AttributeError(), 0)), _NT("attribute", _imp(Attribute(), 1))
    )


class _GetInfoList(univ.SetOf):
    componentType = GetInfoStatus()


class _SetInfoList(univ.SetOf):
    componentType = SetInfoStatus()


class GetListError(univ.Sequence):
    componentType = namedtype.NamedTypes(*_REPLY_HEAD, _NT("getInfoList", _imp(_GetInfoList(), 6)))


class SetListError(univ.Sequence):
    componentType = namedtype.NamedTypes(*_REPLY_HEAD, _NT("setInfoList", _imp(_SetInfoList(), 6)))


class ActionErrorInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        _NT("errorStatus", univ.Enumerated()),
        _NT("errorInfo", univ.Choice(componentType=namedtype.NamedTypes(
            _NT("actionType", ActionTypeId()),
            _NT("actionArgument", _exp(NoSuchArgument(), 0)),
            _NT("argumentValue", _exp(InvalidArgumentValue(), 1)),
        ))),
    )


class ActionError(univ.Sequence):
    componentType = namedtype.NamedTypes(*_REPLY_HEAD, _NT("actionErrorInfo", _exp(ActionErrorInfo(), 6)))


class DeleteError(univ.Sequence):
    componentType = namedtype.NamedTypes(*_REPLY_HEAD, _NT("deleteErrorInfo", _exp(univ.Enumerated(), 6)))


class LinkedReplyArgument(univ.Choice):
    componentType = namedtype.NamedTypes(
        _NT("getResult", _imp(GetResult(), 0)),
        _NT("getListError", _imp(GetListError(), 1)),
        _NT("setResult", _imp(SetResult(), 2)),
        _NT("setListError", _imp(SetListError(), 3)),
        _NT("actionResult", _imp(ActionResult(), 4)),
        _NT("processingFailure", _imp(ProcessingFailure(), 5)),
        _NT("deleteResult", _imp(DeleteResult(), 6)),
        _NT("actionError", _imp(ActionError(), 7)),
        _NT("deleteError", _imp(DeleteError(), 8)),
    )


class MissingAttributeValue(univ.SetOf):
    componentType = AttributeId()


# The argument, result and error-parameter type of each opcode / error code (None: no value).
ARGUMENT_TYPES = {
    0: EventReportArgument, 1: EventReportArgument, 2: LinkedReplyArgument, 3: GetArgument, 4: SetArgument,
    5: SetArgument, 6: ActionArgument, 7: ActionArgument, 8: CreateArgument, 9: DeleteArgument,
    10: CancelGetArgument,
}
RESULT_TYPES = {1: EventReportResult, 3: GetResult, 5: SetResult, 7: ActionResult, 8: CreateResult, 9: DeleteResult}
ERROR_PARAMETER_TYPES = {
    0: ObjectClass, 1: ObjectInstance, 2: None, 3: CMISSync, 4: CMISFilter, 5: AttributeId, 6: Attribute,
    7: GetListError, 8: SetListError, 9: NoSuchAction, 10: ProcessingFailure, 11: ObjectInstance,
    12: ObjectInstance, 13: NoSuchEventType, 14: NoSuchArgument, 15: InvalidArgumentValue, 16: Scope,
    17: ObjectInstance, 18: MissingAttributeValue, 19: BaseManagedObjectId, 20: ComplexityLimitation,
    21: None, 22: InvokeIDType, 23: None,
}
