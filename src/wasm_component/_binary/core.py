"""Just enough of the core wasm binary format for a component to type its modules.

A component must know each embedded module's imports, exports and the types behind them, but the
module's code is wasmtime's business. :func:`read_core_module_info` therefore walks the section
headers, decodes the type, import, function, table, memory, global, tag and export sections, and
skips everything else (code and data) by size, so its cost does not grow with code size.
"""

from __future__ import annotations

from ..errors import DecodeError
from . import ast
from .cursor import Reader

NUM_TYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128"}
ABSTRACT_HEAP = {
    0x70: "func", 0x6F: "extern", 0x6E: "any", 0x6D: "eq", 0x6C: "i31", 0x6B: "struct",
    0x6A: "array", 0x69: "exn", 0x71: "none", 0x72: "noextern", 0x73: "nofunc", 0x74: "noexn",
    0x68: "cont", 0x75: "nocont",
}
PACKED = {0x78: "i8", 0x77: "i16"}


def _heap_type(r: Reader) -> int | str:
    off = r.pos
    b = r.peek()
    if b == 0x65:  # shared abstract heap type
        r.u8()
        off = r.pos
        b = r.u8()
        if b not in ABSTRACT_HEAP:
            raise DecodeError(f"invalid heap type ({b:#x})", off)
        return "shared " + ABSTRACT_HEAP[b]
    if b in ABSTRACT_HEAP:
        r.u8()
        return ABSTRACT_HEAP[b]
    v = r.s33()
    if v < 0:
        raise DecodeError(f"invalid heap type ({b:#x})", off)
    return v


def read_ref_type(r: Reader) -> ast.CoreRefType:
    off = r.pos
    b = r.u8()
    if b in ABSTRACT_HEAP:
        return ast.CoreRefType(True, ABSTRACT_HEAP[b])
    if b == 0x65:  # shared abstract shorthand, e.g. (ref null (shared func))
        b2 = r.u8()
        if b2 not in ABSTRACT_HEAP:
            raise DecodeError(f"malformed reference type ({b2:#x})", off)
        return ast.CoreRefType(True, "shared " + ABSTRACT_HEAP[b2])
    if b in (0x63, 0x64):
        return ast.CoreRefType(b == 0x63, _heap_type(r))
    raise DecodeError(f"malformed reference type ({b:#x})", off)


def read_core_valtype(r: Reader) -> ast.CoreValType:
    off = r.pos
    b = r.peek()
    if b in NUM_TYPES:
        r.u8()
        return NUM_TYPES[b]
    if b in ABSTRACT_HEAP or b in (0x63, 0x64, 0x65):
        return read_ref_type(r)
    raise DecodeError(f"invalid value type ({b:#x})", off)


def _storage_type(r: Reader) -> ast.CoreValType:
    b = r.peek()
    if b in PACKED:
        r.u8()
        return PACKED[b]
    return read_core_valtype(r)


def _field_type(r: Reader) -> ast.CoreFieldType:
    st = _storage_type(r)
    off = r.pos
    m = r.u8()
    if m > 1:
        raise DecodeError("malformed mutability", off)
    return ast.CoreFieldType(st, m == 1)


def _comp_type(r: Reader) -> tuple[ast.CoreCompType, bool]:
    off = r.pos
    b = r.u8()
    shared = False
    if b == 0x65:
        shared = True
        off = r.pos
        b = r.u8()
    if b == 0x60:
        params = tuple(r.vec(read_core_valtype))
        results = tuple(r.vec(read_core_valtype))
        return ast.CoreFuncTypeDef(params, results), shared
    if b == 0x5F:
        return ast.CoreStructTypeDef(tuple(r.vec(_field_type))), shared
    if b == 0x5E:
        return ast.CoreArrayTypeDef(_field_type(r)), shared
    raise DecodeError(f"invalid leading byte ({b:#x}) for type", off)


