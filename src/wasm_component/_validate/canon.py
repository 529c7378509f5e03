"""Validation of ``canon`` definitions: canonical options, lift/lower signatures
(``flatten_functype``) and the core signature of every built-in, with feature gating.

Kept apart from the component walker because it is the Canonical ABI's half of validation:
the rules come from CanonicalABI.md's "Canonical Definitions" section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import types as t
from .._abi import layout
from .._abi.layout import MAX_FLAT_ASYNC_PARAMS, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, flatten_type
from .._binary import ast
from ..errors import NotSupported, ValidationError
from .model import CanonInfo, CoreGcType

if TYPE_CHECKING:
    from .component import Scope, Validator


def _err(msg: str, offset: int) -> ValidationError:
    return ValidationError(msg, offset)


def flatten(ty: t.Type, ptr: str, out: list[str]) -> None:
    """Append the core types of ``ty`` per the Canonical ABI's ``flatten_type``."""
    out += flatten_type(ty, "i64" if ptr == "i64" else "i32")


def _needs_mem(ty: t.Type) -> bool:
    stack: list[object] = [ty]
    seen: set[int] = set()
    from .typecheck import iter_children
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, t.PrimType) and x.name == "string":
            return True
        if isinstance(x, t.ListType) and x.length is None:
            return True
        if isinstance(x, t.MapType):
            return True
        if isinstance(x, t.FutureType | t.StreamType | t.OwnType | t.BorrowType):
            continue
        stack.extend(iter_children(x))
    return False


