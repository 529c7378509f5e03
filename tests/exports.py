"""Typed look-ups of a test component's exports.

``Instance.get_func`` returns ``Func | None`` (``None`` when there is no such function export).
A test that instantiates its own component knows the export exists, so it goes through
:func:`export_func`, which states that with an assert (a missing export fails the test loudly, naming
it) and gives mypy a ``Func``; :func:`export_index` does the same for a nested export, with
our instances and ``wasmtime.component``'s alike.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

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


S_contra = TypeVar("S_contra", contravariant=True)
I = TypeVar("I")  # noqa: E741 - an export index, ours or wasmtime's


class _NestedExports(Protocol[S_contra, I]):
    """``Instance.get_export_index``, ours or ``wasmtime.component``'s."""

    def get_export_index(self, store: S_contra, name: str, parent: I | None = None, /
                         ) -> I | None: ...


def export_index(inst: _NestedExports[S_contra, I], store: S_contra, *path: str) -> I:
    """The index of the export at ``path`` (the names of the enclosing instances, then its
    own), asserting the test component has it."""
    index: I | None = None
    for i, name in enumerate(path):
        index = inst.get_export_index(store, name, index)
        assert index is not None, f"the test component has no export {'/'.join(path[:i + 1])!r}"
    assert index is not None, "an export path names at least the export"
    return index
