"""The WIT language: parse, resolve, print and serialize WebAssembly Interface Types.

``Resolve`` loads WIT from text, a file or a directory (with ``deps/``) into tables of packages,
interfaces, worlds and types linked by integer ids; ``print_package``/``print_resolve`` turn it
back into WIT text and ``to_json`` into wit-parser's JSON shape.
"""

from __future__ import annotations

from . import ast
from .json import dumps, to_json
from .model import (
    PRIMITIVES,
    Docs,
    EnumCase,
    Field,
    Flag,
    Function,
    Interface,
    KEnum,
    KFixedList,
    KFlags,
    KFuture,
    KHandle,
    KList,
    KMap,
    KOption,
    KRecord,
    KResource,
    KResult,
    KStream,
    KTuple,
    KType,
    KUnknown,
    KVariant,
    Package,
    PackageName,
    Stability,
    Type,
    TypeDef,
    TypeDefKind,
    TypeOwner,
    VariantCase,
    Version,
    World,
    WorldItem,
    WorldItemFunction,
    WorldItemInterface,
    WorldItemType,
    WorldKey,
)
from .parser import parse_file
from .printer import print_package, print_resolve
from .resolve import PackageGroup, Resolve, parse_group
from .unresolved import UnresolvedPackage

__all__ = [
    "PRIMITIVES",
    "Docs",
    "EnumCase",
    "Field",
    "Flag",
    "Function",
    "Interface",
    "KEnum",
    "KFixedList",
    "KFlags",
    "KFuture",
    "KHandle",
    "KList",
    "KMap",
    "KOption",
    "KRecord",
    "KResource",
    "KResult",
    "KStream",
    "KTuple",
    "KType",
    "KUnknown",
    "KVariant",
    "Package",
    "PackageGroup",
    "PackageName",
    "Resolve",
    "Stability",
    "Type",
    "TypeDef",
    "TypeDefKind",
    "TypeOwner",
    "UnresolvedPackage",
    "VariantCase",
    "Version",
    "World",
    "WorldItem",
    "WorldItemFunction",
    "WorldItemInterface",
    "WorldItemType",
    "WorldKey",
    "ast",
    "dumps",
    "main_json",
    "parse_file",
    "parse_group",
    "print_package",
    "print_resolve",
    "to_json",
]


def main_json(path: str, features: set[str] | None = None, all_features: bool = False) -> str:
    """Resolve ``path`` (file or directory) and return its JSON text (``wasm-component wit``)."""
    resolve = Resolve(features=features, all_features=all_features)
    resolve.push_path(path)
    return dumps(resolve)
