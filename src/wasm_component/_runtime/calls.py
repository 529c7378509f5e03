"""The call paths: lifted guest functions, lowering trampolines, and the canon built-ins.

- :class:`LiftedFunc` is a ``canon lift``: calling it lowers Python arguments into the guest,
  makes one raw core call, lifts the results and runs ``post-return``. Entering a poisoned
  (trapped) instance or re-entering a busy one traps, as the spec requires.
- :func:`make_lowered` builds the core function for a ``canon lower``: a raw host callback that
  lifts the caller's arguments, calls the target component function (host or another guest) and
  lowers the result back into the caller, with ``may_leave`` and borrow bookkeeping.
- :func:`make_builtin` builds ``resource.new/drop/rep`` (and refuses async built-ins, which need
  the async runtime).

The per-type work is done once, here, when the function is created: the ABI adapters come from
``_abi.func`` (cached per function type), the core caller from ``core``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import types as t
from .._abi.context import (
    CanonicalOptions,
    ComponentInstanceState,
    LiftLowerContext,
    Subtask,
    Task,
    check_alloc,
    trap_if,
)
from .._abi.func import FuncAbi
from .._abi.handles import resource_drop, resource_new, resource_rep
from .._binary import ast
from .._translate.plan import SORT_ID
from .._validate.model import CanonInfo
from ..errors import NotSupported
from . import core
from .items import RFunc

if TYPE_CHECKING:
    from .instantiate import Env

__all__ = ["HostFunc", "LiftedFunc", "make_builtin", "make_lowered"]

CORE_FUNC = SORT_ID["core func"]
CORE_MEMORY = SORT_ID["core memory"]


class _CoreMemory:
    """The ``Memory`` protocol over a core memory (view refreshed by ``core`` when it grows)."""

    __slots__ = ("view",)

    def __init__(self, mem: core.CoreMemory) -> None:
        self.view = mem.view


def make_opts(env: Env, info: CanonInfo) -> CanonicalOptions:
    return _make_opts(env.spaces, info, env.state)


_REALLOC_ARGS = {"i32": struct.Struct("<I12xI12xI12xI12x"), "i64": struct.Struct("<Q8xQ8xQ8xQ8x")}
_REALLOC_RESULT = {"i32": struct.Struct("<I12x"), "i64": struct.Struct("<Q8x")}


def _make_opts(sp: list[list[Any]], info: CanonInfo, state: ComponentInstanceState
               ) -> CanonicalOptions:
    memory = (_CoreMemory(core.resolve(sp[CORE_MEMORY][info.memory]))
              if info.memory is not None else None)
    realloc = alloc = None
    ptr = "i64" if info.memory64 else "i32"
    if info.realloc is not None:
        rfunc = core.resolve(sp[CORE_FUNC][info.realloc])
        site = rfunc.raw_call(core.CoreFuncType((ptr,) * 4, (ptr,)))
        rview, ccall, ctx, faddr, aaddr, n, trap_out, trap, gen, fail, keep = site.parts
        pack, unpack = _REALLOC_ARGS[ptr].pack_into, _REALLOC_RESULT[ptr].unpack_from

        def realloc(a: int, b: int, c: int, d: int, _keep: Any = keep) -> int:
            pack(rview, 0, a, b, c, d)
            err = ccall(ctx, faddr, aaddr, n, trap_out)
            gen[0] += 1
            if err or trap.value:
                raise fail(err)
            return unpack(rview)[0]  # type: ignore[no-any-return]

        if memory is not None:
            view = memory.view

            def alloc(align: int, size: int, _keep: Any = keep) -> tuple[int, memoryview]:
                # ``LiftLowerContext.allocate`` and ``check_alloc``, with the call made inline
                state.may_leave = False
                pack(rview, 0, 0, 0, align, size)
                err = ccall(ctx, faddr, aaddr, n, trap_out)
                gen[0] += 1
                state.may_leave = True
                if err or trap.value:
                    raise fail(err)
                p: int = unpack(rview)[0]
                m = view()
                if p & (align - 1) or p + size > len(m):
                    check_alloc(p, align, size, m)
                return p, m

    enc: Any = info.string_encoding
    return CanonicalOptions(enc, memory, realloc, None, info.memory64, alloc=alloc)


_new_lifted = object.__new__


def _poison_check(state: ComponentInstanceState) -> None:
    trap_if(state.root.poisoned,
            "cannot enter component instance: it trapped earlier and may not be entered again")


class LiftedFunc(RFunc):
    """A guest function lifted with ``canon lift`` (one per definition and instance).

    Creating one only records where its pieces are (instantiation stays cheap); the call path
    is built on the first call, and the concrete type (``ty``) when first asked for. Made by
    :meth:`deferred`, even its instance's state and its core function are found only when
    first needed (``_pending``)."""

    __slots__ = ("_abi", "_env", "_func", "_host_call", "_info", "_pending", "_res", "_state",
                 "_static", "_ty", "adapter", "opts")
    _abi: FuncAbi
    _env: Env
    _func: core.CoreFunc | core.LazyExport
    _host_call: Callable[[Sequence[Any]], Any] | None
    _info: CanonInfo
    _pending: tuple[Any, ...] | None  # (settle, *args): settle(*args) -> (state, core func)
    _res: bool  # whether the type has resources (made concrete per instance)
    _state: ComponentInstanceState | None
    _static: t.FuncType  # the validator's type: resources abstract when they are per instance
    _ty: t.FuncType | None
    adapter: FuncAbi
    opts: CanonicalOptions

    @staticmethod
    def create(env: Env, info: CanonInfo, func: core.CoreFunc | core.LazyExport,
               abi: FuncAbi, has_resources: bool,
               state: ComponentInstanceState | None = None) -> LiftedFunc:
        """``env``: where the canon's options are (its index spaces) and its resource types
        made concrete; ``state``: the instance's, when not ``env.state``."""
        f = LiftedFunc._new(env, info, abi, has_resources, "")
        f._state = env.state if state is None else state
        f._pending = None
        f._func = func
        return f

    @staticmethod
    def deferred(env: Env, info: CanonInfo, abi: FuncAbi, name: str, pending: tuple[Any, ...]
                 ) -> LiftedFunc:
        """A lift of a type without resources whose instance state and core function come
        from ``pending`` = ``(settle, *args)``, ``settle(*args) -> (state, core func)``, called
        when either is first needed (an exported function that is never called costs only
        this object)."""
        f = LiftedFunc._new(env, info, abi, False, name)
        f._state = None
        f._pending = pending
        return f

    @staticmethod
    def _new(env: Env, info: CanonInfo, abi: FuncAbi, has_resources: bool, name: str
             ) -> LiftedFunc:
        f = _new_lifted(LiftedFunc)
        ft = info.func_type
        assert ft is not None, "lift has a function type"
        f._static = ft
        f._ty = None if has_resources else ft
        f._res = has_resources
        f.name = name
        f._env = env  # the canon's options and post-return are looked up in its index spaces
        f._info = info
        f._abi = abi
        f.call = f._first_call
        f._host_call = None
        return f

    @property
    def state(self) -> ComponentInstanceState:
        """The state of the instance the function belongs to."""
        state = self._state
        if state is None:
            pending = self._pending
            assert pending is not None, "a lifted function has a state or the means to find it"
            state, self._func = pending[0](*pending[1:])
            self._state, self._pending = state, None
        return state

    @property
    def core_func(self) -> core.CoreFunc | core.LazyExport:
        """The lifted core function."""
        if self._state is None:
            self.state  # noqa: B018 - settles the deferred pieces
        return self._func

    @property
    def ty(self) -> t.FuncType:  # type: ignore[override]
        """The function's type, with this instance's concrete resource types."""
        ty = self._ty
        if ty is None:
            ty = self._ty = self._env.concrete(self._static)
        return ty

    def _first_call(self, args: Sequence[Any]) -> Any:
        """Build the call path on first use, then take it."""
        self.call = self._make_call()
        return self.call(args)

    def prepared_call(self) -> Callable[[Sequence[Any]], Any]:
        call = self.call
        if getattr(call, "__func__", None) is LiftedFunc._first_call:
            call = self.call = self._make_call()
        return call

    def prepared_host_call(self) -> Callable[[Sequence[Any]], Any]:
        call = self._host_call
        if call is None:
            # from the host, the call enters the instance's ancestors too
            call = _entering(self._make_call(host=True), _ancestors(self.state))
            self._host_call = call
        return call

    def _make_call(self, host: bool = False, enter: bool = True
                   ) -> Callable[[Sequence[Any]], Any]:
        """The call path, specialised once: the core calls (the function's and post-return's)
        are made inline, and functions without ``borrow`` parameters need no per-call task (no
        borrow can be lent to the callee), so they reuse one context. ``host``: results lifted
        for the host (see ``FuncAbi.lift_results_host``). ``enter``: whether the call enters
        the function's instance (checks and marks it); not for calls from its descendants
        (donut wrapping: the spec's ``entering_set`` leaves it out then)."""
        state = self.state
        ty = self.ty
        info, spaces = self._info, self._env.spaces
        root = state.root  # (whose flag says whether the tree trapped)
        if info.is_async:
            # Its core function has the async ABI's signature: calling it as a sync one would
            # hand wasmtime's unchecked call the wrong arguments.
            return _needs_async_runtime(f"`{self.name or 'function'}` (an async lift)")
        self.opts = opts = _make_opts(spaces, info, state)
        self.adapter = adapter = self._abi
        sig = adapter.lift_sig
        want = info.core_type
        # wasmtime's unchecked call trusts the signature it is given
        assert want is None or (tuple(want.params), tuple(want.results)) == (
            tuple(sig.params), tuple(sig.results)), "validation fixed the callee's core type"
        view, pack, unpack, normalize, parts = core.resolve(self._func).packed_call(
            core.CoreFuncType(sig.params, sig.results))
        _, ccall, ctx, faddr, aaddr, n, trap_out, trap, gen, fail, keep = parts
        post = None
        if info.post_return is not None:
            post = core.resolve(spaces[CORE_FUNC][info.post_return]).packed_call(
                core.CoreFuncType(sig.results, ()))
        if post is not None:
            pview, ppack, _, _, pparts = post
            _, _, _, pfaddr, paddr, pn, _, _, _, _, pkeep = pparts
        lower_params = adapter.lower_params
        lift_results = adapter.lift_results_host if host else adapter.lift_results
        needs_task = adapter.has_borrow
        resources = self._env.full_map() if self._res else None
        shared_cx = LiftLowerContext(opts, state, None, resources)
        name = self
        keep = (keep, pkeep if post is not None else None)

        def call(args: Sequence[Any], _keep: Any = keep) -> Any:
            if root.poisoned:
                _poison_check(state)
            if enter and not state.may_enter:
                trap_if(True, "cannot enter component instance: it is already on the stack")
            if needs_task:
                task: Task | None = Task(state, ty, opts)
                cx = LiftLowerContext(opts, state, task, resources)
            else:
                task = None
                cx = shared_cx
            try:
                flat = lower_params(cx, args)
            except (TypeError, ValueError, OverflowError) as e:
                if task is not None:
                    task.end_lends()
                raise type(e)(f"`{name.name or 'function'}`: {e}") from None
            except BaseException:
                # a trap lowering the arguments (realloc trapped or returned a bad pointer):
                # the call had entered the instance, so the spec's lockdown applies
                state.poison()
                raise
            if enter:
                state.may_enter = False
            try:
                try:
                    pack(view, 0, *flat)
                except struct.error:
                    pack(view, 0, *normalize(flat))
                err = ccall(ctx, faddr, aaddr, n, trap_out)
                gen[0] += 1
                if err or trap.value:
                    raise fail(err)
                results = unpack(view)
                value = lift_results(cx, results)
                if task is not None:
                    task.return_()
                if post is not None:
                    state.may_leave = False
                    ppack(pview, 0, *results)
                    err = ccall(ctx, pfaddr, paddr, pn, trap_out)
                    gen[0] += 1
                    state.may_leave = True
                    if err or trap.value:
                        raise fail(err)
            except BaseException:
                state.poison()
                if task is not None:
                    task.end_lends()
                raise
            finally:
                if enter:
                    state.may_enter = True
            return value

        return call


