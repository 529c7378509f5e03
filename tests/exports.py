"""Typed look-ups of a test component's exports.

``Instance.get_func`` returns ``Func | None`` (``None`` when there is no such function export).
A test that instantiates its own component knows the export exists, so it goes through
:func:`export_func`, which states that with an assert (a missing export fails the test loudly, naming
it) and gives mypy a ``Func``.
"""

from __future__ import annotations

from wasm_component import ExportIndex, Func, Instance, Store
from wasm_component._runtime.calls import LiftedFunc


def export_func(inst: Instance, store: Store, name: str | ExportIndex) -> Func:
    """``inst.get_func(store, name)``, asserting the test component exports it."""
    f = inst.get_func(store, name)
    assert f is not None, f"the test component has no function export {name!r}"
    return f


def lifted(f: Func) -> LiftedFunc:
    """The runtime function behind the export ``f``, for white-box tests of its call path: an
    exported function of a component is a lifted core function."""
    rf = f._f
    assert isinstance(rf, LiftedFunc), f"expected a lifted export, got {type(rf).__name__}"
    return rf
