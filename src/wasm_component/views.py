"""Lazy views into guest memory for host functions: ``WasmStr`` and ``WasmList[T]``.

A host function whose parameter is annotated ``WasmStr`` (for a ``string``) or ``WasmList[T]``
(for a ``list<T>``) receives a view of the guest's bytes instead of a copy, as wasmtime's
``WasmStr``/``WasmList<T>`` do: nothing is decoded until asked for, and ``list<u8>`` and other
lists of numbers are available as a ``memoryview`` without a copy. A view is valid only while
the host call runs: afterwards every use raises ``ValueError`` (and a ``memoryview`` it handed
out is released), since the guest may reuse or free that memory once the call returns.

Example::

    def digest(store, data: WasmList[int]) -> int:      # data: list<u8>
        return zlib.crc32(data.as_memoryview())          # no copy of the guest's bytes

    def log(store, msg: WasmStr) -> None:
        print(msg.to_str())

    linker.root().func_wrap("digest", digest)
    linker.root().func_wrap("log", log)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, get_args, get_origin

from . import types as t
from ._abi.context import LiftLowerContext
from ._abi.layout import alignment, elem_size, field_offsets, flatten_type
from ._abi.lift import lift_flat, load
from .errors import Trap

__all__ = ["WasmList", "WasmStr"]

T = TypeVar("T")

# struct formats of the numeric element types a list can expose as a memoryview
_FORMATS = {t.U8: "B", t.S8: "b", t.U16: "H", t.S16: "h", t.U32: "I", t.S32: "i",
            t.U64: "Q", t.S64: "q", t.F32: "f", t.F64: "d"}


class _View:
    __slots__ = ("_cx", "_len", "_ptr", "_released", "_valid")

    def __init__(self, cx: LiftLowerContext, ptr: int, length: int) -> None:
        self._cx = cx
        self._ptr = ptr
        self._len = length
        self._valid = True
        self._released: list[memoryview] = []

    def _live(self, what: str) -> LiftLowerContext:
        if not self._valid:
            raise ValueError(f"`{type(self).__name__}.{what}`: the view is only valid during the "
                             "host call that received it")
        return self._cx

    def _expire(self) -> None:
        self._valid = False
        for mv in self._released:
            mv.release()
        self._released.clear()


class WasmStr(_View):
    """A guest ``string`` not yet decoded (wasmtime's ``WasmStr``). ``to_str()`` decodes it
    (trapping the guest on invalid code units, as lifting would); ``as_bytes()`` is its UTF-8
    bytes in place, for a component using UTF-8."""

    __slots__ = ()

    def to_str(self) -> str:
        """The string, decoded now (a copy)."""
        cx = self._live("to_str")
        return str(lift_flat(cx, t.STRING, (self._ptr, self._len)))

    def as_bytes(self) -> memoryview:
        """The encoded string in guest memory, read-only and without a copy (UTF-8 components
        only)."""
        cx = self._live("as_bytes")
        if cx.opts.string_encoding != "utf8":
            raise ValueError(f"`WasmStr.as_bytes`: the component encodes strings as "
                             f"{cx.opts.string_encoding}, not utf8 (use `to_str`)")
        m = cx.view()
        if self._ptr + self._len > len(m) and self._ptr + self._len > len(m := cx.current()):
            raise Trap(f"string [{self._ptr:#x}, +{self._len}) out of bounds")
        raw = m[self._ptr : self._ptr + self._len]
        mv = raw.toreadonly()
        self._released += [mv, raw]
        return mv

    def __str__(self) -> str:
        return self.to_str()

    def __repr__(self) -> str:
        state = "" if self._valid else ", expired"
        return f"WasmStr(ptr={self._ptr:#x}, len={self._len}{state})"


class WasmList(_View, Generic[T]):
    """A guest ``list<T>`` not yet lifted (wasmtime's ``WasmList<T>``): ``len()``, indexing and
    iteration lift one element at a time; ``to_list()`` lifts all of it; ``as_memoryview()``
    gives a list of numbers in place. Pointer alignment and bounds are checked when the call
    is made, as lifting checks them."""

    __slots__ = ("_elem", "_size")

    def __init__(self, cx: LiftLowerContext, ptr: int, length: int, elem: t.Type) -> None:
        super().__init__(cx, ptr, length)
        self._elem = elem
        pt = cx.opts.ptr_type
        self._size = elem_size(elem, pt)
        align = alignment(elem, pt)
        if ptr & (align - 1):
            raise Trap(f"misaligned list pointer {ptr:#x}")
        end = ptr + length * self._size
        if end > len(cx.view()) and end > len(cx.current()):
            raise Trap(f"list [{ptr:#x}, +{length} * {self._size}) out of bounds")

    def __len__(self) -> int:
        self._live("__len__")
        return self._len

    def __getitem__(self, i: int) -> T:
        cx = self._live("__getitem__")
        if not isinstance(i, int):
            raise TypeError(f"`WasmList.__getitem__`: expected an int index, got "
                            f"{type(i).__name__}")
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"`WasmList.__getitem__`: index {i} out of range for a list of "
                             f"{self._len}")
        value: T = load(cx, self._elem, self._ptr + i * self._size)
        return value

    def __iter__(self) -> Iterator[T]:
        for i in range(self._len):
            yield self[i]

    def to_list(self) -> list[T] | bytes:
        """Every element, lifted now (a copy; ``bytes`` for ``list<u8>``, as lifting gives)."""
        cx = self._live("to_list")
        out: list[T] | bytes = lift_flat(cx, t.ListType(self._elem), (self._ptr, self._len))
        return out

    def as_memoryview(self) -> memoryview:
        """The elements in guest memory, read-only and without a copy, for lists of integers or
        floats (format ``B`` for ``u8``, ``i`` for ``s32``, ``d`` for ``f64``...; little-endian,
        as wasm memory is, which is the host order on every platform wasmtime runs on)."""
        cx = self._live("as_memoryview")
        fmt = _FORMATS.get(self._elem)  # type: ignore[call-overload]
        if fmt is None:
            raise TypeError(f"`WasmList.as_memoryview`: list<{self._elem.wit()}> is not a list "
                            "of numbers (use indexing or `to_list`)")
        raw = cx.view()[self._ptr : self._ptr + self._len * self._size]
        cast = raw.cast(fmt)
        mv = cast.toreadonly()
        self._released += [mv, cast, raw]
        return mv

    def __repr__(self) -> str:
        state = "" if self._valid else ", expired"
        return f"WasmList[{self._elem.wit()}](ptr={self._ptr:#x}, len={self._len}{state})"


def view_kind(ann: Any) -> type | None:
    """``WasmStr`` or ``WasmList`` if annotation ``ann`` asks for a view, else None."""
    if ann is WasmStr or ann is WasmList:
        return ann
    return WasmList if get_origin(ann) is WasmList else None


def view_fits(ann: Any, ty: t.Type) -> bool | None:
    """Whether view annotation ``ann`` fits parameter type ``ty`` (None: not a view)."""
    kind = view_kind(ann)
    if kind is None:
        return None
    if kind is WasmStr:
        return ty == t.STRING
    if not isinstance(ty, t.ListType) or ty.length is not None:
        return False
    args = get_args(ann)
    if not args:
        return True
    from .linker import _annotation_fits

    return _annotation_fits(args[0], ty.element)


def view_params(fn: Callable[..., Any]) -> tuple[type | None, ...] | None:
    """Per positional parameter of ``fn`` after ``store``, the view class it is annotated with
    (None: a plain value); None when ``fn`` takes no views."""
    try:
        hints = inspect.get_annotations(fn, eval_str=True)
        params = list(inspect.signature(fn).parameters.values())[1:]
    except (TypeError, ValueError, NameError):
        return None
    out = tuple(view_kind(hints.get(p.name)) for p in params
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    return out if any(out) else None


def view_call(
    ft: t.FuncType, views: tuple[type | None, ...], spilled: bool,
    call: Callable[[Sequence[Any]], Any],
) -> tuple[Callable[[LiftLowerContext, Sequence[Any]], list[Any]],
           Callable[[Sequence[Any]], Any]]:
    """The ``lift_params`` and ``call`` of a lowered call into a host function taking views:
    view parameters become :class:`WasmStr`/:class:`WasmList` over the guest's memory, the
    others are lifted as usual; every view expires when ``call`` returns."""
    types = [ty for _, ty in ft.params]
    kinds = (list(views) + [None] * len(types))[: len(types)]

    def lift(cx: LiftLowerContext, flat: Sequence[Any]) -> list[Any]:
        pt = cx.opts.ptr_type
        if spilled:  # the parameters are a tuple in memory at flat[0]
            base = flat[0]
            offs = field_offsets(t.TupleType(tuple(types)), pt)
            word = t.U64 if pt == "i64" else t.U32
            args = []
            for ty, off, kind in zip(types, offs, kinds, strict=True):
                if kind is None:
                    args.append(load(cx, ty, base + off))
                else:
                    ptr = load(cx, word, base + off)
                    n = load(cx, word, base + off + elem_size(word, pt))
                    args.append(_make(kind, cx, ptr, n, ty))
            return args
        args, pos = [], 0
        for ty, kind in zip(types, kinds, strict=True):
            k = len(flatten_type(ty, pt))
            part = flat[pos : pos + k]
            pos += k
            args.append(lift_flat(cx, ty, part) if kind is None
                        else _make(kind, cx, part[0], part[1], ty))
        return args

    def call_views(args: Sequence[Any]) -> Any:
        try:
            return call(args)
        finally:
            for a in args:
                if isinstance(a, _View):
                    a._expire()

    return lift, call_views


def _make(kind: type, cx: LiftLowerContext, ptr: int, n: int, ty: t.Type) -> _View:
    mask = 0xFFFF_FFFF_FFFF_FFFF if cx.opts.ptr_type == "i64" else 0xFFFF_FFFF
    ptr, n = ptr & mask, n & mask  # core values arrive signed
    if kind is WasmStr:
        return WasmStr(cx, ptr, n)
    assert isinstance(ty, t.ListType), "checked at link time"
    return WasmList(cx, ptr, n, ty.element)