class HostFunc(RFunc):
    """A host function: ``style`` ``wrap`` calls ``fn(store, *args)``; ``new`` calls
    ``fn(store, params: list[Val], results: list[Val])`` filling ``results`` in place."""

    __slots__ = ("fn", "store", "style")

    def __init__(self, fn: Any, ty: t.FuncType, name: str, style: str, store: Any) -> None:
        super().__init__(ty, name)
        self.fn = fn
        self.style = style
        self.store = store
        if style == "wrap":

            def call(args: Sequence[Any]) -> Any:
                return fn(store, *args)

            self.call = call
        else:
            self.call = self._call_host

    def _call_host(self, args: Sequence[Any]) -> Any:
        if self.style == "wrap":
            return self.fn(self.store, *args)
        from ..values import Val

        params = [Val(ty, v) for (_, ty), v in zip(self.ty.params, args, strict=True)]
        results = [Val(self.ty.result, None)] if self.ty.result is not None else []
        self.fn(self.store, params, results)
        if not results:
            return None
        r = results[0]
        if not isinstance(r, Val):
            raise TypeError(f"host function `{self.name}`: expected results[0] to be a Val")
        return r.value


def make_lowered(env: Env, info: CanonInfo, target: RFunc, abi: FuncAbi, has_resources: bool
                 ) -> core.CoreFunc:
    """The core function of a ``canon lower`` of ``target`` (``abi``: the adapters of the
    static type). Its Python side is built at the first call (many imports are never called)."""
    if info.is_async:
        # its core signature is the async ABI's: refuse at instantiation, naming the feature
        # (a sync-signature stand-in fails wasmtime's link check with "types incompatible")
        raise NotSupported(f"`{target.name or 'import'}` is lowered with `async` (the "
                           "component-model async ABI), which this runtime cannot run yet")
    sig = abi.lower_sig

    def build() -> Callable[..., Any]:
        return _lowered_call(env, info, abi, target, has_resources)

    return core.new_lazy_host_func(env.store._core, sig.params, sig.results, build)


