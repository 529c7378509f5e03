"""One exception hierarchy for everything wasm-component raises on its own account.

Bad input never escapes as a bare ``IndexError`` or ``struct.error``: binary problems become
:class:`DecodeError` (malformed bytes) or :class:`ValidationError` (well-formed but invalid),
both carrying the byte offset; WIT problems become :class:`WitError` with a source span; linking
problems :class:`LinkError`; guest faults :class:`Trap`.
"""

from __future__ import annotations

import enum

__all__ = [
    "ComponentError",
    "DecodeError",
    "ExportNotFound",
    "LinkError",
    "NotSupported",
    "Trap",
    "TrapCode",
    "ValidationError",
    "WitError",
]


class ComponentError(Exception):
    """Root of every error raised by wasm-component."""


class _OffsetError(ComponentError):
    def __init__(self, message: str, offset: int | None = None) -> None:
        self.message = message
        self.offset = offset
        if offset is not None:
            super().__init__(f"{message} (at offset {offset:#x})")
        else:
            super().__init__(message)


class DecodeError(_OffsetError):
    """The bytes are not a well-formed component (or core module) binary."""


class ValidationError(_OffsetError):
    """The component is well-formed but breaks a rule of the component model."""


class WitError(ComponentError):
    """A WIT document failed to lex, parse or resolve.

    ``str(err)`` reads like a compiler diagnostic: the message, then ``file:line:col``, the source
    line and a caret under the offending column.
    """

    def __init__(
        self,
        message: str,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        source_line: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        self.source_line = source_line
        text = message
        if line is not None and col is not None:
            loc = f"{file or '<anon>'}:{line}:{col}"
            text += f"\n     --> {loc}"
            if source_line is not None:
                gutter = str(line)
                pad = " " * len(gutter)
                text += f"\n {pad} |\n {gutter} | {source_line}\n {pad} | {' ' * (col - 1)}^"
        super().__init__(text)


class LinkError(ComponentError):
    """An import could not be satisfied: unknown name or a definition of the wrong type."""


class TrapCode(enum.Enum):
    """Why the guest trapped, when the engine says (wasmtime's ``Trap`` enum): the value of
    :attr:`Trap.code`. Traps the Canonical ABI raises on the guest's behalf (a bad string
    pointer, an invalid discriminant) have no code: ``Trap.code`` is ``None`` then.
    """

    STACK_OVERFLOW = "stack overflow"
    MEMORY_OUT_OF_BOUNDS = "memory out of bounds"
    HEAP_MISALIGNED = "heap misaligned"
    TABLE_OUT_OF_BOUNDS = "table out of bounds"
    INDIRECT_CALL_TO_NULL = "indirect call to null"
    BAD_SIGNATURE = "bad signature"
    INTEGER_OVERFLOW = "integer overflow"
    INTEGER_DIVISION_BY_ZERO = "integer division by zero"
    BAD_CONVERSION_TO_INTEGER = "bad conversion to integer"
    UNREACHABLE = "unreachable"
    INTERRUPT = "interrupt"
    OUT_OF_FUEL = "out of fuel"
    ATOMIC_WAIT_NON_SHARED_MEMORY = "atomic wait on non-shared memory"
    NULL_REFERENCE = "null reference"
    ARRAY_OUT_OF_BOUNDS = "array out of bounds"
    ALLOCATION_TOO_LARGE = "allocation too large"
    CAST_FAILURE = "cast failure"
    CANNOT_ENTER_COMPONENT = "cannot enter component"
    DISABLED_OPCODE = "disabled opcode"
    UNHANDLED_TAG = "unhandled tag"
    UNCAUGHT_EXCEPTION = "uncaught exception"


class Trap(ComponentError):
    """The guest faulted (or the Canonical ABI trapped on its behalf).

    ``message`` says what went wrong; ``frames`` holds the wasm backtrace when one is known;
    ``code`` is the :class:`TrapCode` when the engine reported one (``None`` otherwise).

    Example::

        try:
            f(store)
        except Trap as e:
            if e.code is TrapCode.OUT_OF_FUEL:
                store.set_fuel(10**6)
    """

    code: TrapCode | None

    def __init__(self, message: str, frames: list[str] | None = None,
                 code: TrapCode | None = None) -> None:
        self.message = message
        self.frames = list(frames or [])
        self.code = code
        text = message
        if self.frames:
            text += "\nwasm backtrace:\n" + "\n".join(f"  {f}" for f in self.frames)
        super().__init__(text)


class NotSupported(ComponentError):
    """Something this runtime cannot do yet (the component-model async ABI: async lifts and
    lowers, tasks, streams, futures, waitables; the other proposals its engine lacks), named in
    the message. Raised at ``Component.new`` or at instantiation where it can be known then, and
    at the call otherwise. It is not a :class:`Trap` (the guest did nothing wrong): conformance
    runners count it as a failure, never as an expected trap.
    """


class ExportNotFound(LookupError, ComponentError):
    """An instance has no export of that name and kind (``Instance.get_typed_func`` and the
    other lookups that must return something).

    Example::

        try:
            instance.get_typed_func(store, "nope", [])
        except ExportNotFound as e:
            print(e)   # `Instance.get_typed_func`: no function export `nope`
    """
