"""Flat lowering of signed integers: the spec's ``lower_flat_signed`` gives the two's
complement in the core width, so a negative ``s8``/``s16`` is sign-extended to 32 bits.

(Found by the composition differential test: a callee dividing a lowered ``s16`` saw
``0xffff`` for -1 where the spec, and wasmtime, give ``0xffffffff``.)
"""

from __future__ import annotations

import pytest

from tests.exports import export_func
from wasm_component import Component, Engine, Linker, Store
from wasm_component import types as t
from wasm_component._abi.lower import lower_flat

from .support import make_cx

CASES = [
    (t.S8, -1, 0xFFFF_FFFF), (t.S8, -128, 0xFFFF_FF80), (t.S8, 127, 127),
    (t.S16, -1, 0xFFFF_FFFF), (t.S16, -32768, 0xFFFF_8000), (t.S16, 5, 5),
    (t.S32, -1, 0xFFFF_FFFF), (t.S32, -(2**31), 0x8000_0000),
    (t.S64, -1, 2**64 - 1), (t.S64, -(2**63), 2**63),
]


@pytest.mark.parametrize(("ty", "value", "flat"), CASES)
def test_lower_flat_signed(ty: t.Type, value: int, flat: int) -> None:
    cx, _ = make_cx()
    assert lower_flat(cx, ty, value) == [flat]


@pytest.mark.parametrize(("ty", "value", "flat"), [c for c in CASES if c[0] is not t.S64])
def test_a_guest_sees_the_sign_extended_value(ty: t.Type, value: int, flat: int) -> None:
    engine = Engine()
    store = Store(engine)
    component = Component.new(engine, f"""
      (component
        (core module $m (func (export "f") (param i32) (result i32) (local.get 0)))
        (core instance $i (instantiate $m))
        (func (export "f") (param "a" {ty.wit()}) (result u32) (canon lift (core func $i "f"))))
    """)
    f = export_func(Linker(engine).instantiate(store, component), store, "f")
    assert f(store, value) == flat