def _sub_type(r: Reader, in_component: bool) -> ast.CoreSubType:
    off = r.pos
    b = r.peek()
    if in_component and b == 0x00:
        r.u8()
        off2 = r.pos
        if r.u8() != 0x50:
            raise DecodeError("invalid leading byte for non-final sub type", off2)
        sups = tuple(r.vec(Reader.u32))
        comp, shared = _comp_type(r)
        return ast.CoreSubType(False, sups, comp, shared)
    if b == 0x50 and not in_component:
        r.u8()
        sups = tuple(r.vec(Reader.u32))
        comp, shared = _comp_type(r)
        return ast.CoreSubType(False, sups, comp, shared)
    if b == 0x4F:
        r.u8()
        sups = tuple(r.vec(Reader.u32))
        comp, shared = _comp_type(r)
        return ast.CoreSubType(True, sups, comp, shared)
    if b == 0x50:
        raise DecodeError(f"invalid leading byte ({b:#x}) for non-final sub type", off)
    comp, shared = _comp_type(r)
    return ast.CoreSubType(True, (), comp, shared)


def read_rec_group(r: Reader, in_component: bool) -> ast.CoreRecGroup:
    off = r.pos
    if r.peek() == 0x4E:
        r.u8()
        types = tuple(r.vec(lambda rr: _sub_type(rr, in_component)))
        return ast.CoreRecGroup(off, types, True)
    return ast.CoreRecGroup(off, (_sub_type(r, in_component),))


def _limits(r: Reader, memory: bool) -> tuple[int, int | None, bool, bool, int | None]:
    off = r.pos
    flags = r.u8()
    if flags & ~0x0F:
        raise DecodeError(f"invalid limits flags ({flags:#x})", off)
    has_max = bool(flags & 1)
    shared = bool(flags & 2)
    is64 = bool(flags & 4)
    page: int | None = None
    if not memory and flags & 8:
        raise DecodeError(f"invalid table limits flags ({flags:#x})", off)
    read = r.u64 if is64 else r.u32
    minimum = read()
    maximum = read() if has_max else None
    if flags & 8:
        page = r.u32()
    return minimum, maximum, shared, is64, page


def _table_type(r: Reader) -> ast.CoreTableType:
    elem = read_ref_type(r)
    mn, mx, shared, is64, _ = _limits(r, memory=False)
    return ast.CoreTableType(elem, mn, mx, is64, shared)


def _memory_type(r: Reader) -> ast.CoreMemoryType:
    mn, mx, shared, is64, page = _limits(r, memory=True)
    return ast.CoreMemoryType(mn, mx, shared, is64, page)


def _global_type(r: Reader) -> ast.CoreGlobalType:
    vt = read_core_valtype(r)
    off = r.pos
    m = r.u8()
    if m & ~0x03:
        raise DecodeError("malformed mutability", off)
    return ast.CoreGlobalType(vt, bool(m & 1), bool(m & 2))


def read_core_extern_desc(r: Reader) -> ast.CoreExternDesc:
    off = r.pos
    kind = r.u8()
    if kind == 0x00:
        return ast.CoreFuncRef(r.u32())
    if kind == 0x01:
        return _table_type(r)
    if kind == 0x02:
        return _memory_type(r)
    if kind == 0x03:
        return _global_type(r)
    if kind == 0x04:
        a_off = r.pos
        if r.u8() != 0x00:
            raise DecodeError("invalid tag attribute", a_off)
        return ast.CoreTagType(r.u32())
    raise DecodeError(f"invalid leading byte ({kind:#x}) for external kind", off)


def read_core_import(r: Reader) -> ast.CoreImport:
    off = r.pos
    module = r.name()
    name = r.name()
    return ast.CoreImport(off, module, name, read_core_extern_desc(r))


def _skip_const_expr(r: Reader) -> None:
    """Skip a constant expression up to and including its ``end``."""
    while True:
        off = r.pos
        op = r.u8()
        if op == 0x0B:
            return
        if op == 0x41:
            r.s32()
        elif op == 0x42:
            r.s64()
        elif op == 0x43:
            r.skip(4)
        elif op == 0x44:
            r.skip(8)
        elif op == 0xD0:
            _heap_type(r)
        elif op in (0xD2, 0x23):
            r.u32()
        elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):
            pass
        elif op == 0xFD:
            sub = r.u32()
            if sub != 12:
                raise DecodeError(f"unsupported constant expression opcode 0xfd {sub}", off)
            r.skip(16)
        elif op == 0xFB:
            sub = r.u32()
            if sub in (0, 1, 6, 7):  # struct.new, struct.new_default, array.new(_default)
                r.u32()
            elif sub == 8:  # array.new_fixed
                r.u32()
                r.u32()
            elif sub in (0x1C, 0x1A, 0x1B):  # ref.i31, any.convert_extern, extern.convert_any
                pass
            else:
                raise DecodeError(f"unsupported constant expression opcode 0xfb {sub}", off)
        else:
            raise DecodeError(f"illegal opcode in constant expression ({op:#x})", off)


