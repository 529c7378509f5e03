"""The rest of wasmtime 51's sync ``wasmtime::component`` API, in Python form:
``Linker.substituted_component_type``, ``Linker.define_unknown_imports_as_default_values``,
``Component.resources_required``, ``Instance.instance_pre`` / ``InstancePre.component``,
``ResourceAny.try_into_resource`` / ``Resource.try_from_resource_any`` (and back), and an
``ExportIndex`` that carries the export's type (checked against ``wasmtime.component``'s
``Component.type.exports`` and ``get_export_index`` where wasmtime-py 50 has them)."""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime
import wasmtime.component as wc

from wasm_component import (
    Component,
    Engine,
    ExportIndex,
    Linker,
    LinkError,
    Ok,
    Record,
    Resource,
    ResourceAny,
    ResourcesRequired,
    ResourceTable,
    ResourceType,
    Store,
    Trap,
    Variant,
    types,
)
from wasm_component.linker import default_value


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


# -- ExportIndex carries the export's type ---------------------------------------------------

EXPORTS = """(component
  (core module $m
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "neg") (param i64) (result i64) (i64.sub (i64.const 0) (local.get 0)))
    (func (export "flag") (result i32) (i32.const 1)))
  (core instance $i (instantiate $m))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func $neg (param "x" s64) (result s64) (canon lift (core func $i "neg")))
  (func $flag (result bool) (canon lift (core func $i "flag")))
  (export "add" (func $add))
  (export "neg" (func $neg))
  (instance $api (export "flag" (func $flag)) (export "add2" (func $add)))
  (export "my:pkg/api" (instance $api)))"""


def _their_type_name(ty: Any) -> str:
    return type(ty).__name__.lower()


def test_component_export_index_types_match_wasmtime(engine: Engine) -> None:
    ours = Component.new(engine, EXPORTS)
    e = wasmtime.Engine()
    theirs = wc.Component(e, EXPORTS)
    their_exports = theirs.type.exports(e)
    for name in ("add", "neg", "my:pkg/api", "nope"):
        idx = ours.get_export_index(name)
        assert (idx is None) == (theirs.get_export_index(name) is None), name
        if idx is None:
            continue
        assert idx.path == (name,)
        if name == "my:pkg/api":
            assert isinstance(idx.type, types.InstanceType)
            continue
        fty = their_exports[name].ty
        assert isinstance(fty, wc.FuncType) and isinstance(idx.type, types.FuncType)
        assert [n for n, _ in idx.type.params] == [n for n, _ in fty.params]
        assert [p.wit() for _, p in idx.type.params] == [_their_type_name(p) for _, p in fty.params]
        assert idx.type.result is not None and idx.type.result.wit() == _their_type_name(fty.result)
    api = ours.get_export_index("my:pkg/api")
    flag = ours.get_export_index("flag", api)
    their_api = theirs.get_export_index("my:pkg/api")
    assert (flag is None) == (theirs.get_export_index("flag", their_api) is None)
    assert flag is not None and isinstance(flag.type, types.FuncType)
    assert flag.type.result == types.BOOL and flag.path == ("my:pkg/api", "flag")


def test_instance_export_index_types(engine: Engine) -> None:
    c = Component.new(engine, EXPORTS)
    store = Store(engine)
    inst = Linker(engine).instantiate(store, c)
    idx = inst.get_export_index(store, "add")
    assert idx is not None and idx.type == c.get_export_index("add").type  # type: ignore[union-attr]
    api = inst.get_export_index(store, "my:pkg/api")
    assert api is not None and isinstance(api.type, types.InstanceType)
    assert {n for n, _ in api.type.exports} == {"flag", "add2"}
    f = inst.get_export_index(store, "add2", api)
    assert f is not None and isinstance(f.type, types.FuncType)
    func = inst.get_func(store, f)
    assert func is not None and func(store, 2, 3) == 5
    # indices compare by path (the type is carried along, not part of identity)
    assert ExportIndex(("add",)) == idx
    assert inst.get_func(store, ExportIndex(("add",))) is inst.get_func(store, idx)


# -- Instance.instance_pre / InstancePre.component -------------------------------------------