def _needs_async_runtime(what: str) -> Callable[..., Any]:
    def call(*_: Any) -> Any:
        raise NotSupported(f"{what} needs the component-model async runtime, which is not built "
                           "yet")

    return call


def _lowered_call(env: Env, info: CanonInfo, adapter: FuncAbi, target: RFunc,
                  has_resources: bool) -> Callable[..., Any]:
    if info.is_async:
        return _needs_async_runtime(f"`{target.name or 'import'}` (an async lower)")
    opts = make_opts(env, info)
    state = env.state
    # A host function gets plain values; another component's gets what its lowering needs.
    to_component = isinstance(target, LiftedFunc)
    lift_params = adapter.lift_params if to_component else adapter.lift_params_host
    lower_results = adapter.lower_results
    call = target.prepared_call()
    if isinstance(target, LiftedFunc):
        # The spec's ``entering_set``: the callee and its ancestors, less the caller and its
        # ancestors. A call into an ancestor (donut wrapping) enters nothing; a call into the
        # caller's own instance still checks it, as wasmtime does (its suite expects a trap).
        above = {state, *_ancestors(state)}
        if target.state in above and target.state is not state:
            call = target._make_call(enter=False)
        else:
            call = _entering(call, tuple(s for s in _ancestors(target.state) if s not in above))
    # Without borrow parameters nothing is lent for the call: no subtask, one shared context.
    needs_subtask = adapter.has_borrow
    resources = env.full_map() if has_resources else None
    shared_cx = LiftLowerContext(opts, state, None, resources)
    nresults = len(adapter.lower_sig.results)

    def trampoline(*flat: Any) -> Any:
        if not state.may_leave:
            trap_if(True, "cannot leave component instance")
        if needs_subtask:
            sub: Subtask | None = Subtask()
            cx = LiftLowerContext(opts, state, sub, resources)
        else:
            sub = None
            cx = shared_cx
        result = call(lift_params(cx, flat))
        try:
            out = lower_results(cx, result, flat)
        except (TypeError, ValueError, OverflowError) as e:
            raise type(e)(f"function `{target.name or 'import'}` returned a bad value: {e}") from None
        if sub is not None:
            sub.deliver_resolve()
        if nresults == 1:
            return out[0]
        return None

    return trampoline


