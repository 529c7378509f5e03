"""Call paths are built once and kept: lazily built pieces (lifted functions' call paths, the
Python side of lowered imports, core exports) must not be rebuilt per call."""

from __future__ import annotations

from typing import Any

import pytest

from tests.exports import export_func, lifted
from wasm_component import Component, Engine, Linker, Store, types
from wasm_component._runtime import core
from wasm_component._runtime.calls import LiftedFunc
from wasm_component.errors import LinkError, Trap

# $inner exports `add`; $outer lowers it into a core module twice (two call sites) and exports
# `add3` lifted from that module: every call of `add3` crosses the component boundary twice.
# (With `u16` the crossing needs the lifting and lowering code: with `u32` it would be a
# direct core call, see test_direct_calls.py.)
COMPOSED = """
(component
  (component $inner
    (core module $m
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
    (core instance $i (instantiate $m))
    (func (export "add") (param "a" u16) (param "b" u16) (result u16)
      (canon lift (core func $i "add"))))
  (instance $a (instantiate $inner))
  (core func $add (canon lower (func $a "add")))
  (core module $m
    (import "x" "add" (func $add (param i32 i32) (result i32)))
    (func (export "add3") (param i32 i32 i32) (result i32)
      (call $add (call $add (local.get 0) (local.get 1)) (local.get 2))))
  (core instance $i (instantiate $m (with "x" (instance (export "add" (func $add))))))
  (func (export "add3") (param "a" u16) (param "b" u16) (param "c" u16) (result u16)
    (canon lift (core func $i "add3")))
)
"""


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records every call-path build of a lifted function."""
    seen: list[Any] = []
    original = LiftedFunc._make_call

    def counting(self: LiftedFunc, host: bool = False) -> Any:
        seen.append(self)
        return original(self, host)

    monkeypatch.setattr(LiftedFunc, "_make_call", counting)
    return seen


def test_component_to_component_calls_build_each_call_path_once(builds: list[Any]) -> None:
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, COMPOSED))
    add3 = export_func(inst, store, "add3")
    assert add3 is not None
    assert builds == []  # instantiation builds no call path
    assert add3(store, 1, 2, 3) == 6
    assert len(builds) == 2  # `add3` itself, and the inner `add` behind the lowered import
    for i in range(5):
        assert add3(store, i, i, i) == 3 * i
    assert len(builds) == 2


def test_typed_func_made_before_the_first_call_keeps_its_call_path(builds: list[Any]) -> None:
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, COMPOSED))
    typed = inst.get_typed_func(store, "add3", (types.U16, types.U16, types.U16), types.U16)
    for i in range(4):
        assert typed(store, i, 1, 1) == i + 2
    assert len(builds) == 2


def test_lowered_import_is_built_at_its_first_call_and_only_then() -> None:
    engine = Engine()
    calls: list[str] = []
    linker = Linker(engine)

    def name(store: Store) -> str:
        calls.append("name")
        return "x"

    linker.root().func_wrap("name", name)
    component = Component.new(engine, """
      (component
        (import "name" (func $name (result string)))
        (core module $mem (memory (export "m") 1)
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64)))
        (core instance $mi (instantiate $mem))
        (alias core export $mi "m" (core memory $m))
        (alias core export $mi "realloc" (core func $realloc))
        (core func $n (canon lower (func $name) (memory $m) (realloc $realloc)))
        (core module $main
          (import "h" "name" (func $name (param i32)))
          (import "h" "m" (memory 1))
          (func (export "len") (result i32) (call $name (i32.const 0)) (i32.load offset=4 (i32.const 0))))
        (core instance $i (instantiate $main
          (with "h" (instance (export "name" (func $n)) (export "m" (memory $m))))))
        (func (export "len") (result u32) (canon lift (core func $i "len"))))
    """)
    store = Store(engine)
    inst = linker.instantiate(store, component)
    assert calls == []
    f = export_func(inst, store, "len")
    assert f is not None
    assert [f(store), f(store)] == [1, 1]
    assert calls == ["name", "name"]


def test_a_failing_lazy_host_function_build_traps_the_caller() -> None:
    engine = core.CoreEngine()
    store = core.CoreStore(engine)

    def make() -> Any:
        raise RuntimeError("cannot build")

    host = core.new_lazy_host_func(store, ("i32",), ("i32",), make)
    module = core.compile_module(engine, core.wat2wasm("""
      (module (import "h" "f" (func $f (param i32) (result i32)))
        (func (export "g") (result i32) (call $f (i32.const 1))))"""))
    g = core.instantiate(store, module, [host]).func("g")
    with pytest.raises(RuntimeError, match="cannot build"):
        g()
    # the failed build is not cached as a success: the next call tries again
    with pytest.raises(RuntimeError, match="cannot build"):
        g()


def test_core_exports_are_looked_up_once() -> None:
    engine = core.CoreEngine()
    store = core.CoreStore(engine)
    module = core.compile_module(engine, core.wat2wasm("""
      (module (func (export "a") (result i32) (i32.const 1))
              (func (export "b") (result i32) (i32.const 2)))"""))
    inst = core.instantiate(store, module, [])
    lazy = inst.lazy("b")
    assert isinstance(lazy, core.LazyExport)
    with pytest.raises(LinkError, match="does not export `nope`"):
        core.resolve(inst.lazy("nope"))
    assert "nope" not in inst and "a" in inst
    b = core.resolve(lazy)
    assert isinstance(b, core.CoreFunc) and b() == 2
    assert inst.lazy("b") is b and inst.get("b") is b
    assert list(inst.exports) == ["a", "b"]


# a guest resource `r` (constructor `make`, borrowing method `get`); its destructor runs
# DTOR_BODY
COUNTER = """
(component
  (core module $m
    (func (export "dtor") (param i32) DTOR_BODY)
    (func (export "get") (param i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $m))
  (type $r (resource (rep i32) (dtor (core func $i "dtor"))))
  (core func $new (canon resource.new $r))
  (core module $n
    (import "x" "new" (func $new (param i32) (result i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0))))
  (core instance $ni (instantiate $n (with "x" (instance (export "new" (func $new))))))
  (export $re "r" (type $r))
  (func (export "make") (param "x" u32) (result (own $re)) (canon lift (core func $ni "make")))
  (func (export "get") (param "self" (borrow $re)) (result u32) (canon lift (core func $i "get")))
)
"""


def test_trap_in_a_destructor_called_from_the_host_poisons_nothing_else() -> None:
    """Destructor calls made inline still turn a guest trap into ``Trap``."""
    engine = Engine()
    component = Component.new(engine, COUNTER.replace("DTOR_BODY", "unreachable"))
    store = Store(engine)
    inst = Linker(engine).instantiate(store, component)
    make = export_func(inst, store, "make")
    assert make is not None
    r = make(store, 7)
    with pytest.raises(Trap, match="unreachable"):
        r.drop(store)




def test_resource_functions_share_adapters_across_instances_but_not_resources() -> None:
    """Adapters are made once per static function type; each instance's resource type is its
    own at run time (a handle of one instance is not the other's)."""
    engine = Engine()
    component = Component.new(engine, COUNTER.replace("DTOR_BODY", ""))
    store = Store(engine)
    linker = Linker(engine)
    a, b = linker.instantiate(store, component), linker.instantiate(store, component)
    make_a, get_a = export_func(a, store, "make"), export_func(a, store, "get")
    make_b, get_b = export_func(b, store, "make"), export_func(b, store, "get")
    assert make_a and get_a and make_b and get_b
    ra, rb = make_a(store, 5), make_b(store, 6)
    assert get_a(store, ra) == 5 and get_b(store, rb) == 6
    assert lifted(make_a).adapter is lifted(make_b).adapter  # one set of adapters for both instances
    assert make_a.type != make_b.type  # but each instance has its own resource type
    assert ra.resource_type != rb.resource_type
    with pytest.raises((Trap, TypeError, ValueError)):
        get_b(store, ra)


def test_a_dropped_component_is_freed_with_its_plan_and_program() -> None:
    """Plans and compiled programs live with the component, not in a global cache."""
    import gc
    import weakref

    engine = Engine()
    component = Component.new(engine, COMPOSED)
    store = Store(engine)
    linker = Linker(engine)
    add3 = export_func(linker.instantiate(store, component), store, "add3")
    assert add3 is not None and add3(store, 1, 2, 3) == 6
    vc = weakref.ref(component._validated)
    assert "root program" in component._validated.derived
    del component, store, linker, add3
    gc.collect()
    assert vc() is None


def test_the_host_gets_plain_strs_and_components_the_source_encoding() -> None:
    """Strings lifted for the host are plain ``str``; between components they keep their
    source encoding (``LiftedStr``), which the spec's transcoding needs."""
    from wasm_component._abi.strings import LiftedStr

    engine = Engine()
    seen: list[Any] = []
    linker = Linker(engine)
    linker.root().func_wrap("log", lambda store, s: seen.append(s))
    component = Component.new(engine, """
      (component
        (import "log" (func $log (param "s" string)))
        (core module $mem (memory (export "m") 1)
          (data (i32.const 16) "hello")
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64)))
        (core instance $mi (instantiate $mem))
        (alias core export $mi "m" (core memory $m))
        (alias core export $mi "realloc" (core func $realloc))
        (core func $log-core (canon lower (func $log) (memory $m)))
        (core module $main
          (import "h" "log" (func $log (param i32 i32)))
          (import "h" "m" (memory 1))
          (func (export "say") (call $log (i32.const 16) (i32.const 5)))
          (func (export "get") (result i32)
            (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 5))
            (i32.const 0)))
        (core instance $i (instantiate $main (with "h" (instance (export "log" (func $log-core)) (export "m" (memory $m))))))
        (func (export "say") (canon lift (core func $i "say")))
        (func (export "get") (result string) (canon lift (core func $i "get") (memory $m))))
    """)
    store = Store(engine)
    inst = linker.instantiate(store, component)
    say, get = export_func(inst, store, "say"), export_func(inst, store, "get")
    assert say is not None and get is not None
    say(store)
    assert seen == ["hello"] and type(seen[0]) is str
    got = get(store)
    assert got == "hello" and type(got) is str
    # the same function called on behalf of another component keeps the encoding
    assert isinstance(get._f.prepared_call()([]), LiftedStr)


def test_a_linker_keeps_a_bounded_number_of_components() -> None:
    import gc
    import weakref

    from wasm_component import linker as linker_module

    engine = Engine()
    linker = Linker(engine)
    store = Store(engine)
    first = Component.new(engine, COMPOSED)
    ref = weakref.ref(first)
    linker.instantiate(store, first)
    del first
    for _ in range(linker_module._PRE_CACHE_SIZE):
        linker.instantiate(Store(engine), Component.new(engine, COMPOSED))
    del store  # (the store holds the first component's instance)
    gc.collect()
    assert ref() is None


def test_exports_are_looked_up_by_name_never_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """``wasmtime_instance_export_nth`` walks from the first export (quadratic over a module
    with thousands): instantiating and calling must look exports up by name instead."""
    walked: list[int] = []
    nth = core._export_nth

    def counting_nth(*a: Any) -> Any:
        walked.append(1)
        return nth(*a)

    monkeypatch.setattr(core, "_export_nth", counting_nth)
    engine = Engine()
    funcs = " ".join(f'(func (export "f{i}") (result i32) (i32.const {i}))' for i in range(300))
    component = Component.new(engine, f"""
      (component
        (core module $m {funcs})
        (core instance $i (instantiate $m))
        (func (export "last") (result u32) (canon lift (core func $i "f299"))))
    """)
    store = Store(engine)
    last = export_func(Linker(engine).instantiate(store, component), store, "last")
    assert last is not None and last(store) == 299
    assert walked == []


def test_import_items_are_made_once_and_host_functions_receive_the_store_they_run_in() -> None:
    """The import items are made once per ``InstancePre`` and shared by every store (a new
    store makes none); a host function still receives the store it is called in."""
    engine = Engine()
    seen: list[Any] = []
    linker = Linker(engine)
    linker.root().func_wrap("ping", lambda store: seen.append(store))
    component = Component.new(engine, """
      (component
        (import "ping" (func $ping))
        (core func $p (canon lower (func $ping)))
        (core module $m (import "h" "ping" (func)) (func (export "go") (call 0)))
        (core instance $i (instantiate $m (with "h" (instance (export "ping" (func $p))))))
        (func (export "go") (canon lift (core func $i "go"))))
    """)
    pre = linker.instantiate_pre(component)
    items = pre._args
    ping = items["ping"]
    one, two = Store(engine), Store(engine)
    a, b = pre.instantiate(one), pre.instantiate(one)
    c = pre.instantiate(two)
    assert pre._args is items and items["ping"] is ping
    for inst, store in ((a, one), (b, one), (c, two)):
        export_func(inst, store, "go")(store)
    assert seen == [one, one, two]
    d = pre.instantiate(one)
    export_func(d, one, "go")(one)
    assert seen[-1] is one
    del a, b, d, one  # a store's call paths hold it weakly: the other keeps working
    export_func(c, two, "go")(two)
    assert seen[-1] is two


# `realloc` grows memory by one page per call and hands out the new page, so each lowering of
# the host's result lands past the end of every view made before: `check` reads the string
# back (its length times 1000 plus its last byte).
GROWING_REALLOC = """
(component
  (import "text" (func $text (param "n" u32) (result string)))
  (core module $libc
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (i32.mul (memory.grow (i32.const 1)) (i32.const 65536))))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $memory))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $text (canon lower (func $text) (memory $memory) (realloc $realloc)))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "h" "text" (func $text (param i32 i32)))
    (func (export "check") (param $n i32) (result i32)
      (local $p i32) (local $len i32)
      (call $text (local.get $n) (i32.const 0))
      (local.set $p (i32.load (i32.const 0)))
      (local.set $len (i32.load (i32.const 4)))
      (i32.add (i32.mul (local.get $len) (i32.const 1000))
               (i32.load8_u (i32.sub (i32.add (local.get $p) (local.get $len)) (i32.const 1))))))
  (core instance $i (instantiate $m (with "libc" (instance $libc))
                                    (with "h" (instance (export "text" (func $text))))))
  (func (export "check") (param "n" u32) (result u32) (canon lift (core func $i "check"))))
"""


def _engine(config: str) -> Engine:
    """An engine of ours (memories grow in place), one from a raw wasmtime config, or one
    whose memories move on every growth (no reservation to grow into)."""
    import wasmtime

    if config == "ours":
        return Engine()
    raw = wasmtime.Config()
    if config == "moving":
        raw.memory_reservation = raw.memory_reservation_for_growth = raw.memory_guard_size = 0
    return Engine(raw)


CONFIGS = pytest.mark.parametrize("config", ["ours", "raw", "moving"])


@CONFIGS
def test_a_result_lowered_into_memory_that_realloc_grew(config: str) -> None:
    """The view after ``realloc`` covers the memory it grew (``CoreMemory.view``, looked
    at again when short), whether the engine's memories grow in place or move."""
    engine = _engine(config)
    linker = Linker(engine)
    linker.root().func_wrap("text", lambda _store, n: "ab" * n + "z")
    store = Store(engine)
    check = export_func(linker.instantiate(store, Component.new(engine, GROWING_REALLOC)),
                        store, "check")
    assert check is not None
    for n in (1, 5, 1000, 3):  # (each call a page more: past every earlier view)
        assert check(store, n) == (2 * n + 1) * 1000 + ord("z")


# The guest grows its memory by a page per call and puts a string at the start of the new
# page, past every view made before: `send` passes it to the host's `take`, `give` returns it.
GROWN_STRINGS = """
(component
  (import "take" (func $take (param "s" string) (result u32)))
  (core module $libc (memory (export "memory") 1))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $memory))
  (core func $take (canon lower (func $take) (memory $memory)))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "h" "take" (func $take (param i32 i32) (result i32)))
    (func $fresh (result i32)  ;; a new page holding "hi!", its address
      (local $p i32)
      (local.set $p (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
      (i32.store (local.get $p) (i32.const 0x216968))
      (local.get $p))
    (func (export "send") (result i32) (call $take (call $fresh) (i32.const 3)))
    (func (export "give") (result i32)
      (i32.store (i32.const 8) (call $fresh))
      (i32.store (i32.const 12) (i32.const 3))
      (i32.const 8)))
  (core instance $i (instantiate $m (with "libc" (instance $libc))
                                    (with "h" (instance (export "take" (func $take))))))
  (func (export "send") (result u32) (canon lift (core func $i "send")))
  (func (export "give") (result string) (canon lift (core func $i "give") (memory $memory))))
"""


@CONFIGS
def test_strings_in_memory_the_guest_just_grew(config: str) -> None:
    """A lift right after the guest ran starts from the last view, which may be short of
    memory grown since (``CodeGen.past_end``): its bounds checks look again before they
    trap, for an import's parameters and an export's result alike."""
    engine = _engine(config)
    linker = Linker(engine)
    taken: list[str] = []

    def take(_store: Store, s: str) -> int:
        taken.append(s)
        return len(taken)

    linker.root().func_wrap("take", take)
    store = Store(engine)
    inst = linker.instantiate(store, Component.new(engine, GROWN_STRINGS))
    send, give = export_func(inst, store, "send"), export_func(inst, store, "give")
    assert send is not None and give is not None
    for k in range(3):
        assert send(store) == k + 1 and give(store) == "hi!"
    assert taken == ["hi!"] * 3
