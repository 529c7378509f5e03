"""``assert_trap`` checks the trap's reason, not only that something trapped."""

from __future__ import annotations

import pytest

from wasm_component._wast_support import trap_reason

CASES = [
    # the suite's text in ours
    ("unreachable", "wasm trap: wasm `unreachable` instruction executed", "pass", False),
    ("wasm trap: cannot enter component instance",
     "cannot enter component instance: it is already on the stack", "pass", False),
    # the same reason in our words
    ("unknown handle index 2", "handle index 2 out of bounds", "pass", False),
    ("string content out-of-bounds", "string [0xfff0, +20) out of bounds", "pass", False),
    ("uncaught exception propagated out of component", "thrown Wasm exception", "pass", False),
    ("cannot drop busy stream", "cannot drop a stream or future end while it copies", "pass",
     False),
    ("cannot remove busy stream", "cannot drop a stream or future end while it copies", "pass",
     False),
    ("cannot lift future in a waitable set",
     "`lift readable future end`: a waitable in a waitable set cannot move", "pass", False),
    ("unaligned pointer", "misaligned result pointer 0x1", "pass", False),
    ("unaligned pointer", "realloc returned misaligned pointer 0x1 (alignment 4)", "pass", False),
    ("unaligned pointer", "realloc returned out-of-bounds range", "fail", False),
    ("invalid `char` bit pattern", "invalid char code point 0xd800", "pass", False),
    ("list content out-of-bounds", "realloc returned out-of-bounds range [0xffffffff, +0)",
     "pass", False),
    ("list content out-of-bounds", "list [0xfff0, +32) out of bounds", "pass", False),
    ("realloc return: result not aligned",
     "realloc returned misaligned pointer 0xffffffff (alignment 4)", "pass", False),
    ("realloc return: result not aligned", "realloc returned out-of-bounds range [0x0, +4)",
     "fail", False),
    ("invalid variant discriminant", "invalid discriminant 2 for a type with 2 cases", "pass",
     False),
    ("cannot read from stream after being notified that the writable end dropped",
     "`stream.read`: handle index 1 is done, expected idle", "pass", False),
    ("cannot read from stream after being notified that the writable end dropped",
     "`stream.read`: handle index 1 is copying, expected idle", "fail", False),
    ("`task.cancel` called by task which has not been cancelled",
     "`task.cancel` without a delivered cancellation request", "pass", False),
    ("cannot drop busy stream", "cannot drop a writable future end before its value was "
     "written", "fail", False),
    # the spec's limit where the suite's wasmtime has another (said so)
    ("unreachable", "string byte length 2147483647 exceeds the maximum 268435455", "pass", True),
    ("string content out-of-bounds",
     "string byte length 2147483648 exceeds the maximum 268435455", "pass", False),
    # another reason: a failure
    ("uncaught exception propagated out of component",
     "wasm trap: wasm `unreachable` instruction executed", "fail", False),
    ("unreachable", "string byte length 2147483648 exceeds the maximum 268435455", "fail", False),
    ("unknown handle index", "cannot enter component instance", "fail", False),
]


@pytest.mark.parametrize(("expected", "got", "status", "by_spec"), CASES)
def test_trap_reason(expected: str, got: str, status: str, by_spec: bool) -> None:
    s, detail = trap_reason(expected, got, "some-file", 1)
    assert s == status, detail
    assert detail.startswith("spec:") == by_spec
    if status == "fail":
        assert "trapped for another reason" in detail
