"""Differential lowering, bit for bit: what a guest sees of a host value, ours vs
wasmtime.component.

The echo test round-trips values (host -> guest -> host), so a lowering and a lifting that are
wrong in matching ways pass it. Here the guest *looks* at what it got: a generated component
exports ``f: func(x: T) -> list<u8>`` whose core function writes each flat parameter it
received into memory (8 bytes each) and returns those bytes. Both engines must give the same
bytes for the same value: sign extension of small signed integers (a bug this test would have
caught), bools, chars, discriminants, joined variant payloads (floats in integer slots), the
zero filling of unused payload slots, flags.

Types are those with at most 16 flat values and no strings or lists (whose pointers depend on
the allocator's call order); floats are not NaN (the spec lets lowering scramble NaNs).
``WASM_COMPONENT_DIFF_EXAMPLES`` scales this test too (a tenth of it).
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.exports import export_func
from tests.suite import DIFF_EXAMPLES
from wasm_component import types as t

from . import _diffgen as g

N_CASES = max(20, DIFF_EXAMPLES // 10)
OUT = 1024  # where the core function writes what it got


def has_pointers(ty: t.Type) -> bool:
    if isinstance(ty, t.ListType) or ty == t.STRING:
        return True
    if isinstance(ty, t.RecordType):
        return any(has_pointers(f) for _, f in ty.fields)
    if isinstance(ty, t.TupleType):
        return any(has_pointers(e) for e in ty.types)
    if isinstance(ty, (t.VariantType, t.OptionType, t.ResultType)):
        return any(c is not None and has_pointers(c) for c in g._cases(ty))
    return False


def has_nan(v: Any) -> bool:
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, dict):
        return any(has_nan(x) for x in v.values())
    if isinstance(v, (list, tuple, set, frozenset)):
        return any(has_nan(x) for x in v)
    return any(has_nan(x) for x in getattr(v, "__dict__", {}).values()) or (
        has_nan(getattr(v, "value", None)) if hasattr(v, "value") else False)


def dump_wat(ty: t.Type) -> str:
    em = g._TypeEmitter()
    ref = em.ref(ty)
    flat = g.flatten(ty)
    stores = " ".join(f"({c}.store (i32.const {OUT + 8 * i}) (local.get {i}))"
                      for i, c in enumerate(flat))
    params = f"(param {' '.join(flat)})" if flat else ""
    types = "\n  ".join(em.lines)
    return f"""(component
  {types}
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") {params} (result i32)
      {stores}
      (i32.store (i32.const 0) (i32.const {OUT}))
      (i32.store (i32.const 4) (i32.const {8 * len(flat)}))
      (i32.const 0)))
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (func $f (param "x" {ref}) (result (list u8)) (canon lift (core func $i "f") (memory $mem)))
  (export "f" (func $f))
)
"""


@st.composite
def cases(draw: Any) -> tuple[t.Type, Any]:
    ty = draw(g.val_types(2).filter(
        lambda u: not has_pointers(u) and len(g.flatten(u)) <= g.MAX_FLAT_PARAMS
        and not g.wt_ambiguous(u)))
    v = draw(g.values(ty).filter(lambda x: not has_nan(x)))
    return ty, v


def ours(text: str, v: Any) -> bytes:
    import wasm_component as w

    engine = w.Engine()
    store = w.Store(engine)
    inst = w.Linker(engine).instantiate(store, w.Component.new(engine, text))
    return bytes(export_func(inst, store, "f")(store, v))


def peer(text: str, ty: t.Type, v: Any) -> bytes:
    import wasmtime
    import wasmtime.component as wc

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, wc.Component(engine, text))
    f = inst.get_func(store, "f")
    assert f is not None
    out = bytes(f(store, g.to_wt(ty, v)))
    f.post_return(store)
    return out


@settings(max_examples=N_CASES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(case=cases())
def test_the_guest_sees_the_same_bits(case: tuple[t.Type, Any]) -> None:
    ty, v = case
    text = dump_wat(ty)
    assert ours(text, v) == peer(text, ty, v), (ty.wit(), v)


def spilled_wat(ty: t.Type) -> str:
    """``f(x: T, y0..y15: u32) -> list<u8>``: the parameters spill into memory (the guest gets
    a pointer to them as a tuple, from its ``realloc``) and the guest returns those bytes."""
    em = g._TypeEmitter()
    ref = em.ref(ty)
    whole = t.TupleType((ty, *([t.U32] * 16)))
    size = g.size(whole)
    extra = " ".join(f'(param "y{i}" u32)' for i in range(16))
    types = "\n  ".join(em.lines)
    return f"""(component
  {types}
{g.LIBC}
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (func (export "f") (param $p i32) (result i32) (local $out i32)
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 8)
                                     (i32.const {size + 8})))
      (memory.copy (i32.add (local.get $out) (i32.const 8)) (local.get $p) (i32.const {size}))
      (i32.store (local.get $out) (i32.add (local.get $out) (i32.const 8)))
      (i32.store offset=4 (local.get $out) (i32.const {size}))
      (local.get $out)))
  (core instance $i (instantiate $m (with "libc" (instance $libc))))
  (func $f (param "x" {ref}) {extra} (result (list u8))
    (canon lift (core func $i "f") (memory $mem) (realloc $realloc)))
  (export "f" (func $f))
)
"""


@settings(max_examples=N_CASES // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(case=cases(), ys=st.lists(st.integers(0, 2**32 - 1), min_size=16, max_size=16))
def test_the_guest_sees_the_same_bytes_in_memory(case: tuple[t.Type, Any], ys: list[int]
                                                 ) -> None:
    """Spilled parameters: stored in memory (the spec's ``store``), padding left as the
    guest's ``realloc`` gave it (zeroed)."""
    import wasmtime
    import wasmtime.component as wc

    import wasm_component as w

    ty, v = case
    text = spilled_wat(ty)
    engine = w.Engine()
    store = w.Store(engine)
    inst = w.Linker(engine).instantiate(store, w.Component.new(engine, text))
    got = bytes(export_func(inst, store, "f")(store, v, *ys))
    wengine = wasmtime.Engine()
    wstore = wasmtime.Store(wengine)
    f = wc.Linker(wengine).instantiate(wstore, wc.Component(wengine, text)).get_func(wstore, "f")
    assert f is not None
    want = bytes(f(wstore, g.to_wt(ty, v), *ys))
    assert got == want, (ty.wit(), v)