def test_instance_pre_of_instance(engine: Engine) -> None:
    c = Component.new(engine, EXPORTS)
    linker = Linker(engine)
    pre = linker.instantiate_pre(c)
    store = Store(engine)
    inst = pre.instantiate(store)
    assert inst.instance_pre(store) is pre and pre.component is c
    # via Linker.instantiate too, and usable for a fresh store
    inst2 = linker.instantiate(store, c)
    again = inst2.instance_pre(store)
    assert again.component is c
    other = Store(engine)
    f = again.instantiate(other).get_func(other, "neg")
    assert f is not None and f(other, 4) == -4
    with pytest.raises(ValueError, match="different store"):
        inst.instance_pre(other)


# -- Component.resources_required ------------------------------------------------------------


def test_resources_required_counts_instantiations(engine: Engine) -> None:
    c = Component.new(engine, """(component
      (core module $m (memory 3) (table 2 funcref))
      (core module $n (memory 7) (memory 1))
      (core module $unused (memory 100))
      (core instance (instantiate $m)) (core instance (instantiate $m))
      (core instance (instantiate $n)))""")
    assert c.resources_required() == ResourcesRequired(4, 7, 2, 2)


def test_resources_required_excludes_imported_memories(engine: Engine) -> None:
    c = Component.new(engine, """(component
      (core module $a (memory (export "m") 2) (table (export "t") 5 funcref))
      (core module $b (import "" "m" (memory 1)) (import "" "t" (table 1 funcref))
        (table 9 funcref))
      (core instance $a (instantiate $a))
      (core instance (instantiate $b (with "" (instance $a)))))""")
    assert c.resources_required() == ResourcesRequired(1, 2, 2, 9)


def test_resources_required_nested_components(engine: Engine) -> None:
    c = Component.new(engine, """(component
      (component $inner
        (core module $m (memory 4))
        (core instance (instantiate $m)))
      (instance (instantiate $inner))
      (instance (instantiate $inner)))""")
    assert c.resources_required() == ResourcesRequired(2, 4, 0, None)
    assert Component.new(engine, "(component)").resources_required() == ResourcesRequired()


def test_resources_required_follows_module_arguments(engine: Engine) -> None:
    """A module passed to a nested component (or reached by an outer alias) is known
    statically, as in wasmtime: each instantiation counts it with its argument."""
    c = Component.new(engine, """(component
      (core module $big (memory 5))
      (core module $small (memory 1) (table 3 funcref))
      (component $runs
        (import "m" (core module $m))
        (core instance (instantiate $m)))
      (component $outer
        (alias outer 1 $small (core module $s))
        (core instance (instantiate $s)))
      (instance (instantiate $runs (with "m" (core module $big))))
      (instance (instantiate $runs (with "m" (core module $small))))
      (instance (instantiate $outer)))""")
    assert c.resources_required() == ResourcesRequired(3, 5, 2, 3)


def test_resources_required_unknown_for_imported_module(engine: Engine) -> None:
    c = Component.new(engine, """(component
      (import "m" (core module $m))
      (core instance (instantiate $m)))""")
    assert c.resources_required() is None


def test_resources_required_agrees_with_store_limits(engine: Engine) -> None:
    """The static count is what instantiation creates: a store allowing exactly that many
    memories and tables instantiates it, one fewer of either traps."""
    c = Component.new(engine, """(component
      (core module $m (memory 1) (table 1 funcref))
      (core module $n (memory 1))
      (core instance (instantiate $m)) (core instance (instantiate $m))
      (core instance (instantiate $n)))""")
    need = c.resources_required()
    assert need is not None and (need.num_memories, need.num_tables) == (3, 2)
    for mems, tables, ok in ((3, 2, True), (2, 2, False), (3, 1, False)):
        store = Store(engine)
        store.limiter(memories=mems, tables=tables)
        if ok:
            Linker(engine).instantiate(store, c)
        else:
            with pytest.raises(Trap):
                Linker(engine).instantiate(store, c)


# -- define_unknown_imports_as_default_values ------------------------------------------------

TUPLE = ("tuple u32 string (list u32) (list u8) (option u8) (result u32 (error string)) bool "
         "char f64 s64")
