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
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from . import types as t
from ._binary import ast
from ._binary.reader import decode_component, is_component
from ._model_pickle import dump_model, load_model
from ._runtime import core
from ._runtime.items import RModule
from ._validate import ValidatedComponent, validate
from ._validate.restrictions import check_embedder_restrictions
from .engine import Engine
from .errors import ComponentError, DecodeError, ValidationError
from .instance import ExportIndex

__all__ = ["Component", "ResourcesRequired", "to_binary"]

#: What :meth:`Component.serialize` output starts with: a name, then the format's number.
_SER_PREFIX = b"wasm-component-serialized\x00"
_SER_MAGIC = _SER_PREFIX + b"\x02"
#: Bytes of compiled modules below which :meth:`Component.deserialize` checks them on the
#: calling thread: starting a thread costs more than the CRC-32 of this much.
_CHECK_ON_THREAD = 1 << 20

T = TypeVar("T")


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def _damaged(what: str, start: int) -> DecodeError:
    return DecodeError(f"serialized component: {what} is damaged (its CRC-32 does not match)",
                       start)


def _crc_matches(view: memoryview, start: int, end: int, crc: int) -> bool:
    return zlib.crc32(view[start:end]) == crc


def _checked(blob: bytes, crc: int | None = None) -> list[bytes]:
    """``blob`` as :meth:`Component.serialize` writes it: its CRC-32 (``crc`` when known
    already), its length, itself."""
    crc = zlib.crc32(blob) if crc is None else crc
    return [crc.to_bytes(4, "little"), _u64(len(blob)), blob]