def _ancestors(state: ComponentInstanceState) -> tuple[ComponentInstanceState, ...]:
    out = []
    parent = state.parent
    while parent is not None:
        out.append(parent)
        parent = parent.parent
    return tuple(out)


def _entering(call: Callable[[Sequence[Any]], Any], also: tuple[ComponentInstanceState, ...]
              ) -> Callable[[Sequence[Any]], Any]:
    """``call`` (a lifted function's, which checks and marks its own instance) entering the
    instances ``also`` as well: the rest of the spec's ``entering_set``. Each must not be
    entered already, and is not enterable while the call runs. (A trap leaves the tree
    poisoned, its root's flag: ``ComponentInstanceState.poison``.)"""
    if not also:
        return call

    def entering(args: Sequence[Any]) -> Any:
        for inst in also:
            if not inst.may_enter:
                trap_if(True, "cannot enter component instance: it is already on the stack")
        for inst in also:
            inst.may_enter = False
        try:
            return call(args)
        finally:
            for inst in also:
                inst.may_enter = True

    return entering


def make_builtin(env: Env, d: ast.Canon, info: CanonInfo) -> core.CoreFunc:
    """The core function of a canon built-in (resources now; async ones need the async runtime)."""
    state = env.state
    store = env.store
    kind = d.kind
    if kind in ("resource.new", "resource.drop", "resource.rep"):
        assert info.resource is not None, "resource built-ins name a resource type"
        rt = env.lookup_rt(info.resource)
        # the rep's core type is the resource's (`rep i32`, or `rep i64` with 64-bit memory)
        rep_t = (info.core_type.params[0] if kind == "resource.new" and info.core_type
                 else info.core_type.results[0] if kind == "resource.rep" and info.core_type
                 else "i32")
        if kind == "resource.new":

            def new(rep: int) -> int:
                return resource_new(state, rt, rep)

            return core.new_host_func(store._core, (rep_t,), ("i32",), new)
        if kind == "resource.rep":

            def rep_(i: int) -> int:
                return resource_rep(state, rt, i)

            return core.new_host_func(store._core, ("i32",), (rep_t,), rep_)

        # The destructor is decided once: the implementing instance calls its own directly;
        # from anywhere else it must be enterable (the spec's `resource.drop`).
        owner, own_dtor = store._resource_dtors.get(rt, (None, None))
        dtor = (dtor_call(own_dtor, None) if owner is state and own_dtor is not None
                else host_drop_fn(store, rt))

        def drop(i: int) -> None:
            rep = resource_drop(state, rt, i)
            if rep is not None and dtor is not None:
                dtor(rep)

        return core.new_host_func(store._core, ("i32",), (), drop)

    params = info.core_type.params if info.core_type else ()
    results = info.core_type.results if info.core_type else ()
    unsupported = _needs_async_runtime(f"`{kind}`")
    if kind in _NO_LEAVE_CHECK:
        return core.new_host_func(store._core, params, results, unsupported)

    def guarded(*args: Any) -> Any:
        # the spec's first step of these built-ins, which needs no async runtime
        trap_if(not state.may_leave, "cannot leave component instance")
        return unsupported(*args)

    return core.new_host_func(store._core, params, results, guarded)


