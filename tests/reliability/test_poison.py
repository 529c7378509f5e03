"""A trap anywhere in a call poisons the instance, as the spec's lockdown says: including one
while lowering the arguments (a ``realloc`` returning a bad pointer) and one in a destructor run
from the host (issue 16)."""

from __future__ import annotations

import pytest

from tests.exports import export_func
from wasm_component import Component, Engine, Linker, Store, Trap

from .components import MISC


def test_trap_while_lowering_arguments_poisons() -> None:
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, MISC))
    length = export_func(inst, store, "len")
    add = export_func(inst, store, "add")
    assert length(store, b"abc") == 3
    export_func(inst, store, "set-bad")(store, 1)
    with pytest.raises(Trap, match="realloc returned"):
        length(store, b"abc")
    with pytest.raises(Trap, match="trapped earlier"):
        add(store, 1, 2)


def test_host_misuse_while_lowering_does_not_poison() -> None:
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, MISC))
    with pytest.raises(TypeError):
        export_func(inst, store, "len")(store, "not bytes")
    assert export_func(inst, store, "add")(store, 1, 2) == 3
