"""Per-function-type adapters between Python calls and core wasm calls (sync ABI).

:func:`func_abi` builds, once per ``(FuncType, string encoding, pointer type)``, the four
adapters of the spec's ``canon lift`` / ``canon lower`` (sync paths), each one generated
function:

- export call (the host calls a lifted guest function):
  ``lower_params(cx, args) -> flat`` (spilling to a ``realloc``-ed tuple past
  ``MAX_FLAT_PARAMS``) and ``lift_results(cx, flat_results) -> value`` (loading from the returned
  pointer past ``MAX_FLAT_RESULTS``);
- import call (the guest calls a lowered host function):
  ``lift_params(cx, flat_args) -> list`` and ``lower_results(cx, value, flat_args) -> flat``
  (storing through the guest's return pointer, the last flat argument, when spilled).

:func:`canon_lift_sync` and :func:`canon_lower_sync` show the whole call protocol around them
(borrow scope checks, ``may_leave``, ``post_return``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from .. import types as t
from .codegen import CodeGen
from .context import LiftLowerContext, StringEncoding, Subtask, Task, trap_if
from .layout import (
    CoreFuncSig,
    PtrType,
    alignment,
    contains_borrow,
    elem_size,
    field_offsets,
    flatten_functype,
    flatten_type,
)
from .lift import M32, M64, LiftGen, ptr_check_lines
from .lower import LowerGen, Writes

__all__ = ["FuncAbi", "canon_lift_sync", "canon_lower_sync", "func_abi"]

Flat = list[int | float]


# Lifting then lowering these leaves the core value as it is (for floats the spec
# canonicalises NaNs on lifting and lets lowering scramble them, so any NaN may arrive).
_IDENTITY_TYPES = frozenset({t.U32, t.S32, t.U64, t.S64, t.F32, t.F64})


def _passes_through(ty: t.Type) -> bool:
    if isinstance(ty, t.RecordType):
        return all(_passes_through(u) for _, u in ty.fields)
    if isinstance(ty, t.TupleType):
        return all(_passes_through(u) for u in ty.types)
    return ty in _IDENTITY_TYPES


class FuncAbi:
    """The sync adapters of one function type (see the module docstring). Each adapter is
    generated when first asked for: a lifted function only ever needs ``lower_params`` and
    ``lift_results``, a lowered one the other two, and many functions are never called."""

    __slots__ = ("_adapters", "enc", "ft", "has_borrow", "lift_sig", "lower_sig", "passthrough",
                 "pt")

    def __init__(self, ft: t.FuncType, enc: StringEncoding, pt: PtrType) -> None:
        self.ft = ft
        self.enc = enc
        self.pt = pt
        # Only a call with borrow parameters lends handles, so only it needs a borrow scope.
        self.has_borrow = any(contains_borrow(u) for _, u in ft.params)
        self.lift_sig: CoreFuncSig = flatten_functype(ft, "lift", pt)
        self.lower_sig: CoreFuncSig = flatten_functype(ft, "lower", pt)
        #: Whether lifting and lowering are the identity on the core values: every value is
        #: a 32/64-bit integer or a float (alone or in records and tuples), passed flat both
        #: ways. A call between components of such a type needs no adapter code.
        self.passthrough = (
            not self.lift_sig.params_spilled and not self.lift_sig.results_spilled
            and all(_passes_through(u) for _, u in ft.params)
            and (ft.result is None or _passes_through(ft.result)))
        self._adapters: dict[str, Callable[..., Any]] = {}

    def _adapter(self, name: str) -> Callable[..., Any]:
        fn = self._adapters.get(name)
        if fn is None:
            ft, enc, pt = self.ft, self.enc, self.pt
            if name == "lower_params":
                fn = _gen_lower_params(ft, enc, pt, self.lift_sig.params_spilled)
            elif name in ("lift_results", "lift_results_host"):
                fn = _gen_lift_results(ft, enc, pt, self.lift_sig.results_spilled,
                                       name.endswith("host"))
            elif name in ("lift_params", "lift_params_host"):
                fn = _gen_lift_params(ft, enc, pt, self.lower_sig, name.endswith("host"))
            elif name in ("lift_params_async", "lift_params_async_host"):
                sig = flatten_functype(ft, "lower", pt, is_async=True)
                fn = _gen_lift_params(ft, enc, pt, sig, name.endswith("host"))
            elif name in ("plain_call", "plain_call_host"):
                fn = _gen_plain_call(ft, enc, pt, self.lift_sig.params_spilled,
                                     self.lift_sig.results_spilled, name.endswith("host"))
            elif name.startswith("lowered_call_"):
                _, _, how, host = name.split("_")
                fn = _gen_lowered_call(ft, enc, pt, self.lower_sig, self.has_borrow,
                                       host == "host", how)
            elif name == "lower_results_async":
                fn = _gen_lower_results(ft, enc, pt, True)
            else:
                assert name == "lower_results", "four adapters"
                fn = _gen_lower_results(ft, enc, pt, self.lower_sig.results_spilled)
            self._adapters[name] = fn
        return fn

    @property
    def lower_params(self) -> Callable[[LiftLowerContext, Sequence[Any]], Flat]:
        """Host values -> the callee's flat arguments (calling an export)."""
        return self._adapter("lower_params")

    @property
    def lift_results(self) -> Callable[[LiftLowerContext, Sequence[int | float]], Any]:
        """The callee's flat results -> the value, for another component (calling an
        export); see ``lift_results_host``."""
        return self._adapter("lift_results")

    @property
    def lift_results_host(self) -> Callable[[LiftLowerContext, Sequence[int | float]], Any]:
        """``lift_results`` for a host caller: strings as plain ``str``."""
        return self._adapter("lift_results_host")

    def plain_call(self, host: bool) -> Callable[..., Callable[[Sequence[Any]], Any]]:
        """The factory of a call path into an export without ``borrow`` parameters (no task;
        see ``_runtime.calls``): ``lower_params``, the core call made inline and
        ``lift_results`` (``host``: ``lift_results_host``) in one generated frame."""
        return self._adapter("plain_call_host" if host else "plain_call")

    def lowered_call(self, how: str, host: bool) -> Callable[..., Callable[..., Any]]:
        """The factory of a sync lowered call path (see ``_runtime.calls``): the lifting of
        ``lift_params`` (``host``: ``lift_params_host``), the callee and the lowering of
        ``lower_results`` in one generated frame; ``how``: ``"wrap"``, ``"call"`` or
        ``"lifted"`` (see ``_gen_lowered_call``)."""
        return self._adapter(f"lowered_call_{how}_{'host' if host else 'guest'}")

    @property
    def lift_params(self) -> Callable[[LiftLowerContext, Sequence[int | float]], list[Any]]:
        """The caller's flat arguments -> values for another component (an import called)."""
        return self._adapter("lift_params")

    @property
    def lift_params_host(self) -> Callable[[LiftLowerContext, Sequence[int | float]],
                                           list[Any]]:
        """``lift_params`` for a host function: strings as plain ``str``."""
        return self._adapter("lift_params_host")

    @property
    def lift_params_async(self) -> Callable[[LiftLowerContext, Sequence[int | float]],
                                            list[Any]]:
        """``lift_params`` of an ``async`` lower (at most ``MAX_FLAT_ASYNC_PARAMS`` flat, then a
        pointer; the return pointer last)."""
        return self._adapter("lift_params_async")

    @property
    def lift_params_async_host(self) -> Callable[[LiftLowerContext, Sequence[int | float]],
                                                 list[Any]]:
        """``lift_params_async`` for a host function."""
        return self._adapter("lift_params_async_host")

    @property
    def lower_results_async(self) -> Callable[[LiftLowerContext, Any, Sequence[int | float]],
                                              Flat]:
        """The result stored through an ``async`` lower's return pointer (the last flat
        argument); no flat results."""
        return self._adapter("lower_results_async")

    @property
    def lower_results(self) -> Callable[[LiftLowerContext, Any, Sequence[int | float]], Flat]:
        """The host result -> the caller's flat results (an import called)."""
        return self._adapter("lower_results")


