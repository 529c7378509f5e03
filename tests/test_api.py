"""The embedding API, item by item: Engine/Store, Component, Linker, Instance, Func, TypedFunc,
Val, resources (host and guest), traps and poisoning, and bad host input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wasm_component import (
    Component,
    ComponentError,
    DecodeError,
    Engine,
    Err,
    InstancePre,
    Linker,
    LinkError,
    Ok,
    Record,
    Resource,
    ResourceAny,
    ResourceTable,
    ResourceType,
    Store,
    Trap,
    Val,
    ValidationError,
    Variant,
)
from wasm_component import types as t

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def engine() -> Engine:
    return Engine()


def test_documentation_example(engine: Engine) -> None:
    store = Store(engine, None)
    component = Component.new(engine, (EXAMPLES / "hello.wat").read_bytes())
    linker = Linker(engine)
    linker.root().func_wrap("name", lambda store: "Alice")
    instance = linker.instantiate(store, component)
    greet = instance.get_func(store, "greet")
    assert greet is not None
    results = [Val.string("")]
    greet.call(store, [], results)
    assert results[0] == Val.string("Hello, Alice!")
    assert greet(store) == "Hello, Alice!"


def test_greeter_example_and_typed_func(engine: Engine) -> None:
    store = Store(engine)
    component = Component.from_file(engine, EXAMPLES / "greeter.wat")
    instance = Linker(engine).instantiate(store, component)
    add = instance.get_typed_func(store, "add", (t.U32, t.U32), t.U32)
    assert add(store, 40, 2) == 42
    with pytest.raises(LinkError, match="expected type"):
        instance.get_typed_func(store, "add", (t.U32,), t.U32)
    greet = instance.get_func(store, "greet")
    assert greet is not None
    assert greet(store, "wörld 🌍") == "Hello, wörld 🌍!"
    assert [n for n, _ in greet.params()] == ["name"]
    assert greet.results() == [t.STRING]
    assert sorted(instance) == ["add", "greet"]
    assert dict(instance.exports(store)) == {"add": "func", "greet": "func"}


def test_bad_host_input_names_function_parameter_and_type(engine: Engine) -> None:
    store = Store(engine)
    instance = Linker(engine).instantiate(store, Component.from_file(engine,
                                                                    EXAMPLES / "greeter.wat"))
    add = instance.get_func(store, "add")
    greet = instance.get_func(store, "greet")
    assert add is not None and greet is not None
    with pytest.raises(TypeError, match=r"`add`: expected 2 arguments, got 1"):
        add(store, 1)
    with pytest.raises(TypeError, match=r"`add`.*expected u32, got str.*\"a\""):
        add(store, "x", 2)
    with pytest.raises(ValueError, match=r"`add`.*u32.*-1.*\"a\""):
        add(store, -1, 2)
    with pytest.raises(ValueError, match=r"`add`.*u32.*4294967296.*\"b\""):
        add(store, 1, 2**32)
    with pytest.raises(ValueError, match=r"`greet`.*surrogate.*\"name\""):
        greet(store, "\ud800")
    with pytest.raises(TypeError, match="expected Val"):
        add.call(store, [1, 2], [Val.u32(0)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="different store"):
        add(Store(engine), 1, 2)


def test_component_errors_have_offsets(engine: Engine) -> None:
    with pytest.raises(DecodeError, match="offset"):
        Component.new(engine, b"\x00asm\x0d\x00\x01\x00\x07\x05")
    with pytest.raises(ValidationError, match="offset"):
        Component.new(engine, '(component (export "x" (func 0)))'.replace("(func 0)", "(func 3)"))
    with pytest.raises(DecodeError):
        Component.new(engine, "(component (bogus))")
    with pytest.raises(DecodeError, match="core module"):
        Component.new(engine, "(module)")


def test_component_type_and_export_index(engine: Engine) -> None:
    c = Component.new(engine, NESTED)
    names = [n for n, _ in c.component_type().exports]
    assert names == ["api"]
    api = c.get_export_index("api")
    assert api is not None
    assert c.get_export_index("double", api) is not None
    assert c.get_export_index("missing", api) is None


NESTED = """
(component
  (component $inner
    (core module $m (func (export "d") (param i32) (result i32)
      (i32.mul (local.get 0) (i32.const 2))))
    (core instance $i (instantiate $m))
    (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "d"))))
  (instance $a (instantiate $inner))
  (export "api" (instance $a)))
