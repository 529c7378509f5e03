"""Handle tables and resource handles, as the guest sees them (CanonicalABI.md "Table State",
"Resource State", ``lift_own``/``lift_borrow``/``lower_own``/``lower_borrow`` and the
``resource.new``/``resource.drop``/``resource.rep`` built-ins).

The ``i32`` a guest holds for a resource is an index into its instance's :class:`Table`; the
table enforces the ownership and borrowing rules (index 0 reserved, a free list, lend counts,
borrows scoped to a call) by trapping.
"""

from __future__ import annotations

from typing import Any

from .. import types as t
from .context import ComponentInstanceState, LiftLowerContext, Subtask, Task, trap, trap_if

__all__ = [
    "ErrorContext",
    "ResourceHandle",
    "Table",
    "lift_borrow",
    "lift_borrow_value",
    "lift_borrow_values",
    "lift_error_context",
    "lift_own",
    "lift_own_value",
    "lower_borrow",
    "lower_error_context",
    "lower_own",
    "resource_drop",
    "resource_new",
    "resource_rep",
]


class Table:
    """A growable array of elements addressed by ``i32`` index; 0 is never a valid index."""

    __slots__ = ("array", "free", "limit")

    MAX_LENGTH = 2**28 - 1

    def __init__(self, limit: int | None = None) -> None:
        self.array: list[Any] = [None]
        self.free: list[int] = []
        #: the most live elements (``Store.set_handle_limit``; the spec's bound by default)
        self.limit = Table.MAX_LENGTH if limit is None else limit

    def __iter__(self) -> Any:
        return (e for e in self.array if e is not None)

    def get(self, i: int) -> Any:
        if i >= len(self.array):
            trap(f"handle index {i} out of bounds")
        e = self.array[i]
        if e is None:
            trap(f"handle index {i} is not in use")
        return e

    def add(self, e: Any) -> int:
        if self.free:
            i = self.free.pop()
            assert self.array[i] is None, "free list only holds holes"
            self.array[i] = e
        else:
            i = len(self.array)
            if i > self.limit:
                trap("handle table full" if self.limit == Table.MAX_LENGTH else
                     f"handle table full (the store's limit is {self.limit} handles per "
                     "component instance)")
            self.array.append(e)
        return i

    def remove(self, i: int) -> Any:
        array = self.array
        e = array[i] if i < len(array) else None  # (``get``, inline)
        if e is None:
            self.get(i)  # (traps, saying why)
        array[i] = None
        self.free.append(i)
        return e


class ResourceHandle:
    """An element of the handle table standing for a resource (``own`` or ``borrow``)."""

    __slots__ = ("borrow_scope", "num_lends", "own", "rep", "rt")

    def __init__(
        self, rt: t.ResourceType, rep: int, own: bool, borrow_scope: Task | None = None
    ) -> None:
        self.rt = rt
        self.rep = rep
        self.own = own
        self.borrow_scope = borrow_scope
        self.num_lends = 0

    def __repr__(self) -> str:
        kind = "own" if self.own else "borrow"
        return f"ResourceHandle({kind}<{self.rt.wit()}>, rep={self.rep}, lends={self.num_lends})"


class ErrorContext:
    """An ``error-context`` value (its debug message is host-chosen)."""

    __slots__ = ("debug_message",)

    def __init__(self, debug_message: str = "") -> None:
        self.debug_message = debug_message


def _resource_handle(e: Any, rt: t.ResourceType, i: int) -> ResourceHandle:
    if not isinstance(e, ResourceHandle):
        trap(f"handle index {i} is not a resource")
    assert isinstance(e, ResourceHandle)
    if e.rt != rt:
        trap(f"handle index {i} is a {e.rt.wit()}, expected a {rt.wit()}")
    return e


def lift_own(cx: LiftLowerContext, i: int, rt: t.ResourceType) -> int:
    """Take an owned handle out of the guest's table (ownership moves out) and return its rep."""
    h = _resource_handle(cx.inst.handles.get(i), rt, i)
    if h.num_lends != 0:
        trap(f"handle index {i} is lent out and cannot be moved")
    if not h.own:
        trap(f"handle index {i} is a borrow, expected an own")
    cx.inst.handles.remove(i)
    return h.rep


def lift_borrow(cx: LiftLowerContext, i: int, rt: t.ResourceType) -> int:
    """Read the rep of a handle lent for the duration of an import call (the call's subtask
    holds the lend until it resolves)."""
    scope = cx.borrow_scope
    assert isinstance(scope, Subtask), "borrows are lifted out of a caller (an import call)"
    h = _resource_handle(cx.inst.handles.get(i), rt, i)
    scope.add_lender(h)
    return h.rep


