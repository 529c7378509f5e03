"""Thin, fast core-wasm layer over the ``wasmtime`` C API: the only module that imports ``wasmtime``.

Why this exists
---------------
The component runtime makes a great many small core-wasm calls (lowered exports, ``realloc``,
``post-return``, host imports).  wasmtime-py's public ``Func.__call__`` costs ~20-25 µs per call
because it re-fetches the function type and boxes every value in ``wasmtime_val_t``; the C API's
``wasmtime_func_call_unchecked`` on a raw ``wasmtime_val_raw_t`` array, driven through ctypes with
prebuilt arguments, costs well under 1 µs.  Host functions likewise go through
``wasmtime_func_new_unchecked`` so a guest->host call costs ~0.5 µs instead of ~10 µs.

Instantiation is kept as cheap: all host functions of a store share one C callback (a ctypes
callback per function would cost a fresh executable thunk each), an instance's exports are looked
up by name only when used (``wasmtime_instance_export_nth`` walks the exports from the first, so
enumerating them is quadratic), and imports are written into wasmtime's import array straight
from another instance's exports, with no Python object in between (:class:`Wiring`: one array
per component plan, pooled with every C call's arguments, each export fetched once). The calls
made by the thousand that never run wasm (export lookups, host function creation) keep the GIL.
What remains is one ``wasmtime_instance_export_get`` per distinct export a core instance
imports: about 0.4 µs each (half of it wasmtime's lazy ``funcref`` set-up), thousands on a
componentize-py component, where wasmtime's own component instantiation resolves them by index
in Rust.

Everything else (engines, stores, modules, instances, memories, tables, globals, tags) is wrapped
just enough to be typed, to pass every extern kind from one core instance into another, to turn
traps into :class:`wasm_component.errors.Trap` and link failures into
:class:`wasm_component.errors.LinkError`, and to keep the rest of the library free of ``wasmtime``.

Raw value encoding (``wasmtime_val_raw_t``, 16 bytes per slot, little-endian)
-----------------------------------------------------------------------------
Arguments are written into slots ``0..len(params)-1`` and results are read back from slots
``0..len(results)-1`` of the *same* array (``RawCall.view`` / the host-callback view).

========== =============================================================================
``i32``    low 4 bytes; this API reads it **unsigned** (``0 <= v < 2**32``, like the
           Canonical ABI spec's ``i32`` values) and accepts ``-2**31 <= v < 2**32`` on input.
``i64``    low 8 bytes; read **unsigned**, accepts ``-2**63 <= v < 2**64``.
``f32``    low 4 bytes, IEEE-754 bits (Python ``float`` in the convenience paths).
``f64``    low 8 bytes, IEEE-754 bits.
``v128``   all 16 bytes; a Python ``int`` ``0 <= v < 2**128`` (little-endian lanes).
``funcref`` low 8 bytes, the ``void*`` of ``wasmtime_func_to_raw`` (0 = null); a
           :class:`CoreFunc` or ``None`` in the convenience paths.
========== =============================================================================

Pass ``signed=True`` to :meth:`CoreFunc.make_caller` / :func:`new_host_func` to read integers
signed instead.  ``externref`` (and GC references) are not supported by the raw call paths.

The memory-view rule
--------------------
A ``memoryview`` over linear memory is only ever *short*, never *stale*, whoever ran wasm since
it was made; no call site has anything to remember. :meth:`CoreMemory.view` hands out a view that
is valid but may be shorter than the memory, and :meth:`CoreMemory.current` one as long as the
memory is now (it asks wasmtime for the size); every bounds check on a view looks again
(``current``) before it fails (``CodeGen.past_end`` in generated code; the same test written
out on the hot paths written by hand, ``_abi.context.memory_covering`` on the others). This is sound because, under the engines we
configure (:data:`MEMORY_RESERVATION`), a 32-bit memory grows in place: its base never moves and
it never shrinks, so the longest view made so far stays valid for the memory's life. A memory that may move (64-bit, or under an
engine made from the user's own ``wasmtime.Config``) gets a fresh view each time instead.

Limitation found in wasmtime 50: the ``wasm.h`` type API **aborts the process** when asked for a
type mentioning ``v128`` or any reference type other than nullable ``funcref``/``externref``.  So
:class:`CoreModule` scans the binary first and refuses type introspection (raising
:class:`~wasm_component.errors.ComponentError`) instead of crashing; functions of such modules can
still be called (their export types come from our own pre-scan of the binary, or pass the type
explicitly to :meth:`CoreFunc.make_caller`).

Fibers (component-model async, ``docs/design/async-stacks.md``): a store in which a component
that may suspend a guest stack was instantiated has ``CoreStore.fibers`` set (:meth:`CoreStore.
enable_fibers`). From then on every call into guest code built here (:meth:`CoreFunc.make_caller`,
:meth:`CoreFunc.make_sink`) runs on a fiber of its own (:class:`GuestStack`:
``wasmtime_func_call_async`` polled with ``wasmtime_call_future_poll``), and host functions made
with ``may_suspend=True`` are async host functions (``wasmtime_linker_define_async_func``, taken
out with ``wasmtime_linker_get``) whose callback may return a :class:`Suspend`: the guest's fiber
then stays suspended until the suspension's ``poll()`` gives the results (each time the fiber is
polled again: :meth:`GuestStack.poll`). A sync call reaching an async host function would abort
the process (a Rust panic), which is why the switch covers every entry into guest code. Stores
without it keep the unchecked sync path unchanged.
"""

from __future__ import annotations

import ctypes
import functools
import struct
import sys
import weakref
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any, NamedTuple

import wasmtime
from wasmtime import _ffi as ffi

from wasm_component.errors import ComponentError, LinkError, NotSupported, Trap, TrapCode

__all__ = [
    "FEATURES",
    "PENDING",
    "CoreEngine",
    "CoreExport",
    "CoreExtern",
    "CoreFunc",
    "CoreFuncType",
    "CoreGlobal",
    "CoreGlobalType",
    "CoreImport",
    "CoreInstance",
    "CoreMemory",
    "CoreMemoryType",
    "CoreModule",
    "CoreStore",
    "CoreTable",
    "CoreTableType",
    "CoreTag",
    "CoreTagType",
    "GuestStack",
    "HostEntry",
    "InlineCall",
    "LazyExport",
    "RawCall",
    "SinkSite",
    "Suspend",
    "Value",
    "Wiring",
    "WiringPlan",
    "compile_module",
    "deserialize_module",
    "import_array",
    "instantiate",
    "instantiate_array",
    "instantiate_failed",
    "instantiate_trusted",
    "instantiated",
    "make_config",
    "new_async_host_func",
    "new_host_func",
    "new_host_func_from",
    "new_lazy_host_func",
    "new_raw_host_func",
    "put_import",
    "resolve",
    "running_stack",
    "wat2wasm",
    "wrap_instance",
    "wrap_module",
]

Value = Any
"""A core value in the convenience paths: ``int`` (i32/i64/v128), ``float``, ``CoreFunc | None``."""

SLOT = 16  # sizeof(wasmtime_val_raw_t)

# -- private ctypes handles --------------------------------------------------------------------
# Our own CDLL handle (same library as wasmtime-py) so setting argtypes/restype never disturbs
# wasmtime-py.  Hot functions keep ``argtypes = None`` and are always called with prebuilt
# ``c_void_p``/``c_size_t`` objects: ctypes then skips all ``from_param`` conversions.
_lib = ctypes.CDLL(ffi.dll._name)


def _c_fn(lib: ctypes.CDLL, name: str, restype: Any, *argtypes: Any) -> Any:
    """``lib``'s C function ``name`` with its ``restype``, and its ``argtypes`` when given
    (the hot ones are left without: see above)."""
    fn = getattr(lib, name)
    fn.restype = restype
    if argtypes:
        fn.argtypes = list(argtypes)
    return fn


_call_unchecked = _c_fn(_lib, "wasmtime_func_call_unchecked", ctypes.c_void_p)



_memory_at_c = ctypes.pythonapi.PyMemoryView_FromMemory
_memory_at_c.restype = ctypes.py_object
_memory_at_c.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int)
_PyBUF_WRITE = 0x200


def _memory_at(ptr: int, size: int) -> memoryview:
    """A writable ``memoryview`` (format ``B``) of ``size`` bytes at address ``ptr``, owning
    nothing: the caller keeps it valid (the memory-view rule). (Not a view of a ctypes array:
    that makes an array type per size, each a reference cycle left to the cyclic GC.)"""
    mv: memoryview = _memory_at_c(ptr, size, _PyBUF_WRITE)
    return mv


@functools.lru_cache(maxsize=4096)  # (sizes: of plans' import arrays and call buffers)
def _array_t(item: Any, n: int) -> Any:
    """The ctypes type of ``n`` ``item``s, kept (ctypes caches array types weakly, and a type
    is a reference cycle: one made for a store's objects would be left to the cyclic GC with
    them, and made again after it)."""
    return item * n


def _bytes_t(n: int) -> Any:
    return _array_t(ctypes.c_ubyte, n)


def _char_buffer(size: int, init: bytes = b"") -> Any:
    """``ctypes.create_string_buffer(init, size)`` of a kept type (see :func:`_array_t`)."""
    assert len(init) <= size, "the values fit their array"
    buf = _array_t(ctypes.c_char, size)()
    if init:
        ctypes.memmove(buf, init, len(init))
    return buf


def _address(obj: Any) -> int:
    """The address a ctypes pointer, ``c_char_p`` or function object holds. (Not
    ``ctypes.cast(obj, c_void_p).value``: a cast puts ``obj`` in a reference cycle with
    itself, through the dict of objects it keeps alive, so from then on only the cyclic GC
    frees it and what it holds: a store's host callback, with all it refers to.)"""
    return ctypes.c_void_p.from_buffer(obj).value or 0


# A pointer-sized argument of a hot call, prebuilt: ``byref`` of a one-byte object placed "at"
# the value, so the value is what gets passed (the object itself is never read). ctypes passes
# such a prebuilt argument object as it is, where a ``c_void_p``/``c_size_t`` instance costs a
# new argument object and a format-table lookup per argument per call (about a third of a
# small call's cost). A ``size_t`` passes the same way: on every 64-bit ABI wasmtime runs on,
# pointer and ``size_t`` arguments are passed alike.
assert ctypes.sizeof(ctypes.c_void_p) == ctypes.sizeof(ctypes.c_size_t) == 8, "a 64-bit host"


def _carg(value: int | ctypes.c_void_p | ctypes.c_size_t) -> Any:
    """``value`` (an address, a size, or a ctypes object holding one) as a prebuilt
    argument of a call made with ``argtypes`` unset (see above)."""
    v = value if isinstance(value, int) else (value.value or 0)
    return ctypes.byref(ctypes.c_char.from_address(v))


_HostCallback = ctypes.CFUNCTYPE(
    ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t
)
_func_new_unchecked = _c_fn(_lib, "wasmtime_func_new_unchecked", None)
# no argtypes: always called with a c_void_p context and type, the callback object, None for
# env and finalizer, and a byref() out-pointer
_trap_new = _c_fn(_lib, "wasmtime_trap_new", ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t)
_export_nth = _c_fn(_lib, "wasmtime_instance_export_nth", ctypes.c_bool)
_export_get = _c_fn(_lib, "wasmtime_instance_export_get", ctypes.c_bool)
# Calls that never run wasm (nor call back into Python) and are made by the thousand while
# instantiating keep the GIL: releasing and retaking it costs more than the call itself.
_held = ctypes.PyDLL(ffi.dll._name)
_char_at = ctypes.c_char.from_address
# (a memory's base and size: asked when a view is too short, see ``CoreMemory.current``)
_mem_data = _c_fn(_held, "wasmtime_memory_data", ctypes.c_void_p)
_mem_size = _c_fn(_held, "wasmtime_memory_data_size", ctypes.c_size_t)
_export_get_held = _c_fn(_held, "wasmtime_instance_export_get", ctypes.c_bool)
_func_new_held = _c_fn(_held, "wasmtime_func_new_unchecked", None)
_extern_t = ffi.wasmtime_extern_t
_EXTERN_SIZE = ctypes.sizeof(_extern_t)
_KIND_FUNC = ffi.WASMTIME_EXTERN_FUNC.value
_EXTERN_OF = _extern_t.of.offset  # (where a ``wasmtime_extern_t``'s item starts)
_instance_new = _c_fn(_lib, "wasmtime_instance_new", ctypes.c_void_p)
_func_to_raw = _c_fn(_lib, "wasmtime_func_to_raw", ctypes.c_void_p,
                     ctypes.c_void_p, ctypes.c_void_p)
