"""Bytes -> decoded component (``ast.Component``), one function per section.

A small cursor (:class:`Reader`) reads LEB128 numbers, names and vectors and turns every problem
(truncation, bad opcode, bad UTF-8, overlong LEB) into a :class:`DecodeError` with the offset.
Core modules are not decoded here beyond the sections a component needs to know about
(types, imports, functions, tables, memories, globals, tags, exports): their bytes stay a range of
the input, handed to wasmtime untouched, so decoding cost follows the component-level sections.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from ..errors import DecodeError
from . import ast
from .core import (
    read_core_extern_desc,
    read_core_import,
    read_core_module_info,
    read_core_valtype,
    read_rec_group,
)
from .cursor import Reader

__all__ = ["MAX_NESTING", "decode_component", "is_component", "is_core_module"]

T = TypeVar("T")

MAGIC = b"\x00asm"
COMPONENT_VERSION = b"\x0d\x00\x01\x00"
MAX_NESTING = 100
"""How deeply components and types may nest before decoding gives up (no RecursionError)."""

PRIMITIVES = {
    0x7F: "bool", 0x7E: "s8", 0x7D: "u8", 0x7C: "s16", 0x7B: "u16", 0x7A: "s32", 0x79: "u32",
    0x78: "s64", 0x77: "u64", 0x76: "f32", 0x75: "f64", 0x74: "char", 0x73: "string",
    0x64: "error-context",
}
STRING_ENCODINGS = {0x00: "utf8", 0x01: "utf16", 0x02: "latin1+utf16"}


def is_component(data: bytes | memoryview) -> bool:
    return bytes(data[:4]) == MAGIC and bytes(data[4:8]) == COMPONENT_VERSION


def is_core_module(data: bytes | memoryview) -> bool:
    return bytes(data[:4]) == MAGIC and bytes(data[6:8]) == b"\x00\x00"


def decode_component(data: bytes | memoryview) -> ast.Component:
    """Decode a whole component binary (``DecodeError`` on any malformation)."""
    buf = memoryview(data).cast("B") if isinstance(data, memoryview) else memoryview(data)
    r = Reader(buf, 0, len(buf))
    comp = _component(r, 0)
    if r.pos != r.end:
        raise DecodeError("unexpected trailing bytes after component", r.pos)
    return comp


def _component(r: Reader, depth: int) -> ast.Component:
    start = r.pos
    if depth > MAX_NESTING:
        raise DecodeError("nesting too deep", start)
    magic = r.bytes(4)
    if magic != MAGIC:
        raise DecodeError("magic header not detected: bad magic number", start)
    version = r.bytes(4)
    if version != COMPONENT_VERSION:
        if version[2:4] == b"\x00\x00":
            raise DecodeError("expected a component, got a core module", start + 4)
        raise DecodeError(
            f"unknown binary version and encoding: {version.hex()}, expected 0d000100", start + 4
        )
    defs: list[ast.Definition] = []
    name: str | None = None
    names: dict[str, dict[int, str]] = {}
    while not r.at_end():
        sec_off = r.pos
        sec_id = r.u8()
        size = r.u32()
        body_start = r.pos
        if size > r.end - body_start:
            raise DecodeError("section size is out of bounds", sec_off)
        s = r.sub(size)
        if sec_id == 0:
            custom_name = s.name()
            if custom_name == "component-name":
                # The name section is advisory: engines must not reject a bad one.
                with contextlib.suppress(DecodeError):
                    name, names = _names(s.sub(s.end - s.pos))
            s.pos = s.end
        elif sec_id == 1:
            mstart = s.pos
            info = read_core_module_info(s.sub(s.end - s.pos))
            defs.append(ast.CoreModule(sec_off, mstart, s.end, info))
            s.pos = s.end
        elif sec_id == 2:
            defs.extend(s.vec(_core_instance))
        elif sec_id == 3:
            defs.extend(s.vec(lambda rr: ast.CoreTypeDecl(rr.pos, _core_type(rr, depth))))
        elif sec_id == 4:
            nested = _component(s, depth + 1)
            defs.append(ast.NestedComponent(sec_off, nested))
        elif sec_id == 5:
            defs.extend(s.vec(_instance))
        elif sec_id == 6:
            defs.extend(s.vec(_alias))
        elif sec_id == 7:
            defs.extend(s.vec(lambda rr: _type(rr, depth)))
        elif sec_id == 8:
            defs.extend(s.vec(_canon))
        elif sec_id == 9:
            defs.append(_start(s))
            if not s.at_end():
                raise DecodeError("unexpected content in the component start section", s.pos)
        elif sec_id == 10:
            defs.extend(s.vec(_import))
        elif sec_id == 11:
            defs.extend(s.vec(_export))
        elif sec_id == 12:
            defs.extend(s.vec(_value))
        else:
            raise DecodeError(f"unknown component section id {sec_id:#x}", sec_off)
        if not s.at_end():
            raise DecodeError("unexpected data at the end of the section", s.pos)
        r.pos = s.end
    return ast.Component(start, r.pos, tuple(defs), name, names)


def _names(r: Reader) -> tuple[str | None, dict[str, dict[int, str]]]:
    name: str | None = None
    names: dict[str, dict[int, str]] = {}
    while not r.at_end():
        sub_id = r.u8()
        s = r.sub(r.u32())
        if sub_id == 0:
            name = s.name()
        elif sub_id == 1:
            sort = _sort(s)
            m = names.setdefault(str(sort), {})
            for _ in range(s.u32()):
                idx = s.u32()
                m[idx] = s.name()
        r.pos = s.end
    return name, names


# -- sorts and instances ------------------------------------------------------------------------


def _core_sort(r: Reader) -> ast.Sort:
    off = r.pos
    b = r.u8()
    name = ast.CORE_SORTS.get(b)
    if name is None:
        raise DecodeError(f"invalid leading byte ({b:#x}) for core sort", off)
    return ast.Sort(True, name)


def _sort(r: Reader) -> ast.Sort:
    off = r.pos
    b = r.u8()
    if b == 0x00:
        return _core_sort(r)
    name = ast.SORTS.get(b)
    if name is None:
        raise DecodeError(f"invalid leading byte ({b:#x}) for sort", off)
    return ast.Sort(False, name)


def _core_instance(r: Reader) -> ast.CoreInstance:
    off = r.pos
    b = r.u8()
    if b == 0x00:
        module = r.u32()

        def arg(rr: Reader) -> tuple[str, int]:
            n = rr.name()
            kind_off = rr.pos
            if rr.u8() != 0x12:
                raise DecodeError("invalid leading byte for core instantiation argument", kind_off)
            return (n, rr.u32())

        return ast.CoreInstantiate(off, module, tuple(r.vec(arg)))
    if b == 0x01:
        return ast.CoreInlineExports(
            off,
            tuple(r.vec(lambda rr: (rr.name(), ast.SortIdx(_core_sort(rr), rr.u32())))),
        )
    raise DecodeError(f"invalid leading byte ({b:#x}) for core instance", off)


def _instance(r: Reader) -> ast.Instance:
    off = r.pos
    b = r.u8()
    if b == 0x00:
        comp = r.u32()
        args = r.vec(lambda rr: (rr.name(), _sortidx(rr)))
        return ast.Instantiate(off, comp, tuple(args))
    if b == 0x01:
        exports = r.vec(lambda rr: (_extern_name(rr), _sortidx(rr)))
        return ast.InlineExports(off, tuple(exports))
    raise DecodeError(f"invalid leading byte ({b:#x}) for instance", off)


def _sortidx(r: Reader) -> ast.SortIdx:
    return ast.SortIdx(_sort(r), r.u32())


# -- aliases ------------------------------------------------------------------------------------


def _alias(r: Reader) -> ast.Alias:
    off = r.pos
    sort = _sort(r)
    tag_off = r.pos
    tag = r.u8()
    if tag == 0x00:
        return ast.AliasExport(off, sort, r.u32(), r.name())
    if tag == 0x01:
        return ast.AliasCoreExport(off, sort, r.u32(), r.name())
    if tag == 0x02:
        return ast.AliasOuter(off, sort, r.u32(), r.u32())
    raise DecodeError(f"invalid leading byte ({tag:#x}) for alias", tag_off)


# -- core types (component core type section and module types) -----------------------------------


def _core_type(r: Reader, depth: int) -> ast.CoreTypeDef:
    off = r.pos
    b = r.peek()
    if b == 0x50:
        r.u8()
        decls = r.vec(lambda rr: _module_decl(rr, depth + 1))
        return ast.CoreModuleTypeDef(off, tuple(decls))
    return read_rec_group(r, in_component=True)


def _module_decl(r: Reader, depth: int) -> ast.CoreModuleDecl:
    if depth > MAX_NESTING:
        raise DecodeError("nesting too deep", r.pos)
    off = r.pos
    b = r.u8()
    if b == 0x00:
        return read_core_import(r)
    if b == 0x01:
        # Module types cannot nest, so here 0x50 is a non-final core sub type.
        return read_rec_group(r, in_component=False)
    if b == 0x02:
        a_off = r.pos
        if r.u8() != 0x10 or r.u8() != 0x01:
            raise DecodeError("invalid leading bytes for core outer alias", a_off)
        return ast.CoreOuterAlias(a_off, r.u32(), r.u32())
    if b == 0x03:
        e_off = r.pos
        n = r.name()
        return ast.CoreExportDecl(e_off, n, read_core_extern_desc(r))
    raise DecodeError(f"invalid leading byte ({b:#x}) for module type declaration", off)


# -- component types ----------------------------------------------------------------------------


def _valtype(r: Reader) -> ast.ValTypeRef:
    off = r.pos
    b = r.peek()
    if b in PRIMITIVES:
        r.u8()
        return PRIMITIVES[b]
    v = r.s33()
    if v < 0:
        raise DecodeError(f"invalid leading byte ({b:#x}) for component value type", off)
    return v


def _opt(r: Reader, read: Callable[[Reader], T]) -> T | None:
    off = r.pos
    b = r.u8()
    if b == 0x00:
        return None
    if b == 0x01:
        return read(r)
    raise DecodeError(f"invalid leading byte ({b:#x}) for optional value", off)


def _label(r: Reader) -> str:
    return r.name()


def _type(r: Reader, depth: int) -> ast.TypeDef:
    off = r.pos
    if depth > MAX_NESTING:
        raise DecodeError("nesting too deep", off)
    b = r.u8()
    body: ast.TypeDefBody
    if b in PRIMITIVES:
        body = ast.PrimDef(PRIMITIVES[b])
    elif b == 0x72:
        body = ast.RecordDef(tuple(r.vec(lambda rr: (_label(rr), _valtype(rr)))))
    elif b == 0x71:
        body = ast.VariantDef(tuple(r.vec(_case)))
    elif b == 0x70:
        body = ast.ListDef(_valtype(r))
    elif b == 0x67:
        body = ast.ListDef(_valtype(r), r.u32())
    elif b == 0x6F:
        body = ast.TupleDef(tuple(r.vec(_valtype)))
    elif b == 0x6E:
        body = ast.FlagsDef(tuple(r.vec(_label)))
    elif b == 0x6D:
        body = ast.EnumDef(tuple(r.vec(_label)))
    elif b == 0x6B:
        body = ast.OptionDef(_valtype(r))
    elif b == 0x6A:
        body = ast.ResultDef(_opt(r, _valtype), _opt(r, _valtype))
    elif b == 0x69:
        body = ast.OwnDef(r.u32())
    elif b == 0x68:
        body = ast.BorrowDef(r.u32())
    elif b == 0x66:
        body = ast.StreamDef(_opt(r, _valtype))
    elif b == 0x65:
        body = ast.FutureDef(_opt(r, _valtype))
    elif b == 0x63:
        body = ast.MapDef(_valtype(r), _valtype(r))
    elif b in (0x40, 0x43):
        params = tuple(r.vec(lambda rr: (_label(rr), _valtype(rr))))
        body = ast.FuncTypeDef(params, _resultlist(r), b == 0x43)
    elif b == 0x41:
        body = ast.ComponentTypeDef(tuple(r.vec(lambda rr: _component_decl(rr, depth + 1))))
    elif b == 0x42:
        body = ast.InstanceTypeDef(tuple(r.vec(lambda rr: _instance_decl(rr, depth + 1))))
    elif b == 0x3F:
        rep = read_core_valtype(r)
        body = ast.ResourceTypeDef(rep, _opt(r, Reader.u32))
    else:
        raise DecodeError(f"invalid leading byte ({b:#x}) for component defined type", off)
    return ast.TypeDef(off, body)


def _case(r: Reader) -> tuple[str, ast.ValTypeRef | None]:
    label = _label(r)
    t = _opt(r, _valtype)
    off = r.pos
    if r.u8() != 0x00:
        raise DecodeError("invalid variant case: expected 0x00 after the case type", off)
    return (label, t)


def _resultlist(r: Reader) -> ast.ValTypeRef | None:
    off = r.pos
    b = r.u8()
    if b == 0x00:
        return _valtype(r)
    if b == 0x01:
        off2 = r.pos
        b2 = r.u8()
        if b2 != 0x00:
            raise DecodeError(f"invalid leading byte ({b2:#x}) for number of results", off2)
        return None
    raise DecodeError(f"invalid leading byte ({b:#x}) for component function results", off)


def _component_decl(r: Reader, depth: int) -> ast.CoreTypeDecl | ast.TypeDef | ast.Alias | ast.ImportDecl | ast.ExportDecl:
    off = r.pos
    if r.peek() == 0x03:
        r.u8()
        name = _extern_name(r)
        return ast.ImportDecl(off, name, _extern_desc(r))
    return _instance_decl(r, depth)


def _instance_decl(r: Reader, depth: int) -> ast.CoreTypeDecl | ast.TypeDef | ast.Alias | ast.ExportDecl:
    off = r.pos
    b = r.u8()
    if b == 0x00:
        return ast.CoreTypeDecl(r.pos, _core_type(r, depth))
    if b == 0x01:
        return _type(r, depth)
    if b == 0x02:
        return _alias(r)
    if b == 0x04:
        name = _extern_name(r)
        return ast.ExportDecl(off, name, _extern_desc(r))
    raise DecodeError(f"invalid leading byte ({b:#x}) for component or instance type declaration", off)


def _extern_desc(r: Reader) -> ast.ExternDesc:
    off = r.pos
    b = r.u8()
    if b == 0x00:
        b2_off = r.pos
        if r.u8() != 0x11:
            raise DecodeError("invalid leading byte for core module extern type", b2_off)
        return ast.ExternDesc("module", r.u32())
    if b == 0x01:
        return ast.ExternDesc("func", r.u32())
    if b == 0x02:
        # wasm-tools encodes a value extern type as the bare valtype (no `eq` bound form).
        return ast.ExternDesc("value", value_type=_valtype(r))
    if b == 0x03:
        tag_off = r.pos
        tag = r.u8()
        if tag == 0x00:
            return ast.ExternDesc("type", r.u32())
        if tag == 0x01:
            return ast.ExternDesc("type", None)
        raise DecodeError(f"invalid leading byte ({tag:#x}) for type bound", tag_off)
    if b == 0x04:
        return ast.ExternDesc("component", r.u32())
    if b == 0x05:
        return ast.ExternDesc("instance", r.u32())
    raise DecodeError(f"invalid leading byte ({b:#x}) for external kind", off)


def _extern_name(r: Reader) -> ast.ExternName:
    off = r.pos
    b = r.u8()
    if b in (0x00, 0x01):
        return ast.ExternName(r.name())
    if b != 0x02:
        raise DecodeError(f"invalid leading byte ({b:#x}) for component external name", off)
    name = r.name()
    implements: str | None = None
    suffix: str | None = None
    ext_id: str | None = None
    seen: set[int] = set()
    for _ in range(r.u32()):
        a_off = r.pos
        kind = r.u8()
        if kind in seen:
            raise DecodeError("duplicate attribute in external name", a_off)
        seen.add(kind)
        if kind == 0x00:
            implements = r.name()
        elif kind == 0x01:
            suffix = r.name()
        elif kind == 0x02:
            ext_id = r.name()
        else:
            raise DecodeError(f"invalid leading byte ({kind:#x}) for name attribute", a_off)
    return ast.ExternName(name, implements, suffix, ext_id)


# -- canon, start, imports, exports, values -------------------------------------------------------


def _canon_opts(r: Reader) -> ast.CanonOpts:
    off = r.pos
    enc: str | None = None
    memory = realloc = post_return = callback = core_type = None
    is_async = gc = False
    given: list[tuple[str, int]] = []
    for _ in range(r.u32()):
        o_off = r.pos
        b = r.u8()
        if b in STRING_ENCODINGS:
            enc = STRING_ENCODINGS[b]
            given.append(("string-encoding", o_off))
        elif b == 0x03:
            memory = r.u32()
            given.append(("memory", o_off))
        elif b == 0x04:
            realloc = r.u32()
            given.append(("realloc", o_off))
        elif b == 0x05:
            post_return = r.u32()
            given.append(("post-return", o_off))
        elif b == 0x06:
            is_async = True
            given.append(("async", o_off))
        elif b == 0x07:
            callback = r.u32()
            given.append(("callback", o_off))
        elif b == 0x08:
            core_type = r.u32()
            given.append(("core-type", o_off))
        elif b == 0x09:
            gc = True
            given.append(("gc", o_off))
        else:
            raise DecodeError(f"invalid leading byte ({b:#x}) for canonical option", o_off)
    return ast.CanonOpts(
        off, enc, memory, realloc, post_return, is_async, callback, tuple(given), gc=gc,
        core_type=core_type,
    )


def _flag(r: Reader, what: str) -> bool:
    off = r.pos
    b = r.u8()
    if b > 1:
        raise DecodeError(f"invalid leading byte ({b:#x}) for {what}", off)
    return b == 1


_TYPED_NOOPTS = {0x02: "resource.new", 0x03: "resource.drop", 0x04: "resource.rep",
                 0x0E: "stream.new", 0x13: "stream.drop-readable", 0x14: "stream.drop-writable",
                 0x15: "future.new", 0x1A: "future.drop-readable", 0x1B: "future.drop-writable"}
_TYPED_OPTS = {0x0F: "stream.read", 0x10: "stream.write", 0x16: "future.read",
               0x17: "future.write"}
_TYPED_ASYNC = {0x11: "stream.cancel-read", 0x12: "stream.cancel-write",
                0x18: "future.cancel-read", 0x19: "future.cancel-write"}
_PLAIN = {0x24: "backpressure.inc", 0x25: "backpressure.dec", 0x05: "task.cancel",
          0x0D: "subtask.drop", 0x1E: "error-context.drop", 0x1F: "waitable-set.new",
          0x22: "waitable-set.drop", 0x23: "waitable.join", 0x26: "thread.index",
          0x28: "thread.resume-later"}
_OPTS_ONLY = {0x1C: "error-context.new", 0x1D: "error-context.debug-message"}
_CANCELLABLE = {0x29: "thread.suspend", 0x0C: "thread.yield", 0x2A: "thread.suspend-then-resume",
                0x2B: "thread.yield-then-resume", 0x2C: "thread.suspend-then-promote",
                0x2D: "thread.yield-then-promote"}


def _canon(r: Reader) -> ast.Canon:
    off = r.pos
    b = r.u8()
    if b == 0x00:
        sub_off = r.pos
        if r.u8() != 0x00:
            raise DecodeError("invalid leading byte for canon lift: expected 0x00", sub_off)
        func = r.u32()
        opts = _canon_opts(r)
        return ast.Canon(off, "lift", func=func, opts=opts, type=r.u32())
    if b == 0x01:
        sub_off = r.pos
        if r.u8() != 0x00:
            raise DecodeError("invalid leading byte for canon lower: expected 0x00", sub_off)
        func = r.u32()
        return ast.Canon(off, "lower", func=func, opts=_canon_opts(r))
    if b in _TYPED_NOOPTS:
        return ast.Canon(off, _TYPED_NOOPTS[b], type=r.u32())
    if b in _TYPED_OPTS:
        t = r.u32()
        return ast.Canon(off, _TYPED_OPTS[b], type=t, opts=_canon_opts(r))
    if b in _TYPED_ASYNC:
        t = r.u32()
        return ast.Canon(off, _TYPED_ASYNC[b], type=t, is_async=_flag(r, "async?"))
    if b in _PLAIN:
        return ast.Canon(off, _PLAIN[b])
    if b in _OPTS_ONLY:
        return ast.Canon(off, _OPTS_ONLY[b], opts=_canon_opts(r))
    if b in _CANCELLABLE:
        return ast.Canon(off, _CANCELLABLE[b], cancellable=_flag(r, "cancel?"))
    if b == 0x09:
        result = _resultlist(r)
        return ast.Canon(off, "task.return", result=result, has_result=result is not None,
                         opts=_canon_opts(r))
    if b in (0x0A, 0x0B):
        vt = read_core_valtype(r)
        idx = r.u32()
        return ast.Canon(off, "context.get" if b == 0x0A else "context.set", valtype=vt,
                         index=idx)
    if b == 0x06:
        return ast.Canon(off, "subtask.cancel", is_async=_flag(r, "async?"))
    if b in (0x20, 0x21):
        c = _flag(r, "cancel?")
        return ast.Canon(off, "waitable-set.wait" if b == 0x20 else "waitable-set.poll",
                         cancellable=c, memory=r.u32())
    if b == 0x27:
        ct = r.u32()
        return ast.Canon(off, "thread.new-indirect", core_type=ct, table=r.u32())
    # 🧵② built-ins: wasm-tools (the reference encoder) writes them without the `shared?` byte.
    if b == 0x40:
        return ast.Canon(off, "thread.spawn-ref", core_type=r.u32())
    if b == 0x41:
        ct = r.u32()
        return ast.Canon(off, "thread.spawn-indirect", core_type=ct, table=r.u32())
    if b == 0x42:
        return ast.Canon(off, "thread.available-parallelism")
    raise DecodeError(f"invalid leading byte ({b:#x}) for canonical function", off)


def _start(r: Reader) -> ast.Start:
    off = r.pos
    func = r.u32()
    args = tuple(r.vec(Reader.u32))
    res_off = r.pos
    results = r.u32()
    if results > 1000:
        raise DecodeError("start function results size is out of bounds", res_off)
    return ast.Start(off, func, args, results)


def _import(r: Reader) -> ast.Import:
    off = r.pos
    name = _extern_name(r)
    return ast.Import(off, name, _extern_desc(r))


def _export(r: Reader) -> ast.Export:
    off = r.pos
    name = _extern_name(r)
    item = _sortidx(r)
    desc = _opt(r, _extern_desc)
    return ast.Export(off, name, item, desc)


def _value(r: Reader) -> ast.ValueDef:
    off = r.pos
    t = _valtype(r)
    n = r.u32()
    return ast.ValueDef(off, t, r.bytes(n))

