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

ENCODINGS = ("utf8", "utf16", "latin1+utf16")


def make_cx(
    encoding: str = "utf8", size: int = 1 << 16, scope: str = "task"
) -> tuple[LiftLowerContext, BytearrayMemory]:
    mem = BytearrayMemory(size)
    opts = CanonicalOptions(encoding, mem, mem.realloc)  # type: ignore[arg-type]
    inst = ComponentInstanceState()
    bs = Task(inst) if scope == "task" else Subtask()
    return LiftLowerContext(opts, inst, bs), mem