_func_from_raw = _c_fn(_lib, "wasmtime_func_from_raw", None,
                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class _ValRaw(ctypes.Union):
    """Layout-compatible ``wasmtime_val_raw_t`` with unsigned views added."""

    _fields_ = (
        ("i32", ctypes.c_int32),
        ("u32", ctypes.c_uint32),
        ("i64", ctypes.c_int64),
        ("u64", ctypes.c_uint64),
        ("f32", ctypes.c_float),
        ("f64", ctypes.c_double),
        ("v128", ctypes.c_ubyte * 16),
        ("funcref", ctypes.c_void_p),
    )


assert ctypes.sizeof(_ValRaw) == SLOT == ctypes.sizeof(ffi.wasmtime_val_raw_t)

# -- value types -------------------------------------------------------------------------------

_KIND_TO_STR = {0: "i32", 1: "i64", 2: "f32", 3: "f64", 4: "v128", 128: "externref", 129: "funcref"}
_STR_TO_VALTYPE: dict[str, Callable[[], Any]] = {
    "i32": wasmtime.ValType.i32,
    "i64": wasmtime.ValType.i64,
    "f32": wasmtime.ValType.f32,
    "f64": wasmtime.ValType.f64,
    "externref": wasmtime.ValType.externref,
    "funcref": wasmtime.ValType.funcref,
}


def _valtype_str(vt: Any) -> str:
    kind = int(ffi.wasm_valtype_kind(vt.ptr()))
    return _KIND_TO_STR.get(kind, f"<valkind {kind}>")


def _valtypes(vts: Iterable[Any]) -> tuple[str, ...]:
    return tuple(_valtype_str(v) for v in vts)


class CoreFuncType(NamedTuple):
    """A core function type: ``(params, results)`` of valtype strings."""

    params: tuple[str, ...]
    results: tuple[str, ...]


class CoreMemoryType(NamedTuple):
    minimum: int
    maximum: int | None
    is_64: bool
    shared: bool
    page_size_log2: int


class CoreTableType(NamedTuple):
    element: str
    minimum: int
    maximum: int | None


class CoreGlobalType(NamedTuple):
    content: str
    mutable: bool


class CoreTagType(NamedTuple):
    params: tuple[str, ...]
    results: tuple[str, ...]


CoreExternType = CoreFuncType | CoreMemoryType | CoreTableType | CoreGlobalType | CoreTagType


class CoreImport(NamedTuple):
    module: str
    name: str
    kind: str  # 'func' | 'table' | 'memory' | 'global' | 'tag'
    type: CoreExternType


class CoreExport(NamedTuple):
    name: str
    kind: str
    type: CoreExternType


def _convert_type(ty: Any) -> tuple[str, CoreExternType]:
    if isinstance(ty, wasmtime.FuncType):
        return "func", CoreFuncType(_valtypes(ty.params), _valtypes(ty.results))
    if isinstance(ty, wasmtime.MemoryType):
        lim = ty.limits
        return "memory", CoreMemoryType(
            lim.min, lim.max, bool(ty.is_64), bool(ty.is_shared), ty.page_size_log2
        )
    if isinstance(ty, wasmtime.TableType):
        lim = ty.limits
        return "table", CoreTableType(_valtype_str(ty.element), lim.min, lim.max)
    if isinstance(ty, wasmtime.GlobalType):
        return "global", CoreGlobalType(_valtype_str(ty.content), bool(ty.mutable))
    if isinstance(ty, wasmtime.TagType):
        fty = ty.functype
        return "tag", CoreTagType(_valtypes(fty.params), _valtypes(fty.results))
    raise ComponentError(f"unknown core extern type {ty!r}")


def _functype_ptr(
    engine: CoreEngine, params: Sequence[str], results: Sequence[str]
) -> tuple[Any, Any]:
    """A cached ``wasmtime.FuncType`` per engine, and its ``wasm_functype_t*`` as a
    ``c_void_p`` (a ``wasm_functype_t`` registers itself with the first engine it is used with,
    so it must never be shared across engines)."""
    key = (tuple(params), tuple(results))
    cache = engine.functypes
    entry = cache.get(key)
    if entry is None:
        ft = _new_functype(params, results)
        entry = cache[key] = (ft, ctypes.c_void_p(_address(ft.ptr())))
    return entry


def _new_functype(params: Sequence[str], results: Sequence[str]) -> Any:
    try:
        return wasmtime.FuncType(
            [_STR_TO_VALTYPE[p]() for p in params], [_STR_TO_VALTYPE[r]() for r in results]
        )
    except KeyError as e:
        raise ComponentError(f"host functions cannot use value type {e.args[0]!r}") from None


# -- engine / config ---------------------------------------------------------------------------

FEATURES: dict[str, str] = {
    "threads": "wasm_threads",
    "tail_call": "wasm_tail_call",
    "reference_types": "wasm_reference_types",
    "simd": "wasm_simd",
    "relaxed_simd": "wasm_relaxed_simd",
    "bulk_memory": "wasm_bulk_memory",
    "multi_value": "wasm_multi_value",
    "multi_memory": "wasm_multi_memory",
    "memory64": "wasm_memory64",
    "exceptions": "wasm_exceptions",
    "function_references": "wasm_function_references",
    "gc": "wasm_gc",
    "wide_arithmetic": "wasm_wide_arithmetic",
    "custom_page_sizes": "wasm_custom_page_sizes",
    "stack_switching": "wasm_stack_switching",
    "component_model": "wasm_component_model",
    "shared_memory": "shared_memory",
}
"""Feature names accepted by :func:`make_config`, mapped to ``wasmtime.Config`` setters."""

# Proposals with a C setter but no wasmtime-py ``Config`` property: set through the raw binding.
_RAW_FEATURES: dict[str, str] = {
    "branch_hinting": "wasmtime_config_wasm_branch_hinting_set",
    "compact_imports": "wasmtime_config_wasm_compact_imports_set",
}
_IMPLIED: dict[str, tuple[str, ...]] = {
    "gc": ("reference_types", "function_references"),
    "function_references": ("reference_types",),
    "threads": ("shared_memory",),
}


#: The virtual address space reserved for each linear memory by the engines we configure
#: (:func:`make_config`; wasmtime's default on 64-bit hosts, set explicitly): all of a 32-bit
#: memory's 4 GiB, so such a memory grows in place and its base never moves. A view over it
#: stays valid after growth, only shorter than the memory (the module docstring's memory-view
#: rule).
MEMORY_RESERVATION = 1 << 32


def make_config(
    features: Iterable[str] = (),
    *,
    disable: Iterable[str] = (),
    consume_fuel: bool = False,
    epoch_interruption: bool = False,
    max_wasm_stack: int | None = None,
    cranelift_opt_level: str | None = None,
    cache: bool | str = False,
) -> wasmtime.Config:
    """Build a ``wasmtime.Config`` with the named wasm proposals enabled (and ``disable`` off).

    ``gc`` implies ``function_references`` and ``reference_types``; ``threads`` implies
    ``shared_memory``.  Unknown names raise :class:`ValueError`.
    """
    config = wasmtime.Config()
    ffi.wasmtime_config_memory_reservation_set(config.ptr(), MEMORY_RESERVATION)
    on: list[str] = []
    for name in features:
        on.append(name)
        on.extend(_IMPLIED.get(name, ()))
    for name, enable in [*((n, True) for n in on), *((n, False) for n in disable)]:
        if name in FEATURES:
            setattr(config, FEATURES[name], enable)
        elif name in _RAW_FEATURES:
            getattr(ffi, _RAW_FEATURES[name])(config.ptr(), enable)
        else:
            known = ", ".join(sorted([*FEATURES, *_RAW_FEATURES]))
            raise ValueError(f"unknown wasm feature {name!r} (known: {known})")
    if consume_fuel:
        config.consume_fuel = True
    if epoch_interruption:
        config.epoch_interruption = True
    if max_wasm_stack is not None:
        config.max_wasm_stack = max_wasm_stack
    if cranelift_opt_level is not None:
        config.cranelift_opt_level = cranelift_opt_level
    if cache:
        try:
            config.cache = cache
        except wasmtime.WasmtimeError as e:
            raise ValueError(f"`EngineConfig`: bad `cache` {cache!r}: {e}") from None
    return config


def is_raw_config(x: object) -> bool:
    """Whether ``x`` is a ``wasmtime.Config`` or ``wasmtime.Engine`` (accepted by ``Engine``)."""
    return isinstance(x, (wasmtime.Config, wasmtime.Engine))


class CoreEngine:
    """A compilation environment (``wasmtime.Engine``); share one across stores."""

    __slots__ = ("arg", "engine", "functypes", "host_sigs", "in_place")

    def __init__(self, config: wasmtime.Config | wasmtime.Engine | None = None, *,
                 ours: bool = False) -> None:
        """``ours``: ``config`` was made by :func:`make_config` (``None`` makes one), so every
        32-bit memory grows in place (see :data:`MEMORY_RESERVATION`)."""
        self.functypes: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Any, Any]] = {}
        #: the host-function signatures that need no store (see ``_host_sig``)
        self.host_sigs: dict[tuple[tuple[str, ...], tuple[str, ...], bool], _HostSig] = {}
        if config is None:
            config, ours = make_config(), True
        #: whether 32-bit memories keep their base address for their whole life
        self.in_place = ours
        if isinstance(config, wasmtime.Engine):
            self.engine = config
        else:
            self.engine = wasmtime.Engine(config)
        #: the engine pointer's value (for making stores)
        self.arg: int = _address(self.engine.ptr())

    def increment_epoch(self) -> None:
        self.engine.increment_epoch()


def wat2wasm(text: str | bytes) -> bytes:
    """Assemble the WebAssembly text format into a binary module (or component)."""
    try:
        return bytes(wasmtime.wat2wasm(text))
    except wasmtime.WasmtimeError as e:
        raise ComponentError(str(e)) from None


# -- modules -----------------------------------------------------------------------------------


def _simple(v: Any, allow_v128: bool) -> bool:
    """Whether wasmtime's ``wasm.h`` type API can describe value type ``v`` without aborting:
    numbers (``v128`` only where ``allow_v128``) and nullable ``funcref``/``externref``."""
    if isinstance(v, str):
        return v in ("i32", "i64", "f32", "f64") or (allow_v128 and v == "v128")
    return bool(v.nullable) and v.heap in ("func", "extern")


def _val_name(v: Any) -> str:
    return v if isinstance(v, str) else f"{v.heap}ref"


def _describe(info: Any) -> tuple[bool, dict[str, CoreFuncType]]:
    """From a core module's decoded type/import/export information (``_binary``'s
    ``CoreModuleInfo``, the one reading of core binaries): whether every import/export type can
    go through wasmtime's ``wasm.h`` type API without aborting the process, and the types of its
    exported functions (plain func types, ``v128`` included)."""
    types: list[CoreFuncType | None] = []
    safe = True
    for sub in info.types:
        comp = sub.comp
        if sub.supertypes or not sub.final or not hasattr(comp, "params"):
            return False, {}
        vals = (*comp.params, *comp.results)
        if not all(_simple(v, True) for v in vals):
            safe = False
            types.append(None)
            continue
        if "v128" in vals:
            safe = False
        types.append(CoreFuncType(tuple(map(_val_name, comp.params)),
                                  tuple(map(_val_name, comp.results))))
    for imp in info.imports:
        d = imp.desc
        if hasattr(d, "element") and not _simple(d.element, False):  # a table
            return False, {}
        if hasattr(d, "content") and not _simple(d.content, False):  # a global
            return False, {}
    if any(not _simple(tb.element, False) for tb in info.tables) or any(
            not _simple(g.content, False) for g in info.globals):
        return False, {}
    out: dict[str, CoreFuncType] = {}
    for name, kind, idx in info.exports:
        if kind == "func" and idx < len(info.funcs) and info.funcs[idx] < len(types):
            fty = types[info.funcs[idx]]
            if fty is not None:
                out[name] = fty
    return safe, out


def _module_info(raw: bytes) -> Any:
    from .._binary.core import read_core_module_info
    from .._binary.cursor import Reader

    return read_core_module_info(Reader(memoryview(raw), 0, len(raw)))


class CoreModule:
    """A compiled core module.  ``imports``/``exports`` are tuples of :class:`CoreImport` /
    :class:`CoreExport` (computed once)."""

    __slots__ = (
        "_exports", "_func_types", "_imports",
        "_introspectable", "_ptr", "engine", "module",
    )

    def __init__(
        self,
        engine: CoreEngine,
        module: wasmtime.Module,
        introspectable: bool,
        func_types: dict[str, CoreFuncType] | None = None,
    ) -> None:
        self.engine = engine
        self.module = module
        self._introspectable = introspectable
        self._func_types = func_types or {}
        self._imports: tuple[CoreImport, ...] | None = None
        self._exports: tuple[CoreExport, ...] | None = None
        self._ptr = ctypes.c_void_p(_address(module.ptr()))

    def _check_introspectable(self) -> None:
        if not self._introspectable:
            raise ComponentError(
                "core module uses v128 or typed references in its imports/exports; wasmtime's C "
                "type API cannot describe them (it would abort the process)"
            )

    @property
    def introspectable(self) -> bool:
        return self._introspectable

    @property
    def imports(self) -> tuple[CoreImport, ...]:
        if self._imports is None:
            self._check_introspectable()
            out = []
            for imp in self.module.imports:
                kind, ty = _convert_type(imp.type)
                out.append(CoreImport(imp.module, imp.name or "", kind, ty))
            self._imports = tuple(out)
        return self._imports

    @property
    def exports(self) -> tuple[CoreExport, ...]:
        if self._exports is None:
            self._check_introspectable()
            out = []
            for exp in self.module.exports:
                kind, ty = _convert_type(exp.type)
                out.append(CoreExport(exp.name, kind, ty))
            self._exports = tuple(out)
        return self._exports

    def serialize(self) -> bytes:
        return bytes(self.module.serialize())


def compile_module(engine: CoreEngine, data: bytes | bytearray | memoryview, info: Any = None
                   ) -> CoreModule:
    """Compile (and validate) a core module binary.  Raises :class:`ComponentError` on failure.
    ``info``: its decoded ``CoreModuleInfo``, when the caller has it (else it is read here)."""
    raw = bytes(data)
    if not raw.startswith(b"\x00asm"):
        raise ComponentError("not a core wasm binary (use wat2wasm for text)")
    try:
        module = wasmtime.Module(engine.engine, raw)
    except wasmtime.WasmtimeError as e:
        raise ComponentError(f"failed to compile core module: {e}") from None
    if info is None:
        try:
            info = _module_info(raw)
        except ComponentError:  # (a binary our decoder does not read: describe nothing)
            return CoreModule(engine, module, False, {})
    safe, func_types = _describe(info)
    return CoreModule(engine, module, safe, func_types)


def validate_module(engine: CoreEngine, data: bytes | bytearray | memoryview) -> None:
    """Validate a core module binary without compiling it (for tools that only read types).
    Raises :class:`ComponentError` when it is invalid."""
    try:
        wasmtime.Module.validate(engine.engine, bytes(data))
    except wasmtime.WasmtimeError as e:
        raise ComponentError(str(e)) from None


def wrap_module(engine: CoreEngine, module: wasmtime.Module) -> CoreModule:
    """Adopt a ``wasmtime.Module`` compiled by the user (for ``Linker.module``)."""
    if not isinstance(module, wasmtime.Module):
        raise TypeError(f"expected a wasmtime.Module, got {type(module).__name__}")
    return CoreModule(engine, module, True)


