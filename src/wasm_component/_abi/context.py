"""The ambient state every lift and lower runs in: the spec's ``LiftLowerContext`` (``cx``).

``cx.opts`` holds the canonical options of the ``canon lift``/``canon lower`` being called,
``cx.inst`` the component instance's runtime state (its handle table and reentrance flags) and
``cx.borrow_scope`` the per-call borrow bookkeeping: a :class:`Task` when values are lowered into
a callee (an export call), a :class:`Subtask` when values are lifted out of a caller (an import
call). Every sync call is a task here too, so the async runtime adds behaviour, not structure.

Host-side forms of resource handles belong to the runtime (``_runtime.host_handles``): lifting
an ``own``/``borrow`` hands ``(rt, rep)`` to ``inst.lift_own``/``inst.lift_borrow`` and lowering
asks ``inst.lower_own``/``inst.lower_borrow`` for the ``rep`` of a host value, one function per
shape (:class:`HostForms`). The defaults pass plain ``int`` reps through.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Protocol

from .. import types as t
from ..errors import Trap
from .layout import DEFAULT_HOSTCALL_FUEL

if TYPE_CHECKING:  # handles imports this module
    from .handles import ResourceHandle

__all__ = [
    "CanonicalOptions",
    "ComponentInstanceState",
    "LiftLowerContext",
    "Memory",
    "Realloc",
    "StringEncoding",
    "Subtask",
    "Task",
    "check_alloc",
    "hostcall_fuel_exhausted",
    "trap",
    "trap_if",
]

StringEncoding = Literal["utf8", "utf16", "latin1+utf16"]
Realloc = Callable[[int, int, int, int], int]


def trap(msg: str) -> NoReturn:
    raise Trap(msg)


#: wasmtime's words for a spent hostcall fuel (tests written against wasmtime match them)
HOSTCALL_FUEL_MESSAGE = ("too much data is being copied between the host and the guest: "
                         "fuel allocated for hostcalls has been exhausted")


def hostcall_fuel_exhausted(cx: LiftLowerContext) -> NoReturn:
    """The trap of a lift that would build more host values than the store's hostcall fuel
    allows (``Store.set_hostcall_fuel``; charged by the generated lifts, see ``lift.py``)."""
    raise Trap(f"{HOSTCALL_FUEL_MESSAGE} (the store allows {cx.inst.forms.hostcall_fuel} "
               f"bytes of lists and strings per lift; see `Store.set_hostcall_fuel`)")


def trap_if(cond: object, msg: str) -> None:
    """The spec's ``trap_if``, for constant messages: a message that must be formatted is
    written ``if cond: trap(f"...")`` instead, so it costs nothing unless it traps."""
    if cond:
        raise Trap(msg)


class Memory(Protocol):
    """A linear memory: ``view()`` is a writable byte view of its contents, re-fetched after
    anything that may grow memory (``realloc``). It may be shorter than the memory when the
    memory also has ``current()`` (a view as long as it is now; optional, ``view`` when
    absent): every bounds check looks again with it before it fails (``CodeGen.past_end``,
    :func:`memory_covering`)."""

    def view(self) -> memoryview: ...


@dataclass(slots=True)
class CanonicalOptions:
    """The ``canonopt`` immediates of a ``canon lift``/``canon lower``."""

    string_encoding: StringEncoding = "utf8"
    memory: Memory | None = None
    realloc: Realloc | None = None
    post_return: Callable[..., Any] | None = None
    memory64: bool = False
    async_: bool = False
    callback: Callable[..., Any] | None = None
    #: Optional fused ``allocate`` + the spec's checks (the runtime builds one per canon that
    #: makes the ``realloc`` call inline); :meth:`LiftLowerContext.alloc` uses it when present.
    alloc: Callable[[int, int], tuple[int, memoryview]] | None = None

    @property
    def ptr_type(self) -> Literal["i32", "i64"]:
        return "i64" if self.memory64 else "i32"


class HostForms(Protocol):
    """How handles look on the host side: ``lift_own``/``lift_borrow(rt, rep)`` make the host's
    value of a lifted handle, ``lower_own``/``lower_borrow(rt, value)`` give the ``rep`` of one
    being lowered; ``handle_limit`` bounds each instance's table (``None``: the spec's);
    ``hostcall_fuel`` is the store's budget for one lift (read at the start of each)."""

    handle_limit: int | None
    hostcall_fuel: int

    def lift_own(self, rt: t.ResourceType, rep: int) -> Any: ...
    def lift_borrow(self, rt: t.ResourceType, rep: int) -> Any: ...
    def lower_own(self, rt: t.ResourceType, value: Any) -> int: ...
    def lower_borrow(self, rt: t.ResourceType, value: Any) -> int: ...


