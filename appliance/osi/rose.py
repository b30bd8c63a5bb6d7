"""ROSE (X.880 generic ROS PDUs, in the X.229 wire form CMIP stacks speak), sans-I/O.

    invoke       [1] {invokeId INTEGER, linkedId [0] IMPLICIT INTEGER OPTIONAL, opcode INTEGER,
                      argument ANY OPTIONAL}
    returnResult [2] {invokeId INTEGER, SEQUENCE {opcode INTEGER, result ANY} OPTIONAL}
    returnError  [3] {invokeId INTEGER, errcode INTEGER, parameter ANY OPTIONAL}
    reject       [4] {invokeId CHOICE {INTEGER, NULL},
                      problem CHOICE {[0] general, [1] invoke, [2] returnResult, [3] returnError
                                      (all IMPLICIT INTEGER)}}

The envelope is on every round trip, so it is read and written by hand with `ber`; the pyasn1
types at the end describe the same PDUs and are cross-checked by the tests. Opcodes and error
codes are `Code.local` (a bare INTEGER): CMIP uses no global codes. Arguments, results and
parameters stay as their complete BER TLV, for the CMIP layer to decode.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyasn1.type import namedtype, tag, univ

from . import ber
from .errors import ProtocolError

LAYER = "rose"

PROBLEM_KINDS = ("general", "invoke", "returnResult", "returnError")
# GeneralProblem
UNRECOGNISED_PDU, MISTYPED_PDU, BADLY_STRUCTURED_PDU = 0, 1, 2
# InvokeProblem
DUPLICATE_INVOCATION, UNRECOGNISED_OPERATION, MISTYPED_ARGUMENT, RESOURCE_LIMITATION = 0, 1, 2, 3
RELEASE_IN_PROGRESS, UNRECOGNISED_LINKED_ID, LINKED_RESPONSE_UNEXPECTED = 4, 5, 6
UNEXPECTED_LINKED_OPERATION = 7
# ReturnResultProblem / ReturnErrorProblem
UNRECOGNISED_INVOCATION, RESULT_RESPONSE_UNEXPECTED, MISTYPED_RESULT = 0, 1, 2
ERROR_RESPONSE_UNEXPECTED, UNRECOGNISED_ERROR, UNEXPECTED_ERROR, MISTYPED_PARAMETER = 1, 2, 3, 4

_INVOKE, _RESULT, _ERROR, _REJECT = 0xA1, 0xA2, 0xA3, 0xA4


@dataclass(frozen=True, slots=True)
class Invoke:
    invoke_id: int
    opcode: int
    argument: bytes | None = None
    linked_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReturnResult:
    """`opcode` and `result` are both present or both None (an empty result)."""

    invoke_id: int
    opcode: int | None = None
    result: bytes | None = None


@dataclass(frozen=True, slots=True)
class ReturnError:
    invoke_id: int
    error_code: int
    parameter: bytes | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """`invoke_id` None is the NULL alternative (the PDU's invoke id could not be read)."""

    invoke_id: int | None
    problem_kind: str
    problem: int


RosePDU = Invoke | ReturnResult | ReturnError | Reject


def _int_tlv(value: int) -> bytes:
    return ber.encode_tlv(0x02, ber.encode_int(value))


def encode_rose(pdu: RosePDU) -> bytes:
    if type(pdu) is Invoke:
        linked = b"" if pdu.linked_id is None else ber.encode_tlv(0x80, ber.encode_int(pdu.linked_id))
        body = _int_tlv(pdu.invoke_id) + linked + _int_tlv(pdu.opcode) + (pdu.argument or b"")
        return ber.encode_tlv(_INVOKE, body)
    if type(pdu) is ReturnResult:
        if (pdu.opcode is None) != (pdu.result is None):
            raise ValueError("ReturnResult needs both opcode and result, or neither")
        body = _int_tlv(pdu.invoke_id)
        if pdu.opcode is not None:
            body += ber.encode_tlv(0x30, _int_tlv(pdu.opcode) + pdu.result)  # type: ignore[operator]
        return ber.encode_tlv(_RESULT, body)
    if type(pdu) is ReturnError:
        body = _int_tlv(pdu.invoke_id) + _int_tlv(pdu.error_code) + (pdu.parameter or b"")
        return ber.encode_tlv(_ERROR, body)
    if type(pdu) is Reject:
        iid = b"\x05\x00" if pdu.invoke_id is None else _int_tlv(pdu.invoke_id)
        kind = PROBLEM_KINDS.index(pdu.problem_kind)
        return ber.encode_tlv(_REJECT, iid + ber.encode_tlv(0x80 | kind, ber.encode_int(pdu.problem)))
    raise TypeError(f"not a ROSE PDU: {pdu!r}")


def decode_rose(data: bytes) -> RosePDU:
    """One ROSE APDU filling `data` (the presentation PDV); ProtocolError if malformed."""
    try:
        return _decode(bytes(data))
    except ProtocolError as exc:
        if exc.layer == LAYER:
            raise
        raise ProtocolError(LAYER, exc.message) from None
    except (TypeError, ValueError, IndexError) as exc:  # a non-bytes argument, never peer bytes
        raise ProtocolError(LAYER, f"cannot decode: {exc}") from None


def _fail(message: str) -> ProtocolError:
    return ProtocolError(LAYER, message)


def _integer(buf: bytes, part: tuple[int, int, int, int], what: str) -> int:
    tag, cs, ce, _ = part
    if tag != 0x02:
        raise _fail(f"{what} is not an INTEGER")
    return ber.read_int(buf, cs, ce, LAYER)


def _open(buf: bytes, parts: list, index: int, end: int, what: str) -> bytes | None:
    """The optional open-type TLV at parts[index]: the last part, so it runs to the parent's `end`."""
    if len(parts) <= index:
        return None
    if len(parts) > index + 1:
        raise _fail(f"octets after the {what}")
    return buf[parts[index][3] : end]


def _decode(buf: bytes) -> RosePDU:
    tag, cs, ce = ber.single_tlv(buf, LAYER)
    parts = ber.children(buf, cs, ce, LAYER)
    if tag == _INVOKE:
        if len(parts) < 2:
            raise _fail("invoke too short")
        invoke_id = _integer(buf, parts[0], "invokeId")
        linked_id = None
        i = 1
        if parts[1][0] == 0x80:
            linked_id = ber.read_int(buf, parts[1][1], parts[1][2], LAYER)
            i = 2
        elif parts[1][0] == 0x81 and parts[1][1] == parts[1][2]:  # X.880 linkedId absent [1] NULL
            i = 2
        if len(parts) <= i:
            raise _fail("invoke without opcode")
        opcode = _integer(buf, parts[i], "opcode")
        return Invoke(invoke_id, opcode, _open(buf, parts, i + 1, ce, "argument"), linked_id)
    if tag == _RESULT:
        if not 1 <= len(parts) <= 2:
            raise _fail("returnResult must hold invokeId and at most one result")
        invoke_id = _integer(buf, parts[0], "invokeId")
        if len(parts) == 1:
            return ReturnResult(invoke_id)
        rtag, rcs, rce, _ = parts[1]
        if rtag != 0x30:
            raise _fail("returnResult result is not a SEQUENCE")
        inner = ber.children(buf, rcs, rce, LAYER)
        if len(inner) != 2:
            raise _fail("returnResult result must hold opcode and result")
        opcode = _integer(buf, inner[0], "opcode")
        return ReturnResult(invoke_id, opcode, buf[inner[1][3] : rce])
    if tag == _ERROR:
        if len(parts) < 2:
            raise _fail("returnError too short")
        invoke_id = _integer(buf, parts[0], "invokeId")
        code = _integer(buf, parts[1], "errcode")
        return ReturnError(invoke_id, code, _open(buf, parts, 2, ce, "parameter"))
    if tag == _REJECT:
        if len(parts) != 2:
            raise _fail("reject must hold invokeId and problem")
        if parts[0][0] == 0x05:
            if parts[0][1] != parts[0][2]:
                raise _fail("reject NULL invokeId has content")
            invoke_id = None
        else:
            invoke_id = _integer(buf, parts[0], "invokeId")
        ptag, pcs, pce, _ = parts[1]
        if not 0x80 <= ptag <= 0x83:
            raise _fail("unknown reject problem")
        return Reject(invoke_id, PROBLEM_KINDS[ptag & 0x03], ber.read_int(buf, pcs, pce, LAYER))
    raise _fail(f"not a ROSE APDU (tag {tag:#x})")


# ------------------------------------------------------------------------------------------------
# pyasn1 description of the same PDUs (documentation and cross-checks; not on the hot path)


def _ctx(number: int, constructed: bool = False) -> tag.Tag:
    return tag.Tag(tag.tagClassContext, tag.tagFormatConstructed if constructed else tag.tagFormatSimple, number)


class InvokeAPDU(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", univ.Integer()),
        namedtype.OptionalNamedType("linkedId", univ.Integer().subtype(implicitTag=_ctx(0))),
        namedtype.NamedType("opcode", univ.Integer()),
        namedtype.OptionalNamedType("argument", univ.Any()),
    )


class _ResultBody(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("opcode", univ.Integer()),
        namedtype.NamedType("result", univ.Any()),
    )


class ReturnResultAPDU(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", univ.Integer()),
        namedtype.OptionalNamedType("result", _ResultBody()),
    )


class ReturnErrorAPDU(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", univ.Integer()),
        namedtype.NamedType("errcode", univ.Integer()),
        namedtype.OptionalNamedType("parameter", univ.Any()),
    )


class _RejectInvokeId(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("present", univ.Integer()),
        namedtype.NamedType("absent", univ.Null()),
    )


class _RejectProblem(univ.Choice):
    componentType = namedtype.NamedTypes(
        *(namedtype.NamedType(name, univ.Integer().subtype(implicitTag=_ctx(n)))
          for n, name in enumerate(PROBLEM_KINDS))
    )


class RejectAPDU(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invokeId", _RejectInvokeId()),
        namedtype.NamedType("problem", _RejectProblem()),
    )


class ROSEapdus(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("invoke", InvokeAPDU().subtype(implicitTag=_ctx(1, True))),
        namedtype.NamedType("returnResult", ReturnResultAPDU().subtype(implicitTag=_ctx(2, True))),
        namedtype.NamedType("returnError", ReturnErrorAPDU().subtype(implicitTag=_ctx(3, True))),
        namedtype.NamedType("reject", RejectAPDU().subtype(implicitTag=_ctx(4, True))),
    )
