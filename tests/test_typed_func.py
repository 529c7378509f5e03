"""Typed functions from Python annotations (``TypedFunc[P, R]``, ``Instance.exports_as``), and a
user's own dataclasses, enums, flags and case classes as the mapping of WIT types, both ways:
exports called from the host and host functions called by the guest.

This file is under ``mypy --strict`` (as all of ``tests/``): the calls below are checked
statically against the annotations they were typed with; :func:`test_mypy_infers_the_call`
also runs mypy on a snippet and reads what it infers and rejects.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, TypedDict

import pytest

from wasm_component import (
    Component,
    Engine,
    Err,
    ExportIndex,
    ExportNotFound,
    Instance,
    Linker,
    LinkError,
    Ok,
    Record,
    Resource,
    ResourceAny,
    ResourceType,
    Some,
    Store,
    TypedFunc,
    Variant,
    types,
)
from wasm_component._abi.func import func_abi
from wasm_component.typed import wit_name
from wasm_component.values import Result

from .cache import CACHE
from .exports import export_func

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"


# -- the user's classes for examples/bindgen/roundtrip.wit's types ---------------------------


@dataclass(frozen=True)
class Point:  # record point { x: f64, y: f64 }
    x: float
    y: float


@dataclass(frozen=True)
class Circle:  # variant shape { circle(f64), rect(point), none }
    radius: float


@dataclass(frozen=True)
class ShapeRect:  # named for its case by suffix
    corner: Point


@wit_name("none")
@dataclass(frozen=True)
class Nothing:
    pass


Shape = Circle | ShapeRect | Nothing


class Color(enum.Enum):  # enum color { red, green, blue }
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Perms(enum.Flag):  # flags perms { read, write, exec }: same bit order
    READ = enum.auto()
    WRITE = enum.auto()
    EXEC = enum.auto()


class Shuffled(enum.Flag):  # the same flags in another bit order (converted bit by bit)
    EXEC = 1
    READ = 2
    WRITE = 4


@dataclass
class Item:  # record item { name, color, perms, tags, pos: option<point> }
    name: str
    color: Color
    perms: Perms
    tags: list[str]
    pos: Point | None


class PointDict(TypedDict):
    x: float
    y: float


# -- the component and a host written with those classes --------------------------------------


class Seen:
    def __init__(self) -> None:
        self.values: list[Any] = []


class Log:
    pass


def _host(linker: Linker[Seen]) -> None:
    h = linker.instance("test:bg/host@0.1.0")
    h.resource("logger", ResourceType.host(Log))
    h.func_wrap("[constructor]logger", lambda store, prefix: Resource.new_own(
        1, ResourceType.host(Log)))
    h.func_wrap("[method]logger.log", lambda store, self_, msg: len(msg))
    h.func_wrap("[static]logger.count", lambda store: 0)

    def echo_record(store: Store[Seen], x: Point) -> Point:
        store.data.values.append(x)
        return Point(x.x + 1, x.y * 2)

    def echo_variant(store: Store[Seen], x: Shape) -> Shape:
        store.data.values.append(x)
        return x

    def echo_enum(store: Store[Seen], x: Color) -> Color:
        store.data.values.append(x)
        return Color.BLUE if x is Color.RED else x

    def echo_flags(store: Store[Seen], x: Perms) -> Perms:
        store.data.values.append(x)
        return x ^ Perms.WRITE

    def echo_list(store: Store[Seen], x: list[Point]) -> list[Point]:
        store.data.values.append(x)
        return [*x, Point(0, 0)]

    def echo_item(store: Store[Seen], x: Item) -> Item:
        store.data.values.append(x)
        return x

    def echo(store: Store[Seen], x: Any) -> Any:
        store.data.values.append(x)
        return x

    typed_echoes: list[tuple[str, Callable[..., Any]]] = [("echo-record", echo_record), ("echo-variant", echo_variant),
        ("echo-enum", echo_enum), ("echo-flags", echo_flags), ("echo-list", echo_list),
        ("echo-item", echo_item)]
    for name, fn in typed_echoes:
        h.func_wrap(name, fn)
    for name in ("echo-option", "echo-result", "echo-tuple", "echo-bytes"):
        h.func_wrap(name, echo)
    h.func_wrap("check", lambda store, x: Ok(x))
    linker.root().func_wrap("name", lambda store: "world")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def roundtrip(engine: Engine) -> Component:
    return Component.from_file(engine, EX / "bindgen" / "roundtrip.wat")


@dataclass
class App:
    store: Store[Seen]
    instance: Instance
    api: ExportIndex

    def index(self, name: str) -> ExportIndex:
        idx = self.instance.get_export_index(self.store, name, self.api)
        assert idx is not None, name
        return idx

    @property
    def seen(self) -> list[Any]:
        return self.store.data.values


@pytest.fixture
def app(engine: Engine, roundtrip: Component) -> App:
    linker: Linker[Seen] = Linker(engine)
    _host(linker)
    store = Store(engine, Seen())
    instance = linker.instantiate(store, roundtrip)
    api = instance.get_export_index(store, "test:bg/api@0.1.0")
    assert api is not None
    return App(store, instance, api)


# -- TypedFunc from annotations ---------------------------------------------------------------


@pytest.fixture(scope="module")
def greeter(engine: Engine) -> tuple[Store[None], Instance]:
    store = Store(engine)
    component = Component.from_file(engine, EX / "greeter.wat")
    return store, Linker(engine).instantiate(store, component)


def test_callable_annotation_gives_a_typed_func(greeter: tuple[Store[None], Instance]) -> None:
    store, inst = greeter
    add: TypedFunc[[int, int], int] = inst.get_typed_func(store, "add", Callable[[int, int], int])
    total: int = add(store, 40, 2)
    assert total == 42
    greet = inst.get_typed_func(store, "greet", Callable[[str], str])
    assert greet(store, "Ann") == "Hello, Ann!"
    # without classes of the user's, the call path is the untyped function's own
    assert add._call is export_func(inst, store, "add")._host_call()


def test_component_types_still_work(greeter: tuple[Store[None], Instance]) -> None:
    store, inst = greeter
    add = inst.get_typed_func(store, "add", (types.U32, types.U32), types.U32)
    assert add(store, 1, 2) == 3
    with pytest.raises(LinkError, match=r"`add`: expected type"):
        inst.get_typed_func(store, "add", (types.U32,), types.U32)


def test_a_stub_function_gives_names_and_keywords(greeter: tuple[Store[None], Instance]) -> None:
    store, inst = greeter

    def add(a: int, b: int) -> int:
        raise NotImplementedError  # only its signature is read

    typed = inst.get_typed_func(store, "add", add)
    assert typed(store, 1, b=2) == 3
    assert typed(store, a=5, b=6) == 11
    with pytest.raises(TypeError, match=r"`add`: expected 2 arguments, got 1"):
        typed(store, 1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"`add`: missing argument `b`"):
        typed(store, 1, c=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"`add`: unexpected argument `c`"):
        typed(store, 1, b=2, c=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(("ann", "message"), [
    (Callable[[str, int], int],
     r"`add`: parameter `a` is u32: expected int, got str$"),
    (Callable[[int, int], str],
     r"`add`: the result is u32: expected int, got str$"),
    (Callable[[int], int],
     r"`add`: expected 2 parameters \(func\(a: u32, b: u32\) -> u32\), got 1$"),
    (Callable[[int, int], None],
     r"`add`: the result is u32: expected int, got None$"),
    (Callable[[float, int], int],
     r"`add`: parameter `a` is u32: expected int, got float$"),
])
def test_a_mismatch_names_the_export_and_parameter(
        greeter: tuple[Store[None], Instance], ann: Any, message: str) -> None:
    store, inst = greeter
    with pytest.raises(TypeError, match=message):
        inst.get_typed_func(store, "add", ann)


def test_unknown_export_is_export_not_found(greeter: tuple[Store[None], Instance]) -> None:
    store, inst = greeter
    with pytest.raises(ExportNotFound, match=r"no function export `nope`"):
        inst.get_typed_func(store, "nope", Callable[[], None])


def test_library_forms_fit(app: App) -> None:
    """Without classes of the user's: the library's own forms (Record, Variant, str for an
    enum, frozenset for flags, Some, Ok/Err through `Result`, tuple, bytes)."""
    s = app.store
    rec = app.instance.get_typed_func(s, app.index("echo-record"), Callable[[Record], Record])
    assert rec(s, Record(x=1.0, y=2.0)) == {"x": 2.0, "y": 4.0}
    var = app.instance.get_typed_func(s, app.index("echo-variant"),
                                      Callable[[Variant], Variant])
    assert var(s, Variant("circle", 1.5)) == Variant("circle", 1.5)
    en = app.instance.get_typed_func(s, app.index("echo-enum"), Callable[[str], str])
    assert en(s, "red") == "blue"
    fl = app.instance.get_typed_func(s, app.index("echo-flags"),
                                     Callable[[set[str]], frozenset[str]])
    assert fl(s, {"read"}) == {"read", "write"}
    opt = app.instance.get_typed_func(s, app.index("echo-option"),
                                      Callable[[int | None], Some[int | None] | None])
    assert opt(s, 3) == Some(3)
    res = app.instance.get_typed_func(s, app.index("echo-result"),
                                      Callable[[Ok[str] | Err[int]], Ok[str] | Err[int]])
    assert res(s, Err(7)) == Err(7)
    tup = app.instance.get_typed_func(s, app.index("echo-tuple"),
                                      Callable[[tuple[int, str]], tuple[int, str]])
    assert tup(s, (1, "a")) == (1, "a")
    byt = app.instance.get_typed_func(s, app.index("echo-bytes"),
                                      Callable[[Sequence[int]], bytes])
    assert byt(s, [1, 2]) == b"\x01\x02"


@pytest.mark.parametrize(("export", "ann", "message"), [
    ("echo-bytes", Callable[[bytes], list[int]],
     r"the result is list<u8>: expected bytes, got list\[int\]"),
    ("echo-option", Callable[[int | None], int | None],
     r"the result is option<option<u32>>: expected Some\[int \| None\] \| None"),
    ("echo-result", Callable[[Ok[str]], Ok[str]],
     r"the result is result<string, u32>: expected Ok\[str\] \| Err\[int\], got Ok\[str\]"),
    ("echo-tuple", Callable[[tuple[int], Any], Any],
     r"expected 1 parameter \(.*\), got 2"),
    ("echo-tuple", Callable[[tuple[int, int]], Any],
     r"parameter `x` is tuple<u8, string>: expected str, got int in element 1 of tuple"),
    ("echo-item", Callable[[Item], Point],
     r"the result is record \{ name: string.*: expected a class with fields name, color, "
     r"perms, tags, pos, got Point with fields x, y"),
    ("echo-list", Callable[[list[Item]], Any],
     r"parameter `x` is list<record \{ x: f64, y: f64 \}>: expected a class with fields x, y, "
     r"got Item .* in element of list"),
    ("echo-flags", Callable[[Color], Any],
     r"expected an enum.Flag with members read, write, exec \(or frozenset\[str\]\), "
     r"got Color"),
    ("echo-variant", Callable[[Any], Circle | Nothing],
     r"expected a class for every case of circle, rect, none, got .*which lacks one for rect"),
])
def test_mismatches_say_what_and_where(app: App, export: str, ann: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message) as info:
        app.instance.get_typed_func(app.store, app.index(export), ann)
    assert str(info.value).startswith(f"`test:bg/api@0.1.0/{export}`: ")


# -- the user's classes as WIT types ----------------------------------------------------------


def test_a_dataclass_is_a_record_both_ways(app: App) -> None:
    s = app.store
    f = app.instance.get_typed_func(s, app.index("echo-record"), Callable[[Point], Point])
    out: Point = f(s, Point(1.0, 2.0))
    assert out == Point(2.0, 4.0)
    assert app.seen == [Point(1.0, 2.0)]  # the host function was given a Point too
    with pytest.raises(TypeError, match=r"`echo-record`: expected Point, got "
                                        r"dict in parameter \"x\""):
        f(s, {"x": 1.0, "y": 2.0})  # type: ignore[arg-type]


def test_lifting_and_lowering_are_generated_for_the_classes(app: App) -> None:
    """The class is constructed and read by the generated adapters (no per-call walk)."""
    s = app.store
    f = app.instance.get_typed_func(s, app.index("echo-list"),
                                    Callable[[list[Point]], list[Point]])
    assert f(s, [Point(1, 2)]) == [Point(1, 2), Point(0, 0)]
    abi = func_abi(f.type, "utf8", "i32")
    lift = abi.lift_results_host.__wc_source__  # type: ignore[attr-defined]
    lower = abi.lower_params.__wc_source__  # type: ignore[attr-defined]
    # a comprehension making Point(x, y) straight from the unpacked memory
    assert re.search(r"\[_cls\d+\(.*\) for x\d+, x\d+ in _S\d+\.iter_unpack", lift), lift
    assert ".x" in lower and ".y" in lower, lower
    assert f._call is f._call  # made once, kept


def test_a_typeddict_is_a_record(app: App) -> None:
    s = app.store
    f = app.instance.get_typed_func(s, app.index("echo-record"),
                                    Callable[[PointDict], PointDict])
    assert f(s, {"x": 1.0, "y": 1.0}) == {"x": 2.0, "y": 2.0}
    with pytest.raises(TypeError, match=r"PointDict is missing key 'y'"):
        f(s, {"x": 1.0})  # type: ignore[typeddict-item]


def test_an_enum_is_an_enum(app: App) -> None:
    s = app.store
    f = app.instance.get_typed_func(s, app.index("echo-enum"), Callable[[Color], Color])
    assert f(s, Color.RED) is Color.BLUE
    assert f(s, Color.GREEN) is Color.GREEN
    assert app.seen == [Color.RED, Color.GREEN]
    with pytest.raises(TypeError, match=r"expected Color, got str"):
        f(s, "red")  # type: ignore[arg-type]


def test_an_enum_by_member_name_and_a_missing_case(app: App) -> None:
    class Named(enum.Enum):
        RED = 1
        GREEN = 2
        BLUE = 3

    class Short(enum.Enum):
        RED = "red"
        GREEN = "green"

    s = app.store
    f = app.instance.get_typed_func(s, app.index("echo-enum"), Callable[[Named], Named])
    assert f(s, Named.RED) is Named.BLUE
    with pytest.raises(TypeError, match=r"expected an enum.Enum with a member per case of red, "
                                        r"green, blue, got .*Short, which lacks blue"):
        app.instance.get_typed_func(s, app.index("echo-enum"), Callable[[Short], Short])


@pytest.mark.parametrize("cls", [Perms, Shuffled])
def test_a_flag_is_flags(app: App, cls: Any) -> None:
    s = app.store
    f = app.instance.get_typed_func(s, app.index("echo-flags"), Callable[[cls], cls])
    assert f(s, cls.READ | cls.EXEC) == cls.READ | cls.EXEC | cls.WRITE
    assert f(s, cls(0)) == cls.WRITE
    # the host (annotated with Perms) saw the same flags
    assert app.seen == [Perms.READ | Perms.EXEC, Perms(0)]


def test_a_union_of_case_classes_is_a_variant(app: App) -> None:
    s = app.store
    f = app.instance.get_typed_func(s, app.index("echo-variant"), Callable[[Shape], Shape])
    for v in (Circle(1.5), ShapeRect(Point(1, 2)), Nothing()):
        assert f(s, v) == v
    assert app.seen == [Circle(1.5), ShapeRect(Point(1, 2)), Nothing()]
    # a caller may give some of the cases only
    some = app.instance.get_typed_func(s, app.index("echo-variant"),
                                       Callable[[Circle], Shape])
    assert some(s, Circle(2.0)) == Circle(2.0)
    with pytest.raises(TypeError, match=r"expected Circle \| ShapeRect \| Nothing, got Point"):
        f(s, Point(1, 2))  # type: ignore[arg-type]


def test_nested_classes(app: App) -> None:
    s = app.store
    f = app.instance.get_typed_func(s, app.index("echo-item"), Callable[[Item], Item])
    item = Item("n", Color.GREEN, Perms.READ | Perms.WRITE, ["a"], Point(3, 4))
    assert f(s, item) == item
    empty = Item("", Color.RED, Perms(0), [], None)
    assert f(s, empty) == empty
    assert app.seen == [item, empty]


def test_a_class_that_does_not_fit_a_host_import_is_a_link_error(
        engine: Engine, roundtrip: Component) -> None:
    linker: Linker[Seen] = Linker(engine)
    _host(linker)
    linker.allow_shadowing(True)

    def bad(store: Store[Seen], x: Point3) -> Point3:
        return x

    linker.instance("test:bg/host@0.1.0").func_wrap("echo-record", bad)
    with pytest.raises(LinkError, match=r"import `test:bg/host@0.1.0/echo-record`: parameter "
                                        r"`x` is record \{ x: f64, y: f64 \}: expected a class "
                                        r"with fields x, y, got .*Point3 with fields x, y, z"):
        linker.instantiate(Store(engine, Seen()), roundtrip)


@dataclass
class Point3:
    x: float
    y: float
    z: float


# -- kebab-case fields ------------------------------------------------------------------------

KEBAB = """(component
  (type $r (record (field "link-count" u32) (field "size" u32)))
  (export $r2 "r" (type $r))
  (core module $m
    (memory (export "mem") 1)
    (func (export "total") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "make") (param i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (i32.mul (local.get 0) (i32.const 2)))
      (i32.const 16)))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (func (export "total") (param "r" $r2) (result u32) (canon lift (core func $i "total")))
  (func (export "make") (param "n" u32) (result $r2)
    (canon lift (core func $i "make") (memory $mem))))"""


@dataclass(frozen=True)
class Stat:
    link_count: int
    size: int


@dataclass(frozen=True, kw_only=True)
class KwStat:
    size: int
    link_count: int


def test_snake_case_fields_for_kebab_case(engine: Engine) -> None:
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, KEBAB))
    make = inst.get_typed_func(store, "make", Callable[[int], Stat])
    total = inst.get_typed_func(store, "total", Callable[[Stat], int])
    assert make(store, 3) == Stat(link_count=3, size=6)
    assert total(store, Stat(1, 2)) == 3
    kw = inst.get_typed_func(store, "make", Callable[[int], KwStat])
    assert kw(store, 4) == KwStat(link_count=4, size=8)


# -- Protocols of exports ---------------------------------------------------------------------


class Api(Protocol):
    def echo_record(self, x: Point) -> Point: ...
    def echo_enum(self, x: Color) -> Color: ...
    def log_once(self, prefix: str, msg: str) -> int: ...
    def echo_result(self, x: Result[str, int]) -> Result[str, int]: ...

    @wit_name("echo-flags")
    def flags(self, store: Store[Seen], x: Perms) -> Perms: ...


def test_exports_as_a_protocol(app: App) -> None:
    api = app.instance.exports_as(app.store, Api, "test:bg/api@0.1.0")
    assert api.echo_record(Point(1, 1)) == Point(2, 2)
    assert api.echo_record(x=Point(0, 1)) == Point(1, 2)
    assert api.echo_enum(Color.RED) is Color.BLUE
    assert api.echo_result(Ok("fine")) == Ok("fine")
    assert api.log_once("> ", "hello") == len("hello")  # the host's `log` gives len(msg)
    assert api.flags(app.store, Perms.READ) == Perms.READ | Perms.WRITE
    with pytest.raises(ValueError, match=r"different store"):
        api.flags(Store(Engine(), Seen()), Perms.READ)


def test_exports_as_checks_every_method(app: App) -> None:
    class Wrong(Protocol):
        def echo_record(self, x: Point) -> int: ...

    class Missing(Protocol):
        def nope(self) -> None: ...

    class Attr(Protocol):
        x: int

    class NoSuchInterface(Protocol):
        other: Api

    with pytest.raises(TypeError, match=r"`Wrong.echo_record` \(`echo-record`\): the result is "
                                        r"record \{ x: f64, y: f64 \}: expected a dataclass"):
        app.instance.exports_as(app.store, Wrong, "test:bg/api@0.1.0")
    with pytest.raises(ExportNotFound, match=r"`Missing.nope` is the export `nope`"):
        app.instance.exports_as(app.store, Missing, "test:bg/api@0.1.0")
    with pytest.raises(TypeError, match=r"`Attr.x` is an attribute of type int"):
        app.instance.exports_as(app.store, Attr)
    with pytest.raises(ExportNotFound, match=r"`NoSuchInterface.other` is the exported "
                                             r"interface `other`, but the instance has none"):
        app.instance.exports_as(app.store, NoSuchInterface)
    with pytest.raises(TypeError, match=r"expected a typing.Protocol class, got Point"):
        app.instance.exports_as(app.store, Point)
    with pytest.raises(ExportNotFound, match=r"no instance export `nope`"):
        app.instance.exports_as(app.store, Api, "nope")


class World(Protocol):
    api: Annotated[Api, "test:bg/api@0.1.0"]

    def greet(self) -> str: ...


def test_exports_as_with_an_interface(app: App) -> None:
    world = app.instance.exports_as(app.store, World)
    assert world.greet() == "world"  # the host's `name`
    assert world.api.echo_enum(Color.GREEN) is Color.GREEN


def test_exports_as_at_the_top_level(greeter: tuple[Store[None], Instance]) -> None:
    class Greeter(Protocol):
        def greet(self, name: str) -> str: ...
        def add(self, a: int, b: int) -> int: ...

    store, inst = greeter
    g = inst.exports_as(store, Greeter)
    assert g.greet("Bo") == "Hello, Bo!"
    assert g.add(2, 3) == 5
    assert isinstance(repr(g), str)


# -- what mypy infers -------------------------------------------------------------------------

SNIPPET = """
from collections.abc import Callable
from typing import Protocol
from wasm_component import Component, Engine, Linker, Store

