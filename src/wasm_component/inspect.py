"""``wasm-component inspect``: a component's imports and exports, printed as a WIT-like world.

Example::

    $ wasm-component inspect examples/hello.wat
    world hello {
      import name: func() -> string;
      export greet: func() -> string;
    }
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import types as t

__all__ = ["describe", "format_component_type", "main"]


def describe(ty: t.ExternType, indent: int = 1) -> str:
    """One extern type in WIT-like syntax (instances and components spelled out, indented)."""
    pad = "  " * indent
    if isinstance(ty, t.FuncType):
        return str(ty)
    if isinstance(ty, t.InstanceType):
        if not ty.exports:
            return "interface {}"
        body = "".join(f"{pad}  {n}: {describe(x, indent + 1)};\n" for n, x in ty.exports)
        return "interface {\n" + body + pad + "}"
    if isinstance(ty, t.ComponentType):
        lines = [f"{pad}  import {n}: {describe(x, indent + 1)};\n" for n, x in ty.imports]
        lines += [f"{pad}  export {n}: {describe(x, indent + 1)};\n" for n, x in ty.exports]
        return "component {\n" + "".join(lines) + pad + "}"
    if isinstance(ty, t.ModuleType):
        lines = [f"{pad}  import {m!r} {n!r}: {x};\n" for m, n, x in ty.imports]
        lines += [f"{pad}  export {n!r}: {x};\n" for n, x in ty.exports]
        return "core module {\n" + "".join(lines) + pad + "}"
    if isinstance(ty, t.TypeBound):
        if isinstance(ty.eq, t.ResourceType):
            return "resource"
        return f"type {ty.eq.wit()}"
    return f"value {ty.type.wit()}"


def _named_resources(ty: t.ComponentType) -> t.ComponentType:
    """``ty`` with each resource type renamed after the import/export that introduces it."""
    from ._validate.typecheck import substitute

    names: dict[t.ResourceType, t.ResourceType] = {}

    def walk(items: tuple[tuple[str, t.ExternType], ...]) -> None:
        for n, x in items:
            if isinstance(x, t.TypeBound) and isinstance(x.eq, t.ResourceType):
                names.setdefault(x.eq, t.ResourceType(x.eq.kind, x.eq.key, n))
            elif isinstance(x, t.InstanceType):
                walk(x.exports)

    walk(ty.imports)
    walk(ty.exports)
    renamed = substitute(ty, names, {}) if names else ty
    return renamed if isinstance(renamed, t.ComponentType) else ty


def format_component_type(ty: t.ComponentType, name: str = "component") -> str:
    ty = _named_resources(ty)
    lines = [f"world {name} {{"]
    lines += [f"  import {n}: {describe(x)};" for n, x in ty.imports]
    lines += [f"  export {n}: {describe(x)};" for n, x in ty.exports]
    lines.append("}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from .component import Component
    from .engine import Engine

    if len(argv) != 1:
        print("usage: wasm-component inspect FILE", file=sys.stderr)
        return 2
    path = Path(argv[0])
    comp = Component.from_file(Engine(), path)
    print(format_component_type(comp.component_type(), path.stem.replace("_", "-")))
    return 0