class _Checks:
    """The CRC-32s of spans of a serialized component, computed in order on a thread of their
    own when there are many bytes (zlib lets go of the GIL). :meth:`ok` waits for one span's
    answer: :meth:`Component.deserialize` loads the model meanwhile, and hands wasmtime each
    compiled module once it is checked, while the next is being checked. (wasmtime stays on
    the calling thread: loading modules on another, whether on two threads at once or on one
    while this one loads the model, made the ``deserialize`` row bimodal in a process that had
    run other rows, 20 or 40 to 95 ms.)"""

    def __init__(self, view: memoryview, spans: list[tuple[int, int, int]]) -> None:
        self._ok = [False] * len(spans)
        self._done = [threading.Event() for _ in spans]
        self._stop = False
        self._thread: threading.Thread | None = None
        if sum(end - start for start, end, _ in spans) < _CHECK_ON_THREAD:
            self._run(view, spans)
        else:
            self._thread = threading.Thread(target=self._run, args=(view, spans), daemon=True,
                                            name="wasm-component deserialize check")
            self._thread.start()

    def _run(self, view: memoryview, spans: list[tuple[int, int, int]]) -> None:
        try:
            for i, (start, end, crc) in enumerate(spans):
                if self._stop:
                    break
                self._ok[i] = _crc_matches(view, start, end, crc)
                self._done[i].set()
        finally:  # (a failure leaves the rest not ok: never waited for forever)
            for done in self._done:
                done.set()

    def ok(self, i: int) -> bool:
        self._done[i].wait()
        return self._ok[i]

    def close(self) -> None:
        """Stop checking (after the span being checked) and wait for the thread: nothing reads
        the caller's bytes once :meth:`Component.deserialize` returns or raises."""
        self._stop = True
        if self._thread is not None:
            self._thread.join()


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

    __slots__ = ("__weakref__", "_ast", "_data", "_data_crc", "_items", "_modules", "_validated",
                 "engine")

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
        #: the CRC-32 that ``data`` came with, not checked yet (:meth:`deserialize`); ``None``
        #: for bytes that were never serialized
        self._data_crc: int | None = None
        self._ast = decoded
        self._validated = validated
        self._modules = modules  # byte offset of the module's section -> compiled module
        # the same modules as the runtime's items (module plus import names), made once
        self._items = _module_items(decoded, modules)

    @staticmethod
    def new(
        engine: Engine,
        data: bytes | bytearray | memoryview | str,
        *,
        embedder_restrictions: bool = True,
    ) -> Component:
        """Decode, validate and compile a component from its binary or text (WAT) form.

        Raises :class:`DecodeError` for malformed input, :class:`ValidationError` for an invalid
        component (including invalid core modules inside it). ``embedder_restrictions=False``
        accepts what the component model allows but this runtime, like wasmtime, cannot
        instantiate (root-level component imports and exports, re-exported imported functions):
        for validation-only uses.
        """
        binary, decoded, validated = _front_end(engine, data, embedder_restrictions)
        modules = _compile_modules(engine, binary, decoded)
        return Component(engine, binary, decoded, validated, modules)

    @staticmethod
    def validate(
        engine: Engine,
        data: bytes | bytearray | memoryview | str,
        *,
        embedder_restrictions: bool = False,
    ) -> t.ComponentType:
        """Decode and validate a component, core modules included, without compiling anything;
        return its type. For tools that only read a component (``inspect``, ``wit``): it costs
        a fraction of :meth:`new` on a large component. Raises what :meth:`new` raises.

        Example::

            >>> ty = Component.validate(Engine(), '(component (import "f" (func)))')
            >>> [name for name, _ in ty.imports]
            ['f']
        """
        binary, decoded, validated = _front_end(engine, data, embedder_restrictions)
        _each_module(binary, decoded, lambda raw, _info: core.validate_module(engine._core, raw))
        return validated.type

    @staticmethod
    def from_file(engine: Engine, path: str | os.PathLike[str]) -> Component:
        """Like :meth:`new`, reading ``path`` (``.wasm`` binary or ``.wat`` text)."""
        with open(path, "rb") as f:
            return Component.new(engine, f.read())

    def serialize(self) -> bytes:
        """Bytes for :meth:`deserialize`: the component binary, its compiled core modules and
        its validated model (valid only for the same wasm-component and wasmtime versions and
        engine settings)."""
        data = bytes(self._data)
        crc = zlib.crc32(data)  # (once: it checks the bytes deserialized and is written out)
        if self._data_crc is not None and crc != self._data_crc:
            raise _damaged("the binary this component was deserialized from", 0)
        parts = [_SER_MAGIC, *_checked(data, crc), _u64(len(self._modules))]
        for offset, module in sorted(self._modules.items()):
            parts += [_u64(offset), *_checked(module.serialize())]
        model = dump_model(self._validated)
        parts += [_u64(len(model)), model]
        return b"".join(parts)

    @staticmethod
    def deserialize(engine: Engine, data: bytes | bytearray) -> Component:
        """Rebuild a component from :meth:`serialize` output without recompiling core modules
        or validating it again (a model written by another version of this package, or a
        damaged one, is not used: the binary is decoded and validated instead). Raises
        :class:`DecodeError` for bytes that are not such output, are cut short, or are
        damaged: each part carries a CRC-32, checked before wasmtime sees a compiled module
        (it runs their code as it is, and damaged code can abort the process)."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"`Component.deserialize` expected bytes, got {type(data).__name__}")
        if not data.startswith(_SER_MAGIC):
            if data.startswith(_SER_PREFIX) and len(data) > len(_SER_PREFIX):
                raise DecodeError(f"serialized by another version of wasm-component (format "
                                  f"{data[len(_SER_PREFIX):len(_SER_PREFIX) + 1].hex()}, "
                                  f"expected {_SER_MAGIC[-1:].hex()}): serialize it again",
                                  len(_SER_PREFIX))
            if data == _SER_PREFIX:
                raise DecodeError("truncated serialized component", len(data))
            raise DecodeError("not a serialized component (bad magic)", 0)
        pos = len(_SER_MAGIC)
        view = memoryview(data)

        def uint(size: int) -> int:
            nonlocal pos
            if pos + size > len(data):
                raise DecodeError("truncated serialized component", pos)
            v = int.from_bytes(view[pos : pos + size], "little")
            pos += size
            return v

        def span() -> tuple[int, int]:
            nonlocal pos
            n, start = uint(8), pos
            if n > len(data) - pos:
                raise DecodeError(f"truncated serialized component: expected {n} bytes, got "
                                  f"{len(data) - pos}", pos)
            pos += n
            return start, pos

        def checked() -> tuple[int, int, int]:
            crc = uint(4)
            return (*span(), crc)

        # the layout first, then the checks (:class:`_Checks`), then the parts: the model
        # (which needs none of the checked bytes), the modules smallest first (so wasmtime
        # starts on one while the big ones are still being checked). The binary is checked
        # when it is read: here only if the model is not used, else by :meth:`serialize`.
        binary_span = checked()
        module_spans = [(uint(8), checked()) for _ in range(uint(8))]
        model_span = span() if pos < len(data) else None  # (a blob may leave its model out)
        if pos != len(data):
            raise DecodeError(f"expected the end of the serialized component, got "
                              f"{len(data) - pos} more bytes", pos)
        by_size = sorted(module_spans, key=lambda m: m[1][1] - m[1][0])
        checks = _Checks(view, [where for _, where in by_size])
        loaded: dict[int, core.CoreModule] = {}
        try:
            validated = None if model_span is None else load_model(view[slice(*model_span)])
            for k, (offset, (start, end, _)) in enumerate(by_size):
                if not checks.ok(k):
                    raise _damaged(f"the compiled core module at {offset:#x}", start)
                try:
                    loaded[offset] = core.deserialize_module(engine._core, data, start, end)
                except ComponentError as e:
                    raise DecodeError(f"cannot load a compiled core module: {e}",
                                      start) from None
        finally:
            checks.close()
        modules = dict(sorted(loaded.items()))
        start, end, crc = binary_span
        unchecked: int | None = crc
        # (kept as a view of ``data`` when that is immutable: copying it costs more than the
        # rest of this method, and it is only read again by :meth:`serialize`)
        binary = view[start:end] if isinstance(data, bytes) else bytes(view[start:end])
        if validated is None:
            if not _crc_matches(view, start, end, crc):
                raise _damaged("its binary", start)
            unchecked = None
            decoded = decode_component(binary)
            validated = validate(decoded, engine.features)
        try:
            component = Component(engine, binary, validated.component, validated, modules)
            component._data_crc = unchecked
        except KeyError:
            component = None
        if component is None or len(component._items) != len(modules):
            raise DecodeError("serialized component: its compiled core modules do not match "
                              "the component's", 0)
        return component

    @staticmethod
    def deserialize_file(engine: Engine, path: str | os.PathLike[str]) -> Component:
        """:meth:`deserialize` reading ``path``: what ``wasm-component compile`` writes (a
        ``.cwasm``). As with wasmtime's, load only files you made: the compiled code is run as
        it is, and so is the component's validated model. The checks catch damage (a file cut
        short or a flipped bit raises :class:`DecodeError`), not tampering.

        Example::

            >>> engine = Engine()
            >>> import os, tempfile
            >>> path = os.path.join(tempfile.mkdtemp(), "hello.cwasm")
            >>> _ = open(path, "wb").write(Component.new(engine, "(component)").serialize())
            >>> Component.deserialize_file(engine, path)
            <Component: 0 imports, 0 exports>
        """
        with open(path, "rb") as f:
            return Component.deserialize(engine, f.read())

    def get_export_index(self, name: str, parent: ExportIndex | None = None) -> ExportIndex | None:
        """The index of export ``name`` (inside exported instance ``parent``), or ``None``."""
        items: tuple[tuple[str, t.ExternType], ...] = self.component_type().exports
        path = parent.path if parent is not None else ()
        for p in path:
            ty = dict(items).get(p)
            if not isinstance(ty, t.InstanceType):
                return None
            items = ty.exports
        ty = dict(items).get(name)
        if ty is None:
            return None
        return ExportIndex((*path, name), ty)

    def component_type(self) -> t.ComponentType:
        """The component's imports and exports, with their types."""
        return self._validated.type

    def resources_required(self) -> ResourcesRequired | None:
        """What instantiating this component takes, as wasmtime's ``ResourcesRequired``: the
        number of core memories and tables its core instances define, and the largest initial
        size among them (memory in wasm pages, tables in elements). Counted statically over every
        core instantiation (nested components once per instantiation). ``None`` when it
        instantiates a core module it imports (its needs are not known until then).

        Example::

            >>> c = Component.new(Engine(), '''(component
            ...   (core module $m (memory 3) (table 2 funcref))
            ...   (core instance (instantiate $m)) (core instance (instantiate $m)))''')
            >>> c.resources_required()
            ResourcesRequired(num_memories=2, max_initial_memory_size=3, num_tables=2, max_initial_table_size=2)
        """
        return _resources_required(self._ast)

    def __repr__(self) -> str:
        ty = self.component_type()
        return f"<Component: {len(ty.imports)} imports, {len(ty.exports)} exports>"