DEFAULTS = """(component
  (import "f" (func $f (param "x" u32) (result ({tuple}))))
  (import "g" (func $g))
  (import "iface" (instance $iface (export "h" (func (result u32)))))
  (alias export $iface "h" (func $h))
  (core module $mem
    (memory (export "mem") 1)
    (global $p (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $r i32)
      (local.set $r (i32.and (i32.add (global.get $p) (i32.const 7)) (i32.const -8)))
      (global.set $p (i32.add (local.get $r) (local.get 3)))
      (local.get $r)))
  (core instance $mi (instantiate $mem))
  (core func $lf (canon lower (func $f) (memory $mi "mem") (realloc (func $mi "realloc"))))
  (core func $lg (canon lower (func $g)))
  (core func $lh (canon lower (func $h)))
  (core module $w
    (import "" "f" (func $f (param i32 i32)))
    (import "" "g" (func $g))
    (import "" "h" (func $h (result i32)))
    (func (export "f") (param i32) (result i32) (call $f (local.get 0) (i32.const 16))
      (i32.const 16))
    (func (export "g") (call $g))
    (func (export "h") (result i32) (call $h)))
  (core instance $wi (instantiate $w (with "" (instance
    (export "f" (func $lf)) (export "g" (func $lg)) (export "h" (func $lh))))))
  (func (export "f") (param "x" u32) (result ({tuple}))
    (canon lift (core func $wi "f") (memory $mi "mem") (realloc (func $mi "realloc"))))
  (func (export "g") (canon lift (core func $wi "g")))
  (func (export "h") (result u32) (canon lift (core func $wi "h"))))""".replace(
    "{tuple}", TUPLE).replace('(memory $mi "mem")', '(memory (core memory $mi "mem"))').replace(
    '(realloc (func $mi "realloc"))', '(realloc (core func $mi "realloc"))')


def test_default_values_end_to_end(engine: Engine) -> None:
    c = Component.new(engine, DEFAULTS)
    linker = Linker(engine)
    linker.define_unknown_imports_as_default_values(c)
    store = Store(engine)
    inst = linker.instantiate(store, c)
    f, g, h = (inst.get_func(store, n) for n in ("f", "g", "h"))
    assert f is not None and g is not None and h is not None
    assert f(store, 9) == (0, "", [], b"", None, Ok(0), False, "\0", 0.0, 0)
    assert g(store) is None
    assert h(store) == 0


def test_default_values_keep_existing_definitions(engine: Engine) -> None:
    c = Component.new(engine, DEFAULTS)
    linker = Linker(engine)
    linker.instance("iface").func_wrap("h", lambda store: 42)
    linker.define_unknown_imports_as_default_values(c)
    store = Store(engine)
    h = linker.instantiate(store, c).get_func(store, "h")
    assert h is not None and h(store) == 42


def test_traps_and_defaults_share_one_mechanism(engine: Engine) -> None:
    c = Component.new(engine, DEFAULTS)
    linker = Linker(engine)
    linker.define_unknown_imports_as_traps(c)
    store = Store(engine)
    h = linker.instantiate(store, c).get_func(store, "h")
    assert h is not None
    with pytest.raises(Trap, match="unknown import `iface#h` was called"):
        h(store)


def test_default_value_of_each_type() -> None:
    t = types
    assert default_value(t.RecordType((("link-count", t.U64), ("name", t.STRING)))) == \
        Record({"link-count": 0, "name": ""})
    assert default_value(t.VariantType((("a", t.U8), ("b", None)))) == Variant("a", 0)
    assert default_value(t.VariantType((("none", None), ("b", t.U8)))) == Variant("none")
    assert default_value(t.EnumType(("first", "second"))) == "first"
    assert default_value(t.FlagsType(("r", "w"))) == frozenset()
    assert default_value(t.OptionType(t.STRING)) is None
    assert default_value(t.ResultType(None, t.STRING)) == Ok(None)
    assert default_value(t.ListType(t.U16, 3)) == [0, 0, 0]
    assert default_value(t.TupleType((t.F32, t.CHAR))) == (0.0, "\0")
    r = ResourceType.host(object, "thing")
    # an option of a handle defaults to none; a handle itself has no default
    assert default_value(t.OptionType(t.OwnType(r))) is None
    with pytest.raises(LinkError, match="has no default value"):
        default_value(t.OwnType(r), "mk")