@lru_cache(maxsize=2048)
def func_abi(ft: t.FuncType, enc: StringEncoding = "utf8", pt: PtrType = "i32") -> FuncAbi:
    return FuncAbi(ft, enc, pt)


def _param_tuple(ft: t.FuncType) -> t.TupleType:
    return t.TupleType(tuple(u for _, u in ft.params))


def _label(ft: t.FuncType) -> str:
    """A generated adapter's name in tracebacks: the function type."""
    return str(ft)


def _seg(kind: str, name: str) -> str:
    return f'{kind} "' + name.replace("{", "{{").replace("}", "}}") + '"'


def _arity_error(args: Sequence[Any], n: int) -> None:
    raise TypeError(f"expected {n} argument{'s' if n != 1 else ''}, got {len(args)}")


def _gen_lower_params(ft: t.FuncType, enc: StringEncoding, pt: PtrType, spilled: bool
                      ) -> Callable[..., Any]:
    g = LowerGen(enc, pt)
    g.label = _label(ft)
    emit_lower_args(g, ft, pt, spilled, "return ")
    return g.finish("lower_params", "cx, args, where=''", ["m = None"])


def emit_lower_args(g: LowerGen, ft: t.FuncType, pt: PtrType, spilled: bool, sink: str) -> None:
    """Emit into ``g`` the lowering of ``args`` (see :func:`lower_arg_names`) as a list given
    to ``sink`` (``"return "``)."""
    g.emit(f"{sink}[{', '.join(lower_arg_names(g, ft, pt, spilled))}]")