@dataclass(frozen=True, slots=True)
class ResourcesRequired:
    """A summary of the core memories and tables a component's instantiation creates (see
    :meth:`Component.resources_required`); a pooling or quota policy can be checked against it
    before instantiating."""

    num_memories: int = 0
    max_initial_memory_size: int | None = None  # in wasm pages
    num_tables: int = 0
    max_initial_table_size: int | None = None

    def __add__(self, other: ResourcesRequired) -> ResourcesRequired:
        return ResourcesRequired(
            self.num_memories + other.num_memories,
            _max(self.max_initial_memory_size, other.max_initial_memory_size),
            self.num_tables + other.num_tables,
            _max(self.max_initial_table_size, other.max_initial_table_size),
        )


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _module_needs(info: ast.CoreModuleInfo) -> ResourcesRequired:
    """What one instance of a core module defines (imported memories and tables excluded)."""
    imported_mems = sum(isinstance(i.desc, ast.CoreMemoryType) for i in info.imports)
    imported_tables = sum(isinstance(i.desc, ast.CoreTableType) for i in info.imports)
    mems = info.memories[imported_mems:]
    tables = info.tables[imported_tables:]
    return ResourcesRequired(
        len(mems), max((m.minimum for m in mems), default=None),
        len(tables), max((tb.minimum for tb in tables), default=None),
    )


_Needs = ResourcesRequired | None  # of one instantiation; None: not known statically
_CompNeeds = Callable[[dict[str, Any]], _Needs] | None  # args -> needs of one instantiation


