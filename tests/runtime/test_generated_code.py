"""Generated code is debuggable: registered with ``linecache`` under readable unique names (so
tracebacks show its lines), and dumped to a directory when ``WASM_COMPONENT_DUMP_CODEGEN``
names one."""

from __future__ import annotations

import linecache
import traceback
from pathlib import Path

import pytest

from tests.exports import export_func, lifted
from tests.test_api import ECHO
from wasm_component import Component, Engine, Linker, Store
from wasm_component._abi.codegen import DUMP_ENV
from wasm_component._runtime.instantiate import program_for
from wasm_component.errors import Trap

NESTED = Path(__file__).parents[2] / "benchmarks" / "components" / "nested.wat"

TRAPS_AT_START = """
(component
  (core module $m (func $boom unreachable) (start $boom))
  (core instance $i (instantiate $m))
  (core module $n (func (export "one") (result i32) (i32.const 1)))
  (core instance $j (instantiate $n))
  (func (export "one") (result u32) (canon lift (core func $j "one"))))
"""


def test_a_traceback_through_an_instantiation_program_shows_its_lines() -> None:
    engine = Engine()
    component = Component.new(engine, TRAPS_AT_START)
    program = program_for(component._validated)
    filename = program.__code__.co_filename
    assert filename.startswith("<wasm-component run instantiate one #")
    assert "".join(linecache.getlines(filename)).startswith("def run(store, modules, args):")
    with pytest.raises(Trap) as info:
        Linker(engine).instantiate(Store(engine), component)
    text = "".join(traceback.format_exception(info.value))
    at = text.index(filename)
    assert "w.instantiate(" in text[at:]


def test_adapters_are_named_after_their_function_type() -> None:
    engine = Engine()
    component = Component.new(engine, TRAPS_AT_START.replace("(start $boom)", ""))
    store = Store(engine)
    f = export_func(Linker(engine).instantiate(store, component), store, "one")
    assert f(store) == 1
    lift = lifted(f).adapter.lift_results_host
    assert lift.__code__.co_filename.startswith("<wasm-component lift_results func() -> u32 #")
    assert linecache.getlines(lift.__code__.co_filename)


def test_the_dump_switch_writes_each_generated_function(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DUMP_ENV, str(tmp_path))
    engine = Engine()
    component = Component.new(engine, TRAPS_AT_START.replace("(start $boom)", "")
                              .replace('"one"', '"dumped"'))
    program_for(component._validated)
    dumped = [p.read_text() for p in tmp_path.glob("*.py")]
    assert any("def run(store, modules, args):" in d for d in dumped)


def test_generated_instantiation_code_holds_no_c_objects() -> None:
    """The instantiation program asks ``core`` for whole operations: no C function, pointer,
    ``byref`` or raw context appears in its source or among its constants."""
    import _ctypes
    import ctypes

    engine = Engine()
    component = Component.new(engine, NESTED.read_text())
    program = program_for(component._validated)
    src = program.__wc_source__  # type: ignore[attr-defined]
    for word in ("byref", "ctx", "_ptr", "trap_addr", "instance_new", "export_get"):
        assert word not in src, word
    c_kinds = (_ctypes.CFuncPtr, ctypes._Pointer, ctypes._SimpleCData, ctypes.Array)

    def c_objects(v: object) -> bool:
        if isinstance(v, tuple):
            return any(c_objects(x) for x in v)
        return isinstance(v, c_kinds)

    assert not any(c_objects(v) for v in program.__globals__.values())


ADD = """
(component
  (core module $m (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add"))))
"""


def test_an_export_call_path_is_one_generated_frame_showing_its_lines() -> None:
    # the call path of an export without borrow parameters (``FuncAbi.plain_call``): lowering,
    # core call and lifting in one generated function, whose lines a traceback shows
    engine = Engine()
    store = Store(engine)
    add = Linker(engine).instantiate(store, Component.new(engine, ADD)).get_func(store, "add")
    assert add is not None and add(store, 40, 2) == 42
    call = add._call
    assert call is not None
    filename = call.__code__.co_filename
    assert filename.startswith("<wasm-component make_call func(a: u32, b: u32) -> u32 #")
    src = "".join(linecache.getlines(filename))
    assert "err = call_(ctx, faddr, aaddr, n, trap_out)" in src
    with pytest.raises(ValueError, match=r"`add`: u32 out of range: -1 in parameter \"a\"") as info:
        add(store, -1, 2)
    assert "fn.name or 'function'" in "".join(traceback.format_exception(info.value))
    assert add(store, 1, 2) == 3  # (a bad argument leaves the instance usable)


def test_an_import_call_path_is_one_generated_frame_showing_its_lines() -> None:
    # the call path of a sync lowered host function (``FuncAbi.lowered_call``): the
    # ``may_leave`` check, lifting, the host call and lowering in one generated function,
    # whose lines a traceback through it shows
    engine = Engine()
    store = Store(engine)
    linker = Linker(engine)

    def f(_store: Store, x: int) -> int:
        if x == 0:
            raise LookupError("zero")
        return x * 2 if x != 7 else -1

    linker.root().func_wrap("f", f)
    run = linker.instantiate(store, Component.new(engine, ECHO)).get_func(store, "run")
    assert run is not None and run(store, 21) == 42
    with pytest.raises(LookupError, match="zero") as info:
        run(store, 0)
    frames = [fs.filename for fs in traceback.extract_tb(info.value.__traceback__)]
    lowered = [n for n in frames if n.startswith("<wasm-component make_lowered func(x: u32) -> u32 #")]
    assert lowered, frames
    assert "result = wrapped(owner(), " in "".join(linecache.getlines(lowered[0]))
    # (the host's exception left the instance poisoned: a new one)
    run = linker.instantiate(store, Component.new(engine, ECHO)).get_func(store, "run")
    assert run is not None
    with pytest.raises(ValueError, match=r"function `f` returned a bad value: u32 out of range: -1"):
        run(store, 7)