"""


def test_nested_exports_and_instance_pre(engine: Engine) -> None:
    c = Component.new(engine, NESTED)
    pre = Linker(engine).instantiate_pre(c)
    assert isinstance(pre, InstancePre)
    for n in range(2):
        store = Store(engine)
        inst = pre.instantiate(store)
        api = inst.get_export_index(store, "api")
        assert api is not None
        idx = inst.get_export_index(store, "double", api)
        assert idx is not None
        f = inst.get_func(store, idx)
        assert f is not None
        assert f(store, 21 + n) == 42 + 2 * n


def test_serialize_round_trip(engine: Engine) -> None:
    c = Component.from_file(engine, EXAMPLES / "greeter.wat")
    c2 = Component.deserialize(engine, c.serialize())
    store = Store(engine)
    f = Linker(engine).instantiate(store, c2).get_func(store, "add")
    assert f is not None and f(store, 1, 2) == 3
    with pytest.raises(DecodeError):
        Component.deserialize(engine, b"junk")


ECHO = """
(component
  (import "f" (func $f (param "x" u32) (result u32)))
  (core func $fl (canon lower (func $f)))
  (core module $m
    (import "" "f" (func $f (param i32) (result i32)))
    (func (export "run") (param i32) (result i32) (call $f (local.get 0))))
  (core instance $i (instantiate $m (with "" (instance (export "f" (func $fl))))))
  (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run"))))
"""


def test_func_new_and_func_wrap_and_explicit_types(engine: Engine) -> None:
    c = Component.new(engine, ECHO)

    def via_vals(store: Store, params: list[Val], results: list[Val]) -> None:
        results[0] = Val.u32(params[0].value + 1)

    linker = Linker(engine)
    linker.root().func_new("f", via_vals)
    store = Store(engine)
    run = linker.instantiate(store, c).get_func(store, "run")
    assert run is not None and run(store, 41) == 42

    linker2 = Linker(engine)
    linker2.root().func_wrap("f", lambda store, x: x * 2, params=[t.U32], result=t.U32)
    store2 = Store(engine)
    run2 = linker2.instantiate(store2, c).get_func(store2, "run")
    assert run2 is not None and run2(store2, 21) == 42

    linker3 = Linker(engine)
    linker3.root().func_wrap("f", lambda store, x: x, params=[t.S64], result=t.U32)
    with pytest.raises(LinkError, match="wrong type"):
        linker3.instantiate(Store(engine), c)


def test_linker_errors_shadowing_and_unknown_imports(engine: Engine) -> None:
    c = Component.new(engine, ECHO)
    with pytest.raises(LinkError, match="`f`, but it is not defined"):
        Linker(engine).instantiate(Store(engine), c)
    linker = Linker(engine)
    linker.root().func_wrap("f", lambda store, x: x)
    with pytest.raises(ValueError, match="already defined"):
        linker.root().func_wrap("f", lambda store, x: x)
    linker.allow_shadowing(True)
    linker.root().func_wrap("f", lambda store, x: x + 100)
    store = Store(engine)
    run = linker.instantiate(store, c).get_func(store, "run")
    assert run is not None and run(store, 1) == 101
    linker4 = Linker(engine)
    linker4.define_unknown_imports_as_traps(c)
    store4 = Store(engine)
    run4 = linker4.instantiate(store4, c).get_func(store4, "run")
    assert run4 is not None
    with pytest.raises(Trap, match="unknown import `f`"):
        run4(store4, 1)
    with pytest.raises(TypeError):
        linker.root().func_wrap("g", 42)  # type: ignore[arg-type]
    with pytest.raises(LinkError, match="expected function"):
        bad = Linker(engine)
        bad.instance("f")
        bad.instantiate(Store(engine), c)


SEMVER = """
(component
  (import "wasi:cli/env@0.2.3" (instance $e (export "get" (func (result u32)))))
  (alias export $e "get" (func $get))
  (core func $get-l (canon lower (func $get)))
  (core module $m
    (import "" "get" (func $get (result i32)))
    (func (export "get") (result i32) (call $get)))
  (core instance $i (instantiate $m (with "" (instance (export "get" (func $get-l))))))
  (func (export "get") (result u32) (canon lift (core func $i "get"))))
"""


def test_semver_compatible_import_names(engine: Engine) -> None:
    c = Component.new(engine, SEMVER)
    linker = Linker(engine)
    linker.instance("wasi:cli/env@0.2.0").func_wrap("get", lambda store: 7)
    store = Store(engine)
    get = linker.instantiate(store, c).get_func(store, "get")
    assert get is not None and get(store) == 7
    other = Linker(engine)
    other.instance("wasi:cli/env@0.3.0").func_wrap("get", lambda store: 7)
    with pytest.raises(LinkError):
        other.instantiate(Store(engine), c)


def test_host_exception_propagates(engine: Engine) -> None:
    c = Component.new(engine, ECHO)
    linker = Linker(engine)

    class Boom(Exception):
        pass

    def f(store: Store, x: int) -> int:
        raise Boom("from the host")

    linker.root().func_wrap("f", f)
    store = Store(engine)
    run = linker.instantiate(store, c).get_func(store, "run")
    assert run is not None
    with pytest.raises(Boom, match="from the host") as info:
        run(store, 1)
    assert any("wasm backtrace" in n for n in info.value.__notes__), "guest frames are noted"


def test_host_returning_bad_value_traps_and_poisons(engine: Engine) -> None:
    c = Component.new(engine, ECHO)
    linker = Linker(engine)
    linker.root().func_wrap("f", lambda store, x: "not a number")
    store = Store(engine)
    run = linker.instantiate(store, c).get_func(store, "run")
    assert run is not None
    with pytest.raises(TypeError, match=r"function `f` returned a bad value: expected u32, got str"):
        run(store, 1)
    with pytest.raises(Trap, match="cannot enter component instance"):
        run(store, 1)


TRAP = """
(component
  (core module $m
    (func (export "boom") unreachable)
    (func (export "ok") (result i32) i32.const 1))
  (core instance $i (instantiate $m))
  (func (export "boom") (canon lift (core func $i "boom")))
  (func (export "ok") (result u32) (canon lift (core func $i "ok"))))
"""


def test_trap_then_instance_is_poisoned(engine: Engine) -> None:
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, TRAP))
    boom, ok = inst.get_func(store, "boom"), inst.get_func(store, "ok")
    assert boom is not None and ok is not None
    with pytest.raises(Trap, match="unreachable") as info:
        boom(store)
    assert info.value.frames, "the trap carries the wasm backtrace"
    with pytest.raises(Trap, match="cannot enter"):
        ok(store)
    store2 = Store(engine)
    ok2 = Linker(engine).instantiate(store2, Component.new(engine, TRAP)).get_func(store2, "ok")
    assert ok2 is not None and ok2(store2) == 1


def test_fuel_is_passed_through() -> None:
    import wasmtime

    config = wasmtime.Config()
    config.consume_fuel = True
    engine = Engine(config)
    store = Store(engine)
    store.set_fuel(10_000)
    inst = Linker(engine).instantiate(store, Component.from_file(engine,
                                                                EXAMPLES / "greeter.wat"))
    add = inst.get_func(store, "add")
    assert add is not None and add(store, 1, 2) == 3
    assert store.get_fuel() < 10_000
    store.set_fuel(0)
    with pytest.raises(Trap):
        add(store, 1, 2)


HOST_RESOURCE = """
(component
  (import "file" (type $file (sub resource)))
  (import "[constructor]file" (func $new (param "fd" u32) (result (own $file))))
  (import "[method]file.fd" (func $fd (param "self" (borrow $file)) (result u32)))
  (core func $new_l (canon lower (func $new)))
  (core func $fd_l (canon lower (func $fd)))
  (core func $drop (canon resource.drop $file))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "fd" (func $fd (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "open-and-read") (param i32) (result i32)
      (local $h i32) (local $r i32)
      (local.set $h (call $new (local.get 0)))
      (local.set $r (call $fd (local.get $h)))
      (call $drop (local.get $h))
      (local.get $r))
    (func (export "fd-of") (param i32) (result i32)
      (local $r i32)
      (local.set $r (call $fd (local.get 0)))
      (call $drop (local.get 0))  ;; a borrow must be dropped before returning
      (local.get $r))
    (func (export "keep-borrow") (param i32))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0))))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new_l)) (export "fd" (func $fd_l)) (export "drop" (func $drop))))))
  (func (export "open-and-read") (param "fd" u32) (result u32)
    (canon lift (core func $i "open-and-read")))
  (func (export "fd-of") (param "f" (borrow $file)) (result u32)
    (canon lift (core func $i "fd-of")))
  (func (export "keep-borrow") (param "f" (borrow $file))
    (canon lift (core func $i "keep-borrow")))
  (func (export "make") (param "fd" u32) (result (own $file))
    (canon lift (core func $i "make"))))
