"""The call paths: lifted guest functions, lowering trampolines, and the canon built-ins.

- :class:`LiftedFunc` is a ``canon lift``: calling it lowers Python arguments into the guest,
  makes one raw core call, lifts the results and runs ``post-return``. Entering a poisoned
  (trapped) instance or re-entering a busy one traps, as the spec requires.
- :func:`make_lowered` builds the core function for a ``canon lower``: a raw host callback that
  lifts the caller's arguments, calls the target component function (host or another guest) and
  lowers the result back into the caller, with ``may_leave`` and borrow bookkeeping.
- :data:`BUILTINS` makes the core function of each canon built-in, one maker per
  :class:`~wasm_component._translate.trampolines.Trampoline`: ``resource.new/drop/rep`` now; the
  async built-ins raise ``NotSupported`` naming themselves until the async runtime fills them in.

Each of them finds its canon's pieces in a :class:`Site`: the store, the instance's state, the
core items its canonical options name and the concrete resource types its function type names.

The per-type work is done once, here, when the function is created: the ABI adapters come from
``_abi.func`` (cached per function type), the core caller from ``core``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import types as t
from .._abi import context as _context
from .._abi.context import (
    CanonicalOptions,
    ComponentInstanceState,
    LiftLowerContext,
    Subtask,
    Task,
    check_alloc,
    trap_if,
)
from .._abi.func import FuncAbi, func_abi
from .._abi.handles import resource_drop, resource_new, resource_rep
from .._translate.trampolines import Trampoline
from .._validate.model import CanonInfo
from .._validate.typecheck import substitute
from ..errors import Trap, TrapCode
from . import core
from .items import RFunc

if TYPE_CHECKING:
    from ..resources import ResourceAny

__all__ = ["BUILTINS", "RESOURCE_BUILTINS", "HostFunc", "LiftedFunc", "Site", "lower_into",
           "make_lowered", "resource_builtin_into"]

Resources = dict[t.ResourceType, t.ResourceType]


class Site:
    """Where one canon's pieces are at run time: the core items of its canonical options
    (``memory``, ``realloc``, ``post-return``; ``None`` when absent) and the concrete resource
    type of each abstract one its function type names (``resources``, empty when none). A canon
    without either shares :data:`BARE`."""

    __slots__ = ("_opts", "callback", "memory", "post_return", "realloc", "resources", "table")

    def __init__(self, memory: Any = None, realloc: Any = None, post_return: Any = None,
                 resources: Resources | None = None, table: Any = None, callback: Any = None
                 ) -> None:
        self.memory = memory
        self.realloc = realloc
        self.post_return = post_return
        self.resources: Resources = resources or {}
        #: the core table of ``thread.new-indirect``; the ``callback`` of an async lift
        self.table = table
        self.callback = callback
        #: the options made for each (encoding, memory64, async store, instance state): see
        #: ``make_opts``
        self._opts: dict[tuple[Any, bool, bool, ComponentInstanceState], CanonicalOptions] = {}

    def concrete(self, x: Any) -> Any:
        """``x`` (a static type) with its abstract resources made concrete."""
        return substitute(x, self.resources, {}) if self.resources else x




BARE = Site()


def _concrete_async_type(vt: t.Type, resources: Resources) -> t.Type:
    out = substitute(vt, resources, {})
    assert isinstance(out, t.Type), "a substituted type is a type"
    return out


_context.concrete_async_type = _concrete_async_type


def make_opts(site: Site, info: CanonInfo, state: ComponentInstanceState) -> CanonicalOptions:
    """The canon's options, made once per site (the canons of an instance with the same
    options share one: their ``realloc`` caller is built once)."""
    if site.memory is None and site.realloc is None:
        return _make_opts(site, info, state)  # (nothing to share: ``BARE`` among them)
    key = (info.string_encoding, info.memory64, state.root.sched is not None, state)
    opts = site._opts.get(key)
    if opts is None:
        opts = site._opts[key] = _make_opts(site, info, state)
    return opts


def _make_opts(site: Site, info: CanonInfo, state: ComponentInstanceState) -> CanonicalOptions:
    memory = core.resolve(site.memory) if site.memory is not None else None
    realloc = None
    alloc: Callable[..., tuple[int, memoryview]] | None = None
    ptr = "i64" if info.memory64 else "i32"
    if site.realloc is not None:
        rty = core.CoreFuncType((ptr,) * 4, (ptr,))
        rfunc = core.resolve(site.realloc)  # (not ``site`` in the closure: it keeps these)
        invokes: list[Callable[[Sequence[Any]], tuple[Any, ...]]] = []
        in_task = state.root.sched is not None

        def invoke(args: Sequence[Any]) -> tuple[Any, ...]:
            # (the caller made at the first use: the inline ``alloc`` below is what the
            # generated code calls, so most instances never need one)
            if not invokes:
                call = rfunc.make_caller(rty)
                if in_task:
                    # the spec lifts ``realloc`` as a function of its own: a task with fresh
                    # context
                    from .tasks import in_own_task

                    call = in_own_task(state, call)
                invokes.append(call)
            return invokes[0](args)

        def realloc(a: int, b: int, c: int, d: int) -> int:
            return invoke((a, b, c, d))[0]  # type: ignore[no-any-return]

        if memory is not None and state.root.sched is None and not rfunc.store.fibers:
            view, current = memory.view, memory.current
            # the core call inline (core.InlineCall): one frame per allocation
            cview, pack, unpack, call, (ctx, faddr, aaddr, n, trap_out), trap, fail, keep = (
                rfunc.inline_call(rty))

            def alloc(align: int, size: int, _keep: Any = keep) -> tuple[int, memoryview]:
                # ``LiftLowerContext.allocate`` and ``check_alloc``, fused
                pack(cview, 0, 0, 0, align, size)
                state.may_leave = False
                try:
                    err = call(ctx, faddr, aaddr, n, trap_out)
                finally:
                    state.may_leave = True
                if err or trap.value:
                    raise fail(err)
                p: int = unpack(cview)[0]
                m = view()  # (the memory-view rule, as ``CodeGen.past_end``)
                if p & (align - 1) or (p + size > len(m) and p + size > len(m := current())):
                    check_alloc(p, align, size, m)
                return p, m
        elif memory is not None:
            view, current = memory.view, memory.current

            def alloc(align: int, size: int) -> tuple[int, memoryview]:
                # ``LiftLowerContext.allocate`` and ``check_alloc``, fused
                state.may_leave = False
                try:
                    p: int = invoke((0, 0, align, size))[0]
                finally:
                    state.may_leave = True
                m = view()  # (the memory-view rule, as ``CodeGen.past_end``)
                if p & (align - 1) or (p + size > len(m) and p + size > len(m := current())):
                    check_alloc(p, align, size, m)
                return p, m

    enc: Any = info.string_encoding
    return CanonicalOptions(enc, memory, realloc, None, info.memory64, alloc=alloc)


_new_lifted = object.__new__


def _not_enterable() -> None:
    raise Trap("cannot enter component instance: it is already on the stack",
               code=TrapCode.CANNOT_ENTER_COMPONENT)


def _poison_check(state: ComponentInstanceState) -> None:
    if state.root.poisoned:
        raise Trap("cannot enter component instance: it trapped earlier and may not be entered "
                   "again", code=TrapCode.CANNOT_ENTER_COMPONENT)


class LiftedFunc(RFunc):
    """A guest function lifted with ``canon lift`` (one per definition and instance).

    Creating one only records where its pieces are (instantiation stays cheap); the call path
    is built on the first call, and the concrete type (``ty``) when first asked for. Made by
    :meth:`deferred`, even its instance's state and its core function are found only when
    first needed (``_pending``)."""

    __slots__ = ("_abi", "_async_lift", "_func", "_host_call", "_info", "_pending", "_res",
                 "_site", "_state", "_static", "_ty", "adapter", "opts")
    _abi: FuncAbi
    _site: Site
    _async_lift: Any  # the ``tasks.AsyncLift`` of the host call path in an async store
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
    def create(site: Site, info: CanonInfo, abi: FuncAbi, name: str,
               state: ComponentInstanceState | None, func: core.CoreFunc | core.LazyExport | None,
               pending: tuple[Any, ...] | None) -> LiftedFunc:
        """``site``: where the canon's options and resource types are; ``state``: its
        instance's, and ``func`` the lifted core function. Or, for a lift of a type without
        resources, both ``None`` and ``pending`` = ``(settle, *args)``, ``settle(*args) ->
        (state, core func)``, called when either is first needed (an exported function that
        is never called costs only this object). One frame: instantiation makes one per
        lifted function."""
        f = _new_lifted(LiftedFunc)
        ft = info.func_type
        assert ft is not None, "lift has a function type"
        has_resources = bool(site.resources)
        assert pending is None or not has_resources, "a deferred lift's type has no resources"
        f._static = ft
        f._ty = None if has_resources else ft
        f._res = has_resources
        f.name = name
        f._site = site
        f._info = info
        f._abi = abi
        f.call = f._first_call
        f._host_call = None
        f._async_lift = None
        f._state = state
        f._pending = pending
        if func is not None:
            f._func = func
        return f

    def async_lift(self, sched: Any) -> Any:
        """The spec's ``FuncInst`` of this lift in an async store (``tasks.AsyncLift``):
        ``lift(on_start, on_resolve, caller) -> on_cancel``."""
        from .tasks import AsyncLift

        state = self.state
        if state.root.sched is None:
            state.root.sched = sched
        return AsyncLift(self, state.root.sched, False)

    def release(self) -> None:
        """Drop the call paths (which refer back to this function): its store is gone."""
        self.call = _released
        self._host_call = None
        lift = self._async_lift
        if lift is not None:  # (its host call path refers back to it: a cycle holding the
            lift.host_call_async = _released  # store's core, and its memories, until the GC)

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
            ty = self._ty = self._site.concrete(self._static)
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
            # from the host, the call enters the instance's ancestors too (an async store's
            # task enters them itself)
            call = self._make_call(host=True)
            if self._async_lift is None:
                call = _entering(call, _ancestors(self.state))
            self._host_call = call
        return call

    def host_call_as(self, ft: t.FuncType) -> Callable[[Sequence[Any]], Any]:
        """A host call path lifting and lowering by ``ft``: this function's type with the
        user's classes mapped in (``_abi.mapped``; made by ``typed.fit_func``), generated
        once for it."""
        abi = func_abi(ft, self._abi.enc, self._abi.pt)
        return _entering(self._make_call(host=True, abi=abi), _ancestors(self.state))

    def _make_call(self, host: bool = False, enter: bool = True, abi: FuncAbi | None = None
                   ) -> Callable[[Sequence[Any]], Any]:
        """The call path, specialised once: the core calls (the function's and post-return's)
        are made inline, and functions without ``borrow`` parameters need no per-call task (no
        borrow can be lent to the callee), so they reuse one context. ``host``: results lifted
        for the host (see ``FuncAbi.lift_results_host``). ``enter``: whether the call enters
        the function's instance (checks and marks it); not for calls from its descendants
        (donut wrapping: the spec's ``entering_set`` leaves it out then). ``abi``: adapters
        to use instead of the function's own (see ``host_call_as``)."""
        state = self.state
        ty = self.ty
        info, site = self._info, self._site
        root = state.root  # (whose flag says whether the tree trapped)
        if root.sched is not None or info.is_async:
            # a store with async features: every call is a task (``tasks``)
            from .tasks import StoreScheduler, async_lift_call

            if root.sched is None:
                root.sched = StoreScheduler()
            self._async_lift, task_call = async_lift_call(self, root.sched, host)
            return task_call
        self.opts = opts = make_opts(site, info, state)
        if abi is None:
            self.adapter = adapter = self._abi
        else:
            adapter = abi
        sig = adapter.lift_sig
        want = info.core_type
        # wasmtime's unchecked call trusts the signature it is given
        assert want is None or (tuple(want.params), tuple(want.results)) == (
            tuple(sig.params), tuple(sig.results)), "validation fixed the callee's core type"
        invoke = core.resolve(self._func).make_caller(core.CoreFuncType(sig.params, sig.results))
        post = None
        if site.post_return is not None:
            post = core.resolve(site.post_return).make_caller(core.CoreFuncType(sig.results, ()))
        lower_params = adapter.lower_params
        lift_results = adapter.lift_results_host if host else adapter.lift_results
        needs_task = adapter.has_borrow
        resources = site.resources or None
        shared_cx = LiftLowerContext(opts, state, None, resources)
        name = self
        if not needs_task:
            return self._plain_call(state, root, enter, shared_cx, adapter, host, post, sig)

        def call(args: Sequence[Any]) -> Any:
            if root.poisoned:
                _poison_check(state)
            if enter and not state.may_enter:
                raise Trap("cannot enter component instance: it is already on the stack",
                           code=TrapCode.CANNOT_ENTER_COMPONENT)
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
                results = invoke(flat)
                value = lift_results(cx, results)
                if task is not None:
                    task.return_()
                if post is not None:
                    state.may_leave = False
                    try:
                        post(results)
                    finally:
                        state.may_leave = True
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


    def _plain_call(self, state: ComponentInstanceState, root: ComponentInstanceState,
                    enter: bool, cx: LiftLowerContext, adapter: FuncAbi, host: bool,
                    post: Callable[..., Any] | None, sig: Any) -> Callable[[Sequence[Any]], Any]:
        """The call path of a function without ``borrow`` parameters (no task: one shared
        context): :meth:`_make_call`'s, generated per function type in one frame
        (``FuncAbi.plain_call``: the lowering, the core call made inline as
        ``core.InlineCall`` says, the lifting)."""
        view, pack, unpack, call_, (ctx, faddr, aaddr, n, trap_out), trap, fail, keep = (
            core.resolve(self._func).inline_call(core.CoreFuncType(sig.params, sig.results)))
        params = tuple(sig.params)
        make = adapter.plain_call(host)
        return make(state, root, enter, cx, post, view, pack, unpack, call_, ctx, faddr, aaddr,
                    n, trap_out, trap, fail, keep, core.normalize_values, params,
                    len(params), core.struct_error, _poison_check, _not_enterable, self)


def _released(args: Sequence[Any]) -> Any:
    raise ValueError("the function's store was dropped")


class HostFunc(RFunc):
    """A host function: ``style`` ``wrap`` calls ``fn(store, *args)``; ``new`` calls
    ``fn(store, params: list[Val], results: list[Val])`` filling ``results`` in place.

    One per linker definition and import, shared by every store it is instantiated in (a new
    store makes none): a call path is for one store, :meth:`call_in`, made when the function
    is first called there."""

    __slots__ = ("fn", "mapping", "style", "views")

    def __init__(self, fn: Any, ty: t.FuncType, name: str, style: str,
                 views: tuple[type | None, ...] | None = None, mapping: Any = None) -> None:
        super().__init__(ty, name)
        self.fn = fn
        self.style = style
        #: ``mapping(ft)``: ``ft`` with the user's classes ``fn`` is annotated with mapped in
        #: (``typed.HostMapping``), or None when it names none
        self.mapping = mapping
        #: per parameter, the lazy view class (``WasmStr``/``WasmList``) ``fn`` takes, if any
        self.views = views
        self.call = _needs_store

    def call_in(self, store: Any) -> Callable[[Sequence[Any]], Any]:
        # Weakly: the store (through its instances) keeps the call path, so a strong
        # reference would put every store in a cycle, freed only by the cyclic GC.
        owner = weakref.ref(store)
        fn = self.fn
        if self.style == "wrap":

            def call(args: Sequence[Any]) -> Any:
                return fn(owner(), *args)

            return call

        def call_new(args: Sequence[Any]) -> Any:
            return self._call_host(owner(), args)

        return call_new

    def host_call_in(self, store: Any) -> Callable[[Sequence[Any]], Any]:
        return self.call_in(store)

    def _call_host(self, store: Any, args: Sequence[Any]) -> Any:
        from ..values import Val

        params = [Val(ty, v) for (_, ty), v in zip(self.ty.params, args, strict=True)]
        results = [Val(self.ty.result, None)] if self.ty.result is not None else []
        self.fn(store, params, results)
        if not results:
            return None
        r = results[0]
        if not isinstance(r, Val):
            raise TypeError(f"host function `{self.name}`: expected results[0] to be a Val")
        return r.value


def _needs_store(args: Sequence[Any]) -> Any:
    raise AssertionError("a host function is called through `call_in(store)`")


def make_lowered(store: Any, site: Site, state: ComponentInstanceState, info: CanonInfo,
                 target: RFunc, abi: FuncAbi) -> core.CoreFunc:
    """The core function of a ``canon lower`` of ``target`` (``abi``: the adapters of the
    static type). Its Python side is built at the first call (many imports are never called)."""
    if info.is_async:
        from .tasks import async_lowered

        return async_lowered(store, site, state, info, target, abi)
    sig = abi.lower_sig
    return core.new_lazy_host_func(store._core, sig.params, sig.results,
                                   _lowered_builder(store, site, state, info, target, abi),
                                   may_suspend=store._core.fibers)


def lower_into(wiring: core.Wiring, e: int, store: Any, owner: Any, site: Site,
               state: ComponentInstanceState, info: CanonInfo, target: RFunc, abi: FuncAbi
               ) -> None:
    """:func:`make_lowered` for a function only the plan's core instances import: made
    straight into entry ``e`` of their imports array (``core.Wiring.lazy_host_func``);
    ``owner``: the store, weakly."""
    if info.is_async or store._core.fibers:  # (a store with fibers: one that may suspend)
        wiring.put(e, make_lowered(store, site, state, info, target, abi))
        return
    sig = abi.lower_sig
    wiring.lazy_host_func(e, sig.params, sig.results, _build_lowered,
                          (owner, site, state, info, target, abi))


def _build_lowered(owner: Any, site: Site, state: ComponentInstanceState, info: CanonInfo,
                   target: RFunc, abi: FuncAbi, on_fiber: bool = False) -> Callable[..., Any]:
    """A sync lower's call path, made at its first call (``owner``: the store, weakly;
    ``on_fiber``: whether the store had fibers when the function was made)."""
    store = owner()
    if state.root.sched is not None or (isinstance(target, LiftedFunc)
                                        and target._info.is_async):
        # a store with async features: the spec's Subtask
        from .tasks import async_lowered_call

        return async_lowered_call(store, site, state, info, target, abi, on_fiber)
    return _lowered_call(site, state, info, abi, target, store)


def _lowered_builder(store: Any, site: Site, state: ComponentInstanceState, info: CanonInfo,
                     target: RFunc, abi: FuncAbi) -> Callable[[], Callable[..., Any]]:
    """What makes a sync lower's call path at its first call."""
    owner = weakref.ref(store)  # (the store keeps this function: no cycle through it)
    # in a store with fibers, waiting for the callee suspends the caller's fiber
    on_fiber = store._core.fibers

    def build() -> Callable[..., Any]:
        return _build_lowered(owner, site, state, info, target, abi, on_fiber)

    return build


def _lowered_call(site: Site, state: ComponentInstanceState, info: CanonInfo,
                  adapter: FuncAbi, target: RFunc, store: Any) -> Callable[..., Any]:
    """A sync lower's call path: one generated function (``FuncAbi.lowered_call``) from the
    guest's flat arguments to its flat result."""
    opts = make_opts(site, info, state)
    if isinstance(target, HostFunc) and target.mapping is not None:
        # annotated with the user's classes: adapters generated for them
        adapter = func_abi(target.mapping(adapter.ft), adapter.enc, adapter.pt)
    # A host function gets plain values; another component's gets what its lowering needs.
    host = isinstance(target, HostFunc)
    call = target.call_in(store)
    lift_params = None
    how = "call"
    wrapped = None
    if isinstance(target, HostFunc) and target.views:
        from ..views import view_call

        lift_params, call = view_call(adapter.ft, target.views, adapter.lower_sig.params_spilled,
                                      call)
        how = "lifted"
    elif isinstance(target, HostFunc) and target.style == "wrap":
        # a plain ``func_wrap`` host function is called straight: ``fn(store, *args)``, the
        # store held weakly (it keeps this function)
        how, wrapped = "wrap", target.fn
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
    # With them, each call needs a subtask that holds its lends until it resolves.
    resources = site.resources or None
    shared_cx = LiftLowerContext(opts, state, None, resources)
    spare = (LiftLowerContext(opts, state, Subtask(), resources) if adapter.has_borrow
             else None)

    def new_cx() -> LiftLowerContext:
        return LiftLowerContext(opts, state, Subtask(), resources)

    name = target.name or "import"

    def bad_result(e: Exception) -> None:
        raise type(e)(f"function `{name}` returned a bad value: {e}") from None

    # a host function sees which instance called it (``Store.calling_instance``)
    caller = store._host_handles if host else None
    return adapter.lowered_call(how, host)(
        state, shared_cx, spare, new_cx, call, wrapped,
        weakref.ref(store), caller, lift_params, bad_result, _cannot_leave)


def _cannot_leave() -> None:
    trap_if(True, "cannot leave component instance")


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
                raise Trap("cannot enter component instance: it is already on the stack",
                           code=TrapCode.CANNOT_ENTER_COMPONENT)
        for inst in also:
            inst.may_enter = False
        try:
            return call(args)
        finally:
            for inst in also:
                inst.may_enter = True

    return entering


Builtin = Callable[[Any, ComponentInstanceState, Trampoline, CanonInfo, Any, Any], core.CoreFunc]


def _resource_sig(kind: Trampoline, info: CanonInfo) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The core signature of a ``resource.new`` / ``resource.rep`` / ``resource.drop``."""
    if kind is Trampoline.RESOURCE_DROP:
        return ("i32",), ()
    assert info.core_type is not None, "validated: `resource.new` and `resource.rep` have one"
    if kind is Trampoline.RESOURCE_NEW:
        return tuple(info.core_type.params), ("i32",)
    return ("i32",), tuple(info.core_type.results)


def _resource_callback(store: Any, state: ComponentInstanceState, kind: Trampoline,
                       rt: t.ResourceType) -> Callable[[int], Any]:
    """What a ``resource.*`` built-in of ``state``'s instance does, for ``rt``."""
    if kind is Trampoline.RESOURCE_NEW:

        def new(rep: int) -> int:
            return resource_new(state, rt, rep)

        return new
    if kind is Trampoline.RESOURCE_REP:

        def rep_(i: int) -> int:
            return resource_rep(state, rt, i)

        return rep_
    # The destructor is decided once: the implementing instance calls its own directly;
    # from anywhere else it must be enterable (the spec's `resource.drop`).
    owner, own_dtor = store._resource_dtors.get(rt, (None, None))
    dtor = (dtor_call(own_dtor, None) if owner is state and own_dtor is not None
            else host_drop_fn(store, rt))

    def drop(i: int) -> None:
        rep = resource_drop(state, rt, i)
        if rep is not None and dtor is not None:
            dtor(rep)

    return drop


def _resource_builtin(store: Any, state: ComponentInstanceState, kind: Trampoline,
                      info: CanonInfo, rt: t.ResourceType | None, site: Site = BARE
                      ) -> core.CoreFunc:
    assert rt is not None, "validated: a `resource.*` built-in names a resource"
    params, results = _resource_sig(kind, info)
    return core.new_host_func(store._core, params, results,
                              _resource_callback(store, state, kind, rt))


#: The built-ins :func:`resource_builtin_into` makes.
RESOURCE_BUILTINS = frozenset({Trampoline.RESOURCE_NEW, Trampoline.RESOURCE_REP,
                               Trampoline.RESOURCE_DROP})


def resource_builtin_into(wiring: core.Wiring, e: int, owner: Any,
                          state: ComponentInstanceState, kind: Trampoline, info: CanonInfo,
                          rt: t.ResourceType) -> None:
    """A ``resource.*`` built-in only the plan's core instances import, made straight into
    entry ``e`` of their imports array; what it does is decided at its first call (``owner``:
    the store, weakly)."""
    params, results = _resource_sig(kind, info)
    wiring.lazy_host_func(e, params, results, _weak_resource_callback, (owner, state, kind, rt))


def _weak_resource_callback(owner: Any, state: ComponentInstanceState, kind: Trampoline,
                            rt: t.ResourceType) -> Callable[[int], Any]:
    return _resource_callback(owner(), state, kind, rt)


def _builtins() -> dict[Trampoline, Builtin]:
    from .tasks import ASYNC_BUILTINS, not_built

    table: dict[Trampoline, Builtin] = {k: not_built for k in Trampoline}
    table.update(ASYNC_BUILTINS)
    for kind in RESOURCE_BUILTINS:
        table[kind] = _resource_builtin
    return table


#: The maker of each built-in's core function: ``BUILTINS[kind](store, state, kind, info, rt,
#: site)``, ``rt`` the concrete resource type of a ``resource.*`` built-in, ``site`` the canon
#: options' items of an async one (``tasks.ASYNC_BUILTINS``).
BUILTINS: dict[Trampoline, Builtin] = _builtins()


def host_drop_fn(store: Any, rt: t.ResourceType) -> Callable[[int], None] | None:
    """The destructor call for an owned ``rt`` handle dropped outside its implementing
    instance (by another instance's ``resource.drop``), built once per store and type: the
    implementing instance must be enterable."""
    cache: dict[Any, Callable[[int], None] | None] = store._drop_fns
    if rt in cache:
        return cache[rt]
    entry = store._resource_dtors.get(rt)
    fn: Callable[[int], None] | None = None
    if entry is not None and entry[1] is not None:
        owner, dtor = entry
        fn = dtor_call(dtor, owner) if isinstance(owner, ComponentInstanceState) else dtor
    cache[rt] = fn
    return fn


def host_drop_call(store: Any, rt: t.ResourceType, mine: object
                   ) -> Callable[[Any, int], bool] | None:
    """``drop(store, rep)`` for the host's ``ResourceAny.drop`` of an owned ``rt`` handle
    (``None`` when the type has no destructor): it checks that ``store`` is the handle's (its
    ``_handles``, made by then, is ``mine``), enters it (its lock: one thread at a time) and
    runs the destructor (:func:`host_drop_fn`: a guest's checks its instance is enterable).
    Returns ``False``, running nothing, for anything but its own store (the caller says what
    is wrong). Built once per store and type (``HostHandles.owned_class`` keeps it); the hot
    path of a guest type's drop is :func:`owned_handle_class`'s instead."""
    run = host_drop_fn(store, rt)
    if run is None:
        return None
    lock = store._lock

    def drop(store: Any, rep: int) -> bool:
        if getattr(store, "_handles", None) is not mine:
            return False
        with lock:
            run(rep)
        return True

    return drop


def owned_handle_class(store: Any, rt: t.ResourceType, mine: object, base: type[ResourceAny]
                       ) -> type[ResourceAny]:
    """The class of the host's owned ``rt`` handles (``base``: ``ResourceAny``), made once per
    store and type: where the destructor's core call can be made inline (a guest type with a
    destructor, a store without fibers) a subclass whose ``drop`` is the whole of a drop in
    one frame: the handle's store (``store._handles``, a slot, is ``mine``), the lock, the
    checks (not dropped, not lent, the implementing instance enterable), the call
    (core.SinkSite). Any check that fails takes ``base``'s ``_drop_checked``, which says
    what is wrong in the spec's order. Elsewhere ``base`` itself."""
    entry = store._resource_dtors.get(rt)
    if (entry is None or entry[1] is None or not isinstance(entry[0], ComponentInstanceState)
            or store._core.fibers):  # (guest calls of a store with fibers run on fibers)
        return base
    guard, dtor = entry
    root = guard.root
    enter, leave = store._lock.acquire, store._lock.release
    slot, put_slow, call, (ctx, faddr, aaddr, n, trap_out), trap, fail, keep = (
        core.resolve(dtor).sink_site())

    def drop(self: Any, store: Any) -> None:
        try:
            handles = store._handles
        except AttributeError:
            handles = None
        if handles is not mine:
            self._drop_checked(store)
            return
        enter()  # (not ``with lock``: the explicit calls cost half)
        try:
            if self._dropped or self.num_lends:
                self._drop_checked(store)  # (raises; the lock is reentrant)
                return
            if root.poisoned or not guard.may_enter:
                _poison_check(guard)
                trap_if(True, "cannot enter component instance to run a destructor")
            rep = self._rep
            try:
                slot[0] = rep
            except (TypeError, ValueError):
                put_slow(rep)
            err = call(ctx, faddr, aaddr, n, trap_out)
            if err or trap.value:
                guard.poison()  # the destructor's call entered the instance, and trapped
                raise fail(err)
            self._dropped = True
        finally:
            leave()

    drop.__doc__ = base.drop.__doc__
    drop.__qualname__ = f"{base.__qualname__}.drop"
    return type(base.__name__, (base,), {
        "__slots__": (), "__module__": base.__module__, "__qualname__": base.__qualname__,
        "__doc__": base.__doc__, "drop": drop, "_keep": keep})


# the function type the spec lifts a destructor with (``canon_resource_drop``)
_DTOR_FT = t.FuncType((("rep", t.U32),), None)


def dtor_call(func: core.CoreFunc | core.LazyExport, guard: ComponentInstanceState | None
              ) -> Callable[[int], None]:
    """``dtor(rep)``: a guest destructor's core call. With ``guard`` (a drop from outside the
    implementing instance) that instance must be enterable first."""
    invoke = core.resolve(func).make_sink()
    own: list[Callable[[Sequence[Any]], Any]] = []

    def dtor(rep: int) -> None:
        if guard is not None and (guard.root.poisoned or not guard.may_enter):
            _poison_check(guard)
            trap_if(True, "cannot enter component instance to run a destructor")
        try:
            if guard is not None and guard.root.sched is not None:
                # the spec lifts the destructor in the implementing instance (a task of its
                # own there): the built-ins it calls must not see the dropping instance's task
                if not own:
                    from .tasks import in_own_task

                    own.append(in_own_task(guard, lambda a: invoke(a[0]), _DTOR_FT))
                own[0]((rep,))
            else:
                invoke(rep)
        except BaseException:
            if guard is not None:
                guard.poison()  # the destructor's call entered the instance, and trapped
            raise

    return dtor
