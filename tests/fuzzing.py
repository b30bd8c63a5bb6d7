"""Shared fuzzing knobs: every decoder gets FUZZ_CASES random inputs and FUZZ_CASES mutations of
valid PDUs per test; CI (HYPOTHESIS_PROFILE=ci) runs enough for 10,000+ cases over the stack."""
import os

from hypothesis import strategies as st

FUZZ_CASES = 3000 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 300


@st.composite
def mutated(draw, valid: bytes):
    """A valid PDU with a few bytes flipped, inserted, deleted or the tail cut."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if op == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and data:
            i = draw(st.integers(0, len(data) - 1))
            del data[i]
        elif op == "truncate" and data:
            del data[draw(st.integers(0, len(data) - 1)):]
    return bytes(data)