def deserialize_module(
    engine: CoreEngine, data: bytes | bytearray, start: int = 0, end: int | None = None, *,
    introspectable: bool = True,
) -> CoreModule:
    """Load bytes from :meth:`CoreModule.serialize` (same wasmtime version and config only):
    ``data[start:end]``, read in place (wasmtime's own ``Module.deserialize`` copies the
    bytes twice; a serialized component holds 30 MB of them).

    The original binary is gone, so the caller vouches for ``introspectable``.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    stop = len(data) if end is None else end
    if not 0 <= start <= stop <= len(data):
        raise ComponentError(f"failed to deserialize core module: bytes {start}..{stop} are "
                             f"outside the {len(data)}-byte input")
    # ``pinned`` holds the bytes in place for the call (a bytearray's buffer export stops it
    # being resized meanwhile); wasmtime copies what it keeps
    pinned: Any = data if isinstance(data, bytes) else _bytes_t(0).from_buffer(data)
    base = (_address(ctypes.c_char_p(data)) if isinstance(data, bytes)
            else ctypes.addressof(pinned)) or 0
    ptr = ctypes.POINTER(ffi.wasmtime_module_t)()
    error = ffi.wasmtime_module_deserialize(
        engine.engine.ptr(), ctypes.cast(base + start, ctypes.POINTER(ctypes.c_uint8)),
        stop - start, ctypes.byref(ptr))
    del pinned
    if error:
        e = wasmtime.WasmtimeError._from_ptr(error)
        raise ComponentError(f"failed to deserialize core module: {e}") from None
    return CoreModule(engine, wasmtime.Module._from_ptr(ptr), introspectable)


# -- store -------------------------------------------------------------------------------------


_store_new = _c_fn(_held, "wasmtime_store_new", ctypes.c_void_p,
                   ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_store_context = _c_fn(_held, "wasmtime_store_context", ctypes.c_void_p, ctypes.c_void_p)
_store_delete = _c_fn(_held, "wasmtime_store_delete", None, ctypes.c_void_p)
_store_t_p = ctypes.POINTER(ffi.wasmtime_store_t)
_context_t_p = ctypes.POINTER(ffi.wasmtime_context_t)


class _StoreView(wasmtime.Store):
    """A ``wasmtime.Store`` object for a store a :class:`CoreStore` owns (for wasmtime-py's
    own API: memories, tables, globals, fuel): it never deletes the store, the owner does
    (and closes the view first, so a view kept past its store fails cleanly)."""

    def __init__(self, engine: wasmtime.Engine, ptr: int, ctx: int) -> None:
        self._set_ptr(ctypes.cast(ptr, _store_t_p))
        self._Store__context = ctypes.cast(ctx, _context_t_p)
        self.engine = engine

    def _delete(self, ptr: Any) -> None:
        self._Store__context = None  # type: ignore[assignment]


class CoreStore:
    """A wasmtime store (made from C and owned: deleted with this object; :attr:`store` is
    wasmtime-py's ``Store`` object for it) plus the per-store state of the fast paths.

    ``data`` is any Python object for the embedder.  Host callbacks and the ctypes objects they
    need are kept alive here for the store's lifetime.
    """

    __slots__ = (
        "__weakref__",
        "_async_cb",
        "_async_fns",
        "_cont_cb",
        "_conts",
        "_ctx",
        "_ctx_arg",
        "_export_item",
        "_export_item_ref",
        "_host_cb",
        "_host_cb_arg",
        "_host_first",
        "_host_fns",
        "_host_lazy",
        "_host_sigs",
        "_linker",
        "_orphans",
        "_pending",
        "_ptr",
        "_running",
        "_stacks",
        "_trap",
        "_trap_arg",
        "_view",
        "ctx_addr",
        "data",
        "engine",
        "fibers",
        "stack_waiter",
    )

    def __init__(self, engine: CoreEngine, data: Any = None) -> None:
        self.engine = engine
        # the store, made straight from C and owned here (deleted by ``__del__``): wasmtime-py's
        # ``Store`` object costs as much again to make and to delete, and only its own API
        # needs one (``store``: made when first asked for)
        ptr = self._ptr = _store_new(engine.arg, None, None)
        self._view: _StoreView | None = None
        self.data = data
        self.ctx_addr: int = _store_context(ptr)
        self._ctx = ctypes.c_void_p(self.ctx_addr)
        self._trap = trap = ctypes.c_void_p()  # wasm_trap_t* out-slot shared by all calls
        # the same two as prebuilt arguments of the hot calls (``_carg``)
        self._ctx_arg = ctypes.byref(_char_at(self.ctx_addr))
        self._trap_arg = ctypes.byref(trap)
        self._pending: BaseException | None = None  # host exception in flight
        self._host_sigs: dict[tuple[tuple[str, ...], tuple[str, ...], bool], _HostSig] = {}
        self._host_fns: list[Callable[..., int]] = [_no_host_fn]  # see ``_new_func``
        self._host_cb: Any = None
        self._host_cb_arg: Any = None  # (the same, prebuilt: ``_carg``)
        self._host_first: Callable[..., int] | None = None  # (see ``_lazy_first_call``)
        #: env -> what makes the trampoline of a host function made by
        #: ``Wiring.lazy_host_func``, until its first call (``_lazy_first_call``)
        self._host_lazy: dict[int, tuple[_HostSig, Callable[..., Callable[..., Any]],
                                         tuple[Any, ...]]] = {}
        # Out-parameter of ``wasmtime_instance_export_get``, made at its first use and reused
        self._export_item: Any = None
        self._export_item_ref: Any = None
        #: whether guest calls built from now on run on fibers (:meth:`enable_fibers`)
        self.fibers = False
        #: ``waiter(stack)``: run other work until the suspended ``stack`` is done (the
        #: component runtime's scheduler); used by calls that must wait for their fiber
        self.stack_waiter: Callable[[GuestStack], None] | None = None
        self._linker: int | None = None  # (the linker async host functions are defined in)
        self._async_fns: list[Callable[..., Any]] = [_no_host_fn]
        self._async_cb: Any = None
        self._conts: dict[int, tuple[Suspend, int, int, Callable[[int, Any], None]]] = {}
        self._cont_cb: Any = None
        self._running: list[GuestStack] = []  # the fibers being polled, innermost last
        # (the fibers started in this store; made at the first: most stores start none)
        self._stacks: weakref.WeakSet[GuestStack] | None = None
        #: suspended calls let go of by the garbage collector: dropped at a safe point
        #: (:func:`_drop_orphans`), never from a finalizer (which may run inside a fiber)
        self._orphans: list[tuple[int, Any, Any]] = []

    @property
    def store(self) -> wasmtime.Store:
        """The store as wasmtime-py's ``Store`` object (for its own API), made at the first
        use; it fails (``ValueError``) once the store is deleted."""
        view = self._view
        if view is None:
            ptr = self._ptr
            view = self._view = _StoreView(self.engine.engine, ptr or 0, self.ctx_addr)
            if ptr is None:
                view.close()
        return view

    def __del__(self) -> None:
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None:
            view = self._view
            if view is not None:
                view.close()
            _store_delete(ptr)

    def enable_fibers(self) -> None:
        """Run every guest call built from now on on a fiber (see the module docstring)."""
        self.fibers = True

    def release(self) -> None:
        """Let go of the host callbacks (which refer back to this store) once its owner is
        gone: a callback still reached (a handle kept past its store, dropped) traps. Fibers
        still suspended are dropped first (they unwind: their futures must not outlive the
        store)."""
        if self._ptr is not None:
            if self._stacks is not None:
                for stack in list(self._stacks):
                    stack.drop()
            if self._orphans:
                _drop_orphans(self)
        else:  # (the wasmtime store went first: what is left must not be touched)
            self._orphans.clear()
        # (each step only if there is something to let go of: a store that made no host
        # functions, the most common kind dropped in a loop, pays for none)
        fns = self._host_fns
        if len(fns) > 1:
            fns[1:] = [_released_host_fn] * (len(fns) - 1)
            self._host_lazy.clear()
        if self._host_sigs:
            self._host_sigs.clear()
        self._host_first = None
        afns = self._async_fns
        if len(afns) > 1:
            afns[1:] = [_released_async_fn] * (len(afns) - 1)
        if self._conts:
            self._conts.clear()
        self._pending = None
        self.stack_waiter = None
        if self._linker is not None:
            _linker_delete(ctypes.c_void_p(self._linker))
            self._linker = None

    def set_fuel(self, fuel: int) -> None:
        try:
            self.store.set_fuel(fuel)
        except wasmtime.WasmtimeError as e:
            raise ComponentError(str(e)) from None

    def get_fuel(self) -> int:
        try:
            return int(self.store.get_fuel())
        except wasmtime.WasmtimeError as e:
            raise ComponentError(str(e)) from None

    def set_epoch_deadline(self, ticks_after_current: int) -> None:
        self.store.set_epoch_deadline(ticks_after_current)

    def set_limits(
        self,
        memory_size: int = -1,
        table_elements: int = -1,
        instances: int = -1,
        tables: int = -1,
        memories: int = -1,
    ) -> None:
        self.store.set_limits(memory_size, table_elements, instances, tables, memories)

    def gc(self) -> None:
        self.store.gc()

    # -- failure handling ------------------------------------------------------------------

    def _fail(self, err: int | None) -> BaseException:
        """Build the exception for a failed call: the stashed host exception if any, else a
        :class:`Trap` from the trap slot or the error ``err``."""
        trap_addr = self._trap.value
        self._trap.value = None
        return self._fail_with(trap_addr, err)

    def _fail_with(self, trap_addr: int | None, err: int | None) -> BaseException:
        exc: BaseException
        if trap_addr:
            exc = _trap_from_ptr(trap_addr)
        elif err:
            exc = _trap_from_error(err)
        else:  # pragma: no cover - defensive
            exc = Trap("wasm call failed")
        pending = self._pending
        if pending is not None:
            self._pending = None
            # Keep the guest frames the exception unwound through, for the traceback.
            frames = getattr(exc, "frames", None)
            if frames and not getattr(pending, "_wasm_frames_noted", False):
                pending.add_note("wasm backtrace:\n" + "\n".join(f"  {f}" for f in frames))
                pending._wasm_frames_noted = True  # type: ignore[attr-defined]
            return pending
        return exc


def _no_host_fn(*_: Any) -> int:  # pragma: no cover - env 0 is never handed out
    raise AssertionError("host function index 0 is a placeholder")


def _released_host_fn(*_: Any) -> int:
    return _make_trap_ptr("host function called after its store was dropped")


def _parse_message(text: str) -> str:
    """wasmtime renders ``error while executing at wasm backtrace: ...\\n\\nCaused by:\\n 0: a
    \\n 1: b``; keep the causes only (the frames are reported separately)."""
    _, sep, causes = text.partition("Caused by:")
    if not sep:
        return text.strip()
    lines = [ln.strip() for ln in causes.strip().splitlines() if ln.strip()]
    cleaned = [ln.split(": ", 1)[1] if ln.split(":", 1)[0].isdigit() else ln for ln in lines]
    return ": ".join(cleaned)


def _format_frame(frame: Any) -> str:
    name = frame.func_name or f"<wasm function {frame.func_index}>"
    module = frame.module_name or "<module>"
    return f"{module}!{name} @ {frame.module_offset:#x}"


def _trap_from_ptr(addr: int) -> Trap:
    t = wasmtime.Trap._from_ptr(ctypes.cast(addr, ctypes.POINTER(ffi.wasm_trap_t)))
    frames = [_format_frame(f) for f in t.frames]
    code = t.trap_code
    return Trap(_parse_message(t.message), frames,
                None if code is None else TrapCode.__members__.get(code.name))


def _trap_from_error(addr: int) -> Trap:
    ptr = ctypes.cast(addr, ctypes.POINTER(ffi.wasmtime_error_t))
    frames: list[str] = []
    vec = ffi.wasm_frame_vec_t()
    ffi.wasmtime_error_wasm_trace(ptr, ctypes.byref(vec))
    try:
        for i in range(vec.size):
            frames.append(_format_frame(wasmtime._trap.Frame._from_ptr(vec.data[i], vec)))
    finally:
        ffi.wasm_frame_vec_delete(ctypes.byref(vec))
    e = wasmtime.WasmtimeError._from_ptr(ptr)
    return Trap(_parse_message(str(e)), frames)


def _make_trap_ptr(message: str) -> int:
    msg = message.encode()
    return _trap_new(msg, len(msg)) or 0


# -- externs -----------------------------------------------------------------------------------


class CoreExtern:
    """Base of everything a core instance can import or export."""

    __slots__ = ("_ext", "store")
    kind: str = ""
    store: CoreStore
    _ext: Any

    def _as_extern(self) -> Any:  # -> ffi.wasmtime_extern_t
        raise NotImplementedError

    def extern(self) -> Any:
        """The ``wasmtime_extern_t`` naming this item (built once)."""
        try:
            return self._ext
        except AttributeError:
            self._ext = self._as_extern()
            return self._ext


class RawCall:
    """A prebuilt call site for one :class:`CoreFunc`: write arguments into ``view`` (or
    ``buf``), call :meth:`call`, read results from the same slots.

    Slot *i* lives at ``view[16*i : 16*i+16]`` (see the module docstring for the encoding).
    Reusing one site for reentrant calls of the same function is safe: wasmtime copies the
    arguments in before running and writes results only when the call returns.
    """

    __slots__ = ("buf", "call", "func", "nslots", "view")

    def __init__(self, func: CoreFunc, nslots: int) -> None:
        self.nslots = nslots
        # A bytearray shared with a ctypes array: its memoryview is format "B" already, while
        # casting a memoryview of a ctypes array costs 50-150 µs (the PEP 3118 format dance).
        raw = bytearray(SLOT * max(nslots, 1))
        self.buf = _bytes_t(len(raw)).from_buffer(raw)
        self.view = memoryview(raw)
        store = func.store
        self.func = func
        call, ctx, trap_out = _call_unchecked, store._ctx_arg, store._trap_arg
        faddr = _carg(ctypes.addressof(func._raw))
        aaddr = _carg(ctypes.addressof(self.buf))
        n = _carg(nslots)
        trap, fail = store._trap, store._fail
        keep = (func._raw, self.buf)

        def do_call(_keep: Any = keep) -> None:
            err = call(ctx, faddr, aaddr, n, trap_out)
            if err or trap.value:
                raise fail(err)

        self.call: Callable[[], None] = do_call


_FMT_U = {"i32": "I12x", "i64": "Q8x", "f32": "f12x", "f64": "d8x", "v128": "16s", "funcref": "Q8x"}
_FMT_S = {**_FMT_U, "i32": "i12x", "i64": "q8x"}
_MASK = {"i32": 0xFFFFFFFF, "i64": 0xFFFFFFFFFFFFFFFF}
_I32 = struct.Struct("<I")


_STRUCTS: dict[tuple[tuple[str, ...], bool], struct.Struct] = {}


def _codec(
    store: CoreStore, types: Sequence[str], signed: bool
) -> tuple[
    struct.Struct,
    Callable[[Sequence[Any]], list[Any]] | None,
    Callable[[tuple[Any, ...]], tuple[Any, ...]] | None,
]:
    """Struct for a run of slots, plus (only if needed) value converters into/out of it."""
    key = (tuple(types), signed)
    st = _STRUCTS.get(key)
    if st is None:
        fmts = _FMT_S if signed else _FMT_U
        try:
            st = _STRUCTS[key] = struct.Struct("<" + "".join(fmts[t] for t in types))
        except KeyError as e:
            raise ComponentError(
                f"the raw call path does not support value type {e.args[0]!r}"
            ) from None
    if "v128" not in types and "funcref" not in types:
        return st, None, None
    special = [i for i, t in enumerate(types) if t in ("v128", "funcref")]
    ctx = store.ctx_addr

    def encode(values: Sequence[Any]) -> list[Any]:
        out = list(values)
        for i in special:
            v = out[i]
            if types[i] == "v128":
                out[i] = (v & ((1 << 128) - 1)).to_bytes(16, "little")
            elif v is None:
                out[i] = 0
            elif isinstance(v, CoreFunc):
                out[i] = _func_to_raw(ctx, ctypes.addressof(v._raw)) or 0
            else:
                raise TypeError(f"expected CoreFunc or None for funcref, got {v!r}")
        return out

    def decode(values: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(values)
        for i in special:
            v = out[i]
            if types[i] == "v128":
                out[i] = int.from_bytes(v, "little")
            elif not v:
                out[i] = None
            else:
                raw = ffi.wasmtime_func_t()
                _func_from_raw(ctx, v, ctypes.addressof(raw))
                out[i] = CoreFunc(store, raw)
        return tuple(out)

    return st, encode, decode


struct_error = struct.error


def normalize_values(types: Sequence[str], values: Sequence[Any], expected: int) -> list[Any]:
    """The slow path of an inline call (:class:`InlineCall`) whose ``pack`` raised
    ``struct_error``: ``values`` checked and folded into the unsigned range."""
    return _normalize(types, values, expected)


def _normalize(types: Sequence[str], values: Sequence[Any], expected: int) -> list[Any]:
    """Slow path after ``struct.error``: check arity and fold signed ints into unsigned range."""
    if len(values) != expected:
        raise TypeError(f"expected {expected} values, got {len(values)}")
    out = list(values)
    for i, t in enumerate(types):
        m = _MASK.get(t)
        v = out[i]
        if m is not None and isinstance(v, int):
            if not -(m + 1) // 2 <= v <= m:
                raise OverflowError(f"value {v} out of range for {t}")
            out[i] = v & m
        elif t in ("f32", "f64") and isinstance(v, int):
            out[i] = float(v)
    return out


class SinkSite(NamedTuple):
    """An ``(i32) -> ()`` call to make inline (:meth:`CoreFunc.sink_site`)::

        try:
            slot[0] = x
        except (TypeError, ValueError):
            put_slow(x)
        err = call(*args)
        if err or trap.value:
            raise fail(err)

    with ``keep`` held as long as the call can be made."""

    slot: Any  # memoryview cast to "I" over the argument slot (None on a big-endian host)
    put_slow: Callable[[int], None]
    call: Callable[..., int | None]
    args: tuple[Any, ...]
    trap: Any
    fail: Callable[[int | None], BaseException]
    keep: Any


class InlineCall(NamedTuple):
    """A call to make inline (:meth:`CoreFunc.inline_call`), arguments in range::

        pack(view, 0, *args)
        err = call(*cargs)
        if err or trap.value:
            raise fail(err)
        results = unpack(view)

    with ``keep`` held as long as the call can be made."""

    view: memoryview
    pack: Callable[..., None]
    unpack: Callable[[memoryview], tuple[Any, ...]]
    call: Callable[..., int | None]
    cargs: tuple[Any, ...]
    trap: Any
    fail: Callable[[int | None], BaseException]
    keep: Any


class CoreFunc(CoreExtern):
    """A core function (exported by an instance or made by :func:`new_host_func`)."""

    __slots__ = ("_caller", "_raw", "_ty")
    kind = "func"

    def __init__(self, store: CoreStore, raw: Any, ty: CoreFuncType | None = None) -> None:
        self.store = store
        self._raw = raw  # ffi.wasmtime_func_t, owned by us so its address is stable
        self._ty = ty
        self._caller: Callable[[Sequence[Any]], tuple[Any, ...]] | None = None

    @property
    def ty(self) -> CoreFuncType:
        """The function's type (asks wasmtime if it was not known at creation)."""
        if self._ty is None:
            ptr = ffi.wasmtime_func_type(self.store.store._context(), ctypes.byref(self._raw))
            fty = wasmtime.FuncType._from_ptr(ptr, None)
            self._ty = CoreFuncType(_valtypes(fty.params), _valtypes(fty.results))
        return self._ty

    def _as_extern(self) -> Any:
        return ffi.wasmtime_extern_t(
            ffi.WASMTIME_EXTERN_FUNC, ffi.wasmtime_extern_union(func=self._raw)
        )

    def raw_call(self, ty: CoreFuncType | None = None) -> RawCall:
        """A :class:`RawCall` site with ``max(len(params), len(results))`` slots."""
        ty = ty or self.ty
        return RawCall(self, max(len(ty.params), len(ty.results)))

    def _inline(self, site: RawCall) -> tuple[Any, ...]:
        """What a call made inline at ``site`` needs: ``(call, ctx, func address, args
        address, slots, trap out, trap, fail, keep-alive)``."""
        store = self.store
        return (_call_unchecked, store._ctx_arg, _carg(ctypes.addressof(self._raw)),
                _carg(ctypes.addressof(site.buf)), _carg(site.nslots),
                store._trap_arg, store._trap, store._fail, (self._raw, site.buf))

    def inline_call(self, ty: CoreFuncType) -> InlineCall:
        """The pieces of a call made inline by a caller that fuses it with its own work into
        one frame (see :class:`InlineCall`); only for types without ``v128``/``funcref``."""
        assert not self.store.fibers, "guest calls in a store with fibers are on fibers"
        assert not {"v128", "funcref"} & {*ty.params, *ty.results}, "plain numbers only"
        site = self.raw_call(ty)
        call_, ctx, faddr, aaddr, n, trap_out, trap, fail, keep = self._inline(site)
        return InlineCall(site.view, _codec(self.store, ty.params, False)[0].pack_into,
                          _codec(self.store, ty.results, False)[0].unpack_from, call_,
                          (ctx, faddr, aaddr, n, trap_out), trap, fail, keep)

    def on_stack(self, ty: CoreFuncType | None = None) -> Callable[[Sequence[Value]], GuestStack]:
        """``start(args)``: the call made on a fresh fiber (a :class:`GuestStack`, not polled
        yet), for a caller that polls it itself."""
        ty = ty or self.ty
        _val_codec(tuple(ty.params), False)
        _val_codec(tuple(ty.results), False)

        def start(args: Sequence[Value]) -> GuestStack:
            return GuestStack(self, ty, args)

        return start

    def make_caller(
        self, ty: CoreFuncType | None = None, *, signed: bool = False
    ) -> Callable[[Sequence[Value]], tuple[Value, ...]]:
        """Prebuilt ``call(args) -> results`` (a tuple, in the module-docstring encoding).

        ``ty`` overrides the type (needed when the module is not introspectable).  Integers
        are returned unsigned unless ``signed``; inputs may be signed or unsigned.
        """
        ty = ty or self.ty
        if self.store.fibers:
            return _on_stack_caller(self, ty, signed)
        params, results = ty.params, ty.results
        pst, penc, _ = _codec(self.store, params, False)
        rst, _, rdec = _codec(self.store, results, signed)
        site = self.raw_call(ty)
        if penc is None and rdec is None and not signed:  # the common case: the call inline
            view, pack, unpack = site.view, pst.pack_into, rst.unpack_from
            call_, ctx, faddr, aaddr, n, trap_out, trap, fail, keep = self._inline(site)
            nparams = len(params)

            def fast_call(args: Sequence[Value], _keep: Any = keep) -> tuple[Value, ...]:
                try:
                    pack(view, 0, *args)
                except struct.error:
                    pack(view, 0, *_normalize(params, args, nparams))
                err = call_(ctx, faddr, aaddr, n, trap_out)
                if err or trap.value:
                    raise fail(err)
                return unpack(view)

            return fast_call

        view, do_call = site.view, site.call
        pack, unpack = pst.pack_into, rst.unpack_from
        nparams = len(params)

        def call(args: Sequence[Value]) -> tuple[Value, ...]:
            if penc is not None:
                args = penc(args)
            try:
                pack(view, 0, *args)
            except struct.error:
                pack(view, 0, *_normalize(params, args, nparams))
            do_call()
            out = unpack(view)
            return out if rdec is None else rdec(out)

        return call

    def sink_site(self) -> SinkSite:
        """The pieces of an inline ``(i32) -> ()`` call (a destructor's), for a caller that
        fuses its own checks with the call into one frame (see :class:`SinkSite`)."""
        assert not self.store.fibers, "guest calls in a store with fibers are on fibers"
        site = self.raw_call(CoreFuncType(("i32",), ()))
        # slot 0's low 4 bytes as a u32 item: storing an int there costs half a pack_into
        slot = site.view.cast("I") if sys.byteorder == "little" else None
        call_, ctx, faddr, aaddr, n, trap_out, trap, fail, keep = self._inline(site)
        view = site.view

        def put_slow(x: int) -> None:  # a signed value, or a big-endian host
            _I32.pack_into(view, 0, *_normalize(("i32",), (x,), 1))

        return SinkSite(slot, put_slow, call_, (ctx, faddr, aaddr, n, trap_out), trap,
                        fail, keep)

    def make_sink(self) -> Callable[[int], None]:
        """Prebuilt ``call(x)`` for an ``(i32) -> ()`` function (a destructor): the argument
        bare and no results read, the hot path of a resource drop. ``x`` as in
        :meth:`make_caller` (signed or unsigned)."""
        if self.store.fibers:
            call = _on_stack_caller(self, CoreFuncType(("i32",), ()), False)

            def sink_on_stack(x: int) -> None:
                call((x,))

            return sink_on_stack
        slot, put_slow, call_, cargs, trap, fail, keep = self.sink_site()
        ctx, faddr, aaddr, n, trap_out = cargs

        def sink(x: int, _keep: Any = keep) -> None:
            try:
                slot[0] = x
            except (TypeError, ValueError):  # a signed value, or a big-endian host
                put_slow(x)
            err = call_(ctx, faddr, aaddr, n, trap_out)
            if err or trap.value:
                raise fail(err)

        return sink

    def __call__(self, *args: Value) -> Value:
        """Convenience call: returns ``None``, the single result, or a tuple of results."""
        caller = self._caller
        if caller is None:
            caller = self._caller = self.make_caller()
        out = caller(args)
        if len(out) == 1:
            return out[0]
        return out if out else None

    def __repr__(self) -> str:
        return f"<CoreFunc {self._ty or '?'}>"


_MV_CACHE_LIMIT = 256


def _args_view(cache: dict[int, memoryview], array_t: Any, args: int) -> memoryview:
    """The view over a host call's argument array at address ``args``, made on a miss of
    ``cache`` (the trampoline's, by address) and kept there, at most ``_MV_CACHE_LIMIT``."""
    if len(cache) >= _MV_CACHE_LIMIT:
        cache.clear()
    view = cache[args] = memoryview(array_t.from_address(args)).cast("B")
    return view


def _raised_message(e: BaseException) -> str:
    return f"host function raised {type(e).__name__}: {e}"


def _host_raised(store: CoreStore, e: BaseException) -> int:
    """A host function's exception: kept for the outermost call into wasm (which re-raises
    it as itself), and the trap the callback returns instead."""
    store._pending = e
    return _make_trap_ptr(_raised_message(e))


#: ``env`` values as ``c_void_p`` (read only, shared by all stores), for the first host
#: functions of a store
_ENVS = tuple(ctypes.c_void_p(i) for i in range(4096))
_ENV_ARGS = tuple(_carg(i) for i in range(len(_ENVS)))  # (the same, prebuilt: ``_carg``)


def _new_func(store: CoreStore, ty: CoreFuncType, fty: Any, trampoline: Callable[..., int]
              ) -> CoreFunc:
    """A host function of type ``ty`` (``fty``: its ``wasm_functype_t*``, from
    :func:`_functype_ptr`) calling ``trampoline(env, caller, args, nargs)``.

    All host functions of a store share one C callback that dispatches on ``env``, an index
    into the store's list of trampolines: a ctypes callback per function would cost a fresh
    executable thunk each (microseconds, at every instantiation)."""
    ext: Any = _extern_t()  # wasmtime writes the new function straight into an extern
    ext.kind = _KIND_FUNC
    raw = ext.of.func  # (a view into ``ext``: a field is cheaper than ``from_buffer``)
    _func_new_held(store._ctx, fty, store._host_cb or _dispatcher(store),
                   _host_env(store, trampoline), None, ctypes.byref(raw))
    func = CoreFunc(store, raw, ty)
    func._ext = ext
    return func


def _dispatcher(store: CoreStore) -> Any:
    """The store's one C callback for its host functions (made at its first)."""
    fns = store._host_fns

    def dispatch(env: int, caller: int | None, args: int, nargs: int) -> int:
        return fns[env](env, caller, args, nargs)

    cb = store._host_cb = _HostCallback(dispatch)
    store._host_cb_arg = _carg(_address(cb))
    return cb


def _lazy_first_call(store: CoreStore) -> Callable[..., int]:
    """The trampoline of every host function of ``store`` made by ``Wiring.lazy_host_func``
    until its first call, which makes its own (from what ``store._host_lazy`` keeps for it)
    and puts it in its place. One per store: such a function costs no closure."""
    fns = store._host_fns
    lazy = store._host_lazy

    def first_call(env: int, caller: int | None, args: int, nargs: int) -> int:
        try:
            sig, make, margs = lazy[env]
            trampoline = _host_trampoline(store, sig, make(*margs))
        except BaseException as e:  # (kept: the next call tries again, as the first did)
            return _host_raised(store, e)
        del lazy[env]
        fns[env] = trampoline
        return trampoline(env, caller, args, nargs)

    store._host_first = first_call
    return first_call


def _host_env(store: CoreStore, trampoline: Callable[..., int]) -> Any:
    """The ``env`` of a new host function of ``store`` calling ``trampoline``: its index in
    the store's list of trampolines."""
    fns = store._host_fns
    i = len(fns)  # from 1: index 0 holds a placeholder (NULL reads as None)
    fns.append(trampoline)
    return _ENVS[i] if i < len(_ENVS) else ctypes.c_void_p(i)


def new_raw_host_func(
    store: CoreStore,
    params: Sequence[str],
    results: Sequence[str],
    callback: Callable[[memoryview], None],
) -> CoreFunc:
    """A host function that sees wasmtime's raw argument/result array directly.

    ``callback(view)`` gets a ``memoryview`` (format ``B``, ``16 * max(len(params),
    len(results))`` bytes) over the ``wasmtime_val_raw_t`` array: read arguments from slot
    ``i`` at ``view[16*i:]`` and write results to the same slots before returning.  The view is
    only valid during the callback.  An exception raised by the callback traps the guest and is
    re-raised, as itself, from the outermost :class:`CoreFunc` call into wasm.
    """
    ty = CoreFuncType(tuple(params), tuple(results))
    nbytes = SLOT * max(len(params), len(results), 1)
    array_t = _array_t(ctypes.c_char, nbytes)
    cache: dict[int, memoryview] = {}

    def trampoline(env: int | None, caller: int | None, args: int, nargs: int) -> int:
        try:
            view = cache.get(args)
            if view is None:
                view = _args_view(cache, array_t, args)
            callback(view)
            return 0
        except BaseException as e:
            return _host_raised(store, e)

    return _new_func(store, ty, _functype_ptr(store.engine, ty.params, ty.results)[1],
                     trampoline)


_HostSig = tuple[
    "CoreFuncType", Any, Callable[..., tuple[Any, ...]], Callable[..., Any] | None,
    Callable[..., None], Callable[..., Any] | None, Any,
]


def _host_sig(store: CoreStore, params: tuple[str, ...], results: tuple[str, ...], signed: bool
              ) -> _HostSig:
    """What a :func:`new_host_func` of this signature needs, worked out once per engine (per
    store for ``funcref``s, whose conversions need the store): type, argument-array type,
    argument unpacker and decoder, result packer and encoder, ``wasm_functype_t*``."""
    key = (params, results, signed)
    sig = store.engine.host_sigs.get(key)
    if sig is None:
        sig = store._host_sigs.get(key)
    if sig is None:
        pst, _, pdec = _codec(store, params, signed)
        rst, renc, _ = _codec(store, results, False)
        array_t = _array_t(ctypes.c_char, SLOT * max(len(params), len(results), 1))
        fty = _functype_ptr(store.engine, params, results)[1]
        sig = (CoreFuncType(params, results), array_t, pst.unpack_from, pdec, rst.pack_into, renc,
               fty)
        if "funcref" in params or "funcref" in results:
            store._host_sigs[key] = sig
        else:
            store.engine.host_sigs[key] = sig
    return sig


def new_host_func(
    store: CoreStore,
    params: Sequence[str],
    results: Sequence[str],
    callback: Callable[..., Any],
    *,
    signed: bool = False,
    may_suspend: bool = False,
) -> CoreFunc:
    """A host function taking and returning Python values: ``callback(*args)`` returns ``None``
    (no results), a single value, or a sequence of values.

    Integers arrive unsigned unless ``signed``; results may be signed or unsigned.
    Exceptions propagate to the calling host code as the original exception.
    ``may_suspend``: in a store with fibers, an async host function (:func:`new_async_host_func`:
    the callback may return a :class:`Suspend`); elsewhere a plain one.
    """
    if may_suspend and store.fibers:
        return new_async_host_func(store, params, results, callback, signed=signed)
    sig = _host_sig(store, tuple(params), tuple(results), signed)
    return _new_func(store, sig[0], sig[6], _host_trampoline(store, sig, callback))


class HostEntry(NamedTuple):
    """What a trampoline generated elsewhere (:func:`new_host_func_from`) needs to do what
    :func:`_host_trampoline` does for a function without results, in its own frame::

        def trampoline(env, caller, args, nargs):
            try:
                view = views.get(args)
                if view is None:
                    view = view_of(args)
                a0, a1 = unpack(view)
                ...  # the callback's body
                return 0
            except BaseException as e:
                return raised(e)
    """

    unpack: Callable[[memoryview], tuple[Any, ...]]
    views: dict[int, memoryview]  # (argument array address -> view over it)
    view_of: Callable[[int], memoryview]  # (a miss of ``views``: the view made and kept)
    raised: Callable[[BaseException], int]  # (the exception kept for the caller; a trap)


def new_host_func_from(store: CoreStore, params: Sequence[str],
                       make: Callable[[HostEntry], Callable[..., int]]) -> CoreFunc:
    """A host function of unsigned ``params`` and no results whose trampoline
    ``make(entry)`` is generated by the caller (see :class:`HostEntry`), so that a hot
    built-in's body runs in the C callback's frame, not in a callback of a trampoline."""
    sig = _host_sig(store, tuple(params), (), False)
    ty, array_t, unpack, pdec = sig[0], sig[1], sig[2], sig[3]
    assert pdec is None, "plain number parameters only"
    views: dict[int, memoryview] = {}
    trampoline = make(HostEntry(unpack, views, functools.partial(_args_view, views, array_t),
                                functools.partial(_host_raised, store)))
    return _new_func(store, ty, sig[6], trampoline)


def new_lazy_host_func(
    store: CoreStore,
    params: Sequence[str],
    results: Sequence[str],
    make_callback: Callable[[], Callable[..., Any]],
    *,
    signed: bool = False,
    may_suspend: bool = False,
) -> CoreFunc:
    """:func:`new_host_func` whose callback is made by ``make_callback()`` at the first call:
    creating the function stays cheap, and functions never called cost nothing more."""
    if may_suspend and store.fibers:
        made: list[Callable[..., Any]] = []

        def first(*args: Any) -> Any:
            if not made:
                made.append(make_callback())
            return made[0](*args)

        return new_async_host_func(store, params, results, first, signed=signed)
    sig = _host_sig(store, tuple(params), tuple(results), signed)
    return _new_func(store, sig[0], sig[6], _first_call(store, sig, make_callback))


def _first_call(store: CoreStore, sig: _HostSig, make_callback: Callable[[], Callable[..., Any]]
                ) -> Callable[..., int]:
    """A lazy host function's trampoline until its first call, which makes the real one
    (``_host_trampoline(make_callback())``) and puts it in its place."""
    fns = store._host_fns

    def first_call(env: int, caller: int | None, args: int, nargs: int) -> int:
        try:
            trampoline = _host_trampoline(store, sig, make_callback())
        except BaseException as e:
            return _host_raised(store, e)
        fns[env] = trampoline
        return trampoline(env, caller, args, nargs)

    return first_call


def _host_trampoline(store: CoreStore, sig: _HostSig, callback: Callable[..., Any]
                     ) -> Callable[..., int]:
    ty, array_t, unpack, pdec, pack, renc, _ = sig
    cache: dict[int, memoryview] = {}
    nresults = len(ty.results)
    rtypes = ty.results

    def trampoline(env: int | None, caller: int | None, args: int, nargs: int) -> int:
        try:
            view = cache.get(args)
            if view is None:
                view = _args_view(cache, array_t, args)
            a = unpack(view)
            r = callback(*(a if pdec is None else pdec(a)))
            if nresults:
                rs = (r,) if nresults == 1 else r
                if renc is not None:
                    rs = renc(rs)
                try:
                    pack(view, 0, *rs)
                except struct.error:
                    pack(view, 0, *_normalize(rtypes, rs, nresults))
            return 0
        except BaseException as e:
            return _host_raised(store, e)

    return trampoline


# -- fibers ------------------------------------------------------------------------------------
#
# A guest call on a fiber of its own (``wasmtime_func_call_async``), and host functions that may
# suspend it (``wasmtime_linker_define_async_func``). Both use the checked ``wasmtime_val_t``
# ABI: 32 bytes per value, its kind at offset 0 and the value at offset 8.

_call_async = _c_fn(_lib, "wasmtime_func_call_async", ctypes.c_void_p)
_future_poll = _c_fn(_lib, "wasmtime_call_future_poll", ctypes.c_bool, ctypes.c_void_p)
_future_delete = _c_fn(_lib, "wasmtime_call_future_delete", None, ctypes.c_void_p)
_linker_new = _c_fn(_held, "wasmtime_linker_new", ctypes.c_void_p, ctypes.c_void_p)
_linker_delete = _c_fn(_held, "wasmtime_linker_delete", None, ctypes.c_void_p)
_linker_define_async = _c_fn(_held, "wasmtime_linker_define_async_func", ctypes.c_void_p)
_linker_get = _c_fn(_held, "wasmtime_linker_get", ctypes.c_bool)
_trap_delete = _c_fn(_lib, "wasm_trap_delete", None, ctypes.c_void_p)
_error_delete = _c_fn(_lib, "wasmtime_error_delete", None, ctypes.c_void_p)

_AsyncCallback = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
    ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p)
