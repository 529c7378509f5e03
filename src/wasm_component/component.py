"""``Component``: a decoded, validated and compiled component, ready to instantiate many times.

``Component.new`` runs the pipeline once: decode (``_binary``) -> validate (``_validate``) ->
compile every embedded core module with wasmtime. Instantiation later only executes the plan.

Example::

    >>> from wasm_component import Engine, Component
    >>> c = Component.new(Engine(), '(component (import "f" (func (param "x" u32))))')
    >>> [name for name, _ in c.component_type().imports]
    ['f']
"""

from __future__ import annotations

import os
from typing import Any

from . import types as t
from ._binary import ast
from ._binary.reader import decode_component, is_component
from ._runtime import core
from ._validate import ValidatedComponent, validate
from .engine import Engine
from .errors import ComponentError, DecodeError, ValidationError

__all__ = ["Component", "to_binary"]


def to_binary(data: bytes | bytearray | memoryview | str) -> bytes | memoryview:
    """Binary bytes as given, or text (``.wat``) assembled through wasmtime's ``wat2wasm``."""
    if isinstance(data, str):
        text = data
    else:
        head = bytes(data[:4])
        if head == b"\x00asm":
            return data if isinstance(data, (bytes, memoryview)) else bytes(data)
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("magic header not detected: bad magic number", 0) from None
    try:
        return core.wat2wasm(text)
    except ComponentError as e:
        raise DecodeError(f"failed to parse WebAssembly text: {e}") from None


class Component:
    """A compiled component. Construct with :meth:`new` or :meth:`from_file`, not directly."""

    __slots__ = ("_ast", "_data", "_modules", "_validated", "engine")

    def __init__(
        self,
        engine: Engine,
        data: bytes | memoryview,
        decoded: ast.Component,
        validated: ValidatedComponent,
        modules: dict[int, core.CoreModule],
    ) -> None:
        self.engine = engine
        self._data = data
        self._ast = decoded
        self._validated = validated
        self._modules = modules  # byte offset of the module's section -> compiled module

    @staticmethod
    def new(engine: Engine, data: bytes | bytearray | memoryview | str) -> Component:
        """Decode, validate and compile a component from its binary or text (WAT) form.

        Raises :class:`DecodeError` for malformed input, :class:`ValidationError` for an invalid
        component (including invalid core modules inside it).
        """
        binary = to_binary(data)
        if not is_component(binary):
            if bytes(binary[:4]) == b"\x00asm":
                raise DecodeError("expected a component, got a core module", 4)
        decoded = decode_component(binary)
        validated = validate(decoded, engine.features)
        modules = _compile_modules(engine, binary, decoded)
        return Component(engine, binary, decoded, validated, modules)

    @staticmethod
    def from_file(engine: Engine, path: str | os.PathLike[str]) -> Component:
        """Like :meth:`new`, reading ``path`` (``.wasm`` binary or ``.wat`` text)."""
        with open(path, "rb") as f:
            return Component.new(engine, f.read())

    def component_type(self) -> t.ComponentType:
        """The component's imports and exports, with their types."""
        return self._validated.type

    def __repr__(self) -> str:
        ty = self.component_type()
        return f"<Component: {len(ty.imports)} imports, {len(ty.exports)} exports>"


def _compile_modules(
    engine: Engine, binary: bytes | memoryview, decoded: ast.Component
) -> dict[int, core.CoreModule]:
    out: dict[int, core.CoreModule] = {}
    view = memoryview(binary)

    def walk(c: ast.Component) -> None:
        for d in c.definitions:
            if isinstance(d, ast.CoreModule):
                try:
                    out[d.offset] = core.compile_module(engine._core, view[d.start : d.end])
                except ComponentError as e:
                    raise ValidationError(f"invalid core module: {e}", d.start) from None
            elif isinstance(d, ast.NestedComponent):
                walk(d.component)

    walk(decoded)
    return out