"""


class File:
    def __init__(self, fd: int) -> None:
        self.fd = fd


def test_host_resources_with_table_and_destructor(engine: Engine) -> None:
    table = ResourceTable()
    dropped: list[int] = []
    rt = ResourceType.host(File)
    linker = Linker(engine)
    root = linker.root()
    root.resource("file", rt, lambda store, rep: dropped.append(table.delete(rep).fd))
    root.func_wrap("[constructor]file", lambda store, fd: table.push(File(fd)))
    root.func_wrap("[method]file.fd", lambda store, self: table.get(self).fd)
    store = Store(engine)
    inst = linker.instantiate(store, Component.new(engine, HOST_RESOURCE))
    f = inst.get_func(store, "open-and-read")
    assert f is not None and f(store, 7) == 7
    assert dropped == [7], "the guest's resource.drop ran the host destructor"
    make = inst.get_func(store, "make")
    assert make is not None
    r = make(store, 9)
    assert isinstance(r, Resource) and r.owned and r.resource_type == rt
    assert table.get(r).fd == 9
    fd_of = inst.get_func(store, "fd-of")
    assert fd_of is not None and fd_of(store, r) == 9
    with pytest.raises(TypeError, match="handle"):
        fd_of(store, Resource.new_own(0, ResourceType.host(int)))
    keep = inst.get_func(store, "keep-borrow")
    assert keep is not None
    with pytest.raises(Trap, match="borrow"):
        keep(store, r)


def test_resource_table_errors() -> None:
    from wasm_component.resources import HasChildren, NotPresent, WrongType

    table = ResourceTable()
    parent = table.push(File(1))
    child = table.push_child(File(2), parent)
    assert table.children(parent) == [child.rep]
    with pytest.raises(HasChildren):
        table.delete(parent)
    with pytest.raises(WrongType):
        table.get(child, str)
    table.delete(child)
    table.delete(parent)
    with pytest.raises(NotPresent):
        table.get(parent)


GUEST_RESOURCE = """
(component
  (core module $dt
    (global (export "drops") (mut i32) (i32.const 0))
    (global (export "last") (mut i32) (i32.const 0)))
  (core instance $dt (instantiate $dt))
  (core module $d
    (import "" "drops" (global $drops (mut i32)))
    (import "" "last" (global $last (mut i32)))
    (func (export "dtor") (param i32)
      (global.set $drops (i32.add (global.get $drops) (i32.const 1)))
      (global.set $last (local.get 0))))
  (core instance $d (instantiate $d (with "" (instance $dt))))
  (type $counter (resource (rep i32) (dtor (core func $d "dtor"))))
  (core func $new (canon resource.new $counter))
  (core func $rep (canon resource.rep $counter))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (import "" "drops" (global $drops (mut i32)))
    (func (export "ctor") (param i32) (result i32) (call $new (local.get 0)))
    ;; a borrow of its own resource reaches the implementation as the bare rep (spec: lower_borrow)
    (func (export "get") (param i32) (result i32) (local.get 0))
    (func (export "rep-of-own") (param i32) (result i32) (call $rep (local.get 0)))
    (func (export "drops") (result i32) (global.get $drops)))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "rep" (func $rep))
    (export "drops" (global $dt "drops"))))))
  (export $c "counter" (type $counter))
  (func (export "[constructor]counter") (param "v" u32) (result (own $c))
    (canon lift (core func $i "ctor")))
  (func (export "[method]counter.get") (param "self" (borrow $c)) (result u32)
    (canon lift (core func $i "get")))
  (func (export "drops") (result u32) (canon lift (core func $i "drops"))))