_ContCallback = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p)

_VAL = ctypes.sizeof(ffi.wasmtime_val_t)
assert _VAL == 32, "wasmtime_val_t: a kind byte, then a 24-byte union at offset 8"
_VAL_FMT_U = {"i32": "I20x", "i64": "Q16x", "f32": "f20x", "f64": "d16x"}
_VAL_FMT_S = {**_VAL_FMT_U, "i32": "i20x", "i64": "q16x"}
_VAL_KIND = {"i32": 0, "i64": 1, "f32": 2, "f64": 3}
_CONT = struct.Struct("<QQQ")  # wasmtime_async_continuation_t: callback, env, finalizer


@functools.cache
def _val_codec(types: tuple[str, ...], signed: bool) -> tuple[struct.Struct, struct.Struct,
                                                             tuple[int, ...]]:
    """Structs over a ``wasmtime_val_t`` array of ``types``: one packing ``(kind, value)``
    pairs, one unpacking the values only; and the kinds."""
    bad = [t for t in types if t not in _VAL_KIND]
    if bad:
        raise NotSupported(f"a core call on a fiber with value type {bad[0]!r}")
    fmts = _VAL_FMT_S if signed else _VAL_FMT_U
    pack = struct.Struct("<" + "".join("B7x" + _VAL_FMT_U[t] for t in types))
    unpack = struct.Struct("<" + "".join("8x" + fmts[t] for t in types))
    return pack, unpack, tuple(_VAL_KIND[t] for t in types)