# The async built-ins that do not begin with the spec's ``trap_if(not inst.may_leave)``.
_NO_LEAVE_CHECK = frozenset({
    "context.get", "context.set", "backpressure.set", "backpressure.inc", "backpressure.dec",
    "thread.available-parallelism",
})


def host_drop_fn(store: Any, rt: t.ResourceType) -> Callable[[int], None] | None:
    """The destructor call for an owned ``rt`` handle dropped outside its implementing
    instance (by the host's ``ResourceAny.drop`` or another instance's ``resource.drop``),
    built once per store and type: the implementing instance must be enterable."""
    cache: dict[t.ResourceType, Callable[[int], None] | None] = store._drop_fns
    if rt in cache:
        return cache[rt]
    entry = store._resource_dtors.get(rt)
    fn: Callable[[int], None] | None = None
    if entry is not None and entry[1] is not None:
        owner, dtor = entry
        fn = dtor_call(dtor, owner) if isinstance(owner, ComponentInstanceState) else dtor
    cache[rt] = fn
    return fn


def dtor_call(func: core.CoreFunc | core.LazyExport, guard: ComponentInstanceState | None
              ) -> Callable[[int], None]:
    """``dtor(rep)``: a guest destructor's core call, made inline. With ``guard`` (a drop from
    outside the implementing instance) that instance must be enterable first."""
    site = core.resolve(func).raw_call(core.CoreFuncType(("i32",), ()))
    view, ccall, ctx, faddr, aaddr, n, trap_out, trap, gen, fail, keep = site.parts
    slots = view.cast("I")  # the rep goes into the low 4 bytes of slot 0

    def dtor(rep: int, _keep: Any = keep) -> None:
        if guard is not None and (guard.root.poisoned or not guard.may_enter):
            _poison_check(guard)
            trap_if(True, "cannot enter component instance to run a destructor")
        slots[0] = rep
        err = ccall(ctx, faddr, aaddr, n, trap_out)
        gen[0] += 1
        if err or trap.value:
            if guard is not None:
                guard.poison()  # the destructor's call entered the instance, and trapped
            raise fail(err)

    return dtor
