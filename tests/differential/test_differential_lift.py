"""Differential lifting of arbitrary guest bits: ours vs wasmtime.component.

A generated component exports ``f: func() -> T`` whose core function returns arbitrary flat bits
(for a ``T`` with one flat value) or a return pointer to arbitrary bytes (biased towards small
values so discriminants, bools and lengths are often valid). Both engines must lift the same
value or both trap: invalid discriminants, chars that are not Unicode scalar values, misaligned
or out-of-bounds lists and strings, invalid UTF-8... Each component is called once.

``WASM_COMPONENT_DIFF_EXAMPLES`` scales this test too (a quarter of it, as components).
"""

from __future__ import annotations

import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.suite import DIFF_EXAMPLES

from . import _diffgen as g

N_CASES = max(1, DIFF_EXAMPLES // 6)
NO_SHRINK = os.environ.get("WASM_COMPONENT_DIFF_NO_SHRINK") == "1"

_SETTINGS: dict[str, Any] = dict(
    max_examples=N_CASES,
    deadline=None,
    phases=[p for p in Phase if p is not Phase.shrink or not NO_SHRINK],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)


@st.composite
def raw_cases(draw: Any) -> tuple[Any, str]:
    ty = draw(g.val_types(2))
    flat = draw(g.raw_flat(ty))
    n = g.size(ty)
    mem = bytes(draw(st.lists(g._raw_byte, min_size=n, max_size=n)))
    return ty, g.raw_lift_wat(ty, flat, mem)


def _peer(engine: Any, wat: str, ty: Any) -> tuple[str, Any]:
    import wasmtime
    import wasmtime.component as wc

    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, wc.Component(engine, wat))
    f = inst.get_func(store, "f")
    assert f is not None, "the generated component exports `f`"
    try:
        out = f(store)
    except Exception as e:
        return "raised", e
    return "ok", g.from_wt(ty, out)


def _ours(api: Any, engine: Any, wat: str) -> tuple[str, Any]:
    store = api.Store(engine, None)
    inst = api.Linker(engine).instantiate(store, api.Component.new(engine, wat))
    f = inst.get_func(store, "f")
    assert f is not None, "the generated component exports `f`"
    try:
        out = f(store)
    except (NotImplementedError, ImportError):
        raise
    except Exception as e:
        return "raised", e
    return "ok", out


def test_differential_raw_lift() -> None:
    try:
        import wasm_component as api
        from wasm_component import Component, Engine, Linker, Store  # noqa: F401
    except ImportError as e:
        pytest.fail(f"our runtime API is not available yet: {e!r}")
    import wasmtime

    peer_engine, our_engine = wasmtime.Engine(), api.Engine()
    counts = {"ok": 0, "raised": 0}

    @settings(**_SETTINGS)
    @given(raw_cases())
    def run(case: tuple[Any, str]) -> None:
        ty, wat = case
        pk, pv = _peer(peer_engine, wat, ty)
        ok, ov = _ours(api, our_engine, wat)
        ctx = f"f: func() -> {ty}\n{wat}"
        if pk == "raised":
            assert ok == "raised", f"wasmtime.component traps ({pv}) but ours lifts {ov!r}\n{ctx}"
        else:
            assert ok == "ok", f"ours raised {ov!r} but wasmtime.component lifts {pv!r}\n{ctx}"
            assert g.conforms(ty, ov), f"ours lifted {ov!r}: not our value form\n{ctx}"
            assert g.equal(ty, ov, pv), f"ours lifted {ov!r}, wasmtime.component {pv!r}\n{ctx}"
        counts[pk] += 1

    run()
    print(f"\nraw lift: {counts['ok']} lifted, {counts['raised']} trapped (both engines)")
    assert sum(counts.values()) >= math.floor(N_CASES * 0.9)