def _pack_vals(pack: struct.Struct, kinds: tuple[int, ...], types: Sequence[str],
               values: Sequence[Any]) -> bytes:
    if len(values) != len(kinds):
        raise TypeError(f"expected {len(kinds)} values, got {len(values)}")
    flat = [x for pair in zip(kinds, values, strict=True) for x in pair]
    try:
        return pack.pack(*flat)
    except struct.error:
        norm = _normalize(types, values, len(kinds))
        return pack.pack(*[x for pair in zip(kinds, norm, strict=True) for x in pair])


#: What a :class:`Suspend`'s ``poll()`` returns while its guest must stay suspended.
PENDING: Any = type("Pending", (), {"__repr__": lambda self: "PENDING"})()


class Suspend:
    """What the callback of a host function made with ``may_suspend=True`` returns to suspend
    the guest's fiber: ``poll()`` is asked each time the fiber is polled (first at once, before
    it suspends); it returns :data:`PENDING` to stay suspended, else the function's results (as
    the callback would have returned them); an exception it raises traps the guest, and is
    re-raised by the fiber's :meth:`GuestStack.result`."""

    __slots__ = ("poll",)

    def __init__(self, poll: Callable[[], Any]) -> None:
        self.poll = poll


class GuestStack:
    """One core call running on a fiber of its own: made suspended before its first
    instruction; :meth:`poll` runs it until it returns, traps, or an async host function
    suspends it (``False``); :meth:`result` is its results (or raises what it trapped with);
    :meth:`drop` unwinds a suspended one. ``on_done`` (optional) is the owner's: called by the
    owner's poll loop when the call is done (``GuestStack`` never calls it itself)."""

    __slots__ = (
        "__weakref__",
        "_args",
        "_err",
        "_func",
        "_fut",
        "_res",
        "_trap",
        "_unpack",
        "done",
        "error",
        "on_done",
        "results",
        "store",
    )

    def __init__(self, func: CoreFunc, ty: CoreFuncType, args: Sequence[Any],
                 signed: bool = False) -> None:
        store = self.store = func.store
        pack, _, kinds = _val_codec(tuple(ty.params), False)
        _, self._unpack, rkinds = _val_codec(tuple(ty.results), signed)
        self._args = _char_buffer(_VAL * max(len(kinds), 1),
                                  _pack_vals(pack, kinds, ty.params, args))
        self._res = _char_buffer(_VAL * max(len(rkinds), 1))
        self._trap = ctypes.c_void_p()
        self._err = ctypes.c_void_p()
        self._func = func._raw
        self.done = False
        self.error: BaseException | None = None
        self.results: tuple[Any, ...] = ()
        self.on_done: Callable[[GuestStack], None] | None = None
        self._fut: int | None = _call_async(
            store._ctx, ctypes.byref(func._raw), self._args, ctypes.c_size_t(len(kinds)),
            self._res, ctypes.c_size_t(len(rkinds)), ctypes.byref(self._trap),
            ctypes.byref(self._err))
        stacks = store._stacks
        if stacks is None:
            stacks = store._stacks = weakref.WeakSet()
        stacks.add(self)

    def poll(self) -> bool:
        """Run the call on until it is done (``True``) or suspends again (``False``)."""
        fut = self._fut
        assert fut is not None and not self.done, "a suspended call"
        store = self.store
        running = store._running
        if store._orphans and not running:
            _drop_orphans(store)
        running.append(self)
        try:
            ready = _future_poll(fut)
        finally:
            running.pop()
        if not ready:
            return False
        self._finish()
        return True

    def _finish(self) -> None:
        fut, self._fut = self._fut, None
        if fut is not None:
            _future_delete(fut)
        self.done = True
        store = self.store
        if store._stacks is not None:
            store._stacks.discard(self)
        trap, err = self._trap.value, self._err.value
        if trap or err:
            self._trap.value = self._err.value = None
            self.error = store._fail_with(trap, err)
        else:
            self.results = self._unpack.unpack_from(self._res)

    def result(self) -> tuple[Any, ...]:
        """The call's results (it is done), or raise what it trapped with."""
        assert self.done, "the call is done"
        if self.error is not None:
            raise self.error
        return self.results

    def drop(self) -> None:
        """Unwind a call that is still suspended (its fiber is resumed with an error and
        unwinds; no guest code runs). Nothing for a call that is done."""
        fut, self._fut = self._fut, None
        if fut is None:
            return
        self.done = True
        self.error = Trap("the guest's stack was dropped while suspended")
        if self.store._stacks is not None:
            self.store._stacks.discard(self)
        _future_delete(fut)
        for slot, delete in ((self._trap, _trap_delete), (self._err, _error_delete)):
            if slot.value:
                delete(slot.value)
                slot.value = None

    def __del__(self) -> None:
        fut = getattr(self, "_fut", None)
        if fut is not None:
            # (not dropped here: a finalizer may run inside another fiber; its out-slots
            # stay alive with it, the unwinding writes its trap there)
            self._fut = None
            self.store._orphans.append((fut, self._trap, (self._err, self._args, self._res,
                                                           self._func)))