RESOURCE_RESULT = """(component
  (import "file" (type $f (sub resource)))
  (import "open" (func $open (result (own $f))))
  (import "size" (func $size (result u64)))
  (core func $open_c (canon lower (func $open)))
  (core func $size_c (canon lower (func $size)))
  (core module $m
    (import "" "open" (func $open (result i32)))
    (import "" "size" (func $size (result i64)))
    (func (export "id") (param i32) (result i32) local.get 0)
    (func (export "open") (result i32) call $open)
    (func (export "size") (result i64) call $size))
  (core instance $i (instantiate $m (with "" (instance
    (export "open" (func $open_c)) (export "size" (func $size_c))))))
  (func (export "id") (param "h" (own $f)) (result (own $f)) (canon lift (core func $i "id")))
  (func (export "open") (result (own $f)) (canon lift (core func $i "open")))
  (func (export "size") (result u64) (canon lift (core func $i "size"))))"""


class File:
    def __init__(self, name: str) -> None:
        self.name = name


def test_default_values_refuse_a_resource_result(engine: Engine) -> None:
    c = Component.new(engine, RESOURCE_RESULT)
    linker = Linker(engine)
    with pytest.raises(LinkError, match=r"`open`: own<.*> has no default value"):
        linker.define_unknown_imports_as_default_values(c)
    # nothing was defined by the failed call
    with pytest.raises(LinkError, match="not defined"):
        linker.instantiate_pre(c)
    # defining the resource's functions first, the rest get defaults
    table = ResourceTable()
    linker.root().resource("file", ResourceType.host(File))
    linker.root().func_wrap("open", lambda store: table.push(File("a")))
    linker.define_unknown_imports_as_default_values(c)
    store = Store(engine)
    inst = linker.instantiate(store, c)
    size, open_ = inst.get_func(store, "size"), inst.get_func(store, "open")
    assert size is not None and open_ is not None
    assert size(store) == 0
    assert table.get(open_(store)).name == "a"


# -- substituted_component_type --------------------------------------------------------------


def test_substituted_component_type_resolves_resources(engine: Engine) -> None:
    c = Component.new(engine, RESOURCE_RESULT)
    static = dict(c.component_type().imports)["file"]
    assert isinstance(static, types.TypeBound) and static.eq.kind == "abstract"  # type: ignore[attr-defined]
    linker = Linker(engine)
    with pytest.raises(LinkError):
        linker.substituted_component_type(c)
    host = ResourceType.host(File)
    linker.root().resource("file", host)
    linker.root().func_wrap("open", lambda store: None)
    linker.root().func_wrap("size", lambda store: 0)
    ty = linker.substituted_component_type(c)
    imports, exports = dict(ty.imports), dict(ty.exports)
    assert imports["file"] == types.TypeBound(host)
    assert imports["open"] == types.FuncType((), types.OwnType(host))
    ident = exports["id"]
    assert isinstance(ident, types.FuncType)
    assert ident.params == (("h", types.OwnType(host)),) and ident.result == types.OwnType(host)
    # the component's own static type is left as it was
    assert dict(c.component_type().imports)["file"] == static


def test_substituted_component_type_with_an_instance_resource(engine: Engine) -> None:
    """A resource supplied by another component's instance (``define_instance``) is that
    instance's concrete guest type."""
    provider = Component.new(engine, """(component
      (type $r (resource (rep i32)))
      (export $re "file" (type $r)))""")
    store = Store(engine)
    pinst = Linker(engine).instantiate(store, provider)
    concrete = pinst.get_resource(store, "file")
    assert concrete is not None and concrete.kind == "guest"
    consumer = Component.new(engine, """(component
      (import "dep" (instance $d (export "file" (type (sub resource)))))
      (alias export $d "file" (type $f))
      (import "take" (func (param "f" (borrow $f)))))""")
    linker = Linker(engine)
    linker.define_instance("dep", pinst)
    linker.root().func_wrap("take", lambda store, f: None)
    ty = linker.substituted_component_type(consumer)
    take = dict(ty.imports)["take"]
    assert isinstance(take, types.FuncType) and take.params == (("f", types.BorrowType(concrete)),)


