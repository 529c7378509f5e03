"""Owned handles move exactly once, and ``ResourceAny.drop`` follows the spec's
``resource.drop``: the handle must be of this store and not lent, and it is dropped only once
its destructor has run (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest

from wasm_component import (
    Component,
    Engine,
    Linker,
    Resource,
    ResourceAny,
    ResourceTable,
    ResourceType,
    Store,
    Trap,
)

from .components import GUEST_RESOURCE, HOST_RESOURCE


class File:
    def __init__(self, fd: int) -> None:
        self.fd = fd


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _host(engine: Engine) -> tuple[Store, Any, ResourceTable, list[int]]:
    table = ResourceTable()
    dropped: list[int] = []
    linker = Linker(engine)
    root = linker.root()
    root.resource("file", ResourceType.host(File),
                  lambda store, rep: dropped.append(table.delete(rep).fd))
    root.func_wrap("[method]file.fd", lambda store, self: table.get(self).fd)
    store = Store(engine)
    return store, linker.instantiate(store, Component.new(engine, HOST_RESOURCE)), table, dropped


def test_owned_host_resource_is_consumed_when_passed(engine: Engine) -> None:
    store, inst, table, dropped = _host(engine)
    consume = inst.get_func(store, "consume")
    r = table.push(File(1))
    consume(store, r)
    assert dropped == [1] and r.moved
    newer = table.push(File(2))
    assert newer.rep == r.rep, "the table reuses the index"
    with pytest.raises(ValueError, match=r"`consume`: the owned `File` handle \(rep 0\) was "
                       r"already passed to a guest"):
        consume(store, r)
    assert dropped == [1], "the destructor ran once"
    assert table.get(newer).fd == 2, "the newer entry is untouched"


def test_borrowing_does_not_consume(engine: Engine) -> None:
    store, inst, table, _ = _host(engine)
    fd_of = inst.get_func(store, "fd-of")
    r = table.push(File(5))
    assert fd_of(store, r) == 5 and fd_of(store, r) == 5
    assert not r.moved


def _guest(engine: Engine, cb: Any = None) -> tuple[Store, Any]:
    linker = Linker(engine)
    linker.root().func_wrap("cb", cb or (lambda store: None))
    store = Store(engine)
    return store, linker.instantiate(store, Component.new(engine, GUEST_RESOURCE))


def test_drop_checks_its_store(engine: Engine) -> None:
    store, inst = _guest(engine)
    r = inst.get_func(store, "make")(store, 1)
    assert isinstance(r, ResourceAny)
    with pytest.raises(ValueError, match=r"`ResourceAny.drop`: .* belongs to a different store"):
        r.drop(Store(engine))
    with pytest.raises(TypeError, match=r"`ResourceAny.drop`: expected a Store"):
        r.drop(None)  # type: ignore[arg-type]
    r.drop(store)
    assert inst.get_func(store, "drops")(store) == 1


def test_drop_refuses_a_lent_handle(engine: Engine) -> None:
    seen: list[BaseException] = []
    held: list[ResourceAny] = []

    def cb(store: Store) -> None:
        try:
            held[0].drop(store)
        except ValueError as e:
            seen.append(e)

    store, inst = _guest(engine, cb)
    r = inst.get_func(store, "make")(store, 1)
    held.append(r)
    inst.get_func(store, "with-borrow")(store, r)
    assert len(seen) == 1 and "lent to a call in progress" in str(seen[0])
    assert r.num_lends == 0, "the lend ends with the call"
    r.drop(store)
    assert inst.get_func(store, "drops")(store) == 1


def test_trapping_destructor_does_not_lose_the_handle(engine: Engine) -> None:
    store, inst = _guest(engine)
    r = inst.get_func(store, "make")(store, 1)
    inst.get_func(store, "fail")(store, 1)
    with pytest.raises(Trap):
        r.drop(store)
    # not marked dropped: the error says why it cannot run now (poisoned), not "already dropped"
    with pytest.raises(Trap, match="cannot enter component instance"):
        r.drop(store)


def test_host_resource_of_new_own_still_works(engine: Engine) -> None:
    store, inst, table, dropped = _host(engine)
    r = table.push(File(3))
    inst.get_func(store, "consume")(store, Resource.new_own(r.rep, File))
    assert dropped == [3]


def test_a_retyped_handle_moves_with_its_original() -> None:
    """Bindings re-type host handles (``Resource.retyped``); moving the copy moves the original."""
    from wasm_component._runtime.host_handles import lower_own

    r = Resource.new_own(4, File)
    other = ResourceType.host(str)
    assert lower_own(other, r.retyped(other)) == 4
    assert r.moved
    with pytest.raises(ValueError, match="already passed to a guest"):
        lower_own(ResourceType.host(File), r)
    with pytest.raises(ValueError, match="already passed to a guest"):
        lower_own(other, r.retyped(other))