_linker_define = _c_fn(_held, "wasmtime_linker_define", ctypes.c_void_p)
_linker_shadowing = _c_fn(_held, "wasmtime_linker_allow_shadowing", None,
                          ctypes.c_void_p, ctypes.c_bool)
_linker_instantiate_async = _c_fn(_lib, "wasmtime_linker_instantiate_async", ctypes.c_void_p)


def _instantiate_on_fiber(store: CoreStore, module: CoreModule, arr: Any, base: int,
                          ref: Any) -> int | None:
    """``wasmtime_instance_new`` for a module with a start function in a store with fibers:
    the start function may reach an async host function, which a sync instantiation would
    abort on, so it runs on a fiber (``wasmtime_linker_instantiate_async`` with a linker
    holding the module's imports, ``arr[base:]``). Returns the error, the trap in the store's
    trap slot, as ``wasmtime_instance_new`` does. A start function cannot wait (it runs outside
    any task: a waiting built-in traps), so the instantiation never suspends."""
    eng = _address(store.engine.engine.ptr())
    linker = ctypes.c_void_p(_linker_new(eng))
    try:
        _linker_shadowing(linker, True)
        for i, imp in enumerate(module.imports):
            mod, name = imp.module.encode(), imp.name.encode()
            err = _linker_define(linker, store._ctx, mod, ctypes.c_size_t(len(mod)), name,
                                 ctypes.c_size_t(len(name)), ctypes.byref(arr, _EXTERN_SIZE * (base + i)))
            if err:
                return int(err)
        trap, error = ctypes.c_void_p(), ctypes.c_void_p()
        fut = _linker_instantiate_async(linker, store._ctx, module._ptr, ref, ctypes.byref(trap),
                                        ctypes.byref(error))
        try:
            if not _future_poll(fut):
                raise NotSupported("a core start function suspended its stack")
        finally:
            _future_delete(fut)
        store._trap.value = trap.value
        return error.value
    finally:
        _linker_delete(linker)


def _drop_orphans(store: CoreStore) -> None:
    orphans, store._orphans = store._orphans, []
    for fut, trap, keep in orphans:
        _future_delete(fut)
        err = keep[0]
        for slot, delete in ((trap, _trap_delete), (err, _error_delete)):
            if slot.value:
                delete(slot.value)
                slot.value = None


def running_stack(store: CoreStore) -> GuestStack | None:
    """The innermost fiber being polled in ``store`` (where a suspending host function runs)."""
    running = store._running
    return running[-1] if running else None


def _on_stack_caller(func: CoreFunc, ty: CoreFuncType, signed: bool
                     ) -> Callable[[Sequence[Value]], tuple[Value, ...]]:
    """``make_caller``'s call in a store with fibers: the call on a fiber of its own; if it
    suspends, the store's ``stack_waiter`` runs other work until it is done."""
    store = func.store
    _val_codec(tuple(ty.params), False)  # (unsupported value types fail here, not at a call)
    _val_codec(tuple(ty.results), signed)

    def call(args: Sequence[Value]) -> tuple[Value, ...]:
        stack = GuestStack(func, ty, args, signed)
        if not stack.poll():
            waiter = store.stack_waiter
            if waiter is None:
                stack.drop()
                raise NotSupported("a guest call suspended its stack where nothing can resume "
                                   "it (no component-model scheduler in the store)")
            waiter(stack)
        return stack.result()

    return call


def _released_async_fn(*args: Any) -> None:
    trap_ret, cont = args[6], args[7]
    ctypes.c_void_p.from_address(trap_ret).value = _make_trap_ptr(
        "host function called after its store was dropped")
    ctypes.memmove(cont, _CONT.pack(_READY_ADDR, 0, 0), _CONT.size)


_READY_CONT = _ContCallback(lambda env: True)
_READY_ADDR: int = _address(_READY_CONT)
_READY_CONT_BYTES = _CONT.pack(_READY_ADDR, 0, 0)


def _async_host_trampoline(store: CoreStore, ty: CoreFuncType, callback: Callable[..., Any],
                           signed: bool) -> Callable[..., None]:
    """The Python side of an async host function: ``callback(*args)`` returns the results or
    a :class:`Suspend` (then the continuation asks its ``poll()``)."""
    _, unpack, _ = _val_codec(tuple(ty.params), signed)
    rpack, _, rkinds = _val_codec(tuple(ty.results), False)
    nbytes_args = _VAL * len(ty.params)
    nres = len(rkinds)
    rtypes = ty.results
    conts = store._conts
    cont_addr = _cont_callback_addr(store)
    memmove, string_at, cont_pack = ctypes.memmove, ctypes.string_at, _CONT.pack
    ready = _READY_CONT_BYTES
    one = struct.Struct("<B7x" + _VAL_FMT_U[rtypes[0]]) if nres == 1 else None

    def write(results: int, r: Any) -> None:
        if nres:
            if one is not None:
                try:
                    memmove(results, one.pack(rkinds[0], r), one.size)
                    return
                except struct.error:
                    pass
            rs = (r,) if nres == 1 else r
            memmove(results, _pack_vals(rpack, rkinds, rtypes, rs), _VAL * nres)

    def trampoline(env: int, caller: int, args: int, nargs: int, results: int, nresults: int,
                   trap_ret: int, cont: int) -> None:
        try:
            r = callback(*unpack.unpack(string_at(args, nbytes_args))) if nbytes_args else (
                callback())
            if r.__class__ is Suspend:
                key = id(r)
                conts[key] = (r, results, trap_ret, write)
                memmove(cont, cont_pack(cont_addr, key, 0), 24)
                return
            write(results, r)
        except BaseException as e:
            store._pending = e
            ctypes.c_void_p.from_address(trap_ret).value = _make_trap_ptr(
                _raised_message(e))
        memmove(cont, ready, 24)

    return trampoline


def _cont_callback_addr(store: CoreStore) -> int:
    """The store's continuation callback (one for all its suspended host calls; ``env`` names
    the suspension in ``store._conts``)."""
    cb = store._cont_cb
    if cb is None:
        conts = store._conts
        owner = weakref.ref(store)  # (the callback is the store's: no cycle through it)

        def poll(env: int) -> bool:
            entry = conts.get(env)
            if entry is None:
                return True  # (released with its store: the function traps)
            s, results, trap_ret, write = entry
            try:
                r = s.poll()
                if r is PENDING:
                    return False
                write(results, r)
            except BaseException as e:
                cstore = owner()
                if cstore is not None:
                    cstore._pending = e
                ctypes.c_void_p.from_address(trap_ret).value = _make_trap_ptr(
                    _raised_message(e))
            del conts[env]
            return True

        cb = store._cont_cb = _ContCallback(poll)
    addr: int = _address(cb)
    return addr


def _new_async_func(store: CoreStore, ty: CoreFuncType, fty: Any,
                    trampoline: Callable[..., None]) -> CoreFunc:
    """An async host function of type ``ty`` (``fty`` its ``wasm_functype_t*``): defined in
    the store's linker under a fresh name, then taken out of it into the store."""
    linker = store._linker
    if linker is None:
        eng = _address(store.engine.engine.ptr())
        linker = store._linker = _linker_new(eng)
    cb = store._async_cb
    if cb is None:
        fns = store._async_fns

        def dispatch(env: int, *rest: Any) -> None:
            fns[env](env, *rest)

        cb = store._async_cb = _AsyncCallback(dispatch)
    fns = store._async_fns
    i = len(fns)
    fns.append(trampoline)
    name = str(i).encode()
    lk = ctypes.c_void_p(linker)
    err = _linker_define_async(lk, b"f", ctypes.c_size_t(1), name, ctypes.c_size_t(len(name)),
                               fty, cb, ctypes.c_void_p(i), None)
    if err:
        raise _trap_from_error(err)
    ext: Any = _extern_t()
    ok = _linker_get(lk, store._ctx, b"f", ctypes.c_size_t(1), name,
                     ctypes.c_size_t(len(name)), ctypes.byref(ext))
    assert ok, "the function was just defined"
    func = CoreFunc(store, ext.of.func, ty)
    func._ext = ext
    return func


def new_async_host_func(store: CoreStore, params: Sequence[str], results: Sequence[str],
                        callback: Callable[..., Any], *, signed: bool = False) -> CoreFunc:
    """A host function that may suspend its caller's fiber: ``callback(*args)`` returns the
    results (as for :func:`new_host_func`) or a :class:`Suspend`. Only for stores with
    ``fibers`` (a sync call reaching it would abort the process)."""
    assert store.fibers, "async host functions only in a store whose guest calls are on fibers"
    ty = CoreFuncType(tuple(params), tuple(results))
    fty = _functype_ptr(store.engine, ty.params, ty.results)[1]
    return _new_async_func(store, ty, fty, _async_host_trampoline(store, ty, callback, signed))


_NO_BYTES = memoryview(bytearray())  # (a memory's view before it was first looked at)


class CoreMemory(CoreExtern):
    """A linear memory.  :meth:`view` is a writable ``memoryview`` over it that is valid (its
    base is the memory's) but may be shorter than the memory; :meth:`current` is one as long as
    the memory now. See the module docstring's memory-view rule."""

    __slots__ = ("_args", "_cache", "_raw")
    kind = "memory"

    def __init__(self, store: CoreStore, raw: Any) -> None:
        self.store = store
        self._raw = raw  # ffi.wasmtime_memory_t
        self._args = (store._ctx_arg, _carg(ctypes.addressof(raw)))  # (prebuilt: ``_carg``)
        #: (base, size, view, whether ``view`` may hand out ``view`` again): ``None`` as the
        #: last until :meth:`current` first looked at the memory's type
        self._cache: tuple[int, int, memoryview, bool | None] = (0, -1, _NO_BYTES, None)

    @classmethod
    def new(
        cls,
        store: CoreStore,
        minimum: int,
        maximum: int | None = None,
        *,
        is_64: bool = False,
        shared: bool = False,
        page_size_log2: int = 16,
    ) -> CoreMemory:
        try:
            ty = wasmtime.MemoryType(
                wasmtime.Limits(minimum, maximum), is_64, shared, page_size_log2
            )
            mem = wasmtime.Memory(store.store, ty)
        except wasmtime.WasmtimeError as e:
            raise ComponentError(str(e)) from None
        return cls(store, mem._memory)

    def _as_extern(self) -> Any:
        return ffi.wasmtime_extern_t(
            ffi.WASMTIME_EXTERN_MEMORY, ffi.wasmtime_extern_union(memory=self._raw)
        )

    def data_ptr(self) -> int:
        return _mem_data(*self._args) or 0

    def data_len(self) -> int:
        return int(_mem_size(*self._args))

    def view(self) -> memoryview:
        """A view over the memory that may be shorter than it (the longest made so far, for a
        memory whose base never moves; else :meth:`current`): every bounds check on it looks
        again (:meth:`current`) before it fails."""
        cached = self._cache
        if cached[3] is False:
            return self.current()
        return cached[2]

    def current(self) -> memoryview:
        """A view over all of the memory as it is now (asks wasmtime for its size)."""
        cached = self._cache
        args = self._args
        size = _mem_size(*args)
        if cached[1] == size:
            # Linear memory never shrinks and only moves when it grows: same size, same base.
            return cached[2]
        ptr = _mem_data(*args) or 0
        mv = _memory_at(ptr, size) if size else memoryview(bytearray())
        in_place = cached[3]
        if in_place is None:
            in_place = self.store.engine.in_place and not self._is_64()
        self._cache = (ptr, size, mv, in_place)
        return mv

    def _is_64(self) -> bool:
        ty = ffi.wasmtime_memory_type(
            ctypes.cast(self.store.ctx_addr, ctypes.POINTER(ffi.wasmtime_context_t)),
            ctypes.byref(self._raw))
        try:
            return bool(ffi.wasmtime_memorytype_is64(ty))
        finally:
            ffi.wasm_memorytype_delete(ty)

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.data_len():
            raise Trap(f"out of bounds memory read at {offset:#x}+{length}")
        return ctypes.string_at(self.data_ptr() + offset, length)

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        n = len(data)
        if offset < 0 or offset + n > self.data_len():
            raise Trap(f"out of bounds memory write at {offset:#x}+{n}")
        self.current()[offset : offset + n] = data

    @property
    def wasm_memory(self) -> Any:
        return wasmtime.Memory._from_raw(self._raw)

    def size(self) -> int:
        """Current size in pages."""
        return int(self.wasm_memory.size(self.store.store))

    def page_size(self) -> int:
        return int(self.wasm_memory.page_size(self.store.store))

    def grow(self, delta_pages: int) -> int:
        """Grow by ``delta_pages``; returns the old size in pages.  Raises :class:`ComponentError`
        if the memory cannot grow."""
        try:
            return int(self.wasm_memory.grow(self.store.store, delta_pages))
        except wasmtime.WasmtimeError as e:
            raise ComponentError(f"memory.grow failed: {e}") from None

    @property
    def ty(self) -> CoreMemoryType:
        t = self.wasm_memory.type(self.store.store)
        return CoreMemoryType(
            t.limits.min, t.limits.max, bool(t.is_64), bool(t.is_shared), t.page_size_log2
        )


