"""Field formats of a subscription version (FRS Table 3-4, L8202-9034; legend L7474-7590).

R5-18.1, RR5-6.1, R5-29.1 and R5-38.1 validate every supplied field against this table. Where the
FRS size and the ASN.1 wire type differ, a value must satisfy both (DECISIONS precedence 2): a DPC
is N(9) in the FRS and OCTET STRING (SIZE(3)) on the wire, so each 3-digit group is one octet; an
SSN is N(3) and INTEGER(0..255).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from appliance.npac.model import LnpType


def _pattern(regex: str) -> Callable[[Any], bool]:
    compiled = re.compile(regex)
    return lambda v: isinstance(v, str) and compiled.fullmatch(v) is not None


def _dpc(v: Any) -> bool:
    return isinstance(v, str) and re.fullmatch(r"\d{9}", v) is not None and all(
        int(v[i:i + 3]) <= 255 for i in (0, 3, 6))


def _ssn(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255


def _time(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _lnp_type(v: Any) -> bool:
    return v in tuple(LnpType)


_TN = _pattern(r"\d{10}")
_SP_ID = _pattern(r"[A-Za-z0-9]{1,4}")


@dataclass(frozen=True)
class FieldFormat:
    name: str
    valid: Callable[[Any], bool]
    format: str
    cite: str


FORMATS: dict[str, FieldFormat] = {f.name: f for f in (
    FieldFormat("tn", _TN, "TN: 10 digits", "L8292"),
    FieldFormat("lrn", _TN, "TN: 10 digits", "L8233"),
    FieldFormat("old_sp", _SP_ID, "C(4) alphanumeric", "L8245 L7635"),
    FieldFormat("new_sp", _SP_ID, "C(4) alphanumeric", "L8280 L7635"),
    FieldFormat("lnp_type", _lnp_type, "E: LSPP 0, LISP 1", "L8304-8322"),
    FieldFormat("class_dpc", _dpc, "N(9), 3 octets", "L8360"),
    FieldFormat("class_ssn", _ssn, "N(3), 0-255", "L8372"),
    FieldFormat("lidb_dpc", _dpc, "N(9), 3 octets", "L8407"),
    FieldFormat("lidb_ssn", _ssn, "N(3), 0-255", "L8419"),
    FieldFormat("cnam_dpc", _dpc, "N(9), 3 octets", "L8431"),
    FieldFormat("cnam_ssn", _ssn, "N(3), 0-255", "L8443"),
    FieldFormat("isvm_dpc", _dpc, "N(9), 3 octets", "L8455"),
    FieldFormat("isvm_ssn", _ssn, "N(3), 0-255", "L8467"),
    FieldFormat("new_sp_due_date_ms", _time, "T", "L8479"),
    FieldFormat("old_sp_due_date_ms", _time, "T", "L8497"),
    FieldFormat("old_sp_authorization", _bool, "B", "L8515"),
    FieldFormat("customer_disconnect_date_ms", _time, "T", "L8678"),
    FieldFormat("effective_release_date_ms", _time, "T", "L8664"),
    FieldFormat("porting_to_original", _bool, "B", "L8930-8944"),
    FieldFormat("end_user_location_value", _pattern(r".{1,12}"), "C(12)", "L8946"),
    FieldFormat("end_user_location_type", _pattern(r".{1,2}"), "C(2)", "L8960"),
    FieldFormat("billing_id", _SP_ID, "C(4)", "L9016-9032"),
)}


def invalid_fields(values: Mapping[str, Any]) -> tuple[str, ...]:
    """Names whose value breaks Table 3-4, or that are not version fields a request may carry."""
    return tuple(sorted(
        name for name, value in values.items()
        if name not in FORMATS or (value is not None and not FORMATS[name].valid(value))
    ))


def valid_tn(tn: Any) -> bool:
    return _TN(tn)


def valid_sp_id(sp: Any) -> bool:
    return _SP_ID(sp)