_EXPORT_KINDS = {0x00: "func", 0x01: "table", 0x02: "memory", 0x03: "global", 0x04: "tag"}


def read_core_module_info(r: Reader) -> ast.CoreModuleInfo:
    """Read a core module's type/import/export information from ``r`` (the whole module)."""
    start = r.pos
    if r.bytes(4) != b"\x00asm":
        raise DecodeError("magic header not detected: bad magic number", start)
    if r.bytes(4) != b"\x01\x00\x00\x00":
        raise DecodeError("unknown binary version: expected a core module", start + 4)
    types: list[ast.CoreSubType] = []
    imports: list[ast.CoreImport] = []
    funcs: list[int] = []
    tables: list[ast.CoreTableType] = []
    memories: list[ast.CoreMemoryType] = []
    globals_: list[ast.CoreGlobalType] = []
    tags: list[int] = []
    has_start = False
    exports: list[tuple[str, str, int]] = []
    while not r.at_end():
        sec_off = r.pos
        sec_id = r.u8()
        size = r.u32()
        s = r.sub(size)
        if sec_id == 1:
            for g in s.vec(lambda rr: read_rec_group(rr, in_component=False)):
                types.extend(g.types)
        elif sec_id == 2:
            for imp in s.vec(read_core_import):
                imports.append(imp)
                d = imp.desc
                if isinstance(d, ast.CoreFuncRef):
                    funcs.append(d.type_idx)
                elif isinstance(d, ast.CoreTableType):
                    tables.append(d)
                elif isinstance(d, ast.CoreMemoryType):
                    memories.append(d)
                elif isinstance(d, ast.CoreGlobalType):
                    globals_.append(d)
                else:
                    tags.append(d.type_idx)
        elif sec_id == 3:
            funcs.extend(s.vec(Reader.u32))
        elif sec_id == 4:

            def table(rr: Reader) -> ast.CoreTableType:
                if rr.peek() == 0x40:
                    rr.u8()
                    z = rr.pos
                    if rr.u8() != 0x00:
                        raise DecodeError("malformed table type", z)
                    t = _table_type(rr)
                    _skip_const_expr(rr)
                    return t
                return _table_type(rr)

            tables.extend(s.vec(table))
        elif sec_id == 5:
            memories.extend(s.vec(_memory_type))
        elif sec_id == 6:

            def glob(rr: Reader) -> ast.CoreGlobalType:
                g = _global_type(rr)
                _skip_const_expr(rr)
                return g

            globals_.extend(s.vec(glob))
        elif sec_id == 7:

            def export(rr: Reader) -> tuple[str, str, int]:
                n = rr.name()
                k_off = rr.pos
                k = rr.u8()
                kind = _EXPORT_KINDS.get(k)
                if kind is None:
                    raise DecodeError(f"invalid leading byte ({k:#x}) for external kind", k_off)
                return (n, kind, rr.u32())

            exports.extend(s.vec(export))
        elif sec_id == 13:

            def tag(rr: Reader) -> int:
                a = rr.pos
                if rr.u8() != 0:
                    raise DecodeError("invalid tag attribute", a)
                return rr.u32()

            tags.extend(s.vec(tag))
        elif sec_id == 8:
            has_start = True
            s.pos = s.end
        elif sec_id in (0, 9, 10, 11, 12):
            s.pos = s.end
        else:
            raise DecodeError(f"malformed section id ({sec_id})", sec_off)
        if not s.at_end():
            raise DecodeError("section size mismatch: unexpected data at the end of the section", s.pos)
    return ast.CoreModuleInfo(
        tuple(types), tuple(imports), tuple(exports), tuple(funcs), tuple(tables),
        tuple(memories), tuple(globals_), tuple(tags), has_start,
    )
