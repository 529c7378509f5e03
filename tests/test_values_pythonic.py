"""Values the way Python code writes them: snake_case names for kebab-case record fields, a bare
name for a variant case without payload, and host functions with defaulted or keyword-only
extra parameters."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wasm_component import Component, Engine, Linker, Record, Store, Variant
from wasm_component.errors import LinkError

WAT = r"""(component
  (type $r' (record (field "link-count" u32) (field "x" u32)))
  (export $r "r" (type $r'))
  (type $v' (variant (case "some-num" u32) (case "none")))
  (export $v "v" (type $v'))
  (core module $m
    (func (export "rec") (param i32 i32) (result i32)
      (i32.add (i32.mul (local.get 0) (i32.const 10)) (local.get 1)))
    (func (export "var") (param i32 i32) (result i32)
      (i32.add (i32.mul (local.get 0) (i32.const 100)) (local.get 1)))
    (func (export "mk") (param i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $m))
  (func (export "rec") (param "r" $r) (result u32) (canon lift (core func $i "rec")))
  (func (export "var") (param "v" $v) (result u32) (canon lift (core func $i "var")))
)"""


@pytest.fixture(scope="module")
def calls() -> tuple[Store, Any, Any]:
    engine = Engine()
    store = Store(engine)
    inst = Linker(engine).instantiate(store, Component.new(engine, WAT))
    return store, inst.get_func(store, "rec"), inst.get_func(store, "var")


@dataclass
class Link:
    link_count: int
    x: int


def test_record_accepts_snake_case(calls: tuple[Store, Any, Any]) -> None:
    store, rec, _ = calls
    r = Record(link_count=3, x=4)
    assert dict(r) == {"link-count": 3, "x": 4}  # stored under the WIT name
    assert r.link_count == 3 and r["link-count"] == 3
    assert rec(store, r) == 34
    assert rec(store, {"link_count": 5, "x": 1}) == 51  # a plain dict, snake_case
    assert rec(store, {"link-count": 6, "x": 2}) == 62  # and as WIT spells it
    assert rec(store, Link(7, 1)) == 71  # a dataclass's attributes
    with pytest.raises(TypeError, match="record is missing field 'link-count'"):
        rec(store, {"x": 1})
    with pytest.raises(AttributeError):
        _ = r.nope


def test_bare_name_for_a_payloadless_case(calls: tuple[Store, Any, Any]) -> None:
    store, _, var = calls

    class Case(enum.Enum):
        NONE = "none"

    assert var(store, "none") == 100 == var(store, Variant("none")) == var(store, Case.NONE)
    assert var(store, Variant("some-num", 3)) == 3
    with pytest.raises(TypeError, match=r"case 'some-num' has a payload: expected Variant"):
        var(store, "some-num")
    with pytest.raises(TypeError, match="expected Variant with case one of some-num, none"):
        var(store, "other")



def _hello(name_fn: Any) -> tuple[Engine, Component, Linker]:
    """``examples/hello.wat`` and a linker whose ``name`` import is ``name_fn``."""
    engine = Engine()
    comp = Component.from_file(engine, Path(__file__).parents[1] / "examples" / "hello.wat")
    linker = Linker(engine)
    linker.root().func_wrap("name", name_fn)
    return engine, comp, linker


@pytest.mark.parametrize("fn, greeting", [
    (lambda store, name="Bob": name, "Hello, Bob!"),
    (lambda store, *, name="Kw": name, "Hello, Kw!"),
    (lambda store, *args: "Var", "Hello, Var!"),
])
def test_func_wrap_takes_defaulted_and_keyword_only_extras(fn: Any, greeting: str) -> None:
    engine, comp, linker = _hello(fn)
    store = Store(engine)
    greet = linker.instantiate(store, comp).get_func(store, "greet")
    assert greet is not None and greet(store) == greeting


@pytest.mark.parametrize("fn, message", [
    (lambda store, x: "x", "takes 1 arguments after `store`, but the import has 0"),
    (lambda store, *, k: "k", "keyword-only parameter `k` has no default"),
])
def test_func_wrap_still_refuses_what_cannot_be_called(fn: Any, message: str) -> None:
    engine, comp, linker = _hello(fn)
    with pytest.raises(LinkError, match=message):
        linker.instantiate(Store(engine), comp)