def _from_py_ref(v: Any) -> Any:
    if isinstance(v, CoreFunc):
        return wasmtime.Func._from_raw(v._raw)
    return v


def _to_py_ref(store: CoreStore, v: Any) -> Any:
    if isinstance(v, wasmtime.Func):
        return CoreFunc(store, v._func)
    if isinstance(v, wasmtime.Val):
        return v.value
    return v


class CoreTable(CoreExtern):
    """A table of references (``funcref`` elements are :class:`CoreFunc` or ``None``)."""

    __slots__ = ("_raw",)
    kind = "table"

    def __init__(self, store: CoreStore, raw: Any) -> None:
        self.store = store
        self._raw = raw  # ffi.wasmtime_table_t

    @classmethod
    def new(
        cls,
        store: CoreStore,
        element: str,
        minimum: int,
        maximum: int | None = None,
        init: Any = None,
    ) -> CoreTable:
        ty = wasmtime.TableType(_STR_TO_VALTYPE[element](), wasmtime.Limits(minimum, maximum))
        try:
            t = wasmtime.Table(store.store, ty, _from_py_ref(init))
        except wasmtime.WasmtimeError as e:
            raise ComponentError(str(e)) from None
        return cls(store, t._table)

    def _as_extern(self) -> Any:
        return ffi.wasmtime_extern_t(
            ffi.WASMTIME_EXTERN_TABLE, ffi.wasmtime_extern_union(table=self._raw)
        )

    @property
    def _table(self) -> Any:
        return wasmtime.Table._from_raw(self._raw)

    def size(self) -> int:
        return int(self._table.size(self.store.store))

    def get(self, index: int) -> Any:
        if not 0 <= index < self.size():
            raise IndexError(f"table index {index} out of bounds")
        return _to_py_ref(self.store, self._table.get(self.store.store, index))

    def set(self, index: int, value: Any) -> None:
        try:
            self._table.set(self.store.store, index, _from_py_ref(value))
        except wasmtime.WasmtimeError as e:
            raise IndexError(str(e)) from None

    def grow(self, delta: int, init: Any = None) -> int:
        try:
            return int(self._table.grow(self.store.store, delta, _from_py_ref(init)))
        except wasmtime.WasmtimeError as e:
            raise ComponentError(f"table.grow failed: {e}") from None

    @property
    def ty(self) -> CoreTableType:
        t = self._table.type(self.store.store)
        return CoreTableType(_valtype_str(t.element), t.limits.min, t.limits.max)


class CoreGlobal(CoreExtern):
    """A global; :meth:`get`/:meth:`set` use Python values (integers as wasmtime gives them:
    **signed**, since this is not a hot path and mirrors the text format)."""

    __slots__ = ("_raw",)
    kind = "global"

    def __init__(self, store: CoreStore, raw: Any) -> None:
        self.store = store
        self._raw = raw  # ffi.wasmtime_global_t

    @classmethod
    def new(cls, store: CoreStore, content: str, mutable: bool, value: Any) -> CoreGlobal:
        ty = wasmtime.GlobalType(_STR_TO_VALTYPE[content](), mutable)
        if content in ("f32", "f64") and isinstance(value, int):
            value = float(value)
        try:
            g = wasmtime.Global(store.store, ty, _signed(content, _from_py_ref(value)))
        except wasmtime.WasmtimeError as e:
            raise ComponentError(str(e)) from None
        return cls(store, g._global)

    def _as_extern(self) -> Any:
        return ffi.wasmtime_extern_t(
            ffi.WASMTIME_EXTERN_GLOBAL, ffi.wasmtime_extern_union(global_=self._raw)
        )

    @property
    def _global(self) -> Any:
        return wasmtime.Global._from_raw(self._raw)

    def get(self) -> Any:
        return _to_py_ref(self.store, self._global.value(self.store.store))

    def set(self, value: Any) -> None:
        ty = self.ty
        if ty.content in ("f32", "f64") and isinstance(value, int):
            value = float(value)
        try:
            self._global.set_value(self.store.store, _signed(ty.content, _from_py_ref(value)))
        except wasmtime.WasmtimeError as e:
            raise ComponentError(str(e)) from None

    @property
    def ty(self) -> CoreGlobalType:
        t = self._global.type(self.store.store)
        return CoreGlobalType(_valtype_str(t.content), bool(t.mutable))


def _signed(ty: str, v: Any) -> Any:
    if ty == "i32" and isinstance(v, int) and v >= 1 << 31:
        return v - (1 << 32)
    if ty == "i64" and isinstance(v, int) and v >= 1 << 63:
        return v - (1 << 64)
    return v


class CoreTag(CoreExtern):
    """An exception tag (exceptions proposal); only passed between instances."""

    __slots__ = ("_raw",)
    kind = "tag"

    def __init__(self, store: CoreStore, raw: Any) -> None:
        self.store = store
        self._raw = raw  # ffi.wasmtime_tag_t

    @classmethod
    def new(cls, store: CoreStore, params: Sequence[str]) -> CoreTag:
        fty = _new_functype(params, ())
        tag = wasmtime.Tag(store.store, wasmtime.TagType(fty))
        return cls(store, tag._tag)

    def _as_extern(self) -> Any:
        return ffi.wasmtime_extern_t(
            ffi.WASMTIME_EXTERN_TAG, ffi.wasmtime_extern_union(tag=self._raw)
        )


# -- instances ---------------------------------------------------------------------------------