def lower_arg_names(g: LowerGen, ft: t.FuncType, pt: PtrType, spilled: bool) -> list[str]:
    """Emit into ``g`` the lowering of ``args`` (checked against ``ft``'s arity) as ``ft``'s
    parameters: the locals holding their flat values, or the one pointer to them when
    ``spilled``. ``m`` holds the memory view (``None`` before). (Names, not expressions: a
    call path passes them to ``pack`` as arguments, which costs a third of a ``*flat``.)"""
    n = len(ft.params)
    names = [f"a{i}" for i in range(n)]
    g.emit(f"if len(args) != {n}: {g.const(_arity_error)}(args, {n})")
    if n:
        g.emit(", ".join(names) + ("," if n == 1 else "") + " = args")
    if spilled:
        tt = _param_tuple(ft)
        g.emit(f"p, m = cx.alloc({alignment(tt, pt)}, {elem_size(tt, pt)})")
        w: Writes = []
        for (pname, u), a, off in zip(ft.params, names, field_offsets(tt, pt), strict=True):
            g.store(u, a, "p", off, (_seg("parameter", pname),), w)
        g.flush("p", w)
        return ["p"]
    vals: list[str] = []
    for (pname, u), a in zip(ft.params, names, strict=True):
        vals += g.flat(u, a, (_seg("parameter", pname),))
    return [g.assign(v, "f") for v in vals]


def pack_args_lines(names: list[str], indent: int) -> list[str]:
    """The lines of a call path that put the flat arguments ``names`` into the core call's
    ``view`` (at ``indent`` levels): straight, or folded into the unsigned range for signed
    values (``struct.error``)."""
    pad = "    " * indent
    args = "".join(f", {a}" for a in names)
    return [f"{pad}try:",
            f"{pad}    pack(view, 0{args})",
            f"{pad}except struct_error:  # (signed values: folded into the unsigned range)",
            f"{pad}    pack(view, 0, *normalize(params, [{', '.join(names)}], nparams))"]


def _gen_lift_results(ft: t.FuncType, enc: StringEncoding, pt: PtrType, spilled: bool,
                      host: bool) -> Callable[..., Any]:
    g = LiftGen(enc, pt, host)
    g.label = _label(ft)
    if ft.result is None:
        return g.finish_fn("lift_results", "cx, vals", "None", [])
    if spilled:
        mask = M32 if pt == "i32" else M64
        g.uses_memory = True
        pro = [f"p = vals[0] & {mask:#x}", g.view_line(),
               *ptr_check_lines(g, ft.result, pt, "p", "result")]
        r = g.load(ft.result, "p", 0)
        g.emit(f"return {r}")
        return g.finish("lift_results", "cx, vals", pro)
    k = len(flatten_type(ft.result, pt))
    names = [f"a{i}" for i in range(k)]
    r = g.flat(ft.result, names)
    return g.finish_fn("lift_results", "cx, vals", r,
                       [", ".join(names) + ("," if k == 1 else "") + " = vals"])