# -- ResourceAny <-> Resource ----------------------------------------------------------------


def _host_setup(engine: Engine) -> tuple[Store, Any, ResourceTable, list[int]]:
    table = ResourceTable()
    dropped: list[int] = []
    linker = Linker(engine)
    linker.root().resource("file", ResourceType.host(File), lambda store, rep: dropped.append(rep))
    linker.root().func_wrap("open", lambda store: table.push(File("x")))
    linker.root().func_wrap("size", lambda store: 1)
    store = Store(engine)
    return store, linker.instantiate(store, Component.new(engine, RESOURCE_RESULT)), table, dropped


def test_resource_any_round_trip(engine: Engine) -> None:
    store, inst, table, _dropped = _host_setup(engine)
    r = table.push(File("y"))
    any_ = r.try_into_resource_any(store)
    assert isinstance(any_, ResourceAny) and any_.owned and any_.rep == r.rep
    assert any_.resource_type == ResourceType.host(File)
    with pytest.raises(ValueError, match="already moved"):
        r.try_into_resource_any(store)
    back = Resource.try_from_resource_any(any_, store, File)
    assert back == Resource(r.rep, ResourceType.host(File), True)
    with pytest.raises(ValueError, match="already dropped or moved"):
        any_.try_into_resource(store)
    # a ResourceAny of a host type passes to a guest and comes back a Resource
    ident = inst.get_func(store, "id")
    assert ident is not None
    got = ident(store, ResourceAny.try_from_resource(back, store))
    assert isinstance(got, Resource) and table.get(got).name == "y"


def test_resource_any_drop_runs_host_dtor(engine: Engine) -> None:
    store, _inst, table, dropped = _host_setup(engine)
    r = table.push(File("z"))
    any_ = r.try_into_resource_any(store)
    any_.drop(store)
    assert dropped == [r.rep]


GUEST = """(component
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core module $m (import "" "new" (func $new (param i32) (result i32)))
    (func (export "mk") (result i32) (call $new (i32.const 7))))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
  (export $re "r" (type $r))
  (func $mk (result (own $re)) (canon lift (core func $i "mk")))
  (export "mk" (func $mk))
  (instance $api (export "mk" (func $mk)))
  (export "api" (instance $api)))"""


def test_instance_export_types_name_concrete_resources(engine: Engine) -> None:
    """From a component the type is static (an abstract resource); from an instance it names
    the instance's own resource type."""
    c = Component.new(engine, GUEST)
    static = c.get_export_index("mk")
    assert static is not None and isinstance(static.type, types.FuncType)
    assert isinstance(static.type.result, types.OwnType)
    assert static.type.result.resource.kind == "abstract"
    store = Store(engine)
    inst = Linker(engine).instantiate(store, c)
    rt = inst.get_resource(store, "r")
    assert rt is not None and rt.kind == "guest"
    idx = inst.get_export_index(store, "mk")
    assert idx is not None and idx.type == types.FuncType((), types.OwnType(rt))
    api = inst.get_export_index(store, "api")
    assert api is not None and api.type == types.InstanceType(
        (("mk", types.FuncType((), types.OwnType(rt))),))


def test_try_into_resource_refusals(engine: Engine) -> None:
    store, _inst, table, _ = _host_setup(engine)
    any_ = table.push(File("w")).try_into_resource_any(store)
    with pytest.raises(TypeError, match="expected a handle to `str`"):
        any_.try_into_resource(store, str)
    with pytest.raises(ValueError, match="different store"):
        any_.try_into_resource(Store(engine))
    with pytest.raises(TypeError, match="expected a ResourceAny"):
        Resource.try_from_resource_any(table.push(File("v")), store)  # type: ignore[arg-type]
    guest = Component.new(engine, GUEST)
    gstore = Store(engine)
    mk = Linker(engine).instantiate(gstore, guest).get_func(gstore, "mk")
    assert mk is not None
    handle = mk(gstore)
    assert isinstance(handle, ResourceAny)
    with pytest.raises(TypeError, match="guest-defined resource"):
        handle.try_into_resource(gstore)
    handle.drop(gstore)  # still usable after the refusal
