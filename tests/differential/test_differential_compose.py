"""Differential test of composed components: ours (flat plan and per-component plans) against
wasmtime.component.

Hypothesis generates a root with leaf components (``f(a, b) -> T`` doing an add, a subtract
or a division that traps on zero, sometimes with a ``post-return``), middle components that
import one leaf's function, lower it and call it twice (``g(a, b, c) = f(f(a, b), c)``), and
a sequence of calls to the root's exports (the leaves' functions and the middles'). Calls
between the components are direct core calls where the rule allows (``_translate.inline``)
and trampolines otherwise; the outcome of every call (its value, or a trap, after which the
tree is locked down) must be the same in all three.

``WASM_COMPONENT_DIFF_EXAMPLES`` scales this test too (a hundredth of it, as compositions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.suite import DIFF_EXAMPLES
from wasm_component import types as t

from . import _diffgen as g

N_CASES = max(10, DIFF_EXAMPLES // 100)

# (component type, core type, smallest and largest value)
TYPES = {
    "u32": ("i32", 0, 2**32 - 1), "s32": ("i32", -(2**31), 2**31 - 1),
    "u8": ("i32", 0, 255), "s16": ("i32", -(2**15), 2**15 - 1),
    "u64": ("i64", 0, 2**64 - 1), "s64": ("i64", -(2**63), 2**63 - 1),
    "s8": ("i32", -128, 127), "u16": ("i32", 0, 2**16 - 1),
    # (the core function computes on the code points: a sum may be no char, and trap)
    "bool": ("i32", 0, 1), "char": ("i32", 0, 0x10FFFF),
}
OPS = {"add": "add", "sub": "sub", "div": "div_u"}


@dataclass(frozen=True)
class Leaf:
    ty: str
    op: str
    post_return: bool


@dataclass(frozen=True)
class Case:
    leaves: tuple[Leaf, ...]
    mids: tuple[int, ...]  # the leaf each middle component calls
    calls: tuple[tuple[str, tuple[Any, ...]], ...]


def leaf_wat(i: int, leaf: Leaf) -> str:
    core = TYPES[leaf.ty][0]
    post = ""
    post_opt = ""
    if leaf.post_return:
        post = f'(func (export "post") (param {core}))'
        post_opt = f'(post-return (core func $i{i} "post"))'
    return f"""
  (component $leaf{i}
    (core module $m
      (func (export "f") (param {core} {core}) (result {core})
        ({core}.{OPS[leaf.op]} (local.get 0) (local.get 1)))
      {post})
    (core instance $i{i} (instantiate $m))
    (func (export "f") (param "a" {leaf.ty}) (param "b" {leaf.ty}) (result {leaf.ty})
      (canon lift (core func $i{i} "f") {post_opt})))"""


def mid_wat(j: int, ty: str) -> str:
    core = TYPES[ty][0]
    return f"""
  (component $mid{j}
    (import "f" (func $f (param "a" {ty}) (param "b" {ty}) (result {ty})))
    (core func $f-core (canon lower (func $f)))
    (core module $m
      (import "host" "f" (func $f (param {core} {core}) (result {core})))
      (func (export "g") (param {core} {core} {core}) (result {core})
        (call $f (call $f (local.get 0) (local.get 1)) (local.get 2))))
    (core instance $i (instantiate $m (with "host" (instance (export "f" (func $f-core))))))
    (func (export "g") (param "a" {ty}) (param "b" {ty}) (param "c" {ty}) (result {ty})
      (canon lift (core func $i "g"))))"""


def case_wat(case: Case) -> str:
    parts = ["(component"]
    for i, leaf in enumerate(case.leaves):
        parts.append(leaf_wat(i, leaf))
    for j, target in enumerate(case.mids):
        parts.append(mid_wat(j, case.leaves[target].ty))
    for i in range(len(case.leaves)):
        parts.append(f"  (instance $l{i} (instantiate $leaf{i}))")
        parts.append(f'  (export "f{i}" (func $l{i} "f"))')
    for j, target in enumerate(case.mids):
        parts.append(f'  (instance $m{j} (instantiate $mid{j} (with "f" (func $l{target} "f"))))')
        parts.append(f'  (export "g{j}" (func $m{j} "g"))')
    parts.append(")")
    return "\n".join(parts)


@st.composite
def cases(draw: Any) -> Case:
    leaves = tuple(draw(st.lists(
        st.builds(Leaf, st.sampled_from(sorted(TYPES)), st.sampled_from(sorted(OPS)),
                  st.booleans()), min_size=1, max_size=3)))
    mids = tuple(draw(st.lists(st.integers(0, len(leaves) - 1), max_size=3)))
    exports = [(f"f{i}", leaf.ty, 2) for i, leaf in enumerate(leaves)]
    exports += [(f"g{j}", leaves[t].ty, 3) for j, t in enumerate(mids)]

    def value(ty: str) -> st.SearchStrategy[Any]:
        if ty == "bool":
            return st.booleans()
        if ty == "char":
            return st.characters(codec="utf-8")
        _, lo, hi = TYPES[ty]
        return st.one_of(st.sampled_from([0, 1, lo, hi]), st.integers(lo, hi))

    calls = []
    for _ in range(draw(st.integers(1, 6))):
        name, ty, arity = draw(st.sampled_from(exports))
        calls.append((name, tuple(draw(value(ty)) for _ in range(arity))))
    return Case(leaves, mids, tuple(calls))


@settings(max_examples=N_CASES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_compositions_match_wasmtime(case: Case) -> None:
    text = case_wat(case)
    want = g.peer_outcomes(text, case.calls)
    assert g.ours_outcomes(text, case.calls) == want, text


ENCODINGS = ("utf8", "utf16", "latin1+utf16")


def string_leaf_wat(enc: str) -> str:
    """``echo(s: string) -> string`` returning its argument, lifted with encoding ``enc``."""
    return f"""
  (component $leaf
{g.LIBC}
    (core module $m
      (import "libc" "memory" (memory 1))
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 8) (local.get 0))
        (i32.store (i32.const 12) (local.get 1))
        (i32.const 8)))
    (core instance $i (instantiate $m (with "libc" (instance $libc))))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") (memory $mem) (realloc $realloc)
        string-encoding={enc})))"""


def string_mid_wat(enc: str) -> str:
    """``twice(s: string) -> string`` = ``echo(echo(s))`` through its lowered import, all
    with encoding ``enc``."""
    return f"""
  (component $mid
    (import "echo" (func $echo (param "s" string) (result string)))
{g.LIBC}
    (core func $echo-core (canon lower (func $echo) (memory $mem) (realloc $realloc)
      string-encoding={enc}))
    (core module $m
      (import "libc" "memory" (memory 1))
      (import "x" "echo" (func $echo (param i32 i32 i32)))
      (func (export "twice") (param i32 i32) (result i32)
        (call $echo (local.get 0) (local.get 1) (i32.const 8))
        (call $echo (i32.load (i32.const 8)) (i32.load (i32.const 12)) (i32.const 8))
        (i32.const 8)))
    (core instance $i (instantiate $m (with "libc" (instance $libc))
      (with "x" (instance (export "echo" (func $echo-core))))))
    (func (export "twice") (param "s" string) (result string)
      (canon lift (core func $i "twice") (memory $mem) (realloc $realloc)
        string-encoding={enc})))"""


@settings(max_examples=max(10, N_CASES // 2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(leaf=st.sampled_from(ENCODINGS), mid=st.sampled_from(ENCODINGS),
       texts=st.lists(st.text(st.characters(codec="utf-8"), max_size=40), min_size=1,
                      max_size=4))
def test_strings_between_components_match_wasmtime(leaf: str, mid: str, texts: list[str]
                                                   ) -> None:
    """Strings cross two component boundaries each way, transcoded between the encodings."""
    text = f"""(component
{string_leaf_wat(leaf)}
{string_mid_wat(mid)}
  (instance $l (instantiate $leaf))
  (instance $m (instantiate $mid (with "echo" (func $l "echo"))))
  (export "twice" (func $m "twice"))
  (export "echo" (func $l "echo")))"""
    calls = [(name, (s,)) for s in texts for name in ("twice", "echo")]
    want = g.peer_outcomes(text, calls)
    assert want == [s for s in texts for _ in range(2)]
    assert g.ours_outcomes(text, calls) == want


def structural(ty: Any) -> bool:
    """No records, variants, enums or flags (types that must be named to be exported)."""
    if isinstance(ty, (t.RecordType, t.VariantType, t.EnumType, t.FlagsType)):
        return False
    if isinstance(ty, t.ListType):
        return structural(ty.element)
    if isinstance(ty, t.TupleType):
        return all(structural(e) for e in ty.types)
    if isinstance(ty, t.OptionType):
        return structural(ty.inner)
    if isinstance(ty, t.ResultType):
        return all(c is None or structural(c) for c in (ty.ok, ty.err))
    return True


def value_leaf_mid_wat(ty: Any) -> str:
    """A leaf ``echo(x: T, y0..y15: u32) -> tuple<T, u32>`` (its parameters spill to memory,
    and its core function returns the pointer to them: the result is their prefix) and a
    middle component whose ``via`` (same type) calls it through its lowered import. (``T``
    is structural: each component defines it the same, and needs no type imports.)"""
    em = g._TypeEmitter()
    ref = em.ref(ty)
    size = g.size(t.TupleType((ty, t.U32)))
    ys = " ".join(f'(param "y{i}" u32)' for i in range(16))
    types = "\n  ".join(em.lines)
    sig = f'(param "x" {ref}) {ys} (result (tuple {ref} u32))'
    return f"""(component
  (component $leaf
    {types}
    (type $sig' (func {sig}))
{g.LIBC}
    (core module $m (func (export "echo") (param i32) (result i32) (local.get 0)))
    (core instance $i (instantiate $m))
    (func (export "echo") (type $sig')
      (canon lift (core func $i "echo") (memory $mem) (realloc $realloc))))
  (component $mid
    {types}
    (type $sig' (func {sig}))
    (import "echo" (func $echo (type $sig')))
{g.LIBC}
    (core func $echo-core (canon lower (func $echo) (memory $mem) (realloc $realloc)))
    (core module $m
      (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
      (import "x" "echo" (func $echo (param i32 i32)))
      (func (export "via") (param $p i32) (result i32) (local $r i32)
        (local.set $r (call $realloc (i32.const 0) (i32.const 0) (i32.const 8)
                                     (i32.const {size})))
        (call $echo (local.get $p) (local.get $r))
        (local.get $r)))
    (core instance $i (instantiate $m (with "libc" (instance $libc))
      (with "x" (instance (export "echo" (func $echo-core))))))
    (func (export "via") (type $sig')
      (canon lift (core func $i "via") (memory $mem) (realloc $realloc))))
  (instance $l (instantiate $leaf))
  (instance $m (instantiate $mid (with "echo" (func $l "echo"))))
  (export "via" (func $m "via"))
)"""


@settings(max_examples=max(10, N_CASES), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_any_value_between_components_matches_wasmtime(data: Any) -> None:
    """Any value type through a trampoline between two components (lifted from the leaf's
    memory, lowered into the middle one's) and out to the host."""
    ty = data.draw(g.val_types(2).filter(lambda u: structural(u) and not g.wt_ambiguous(u)))
    v = data.draw(g.values(ty))
    ys = data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=16, max_size=16))
    text = value_leaf_mid_wat(ty)
    out_t = t.TupleType((ty, t.U32))
    peer = g.peer_outcomes(text, [("via", (g.to_wt(ty, v), *ys))])[0]
    ours = g.ours_outcomes(text, [("via", (v, *ys))])[0]
    assert peer != "trap" and ours != "trap", (ty.wit(), v, peer, ours)
    assert g.equal(out_t, ours, g.from_wt(out_t, peer)), (ty.wit(), v, ours, peer)
    assert g.equal(ty, ours[0], v) and ours[1] == ys[0]