#: The parameters of a ``plain_call`` factory: the pieces of ``_runtime.calls``' call path
#: (its instance state and root, whether it enters, the shared context, post-return, the
#: pieces of ``core.InlineCall``, the slow-path helpers, the function for its name).
PLAIN_CALL_PARAMS = ("state, root, enter, cx, post, view, pack, unpack, call_, ctx, faddr, "
                     "aaddr, n, trap_out, trap, fail, keep, normalize, params, nparams, "
                     "struct_error, poison_check, not_enterable, fn")


def _gen_plain_call(ft: t.FuncType, enc: StringEncoding, pt: PtrType, params_spilled: bool,
                    results_spilled: bool, host: bool) -> Callable[..., Any]:
    """``make_call(<PLAIN_CALL_PARAMS>) -> call(args)``: the lowering of ``_gen_lower_params``
    and the lifting of ``_gen_lift_results`` around the inline core call, in one frame."""
    lo = LowerGen(enc, pt)
    lo.indent = 3
    lo.emit("m = None")
    flat = lower_arg_names(lo, ft, pt, params_spilled)
    li = LiftGen(enc, pt, host)
    li._n = lo._n + 1000  # (one namespace: the lifting's names after the lowering's)
    li.indent = 3
    if ft.result is None:
        value = "None"
    elif results_spilled:
        mask = M32 if pt == "i32" else M64
        li.uses_memory = True
        li.emit(f"p = vals[0] & {mask:#x}")
        li.emit(li.view_line())
        for line in ptr_check_lines(li, ft.result, pt, "p", "result"):
            li.emit(line)
        value = li.load(ft.result, "p", 0)
    else:
        k = len(flatten_type(ft.result, pt))
        rnames = [f"r{i}" for i in range(k)]
        mark = len(li.lines)
        value = li.flat(ft.result, rnames)
        pro = [", ".join(rnames) + ("," if k == 1 else "") + " = vals"]
        if li.uses_memory:
            pro.append(li.view_line())
        li.lines[mark:mark] = ["            " + x for x in pro]
    li.lines[:0] = ["            " + x for x in li.fuel_prologue()]
    g = CodeGen()
    g.label = _label(ft)
    g.ns.update(lo.ns)
    g.ns.update(li.ns)
    g.lines = [
        "    def call(args, where=''):",
        "        if root.poisoned:",
        "            poison_check(state)",
        "        if enter and not state.may_enter:",
        "            not_enterable()",
        "        try:",
        *lo.lines,
        "        except (TypeError, ValueError, OverflowError) as e:",
        "            raise type(e)(f\"`{fn.name or 'function'}`: {e}\") from None",
        "        except BaseException:",
        "            # a trap lowering the arguments (realloc trapped or returned a bad",
        "            # pointer): the call had entered the instance, so the lockdown applies",
        "            state.poison()",
        "            raise",
        "        if enter:",
        "            state.may_enter = False",
        "        try:",
        *pack_args_lines(flat, 3),
        "            err = call_(ctx, faddr, aaddr, n, trap_out)",
        "            if err or trap.value:",
        "                raise fail(err)",
        "            vals = unpack(view)",
        *li.lines,
        f"            value = {value}",
        "            if post is not None:",
        "                state.may_leave = False",
        "                try:",
        "                    post(vals)",
        "                finally:",
        "                    state.may_leave = True",
        "        except BaseException:",
        "            state.poison()",
        "            raise",
        "        finally:",
        "            if enter:",
        "                state.may_enter = True",
        "        return value",
        "    call.keep = keep  # (what the inline call's pointers point into)",
        "    return call",
    ]
    return g.finish("make_call", PLAIN_CALL_PARAMS, [])