class Calc(Protocol):
    def add(self, a: int, b: int) -> int: ...

engine = Engine()
store = Store(engine)
instance = Linker(engine).instantiate(store, Component.from_file(engine, "x.wasm"))
add = instance.get_typed_func(store, "add", Callable[[int, int], int])
reveal_type(add)
reveal_type(add(store, 1, 2))
add(store, "1", 2)
calc = instance.exports_as(store, Calc)
reveal_type(calc.add(1, 2))
"""


def test_mypy_infers_the_call(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    src = tmp_path / "snippet.py"
    src.write_text(SNIPPET)
    env = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(ROOT / "src")
    try:
        out, err, _ = api.run(["--strict", "--no-error-summary", "--cache-dir",
                               str(CACHE / "mypy-typed-func"), str(src)])
    finally:
        if env is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = env
    lines = [line.split(": ", 1)[1] for line in out.splitlines() if ": " in line]
    assert 'note: Revealed type is "wasm_component.func.TypedFunc[[int, int], int]"' in lines, out
    assert lines.count('note: Revealed type is "int"') == 2, out
    assert any(line.startswith('error: Argument 2 to "__call__" of "TypedFunc" has '
                               'incompatible type "str"; expected "int"') for line in lines), out
    assert len([line for line in lines if line.startswith("error")]) == 1, out + err


# -- the generated adapters alone (flat values, no memory) ------------------------------------

TWELVE = tuple(f"f{i}" for i in range(12))


class Wide(enum.Flag):  # twelve flags, declared in reverse: two tables, bits converted
    F11 = 1
    F10 = 2
    F9 = 4
    F8 = 8
    F7 = 16
    F6 = 32
    F5 = 64
    F4 = 128
    F3 = 256
    F2 = 512
    F1 = 1024
    F0 = 2048


def test_flags_wider_than_a_byte_round_trip() -> None:
    from wasm_component._abi import build_lift_flat, build_lower_flat
    from wasm_component.typed import fit

    ty = fit(Wide, types.FlagsType(TWELVE), inbound=False)
    lift, lower = build_lift_flat(ty), build_lower_flat(ty)
    for v in (Wide(0), Wide.F0, Wide.F11, Wide.F0 | Wide.F9 | Wide.F11, ~Wide(0)):
        bits = lower(None, v)  # flags need no context
        want = sum(1 << i for i, n in enumerate(TWELVE) if getattr(Wide, n.upper()) in v)
        assert bits == [want]
        assert lift(None, bits) == v  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"expected Wide, got frozenset"):
        lower(None, frozenset({"f0"}))


def test_literal_cases_for_an_enum() -> None:
    from typing import Literal

    from wasm_component.typed import Mismatch, fit

    color = types.EnumType(("red", "green", "blue"))
    assert fit(Literal["red", "green", "blue"], color, inbound=False) == color
    assert fit(Literal["red"], color, inbound=True) == color  # a caller may give some cases
    with pytest.raises(Mismatch):
        fit(Literal["red"], color, inbound=False)  # but a result may be any of them
    with pytest.raises(Mismatch):
        fit(Literal["pink"], color, inbound=True)


def test_resource_handles(app: App) -> None:
    s = app.store
    new = app.instance.get_typed_func(s, app.index("[constructor]counter"),
                                      Callable[[int], ResourceAny])
    get = app.instance.get_typed_func(s, app.index("[method]counter.get"),
                                      Callable[[ResourceAny], int])
    counter = new(s, 7)
    assert get(s, counter) == 7
    counter.drop(s)
    with pytest.raises(TypeError, match=r"the result is own<\w+>: expected ResourceAny, got "
                                        r"Resource\[Any\]"):
        app.instance.get_typed_func(s, app.index("[constructor]counter"),
                                    Callable[[int], Resource[Any]])


def test_bindgen_classes_fit(app: App) -> None:
    """The classes `wasm-component bindgen` generates for a world are such mappings too."""
    from wasm_component import bindgen

    b = bindgen.load(EX / "bindgen" / "roundtrip.wit", world="roundtrip")
    types_mod = b.imports.test_bg_types
    shape = types_mod.ShapeCircle | types_mod.ShapeRect | types_mod.ShapeNone_
    s = app.store
    # (classes of a module made at run time: a type form only at run time, for mypy Any)
    ann: Any = Callable[[shape], shape]
    f = app.instance.get_typed_func(s, app.index("echo-variant"), ann)
    rect = types_mod.ShapeRect(types_mod.Point(1.0, 2.0))
    assert f(s, rect) == rect
    assert f(s, types_mod.ShapeNone_()) == types_mod.ShapeNone_()
    item = types_mod.Item("n", types_mod.Color.RED, types_mod.Perms.EXEC, ["t"], None)
    ann = Callable[[types_mod.Item], types_mod.Item]
    g = app.instance.get_typed_func(s, app.index("echo-item"), ann)
    assert g(s, item) == item


def test_sequence_forms_by_direction() -> None:
    """What lowering accepts is wider than what lifting gives: a parameter may be any
    sequence, a result is annotated by what it is (or a supertype of it)."""
    from wasm_component.typed import Mismatch, fit

    strs = types.ListType(types.STRING)
    for ann in (list[str], Sequence[str], tuple[str, ...]):
        assert fit(ann, strs, inbound=True) == strs
    for ann in (list[str], Sequence[str]):
        assert fit(ann, strs, inbound=False) == strs
    with pytest.raises(Mismatch):
        fit(tuple[str, ...], strs, inbound=False)  # lifting gives a list
    with pytest.raises(Mismatch):
        fit(tuple[str, str], strs, inbound=True)
    flags = types.FlagsType(("a", "b"))
    assert fit(set[str], flags, inbound=True) == flags
    with pytest.raises(Mismatch):
        fit(set[str], flags, inbound=False)  # lifting gives a frozenset


class AddFn(Protocol):
    def __call__(self, a: int, b: int) -> int: ...


def test_a_callback_protocol(greeter: tuple[Store[None], Instance]) -> None:
    store, inst = greeter
    add = inst.get_typed_func(store, "add", AddFn)
    total: int = add(store, 1, b=2)
    assert total == 3


def test_annotated_and_newtype_unwrap() -> None:
    from typing import NewType

    from wasm_component.typed import Mismatch, fit

    UserId = NewType("UserId", int)
    assert fit(UserId, types.U64, inbound=True) == types.U64
    assert fit(Annotated[int, types.U8], types.U8, inbound=False) == types.U8
    with pytest.raises(Mismatch, match=r"expected u16, got Annotated for u8"):
        fit(Annotated[int, types.U8], types.U16, inbound=False)

