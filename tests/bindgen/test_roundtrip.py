"""End to end: generated bindings (runtime form) against a hand-written component exercising
every WIT value shape and resources in both directions."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from wasm_component import (
    Component,
    Engine,
    Err,
    Linker,
    LinkError,
    Ok,
    Resource,
    ResourceTable,
    Some,
    Store,
    Trap,
    bindgen,
)

EX = Path(__file__).resolve().parents[2] / "examples" / "bindgen"


@pytest.fixture(scope="module")
def b() -> ModuleType:
    return bindgen.load(EX / "roundtrip.wit", world="roundtrip")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def component(engine: Engine) -> Component:
    return Component.from_file(engine, EX / "roundtrip.wat")


class LoggerObj:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.lines: list[str] = []


class Host:
    """Implements `test:bg/host` (and, through attributes, the world's imports)."""

    def __init__(self, b: ModuleType) -> None:
        self.b = b
        self.table = ResourceTable()
        self.seen: list[tuple[str, Any]] = []
        self.dropped: list[str] = []
        self.logger = self  # the `logger` resource is implemented here too
        self.host = self
        self.types = self

    # world level
    def name(self) -> str:
        return "wörld"

    # resource logger
    def new(self, prefix: str) -> Resource[Any]:
        return self.table.push(LoggerObj(prefix))

    def log(self, self_: Resource[Any], msg: str) -> int:
        obj = self.table.get(self_)
        obj.lines.append(obj.prefix + msg)
        return len(obj.lines)

    def count(self) -> int:
        return len(self.table)

    def drop(self, rep: Resource[Any]) -> None:
        self.dropped.append(self.table.delete(rep).prefix)

    def _echo(self, name: str, x: Any) -> Any:
        self.seen.append((name, x))
        return x

    def echo_record(self, x: Any) -> Any:
        return self._echo("record", x)

    def echo_variant(self, x: Any) -> Any:
        return self._echo("variant", x)

    def echo_enum(self, x: Any) -> Any:
        return self._echo("enum", x)

    def echo_flags(self, x: Any) -> Any:
        return self._echo("flags", x)

    def echo_option(self, x: Any) -> Any:
        return self._echo("option", x)

    def echo_result(self, x: Any) -> Any:
        return self._echo("result", x)

    def echo_tuple(self, x: Any) -> Any:
        return self._echo("tuple", x)

    def echo_bytes(self, x: Any) -> Any:
        return self._echo("bytes", x)

    def echo_list(self, x: Any) -> Any:
        return self._echo("list", x)

    def echo_item(self, x: Any) -> Any:
        return self._echo("item", x)

    def check(self, x: Any) -> Any:
        perms = self.b.imports.test_bg_types.Perms
        if x & perms.EXEC:
            raise bindgen.ErrorResult("exec not allowed")
        if not x:
            raise RuntimeError("host bug")
        return Ok(x | perms.READ)


def setup(b: ModuleType, engine: Engine, component: Component) -> tuple[Any, Host, Store]:
    host = Host(b)
    linker = Linker(engine)
    b.add_to_linker(linker, lambda store: host)
    store = Store(engine)
    app = b.Roundtrip.instantiate(store, component, linker)
    return app, host, store


def test_every_shape_round_trips_through_both_directions(
    b: ModuleType, engine: Engine, component: Component
) -> None:
    app, host, _ = setup(b, engine, component)
    T = b.imports.test_bg_types
    api = app.api
    p = T.Point(1.5, -2.0)
    assert api.echo_record(p) == p
    assert host.seen[-1] == ("record", p), "the host saw the generated class too"
    for s in (T.ShapeCircle(3.0), T.ShapeRect(p), T.ShapeNone_()):
        assert api.echo_variant(s) == s
        assert host.seen[-1][1] == s
    for c in T.Color:
        assert api.echo_enum(c) is c
    for f in (T.Perms(0), T.Perms.READ, T.Perms.READ | T.Perms.EXEC):
        got = api.echo_flags(f)
        assert got == f and isinstance(got, T.Perms)
    for o in (None, Some(None), Some(7)):
        assert api.echo_option(o) == o
    for r in (Ok("fine"), Err(404)):
        assert api.echo_result(r) == r
    assert api.echo_tuple((7, "seven")) == (7, "seven")
    assert api.echo_bytes(b"\x00\xffbytes") == b"\x00\xffbytes"
    assert api.echo_list([p, T.Point(0.0, 0.0)]) == [p, T.Point(0.0, 0.0)]
    assert api.echo_list([]) == []
    item = T.Item("thing", T.Color.GREEN, T.Perms.WRITE, ["a", "bé"], T.Point(1.0, 2.0))
    got = api.echo_item(item)
    assert got == item and isinstance(got, T.Item) and isinstance(got.color, T.Color)
    assert api.echo_item(T.Item("", T.Color.RED, T.Perms(0), [], None)).pos is None
    assert app.greet() == "wörld"


def test_trappable_errors_and_traps(b: ModuleType, engine: Engine, component: Component) -> None:
    app, _, _ = setup(b, engine, component)
    P = b.imports.test_bg_types.Perms
    assert app.api.check(P.WRITE) == Ok(P.WRITE | P.READ)
    assert app.api.check(P.EXEC | P.READ) == Err("exec not allowed")
    with pytest.raises(RuntimeError, match="host bug"):
        app.api.check(P(0))
    with pytest.raises(Trap):
        app.api.check(P.WRITE)  # the instance is poisoned after the trap


def test_host_resources(b: ModuleType, engine: Engine, component: Component) -> None:
    app, host, _ = setup(b, engine, component)
    assert app.api.log_once("a:", "hi") == 1
    assert host.dropped == ["a:"], "the guest dropped the logger: the host's drop ran"
    mine = host.table.push(LoggerObj("mine:"))
    assert app.api.log_with(mine, "x") == 1
    assert app.api.log_with(mine, "y") == 2
    assert host.table.get(mine).lines == ["mine:x", "mine:y"]


def test_guest_resources(b: ModuleType, engine: Engine, component: Component) -> None:
    app, _, _ = setup(b, engine, component)
    Counter = b.exports.test_bg_api.Counter
    c = app.api.counter(5)
    assert isinstance(c, Counter)
    assert c.get() == 5
    m = app.api.counter.make()
    assert m.get() == 42
    c.drop()
    with pytest.raises(ValueError, match="already dropped"):
        c.drop()
    with app.api.counter(9) as c2:
        assert c2.get() == 9
    with pytest.raises(ValueError, match="already dropped"):
        c2.drop()


def test_wrong_component_fails_at_link_time(b: ModuleType, engine: Engine) -> None:
    other = Component.from_file(engine, EX.parents[0] / "greeter.wat")
    linker = Linker(engine)
    b.add_to_linker(linker, lambda store: None)
    with pytest.raises(LinkError):
        b.Roundtrip.instantiate(Store(engine), other, linker)
