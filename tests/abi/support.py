"""Helpers for the Canonical ABI tests: a context over a bytearray memory."""

from __future__ import annotations

from wasm_component._abi import (
    BytearrayMemory,
    CanonicalOptions,
    ComponentInstanceState,
    LiftLowerContext,
    Subtask,
    Task,
)
from wasm_component._abi.context import StringEncoding

ENCODINGS = ("utf8", "utf16", "latin1+utf16")


def string_encoding(name: str) -> StringEncoding:
    """``name`` (a test parameter, one of ``ENCODINGS``) as a ``canonopt`` string encoding."""
    match name:
        case "utf8" | "utf16" | "latin1+utf16":
            return name
    raise AssertionError(f"expected one of {ENCODINGS}, got {name!r}")


def make_cx(
    encoding: str = "utf8", size: int = 1 << 16, scope: str = "task"
) -> tuple[LiftLowerContext, BytearrayMemory]:
    mem = BytearrayMemory(size)
    opts = CanonicalOptions(string_encoding(encoding), mem, mem.realloc)
    inst = ComponentInstanceState()
    bs = Task(inst) if scope == "task" else Subtask()
    return LiftLowerContext(opts, inst, bs), mem
