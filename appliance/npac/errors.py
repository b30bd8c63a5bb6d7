"""A refused subscription-version request as the CMIP error the IIS names for the operation
(Appendix A, Exhibit 79: the errors valid per primitive; Exhibit 80: processingFailure with
lnpSpecificInfo). A refused request changes nothing (R5-20.2, R5-30.2, R5-39.2).

The machine's `Reply` says why (guards.py); the operation decides the code:
* not the old / new / current SP -> accessDenied (flows 6.4.1.3 b, 6.4.1.5 d, 6.4.3.1 e; Exhibit 79
  "not the old or new service provider");
* invalid or missing data, or no version the request can apply to -> invalidArgumentValue on an
  M-ACTION (6.4.1.1 b, 6.4.1.5 d "no version to activate"; Exhibit 79 "an argument value does not
  exist"), processingFailure on an M-SET (GDMO L36488);
* a version in a status the operation does not apply to -> accessDenied for a disconnect (Exhibit 79
  "the version selected for a disconnect is not active") and an M-SET (GDMO L36434);
* anything else (a business rule: another version in flight, concurrence missing, ...) ->
  processingFailure whose lnpSpecificInfo names the rule.
"""
from __future__ import annotations

from typing import Any

from appliance.lnp import asn1
from appliance.lnp.oids import OIDS
from appliance.npac.guards import Refusal, Reply
from appliance.osi import cmip

WRONG_STATUS = "wrong-status"  # a Reply-like cause the engine adds: no rule for (status, request)
SET = "set"  # the operation name of an M-SET on subscriptionVersionNPAC
LNP_SPECIFIC_INFO_OID = OIDS.attribute("lnpSpecificInfo").oid  # {lnp-attribute 21}, GDMO §7.4 (§C.9 #6)

_ACTION = {
    Reply.SOA_NOT_AUTHORIZED: cmip.ACCESS_DENIED,
    Reply.INVALID_DATA_VALUES: cmip.INVALID_ARGUMENT_VALUE,
    Reply.NO_VERSION_FOUND: cmip.INVALID_ARGUMENT_VALUE,
    WRONG_STATUS: cmip.INVALID_ARGUMENT_VALUE,
    Reply.VERSION_CREATE_ALREADY_EXISTS: cmip.PROCESSING_FAILURE,
    Reply.FAILED: cmip.PROCESSING_FAILURE,
}
_BY_OPERATION: dict[str, dict[str, int]] = {
    "subscriptionVersionDisconnect": {**_ACTION, WRONG_STATUS: cmip.ACCESS_DENIED},
    SET: {
        Reply.SOA_NOT_AUTHORIZED: cmip.ACCESS_DENIED, WRONG_STATUS: cmip.ACCESS_DENIED,
        Reply.NO_VERSION_FOUND: cmip.NO_SUCH_OBJECT_INSTANCE, Reply.INVALID_DATA_VALUES: cmip.PROCESSING_FAILURE,
        Reply.VERSION_CREATE_ALREADY_EXISTS: cmip.PROCESSING_FAILURE, Reply.FAILED: cmip.PROCESSING_FAILURE,
    },
}


def error_code(operation: str, cause: str) -> int:
    """The CMIP error code for a refusal `cause` (a `Reply` value or WRONG_STATUS) of `operation`
    (an action name, or SET)."""
    return _BY_OPERATION.get(operation, _ACTION).get(cause, cmip.PROCESSING_FAILURE)


def specific_info(text: str) -> bytes:
    """LnpSpecificInfo ::= GraphicString255 (L43004): the reason, cut to fit."""
    clean = "".join(c if " " <= c <= "~" else " " for c in text).strip() or "refused"
    return asn1.encode(asn1.type_class("LnpSpecificInfo")(clean[:255]))


def processing_failure(object_class: Any, text: str, object_instance: Any = None) -> cmip.CmipError:
    """Exhibit 80: processingFailure, specificErrorInfo = (lnpSpecificInfo, the text)."""
    return cmip.CmipError(cmip.PROCESSING_FAILURE, cmip.ProcessingFailure(
        object_class, LNP_SPECIFIC_INFO_OID, specific_info(text), object_instance))


def describe(refusal: Refusal) -> str:
    return f"{refusal.reason} ({refusal.rule})"


def action_error(code: int, request: cmip.ActionRequest, text: str) -> cmip.CmipError:
    """The CmipError an M-ACTION gets, with the parameter X.711 gives that code."""
    if code == cmip.INVALID_ARGUMENT_VALUE:
        return cmip.CmipError(code, cmip.InvalidArgumentValue("action", request.action_type, request.action_info))
    if code == cmip.PROCESSING_FAILURE:
        return processing_failure(request.object_class, text, request.object_instance)
    return cmip.CmipError(code)


def set_error(code: int, request: cmip.SetRequest, text: str) -> cmip.CmipError:
    if code == cmip.PROCESSING_FAILURE:
        return processing_failure(request.object_class, text, request.object_instance)
    if code == cmip.NO_SUCH_OBJECT_INSTANCE:
        return cmip.CmipError(code, request.object_instance)
    return cmip.CmipError(code)
