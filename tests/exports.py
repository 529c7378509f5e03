"""Typed look-ups of a test component's exports.

``Instance.get_func`` returns ``Func | None`` (``None`` when there is no such function export).
A test that instantiates its own component knows the export exists, so it goes through
:func:`export_func`, which states that with an assert (a missing export fails the test loudly, naming
it) and gives mypy a ``Func``.
"""

from __future__ import annotations

from wasm_component import ExportIndex, Func, Instance, Store


def export_func(inst: Instance, store: Store, name: str | ExportIndex) -> Func:
    """``inst.get_func(store, name)``, asserting the test component exports it."""
    f = inst.get_func(store, name)
    assert f is not None, f"the test component has no function export {name!r}"
    return f