def lift_own_value(cx: LiftLowerContext, i: int, rt: t.ResourceType) -> Any:
    """:func:`lift_own` of handle ``i`` (``rt`` of the static type, made concrete by
    ``cx.resources``), as the instance's host-side form (``inst.lift_own``)."""
    if cx.resources:
        rt = cx._rt_to if rt is cx._rt_from else cx.concrete(rt)  # type: ignore[assignment]
    return cx.inst.lift_own(rt, lift_own(cx, i, rt))


def lift_borrow_value(cx: LiftLowerContext, i: int, rt: t.ResourceType) -> Any:
    """:func:`lift_borrow` of handle ``i`` (``rt`` as for :func:`lift_own_value`), as the
    instance's host-side form (``inst.lift_borrow``); the common case inline."""
    if cx.resources:
        rt = cx._rt_to if rt is cx._rt_from else cx.concrete(rt)  # type: ignore[assignment]
    inst = cx.inst
    try:
        h = inst.handles.array[i]  # (``i`` is a u32: never negative)
    except IndexError:
        h = None
    if h.__class__ is ResourceHandle and h.rt is rt:
        lenders = cx.borrow_scope.lenders  # type: ignore[union-attr]
        if lenders is not None:
            h.num_lends += 1
            lenders.append(h)
            return inst.lift_borrow(rt, h.rep)
    return inst.lift_borrow(rt, lift_borrow(cx, i, rt))


def lift_borrow_values(cx: LiftLowerContext, m: memoryview, p: int, n: int,
                       rt: t.ResourceType) -> list[Any]:
    """:func:`lift_borrow_value` of each of the ``n`` handle indices at ``p`` in memory view
    ``m`` (a ``list<borrow<..>>``'s elements, bounds and alignment checked by the caller), in
    order, the loop in one frame: the common case inline, anything else (a trap) through
    :func:`lift_borrow`."""
    if cx.resources:
        rt = cx._rt_to if rt is cx._rt_from else cx.concrete(rt)  # type: ignore[assignment]
    inst = cx.inst
    array, lift = inst.handles.array, inst.lift_borrow
    scope = cx.borrow_scope
    out = []
    for i in m[p:p + 4 * n].cast("I"):
        h = array[i] if i < len(array) else None
        lenders = scope.lenders  # type: ignore[union-attr]  # (made by the first lend)
        if h.__class__ is ResourceHandle and h.rt is rt and lenders is not None:
            h.num_lends += 1
            lenders.append(h)
            out.append(lift(rt, h.rep))
        else:
            out.append(lift(rt, lift_borrow(cx, i, rt)))
    return out


def lower_own(cx: LiftLowerContext, rep: int, rt: t.ResourceType) -> int:
    return cx.inst.handles.add(ResourceHandle(rt, rep, True))


def lower_borrow(cx: LiftLowerContext, rep: int, rt: t.ResourceType) -> int:
    scope = cx.borrow_scope
    assert isinstance(scope, Task), "borrows are lowered into a callee (an export call)"
    if rt in cx.inst.resource_impls:
        return rep
    h = ResourceHandle(rt, rep, False, scope)
    scope.num_borrows += 1
    return cx.inst.handles.add(h)


def resource_new(inst: ComponentInstanceState, rt: t.ResourceType, rep: int) -> int:
    """``canon resource.new``: a new owning handle for ``rep``."""
    trap_if(not inst.may_leave, "cannot leave the component instance now")
    return inst.handles.add(ResourceHandle(rt, rep, True))


def resource_drop(inst: ComponentInstanceState, rt: t.ResourceType, i: int) -> int | None:
    """``canon resource.drop``: remove handle ``i``. Returns the rep whose destructor the caller
    must now run (for an owning handle), or ``None`` for a borrow."""
    trap_if(not inst.may_leave, "cannot leave the component instance now")
    h = _resource_handle(inst.handles.get(i), rt, i)
    if h.num_lends != 0:
        trap(f"cannot drop handle index {i} while it is lent out")
    inst.handles.remove(i)
    if h.own:
        assert h.borrow_scope is None, "owning handles are not scoped"
        return h.rep
    assert h.borrow_scope is not None, "borrow handles belong to the task they were lent to"
    h.borrow_scope.num_borrows -= 1
    return None


def resource_rep(inst: ComponentInstanceState, rt: t.ResourceType, i: int) -> int:
    """``canon resource.rep``."""
    return _resource_handle(inst.handles.get(i), rt, i).rep


def lift_error_context(cx: LiftLowerContext, i: int) -> ErrorContext:
    e = cx.inst.handles.get(i)
    if not isinstance(e, ErrorContext):
        trap(f"handle index {i} is not an error-context")
    return e


def lower_error_context(cx: LiftLowerContext, v: Any) -> int:
    if not isinstance(v, ErrorContext):
        raise TypeError(f"expected error-context, got {type(v).__name__}")
    return cx.inst.handles.add(v)