class RepForms:
    """The default :class:`HostForms`: handles are their plain ``int`` reps."""

    handle_limit: int | None = None
    hostcall_fuel: int = DEFAULT_HOSTCALL_FUEL

    @staticmethod
    def lift_own(rt: t.ResourceType, rep: int) -> Any:
        return rep

    lift_borrow = lift_own

    @staticmethod
    def lower_own(rt: t.ResourceType, value: Any) -> int:
        if type(value) is not int:
            raise TypeError(f"expected a handle for resource {rt.wit()}, got "
                            f"{type(value).__name__}")
        return value

    lower_borrow = lower_own


class ComponentInstanceState:
    """The spec's ``ComponentInstance`` runtime state relevant to the Canonical ABI.

    ``handles`` is the instance's one handle table (resources now; waitables, waitable sets and
    error contexts later). ``resource_impls`` lists the resource types this instance defines
    (``lower_borrow`` passes the bare rep to their implementation). ``lift_own``,
    ``lift_borrow``, ``lower_own`` and ``lower_borrow`` convert between reps and host-side
    handle objects (those of the :class:`HostForms` given).
    """

    __slots__ = (
        "_threads",
        "backpressure",
        "closed",
        "concrete_types",
        "exclusive_thread",
        "forms",
        "handles",
        "lift_borrow",
        "lift_own",
        "lower_borrow",
        "lower_own",
        "may_enter",
        "may_leave",
        "num_waiting_to_enter",
        "parent",
        "poisoned",
        "resource_impls",
        "root",
        "sched",
    )

    def __init__(
        self, parent: ComponentInstanceState | None = None, host: HostForms | None = None
    ) -> None:
        self.parent = parent
        self.root: ComponentInstanceState = self if parent is None else parent.root
        #: Set once instantiated if no code of this instance (or of its children) can call
        #: out of it except into closed instances of the same tree: then it can never be on
        #: the stack when another instance runs (see ``_runtime.instantiate``).
        self.closed = False
        forms: HostForms = host or RepForms()
        #: the store's host forms; lifts read ``forms.hostcall_fuel`` when they start
        self.forms = forms
        # a limit set on the store (``Store.set_handle_limit``) travels on its forms
        self.handles = _Table(forms.handle_limit)
        self.may_enter = True
        self.may_leave = True
        self.backpressure = 0
        # The spec's concurrency fields (``_abi.concurrency``): the thread table (made when
        # first used), the tasks waiting to enter, the thread holding the exclusive lock.
        self._threads: Any = None
        self.num_waiting_to_enter = 0
        self.exclusive_thread: Any = None
        #: (the root's) the store's async scheduler once an async feature is instantiated in
        #: the tree (``_runtime.tasks``); ``None``: every call takes the sync path.
        self.sched: Any = None
        # (the root's) set after a trap: no instance of the tree may be entered again
        self.poisoned = False
        self.resource_impls: set[t.ResourceType] = set()
        #: (the root's) stream/future types made concrete (``LiftLowerContext.concrete_type``), by
        #: the static type's identity: ``(static type, resources, concrete type)``
        self.concrete_types: dict[int, tuple[t.Type, Any, t.Type]] = {}
        self.lift_own: Callable[[t.ResourceType, int], Any] = forms.lift_own
        self.lift_borrow: Callable[[t.ResourceType, int], Any] = forms.lift_borrow
        self.lower_own: Callable[[t.ResourceType, Any], int] = forms.lower_own
        self.lower_borrow: Callable[[t.ResourceType, Any], int] = forms.lower_borrow

    @property
    def threads(self) -> Any:
        """The spec's ``threads`` table (a :class:`~.handles.Table` of guest threads)."""
        threads = self._threads
        if threads is None:
            threads = self._threads = _Table()
        return threads

    def poison(self) -> None:
        """The spec's lockdown after a trap, for the whole tree: any entry into an instance of
        the tree also enters its root, and a trap leaves every entered instance un-enterable,
        so no instance of the tree may run again. The root keeps the flag for the tree."""
        self.root.poisoned = True