class CoreInstance:
    """An instantiated core module. Its exports are looked up by name on first use (most of a
    component's core exports are never touched, or only when a function is first called).

    (By name, not position: ``wasmtime_instance_export_nth`` walks the exports from the first,
    so enumerating a module with thousands of exports that way is quadratic.)"""

    __slots__ = ("_inst", "_ref", "_resolved", "module", "store")

    def __init__(self, store: CoreStore, module: CoreModule, inst: Any) -> None:
        self.store = store
        self.module = module
        self._inst = inst  # ffi.wasmtime_instance_t (or an array holding it: kept alive)
        self._ref = ctypes.byref(inst)
        self._resolved: dict[str, CoreExtern] = {}

    def get(self, name: str, default: CoreExtern | None = None) -> CoreExtern | None:
        ext = self._resolved.get(name)
        if ext is not None:
            return ext
        store = self.store
        key = name.encode()
        if store._export_item is None:
            store._export_item = ffi.wasmtime_extern_t()
            store._export_item_ref = ctypes.byref(store._export_item)
        if not _export_get(store._ctx, self._ref, key, _size(len(key)), store._export_item_ref):
            return default
        ext = self._resolved[name] = _wrap_extern(store, store._export_item,
                                                  self.module._func_types.get(name))
        return ext

    def lazy(self, name: str) -> CoreExtern | LazyExport:
        """The export ``name`` if already looked up, else a :class:`LazyExport` of it."""
        ext = self._resolved.get(name)
        return ext if ext is not None else LazyExport(self, name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> CoreExtern:
        ext = self.get(name)
        if ext is None:
            raise KeyError(name)
        return ext

    @property
    def exports(self) -> dict[str, CoreExtern]:
        """All exports, in export order."""
        if self.module._introspectable:
            names = [e.name for e in self.module.exports]
        else:  # (quadratic, see the class docstring; only for modules wasm.h cannot describe)
            names = []
            name_ptr, name_len = ctypes.POINTER(ctypes.c_char)(), ctypes.c_size_t(0)
            item = ffi.wasmtime_extern_t()
            while _export_nth(self.store._ctx, self._ref, _size(len(names)),
                              ctypes.byref(name_ptr), ctypes.byref(name_len),
                              ctypes.byref(item)):
                names.append(ctypes.string_at(name_ptr, name_len.value).decode())
        return {name: self[name] for name in names}

    def func(self, name: str) -> CoreFunc:
        ext = self.get(name)
        if not isinstance(ext, CoreFunc):
            raise LinkError(f"core instance has no exported function {name!r}")
        return ext

    def memory(self, name: str) -> CoreMemory:
        ext = self.get(name)
        if not isinstance(ext, CoreMemory):
            raise LinkError(f"core instance has no exported memory {name!r}")
        return ext


def _wrap_extern(store: CoreStore, item: Any, fty: CoreExternType | None) -> CoreExtern:
    """Wrap an export: the ``wasmtime_extern_t`` is copied once and kept (it is what importing
    the item needs), and the typed handle is a view into it."""
    ext: Any = _extern_t.from_buffer_copy(item)
    kind: int = ext.kind
    obj: CoreExtern
    # (each handle a field of ``ext``: a view into it, cheaper than ``from_buffer``)
    if kind == _KIND_FUNC:
        obj = CoreFunc(store, ext.of.func, fty if isinstance(fty, CoreFuncType) else None)
    elif kind == ffi.WASMTIME_EXTERN_MEMORY.value:
        obj = CoreMemory(store, ext.of.memory)
    elif kind == ffi.WASMTIME_EXTERN_TABLE.value:
        obj = CoreTable(store, ext.of.table)
    elif kind == ffi.WASMTIME_EXTERN_GLOBAL.value:
        obj = CoreGlobal(store, ext.of.global_)
    elif kind == ffi.WASMTIME_EXTERN_TAG.value:
        obj = CoreTag(store, ext.of.tag)
    else:
        raise ComponentError(f"unsupported core export kind {kind}")
    obj._ext = ext
    return obj


class LazyExport(NamedTuple):
    """An export of a :class:`CoreInstance` not looked up yet: index spaces hold these until an
    item is really needed (:func:`resolve`), so instantiation skips exports never used. (A
    tuple: compiled plans make thousands with ``tuple.__new__(LazyExport, (instance, name))``,
    twice as fast as a class with ``__init__``.)"""

    instance: CoreInstance
    name: str

    def resolve(self) -> CoreExtern:
        ext = self.instance.get(self.name)
        if ext is None:
            raise LinkError(f"core instance does not export `{self.name}`")
        return ext


def resolve(item: Any) -> Any:
    """``item``, with a :class:`LazyExport` looked up."""
    return item.resolve() if item.__class__ is LazyExport else item


def instantiate(
    store: CoreStore, module: CoreModule, imports: Sequence[CoreExtern]
) -> CoreInstance:
    """Instantiate ``module`` with ``imports`` in module-import order.

    A trapping start function raises :class:`Trap` (or the host exception that caused it);
    unsatisfiable imports raise :class:`LinkError`.
    """
    for imp in imports:
        if not isinstance(imp, CoreExtern):
            raise LinkError(f"expected a CoreExtern import, got {type(imp).__name__}")
        if imp.store is not store:
            raise LinkError(f"import {imp!r} belongs to a different store")
    if module._introspectable:
        expected = module.imports
        if len(expected) != len(imports):
            expected_names = ", ".join(f"{i.module}::{i.name}" for i in expected)
            raise LinkError(
                f"core module expects {len(expected)} imports ({expected_names}), got {len(imports)}"
            )
        for want, got in zip(expected, imports, strict=True):
            if want.kind != got.kind:
                raise LinkError(
                    f"import {want.module}::{want.name} must be a {want.kind}, got a {got.kind}"
                )
    return instantiate_trusted(store, module, imports)


_NO_IMPORTS = (ffi.wasmtime_extern_t * 1)()


_instance_t = ffi.wasmtime_instance_t
_new_instance = object.__new__


@functools.cache
def _size(n: int) -> ctypes.c_size_t:
    return ctypes.c_size_t(n)


def _extern_array(n: int) -> Any:
    return _array_t(ffi.wasmtime_extern_t, n)


def instantiate_trusted(
    store: CoreStore, module: CoreModule, imports: Sequence[CoreExtern]
) -> CoreInstance:
    """:func:`instantiate` for callers that already proved the imports right (a validated
    component's plan): same store, right kinds, right count."""
    n = len(imports)
    if n:
        arr = _extern_array(n)()
        for i, imp in enumerate(imports):
            arr[i] = imp.extern()
    else:
        arr = _NO_IMPORTS
    return instantiate_array(store, module, arr, n)


def import_array(n: int) -> Any:
    """A fresh array for ``n`` imports, to fill with :func:`put_import`."""
    return _extern_array(n)() if n else _NO_IMPORTS


class _Workspace:
    """What one instantiation of a :class:`WiringPlan` works in: the imports array, the
    instances array, and per core instance (``steps``) the arguments of the C calls that make
    it: where its imports start, their number, each export fetch, its copies and where the
    instance goes (``byref``s into both arrays, made once with them)."""

    __slots__ = ("arr", "func_at", "insts", "mv", "steps", "steps_base")

    def __init__(self, plan: WiringPlan) -> None:
        n = plan.nentries + 1  # (an instance without imports may start at the end)
        raw = bytearray(_EXTERN_SIZE * n)
        self.arr = _extern_array(n).from_buffer(raw)
        self.mv = memoryview(raw)
        at = [ctypes.byref(self.arr, _EXTERN_SIZE * i) for i in range(n)]
        #: where each entry's item goes (a function made into it: ``Wiring.lazy_host_func``)
        self.func_at = tuple(ctypes.byref(self.arr, _EXTERN_SIZE * i + _EXTERN_OF)
                             for i in range(n))
        self.insts = plan.instances_t()
        refs = [ctypes.byref(self.insts, _INSTANCE_SIZE * k) for k in range(len(plan.steps))]
        #: each instance's first entry in ``arr``
        self.steps_base = tuple(base for base, _, _, _ in plan.steps)
        #: per instance: ..., its fetches (each call's arguments but the store's: instance,
        #: name, name length, destination), as rows when there are few (called one by one)
        #: or as columns (a ``map`` over them: no Python step per fetch, but a fixed cost
        #: that two direct calls undercut), ...
        self.steps = tuple(
            (at[base], _carg(nimports),
             _fetch_args(tuple((refs[src], key, size, at[e]) for e, src, key, size in fetch)),
             copy, refs[k])
            for k, (base, nimports, fetch, copy) in enumerate(plan.steps))


#: Up to this many fetches of one instance are made by direct calls, more by one ``map``.
_FETCH_ROWS = 2


def _fetch_args(rows: tuple[tuple[Any, ...], ...]) -> tuple[bool, tuple[tuple[Any, ...], ...]]:
    """``(by_rows, args)``: :class:`_Workspace`'s fetches of one instance, as rows or columns
    (see ``_FETCH_ROWS``)."""
    if len(rows) <= _FETCH_ROWS:
        return True, rows
    return False, tuple(zip(*rows, strict=True))


class WiringPlan:
    """The layout of one component's core wiring, made once per plan by :meth:`add`: its
    core instances, numbered in the order they are made, and one imports array holding every
    instance's imports side by side (entries numbered across the plan), so an export several
    instances import is fetched once and copied. The arrays (and the arguments of every
    fetch) are pooled here: an instantiation takes a set and gives it back (one started
    meanwhile, by a start function or another thread, takes another), so a new store pays
    nothing for them."""

    __slots__ = ("_instances_t", "_pool", "nentries", "steps")

    def __init__(self) -> None:
        self.nentries = 0
        #: per core instance: its first entry, its number of imports, its fetches ``(entry,
        #: instance, name, len)`` and its copies (byte ranges ``(to, to_end, from, from_end)``)
        self.steps: list[tuple[int, int, tuple[tuple[int, int, bytes, Any], ...],
                               tuple[tuple[int, int, int, int], ...]]] = []
        self._instances_t: Any = None
        self._pool: list[_Workspace] = []

    def add(self, n: int, fetch: Iterable[tuple[int, int, str]],
            copy: Iterable[tuple[int, int]]) -> int:
        """The next core instance's number: its ``n`` imports take the next ``n`` entries
        (from ``self.nentries``); ``fetch``: ``(entry, instance, name)``, that export of an
        instance made earlier; ``copy``: ``(entry, from entry)``, an entry filled earlier."""
        assert not self._pool, "a plan is complete before it is used"
        base = self.nentries
        self.nentries += n
        fetches = tuple((e, k, *_export_key(name)) for e, k, name in fetch)
        self.steps.append((base, n, fetches, _copy_runs(copy)))
        return len(self.steps) - 1

    @property
    def instances_t(self) -> Any:
        """The ctypes array type of the plan's core instances."""
        t = self._instances_t
        if t is None:
            t = self._instances_t = _array_t(_instance_t, max(len(self.steps), 1))
        return t


def _export_key(name: str) -> tuple[bytes, Any]:
    key = name.encode()
    size = _KEY_SIZES.get(len(key))
    if size is None:
        size = _KEY_SIZES[len(key)] = _carg(len(key))
    return key, size


def _copy_runs(copy: Iterable[tuple[int, int]]) -> tuple[tuple[int, int, int, int], ...]:
    """``(entry, from entry)`` copies as byte ranges ``(to, to_end, from, from_end)``,
    neighbouring entries copied from neighbouring entries merged into one range."""
    runs: list[list[int]] = []
    for to, frm in copy:
        last = runs[-1] if runs else None
        if last is not None and last[1] == to and last[3] == frm:
            last[1], last[3] = to + 1, frm + 1
        else:
            runs.append([to, to + 1, frm, frm + 1])
    size = _EXTERN_SIZE
    return tuple((a * size, b * size, x * size, y * size) for a, b, x, y in runs)


class Wiring:
    """One instantiation's core instances (of a :class:`WiringPlan`), made and wired inside
    ``core``: the whole operation a compiled instantiation asks for per core instance, so no
    C function, ``byref`` or import array leaves this module (nor appears in generated code).

    :meth:`instantiate` fills instance ``k``'s entries of the imports array (exports of
    instances made earlier, fetched by name straight into the array or copied from an entry
    holding them, and the other core items given), makes the instance and reports failure;
    :meth:`instance` wraps one for export lookups. :meth:`done` gives the pooled arrays
    back (keeping a copy of the instances)."""

    __slots__ = ("_insts", "_plan", "_store", "_ws")

    def __init__(self, store: CoreStore, plan: WiringPlan) -> None:
        self._store = store
        self._plan = plan
        try:  # (a pooled set; ``list.pop`` is atomic: two threads never get the same one)
            ws = plan._pool.pop()
        except IndexError:
            ws = _Workspace(plan)
        self._ws: _Workspace | None = ws
        self._insts: Any = None  # the instances' handles, once the workspace is given back

    def instantiate(self, k: int, module: CoreModule, items: tuple[tuple[int, Any], ...],
                    runs_code: bool) -> None:
        """Make instance ``k`` of ``module``; ``items``: ``(entry, core item)``, its imports
        other than the plan's. ``runs_code``: whether it has a start function (then wasm may
        have run: the memory-view rule)."""
        ws = self._ws
        assert ws is not None, "instances are made before `done`"
        store = self._store
        ctx = store._ctx_arg  # (prebuilt: ``_carg``)
        imports, n, (by_rows, fetches), copy, ref = ws.steps[k]
        # each fetch checked (``wasmtime_instance_export_get`` is false for a missing export);
        # many driven from C (``map``: no Python step per fetch)
        if by_rows:
            for row in fetches:
                if not _export_get_held(ctx, *row):
                    _missing_fetch(store, tuple(zip(row)))
        elif not all(map(_export_get_held, repeat(ctx), *fetches)):
            _missing_fetch(store, fetches)
        if copy:
            mv = ws.mv
            for to, to_end, frm, frm_end in copy:
                mv[to:to_end] = mv[frm:frm_end]
        if items:
            arr = ws.arr
            for e, item in items:
                arr[e] = resolve(item).extern()
        if runs_code and store.fibers and module._introspectable:
            err = _instantiate_on_fiber(store, module, ws.arr, ws.steps_base[k], ref)
        else:
            err = _instance_new(ctx, module._ptr, imports, n, ref, store._trap_arg)
        if runs_code:
            instantiated(store, err)
        elif err or store._trap.value:
            instantiate_failed(store, err)

    def lazy_host_func(self, e: int, params: tuple[str, ...], results: tuple[str, ...],
                       make_callback: Callable[..., Callable[..., Any]], args: tuple[Any, ...]
                       ) -> None:
        """:func:`new_lazy_host_func` (its callback ``make_callback(*args)``) made straight
        into entry ``e`` of the imports array, for a function only ever imported by the plan's
        core instances: no Python object is made for it (instances importing it again copy
        the entry), nor any closure (the store keeps ``args`` until its first call)."""
        ws = self._ws
        assert ws is not None, "instances are made before `done`"
        store = self._store
        sig = _host_sig(store, params, results, False)
        fns = store._host_fns
        i = len(fns)
        fns.append(store._host_first or _lazy_first_call(store))
        store._host_lazy[i] = (sig, make_callback, args)
        ws.mv[_EXTERN_SIZE * e] = _KIND_FUNC
        if store._host_cb is None:
            _dispatcher(store)
        # (every argument prebuilt, ``_carg``: this is made for every import of the plan)
        _func_new_held(store._ctx_arg, sig[6], store._host_cb_arg,
                       _ENV_ARGS[i] if i < len(_ENV_ARGS) else _carg(i), None, ws.func_at[e])

    def put(self, e: int, item: CoreExtern) -> None:
        """Put ``item`` at entry ``e`` of the imports array (see :meth:`lazy_host_func`)."""
        ws = self._ws
        assert ws is not None, "instances are made before `done`"
        ws.arr[e] = item.extern()

    def instance(self, k: int, module: CoreModule) -> CoreInstance:
        """Instance ``k``, made already, for export lookups (its handle copied out of the
        pooled array)."""
        ws = self._ws
        inst = _instance_t.from_buffer_copy(self._insts if ws is None else ws.insts,
                                            _INSTANCE_SIZE * k)
        return wrap_instance(self._store, module, inst, ctypes.byref(inst))

    def done(self) -> None:
        """Give the pooled arrays back to the plan (the instances stay usable)."""
        ws, self._ws = self._ws, None
        if ws is not None:
            self._insts = bytes(ws.insts)  # (a copy: the array goes back to the pool)
            self._plan._pool.append(ws)


_INSTANCE_SIZE = ctypes.sizeof(ffi.wasmtime_instance_t)


def _missing_fetch(store: CoreStore, fetches: tuple[tuple[Any, ...], ...]) -> None:
    """Raise for the first export of :meth:`Wiring.instantiate`'s ``fetches`` (columns) that
    its instance lacks (a plan is validated: only a module compiled apart from the component
    it was checked with gets here)."""
    for src, key, size, at in zip(*fetches, strict=True):
        if not _export_get_held(store._ctx_arg, src, key, size, at):
            raise LinkError(f"core instance does not export `{key.decode()}`")
    raise AssertionError("an export fetch failed, then succeeded")

#: the length of each export name :meth:`Wiring.instantiate` is given, as a prebuilt
#: ``size_t`` argument (``_carg``: a ``c_size_t`` costs a conversion per call)
_KEY_SIZES: dict[int, Any] = {}


def put_import(arr: Any, i: int, source: Any, name: str) -> bool:
    """Put export ``name`` of ``source`` (a :class:`CoreInstance`, or a mapping of names to
    externs and lazy exports) at ``arr[i]``; False if there is no such export.

    An export of a core instance goes from wasmtime straight into the array, with no Python
    object made for it: wiring core instances together this way costs one C call per import.
    """
    if source.__class__ is CoreInstance:
        ext = source._resolved.get(name)
        if ext is None:
            key = name.encode()
            return bool(_export_get(source.store._ctx, source._ref, key, _size(len(key)),
                                    ctypes.byref(arr, _EXTERN_SIZE * i)))
    else:
        ext = source.get(name)
        if ext is None:
            return False
        if ext.__class__ is LazyExport:
            return put_import(arr, i, ext.instance, ext.name)
    arr[i] = ext.extern()
    return True


def instantiate_array(store: CoreStore, module: CoreModule, arr: Any, n: int) -> CoreInstance:
    """:func:`instantiate_trusted` with the imports already in a ``wasmtime_extern_t`` array."""
    inst = _instance_t()
    ref = ctypes.byref(inst)
    if store.fibers and module._introspectable and n:
        err = _instantiate_on_fiber(store, module, arr, 0, ref)  # (a start function)
    else:
        err = _instance_new(store._ctx, module._ptr, arr, _size(n), ref, store._trap_arg)
    instantiated(store, err)
    return wrap_instance(store, module, inst, ref)


def instantiated(store: CoreStore, err: int | None) -> None:
    """After ``wasmtime_instance_new``: raise the error or trap it reported, if any. (Inline:
    this only ``if err or store._trap.value``.)"""
    if err or store._trap.value:
        instantiate_failed(store, err)


def instantiate_failed(store: CoreStore, err: int | None) -> None:
    """Raise what ``wasmtime_instance_new`` reported: ``err``, or the store's trap."""
    trap = store._trap  # the store's trap out-slot, as for calls
    trap_ptr, trap.value = trap.value, None
    _instantiate_failed(store, err, trap_ptr)


def wrap_instance(store: CoreStore, module: CoreModule, inst: Any, ref: Any) -> CoreInstance:
    """The :class:`CoreInstance` of the ``wasmtime_instance_t`` ``inst`` (``ref`` its byref)."""
    ci = _new_instance(CoreInstance)
    ci.store, ci.module, ci._inst, ci._ref, ci._resolved = store, module, inst, ref, {}
    return ci


def _instantiate_failed(store: CoreStore, err: int | None, trap: int | None) -> None:
    pending, store._pending = store._pending, None
    if pending is not None:
        if err:
            ffi.wasmtime_error_delete(ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t)))
        if trap:
            ffi.wasm_trap_delete(ctypes.cast(trap, ctypes.POINTER(ffi.wasm_trap_t)))
        raise pending
    if trap:
        raise _trap_from_ptr(trap)
    e = wasmtime.WasmtimeError._from_ptr(ctypes.cast(err or 0, ctypes.POINTER(ffi.wasmtime_error_t)))
    msg = str(e)
    if "wasm backtrace" in msg or "wasm trap" in msg:
        raise Trap(_parse_message(msg))
    if "resource limit exceeded" in msg or "exceeds memory limits" in msg or \
            "exceeds table limits" in msg:  # the store's limiter (``Store.limiter``)
        raise Trap(f"instantiation exceeds the store's limits: {_parse_message(msg)}")
    if "support is disabled for this engine" in msg:  # e.g. shared memories without `threads`
        raise NotSupported(f"{_parse_message(msg)} (enable the proposal with "
                           "`EngineConfig(wasm_features=(...))`)")
    raise LinkError(f"failed to instantiate core module: {_parse_message(msg)}")