def emit_lift_args(g: LiftGen, ft: t.FuncType, pt: PtrType, sig: CoreFuncSig
                   ) -> tuple[list[str], list[str]]:
    """Emit into ``g`` the lifting of ``ft``'s parameters from the flat core arguments ``vals``
    (``sig``: their core signature; spilled, one pointer to them): the prologue lines to put
    before ``g``'s lines, and an expression for each parameter's value."""
    if sig.params_spilled:
        tt = _param_tuple(ft)
        mask = M32 if pt == "i32" else M64
        g.uses_memory = True
        pro = [f"p = vals[0] & {mask:#x}", g.view_line(),
               *ptr_check_lines(g, tt, pt, "p", "parameters")]
        g.prefetch(tt, "p", 0)
        rs = [g.load(u, "p", off) for (_, u), off in
              zip(ft.params, field_offsets(tt, pt), strict=True)]
        return pro, rs
    k = len(sig.params) - (1 if sig.results_spilled else 0)
    names = [f"a{i}" for i in range(k)]
    rs = []
    i = 0
    for _, u in ft.params:
        w = len(flatten_type(u, pt))
        rs.append(g.flat(u, names[i : i + w]))
        i += w
    target = ", ".join(names) + ("," if k == 1 else "")
    pro = [f"{target} = vals[:{k}]"] if k else []
    if g.uses_memory:
        pro.insert(0, g.view_line())
    return pro, rs


def _gen_lift_params(ft: t.FuncType, enc: StringEncoding, pt: PtrType, sig: CoreFuncSig,
                     host: bool) -> Callable[..., Any]:
    g = LiftGen(enc, pt, host)
    g.label = _label(ft)
    pro, rs = emit_lift_args(g, ft, pt, sig)
    g.emit(f"return [{', '.join(rs)}]")
    return g.finish("lift_params", "cx, vals", pro)


def emit_lower_result(g: LowerGen, ft: t.FuncType, pt: PtrType, spilled: bool, v: str
                      ) -> tuple[list[str], list[str]]:
    """Emit into ``g`` the lowering of result ``v`` (``spilled``: stored through the return
    pointer, the last of the flat arguments ``vals``): the prologue lines to put before
    ``g``'s lines, and the flat results' expressions."""
    if ft.result is None:
        return [], []
    path = ("result",)
    if spilled:
        mask = M32 if pt == "i32" else M64
        pro = [f"p = vals[-1] & {mask:#x}", g.view_line(),
               *ptr_check_lines(g, ft.result, pt, "p", "result")]
        w: Writes = []
        g.store(ft.result, v, "p", 0, path, w)
        g.flush("p", w)
        return pro, []
    return ["m = None"], g.flat(ft.result, v, path)


def _gen_lower_results(ft: t.FuncType, enc: StringEncoding, pt: PtrType, spilled: bool
                       ) -> Callable[..., Any]:
    g = LowerGen(enc, pt)
    g.label = _label(ft)
    pro, vals = emit_lower_result(g, ft, pt, spilled, "v")
    g.emit(f"return [{', '.join(vals)}]")
    return g.finish("lower_results", "cx, v, vals, where=''", pro)


#: The parameters of a ``lowered_call`` factory: the pieces of ``_runtime.calls``' lowered
#: call path (the caller's instance state, the shared context or the spare one and what makes
#: a new one, the callee as ``call(args)`` or ``wrapped(store, *args)``, the store's weak
#: reference, the host's caller record, the lifting when not inlined, the slow-path helpers).
LOWERED_CALL_PARAMS = ("state, shared_cx, spare, new_cx, call, wrapped, owner, caller, "
                       "lift_params, bad_result, cannot_leave")


