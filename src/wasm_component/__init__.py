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

from . import errors, types
from .component import Component
from .engine import Engine, EngineConfig, Store
from .errors import (
    ComponentError,
    DecodeError,
    ExportNotFound,
    LinkError,
    NotSupported,
    Trap,
    ValidationError,
    WitError,
)
from .func import Func, TypedFunc
from .instance import ExportIndex, Instance
from .linker import InstancePre, Linker, LinkerInstance
from .resources import Resource, ResourceAny, ResourceTable
from .types import ResourceType
from .values import Err, Ok, Record, Some, Val, Variant

__all__ = [
    "Component",
    "ComponentError",
    "DecodeError",
    "Engine",
    "EngineConfig",
    "Err",
    "ExportIndex",
    "ExportNotFound",
    "Func",
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
    "Some",
    "Store",
    "Trap",
    "TypedFunc",
    "Val",
    "ValidationError",
    "Variant",
    "WitError",
    "errors",
    "types",
]