def _fmt(vs: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(v.upper() if v in ("i32", "i64", "f32", "f64") else v
                           for v in vs) + "]"


class _Opts:
    def __init__(self) -> None:
        self.encoding = "utf8"
        self.memory: int | None = None
        self.realloc: int | None = None
        self.post_return: int | None = None
        self.callback: int | None = None
        self.is_async = False
        self.ptr = "i32"
        self.memory64 = False


def check_opts(v: Validator, o: ast.CanonOpts | None, scope: Scope, offset: int,
               context: str) -> _Opts:
    r = _Opts()
    if o is None:
        return r
    seen: set[str] = set()
    encs = 0
    for name, off in o.given:
        if name == "string-encoding":
            encs += 1
            if encs > 1:
                raise _err(f"canonical encoding option conflicts with option "
                           f"`{o.string_encoding}`", off)
            continue
        if name in seen:
            if name == "memory":
                raise _err("`memory` is specified more than once", off)
            raise _err(f"canonical option `{name}` is specified more than once", off)
        seen.add(name)
    if o.string_encoding is not None:
        r.encoding = {"latin1+utf16": "latin1+utf16", "latin1-utf16": "latin1+utf16"}.get(
            o.string_encoding, o.string_encoding)
    if o.memory is not None:
        mt = scope.get("core memory", o.memory, offset).type
        assert isinstance(mt, t.CoreMemoryType)
        if mt.shared:
            raise _err("mismatch in the shared flag for memories", offset)
        if mt.memory64:
            if not v.features.cm64:
                raise _err("64-bit memories require the `cm64` feature to be enabled", offset)
            r.ptr = "i64"
            r.memory64 = True
        r.memory = o.memory
    if o.realloc is not None:
        ft = scope.get("core func", o.realloc, offset).type
        if o.memory is None:
            raise _err("canonical option `realloc` requires `memory` to also be specified",
                       offset)
        p = r.ptr
        if ft != t.CoreFuncType((p, p, p, p), (p,)):
            raise _err("canonical option `realloc` uses a core function with an incorrect "
                       "signature", offset)
        r.realloc = o.realloc
    if o.post_return is not None:
        if context != "lift":
            raise _err("canonical option `post-return` cannot be specified for lowerings",
                       offset)
        scope.get("core func", o.post_return, offset)
        r.post_return = o.post_return
    if o.is_async:
        if not v.features.cm_async:
            raise _err("canonical option `async` requires the component model async feature",
                       offset)
        r.is_async = True
        if o.post_return is not None:
            raise _err("cannot specify post-return function in async", offset)
    if o.callback is not None:
        if not o.is_async:
            raise _err("cannot specify callback without async", offset)
        if context != "lift":
            raise _err("cannot specify callback without lifting", offset)
        ft = scope.get("core func", o.callback, offset).type
        if ft != t.CoreFuncType(("i32", "i32", "i32"), ("i32",)):
            raise _err("canonical option `callback` uses a core function with an incorrect "
                       "signature", offset)
        r.callback = o.callback
    if o.gc and not v.features.cm_gc:
        raise _err("canonical option `gc` requires the `cm-gc` feature", offset)
    if o.core_type is not None and not o.gc:
        raise _err("cannot specify `core-type` without `gc`", offset)
    return r


def _func_type_at(scope: Scope, idx: int, offset: int) -> t.FuncType:
    ft = scope.get("type", idx, offset).type
    if not isinstance(ft, t.FuncType):
        raise _err(f"type index {idx} is not a function type", offset)
    return ft


def _require(cond: bool, what: str, offset: int, gc: bool = False) -> None:
    if not cond and not gc:
        raise _err(f"canonical option `{what}` is required", offset)


def flatten_functype(ft: t.FuncType, o: _Opts, context: str) -> t.CoreFuncType:
    sig = layout.flatten_functype(ft, "lift" if context == "lift" else "lower",
                                  "i64" if o.ptr == "i64" else "i32", o.is_async,
                                  o.callback is not None)
    return t.CoreFuncType(sig.params, sig.results)


def _feature(ok: bool, msg: str, offset: int) -> None:
    if not ok:
        raise _err(msg, offset)


def _deref(core: str, gc_keys: dict[str, CoreGcType]) -> tuple[bool, object] | None:
    """``(ref null? KEY)`` -> (nullable, gc type or abstract name)."""
    short = {"externref": "extern", "anyref": "any", "funcref": "func", "structref": "struct",
             "arrayref": "array", "eqref": "eq"}
    if core in short:
        return True, short[core]
    if not core.startswith("(ref "):
        return None
    body = core[5:-1]
    nullable = body.startswith("null ")
    if nullable:
        body = body[5:]
    return nullable, gc_keys.get(body, body)


def gc_check(ty: t.Type, core: str, enc: str, offset: int, packed: bool,
             gc_keys: dict[str, CoreGcType]) -> None:
    """``ty`` must lower to the core (GC) type ``core`` (cm-gc)."""
    if isinstance(ty, t.PrimType) and ty.name != "string" and ty.name != "error-context":
        n = ty.name
        want = {"s64": "i64", "u64": "i64", "f32": "f32", "f64": "f64"}.get(n, "i32")
        if packed:
            want = {"bool": "i8", "u8": "i8", "s8": "i8", "u16": "i16", "s16": "i16"}.get(
                n, want)
        if core != want:
            raise _err(f"expected to lower component `{n}` type to core `{want}` type, found "
                       f"`{core}`", offset)
        return
    if isinstance(ty, t.EnumType | t.FlagsType):
        what = "enum" if isinstance(ty, t.EnumType) else "flags"
        if core != "i32":
            raise _err(f"expected to lower component `{what}` type into core `i32` type, but "
                       f"found `{core}`", offset)
        return
    d = _deref(core, gc_keys)
    if isinstance(ty, t.OwnType | t.BorrowType | t.FutureType | t.StreamType) or ty is \
            t.ERROR_CONTEXT:
        what = {t.OwnType: "own", t.BorrowType: "borrow", t.FutureType: "future",
                t.StreamType: "stream"}.get(type(ty), "error-context")
        if d is None or d[1] != "extern":
            raise _err(f"expected to lower component `{what}` type into core `(ref null? "
                       f"extern)` type, but found `{core}`", offset)
        return
    if ty is t.STRING:
        w = "i16" if enc == "utf16" else "i8"
        if d is None or not isinstance(d[1], CoreGcType) or d[1].kind != "array" or \
                d[1].fields[0][0] != w:
            raise _err(f"expected to lower component `string` type to core `(ref null? (array "
                       f"(mut? {w})))` type, found `{core}`", offset)
        return
    if isinstance(ty, t.ListType):
        if d is None or not isinstance(d[1], CoreGcType) or d[1].kind != "array":
            raise _err(f"expected to lower component `list` type into `(ref null? (array "
                       f"...))`, but found `{core}`", offset)
        gc_check(ty.element, d[1].fields[0][0], enc, offset, packed=True, gc_keys=gc_keys)
        return
    if isinstance(ty, t.RecordType | t.TupleType):
        what = "record" if isinstance(ty, t.RecordType) else "tuple"
        items = [x for _, x in ty.fields] if isinstance(ty, t.RecordType) else list(ty.types)
        if d is None or not isinstance(d[1], CoreGcType) or d[1].kind != "struct":
            raise _err(f"expected to lower component `{what}` type to core `(ref null? "
                       f"(struct ...))`, but found `{core}`", offset)
        if len(d[1].fields) != len(items):
            raise _err(f"core `struct` has {len(d[1].fields)} fields, but component `{what}` "
                       f"has {len(items)} fields", offset)
        for x, (fs, _m) in zip(items, d[1].fields, strict=True):
            gc_check(x, fs, enc, offset, packed=fs in ("i8", "i16"), gc_keys=gc_keys)
        return
    if isinstance(ty, t.VariantType | t.OptionType | t.ResultType):
        what = {t.VariantType: "variant", t.OptionType: "option"}.get(type(ty), "result")
        if d is None or not isinstance(d[1], CoreGcType) or d[1].kind != "struct" or \
                d[1].fields:
            raise _err(f"expected to lower component `{what}` type to core `(ref null? "
                       f"(struct))` type, but found `{core}`", offset)
        return


def check_canon(v: Validator, d: ast.Canon, scope: Scope, origin: int) -> CanonInfo:
    gc = d.opts is not None and d.opts.gc
    f = v.features
    k = d.kind
    off = d.offset
    if scope.kind != "component":
        raise _err("canonical definitions are only allowed in components", off)
    if k == "lift":
        assert d.func is not None and d.type is not None
        core = scope.get("core func", d.func, off).type
        ft = _func_type_at(scope, d.type, off)
        o = check_opts(v, d.opts, scope, off, "lift")
        if o.is_async and not ft.is_async:
            raise _err("the `async` canonical option requires an async function type", off)
        if o.is_async and o.callback is None and not f.cm_async_stackful:
            raise _err("requires the async stackful feature", off)
        ps: list[str] = []
        for _, p in ft.params:
            flatten(p, o.ptr, ps)
        rs: list[str] = []
        if ft.result is not None:
            flatten(ft.result, o.ptr, rs)
        if any(_needs_mem(p) for _, p in ft.params) or len(ps) > MAX_FLAT_PARAMS:
            _require(o.memory is not None, "memory", off, gc)
            _require(o.realloc is not None, "realloc", off, gc)
        limit = MAX_FLAT_PARAMS if o.is_async else MAX_FLAT_RESULTS
        if (ft.result is not None and _needs_mem(ft.result)) or len(rs) > limit:
            _require(o.memory is not None, "memory", off, gc)
        want = flatten_functype(ft, o, "lift")
        if d.opts is not None and d.opts.gc:
            want = core if isinstance(core, t.CoreFuncType) else want
        if core != want:
            assert isinstance(core, t.CoreFuncType)
            if core.params != want.params:
                raise _err(f"lowered parameter types `{_fmt(want.params)}` do not match "
                           f"parameter types `{_fmt(core.params)}` of core function {d.func}",
                           off)
            raise _err(f"lowered result types `{_fmt(want.results)}` do not match result "
                       f"types `{_fmt(core.results)}` of core function {d.func}", off)
        if o.post_return is not None:
            pr = scope.get("core func", o.post_return, off).type
            if pr != t.CoreFuncType(want.results, ()):
                raise _err("canonical option `post-return` uses a core function with an "
                           "incorrect signature", off)
        scope.add("func", ft, origin, "canon")
        return CanonInfo(k, want, ft, None, None, o.encoding, o.memory, o.realloc,
                         o.post_return, o.callback, o.is_async, o.memory64)
    if k == "lower":
        assert d.func is not None
        ft2 = scope.get("func", d.func, off).type
        assert isinstance(ft2, t.FuncType)
        o = check_opts(v, d.opts, scope, off, "lower")
        if o.is_async and not ft2.is_async:
            raise _err("the `async` canonical option requires an async function type", off)
        if d.opts is not None and d.opts.gc and d.opts.core_type is None:
            raise _err("cannot specify `gc` without also specifying a `core-type` for "
                       "lowerings", off)
        ps = []
        for _, p in ft2.params:
            flatten(p, o.ptr, ps)
        rs = []
        if ft2.result is not None:
            flatten(ft2.result, o.ptr, rs)
        if any(_needs_mem(p) for _, p in ft2.params):
            _require(o.memory is not None, "memory", off, gc)
        if ft2.result is not None and _needs_mem(ft2.result):
            _require(o.memory is not None, "memory", off, gc)
            _require(o.realloc is not None, "realloc", off, gc)
        maxp = MAX_FLAT_ASYNC_PARAMS if o.is_async else MAX_FLAT_PARAMS
        maxr = 0 if o.is_async else MAX_FLAT_RESULTS
        if len(ps) > maxp or len(rs) > maxr:
            _require(o.memory is not None, "memory", off, gc)
        want = flatten_functype(ft2, o, "lower")
        if d.opts is not None and d.opts.gc and d.opts.core_type is not None:
            ct = scope.get("core type", d.opts.core_type, off).type
            if not isinstance(ct, t.CoreFuncType):
                raise _err(f"core type index {d.opts.core_type} is not a function type", off)
            if len(ct.params) != len(ft2.params):
                raise _err(f"expected {len(ft2.params)} core parameters, found "
                           f"{len(ct.params)}", off)
            for (_, pt), cp in zip(ft2.params, ct.params, strict=True):
                gc_check(pt, cp, o.encoding, off, packed=False, gc_keys=v.gc_keys)
            want = ct
        scope.add("core func", want, origin, "canon")
        return CanonInfo(k, want, ft2, None, None, o.encoding, o.memory, o.realloc, None,
                         None, o.is_async, o.memory64)
    if k.startswith("resource."):
        assert d.type is not None
        rt = scope.get("type", d.type, off).type
        if not isinstance(rt, t.ResourceType):
            raise _err(f"type index {d.type} is not a resource type", off)
        local = scope.local_resources.get(rt)
        if k == "resource.drop":
            sig = t.CoreFuncType(("i32",), ())
        else:
            if local is None:
                raise _err(f"type index {d.type} is not a local resource", off)
            rep = local[0]
            sig = (t.CoreFuncType((rep,), ("i32",)) if k == "resource.new"
                   else t.CoreFuncType(("i32",), (rep,)))
        scope.add("core func", sig, origin, "canon")
        return CanonInfo(k, sig, resource=rt)
    # concurrency / threading / error-context built-ins
    o = check_opts(v, d.opts, scope, off, "builtin")
    pp = o.ptr
    i32 = "i32"
    payload: t.StreamType | t.FutureType | None = None
    fty: t.FuncType | None = None
    if k.startswith(("stream.", "future.")):
        _feature(f.cm_async, f"`{k}` requires the component model async feature", off)
        assert d.type is not None
        want_cls = t.StreamType if k.startswith("stream.") else t.FutureType
        ty = scope.get("type", d.type, off).type
        if not isinstance(ty, want_cls):
            raise _err(f"`{k}` requires a {'stream' if want_cls is t.StreamType else 'future'}"
                       " type", off)
        payload = ty
        op = k.split(".", 1)[1]
        if op in ("read", "write") and payload.payload is not None:
            if _needs_mem(payload.payload) or True:
                _require(o.memory is not None, "memory", off, gc)
            if op == "read" and _needs_mem(payload.payload):
                _require(o.realloc is not None, "realloc", off, gc)
        if d.is_async and op.startswith("cancel") and not f.cm_more_async_builtins:
            raise _err("requires the component model more async builtins feature", off)
        if op == "new":
            sig = t.CoreFuncType((), ("i64",))
        elif op in ("read", "write"):
            sig = (t.CoreFuncType((i32, pp, pp), (pp,)) if want_cls is t.StreamType
                   else t.CoreFuncType((i32, pp), (i32,)))
        elif op.startswith("cancel"):
            sig = t.CoreFuncType((i32,), (i32,))
        else:
            sig = t.CoreFuncType((i32,), ())
    elif k.startswith("error-context."):
        _feature(f.cm_error_context, f"`{k}` requires the component model error-context "
                 "feature", off)
        if k == "error-context.new":
            _require(o.memory is not None, "memory", off, gc)
            sig = t.CoreFuncType((pp, pp), (i32,))
        elif k == "error-context.debug-message":
            _require(o.memory is not None, "memory", off, gc)
            _require(o.realloc is not None, "realloc", off, gc)
            sig = t.CoreFuncType((i32, pp), ())
        else:
            sig = t.CoreFuncType((i32,), ())
    elif k == "task.return":
        _feature(f.cm_async, "`task.return` requires the component model async feature", off)
        res = None if d.result is None else v.valtype(d.result, scope, off)
        # It passes the task's results, and a function's result never contains a `borrow`
        # (so `canon_task_return`'s `result_type != task.ft.result` would always trap).
        if res is not None and layout.contains_borrow(res):
            raise _err("`task.return` result cannot contain a `borrow` type", off)
        if d.opts is not None:
            for name, _o in d.opts.given:
                if name not in ("memory", "string-encoding"):
                    raise _err(f"cannot specify `{name}` option on `task.return`", off)
        fty = t.FuncType((("v", res),) if res is not None else ())
        rs2: list[str] = []
        if res is not None:
            flatten(res, pp, rs2)
            if _needs_mem(res) or len(rs2) > MAX_FLAT_PARAMS:
                _require(o.memory is not None, "memory", off, gc)
        if len(rs2) > MAX_FLAT_PARAMS:
            rs2 = [pp]
        sig = t.CoreFuncType(tuple(rs2), ())
    elif k in ("context.get", "context.set"):
        _feature(f.cm_async or f.cm_threading, f"`{k}` requires the component model async "
                 "feature", off)
        vt = d.valtype
        if vt not in ("i32", "i64") or (vt == "i64" and not f.cm64):
            raise _err(f"`{k}` type must be `i32`", off)
        if scope.context_type is not None and scope.context_type != vt:
            raise _err("type must match previous context type", off)
        scope.context_type = str(vt)
        idx = d.index or 0
        if idx >= (2 if f.cm_threading else 1):
            raise _err(f"`{k}` index {idx} out of bounds", off)
        sig = (t.CoreFuncType((), (str(vt),)) if k == "context.get"
               else t.CoreFuncType((str(vt),), ()))
    elif k in ("backpressure.set", "backpressure.inc", "backpressure.dec", "task.cancel",
               "subtask.drop", "subtask.cancel", "waitable-set.new", "waitable-set.wait",
               "waitable-set.poll", "waitable-set.drop", "waitable.join", "thread.yield"):
        _feature(f.cm_async, f"`{k}` requires the component model async feature", off)
        if k in ("backpressure.inc", "backpressure.dec"):
            _feature(f.cm_more_async_builtins or True, "requires the component model more "
                     "async builtins feature", off)
        if k in ("waitable-set.wait", "waitable-set.poll"):
            assert d.memory is not None
            scope.get("core memory", d.memory, off)
        sig = {
            "backpressure.set": t.CoreFuncType((i32,), ()),
            "backpressure.inc": t.CoreFuncType((), ()),
            "backpressure.dec": t.CoreFuncType((), ()),
            "task.cancel": t.CoreFuncType((), ()),
            "subtask.drop": t.CoreFuncType((i32,), ()),
            "subtask.cancel": t.CoreFuncType((i32,), (i32,)),
            "waitable-set.new": t.CoreFuncType((), (i32,)),
            "waitable-set.wait": t.CoreFuncType((i32, i32), (i32,)),
            "waitable-set.poll": t.CoreFuncType((i32, i32), (i32,)),
            "waitable-set.drop": t.CoreFuncType((i32,), ()),
            "waitable.join": t.CoreFuncType((i32, i32), ()),
            "thread.yield": t.CoreFuncType((), (i32,)),
        }[k]
    elif k.startswith("thread."):
        if k in ("thread.spawn-ref", "thread.spawn-indirect", "thread.available-parallelism"):
            _feature(f.shared_everything_threads, f"`{k}` requires the shared-everything-"
                     "threads proposal", off)
            if k == "thread.spawn-ref":
                # its function parameter is a typed reference `(ref null $ft)` (the GC
                # proposal's function references), which no call path here carries
                raise NotSupported(f"`{k}` (a typed function reference parameter) is not "
                                   f"supported by this runtime (at offset {off:#x})")
        else:
            _feature(f.cm_threading, f"`{k}` requires the component model threading feature",
                     off)
        if d.table is not None:
            tb = scope.get("core table", d.table, off).type
            assert isinstance(tb, t.CoreTableType)
            if "func" not in tb.element:
                raise _err("table element type must be `funcref`", off)
        if d.core_type is not None:
            ctt = scope.get("core type", d.core_type, off).type
            if not isinstance(ctt, t.CoreFuncType):
                raise _err(f"core type index {d.core_type} is not a function type", off)
        sig = {
            "thread.index": t.CoreFuncType((), (i32,)),
            "thread.new-indirect": t.CoreFuncType((i32, i32), (i32,)),
            "thread.resume-later": t.CoreFuncType((i32,), ()),
            "thread.suspend": t.CoreFuncType((), (i32,)),
            "thread.suspend-then-resume": t.CoreFuncType((i32,), (i32,)),
            "thread.yield-then-resume": t.CoreFuncType((i32,), (i32,)),
            "thread.suspend-then-promote": t.CoreFuncType((i32,), (i32,)),
            "thread.yield-then-promote": t.CoreFuncType((i32,), (i32,)),
            "thread.spawn-ref": t.CoreFuncType((i32,), (i32,)),
            "thread.spawn-indirect": t.CoreFuncType((i32, i32), (i32,)),
            "thread.available-parallelism": t.CoreFuncType((), (i32,)),
        }.get(k, t.CoreFuncType((), ()))
    else:
        raise _err(f"unknown canonical function `{k}`", off)
    scope.add("core func", sig, origin, "canon")
    memory = d.memory if k in ("waitable-set.wait", "waitable-set.poll") else o.memory
    return CanonInfo(k, sig, fty, None, payload, o.encoding, memory, o.realloc, None,
                     None, d.is_async or o.is_async, o.memory64, d.cancellable, d.index,
                     d.table)
