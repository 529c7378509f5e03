"""Handle tables and resource handles: ownership moves, borrow scopes, lend counts."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from wasm_component import types as t
from wasm_component._abi import (
    ComponentInstanceState,
    Subtask,
    Table,
    Task,
    canon_lift_sync,
    canon_lower_sync,
    func_abi,
    lift_flat,
    lower_flat,
    resource_drop,
    resource_new,
    resource_rep,
)
from wasm_component.errors import Trap

from .support import make_cx


def handle(flat: Sequence[int | float]) -> int:
    """The one flat value an own/borrow handle lowers to: an i32."""
    [h] = flat
    assert isinstance(h, int), f"a handle lowers to one i32, got {h!r}"
    return h

R = t.ResourceType.fresh("r", "guest")
S = t.ResourceType.fresh("s", "guest")


def test_table_reserves_zero_and_reuses_holes() -> None:
    tab = Table()
    assert [tab.add(x) for x in "abc"] == [1, 2, 3]
    assert tab.remove(2) == "b"
    assert tab.add("d") == 2
    for bad in (0, 2**28, 4):
        with pytest.raises(Trap):
            tab.get(bad)


def test_own_moves_out_and_traps_when_lifted_twice() -> None:
    cx, _ = make_cx()
    i = resource_new(cx.inst, R, 42)
    assert lift_flat(cx, t.OwnType(R), [i]) == 42
    with pytest.raises(Trap):
        lift_flat(cx, t.OwnType(R), [i])
    j = resource_new(cx.inst, R, 7)
    with pytest.raises(Trap, match="expected a"):
        lift_flat(cx, t.OwnType(S), [j])
    assert j == i  # the freed slot is reused
    k = handle(lower_flat(cx, t.OwnType(R), 42))
    assert resource_rep(cx.inst, R, k) == 42


def test_borrow_lend_counts_and_drop_of_lent_handle() -> None:
    cx, _ = make_cx(scope="subtask")
    i = resource_new(cx.inst, R, 5)
    assert lift_flat(cx, t.BorrowType(R), [i]) == 5
    with pytest.raises(Trap, match="lent"):
        resource_drop(cx.inst, R, i)
    with pytest.raises(Trap, match="lent"):
        lift_flat(cx, t.OwnType(R), [i])
    assert isinstance(cx.borrow_scope, Subtask)
    cx.borrow_scope.deliver_resolve()
    assert resource_drop(cx.inst, R, i) == 5  # the caller now runs the destructor


def test_list_of_borrows_lends_each_element_in_order_and_traps_on_a_bad_one() -> None:
    cx, mem = make_cx(scope="subtask")
    reps = [11, 12, 13]
    idxs = [resource_new(cx.inst, R, rep) for rep in reps]
    lt = t.ListType(t.BorrowType(R))
    mem.data[64:76] = b"".join(i.to_bytes(4, "little") for i in idxs)
    assert lift_flat(cx, lt, [64, 3]) == reps
    assert isinstance(cx.borrow_scope, Subtask)
    assert cx.borrow_scope.lenders is not None
    assert [h.rep for h in cx.borrow_scope.lenders] == reps  # each one lent, in order
    with pytest.raises(Trap, match="lent"):
        resource_drop(cx.inst, R, idxs[1])
    cx.borrow_scope.deliver_resolve()
    assert resource_drop(cx.inst, R, idxs[1]) == 12
    cx2, mem2 = make_cx(scope="subtask")
    i, j = resource_new(cx2.inst, R, 1), resource_new(cx2.inst, S, 2)
    mem2.data[64:72] = i.to_bytes(4, "little") + j.to_bytes(4, "little")
    with pytest.raises(Trap, match="expected a"):  # the second is a handle to another type
        lift_flat(cx2, lt, [64, 2])
    mem2.data[68:72] = (999).to_bytes(4, "little")
    with pytest.raises(Trap):  # no such handle
        lift_flat(cx2, lt, [64, 2])


def test_list_of_one_borrow_lends_it_and_traps_like_a_longer_list() -> None:
    # (one element is read straight out of memory, not through a slice: the same rules)
    lt = t.ListType(t.BorrowType(R))
    cx, mem = make_cx(scope="subtask")
    i, j = resource_new(cx.inst, R, 21), resource_new(cx.inst, S, 22)
    mem.data[64:68] = i.to_bytes(4, "little")
    assert lift_flat(cx, lt, [64, 1]) == [21]
    assert isinstance(cx.borrow_scope, Subtask) and cx.borrow_scope.lenders is not None
    assert [h.rep for h in cx.borrow_scope.lenders] == [21]
    with pytest.raises(Trap, match="lent"):
        resource_drop(cx.inst, R, i)
    assert lift_flat(cx, lt, [64, 0]) == []
    for bad, why in ((j, "expected a"), (0, "not in use"), (999, "handle index 999"),
                     (2**32 - 1, "handle index 4294967295")):
        mem.data[64:68] = bad.to_bytes(4, "little")
        with pytest.raises(Trap, match=why):
            lift_flat(cx, lt, [64, 1])
    mem.data[64:68] = i.to_bytes(4, "little")
    with pytest.raises(Trap, match="misaligned"):
        lift_flat(cx, lt, [66, 1])
    with pytest.raises(Trap, match="out of bounds"):
        lift_flat(cx, lt, [len(mem.data), 1])


def test_borrow_must_be_dropped_before_return() -> None:
    cx, _ = make_cx()
    ft = t.FuncType((("self", t.BorrowType(R)),), t.U32)
    abi = func_abi(ft)
    with pytest.raises(Trap, match="borrowed handle not dropped"):
        canon_lift_sync(cx, abi, lambda flat: [flat[0]], [99])
    cx2, _ = make_cx()

    def callee(flat: list[int | float]) -> list[int | float]:
        h = flat[0]
        assert isinstance(h, int)
        assert resource_rep(cx2.inst, R, h) == 99
        assert resource_drop(cx2.inst, R, h) is None
        return [7]

    assert canon_lift_sync(cx2, func_abi(ft), callee, [99]) == 7
    assert isinstance(cx2.borrow_scope, Task) and cx2.borrow_scope.num_borrows == 0


def test_borrow_to_implementation_passes_rep() -> None:
    cx, _ = make_cx()
    cx.inst.resource_impls.add(R)
    assert lower_flat(cx, t.BorrowType(R), 1234) == [1234]
    assert isinstance(cx.borrow_scope, Task) and cx.borrow_scope.num_borrows == 0


def test_import_call_lends_for_the_call_only() -> None:
    cx, _ = make_cx(scope="subtask")
    inst = cx.inst
    i = resource_new(inst, R, 3)
    ft = t.FuncType((("r", t.BorrowType(R)),), t.OwnType(R))
    seen = []

    def host(args: list[object]) -> object:
        seen.append(args[0])
        with pytest.raises(Trap, match="lent"):
            resource_drop(inst, R, i)
        return 11

    j = handle(canon_lower_sync(cx, func_abi(ft), host, [i]))
    assert seen == [3]
    assert resource_rep(inst, R, j) == 11
    assert resource_drop(inst, R, i) == 3


def test_resource_callbacks_and_wrong_kind() -> None:
    cx, _ = make_cx()
    inst: ComponentInstanceState = cx.inst
    inst.lift_own = lambda rt, rep: ("handle", rt.name, rep, True)
    inst.lower_own = lambda rt, v: v[2]
    i = resource_new(inst, R, 8)
    assert lift_flat(cx, t.OwnType(R), [i]) == ("handle", "r", 8, True)
    j = handle(lower_flat(cx, t.OwnType(R), ("handle", "r", 9, True)))
    assert resource_rep(inst, R, j) == 9
    with pytest.raises(Trap):
        resource_rep(inst, S, j)
    inst.may_leave = False
    with pytest.raises(Trap):
        resource_new(inst, R, 1)