def _gen_lowered_call(ft: t.FuncType, enc: StringEncoding, pt: PtrType, sig: CoreFuncSig,
                      has_borrow: bool, host: bool, how: str) -> Callable[..., Any]:
    """``make_lowered(<LOWERED_CALL_PARAMS>) -> lowered(*vals)``: a sync ``canon lower``'s
    whole call path in one frame: the ``may_leave`` check, the lifting of ``_gen_lift_params``
    (inline, unless ``how`` is ``"lifted"``: then ``lift_params(cx, vals)``), the callee, the
    lowering of ``_gen_lower_results`` and the subtask's end (its lends released) when
    ``has_borrow``. ``how``: ``"wrap"`` calls ``wrapped(owner(), *args)``, ``"call"`` and
    ``"lifted"`` call ``call(args)``; both record the caller for the host
    (``caller.caller``) when ``host``."""
    li = LiftGen(enc, pt, host)
    li.indent = 2
    lpro: list[str] = []
    if how == "lifted":
        callee = "result = call(lift_params(cx, vals))"
    else:
        lpro, rs = emit_lift_args(li, ft, pt, sig)
        callee = (f"result = wrapped(owner(), {', '.join(rs)})" if how == "wrap"
                  else f"result = call([{', '.join(rs)}])")
    lpro = [*li.fuel_prologue(), *lpro]
    lo = LowerGen(enc, pt)
    lo._n = li._n + 1000  # (one namespace: the lowering's names after the lifting's)
    lo.indent = 3
    opro, out = emit_lower_result(lo, ft, pt, sig.results_spilled, "result")
    assert len(out) <= 1, "sync lowered results are at most one flat value (MAX_FLAT_RESULTS)"
    lines = ["    def lowered(*vals):"]
    if has_borrow:
        lines.append("        nonlocal spare")
    lines += [
        "        if not state.may_leave:",
        "            cannot_leave()",
    ]
    if has_borrow:
        # one context kept for the next call (the common case); a call made while it is in
        # use (re-entered through the callee) or left by an exception gets a new one
        lines += [
            "        cx = spare",
            "        if cx is None:",
            "            cx = new_cx()",
            "        else:",
            "            spare = None",
        ]
    else:
        lines.append("        cx = shared_cx")
    lines += ["        " + x for x in lpro] + li.lines
    if host:
        lines += [
            "        outer = caller.caller",
            "        caller.caller = state",
            "        try:",
            "            " + callee,
            "        finally:",
            "            caller.caller = outer",
        ]
    else:
        lines.append("        " + callee)
    if ft.result is not None:
        lines += [
            "        try:",
            *["            " + x for x in opro],
            *lo.lines,
            f"            flat = {out[0] if out else 'None'}",
            "        except (TypeError, ValueError, OverflowError) as e:",
            "            bad_result(e)",
        ]
    if has_borrow:
        # the subtask resolves (``Subtask.deliver_resolve``, inline): its lends end; its
        # context is kept, with the emptied list, for the next call
        lines += [
            "        lenders = cx.borrow_scope.lenders",
            "        for h in lenders:",
            "            h.num_lends -= 1",
            "        lenders.clear()",
            "        spare = cx",
        ]
    lines.append("        return flat" if ft.result is not None else "        return None")
    lines.append("    return lowered")
    g = CodeGen()
    g.label = _label(ft)
    g.ns.update(li.ns)
    g.ns.update(lo.ns)
    g.ns["where"] = ""  # (the error messages' path suffix: none at the top)
    g.lines = lines
    return g.finish("make_lowered", LOWERED_CALL_PARAMS, [])


def canon_lift_sync(
    cx: LiftLowerContext,
    abi: FuncAbi,
    callee: Callable[[Flat], Sequence[int | float]],
    args: Sequence[Any],
) -> Any:
    """The sync ``canon lift`` call path: the host calls guest ``callee`` (core flat in, flat
    out). ``cx.borrow_scope`` must be a fresh :class:`Task`."""
    task = cx.borrow_scope
    assert isinstance(task, Task), "an export call runs as a task"
    flat_args = abi.lower_params(cx, args)
    flat_results = callee(flat_args)
    result = abi.lift_results(cx, flat_results)
    task.return_()
    post_return = cx.opts.post_return
    if post_return is not None:
        inst = cx.inst
        assert inst.may_leave, "post-return runs outside realloc"
        inst.may_leave = False
        try:
            post_return(*flat_results)
        finally:
            inst.may_leave = True
    return result


def canon_lower_sync(
    cx: LiftLowerContext,
    abi: FuncAbi,
    callee: Callable[[list[Any]], Any],
    flat_args: Sequence[int | float],
) -> Flat:
    """The sync ``canon lower`` call path: guest code calls host ``callee`` (Python values in,
    value out). ``cx.borrow_scope`` must be a fresh :class:`Subtask`."""
    subtask = cx.borrow_scope
    assert isinstance(subtask, Subtask), "an import call runs as a subtask"
    trap_if(not cx.inst.may_leave, "cannot leave the component instance now")
    args = abi.lift_params(cx, flat_args)
    result = callee(args)
    flat = abi.lower_results(cx, result, flat_args)
    subtask.deliver_resolve()
    return flat
