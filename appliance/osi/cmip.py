"""CMIP (X.711) for the layers above: the CMIS primitives as frozen dataclasses and their BER.

Python forms of the CMIP-1 building blocks (the pyasn1 types are in `cmip_types`):
* ObjectClass, AttributeId, ActionTypeId, EventTypeId: `str` (globalForm OID) or `int` (localForm).
* ObjectInstance: a DN (distinguishedName), `LocalDN(rdns)` (localDistinguishedName) or `bytes`
  (nonSpecificForm). A DN is a tuple of RDNs; an RDN a tuple of (attribute OID, value TLV).
* Attribute: `(attribute_id, value_tlv)`. Open types (attribute values, action/event info, error
  info) are always the complete BER TLV of the value.
* accessControl: the inner TLV of the EXTERNAL (single-ASN1-type). It is sent with
  direct-reference LNP_ACCESS_CONTROL_OID (DECISIONS.md, "Wire details"); on receipt the references
  are not checked and the other EXTERNAL encodings are refused.
* CMISSync: "bestEffort" / "atomic". GeneralizedTime: an aware UTC `datetime`.

CMIP-1 has no tag default: its tags are EXPLICIT unless marked IMPLICIT. The codec is the declarative
one in `ber` (pyasn1 is far too slow for the M-ACTION round trip; one codec keeps one wire path);
the tests cross-check it against `cmip_types`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, Iterable, Iterator

from .ber import (
    ANY, ENUMERATED, GENERALIZED_TIME, INTEGER, OBJECT_IDENTIFIER, OCTET_STRING, OPTIONAL, REQUIRED,
    Choice, Codec, CollectionOf, Explicit, Implicit, Map, Prim, Seq,
)
from .cmip_filter import (  # noqa: F401  (re-exported: scope and filter are part of the CMIP API)
    ATTRIBUTE, ATTRIBUTE_ID, BASE_OBJECT, DN, FILTER, FIRST_LEVEL_ONLY, MATCH_ALL, RDN, SCOPE, WHOLE_SUBTREE,
    Attribute, Filter, FilterAnd, FilterItem, FilterNot, FilterOr, FilterSubstrings, Identifier, Scope,
    global_or_local,
)
from .errors import ProtocolError
from .rose import Invoke, ReturnError, ReturnResult

LAYER = "cmip"
LNP_ACCESS_CONTROL_OID = "2.16.840.1.4.1.1"

(M_EVENT_REPORT, M_EVENT_REPORT_CONFIRMED, M_LINKED_REPLY, M_GET, M_SET, M_SET_CONFIRMED, M_ACTION,
 M_ACTION_CONFIRMED, M_CREATE, M_DELETE, M_CANCEL_GET) = range(11)

ERROR_NAMES = (
    "noSuchObjectClass", "noSuchObjectInstance", "accessDenied", "syncNotSupported", "invalidFilter",
    "noSuchAttribute", "invalidAttributeValue", "getListError", "setListError", "noSuchAction",
    "processingFailure", "duplicateManagedObjectInstance", "noSuchReferenceObject", "noSuchEventType",
    "noSuchArgument", "invalidArgumentValue", "invalidScope", "invalidObjectInstance",
    "missingAttributeValue", "classInstanceConflict", "complexityLimitation", "mistypedOperation",
    "noSuchInvokeId", "operationCancelled",
)
(NO_SUCH_OBJECT_CLASS, NO_SUCH_OBJECT_INSTANCE, ACCESS_DENIED, SYNC_NOT_SUPPORTED, INVALID_FILTER,
 NO_SUCH_ATTRIBUTE, INVALID_ATTRIBUTE_VALUE, GET_LIST_ERROR, SET_LIST_ERROR, NO_SUCH_ACTION,
 PROCESSING_FAILURE, DUPLICATE_MANAGED_OBJECT_INSTANCE, NO_SUCH_REFERENCE_OBJECT, NO_SUCH_EVENT_TYPE,
 NO_SUCH_ARGUMENT, INVALID_ARGUMENT_VALUE, INVALID_SCOPE, INVALID_OBJECT_INSTANCE,
 MISSING_ATTRIBUTE_VALUE, CLASS_INSTANCE_CONFLICT, COMPLEXITY_LIMITATION, MISTYPED_OPERATION,
 NO_SUCH_INVOKE_ID, OPERATION_CANCELLED) = range(24)

REPLACE, ADD_VALUES, REMOVE_VALUES, SET_TO_DEFAULT = range(4)  # ModifyOperator
BEST_EFFORT, ATOMIC = "bestEffort", "atomic"


@dataclass(frozen=True, slots=True)
class LocalDN:
    rdns: DN


ObjectInstance = DN | LocalDN | bytes


# ---- requests (invoke arguments) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetRequest:
    object_class: Identifier
    object_instance: ObjectInstance
    scope: Scope = BASE_OBJECT
    filter: Filter = MATCH_ALL
    attribute_ids: tuple[Identifier, ...] | None = None  # None: all attributes
    access_control: bytes | None = None
    sync: str = BEST_EFFORT


@dataclass(frozen=True, slots=True)
class SetRequest:
    object_class: Identifier
    object_instance: ObjectInstance
    modifications: tuple[tuple[Identifier, bytes | None, int], ...]  # (id, value TLV, ModifyOperator)
    scope: Scope = BASE_OBJECT
    filter: Filter = MATCH_ALL
    access_control: bytes | None = None
    sync: str = BEST_EFFORT
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class ActionRequest:
    object_class: Identifier
    object_instance: ObjectInstance
    action_type: Identifier
    action_info: bytes | None = None
    access_control: bytes | None = None
    scope: Scope = BASE_OBJECT
    filter: Filter = MATCH_ALL
    sync: str = BEST_EFFORT
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """At most one of object_instance and superior_instance (neither: the agent names it)."""
    object_class: Identifier
    object_instance: ObjectInstance | None = None
    superior_instance: ObjectInstance | None = None
    reference_object_instance: ObjectInstance | None = None
    attributes: tuple[Attribute, ...] = ()
    access_control: bytes | None = None

    def __post_init__(self) -> None:
        if self.object_instance is not None and self.superior_instance is not None:
            raise ValueError("CreateRequest takes object_instance or superior_instance, not both")


@dataclass(frozen=True, slots=True)
class DeleteRequest:
    object_class: Identifier
    object_instance: ObjectInstance
    scope: Scope = BASE_OBJECT
    filter: Filter = MATCH_ALL
    access_control: bytes | None = None
    sync: str = BEST_EFFORT


@dataclass(frozen=True, slots=True)
class EventReportRequest:
    object_class: Identifier
    object_instance: ObjectInstance
    event_type: Identifier
    event_info: bytes | None = None
    event_time: datetime | None = None
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class CancelGetRequest:
    get_invoke_id: int


# ---- results and linked-reply / error contents ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _AttributesReply:
    object_class: Identifier | None = None
    object_instance: ObjectInstance | None = None
    current_time: datetime | None = None
    attributes: tuple[Attribute, ...] = ()


@dataclass(frozen=True, slots=True)
class GetResult(_AttributesReply):
    pass


@dataclass(frozen=True, slots=True)
class SetResult(_AttributesReply):
    pass


@dataclass(frozen=True, slots=True)
class ActionResult:
    """action_type and reply_info (actionReply) are both present or both None."""
    object_class: Identifier | None = None
    object_instance: ObjectInstance | None = None
    current_time: datetime | None = None
    action_type: Identifier | None = None
    reply_info: bytes | None = None


@dataclass(frozen=True, slots=True)
class CreateResult(_AttributesReply):
    pass


@dataclass(frozen=True, slots=True)
class DeleteResult:
    object_class: Identifier | None = None
    object_instance: ObjectInstance | None = None
    current_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventReportResult:
    """eventReply: event_type, with reply_info only when event_type is set."""
    object_class: Identifier | None = None
    object_instance: ObjectInstance | None = None
    current_time: datetime | None = None
    event_type: Identifier | None = None
    reply_info: bytes | None = None


@dataclass(frozen=True, slots=True)
class CancelGetResult:
    pass


@dataclass(frozen=True, slots=True)
class AttributeIdError:
    error_status: int  # accessDenied(2), noSuchAttribute(5), ...
    attribute_id: Identifier


@dataclass(frozen=True, slots=True)
class AttributeErrorInfo:
    """X.711 AttributeError (renamed: Python has an AttributeError)."""
    error_status: int  # accessDenied(2), noSuchAttribute(5), invalidAttributeValue(6), ...
    attribute_id: Identifier
    value: bytes | None = None
    modify_operator: int | None = None


@dataclass(frozen=True, slots=True)
class GetListError:
    info: tuple[Attribute | AttributeIdError, ...]
    object_class: Identifier | None = None
    object_instance: ObjectInstance | None = None
    current_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class SetListError:
    info: tuple[Attribute | AttributeErrorInfo, ...]
    object_class: Identifier | None = None
    object_instance: ObjectInstance | None = None
    current_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProcessingFailure:
    object_class: Identifier
    error_id: str  # specificErrorInfo.errorId (OID)
    error_info: bytes  # specificErrorInfo.errorInfo (TLV)
    object_instance: ObjectInstance | None = None


@dataclass(frozen=True, slots=True)
class NoSuchArgument:
    kind: str  # "action" | "event"
    type_id: Identifier
    object_class: Identifier | None = None


@dataclass(frozen=True, slots=True)
class InvalidArgumentValue:
    kind: str  # "action" | "event"
    type_id: Identifier
    info: bytes | None = None


@dataclass(frozen=True, slots=True)
class ActionError:
    error_status: int  # accessDenied(2), noSuchAction(9), noSuchArgument(14), invalidArgumentValue(15)
    error_info: Identifier | NoSuchArgument | InvalidArgumentValue  # an action type for noSuchAction
    object_class: Identifier | None = None
    object_instance: ObjectInstance | None = None
    current_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeleteError:
    error_status: int = ACCESS_DENIED
    object_class: Identifier | None = None
    object_instance: ObjectInstance | None = None
    current_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class NoSuchAction:
    object_class: Identifier
    action_type: Identifier


@dataclass(frozen=True, slots=True)
class NoSuchEventType:
    object_class: Identifier
    event_type: Identifier


@dataclass(frozen=True, slots=True)
class BaseManagedObjectId:
    object_class: Identifier
    object_instance: ObjectInstance


@dataclass(frozen=True, slots=True)
class ComplexityLimitation:
    scope: Scope | None = None
    filter: Filter | None = None
    sync: str | None = None


@dataclass(frozen=True, slots=True)
class LinkedReply:
    """The M-LINKED-REPLY argument: one of GetResult, GetListError, SetResult, SetListError,
    ActionResult, ProcessingFailure, DeleteResult, ActionError, DeleteError."""
    reply: Any


@dataclass(frozen=True, slots=True)
class CmipError:
    """A CMIP error: the ROSE errcode and its parameter, by code: ObjectClass (noSuchObjectClass),
    ObjectInstance (noSuchObjectInstance, duplicateManagedObjectInstance, noSuchReferenceObject,
    invalidObjectInstance), "bestEffort"/"atomic" (syncNotSupported), Filter (invalidFilter),
    AttributeId (noSuchAttribute), Attribute (invalidAttributeValue), GetListError, SetListError,
    NoSuchAction, ProcessingFailure, NoSuchEventType, NoSuchArgument, InvalidArgumentValue,
    Scope (invalidScope), tuple of AttributeId (missingAttributeValue), BaseManagedObjectId
    (classInstanceConflict), ComplexityLimitation, int (noSuchInvokeId); accessDenied,
    mistypedOperation and operationCancelled have none. An unknown code keeps the raw TLV."""

    error_code: int
    parameter: Any = None


Request = (GetRequest | SetRequest | ActionRequest | CreateRequest | DeleteRequest | EventReportRequest
           | CancelGetRequest | LinkedReply)
Result = GetResult | SetResult | ActionResult | CreateResult | DeleteResult | EventReportResult | CancelGetResult

# ---- the wire form -------------------------------------------------------------------------------


def _record(cls: type, spec: list[tuple[Any, Codec, Any]], **options: Any) -> Seq:
    """A SEQUENCE whose components map to the keyword fields of `cls`. A tuple of names stands for a
    nested SEQUENCE (or a CHOICE mapped to a tuple) whose parts are flattened into `cls`; it is left
    out when all its fields are None."""
    names = [name for name, _, _ in spec]

    def make(*values: Any) -> Any:
        kwargs = {}
        for name, v in zip(names, values):
            if type(name) is tuple:
                kwargs.update(zip(name, v if v is not None else (None,) * len(name)))
            else:
                kwargs[name] = v
        return cls(**kwargs)

    def split(obj: Any) -> list[Any]:
        out = []
        for name in names:
            if type(name) is tuple:
                group = tuple(getattr(obj, n) for n in name)
                out.append(None if all(v is None for v in group) else group)
            else:
                out.append(getattr(obj, name))
        return out

    return Seq([(codec, mode) for _, codec, mode in spec], make, split, **options)


OBJECT_CLASS = ATTRIBUTE_ID
ACTION_TYPE_ID, EVENT_TYPE_ID = global_or_local(2), global_or_local(6)
_AVA = Seq([(OBJECT_IDENTIFIER, REQUIRED), (ANY, REQUIRED)])
_RDN_SEQUENCE = CollectionOf(CollectionOf(_AVA, 0x31), 0x30)
OBJECT_INSTANCE = Choice({
    tuple: Implicit(2, _RDN_SEQUENCE),
    bytes: Implicit(3, OCTET_STRING),
    LocalDN: Map(Implicit(4, _RDN_SEQUENCE), LocalDN, attrgetter("rdns")),
})
_GRAPHIC = Prim(0x07, bytes, lambda buf, s, e: buf[s:e])  # data-value-descriptor, ignored
# Only single-ASN1-type ([0]) is taken: octet-aligned [1] and arbitrary [2] fail as unknown tags.
_EXTERNAL = Implicit(8, Seq(
    [(OBJECT_IDENTIFIER, OPTIONAL), (INTEGER, OPTIONAL), (_GRAPHIC, OPTIONAL), (Explicit(0, ANY), REQUIRED)],
    make=lambda dref, iref, desc, inner: inner, split=lambda tlv: (LNP_ACCESS_CONTROL_OID, None, None, tlv),
), tag_class=0x00)
ACCESS_CONTROL = Explicit(5, _EXTERNAL)
# CMISSync has no extension marker: another value is a KeyError, reported as a ProtocolError.
SYNC = Map(ENUMERATED, {0: BEST_EFFORT, 1: ATOMIC}.__getitem__, {BEST_EFFORT: 0, ATOMIC: 1}.__getitem__)
_BASE = [("object_class", OBJECT_CLASS, REQUIRED), ("object_instance", OBJECT_INSTANCE, REQUIRED)]
_SCOPED = [*_BASE, ("access_control", ACCESS_CONTROL, OPTIONAL), ("sync", Implicit(6, SYNC), BEST_EFFORT),
           ("scope", Explicit(7, SCOPE), BASE_OBJECT), ("filter", FILTER, MATCH_ALL)]
_HEAD = [("object_class", OBJECT_CLASS, OPTIONAL), ("object_instance", OBJECT_INSTANCE, OPTIONAL),
         ("current_time", Implicit(5, GENERALIZED_TIME), OPTIONAL)]
_ATTRIBUTE_LIST = CollectionOf(ATTRIBUTE)
_ACTION_INFO = Seq([(ACTION_TYPE_ID, REQUIRED), (Explicit(4, ANY), OPTIONAL)])
_EVENT_INFO = Seq([(EVENT_TYPE_ID, REQUIRED), (Explicit(8, ANY), OPTIONAL)])
_MODIFICATION = Seq([(Implicit(2, INTEGER), REPLACE), (ATTRIBUTE_ID, REQUIRED), (ANY, OPTIONAL)],
                    make=lambda op, aid, value: (aid, value, op), split=lambda m: (m[2], m[0], m[1]))

ARGUMENTS: dict[type, Codec] = {
    GetRequest: _record(GetRequest, [*_SCOPED, ("attribute_ids", Implicit(12, CollectionOf(ATTRIBUTE_ID)), OPTIONAL)],
                        extensible=True),
    SetRequest: _record(SetRequest, [*_SCOPED, ("modifications", Implicit(12, CollectionOf(_MODIFICATION)), REQUIRED)],
                        extensible=True),
    ActionRequest: _record(ActionRequest, [*_SCOPED, (("action_type", "action_info"), Implicit(12, _ACTION_INFO),
                                                      REQUIRED)], extensible=True),
    CreateRequest: _record(CreateRequest, [
        ("object_class", OBJECT_CLASS, REQUIRED),
        (("object_instance", "superior_instance"), Choice({
            0: Map(OBJECT_INSTANCE, lambda oi: (oi, None), itemgetter(0)),
            1: Map(Explicit(8, OBJECT_INSTANCE), lambda oi: (None, oi), itemgetter(1)),
        }, key=lambda pair: 0 if pair[0] is not None else 1), OPTIONAL),
        ("access_control", ACCESS_CONTROL, OPTIONAL),
        ("reference_object_instance", Explicit(6, OBJECT_INSTANCE), OPTIONAL),
        ("attributes", Implicit(7, _ATTRIBUTE_LIST), ()),
    ], extensible=True),
    DeleteRequest: _record(DeleteRequest, _SCOPED, extensible=True),
    EventReportRequest: _record(EventReportRequest, [
        *_BASE, ("event_time", Implicit(5, GENERALIZED_TIME), OPTIONAL), ("event_type", EVENT_TYPE_ID, REQUIRED),
        ("event_info", Explicit(8, ANY), OPTIONAL),
    ], extensible=True),
    CancelGetRequest: Map(INTEGER, CancelGetRequest, attrgetter("get_invoke_id")),
}


def _attribute_results(cls: type) -> Seq:
    return _record(cls, [*_HEAD, ("attributes", Implicit(6, _ATTRIBUTE_LIST), ())], extensible=True)


_NO_SUCH_ARGUMENT = Choice({
    "action": Implicit(0, Seq([(OBJECT_CLASS, OPTIONAL), (ACTION_TYPE_ID, REQUIRED)],
                              lambda oc, t: NoSuchArgument("action", t, oc), attrgetter("object_class", "type_id"))),
    "event": Implicit(1, Seq([(OBJECT_CLASS, OPTIONAL), (EVENT_TYPE_ID, REQUIRED)],
                             lambda oc, t: NoSuchArgument("event", t, oc), attrgetter("object_class", "type_id"))),
}, key=attrgetter("kind"))
_INVALID_ARGUMENT_VALUE = Choice({
    "action": Implicit(0, Seq(_ACTION_INFO.fields, lambda t, i: InvalidArgumentValue("action", t, i),
                              attrgetter("type_id", "info"))),
    "event": Implicit(1, Seq(_EVENT_INFO.fields, lambda t, i: InvalidArgumentValue("event", t, i),
                             attrgetter("type_id", "info"))),
}, key=attrgetter("kind"))
_ATTRIBUTE_ID_ERROR = _record(AttributeIdError, [("error_status", ENUMERATED, REQUIRED),
                                                 ("attribute_id", ATTRIBUTE_ID, REQUIRED)], extensible=True)
_ATTRIBUTE_ERROR = _record(AttributeErrorInfo, [
    ("error_status", ENUMERATED, REQUIRED), ("modify_operator", Implicit(2, INTEGER), OPTIONAL),
    ("attribute_id", ATTRIBUTE_ID, REQUIRED), ("value", ANY, OPTIONAL),
])
RESULTS: dict[type, Codec] = {
    GetResult: _attribute_results(GetResult),
    SetResult: _attribute_results(SetResult),
    CreateResult: _attribute_results(CreateResult),
    ActionResult: _record(ActionResult, [*_HEAD, (("action_type", "reply_info"), Implicit(6, Seq(
        [(ACTION_TYPE_ID, REQUIRED), (Explicit(4, ANY), REQUIRED)])), OPTIONAL)], extensible=True),
    DeleteResult: _record(DeleteResult, _HEAD, extensible=True),
    EventReportResult: _record(EventReportResult, [*_HEAD, (("event_type", "reply_info"), _EVENT_INFO, OPTIONAL)],
                               extensible=True),
}
ERROR_CONTENTS: dict[type, Codec] = {
    GetListError: _record(GetListError, [*_HEAD, ("info", Implicit(6, CollectionOf(Choice({
        tuple: Implicit(1, ATTRIBUTE), AttributeIdError: Implicit(0, _ATTRIBUTE_ID_ERROR)}))), REQUIRED)],
        extensible=True),
    SetListError: _record(SetListError, [*_HEAD, ("info", Implicit(6, CollectionOf(Choice({
        tuple: Implicit(1, ATTRIBUTE), AttributeErrorInfo: Implicit(0, _ATTRIBUTE_ERROR)}))), REQUIRED)],
        extensible=True),
    ProcessingFailure: _record(ProcessingFailure, [
        ("object_class", OBJECT_CLASS, REQUIRED), ("object_instance", OBJECT_INSTANCE, OPTIONAL),
        (("error_id", "error_info"), Explicit(5, Seq([(OBJECT_IDENTIFIER, REQUIRED), (ANY, REQUIRED)])), REQUIRED),
    ], extensible=True),
    ActionError: _record(ActionError, [*_HEAD, (("error_status", "error_info"), Explicit(6, Seq([
        (ENUMERATED, REQUIRED),
        (Choice({str: ACTION_TYPE_ID, int: ACTION_TYPE_ID, NoSuchArgument: Explicit(0, _NO_SUCH_ARGUMENT),
                 InvalidArgumentValue: Explicit(1, _INVALID_ARGUMENT_VALUE)}), REQUIRED),
    ], extensible=True)), REQUIRED)], extensible=True),
    DeleteError: _record(DeleteError, [*_HEAD, ("error_status", Explicit(6, ENUMERATED), REQUIRED)],
                         extensible=True),
}
_LINKED = [GetResult, GetListError, SetResult, SetListError, ActionResult, ProcessingFailure, DeleteResult,
           ActionError, DeleteError]
ARGUMENTS[LinkedReply] = Map(Choice({
    cls: Implicit(n, (RESULTS | ERROR_CONTENTS)[cls]) for n, cls in enumerate(_LINKED)
}), LinkedReply, attrgetter("reply"))

ERROR_PARAMETERS: dict[int, Codec | None] = {
    NO_SUCH_OBJECT_CLASS: OBJECT_CLASS, NO_SUCH_OBJECT_INSTANCE: OBJECT_INSTANCE, ACCESS_DENIED: None,
    SYNC_NOT_SUPPORTED: SYNC, INVALID_FILTER: FILTER, NO_SUCH_ATTRIBUTE: ATTRIBUTE_ID,
    INVALID_ATTRIBUTE_VALUE: ATTRIBUTE, GET_LIST_ERROR: ERROR_CONTENTS[GetListError],
    SET_LIST_ERROR: ERROR_CONTENTS[SetListError],
    NO_SUCH_ACTION: _record(NoSuchAction, [("object_class", OBJECT_CLASS, REQUIRED),
                                           ("action_type", ACTION_TYPE_ID, REQUIRED)], extensible=True),
    PROCESSING_FAILURE: ERROR_CONTENTS[ProcessingFailure], DUPLICATE_MANAGED_OBJECT_INSTANCE: OBJECT_INSTANCE,
    NO_SUCH_REFERENCE_OBJECT: OBJECT_INSTANCE,
    NO_SUCH_EVENT_TYPE: _record(NoSuchEventType, [("object_class", OBJECT_CLASS, REQUIRED),
                                                  ("event_type", EVENT_TYPE_ID, REQUIRED)], extensible=True),
    NO_SUCH_ARGUMENT: _NO_SUCH_ARGUMENT, INVALID_ARGUMENT_VALUE: _INVALID_ARGUMENT_VALUE, INVALID_SCOPE: SCOPE,
    INVALID_OBJECT_INSTANCE: OBJECT_INSTANCE, MISSING_ATTRIBUTE_VALUE: CollectionOf(ATTRIBUTE_ID),
    CLASS_INSTANCE_CONFLICT: _record(BaseManagedObjectId, _BASE),
    COMPLEXITY_LIMITATION: _record(ComplexityLimitation, [
        ("scope", Explicit(0, SCOPE), OPTIONAL), ("filter", Explicit(1, FILTER), OPTIONAL),
        ("sync", Explicit(2, SYNC), OPTIONAL)], extensible=True, unordered=True),
    MISTYPED_OPERATION: None, NO_SUCH_INVOKE_ID: INTEGER, OPERATION_CANCELLED: None,
}
_OPCODES = {GetRequest: (M_GET, M_GET), SetRequest: (M_SET_CONFIRMED, M_SET),
            ActionRequest: (M_ACTION_CONFIRMED, M_ACTION), CreateRequest: (M_CREATE, M_CREATE),
            DeleteRequest: (M_DELETE, M_DELETE), EventReportRequest: (M_EVENT_REPORT_CONFIRMED, M_EVENT_REPORT),
            CancelGetRequest: (M_CANCEL_GET, M_CANCEL_GET), LinkedReply: (M_LINKED_REPLY, M_LINKED_REPLY)}
_ARGUMENT_OF = {opcode: cls for cls, pair in _OPCODES.items() for opcode in pair}
_UNCONFIRMED = frozenset((M_EVENT_REPORT, M_SET, M_ACTION))
_RESULT_OPCODES = {GetResult: M_GET, SetResult: M_SET_CONFIRMED, ActionResult: M_ACTION_CONFIRMED,
                   CreateResult: M_CREATE, DeleteResult: M_DELETE, EventReportResult: M_EVENT_REPORT_CONFIRMED,
                   CancelGetResult: M_CANCEL_GET}
_RESULT_OF = {opcode: cls for cls, opcode in _RESULT_OPCODES.items()}
_PEER_ERRORS = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError, RecursionError, UnicodeError)


def _decode(codec: Codec, data: bytes, what: str) -> Any:
    try:
        return codec.decode_bytes(bytes(data))
    except ProtocolError as exc:
        raise exc if exc.layer == LAYER else ProtocolError(LAYER, f"{what}: {exc.message}") from None
    except _PEER_ERRORS as exc:
        raise ProtocolError(LAYER, f"{what}: {type(exc).__name__}: {exc}"[:300]) from None


def encode_argument(request: Request) -> tuple[int, bytes]:
    """(opcode, argument TLV) for an invoke."""
    confirmed, unconfirmed = _OPCODES[type(request)]
    opcode = confirmed if getattr(request, "confirmed", True) else unconfirmed
    return opcode, ARGUMENTS[type(request)].encode(request)


def decode_argument(opcode: int, data: bytes | None) -> Request:
    cls = _ARGUMENT_OF.get(opcode)
    if cls is None:
        raise ProtocolError(LAYER, f"unknown operation {opcode}")
    if data is None:
        raise ProtocolError(LAYER, f"operation {opcode} without its argument")
    value = _decode(ARGUMENTS[cls], data, "argument")
    return replace(value, confirmed=False) if opcode in _UNCONFIRMED else value


def encode_result(result: Result) -> tuple[int, bytes | None]:
    """(opcode, result TLV); the TLV is None for CancelGetResult, which has no value."""
    opcode = _RESULT_OPCODES[type(result)]
    return opcode, None if type(result) is CancelGetResult else RESULTS[type(result)].encode(result)


def decode_result(opcode: int, data: bytes | None) -> Result:
    """The result of `opcode`; data None (an empty returnResult) gives the empty result."""
    cls = _RESULT_OF.get(opcode)
    if cls is None:
        raise ProtocolError(LAYER, f"operation {opcode} has no result")
    if data is None:
        return cls()
    if cls is CancelGetResult:
        raise ProtocolError(LAYER, "M-CANCEL-GET result carries a value")
    return _decode(RESULTS[cls], data, "result")


def encode_error(error: CmipError) -> tuple[int, bytes | None]:
    """(errcode, parameter TLV or None)."""
    if error.parameter is None:
        return error.error_code, None
    codec = ERROR_PARAMETERS.get(error.error_code, ANY)
    if codec is None:
        raise ValueError(f"{ERROR_NAMES[error.error_code]} has no parameter")
    return error.error_code, codec.encode(error.parameter)


def decode_error(error_code: int, data: bytes | None) -> CmipError:
    codec = ERROR_PARAMETERS.get(error_code, ANY)
    if data is None:
        return CmipError(error_code)
    if codec is None:
        raise ProtocolError(LAYER, f"{ERROR_NAMES[error_code]} carries a parameter")
    return CmipError(error_code, _decode(codec, data, "error parameter"))


def invoke_pdu(invoke_id: int, request: Request, linked_id: int | None = None) -> Invoke:
    opcode, argument = encode_argument(request)
    return Invoke(invoke_id, opcode, argument, linked_id)


def result_pdu(invoke_id: int, result: Result) -> ReturnResult:
    opcode, data = encode_result(result)
    return ReturnResult(invoke_id, opcode if data is not None else None, data)


def error_pdu(invoke_id: int, error: CmipError) -> ReturnError:
    code, parameter = encode_error(error)
    return ReturnError(invoke_id, code, parameter)


def linked_reply(invoke_id: int, linked_id: int, reply: Any) -> Invoke:
    """One M-LINKED-REPLY invoke (our `invoke_id`) answering the peer's invoke `linked_id`."""
    return Invoke(invoke_id, M_LINKED_REPLY, ARGUMENTS[LinkedReply].encode(LinkedReply(reply)), linked_id)


def linked_replies(linked_id: int, replies: Iterable[Any], invoke_ids: Iterator[int]) -> list[Invoke | ReturnResult]:
    """The answer to a scoped operation (peer invoke `linked_id`): one M-LINKED-REPLY per selected
    object (a result or a per-object error, see LinkedReply), our invoke ids drawn from
    `invoke_ids`, then the empty returnResult that ends it."""
    pdus: list[Invoke | ReturnResult] = [linked_reply(next(invoke_ids), linked_id, r) for r in replies]
    pdus.append(ReturnResult(linked_id))
    return pdus