"""


def test_guest_resources_create_call_drop(engine: Engine) -> None:
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, GUEST_RESOURCE))
    ctor = inst.get_func(store, "[constructor]counter")
    get = inst.get_func(store, "[method]counter.get")
    drops = inst.get_func(store, "drops")
    assert ctor is not None and get is not None and drops is not None
    rt = inst.get_resource(store, "counter")
    assert rt is not None
    r = ctor(store, 5)
    assert isinstance(r, ResourceAny) and r.owned and r.resource_type == rt
    assert get(store, r) == 5
    assert drops(store) == 0
    r.drop(store)
    assert drops(store) == 1
    with pytest.raises(ValueError, match="already dropped"):
        r.drop(store)
    with pytest.raises(ValueError, match="already dropped"):
        get(store, r)
    with ctor(store, 6) as r2:
        assert get(store, r2) == 6
    assert drops(store) == 2
    other = Store(engine)
    inst2 = Linker(engine).instantiate(other, Component.new(engine, GUEST_RESOURCE))
    assert inst2.get_resource(other, "counter") != rt, "each instance has its own type"


VALUES = """
(component
  (type $rec (record (field "a" u8) (field "b" string)))
  (type $v (variant (case "none") (case "some" u32)))
  (type $r (result u32 (error string)))
  (type $o (option (option u32)))
  (type $fl (flags "read" "write" "exec"))
  (type $e (enum "red" "green"))
  (import "echo-rec" (func $echo-rec (param "x" $rec) (result $rec)))
  (export "rec" (type $rec))
)
"""


def test_values_api() -> None:
    r = Record(a=1, b="x")
    assert r.a == 1 and r["b"] == "x" and r == {"a": 1, "b": "x"}
    with pytest.raises(AttributeError):
        r.a = 2
    assert Variant("some", 3) == Variant("some", 3)
    ok: object = Ok(1)  # (typed `object`: mypy knows an Ok never equals an Err; checked here)
    assert ok != Err(1)
    assert repr(Val.u32(7)) == "Val(7: u32)"
    assert Val.string("a") != Val.char("a")


def test_component_error_hierarchy() -> None:
    assert issubclass(DecodeError, ComponentError)
    assert issubclass(ValidationError, ComponentError)
    assert issubclass(LinkError, ComponentError)
    assert issubclass(Trap, ComponentError)


def test_resource_any_type(engine: Engine) -> None:
    anything: Any = ResourceType.host(File)
    assert anything == ResourceType.host(File)
    assert ResourceType.host(File) != ResourceType.host(str)


def test_func_wrap_annotations_are_checked(engine: Engine) -> None:
    c = Component.new(engine, ECHO)

    def good(store: Store, x: int) -> int:
        return x

    def bad(store: Store, x: str) -> int:
        return 0

    def wrong_arity(store: Store) -> int:
        return 0

    linker = Linker(engine)
    linker.root().func_wrap("f", good)
    store = Store(engine)
    run = linker.instantiate(store, c).get_func(store, "run")
    assert run is not None and run(store, 5) == 5
    for fn, msg in ((bad, "annotates `x` as str"), (wrong_arity, "takes 0 arguments")):
        linker2 = Linker(engine)
        linker2.root().func_wrap("f", fn)
        with pytest.raises(LinkError, match=msg):
            linker2.instantiate(Store(engine), c)


def test_linker_module_and_store_data(engine: Engine) -> None:
    import wasmtime

    comp = Component.new(engine, """
    (component
      (import "m" (core module $m (export "f" (func (result i32)))))
      (core instance $i (instantiate $m))
      (func (export "f") (result u32) (canon lift (core func $i "f")))
      (export "mod" (core module $m)))
    """)
    module = wasmtime.Module(engine._core.engine, '(module (func (export "f") (result i32) i32.const 9))')
    linker = Linker(engine)
    linker.root().module("m", module)
    store = Store(engine, {"k": 1})
    inst = linker.instantiate(store, comp)
    f = inst.get_func(store, "f")
    assert f is not None and f(store) == 9
    assert inst.get_module(store, "mod") is not None
    assert store.data == {"k": 1}
    bad = Linker(engine)
    bad.root().module("m", wasmtime.Module(engine._core.engine, "(module)"))
    with pytest.raises(LinkError, match="module export `f` not defined"):
        bad.instantiate(Store(engine), comp)


def test_reexported_imports_are_refused_like_wasmtime(engine: Engine) -> None:
    with pytest.raises(ValidationError, match="reexport of an imported function"):
        Component.new(engine, """
        (component
          (import "f" (func $f))
          (export "f" (func $f)))""")


def test_imported_instance_type_exports_need_no_definition(engine: Engine) -> None:
    c = Component.new(engine, """
    (component
      (import "i" (instance $i (type $t (record (field "x" u32))) (export "t" (type (eq $t)))
                             (export "f" (func (result u32)))))
      (alias export $i "t" (type $t))
      (alias export $i "f" (func $f))
      (core func $fl (canon lower (func $f)))
      (core module $m (import "" "f" (func $f (result i32)))
        (func (export "f") (result i32) (call $f)))
      (core instance $c (instantiate $m (with "" (instance (export "f" (func $fl))))))
      (func (export "f") (result u32) (canon lift (core func $c "f"))))""")
    linker = Linker(engine)
    linker.instance("i").func_wrap("f", lambda store: 3)
    store = Store(engine)
    f = linker.instantiate(store, c).get_func(store, "f")
    assert f is not None and f(store) == 3


def test_epoch_deadline_is_passed_through() -> None:
    import wasmtime

    config = wasmtime.Config()
    config.epoch_interruption = True
    engine = Engine(config)
    store = Store(engine)
    store.set_epoch_deadline(1)
    inst = Linker(engine).instantiate(store, Component.new(engine, """
    (component
      (core module $m (func (export "spin") (loop $l (br $l))))
      (core instance $i (instantiate $m))
      (func (export "spin") (canon lift (core func $i "spin"))))"""))
    spin = inst.get_func(store, "spin")
    assert spin is not None
    import threading

    timer = threading.Timer(0.2, engine.increment_epoch)
    timer.start()
    with pytest.raises(Trap, match="interrupt"):
        spin(store)
    timer.cancel()


def test_unknown_imports_keep_one_type_per_resource(engine: Engine) -> None:
    # A WIT `use` of a resource: the second instance re-exports the first one's type.
    c = Component.new(engine, """
    (component
      (import "a:b/poll" (instance $poll (export "pollable" (type (sub resource)))))
      (alias export $poll "pollable" (type $p))
      (import "a:b/clock" (instance (export "pollable" (type (eq $p)))
                                    (export "now" (func (result u64))))))""")
    linker = Linker(engine)
    linker.define_unknown_imports_as_traps(c)
    linker.instantiate(Store(engine), c)


def test_functypes_are_not_shared_across_engines() -> None:
    for _ in range(3):
        engine = Engine()
        store = Store(engine)
        linker = Linker(engine)
        linker.root().func_wrap("f", lambda store, x: x)
        run = linker.instantiate(store, Component.new(engine, ECHO)).get_func(store, "run")
        assert run is not None and run(store, 5) == 5