class Task:
    """A call into a component export (``canon lift``). Counts the borrow handles lowered into
    the callee (``num_borrows``); the callee must drop them all before returning."""

    __slots__ = ("ft", "host_lenders", "inst", "num_borrows", "opts", "resolved")

    def __init__(
        self,
        inst: ComponentInstanceState,
        ft: t.FuncType | None = None,
        opts: CanonicalOptions | None = None,
    ) -> None:
        self.inst = inst
        self.ft = ft
        self.opts = opts
        self.num_borrows = 0
        self.resolved = False
        #: host-held handles (``ResourceAny``) lent to the call as ``borrow`` arguments: they
        #: may not be dropped or moved until it ends (:meth:`end_lends`)
        self.host_lenders: list[Any] | None = None

    def lend(self, h: Any) -> None:
        h.num_lends += 1
        if self.host_lenders is None:
            self.host_lenders = []
        self.host_lenders.append(h)

    def end_lends(self) -> None:
        lenders = self.host_lenders
        if lenders:
            self.host_lenders = None
            for h in lenders:
                h.num_lends -= 1

    def return_(self) -> None:
        """The spec's ``Task.return_`` checks, run once the callee has produced its results."""
        trap_if(self.resolved, "task already returned")
        trap_if(self.num_borrows > 0, "borrowed handle not dropped before the call returned")
        self.resolved = True
        self.end_lends()


class Subtask:
    """A call out of a component through an import (``canon lower``). Remembers the caller's
    handles lent as ``borrow`` arguments (``lenders``) until the call resolves."""

    __slots__ = ("lenders",)

    def __init__(self) -> None:
        self.lenders: list[ResourceHandle] | None = []

    def add_lender(self, h: Any) -> None:
        assert self.lenders is not None, "borrows are only lifted before the call resolves"
        h.num_lends += 1
        self.lenders.append(h)

    def deliver_resolve(self) -> None:
        assert self.lenders is not None, "a subtask resolves once"
        for h in self.lenders:
            h.num_lends -= 1
        self.lenders = None


def current_of(memory: Memory) -> Callable[[], memoryview]:
    """``memory``'s ``current`` (a view as long as the memory now), ``view`` when it has none."""
    return getattr(memory, "current", memory.view)


def memory_covering(memory: Memory, end: int) -> memoryview | None:
    """A view of ``memory`` reaching at least ``end``, or ``None`` when the memory is shorter:
    the bounds check of code written by hand (``CodeGen.past_end`` is generated code's)."""
    m = memory.view()
    if end > len(m) and end > len(m := current_of(memory)()):
        return None
    return m


def check_alloc(ptr: int, align: int, size: int, m: memoryview) -> None:
    """The spec's checks of a pointer ``realloc`` returned: aligned, and in bounds."""
    if ptr & (align - 1):
        trap(f"realloc returned misaligned pointer {ptr:#x} (alignment {align})")
    if ptr + size > len(m):
        trap(f"realloc returned out-of-bounds range [{ptr:#x}, +{size})")


_NO_RESOURCES: dict[t.ResourceType, t.ResourceType] = {}


def _unmapped(vt: t.Type, resources: dict[t.ResourceType, t.ResourceType]) -> t.Type:
    raise AssertionError("the runtime sets `concrete_async_type` before any lowering")


#: ``vt`` (a ``stream``/``future`` type of a canon's static function type) with its abstract
#: resources made concrete per ``resources``: what a host end lowered into the guest is typed
#: with. The runtime sets it (the substitution lives in the validator, above this layer).
concrete_async_type: Callable[[t.Type, dict[t.ResourceType, t.ResourceType]], t.Type] = _unmapped


