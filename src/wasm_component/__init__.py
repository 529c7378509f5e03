"""wasm-component: the WebAssembly Component Model for Python, on wasmtime.

Load a component, define host functions and resources on a :class:`Linker`, instantiate it in a
:class:`Store`, and call its exports with plain Python values::

    from wasm_component import Engine, Store, Component, Linker

    engine = Engine()
    store = Store(engine, None)
    component = Component.from_file(engine, "examples/hello.wat")
    linker = Linker(engine)
    linker.root().func_wrap("name", lambda store: "Alice")
    instance = linker.instantiate(store, component)
    greet = instance.get_func(store, "greet")
    assert greet(store) == "Hello, Alice!"
"""

from typing import TYPE_CHECKING, Any

from . import errors, types
from .errors import (
    ComponentError,
    DecodeError,
    ExportNotFound,
    LinkError,
    NotSupported,
    Trap,
    TrapCode,
    ValidationError,
    WitError,
)
from .resources import Resource, ResourceAny, ResourceTable
from .types import ResourceType
from .values import Err, Ok, Record, Result, Some, Val, Variant

if TYPE_CHECKING:
    from .component import Component, ResourcesRequired
    from .engine import Engine, EngineConfig, Store
    from .func import Func, TypedFunc
    from .instance import ExportIndex, Instance
    from .linker import InstancePre, Linker, LinkerInstance
    from .streams import (
        ByteStreamReader,
        ByteStreamWriter,
        ErrorContext,
        FutureReader,
        FutureWriter,
        StreamReader,
        StreamWriter,
        future,
        stream,
    )
    from .typed import wit_name
    from .views import WasmList, WasmStr

# The names that need the runtime (and so wasmtime) load it when first used: importing
# ``wasm_component.wit`` or ``wasm_component.types`` does not load wasmtime.
_LAZY = {
    "Component": "component", "ResourcesRequired": "component", "Engine": "engine", "EngineConfig": "engine", "Store": "engine",
    "Func": "func",
    "TypedFunc": "func", "ExportIndex": "instance", "Instance": "instance",
    "InstancePre": "linker", "Linker": "linker", "LinkerInstance": "linker",
    "WasmList": "views", "WasmStr": "views", "wit_name": "typed",
    # async values (no wasmtime, but loaded on first use all the same)
    "ByteStreamReader": "streams", "ByteStreamWriter": "streams", "ErrorContext": "streams",
    "FutureReader": "streams", "FutureWriter": "streams", "StreamReader": "streams",
    "StreamWriter": "streams", "future": "streams", "stream": "streams",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module `wasm_component` has no attribute `{name}`")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ByteStreamReader",
    "ByteStreamWriter",
    "Component",
    "ComponentError",
    "DecodeError",
    "Engine",
    "EngineConfig",
    "Err",
    "ErrorContext",
    "ExportIndex",
    "ExportNotFound",
    "Func",
    "FutureReader",
    "FutureWriter",
    "Instance",
    "InstancePre",
    "LinkError",
    "Linker",
    "LinkerInstance",
    "NotSupported",
    "Ok",
    "Record",
    "Resource",
    "ResourceAny",
    "ResourceTable",
    "ResourceType",
    "ResourcesRequired",
    "Result",
    "Some",
    "Store",
    "StreamReader",
    "StreamWriter",
    "Trap",
    "TrapCode",
    "TypedFunc",
    "Val",
    "ValidationError",
    "Variant",
    "WasmList",
    "WasmStr",
    "WitError",
    "errors",
    "future",
    "stream",
    "types",
    "wit_name",
]
