"""Linking WASI: components built against older WASI 0.2.x link to our 0.2.12 host; partial
hosts (``define_unknown_imports_as_traps``) keep a `use`d resource one type, name whole paths
in their traps, and never shadow a semver-compatible definition. ``data/semver.wat`` imports
``wasi:io/poll@0.2.0``, ``wasi:clocks/monotonic-clock@0.2.3``, ``wasi:random/random@0.2.0``,
``wasi:cli/exit@0.2.12`` (``exit-with-code``) and ``wasi:sockets/udp@0.2.0`` (which `use`s
the pollable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.exports import export_func
from wasm_component import Component, Engine, Instance, Linker, Store, Trap
from wasm_component.wasi import WasiConfig, WasiExit

WAT = (Path(__file__).parent / "data" / "semver.wat").read_text()


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def component(engine: Engine) -> Component:
    return Component.new(engine, WAT)


def _instance(engine: Engine, component: Component, config: WasiConfig | None = None,
              wasi: bool = True) -> tuple[Store, Instance]:
    linker = Linker(engine)
    if wasi:
        linker.add_wasip2()
    linker.define_unknown_imports_as_traps(component)
    store = Store(engine)
    store.set_wasi(config or WasiConfig())
    return store, linker.instantiate(store, component)


def test_older_versions_link_and_semver_definitions_win_over_traps(
        engine: Engine, component: Component) -> None:
    store, inst = _instance(engine, component, WasiConfig().random_seed(1))
    rand = export_func(inst, store, "rand")
    first = rand(store)
    assert isinstance(first, int) and rand(store) != first  # the real host, not a trap
    now = export_func(inst, store, "now")
    assert now(store) > 0


def test_exit_with_code(engine: Engine, component: Component) -> None:
    store, inst = _instance(engine, component)
    with pytest.raises(WasiExit) as e:
        export_func(inst, store, "exit")(store, 3)
    assert e.value.code == 3 and isinstance(e.value, Trap)


def test_pollable_block_on_a_virtual_clock(engine: Engine, component: Component) -> None:
    store, inst = _instance(engine, component, WasiConfig().virtual_clock())
    sleep, now = (export_func(inst, store, n) for n in ("sleep", "now"))
    assert now(store) == 0
    sleep(store, 5 * 10**9)
    assert now(store) == 5 * 10**9
    assert len(store.wasi.table) == 0  # the timer's handle was dropped


def test_without_wasi_traps_name_the_whole_path(engine: Engine, component: Component) -> None:
    store, inst = _instance(engine, component, wasi=False)  # only the trap filler
    with pytest.raises(Trap, match=r"wasi:clocks/monotonic-clock@0\.2\.3#now"):
        export_func(inst, store, "now")(store)


def test_a_used_resource_keeps_its_defined_type(engine: Engine, component: Component) -> None:
    # wasi:io/poll defined by the host, the rest (udp's `use`d pollable too) filled in
    linker = Linker(engine)
    from wasm_component.wasi import add_to_linker

    add_to_linker(linker)
    linker.define_unknown_imports_as_traps(component)
    linker.instantiate(Store(engine), component)  # was: LinkError mismatched resource types


def test_wasmtime_links_it_too(component: Component) -> None:
    import wasmtime
    import wasmtime.component as wc

    e = wasmtime.Engine()
    linker = wc.Linker(e)
    linker.add_wasip2()
    store = wasmtime.Store(e)
    store.set_wasi(wasmtime.WasiConfig())
    inst = linker.instantiate(store, wc.Component(e, WAT))
    exit_ = inst.get_func(store, "exit")
    assert exit_ is not None, "the WAT exports `exit`"
    with pytest.raises(wasmtime.ExitTrap) as ex:
        exit_(store, 3)
    assert ex.value.code == 3


def test_a_context_getter_instead_of_set_wasi(engine: Engine, component: Component) -> None:
    from wasm_component.wasi import WasiCtx

    linker = Linker(engine)
    linker.add_wasip2(lambda store: store.data)
    linker.define_unknown_imports_as_traps(component)
    ctx = WasiCtx(WasiConfig().virtual_clock(monotonic_start_ns=42))
    store = Store(engine, ctx)
    inst = linker.instantiate(store, component)
    assert export_func(inst, store, "now")(store) == 42
