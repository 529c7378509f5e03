"""One linker serves WASI 0.2 and 0.3 side by side (``add_wasip2`` + ``add_wasip3``), over one
store context: a component importing the same interfaces at both versions gets the same clock
and draws from the same random source in call order. Each ``add_*`` defines its own version
only."""

from __future__ import annotations

import random

import pytest

from wasm_component import Component, Engine, Linker, LinkError, Store
from wasm_component.wasi import WasiConfig

IMPORTS = [("c2", "wasi:clocks/monotonic-clock@0.2.3", "now"),
           ("c3", "wasi:clocks/monotonic-clock@0.3.0", "now"),
           ("r2", "wasi:random/random@0.2.3", "get-random-u64"),
           ("r3", "wasi:random/random@0.3.0", "get-random-u64")]


def both_versions_wat() -> str:
    """A component exporting ``c2``/``c3``/``r2``/``r3``: each calls one ``-> u64`` import."""
    imports = "".join(f'(import "{iface}" (instance ${n} (export "{f}" (func (result u64)))))'
                      for n, iface, f in IMPORTS)  # fmt: skip
    imports += "".join(f'(core func ${n}f (canon lower (func ${n} "{f}")))'
                       for n, _, f in IMPORTS)  # fmt: skip
    core_imports = "".join(f'(import "" "{n}" (func ${n} (result i64)))' for n, _, _ in IMPORTS)
    core_imports += "".join(f'(func (export "{n}") (result i64) call ${n})'
                            for n, _, _ in IMPORTS)  # fmt: skip
    withs = "".join(f'(export "{n}" (func ${n}f))' for n, _, _ in IMPORTS)
    lifts = "".join(f'(func (export "{n}") (result u64) (canon lift (core func $i "{n}")))'
                    for n, _, _ in IMPORTS)  # fmt: skip
    return (f'(component {imports} (core module $m {core_imports})'
            f'(core instance $i (instantiate $m (with "" (instance {withs})))) {lifts})')


@pytest.fixture(scope="module")
def setup() -> tuple[Engine, Component]:
    engine = Engine()
    return engine, Component.new(engine, both_versions_wat())


def test_one_linker_one_context_both_versions(setup: tuple[Engine, Component]) -> None:
    engine, component = setup
    linker = Linker(engine)
    linker.add_wasip2()
    linker.add_wasip3()
    store = Store(engine)
    store.set_wasi(WasiConfig().virtual_clock(monotonic_start_ns=42).random_seed(7))
    inst = linker.instantiate(store, component)

    def call(name: str) -> int:
        f = inst.get_func(store, name)
        assert f is not None
        result: int = f(store)
        return result

    assert (call("c2"), call("c3")) == (42, 42)
    store.wasi.monotonic_clock.advance(8)
    assert (call("c3"), call("c2")) == (50, 50)
    source = random.Random(7)  # `random_seed(7)`'s secure source (wasi/random.py)
    expected = [int.from_bytes(source.randbytes(8), "little") for _ in range(3)]
    assert [call("r2"), call("r3"), call("r2")] == expected  # one source, in call order


@pytest.mark.parametrize(("add", "missing"), [("add_wasip2", "wasi:clocks/monotonic-clock@0.3.0"),
                                              ("add_wasip3", "wasi:clocks/monotonic-clock@0.2.3")])
def test_each_version_is_added_on_its_own(setup: tuple[Engine, Component], add: str,
                                          missing: str) -> None:  # fmt: skip
    engine, component = setup
    linker = Linker(engine)
    getattr(linker, add)()
    with pytest.raises(LinkError, match=missing):
        linker.instantiate(Store(engine), component)
