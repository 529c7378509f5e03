"""``wasm-component inspect``: a component's imports and exports, printed as a WIT-like world.

Example::

    $ wasm-component inspect examples/hello.wat
    world hello {
      import name: func() -> string;
      export greet: func() -> string;
    }
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import types as t

__all__ = ["describe", "format_component_type", "main", "to_json"]


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


def to_json(ty: t.ExternType) -> dict[str, Any]:
    """One extern type as JSON-ready data (``inspect --json``): a ``kind`` and its parts, with
    value types written in WIT."""
    if isinstance(ty, t.FuncType):
        return {"kind": "func", "params": [{"name": n, "type": p.wit()} for n, p in ty.params],
                "result": None if ty.result is None else ty.result.wit(), "async": ty.is_async}
    if isinstance(ty, t.InstanceType):
        return {"kind": "instance", "exports": _items(ty.exports)}
    if isinstance(ty, t.ComponentType):
        return {"kind": "component", "imports": _items(ty.imports), "exports": _items(ty.exports)}
    if isinstance(ty, t.ModuleType):
        return {"kind": "module",
                "imports": [{"module": m, "name": n, "type": str(x)} for m, n, x in ty.imports],
                "exports": [{"name": n, "type": str(x)} for n, x in ty.exports]}
    if isinstance(ty, t.TypeBound):
        if isinstance(ty.eq, t.ResourceType):
            return {"kind": "resource"}
        return {"kind": "type", "type": ty.eq.wit()}
    return {"kind": "value", "type": ty.type.wit()}


def _items(items: tuple[tuple[str, t.ExternType], ...]) -> list[dict[str, Any]]:
    return [{"name": n, **to_json(x)} for n, x in items]


EXAMPLES = """examples:
  wasm-component inspect examples/hello.wat
  wasm-component inspect --json app.wasm | jq '.exports[].name'

Only decodes and validates (core modules included); nothing is compiled, so it is quick on a
large component. `wasm-component wit FILE` prints the same as a WIT package."""


def main(argv: list[str]) -> int:
    from .cli import command_parser
    from .component import Component
    from .engine import Engine

    ap = command_parser("inspect", "Print a component's imports and exports as a WIT-like "
                        "world.", EXAMPLES)
    ap.add_argument("file", help="the component (.wasm binary or .wat text)")
    ap.add_argument("--json", action="store_true",
                    help='print JSON: {"name", "imports": [...], "exports": [...]}')
    ns = ap.parse_args(argv)
    path = Path(ns.file)
    with open(path, "rb") as f:
        data = f.read()
    ty = _named_resources(Component.validate(Engine(), data))
    name = path.stem.replace("_", "-")
    if ns.json:
        print(json.dumps({"name": name, "imports": _items(ty.imports),
                          "exports": _items(ty.exports)}, indent=2))
    else:
        print(format_component_type(ty, name))
    return 0