def _no_memory() -> memoryview:
    raise AssertionError("validation requires memory wherever values live in memory")


def _alloc_of(opts: CanonicalOptions, inst: ComponentInstanceState
              ) -> Callable[[int, int], tuple[int, memoryview]]:  # fmt: skip
    """A context's ``alloc`` when ``opts`` has none fused: ``allocate`` (as
    :meth:`LiftLowerContext.reallocate`) plus the spec's checks, and the fresh memory view."""

    def alloc(align: int, size: int) -> tuple[int, memoryview]:
        realloc = opts.realloc
        assert realloc is not None, "validation requires realloc wherever values are allocated"
        assert inst.may_leave, "realloc is not reentered"
        inst.may_leave = False
        try:
            ptr = realloc(0, 0, align, size)
        finally:
            inst.may_leave = True
        ptr &= 0xFFFF_FFFF_FFFF_FFFF if opts.memory64 else 0xFFFF_FFFF
        m = current_of(opts.memory)() if opts.memory is not None else _no_memory()
        check_alloc(ptr, align, size, m)
        return ptr, m

    return alloc


class LiftLowerContext:
    """The spec's ``cx``: options, instance and borrow scope of the call being adapted."""

    #: ``fuel``: what is left of the hostcall fuel of the lift under way (set when a lift that
    #: may charge starts, so no context pays for it unless it lifts lists or strings).
    __slots__ = ("_rt_from", "_rt_to", "alloc", "borrow_scope", "current", "fuel", "inst",
                 "opts", "resources", "view")

    fuel: int

    def __init__(
        self,
        opts: CanonicalOptions,
        inst: ComponentInstanceState,
        borrow_scope: Task | Subtask | None = None,
        resources: dict[t.ResourceType, t.ResourceType] | None = None,
    ) -> None:
        self.opts = opts
        self.inst = inst
        self.borrow_scope = borrow_scope
        #: The concrete resource type of each abstract one in the (static) types the adapters
        #: were generated for: adapters are made once per static function type, while resource
        #: types are made fresh per instance.
        self.resources = resources if resources is not None else _NO_RESOURCES
        # the last abstract resource type looked up in ``resources`` and its concrete one
        # (:meth:`concrete`: one identity test where a dict lookup hashed the type in Python)
        self._rt_from: t.ResourceType | None = None
        self._rt_to: t.ResourceType | None = None
        # ``alloc`` and ``view`` are bound once per context: lowering calls them per value.
        #: ``alloc(align, size) -> (ptr, view)``: ``allocate`` plus the spec's checks of the
        #: result (trapping unless aligned and in bounds), and the fresh memory view.
        #: (not the bound ``_alloc``: a context referring to itself is a cycle, garbage the
        #: cyclic GC must find, holding the store's memories until then)
        self.alloc: Callable[[int, int], tuple[int, memoryview]] = (
            opts.alloc or _alloc_of(opts, inst))
        #: ``view()``: the memory's contents, maybe short (re-fetch after anything that may
        #: grow it); ``current()``: all of them, to look again with before a bounds check
        #: fails (the ``Memory`` protocol).
        self.view: Callable[[], memoryview] = (
            opts.memory.view if opts.memory is not None else _no_memory
        )
        self.current: Callable[[], memoryview] = (
            current_of(opts.memory) if opts.memory is not None else _no_memory
        )

    def concrete(self, rt: t.ResourceType) -> t.ResourceType:
        """``rt`` of the adapters' static type made concrete (``resources``; the type itself
        when it is not mapped)."""
        if rt is self._rt_from:
            return self._rt_to  # type: ignore[return-value]
        to = self.resources.get(rt, rt)
        self._rt_from, self._rt_to = rt, to
        return to

    def reallocate(self, old: int, old_size: int, align: int, new_size: int) -> int:
        """Call the guest's ``realloc`` (with ``may_leave`` cleared, as the spec does); the
        result is returned unsigned. Bounds and alignment are checked by the caller."""
        realloc = self.opts.realloc
        assert realloc is not None, "validation requires realloc wherever values are allocated"
        inst = self.inst
        assert inst.may_leave, "realloc is not reentered"
        inst.may_leave = False
        try:
            ptr = realloc(old, old_size, align, new_size)
        finally:
            inst.may_leave = True
        return ptr & (0xFFFF_FFFF_FFFF_FFFF if self.opts.memory64 else 0xFFFF_FFFF)

    def allocate(self, align: int, size: int) -> int:
        return self.reallocate(0, 0, align, size)

    def concrete_type(self, vt: t.Type) -> t.Type:
        """``vt`` with this context's resources made concrete, worked out once per instance
        tree (a substitution walks the whole type: a wasi:http body's trailers future, with
        every resource of the interface, took about a millisecond, for each request)."""
        cache = self.inst.root.concrete_types
        hit = cache.get(id(vt))
        resources = self.resources
        if hit is not None and hit[0] is vt and hit[1] is resources:
            return hit[2]
        out = concrete_async_type(vt, resources)
        cache[id(vt)] = (vt, resources, out)  # (holding ``vt``: its id stays its own)
        return out

    def lift_async_value(self, vt: t.Type, i: int, host: bool = False) -> Any:
        """Lift a ``stream``/``future``: its readable end leaves the table; the value is the
        shared :class:`~.concurrency.SharedStream`/``SharedFuture``, or for the host (``host``)
        the public reader wrapping it when ``wasm_component.streams`` is loaded."""
        from .concurrency.builtins import lift_future, lift_stream

        if self.resources:  # the stream's built-ins are typed with the concrete resources
            vt = self.concrete_type(vt)
        if isinstance(vt, t.StreamType):
            shared: Any = lift_stream(self.inst, i, vt.payload)
        else:
            assert isinstance(vt, t.FutureType), "async values are streams and futures"
            shared = lift_future(self.inst, i, vt.payload)
        if host:
            api = _streams_api()
            if api is not None:
                notify = _notify(self.inst)
                if isinstance(vt, t.StreamType):
                    return api.lift_stream_end(shared, notify)
                return api.lift_future_end(shared, notify)
        return shared

    def lower_async_value(self, vt: t.Type, v: Any) -> int:
        """Lower a ``stream``/``future``: a new readable end of the shared object ``v`` (or of
        the public reader ``v`` wraps) in the table."""
        from .concurrency.builtins import lower_future, lower_stream
        from .concurrency.copy import SharedFuture, SharedStream

        shared = v
        if self.resources:  # a host end has the concrete type, as the stream's built-ins
            vt = self.concrete_type(vt)
        if not isinstance(v, (SharedStream, SharedFuture)):
            api = _streams_api()
            if api is not None:
                assert isinstance(vt, (t.StreamType, t.FutureType)), "async values"
                shared = api.lower_end(v, vt, _notify(self.inst))
        if isinstance(vt, t.StreamType):
            if not isinstance(shared, SharedStream) or shared.t != vt.payload:
                raise TypeError(f"expected a {vt.wit()} reader, got {type(v).__name__}")
            return lower_stream(self.inst, shared)
        assert isinstance(vt, t.FutureType), "async values are streams and futures"
        if not isinstance(shared, SharedFuture) or shared.t != vt.payload:
            raise TypeError(f"expected a {vt.wit()} reader, got {type(v).__name__}")
        return lower_future(self.inst, shared)


def _streams_api() -> Any:
    """The public stream classes' module (``wasm_component.streams``) when it is loaded: the
    runtime hands host ends through its ``lift_stream_end``/``lift_future_end``/``lower_end``
    (docs/design/async-runtime.md); without it the host sees the shared objects."""
    return sys.modules.get("wasm_component.streams")


def _notify(inst: ComponentInstanceState) -> Callable[[], None] | None:
    """What the host's ends call after an operation that may make a guest thread ready."""
    sched = inst.root.sched
    if sched is None:
        return None
    sched.host_holds_ends = True
    notify: Callable[[], None] = sched.notify
    return notify


# ``handles`` builds on the classes above; imported last so the two modules can refer to each other.
from .handles import Table as _Table  # noqa: E402