def _later(walk: Callable[[ast.Component, dict[str, Any], Any], _Needs], c: ast.Component,
           scope: Any) -> Callable[[dict[str, Any]], _Needs]:
    """A nested component's needs, walked per instantiation with its arguments."""
    return lambda args: walk(c, args, scope)


def _resources_required(root: ast.Component) -> _Needs:
    """Sum :func:`_module_needs` over every core instantiation reachable from ``root``, as
    wasmtime's inliner sees them: nested components once per instantiation, with the modules
    and components passed to them as arguments, outer aliases followed; ``None`` if a module
    of unknown provenance (a root import, an instance export) is instantiated."""

    def walk(c: ast.Component, args: dict[str, Any],
             outer: list[tuple[list[_Needs], list[_CompNeeds]]]) -> _Needs:
        modules: list[_Needs] = []
        components: list[_CompNeeds] = []
        scope = [*outer, (modules, components)]
        total: _Needs = ResourcesRequired()
        for d in c.definitions:
            if isinstance(d, ast.CoreModule):
                modules.append(_module_needs(d.info))
            elif isinstance(d, ast.NestedComponent):
                components.append(_later(walk, d.component, scope))
            elif isinstance(d, ast.Import):
                if d.desc.kind == "module":
                    modules.append(args.get(d.name.name))
                elif d.desc.kind == "component":
                    components.append(args.get(d.name.name))
            elif isinstance(d, (ast.AliasExport, ast.AliasOuter)):
                is_mod = d.sort.core and d.sort.name == "module"
                if not is_mod and (d.sort.core or d.sort.name != "component"):
                    continue
                if isinstance(d, ast.AliasOuter):
                    frame = scope[-1 - d.count]
                    if is_mod:
                        modules.append(frame[0][d.idx])
                    else:
                        components.append(frame[1][d.idx])
                elif is_mod:
                    modules.append(None)
                else:
                    components.append(None)
            elif isinstance(d, ast.CoreInstantiate):
                need = modules[d.module]
                total = None if need is None or total is None else total + need
            elif isinstance(d, ast.Instantiate):
                comp = components[d.component]
                passed: dict[str, Any] = {}
                for name, si in d.args:
                    if si.sort.core and si.sort.name == "module":
                        passed[name] = modules[si.idx]
                    elif not si.sort.core and si.sort.name == "component":
                        passed[name] = components[si.idx]
                need = None if comp is None else comp(passed)
                total = None if need is None or total is None else total + need
        return total

    return walk(root, {}, [])


def _core_modules(c: ast.Component) -> Iterator[ast.CoreModule]:
    """The core modules defined in ``c`` and its nested components, in binary order.

    (A generator, not a recursive inner function: such a function refers to itself through
    its closure, and the cycle kept what the closure held, the compiled modules among them,
    alive after the component was dropped, until the cyclic collector ran.)"""
    for d in c.definitions:
        if isinstance(d, ast.CoreModule):
            yield d
        elif isinstance(d, ast.NestedComponent):
            yield from _core_modules(d.component)


def _module_items(decoded: ast.Component, modules: dict[int, core.CoreModule]
                  ) -> dict[int, RModule]:
    return {d.offset: RModule(modules[d.offset], d.info.imports)
            for d in _core_modules(decoded)}


def _front_end(
    engine: Engine, data: bytes | bytearray | memoryview | str, embedder_restrictions: bool
) -> tuple[bytes | memoryview, ast.Component, ValidatedComponent]:
    """Decode and validate (the component-level rules; core modules are checked by the caller,
    compiling or validating them)."""
    binary = to_binary(data)
    if not is_component(binary) and bytes(binary[:4]) == b"\x00asm":
        raise DecodeError("expected a component, got a core module", 4)
    decoded = decode_component(binary)
    validated = validate(decoded, engine.features)
    if embedder_restrictions:
        check_embedder_restrictions(validated)
    return binary, decoded, validated


def _each_module(
    binary: bytes | memoryview, decoded: ast.Component, load: Callable[[memoryview, Any], T]
) -> dict[int, T]:
    """``load(bytes, info)`` applied to every core module (``info``: its decoded imports and
    exports), nested components included, keyed by the module's offset; a module ``load``
    refuses is a :class:`ValidationError` at its offset."""
    out: dict[int, T] = {}
    view = memoryview(binary)
    for d in _core_modules(decoded):
        try:
            out[d.offset] = load(view[d.start : d.end], d.info)
        except ComponentError as e:
            raise ValidationError(f"invalid core module: {e}", d.start) from None
    return out


def _compile_modules(
    engine: Engine, binary: bytes | memoryview, decoded: ast.Component
) -> dict[int, core.CoreModule]:
    return _each_module(binary, decoded,
                        lambda raw, info: core.compile_module(engine._core, raw, info))


